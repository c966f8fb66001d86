"""``robolearn collect``: generate an offline interaction dataset with hindsight annotation.

Episode ``i`` is a pure function of ``(settings, seed + i)``: its task, exploration mode, actions,
observations and descriptions are all drawn from that seed (and the env rebuilds its world at
every reset), so episodes can be generated in any order, by any number of workers, on any
machine, and a resumed collection neither duplicates nor skips one.

Work is split into chunks of episode indices (``robolearn.data.parallel``, shared with ``collect videos``). Local
worker processes write each finished episode straight to the dataset folder (atomically); Ray actors return
episodes to the driver, which writes them, so a cluster needs no shared file system. Workers end with the
collection, however it ends (``sim.plumbing.processes``): a killed collection leaves no process behind, and a
rerun resumes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from omegaconf import DictConfig, OmegaConf

from robolearn.conf_files import parse_options
from robolearn.config import ConfigError, env_config, env_kind, env_tasks, require
from robolearn.config import make_env as make_kind_env
from robolearn.data.episode import Episode
from robolearn.data.parallel import WriteOptions, open_dataset, write_episodes
from robolearn.data.recorder import EpisodeRecorder, dataset_meta_for
from sim.plumbing.files import OutputError, check_writable, output_keys
from sim.plumbing.settings import FIGURES, check_knobs, knob

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet
    from sim.config import DeskEnvConfig
    from sim.counter_config import CounterEnvConfig
    from sim.envs.counter import CounterEnv
    from sim.envs.desk import DeskEnv

EXPLORATION_MODES = ("uniform", "correlated", "reach", "expert_mix")
#: metadata keys that must match for a collection to resume into an existing dataset
RESUME_KEYS = ("env_id", "seed", "env", "exploration", "annotation", "tasks", "object_state_names")
#: what an error writing the dataset adds: nothing finished is lost
RESUME_NOTE = "the finished episodes are kept: rerun the same command to resume"


@dataclass(frozen=True)
class ExplorationSettings:
    """How actions are chosen: the ``exploration`` node of ``conf/collect.yaml`` (generated from ``CollectOptions``)."""

    uniform: float = knob(0.15, "i.i.d. uniform actions in [-1, 1], as LOReL's data (probability)", lo=0.0, hi=1.0)
    correlated: float = knob(0.10, "temporally correlated Gaussian noise, AR(1) (probability)", lo=0.0, hi=1.0)
    reach: float = knob(
        0.40,
        "a noisy reach toward a random task's object, then a push in a random direction (probability)",
        lo=0.0,
        hi=1.0,
    )
    expert_mix: float = knob(
        0.35,
        "a noisy scripted-expert segment inside correlated noise, so every task is completed often (probability)",
        lo=0.0,
        hi=1.0,
    )
    correlation: float = knob(
        0.8, "AR(1) coefficient of the correlated noise (0 = white noise)", lo=0.0, hi=1.0, hi_open=True
    )
    noise_scale: float = knob(
        0.6,
        "standard deviation of the correlated noise before clipping to [-1, 1] (action units)",
        lo=0.0,
        lo_open=True,
    )
    reach_steps: tuple[int, int] = knob(
        (4, 12), "the reach lasts this many steps, drawn uniformly [low, high] (env steps)", lo=1, pair=True
    )
    reach_noise: float = knob(0.3, "standard deviation of Gaussian noise on reach actions (action units)", lo=0.0)
    reach_jitter: float = knob(0.04, "the reach target is the object's interaction point ± this, per axis (m)", lo=0.0)
    push_speed: float = knob(
        0.6,
        "after the reach, push along a random horizontal direction at this fraction of the max step",
        lo=0.0,
        hi=1.0,
    )
    expert_noise: float = knob(
        0.2, "standard deviation of Gaussian noise added to expert actions (action units)", lo=0.0
    )
    expert_fraction: tuple[float, float] = knob(
        (0.7, 1.0),
        "the expert controls a contiguous segment of this fraction of the episode [low, high]",
        lo=0.0,
        hi=1.0,
        pair=True,
    )

    def __post_init__(self) -> None:
        check_knobs(self, "exploration")  # reach_steps: integers (counted steps, recorded in meta.json)
        # Cross-field rules, which no single knob states.
        weights = self.weights
        if abs(sum(weights) - 1.0) > 1e-6:
            raise ConfigError(
                f"exploration.uniform/correlated/reach/expert_mix = {list(weights)} must be >= 0 and sum to 1"
            )
        if self.expert_fraction[0] <= 0.0:
            raise ConfigError(
                f"exploration.expert_fraction={list(self.expert_fraction)} must satisfy 0 < low <= high <= 1"
            )

    @property
    def weights(self) -> tuple[float, float, float, float]:
        """Probabilities of the modes in ``EXPLORATION_MODES`` order."""
        return (self.uniform, self.correlated, self.reach, self.expert_mix)


@dataclass(frozen=True)
class AnnotationSettings:
    """Hindsight language annotation: the ``annotation`` node of ``conf/collect.yaml``."""

    instructions: int = knob(3, "descriptions per episode in training phrasings (count)", lo=1)
    heldout_instructions: int = knob(
        1, "descriptions per episode in held-out phrasings that training never sees (count)", lo=0
    )
    typo_rate: float = knob(
        0.03, "probability of a small typo per description, as crowd-sourced text has", lo=0.0, hi=1.0
    )

    def __post_init__(self) -> None:
        check_knobs(self, "annotation")


@dataclass(frozen=True)
class StorageOptions:
    """On-disk storage (HDF5, see robolearn/data/schema.py): the ``storage`` node of ``conf/collect.yaml``."""

    compression_level: int = knob(4, f"gzip level of images and states (compression ratio: {FIGURES})", lo=0, hi=9)
    episodes_per_shard: int = knob(1000, "finished episodes are packed into shards of this many episodes (count)", lo=1)

    def __post_init__(self) -> None:
        check_knobs(self, "storage")


@dataclass(frozen=True)
class CollectOptions:
    """The options of ``robolearn collect`` (``conf/collect.yaml`` is generated from this class)."""

    out: str = knob(
        "data/desk", "dataset folder (created if missing; an existing one is resumed if its settings match)"
    )
    episodes: int = knob(1000, "total episodes in the dataset (count); episode i is generated from seed + i", lo=1)
    seed: int = knob(0, "seed of episode 0")
    tasks: Any = knob(
        "all",
        "initial-state distributions to sample from, one per episode: `all` or a list of task names",
        any_type=True,  # `all` or a list, checked against the env's tasks
    )
    workers: int = knob(2, "local worker processes (count); 1 collects in this process", lo=1)
    chunk_episodes: int = knob(
        25, "episodes per work unit handed to a worker (count): progress and retries happen per unit", lo=1
    )
    ray_address: str | None = knob(
        None, "null = local processes; `local` = start a local Ray instance; else a Ray cluster address (e.g. auto)"
    )
    progress_bar: bool = knob(True, "show a progress bar")
    exploration: ExplorationSettings = knob(
        ExplorationSettings(),
        "How actions are chosen; one mode is drawn per episode with these probabilities (they must sum to 1). "
        "Random actions alone mostly change nothing; these defaults handle every object often (label shares: "
        f"{FIGURES}). LOReL's data: exploration.uniform=1, the others 0.",
    )
    annotation: AnnotationSettings = knob(
        AnnotationSettings(), "Hindsight language annotation, stored with every episode."
    )
    storage: StorageOptions = knob(StorageOptions(), "On-disk storage (HDF5, see robolearn/data/schema.py).")

    def __post_init__(self) -> None:
        check_knobs(self, "")


@dataclass(frozen=True)
class CollectSettings:
    """A validated ``conf/collect.yaml``: the options (``CollectOptions``) with the env config built and the
    tasks resolved."""

    env: DeskEnvConfig | CounterEnvConfig  # env=counter: the docked mobile manipulator at a home's counter
    out: Path
    episodes: int
    seed: int
    tasks: tuple[str, ...]
    workers: int
    chunk_episodes: int
    ray_address: str | None
    progress_bar: bool
    exploration: ExplorationSettings
    annotation: AnnotationSettings
    compression_level: int
    episodes_per_shard: int

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> CollectSettings:
        """Validate a composed ``collect`` config; every problem is a one-line ``ConfigError``.

        The collection's own keys are ``CollectOptions`` (checked by its knobs); ``env`` is built by its group's
        factory; the tasks are then checked against the env's.
        """
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        data: dict[str, Any] = {str(k): v for k, v in raw.items()}  # type: ignore[union-attr]
        if "env" not in data:
            raise ConfigError("missing collect option(s) ['env']")
        env_node = data.pop("env")
        require(env_kind(env_node), "collect")  # the env must have the exploration API (robolearn.kinds)
        options = parse_options(CollectOptions, data, "collect")
        # require() let only kinds with the exploration API through (the desk's and the counter's configs)
        env = cast("DeskEnvConfig | CounterEnvConfig", env_config(env_node))
        known = env_tasks(env)
        tasks_raw = options.tasks
        tasks = (
            tuple(sorted(known))
            if tasks_raw == "all"
            else tuple([tasks_raw] if isinstance(tasks_raw, str) else tasks_raw)
        )
        unknown = [t for t in tasks if t not in known]
        if unknown or not tasks:
            raise ConfigError(f"tasks: unknown task(s) {unknown} of this env; use `all` or names from {sorted(known)}")
        ray_address = options.ray_address
        out = check_writable(options.out, "out", folder=True)  # now, not after the first episodes
        return cls(
            env=env,
            out=out,
            episodes=options.episodes,
            seed=options.seed,
            tasks=tasks,
            workers=options.workers,
            chunk_episodes=options.chunk_episodes,
            ray_address=None if ray_address in (None, "", "null") else str(ray_address),
            progress_bar=options.progress_bar,
            exploration=options.exploration,
            annotation=options.annotation,
            compression_level=options.storage.compression_level,
            episodes_per_shard=options.storage.episodes_per_shard,
        )


# ----------------------------------------------------------------- exploration
class Explorer:
    """Chooses one episode's actions. ``act`` returns (action (4,) float32 in [-1, 1], from_expert).

    Modes: ``uniform`` i.i.d. actions (LOReL); ``correlated`` AR(1) Gaussian noise; ``reach`` a noisy
    reach toward where some task's object is handled, then correlated noise (varied, partial
    interactions: pushes in every direction, half-opened drawers); ``expert_mix`` a noisy scripted
    expert for a contiguous segment inside correlated noise (completed tasks).
    """

    def __init__(
        self,
        mode: str,
        settings: ExplorationSettings,
        rng: np.random.Generator,
        horizon: int,
        expert=None,
        reach_target: str | None = None,
    ):
        """``reach_target``: what the ``reach`` mode reaches for, one of the env's ``reach_targets``."""
        self.mode, self.s, self.rng, self.expert, self.reach_target = mode, settings, rng, expert, reach_target
        self.noise = np.zeros(4)
        self.segment = (0, 0)
        if mode == "expert_mix":
            fraction = rng.uniform(*settings.expert_fraction)
            length = max(1, round(fraction * horizon))
            start = int(rng.integers(0, horizon - length + 1))
            self.segment = (start, start + length)
        elif mode == "reach":
            self.segment = (0, int(rng.integers(settings.reach_steps[0], settings.reach_steps[1] + 1)))
            self.offset = rng.uniform(-settings.reach_jitter, settings.reach_jitter, 3)
            self.gripper = rng.uniform(-1.0, 1.0)
            angle = rng.uniform(0.0, 2 * np.pi)
            # After the reach: push along a random horizontal direction, slightly downward so the
            # fingers stay at object height.
            self.push = np.array([np.cos(angle), np.sin(angle), -0.2]) * settings.push_speed

    def act(self, env: DeskEnv | CounterEnv, t: int) -> tuple[np.ndarray, bool]:
        if self.mode == "uniform":
            return self.rng.uniform(-1.0, 1.0, 4).astype(np.float32), False
        # AR(1) noise with stationary standard deviation noise_scale.
        rho = self.s.correlation
        self.noise = rho * self.noise + np.sqrt(1 - rho**2) * self.s.noise_scale * self.rng.standard_normal(4)
        in_segment = self.segment[0] <= t < self.segment[1]
        if self.mode == "expert_mix" and in_segment:
            action = env.expert_action(self.expert) + self.s.expert_noise * self.rng.standard_normal(4)
            return np.clip(action, -1.0, 1.0).astype(np.float32), True
        if self.mode == "reach" and in_segment:
            if self.reach_target is None:
                raise ValueError("the reach exploration mode needs a reach_target (one of the env's reach_targets)")
            target = env.reach_point(self.reach_target) + self.offset
            toward = (target - env.tcp_position()) / env.arm_max_step + self.s.reach_noise * self.rng.standard_normal(3)
            return np.clip(np.r_[toward, self.gripper], -1.0, 1.0).astype(np.float32), False
        if self.mode == "reach":
            return np.clip(np.r_[self.push + self.s.reach_noise * self.noise[:3], self.gripper], -1.0, 1.0).astype(
                np.float32
            ), False
        return np.clip(self.noise, -1.0, 1.0).astype(np.float32), False


