"""The options of ``robolearn collect videos`` (``conf/collect_videos.yaml`` is generated from ``CollectVideosOptions``).

Light: the names it checks (actors, behaviours, outcomes, variants, desk tasks) come from registries that load no
simulator (``sim.actors.catalogue``, ``sim.variants``, ``sim.tasks.catalogue``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.actors.catalogue import ACTORS, BEHAVIOURS, HELDOUT_ACTOR, NON_ROBOT_ACTORS, OUTCOMES, can_do
from sim.plumbing.settings import check_knobs, knob
from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS
from sim.variants import VARIANTS
from sim.video_randomization_config import VideoRandomizationConfig

__all__ = [
    "ALL",
    "DEFAULT_ROBOT_TASKS",
    "HELDOUT",
    "CollectVideosOptions",
    "OutcomeMix",
    "VideoStorageOptions",
]

#: the value of ``actors`` / ``behaviours`` that means every one (actors: but the held-out one)
ALL = "all"
#: the value of ``actors`` that means the held-out actor alone (an evaluation set of it)
HELDOUT = "heldout"
#: desk tasks with robot demos by default; the others appear only in actor videos (DVD's protocol: tasks the robot
#: has no demo of are learned from the "human" videos alone)
DEFAULT_ROBOT_TASKS = ("open_drawer", "close_drawer", "move_white_mug_left", "move_white_mug_right", "turn_faucet_left")


@dataclass(frozen=True)
class OutcomeMix:
    """How often each outcome is attempted in actor clips (probabilities summing to 1); the outcome stored is the one
    measured afterwards, which may differ (an attempted "done" that slipped is stored as failed or partial)."""

    done: float = knob(0.6, "the behaviour carried through (probability)", lo=0.0, hi=1.0)
    partial: float = knob(0.12, "stopped part of the way (probability)", lo=0.0, hi=1.0)
    failed: float = knob(0.1, "a slip or a miss: the object barely moves (probability)", lo=0.0, hi=1.0)
    pretending: float = knob(
        0.12, 'the motion without contact, DVD\'s "pretending" classes (probability)', lo=0.0, hi=1.0
    )
    none: float = knob(
        0.06, 'the actor moves about and touches nothing, LOReL\'s "do nothing" (probability)', lo=0.0, hi=1.0
    )

    def __post_init__(self) -> None:
        check_knobs(self, "outcomes")
        if abs(sum(self.weights) - 1.0) > 1e-6:
            raise ValueError(f"outcomes.{'/'.join(OUTCOMES)} = {list(self.weights)} must sum to 1")

    @property
    def weights(self) -> tuple[float, ...]:
        """Probabilities in ``sim.actors.OUTCOMES`` order."""
        return tuple(float(getattr(self, o)) for o in OUTCOMES)

    @property
    def attempt_weights(self) -> tuple[float, ...]:
        """``weights`` with done left out, renormalised (all 0 when only done has weight): a robot attempt's outcome."""
        w = [0.0 if o == "done" else float(getattr(self, o)) for o in OUTCOMES]
        total = sum(w)
        return tuple(x / total if total > 0 else 0.0 for x in w)


@dataclass(frozen=True)
class VideoStorageOptions:
    """On-disk storage (robolearn/data/schema.py): the ``storage`` node of ``conf/collect_videos.yaml``."""

    compression_level: int = knob(4, "gzip level of the stored frames", lo=0, hi=9)
    episodes_per_shard: int = knob(1000, "finished clips are packed into shards of this many clips (count)", lo=1)

    def __post_init__(self) -> None:
        check_knobs(self, "storage")


