"""``robolearn collect videos``: render a clip dataset of robot demos and non-robot actors doing desk things.

Clip ``i`` is a pure function of the settings and ``seed + i`` (what it shows is drawn from that seed, and
``sim.actors.clips.render_clip`` renders it deterministically from it), so clips can be made in any order, by any
number of workers or Ray actors, and a rerun makes only the clips the folder lacks.

Which clip is which (``clip_plan``): the robot clips come first, per robot variant and robot task (variant-major,
then task) its ``robot_demos_per_task`` demos, then its ``robot_attempts_per_task`` attempts that do not do the task
(an outcome other than done, drawn from the clip's seed); then ``actor_clips`` actor clips, each with an actor, a
behaviour it can do and an attempted outcome drawn from its own seed. Raising ``actor_clips`` therefore only
appends clips.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from robolearn.conf_files import parse_options
from robolearn.config import ConfigError
from robolearn.data.episode import Episode
from robolearn.data.videos.clip import clip_attr, clip_episode
from robolearn.data.videos.collect_config import CollectVideosOptions
from robolearn.data.videos.importers import clips_meta
from robolearn.data.videos.writing import WriteOptions, write_clips
from sim.actors.catalogue import OUTCOMES, can_do
from sim.plumbing.files import OutputError, check_writable, output_keys
from sim.video_randomization_config import VideoRandomizationConfig

__all__ = ["ClipFailed", "CollectVideosSettings", "clip_plan", "clip_request", "run_collect_videos"]

#: the robot's name in sim.actors
ROBOT = "panda"
#: meta keys a resumed collection must agree on: every setting that changes what clip i is (not actor_clips: raising
#: it appends clips)
RESUME_KEYS = ("content", "clips", "observations")
#: what an error writing the dataset adds: nothing finished is lost
RESUME_NOTE = "the finished clips are kept: rerun the same command to resume"
#: the seed stream of an actor clip's choices (actor, behaviour, outcome): apart from the renderer's own streams
CHOICE_STREAM = 7


class ClipFailed(RuntimeError):
    """Rendering one clip raised; the message names the clip, its seed and what it showed, to reproduce it."""


@dataclass(frozen=True)
class CollectVideosSettings:
    """A validated ``conf/collect_videos.yaml``: the options with their lists resolved."""

    options: CollectVideosOptions
    out: Path
    actors: tuple[str, ...]
    behaviours: tuple[str, ...]
    robot_tasks: tuple[str, ...]
    robot_variants: tuple[str, ...]

    @classmethod
    def from_options(cls, options: CollectVideosOptions) -> CollectVideosSettings:
        """Resolve the lists (the options checked them when built)."""
        return cls(
            options=options,
            out=Path(options.out),
            actors=options.actor_names(),
            behaviours=options.behaviour_names(),
            robot_tasks=options.robot_task_names() if options.robot_clips_per_task else (),
            robot_variants=options.robot_variant_names() if options.robot_clips_per_task else (),
        )

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> CollectVideosSettings:
        """Validate a composed ``collect_videos`` config; every problem is a one-line ``ConfigError``."""
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        data: dict[str, Any] = {str(k): v for k, v in raw.items()}  # type: ignore[union-attr]
        try:
            options = parse_options(CollectVideosOptions, data, "collect videos")
        except ValueError as e:
            raise ConfigError(str(e)) from None
        check_writable(options.out, "out", folder=True)  # now, not after the first clips
        return cls.from_options(options)

    @property
    def robot_clips(self) -> int:
        """Robot clips: demos and attempts, per task and variant."""
        return self.options.robot_clips_per_task * len(self.robot_tasks) * len(self.robot_variants)

    @property
    def total(self) -> int:
        """Clips in the dataset."""
        return self.robot_clips + self.options.actor_clips

    def meta(self) -> dict[str, Any]:
        """The dataset's meta.json: what makes clip i (``clips``) and what it holds."""
        o = self.options
        clips = {
            "source": "rendered",
            "seed": o.seed,
            "num_frames": o.num_frames,
            "image_size": o.image_size,
            "robot_demos_per_task": o.robot_demos_per_task,
            "robot_tasks": list(self.robot_tasks),
            "robot_variants": list(self.robot_variants),
            "actors": list(self.actors),
            "heldout_actor": o.heldout_actor,
            "behaviours": list(self.behaviours),
            "outcomes": dict(zip(OUTCOMES, o.outcomes.weights, strict=True)),
            "plain_scene_fraction": o.plain_scene_fraction,
        }
        if o.robot_attempts_per_task:  # only when set, as scene
            clips["robot_attempts_per_task"] = o.robot_attempts_per_task
        if o.scene != VideoRandomizationConfig():  # only when set: datasets made before the option resume unchanged
            clips["scene"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(o.scene).items()}
        from sim.config import DeskEnvConfig
        from sim.scenes.desk import object_state_names  # on use: loads pybullet

        # every rendered clip's scene has the default desk's objects (distractors are not among its object states)
        names = object_state_names(DeskEnvConfig().layout.num_blocks)
        return {**clips_meta(clips, o.image_size, names), "seed": o.seed}