# --------------------------------------------------------------------- episode
def make_env(settings: CollectSettings) -> DeskEnv | CounterEnv:
    """The env of the settings (the one env factory, ``robolearn.config.make_env``: the kind's env class, which is
    also what its gym id makes); the dataset records the kind's gym id as ``env_id``."""
    return make_kind_env(settings.env)


def generate_episode(env: DeskEnv | CounterEnv, index: int, settings: CollectSettings) -> Episode:
    """Episode ``index`` of the dataset: a pure function of the settings and ``settings.seed + index``."""
    seed = settings.seed + index
    rng = np.random.default_rng(seed)
    task = settings.tasks[int(rng.integers(len(settings.tasks)))]
    mode = EXPLORATION_MODES[int(rng.choice(len(EXPLORATION_MODES), p=settings.exploration.weights))]
    obs, _ = env.reset(seed=seed, options={"task": task})
    horizon = env.cfg.max_episode_steps
    expert = env.make_expert() if mode == "expert_mix" else None
    # Reach toward any object the env can reach for (not only this episode's task's), so every object gets handled.
    targets = env.reach_targets(settings.tasks)
    target = targets[int(rng.integers(len(targets)))] if mode == "reach" else None
    explorer = Explorer(mode, settings.exploration, rng, horizon, expert, target)
    recorder = EpisodeRecorder()
    recorder.start(env, obs)
    for t in range(horizon):
        action, is_expert = explorer.act(env, t)
        obs, *_ = env.step(action)
        recorder.step(env, obs, action, is_expert)
    return recorder.episode(env, index, seed, task, mode, rng, settings.annotation)


