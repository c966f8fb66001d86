"""Recording env episodes in the dataset schema, whoever chooses the actions.

``EpisodeRecorder`` follows one episode step by step (observations, simulator states, object
states, actions) and turns it into a hindsight-labelled ``Episode``: the collector records its
exploration this way, and the planner records its own closed-loop episodes with it
(``PlannedEpisodeWriter``), so the reward and the video model can be trained on what the planner
actually did (data aggregation: the remedy for a planner that exploits its models' mistakes).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from robolearn.config import env_tasks
from robolearn.data.episode import Episode
from robolearn.data.labels import hindsight_labels, label_vocabulary
from robolearn.data.language import describe
from robolearn.data.metadata import create_dataset, package_versions
from robolearn.data.writer import DEFAULT_COMPRESSION_LEVEL, DatasetWriter
from robolearn.kinds import kind_of
from sim.envs import counter

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet
    from gymnasium import spaces

    from robolearn.data.collect import AnnotationSettings
    from sim.envs.counter import CounterEnv
    from sim.envs.desk import DeskEnv

__all__ = [
    "PLANNER_EXPLORATION",
    "PLANNER_RESUME_KEYS",
    "EpisodeRecorder",
    "PlannedEpisodeWriter",
    "jsonable",
    "planned_index",
    "storage_dtype",
]

PLANNER_EXPLORATION = "planner"  # the ``exploration`` of an episode whose actions a planner chose
# Meta keys planner recordings appended to one dataset must share: the env (what frames and actions
# mean) and the object states (what the labels mean). The planner's own settings may differ between
# runs; each episode records none of them, so keep one folder per data-aggregation round.
PLANNER_RESUME_KEYS = ("env", "object_state_names")


def jsonable(value: Any) -> Any:
    """Dataclasses, numpy arrays and tuples → plain JSON types."""
    if dataclasses.is_dataclass(value):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def storage_dtype(key: str, array: np.ndarray) -> np.ndarray:
    """Depth is stored as float16 (1 mm steps at 1 m is finer than the renderer), segmentation as uint8."""
    if key == "depth":
        return array.astype(np.float16)
    if key == "segmentation":
        if array.max(initial=0) > 255:
            raise ValueError("more than 256 instances: segmentation cannot be stored as uint8")
        return array.astype(np.uint8)
    return array


def _flat_state(scene: Any) -> np.ndarray:
    """The scene's simulator state as one float vector: the desk's ``SimState.flat()``, or a home scene's
    vector (the counter env's)."""
    state = scene.get_state()
    return np.asarray(state, np.float64) if isinstance(state, np.ndarray) else state.flat()


#: distributions whose versions are recorded in a dataset's metadata
RECORDED_PACKAGES = ("robolearn", "pybullet", "gymnasium", "numpy", "h5py")


def dataset_meta_for(
    env: DeskEnv | CounterEnv, *, seed: int, tasks: Sequence[str], exploration: Any, annotation: AnnotationSettings
) -> dict[str, Any]:
    """Dataset-level metadata of episodes recorded in ``env`` (its config, observation shapes, object
    states, label vocabulary, package versions, the command) and of how they were made."""
    env_id = kind_of(env.cfg).env_id  # the id the env's kind declares (robolearn.kinds), which data checks read back
    if isinstance(env, counter.CounterEnv):
        names, meaning = counter.CounterStates.names(), counter.ACTION_MEANING
    else:
        names = env.object_states.names()
        meaning = "tool-centre-point (dx, dy, dz) as a fraction of arm.max_step, gripper"
    # what each observation is stored as (one frame, after storage_dtype)
    # (both envs' observation_space is a spaces.Dict of spaces.Box; its declared type is Env's Space[dict[str, ndarray]].)
    boxes = cast("dict[str, spaces.Box]", cast("spaces.Dict", env.observation_space).spaces)
    stored = {k: storage_dtype(k, np.zeros((1, *space.shape), space.dtype)) for k, space in boxes.items()}
    return {
        "seed": seed,
        "env_id": env_id,
        "env": jsonable(env.cfg),
        "tasks": list(tasks),
        "exploration": jsonable(exploration),
        "annotation": jsonable(annotation),
        "object_state_names": names,
        "label_vocabulary": [list(label) for label in label_vocabulary(names)],
        "observations": {k: {"shape": list(a.shape[1:]), "dtype": str(a.dtype)} for k, a in stored.items()},
        "action_space": {"shape": [4], "low": -1.0, "high": 1.0, "meaning": meaning},
        "instance_names": env.instance_names,
        "versions": package_versions(RECORDED_PACKAGES),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
    }


class EpisodeRecorder:
    """Accumulates one episode of ``env``: ``start`` after reset, ``step`` after every env step.

    Records every observation in ``env.cfg.obs_keys`` (T+1 frames), the flat simulator state and the
    object-state vector at each frame, and the T actions with whether the scripted expert chose them.
    With ``keep_env_states``, also the env's full state at each frame (``get_state``), from which a copy of the
    env continues the episode exactly (``env_states``; what ``robolearn.plan_outcomes`` replays plans from).
    """

    def __init__(self, keep_env_states: bool = False) -> None:
        self.keep_env_states = bool(keep_env_states)
        self.frames: dict[str, list[np.ndarray]] = {}
        self.states: list[np.ndarray] = []
        self.objects: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.from_expert: list[bool] = []
        self.names: list[str] = []
        self.env_states: list[Any] = []

    def start(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """The episode's first frame (right after ``env.reset``); forgets any earlier episode."""
        e = env.unwrapped
        self.frames = {k: [obs[k]] for k in e.cfg.obs_keys}
        self.states, self.objects = [_flat_state(e.scene)], [e.object_states.vector()]
        self.actions, self.from_expert = [], []
        self.names = list(e.object_states.names())
        self.env_states = [e.get_state()] if self.keep_env_states else []

    def prefix(self, t: int) -> EpisodeRecorder:
        """A recorder holding frames 0..t and actions 0..t−1 of this one, to be continued with ``step``."""
        if not 0 <= t < len(self.states):
            raise ValueError(f"prefix: frame {t} is not among the {len(self.states)} recorded frames")
        out = EpisodeRecorder(self.keep_env_states)
        out.frames = {k: list(v[: t + 1]) for k, v in self.frames.items()}
        out.states, out.objects = list(self.states[: t + 1]), list(self.objects[: t + 1])
        out.actions, out.from_expert = list(self.actions[:t]), list(self.from_expert[:t])
        out.names = list(self.names)
        out.env_states = list(self.env_states[: t + 1])
        return out

    def step(self, env: Any, obs: dict[str, np.ndarray], action: np.ndarray, from_expert: bool = False) -> None:
        """After ``env.step(action)`` returned ``obs``."""
        if not self.states:
            raise RuntimeError("EpisodeRecorder.step before start: call start(env, obs) after env.reset")
        e = env.unwrapped
        for k, frames in self.frames.items():
            frames.append(obs[k])
        self.states.append(_flat_state(e.scene))
        self.objects.append(e.object_states.vector())
        self.actions.append(np.asarray(action, np.float32))
        self.from_expert.append(bool(from_expert))
        if self.keep_env_states:
            self.env_states.append(e.get_state())

    def episode(
        self,
        env: Any,
        index: int,
        seed: int,
        task: str,
        exploration: str,
        rng: np.random.Generator,
        annotation: AnnotationSettings,
    ) -> Episode:
        """The recorded episode, labelled in hindsight (first vs last object states) and described in
        ``annotation.instructions`` training and ``annotation.heldout_instructions`` held-out phrasings."""
        if not self.actions:
            raise ValueError("EpisodeRecorder: the episode has no steps to record")
        e = env.unwrapped
        trajectory = np.stack(self.objects)
        labels = hindsight_labels(self.names, trajectory[0], trajectory[-1], e.cfg.thresholds, trajectory=trajectory)
        instructions = [
            describe(labels, rng, split="train", typo_rate=annotation.typo_rate) for _ in range(annotation.instructions)
        ]
        heldout = [
            describe(labels, rng, split="heldout", typo_rate=annotation.typo_rate)
            for _ in range(annotation.heldout_instructions)
        ]
        return Episode(
            index=index,
            seed=seed,
            task=task,
            exploration=exploration,
            obs={k: storage_dtype(k, np.stack(v)) for k, v in self.frames.items()},
            actions=np.stack(self.actions).astype(np.float32),
            expert=np.array(self.from_expert, bool),
            states=np.stack(self.states),
            object_states=trajectory.astype(np.float32),
            labels=list(labels),
            instructions=instructions,
            heldout_instructions=heldout,
            scene_params=jsonable(e.scene_params),
        )


def planned_index(tasks: Sequence[str], task: str, seed: int) -> int:
    """Dataset index of the planned episode of ``task`` from reset seed ``seed`` in a folder whose meta lists
    ``tasks``: one slot per (task, seed), so episodes of every task fit one folder and replanning the same
    episode replaces it. The order is the folder's own (its meta), so tasks added later do not move it."""
    if task not in tasks:
        raise ValueError(
            f"task {task!r} is not among this recording folder's tasks ({', '.join(tasks)}); record it in a new folder"
        )
    return seed * len(tasks) + list(tasks).index(task)


@dataclass
class PlannedEpisodeWriter:
    """Appends planned episodes to a dataset folder in ``robolearn collect``'s format (``record=`` of
    ``robolearn plan`` and of the VMPC benchmark).

    The folder is created on first use (or must hold a dataset of the same env); episodes are written
    atomically one file each, so several processes may write to it at once and a killed run loses at
    most the episode it was planning.
    """

    root: Path
    annotation: AnnotationSettings
    compression_level: int | None = None  # gzip level 0-9; None: the dataset format's default
    #: episodes kept per planned (task, seed) (``robolearn.plan_outcomes`` keeps one per plan): index slots
    plans_per_episode: int = 1

    def __post_init__(self) -> None:
        self._writer: Any = None

    def open(self, env: DeskEnv | CounterEnv) -> None:
        """Create (or check) the dataset for ``env``'s config; idempotent."""
        if self._writer is not None:
            return

        meta = dataset_meta_for(
            env,
            seed=0,
            tasks=sorted(env_tasks(env.cfg)),
            exploration={"mode": PLANNER_EXPLORATION},
            annotation=self.annotation,
        )
        # Episodes of every task share the folder (each records its own `task`): the env's default task is no
        # property of the data.
        meta["env"] = {**meta["env"], "task": None}
        create_dataset(self.root, meta, resume_keys=PLANNER_RESUME_KEYS)
        level = DEFAULT_COMPRESSION_LEVEL if self.compression_level is None else self.compression_level
        self._writer = DatasetWriter(self.root, compression_level=level)

    def write(
        self, env: DeskEnv | CounterEnv, recorder: EpisodeRecorder, task: str, seed: int, plan: int = 0
    ) -> Path:
        """Write the episode ``recorder`` holds (planned for ``task`` from reset ``seed``; ``plan``: which of the
        ``plans_per_episode`` kept of it); returns its file."""
        if not 0 <= plan < self.plans_per_episode:
            raise ValueError(f"plan {plan} is not in [0, {self.plans_per_episode}) (plans_per_episode)")
        self.open(env)
        index = planned_index(self._writer.meta["tasks"], task, seed) * self.plans_per_episode + plan
        # The descriptions draw from their own stream of the episode's identity (reproducible, and
        # independent of the planner's random numbers).
        rng = np.random.default_rng([seed, index])
        return self._writer.write_episode(
            recorder.episode(env, index, seed, task, PLANNER_EXPLORATION, rng, self.annotation)
        )