def clip_request(settings: CollectVideosSettings, index: int) -> tuple[Any, int]:
    """What clip ``index`` shows: (``sim.actors.clips.ClipRequest``, seed); a pure function of settings and index.

    Raises:
        IndexError: ``index`` outside the dataset.
    """
    from sim.actors.clips import ClipRequest  # lazy: PyBullet

    o = settings.options
    seed = o.seed + index
    if not 0 <= index < settings.total:
        raise IndexError(f"clip {index} is outside the dataset's {settings.total} clips")
    rng = np.random.default_rng([seed, CHOICE_STREAM])
    if index < settings.robot_clips:  # per variant, per task: its demos, then its attempts
        per_task = o.robot_clips_per_task
        per_variant = per_task * len(settings.robot_tasks)
        variant = settings.robot_variants[index // per_variant]
        task = settings.robot_tasks[(index % per_variant) // per_task]
        outcome = "done"
        if index % per_task >= o.robot_demos_per_task:
            outcome = OUTCOMES[int(rng.choice(len(OUTCOMES), p=np.asarray(o.outcomes.attempt_weights)))]
        return ClipRequest(ROBOT, task, outcome, o.num_frames, o.image_size, variant, True), seed
    actor = settings.actors[int(rng.integers(len(settings.actors)))]
    doable = [b for b in settings.behaviours if can_do(actor, b)]
    behaviour = doable[int(rng.integers(len(doable)))]
    outcome = OUTCOMES[int(rng.choice(len(OUTCOMES), p=np.asarray(o.outcomes.weights)))]
    randomize = bool(rng.random() >= o.plain_scene_fraction)
    return ClipRequest(actor, behaviour, outcome, o.num_frames, o.image_size, "train", randomize), seed


def clip_plan(settings: CollectVideosSettings) -> list[tuple[str, str, str, str]]:
    """(actor, behaviour, attempted outcome, variant) of every clip, in index order (for inspection and tests)."""
    plan = []
    for i in range(settings.total):
        r, _ = clip_request(settings, i)
        plan.append((r.actor, r.behaviour, r.outcome, r.variant))
    return plan


@dataclass(frozen=True)
class _RenderJob:
    """Renders clip ``i`` (a ``robolearn.data.videos.writing.ClipJob``)."""

    settings: CollectVideosSettings

    def setup(self) -> None:
        """Import the renderer once per worker (PyBullet)."""
        import sim.actors.clips  # noqa: F401

    def episode(self, index: int) -> Episode:
        from sim.actors.clips import render_clip  # lazy: PyBullet

        request, seed = clip_request(self.settings, index)
        try:
            rendered = render_clip(request, seed, scene_cfg=self.settings.options.scene)
        except OutputError:  # a cache file that cannot be written: not the clip's fault
            raise
        except Exception as e:
            raise ClipFailed(
                f"clip {index} (seed {seed}: {request.actor} {request.behaviour}, attempted {request.outcome}, "
                f"variant {request.variant}) failed: {type(e).__name__}: {e}. Every finished clip is saved; "
                "fix the cause and rerun the same command to resume"
            ) from e
        info = {
            **rendered.info,
            "seed": int(rendered.seed),
            "attempted_outcome": request.outcome,
            "object_state_names": list(rendered.object_state_names),
        }
        attr = clip_attr(
            template=rendered.template,
            placeholders=rendered.placeholders,
            task=rendered.task,
            actor=rendered.actor,
            is_robot=rendered.actor == ROBOT,
            outcome=rendered.outcome,
            variant=rendered.variant,
            source="rendered",
            progress=rendered.progress,
            behaviour=rendered.behaviour,
            info=info,
        )
        actions = getattr(rendered, "actions", None)  # the robot's, if the renderer gives them
        return clip_episode(index, seed, rendered.frames, attr, rendered.object_states, actions)


def run_collect_videos(settings: CollectVideosSettings, echo: bool = True) -> dict[str, Any]:
    """Render (or resume) the clip dataset described by ``settings``; returns a summary.

    Raises:
        robolearn.data.metadata.DatasetError: the output folder holds a dataset made with other settings.
        ClipFailed: a clip could not be rendered (the finished ones are kept).
        sim.plumbing.files.OutputError: a file of the dataset could not be written (one line naming it and ``out=``).
    """
    o = settings.options
    opts = WriteOptions(
        out=settings.out,
        total=settings.total,
        workers=o.workers,
        chunk_size=o.chunk_clips,
        ray_address=None if o.ray_address in (None, "", "null") else str(o.ray_address),
        progress_bar=o.progress_bar,
        compression_level=o.storage.compression_level,
        episodes_per_shard=o.storage.episodes_per_shard,
        desc=f"collect videos {settings.out}",
    )
    with output_keys({"out": settings.out}, RESUME_NOTE):
        summary = write_clips(_RenderJob(settings), opts, settings.meta(), RESUME_KEYS)
    if echo:
        print(
            f"rendered {summary['made']} clips ({settings.robot_clips} robot clips and {o.actor_clips} actor clips in "
            f"all) in {summary['seconds']:.1f} s ({summary['clips_per_s']:.1f} clips/s); dataset {settings.out} holds "
            f"{summary['held']} clips (robolearn data info {settings.out})"
        )
    return summary