class EpisodeFailed(RuntimeError):
    """Generating one episode raised; the message names the episode so it can be reproduced."""


def generate_episode_or_explain(env: DeskEnv | CounterEnv, index: int, settings: CollectSettings) -> Episode:
    """``generate_episode``, with any failure re-raised as ``EpisodeFailed`` naming the episode and seed."""
    try:
        return generate_episode(env, index, settings)
    except OutputError:  # a cache file (meshes, textures) that cannot be written: not the episode's fault
        raise
    except Exception as e:
        raise EpisodeFailed(
            f"episode {index} (seed {settings.seed + index}) failed: {type(e).__name__}: {e}. "
            "Every finished episode is saved; fix the cause and rerun the same command to resume"
        ) from e


# ---------------------------------------------------------------------- metadata
def dataset_meta(settings: CollectSettings, env: DeskEnv | CounterEnv) -> dict[str, Any]:
    """Dataset-level metadata of a collection: what made the data, and what it holds."""
    return dataset_meta_for(
        env, seed=settings.seed, tasks=settings.tasks, exploration=settings.exploration, annotation=settings.annotation
    )


# ------------------------------------------------------------------ execution
class _CollectJob:
    """Generates the collection's episode ``i`` (a ``robolearn.data.parallel.EpisodeJob``); each worker opens its env."""

    def __init__(self, settings: CollectSettings) -> None:
        self.settings = settings
        self.env: DeskEnv | CounterEnv | None = None  # opened by setup, in the worker

    def setup(self) -> None:
        self.env = make_env(self.settings)

    def episode(self, index: int) -> Episode:
        assert self.env is not None, "setup() opens the env before the first episode"
        return generate_episode_or_explain(self.env, index, self.settings)