@dataclass(frozen=True)
class CollectVideosOptions:
    """The options of ``robolearn collect videos``."""

    out: str = knob(
        "data/videos", "clip dataset folder (created if missing; an existing one is resumed if its settings match)"
    )
    seed: int = knob(
        0,
        "seed of clip 0; clip i is rendered from seed + i (an evaluation set uses a seed far from the training one's)",
    )
    actor_clips: int = knob(
        2000,
        "clips of non-robot actors (count); they follow the robot demos, so raising it adds clips to a dataset",
        lo=0,
    )
    actors: Any = knob(
        ALL,
        f"actors of the actor clips, one drawn per clip: `all` (every non-robot actor but heldout_actor), `heldout` "
        f"(heldout_actor alone: an evaluation set of it) or a list of names from {', '.join(NON_ROBOT_ACTORS)}",
        any_type=True,
    )
    heldout_actor: str | None = knob(
        HELDOUT_ACTOR,
        "the actor kept out of the actor clips (generalisation to a new demonstrator; actors=heldout renders it "
        "alone); null = none held out",
        choices=NON_ROBOT_ACTORS,
        nullable=True,
    )
    behaviours: Any = knob(
        ALL,
        "behaviours of the actor clips, one drawn per clip among those the actor can do: `all` (every desk task and "
        "the extras the robot has no task for) or a list of names",
        any_type=True,
    )
    outcomes: OutcomeMix = knob(OutcomeMix(), "How often each outcome is attempted in actor clips.")
    num_frames: int = knob(
        20, "frames per clip, evenly spaced over the attempt, pauses included (count)", lo=2, hi=1000
    )
    image_size: int = knob(64, "pixels per side of each frame", lo=16, hi=1024)
    robot_demos_per_task: int = knob(
        20, "scripted-expert robot clips per robot task and robot variant (count; DVD: 20 suffice)", lo=0
    )
    robot_attempts_per_task: int = knob(
        0,
        "robot clips per robot task and robot variant that attempt the task without doing it: partial, failed, "
        "pretending or idle, drawn with the `outcomes` weights (done left out), labelled by what happened. Cheap robot "
        "play (no success needed) that shows the arm going where a task's demos go and the task not done, so the "
        "arm's path alone cannot tell a robot clip's task (count; 0 = robot demos only, as DVD)",
        lo=0,
    )
    robot_tasks: Any = knob(
        list(DEFAULT_ROBOT_TASKS),
        "desk tasks with robot demos (a list; `all` = every desk task); the others appear only in actor clips",
        any_type=True,
    )
    robot_variants: Any = knob(
        ["train"],
        f"sim.variants the robot demos are rendered in (a list of {', '.join(VARIANTS)}): train for a training set, "
        "the held-out ones for an evaluation set",
        any_type=True,
    )
    plain_scene_fraction: float = knob(
        0.2,
        "share of actor clips rendered in the robot's own training scene (its layout, camera and colour jitter) "
        "instead of a randomized one (colours, textures, light, camera, desk, furniture, distractors; never the "
        "held-out variants'): the same scene done by another embodiment, which ties the actors' clips to the robot's "
        "(probability; 0 = every actor clip randomized, 1 = none)",
        lo=0.0,
        hi=1.0,
    )
    scene: VideoRandomizationConfig = knob(
        VideoRandomizationConfig(),
        "Scene randomization of the randomized actor clips (sim.video_randomization_config): colours, textures, "
        "light, camera, desk, furniture (twin desks included), distractors; never what the held-out variants show.",
    )
    workers: int = knob(2, "local worker processes (count); 1 renders in this process", lo=1)
    chunk_clips: int = knob(
        25, "clips per work unit handed to a worker (count): progress and retries happen per unit", lo=1
    )
    ray_address: str | None = knob(
        None, "null = local processes; `local` = start a local Ray instance; else a Ray cluster address (e.g. auto)"
    )
    progress_bar: bool = knob(True, "show a progress bar")
    storage: VideoStorageOptions = knob(VideoStorageOptions(), "On-disk storage (HDF5, see robolearn/data/schema.py).")

    def __post_init__(self) -> None:
        check_knobs(self, "")
        if self.robot_attempts_per_task and not any(self.outcomes.attempt_weights):
            raise ValueError(
                "robot_attempts_per_task > 0 needs an outcome other than done: give outcomes.partial, failed, "
                "pretending or none a weight above 0"
            )
        # the lists are resolved (and checked) here, so a bad name is one line before anything runs
        self.actor_names()
        self.behaviour_names()
        self.robot_task_names()
        self.robot_variant_names()

    # ------------------------------------------------------------------ resolved lists
    def actor_names(self) -> tuple[str, ...]:
        """The actors of the actor clips (checked: non-robot, not the held-out one unless ``actors=heldout``)."""
        if self.actors == HELDOUT:
            if self.heldout_actor is None:
                raise ValueError("actors=heldout needs a heldout_actor (it is null)")
            return (self.heldout_actor,)
        names = _names("actors", self.actors, NON_ROBOT_ACTORS)
        if self.actors == ALL:
            names = tuple(a for a in names if a != self.heldout_actor)
        robots = [a for a in names if a not in NON_ROBOT_ACTORS]
        if robots:
            raise ValueError(
                f"actors: {robots[0]!r} is the robot; its clips are the robot demos (robot_demos_per_task, robot_tasks)"
            )
        if self.heldout_actor in names:
            raise ValueError(
                f"actors: {self.heldout_actor!r} is heldout_actor, kept out of training clips; to render it alone "
                "(an evaluation set) use actors=heldout"
            )
        if self.actor_clips and not names:
            raise ValueError("actors: no actor left for the actor clips; name some, or set actor_clips=0")
        return names

    def behaviour_names(self) -> tuple[str, ...]:
        """The behaviours of the actor clips (checked: each is doable by at least one of the actors)."""
        names = _names("behaviours", self.behaviours, tuple(BEHAVIOURS))
        actors = self.actor_names()
        for b in names:
            if actors and not any(can_do(a, b) for a in actors):
                raise ValueError(f"behaviours: none of the actors {list(actors)} can do {b!r}; add an actor that can")
        return names

    def robot_task_names(self) -> tuple[str, ...]:
        """The desk tasks with robot demos."""
        return _names("robot_tasks", self.robot_tasks, tuple(DESK_TASK_DESCRIPTIONS))

    def robot_variant_names(self) -> tuple[str, ...]:
        """The variants robot demos are rendered in."""
        names = _names("robot_variants", self.robot_variants, tuple(VARIANTS))
        if self.robot_clips_per_task and self.robot_task_names() and not names:
            raise ValueError(
                "robot_variants: empty; name at least one (train), or set robot_demos_per_task=0 and "
                "robot_attempts_per_task=0"
            )
        return names

    @property
    def robot_clips_per_task(self) -> int:
        """Robot clips per robot task and variant: the demos, then the attempts."""
        return self.robot_demos_per_task + self.robot_attempts_per_task


def _names(key: str, value: Any, known: tuple[str, ...]) -> tuple[str, ...]:
    """``all`` → every known name; a name or a list of names → checked against ``known`` (order kept, no repeats)."""
    if value == ALL:
        return known
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"{key}={value!r} must be `all` or a list of names from {', '.join(known)}")
    unknown = [v for v in items if v not in known and v not in ACTORS]
    if unknown or (key != "actors" and [v for v in items if v not in known]):
        bad = unknown[0] if unknown else next(v for v in items if v not in known)
        raise ValueError(f"{key}: unknown name {bad!r}; use `all` or names from {', '.join(known)}")
    return tuple(dict.fromkeys(items))