def run_collect(settings: CollectSettings, echo: bool = True) -> dict[str, Any]:
    """Collect (or resume) the dataset described by ``settings``; returns a summary.

    Raises:
        robolearn.data.metadata.DatasetError: the output folder holds a dataset made with other settings.
        sim.plumbing.files.OutputError: a file of the dataset could not be written (a full disk, a read-only
            folder...): one line naming it and ``out=``; the finished episodes are kept, a rerun resumes.
    """
    with output_keys({"out": settings.out}, RESUME_NOTE):
        return _collect(settings, echo)


def _collect(settings: CollectSettings, echo: bool) -> dict[str, Any]:
    env = make_env(settings)
    meta = dataset_meta(settings, env)
    env.close()
    done = open_dataset(settings.out, meta, RESUME_KEYS)
    todo = [i for i in range(settings.episodes) if i not in done]
    beyond = len([i for i in done if i >= settings.episodes])  # episodes of an earlier run with a larger episodes=
    if beyond and not todo:
        # Nothing to collect, and the dataset holds more than asked: say so, and leave it exactly as it is.
        if echo:
            print(
                f"dataset {settings.out} already holds {len(done)} episodes, more than episodes={settings.episodes}: "
                f"none collected, the dataset is unchanged; to collect more raise episodes= above {len(done)}, "
                "to start over use another out="
            )
        return {
            "out": str(settings.out),
            "episodes": settings.episodes,
            "held": len(done),
            "resumed_from": len(done),
            "collected": 0,
            "seconds": 0.0,
            "steps_per_s": 0.0,
        }
    steps_per_episode = settings.env.max_episode_steps
    opts = WriteOptions(
        out=settings.out,
        total=settings.episodes,
        workers=settings.workers,
        chunk_size=settings.chunk_episodes,
        ray_address=settings.ray_address,
        progress_bar=settings.progress_bar,
        compression_level=settings.compression_level,
        episodes_per_shard=settings.episodes_per_shard,
        desc=f"collect {settings.out}",
    )
    written = write_episodes(
        _CollectJob(settings),
        todo,
        opts,
        "ep",
        lambda made, seconds: {"steps_per_s": f"{made * steps_per_episode / max(seconds, 1e-9):.0f}"},
    )
    collected, elapsed, held = written.made, written.seconds, written.held
    summary = {
        "out": str(settings.out),
        "episodes": settings.episodes,
        "held": held,
        "resumed_from": settings.episodes - len(todo),
        "collected": collected,
        "seconds": elapsed,
        "steps_per_s": collected * steps_per_episode / elapsed if collected else 0.0,
    }
    if echo:
        print(
            f"collected {collected} episodes ({collected * steps_per_episode} steps) in {elapsed:.1f} s "
            f"({summary['steps_per_s']:.0f} steps/s); dataset {settings.out} holds {held} episodes"
        )
    return summary
