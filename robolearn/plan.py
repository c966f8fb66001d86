"""``robolearn plan``: language- or video-commanded visual MPC episodes, with a video of what the planner saw and
expected.

Builds a ``planners.vmpc.VMPCAgent`` from ``conf/plan.yaml``: the reward (LOReL checkpoint, goal image, DVD
checkpoint with demo videos, or oracle), the dynamics (a video-model checkpoint or the simulator) and the optimizer
(``conf/optimizer``), resolves the instruction (or the demo videos, ``robolearn.demo_videos``) to a desk task (for
the initial states and the success check), runs the episodes and writes a video whose frames show, side by side,
the real camera frame, the frame the current plan predicted for this step, and the reward of the real frames over
time.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from PIL import Image, ImageDraw

from planners.dynamics import EnsembleDynamics, SimulatorDynamics, VideoModelDynamics
from planners.mobile_manipulation import PlannedDrawerAgent, run_planned_home_episode
from planners.objectives import DVDObjective, GoalImageObjective, LorelObjective, OracleStateObjective
from planners.optimizers import OPTIMIZERS, make_optimizer, optimizer_config
from planners.simulator_rollouts import resolve_workers
from planners.video import load_model as load_video_model
from planners.vmpc import PlanRecord, VMPCAgent, VMPCConfig, run_episode
from rewards.dvd import DVDReward
from rewards.dvd import load_model as load_dvd_model
from rewards.lorel import load_model
from robolearn.bench.stats import wilson
from robolearn.conf_files import parse_options
from robolearn.config import ConfigError, env_config, env_kind, env_tasks, make_env, one_line, require
from robolearn.data.collect import AnnotationSettings
from robolearn.data.metadata import DatasetError, read_meta
from robolearn.data.recorder import EpisodeRecorder, PlannedEpisodeWriter
from robolearn.data.schema import META_FILE
from robolearn.demo_videos import DemoVideos, load_demo_videos, recognize_task, reference_clips
from robolearn.instructions import Resolution, check_instruction, resolve_instruction
from robolearn.kinds import KINDS, kind_of, load
from robolearn.paths import SHIPPED_DVD
from robolearn.plan_outcomes import PlanOutcomes
from robolearn.rollout import VIDEO_SUFFIXES, check_video_path
from robolearn.video import Caption, VideoWriter, caption_frame, load_font
from sim.counter_config import CounterEnvConfig
from sim.envs.counter import home_config_for
from sim.envs.home import HomeEnv
from sim.plumbing.checks import shown
from sim.plumbing.files import check_writable, output_keys, write_json_atomic
from sim.plumbing.settings import FIGURES, check_knobs, from_mapping, knob

if TYPE_CHECKING:  # pragma: no cover
    from planners.dynamics import Dynamics
    from planners.objectives import RewardSource
    from planners.vmpc import EpisodeRecord, VMPCAgent
    from sim.config import DeskEnvConfig
    from sim.counter_config import CounterEnvConfig

__all__ = [
    "REWARDS",
    "PlanOptions",
    "PlanSettings",
    "PlanVideoOptions",
    "action_bounds",
    "build_agent",
    "check_model",
    "check_models",
    "compose_frame",
    "env_spaces",
    "goal_image",
    "load_models",
    "run_plan",
]

REWARDS = ("lorel", "goal_image", "oracle", "dvd")
#: where a planned episode starts: docked (the env's own reset) | home (env=counter: anywhere in a home; the
#: drawer baseline navigates and docks, then the planner takes the arm)
EPISODE_STARTS = ("docked", "home")
ORACLE = "oracle"
#: the composed config groups of ``conf/plan.yaml``, built by their own factories (not plan options)
GROUPS = ("env", "optimizer")
PANEL_RANGE = (16, 1024)
RGB_CHANNELS = 3  # the planner's models see the env's RGB camera
# Reward-curve panel: margins (fraction of the panel) around the plot area, and colours.
_CURVE_MARGIN = 0.12
_CURVE_BG, _CURVE_AXIS, _CURVE_LINE, _CURVE_NOW = (250, 250, 250), (150, 150, 150), (30, 90, 200), (220, 60, 40)
# Extra expert steps after the goal is first reached, so the goal image shows the change settled.
GOAL_SETTLE_STEPS = 2


@dataclass
class PlanVideoOptions:
    """The video: [real frame | the current plan's predicted frame | reward over time] side by side."""

    path: str | None = knob(
        "outputs/plan/plan.mp4",
        "video file (.mp4 or .gif), all episodes in a row; null = no video",
        any_type=True,  # a file name or null, checked below
    )
    fps: float = knob(4.0, "frames per second (one frame per env step)", lo=0, lo_open=True)
    panel: int = knob(256, "side of each of the three square panels (pixels)", lo=PANEL_RANGE[0], hi=PANEL_RANGE[1])
    font_size: int = knob(14, "caption text height (pixels)", lo=1)
    hold_final_frames: int = knob(4, "repeat each episode's last frame this many times (frames)", lo=0)

    def __post_init__(self) -> None:
        check_knobs(self, "video")
        check_video_path(self.path)


@dataclass
class PlanOptions:
    """The options of ``robolearn plan`` (``conf/plan.yaml`` is generated from this class).

    ``env`` and ``optimizer`` are composed from their groups and built by their own factories; the receding-horizon
    ``agent`` is ``planners.vmpc.VMPCConfig``, whose knobs document it.
    """

    instruction: Any = knob(
        "open the drawer",
        "what to do, in plain language",
        any_type=True,  # robolearn.instructions.check_instruction says what is wrong with it
    )
    task: str = knob(
        "auto",
        "desk task that sets the initial states and judges success; auto = the task the instruction asks for",
    )
    min_similarity: float = knob(
        0.7,
        "with task=auto, when the instruction names no object the word lists know: cosine similarity it must "
        "reach with a task's reference phrasings",
        lo=-1.0,
        hi=1.0,
    )
    objective: str = knob(
        "lorel",
        "what the planner maximises: lorel (learned language reward) | goal_image (pixel distance to an image of "
        "the task done) | oracle (the task's dense state reward; needs dynamics_model=oracle) | dvd (learned video "
        "reward: the episode's clip against the demo videos of demo=)",
        choices=REWARDS,
    )
    reward_checkpoint: str | None = knob(
        None,
        "reward checkpoint: LOReL's (.pt from `robolearn train`), required for objective=lorel | DVD's (.pt from "
        "`robolearn train dvd`) for objective=dvd, where null = the shipped one (robolearn/checkpoints/dvd_reward.pt)",
        any_type=True,  # a path or null, checked below
    )
    demo: Any = knob(
        None,
        "with objective=dvd, the demo video(s) to imitate: a video file (.mp4, .webm, ...), a folder of them, clips "
        "of a clip dataset DATASET:3,17, a shipped demo's name (robolearn/checkpoints/demos/demos.json), or a list "
        "of these; the task comes from their labels, else task=, else the reward recognises it; null = none",
        any_type=True,  # a string, a list of strings or null, checked below
    )
    demo_frames: int = knob(
        20, "frames each demo video is resampled to, evenly over its length (count; the reward samples its own)", lo=2
    )
    min_demo_score: float = knob(
        0.5,
        "with objective=dvd, task=auto and unlabelled demo videos: the mean P(same task) the demos must reach with "
        "the shipped demo videos of a task to be recognised as it (below: the answer says what they resemble)",
        lo=0.0,
        hi=1.0,
    )
    dynamics_model: Any = knob(
        ORACLE,
        "what candidate actions are rolled through: oracle (the simulator itself) | a video-model checkpoint (.pt "
        "from `robolearn train dynamics`) | a list of them, [a.pt,b.pt]: an ensemble, rewards combined by "
        "agent.ensemble",
        any_type=True,  # oracle, a path or a list of paths, checked below
    )
    dynamics_samples: int = knob(
        1,
        "with one stochastic video model (dynamics.stochastic=true): roll every candidate out under this many draws "
        "of its per-step latent (draw k the same for every candidate and replanning step) and combine their rewards "
        "by agent.ensemble (min: a plan must succeed whatever the uncertain contact does); costs that many times "
        "one rollout; 1 = the model's own setting (the prior's mean by default)",
        lo=1,
    )
    oracle_exact: bool = knob(
        False,
        "dynamics_model=oracle: rebuild the world for every candidate (bit-exact, nothing sleeps; much slower: "
        f"{FIGURES}) instead of once per oracle_chunk candidates",
    )
    oracle_chunk: int = knob(
        20,
        "dynamics_model=oracle: consecutive candidates rolled out in one world rebuilt from the real state (a "
        "rebuild costs ~4 ms, two-thirds of a horizon-10 candidate; later candidates of a chunk restore the arrays, "
        "contact caches carried over); results depend on it, not on oracle_workers",
        lo=1,
    )
    oracle_workers: int = knob(
        0,
        "dynamics_model=oracle: processes that roll a replanning step's candidates out, a share each; 0 = one per "
        "usable core (1 in a worker process of a benchmark or bench, which already share the cores out)",
        lo=0,
    )
    oracle_rest_speed: float = knob(
        0.005,
        "dynamics_model=oracle: bodies other than the arm none of whose points moves faster than this (m/s) at the "
        "real state sleep in the candidates' worlds until the arm touches them (less physics; 0 = none sleep; "
        f"error against rebuilt worlds: {FIGURES})",
        lo=0.0,
    )
    episodes: int = knob(1, "number of episodes (count)", lo=1)
    episode_start: str = knob(
        "docked",
        "docked: each episode starts as the env resets it | home (env=counter only): the robot starts anywhere in "
        "a home; the drawer baseline drives to the counter and docks, then the planner takes the arm for "
        'env.max_episode_steps steps ("open the kitchen drawer")',
        choices=EPISODE_STARTS,
    )
    seed: int = knob(0, "seed of episode 0; episode i resets with seed + i; also seeds the optimizer", lo=0)
    torch_threads: int = knob(2, "intra-op threads of the models and the optimizer (the machine's cores)", lo=1)
    results: str | None = knob(
        None, "JSON file for per-episode results (success, progress, timings); null = none", any_type=True
    )
    record: str | None = knob(
        None,
        "dataset folder that keeps every planned episode (robolearn collect's format, hindsight-labelled), for "
        "data aggregation: `robolearn train extra_data=[FOLDER] negatives.attempted=0.2` trains the reward on the "
        f"planner's own episodes (success gained: {FIGURES}), `robolearn train dynamics "
        "extra_data=[FOLDER]` the video model; null = keep none",
        any_type=True,  # a folder path or null, checked below
    )
    record_plans: str | None = knob(
        None,
        "dataset folder that keeps, for every replanning, the real episode up to it followed by the whole chosen "
        "plan, rolled out in a copy of the env (robolearn.plan_outcomes): what the plans the planner believed in "
        "really do, for `robolearn train extra_data=[FOLDER] predicted_frames.video_checkpoint=...`; null = keep none",
        any_type=True,  # a folder path or null, checked below
    )
    agent: VMPCConfig = knob(VMPCConfig(), "Receding horizon (planners.vmpc.VMPCConfig).")
    video: PlanVideoOptions = knob(
        PlanVideoOptions(),
        "The video: [real frame | the current plan's predicted frame | reward over time] side by side.",
    )

    def __post_init__(self) -> None:
        check_knobs(self, "")


#: how to train a reward checkpoint of each learned objective (what a missing reward_checkpoint's error suggests)
TRAIN_REWARD = {
    "lorel": "robolearn train data=data/desk out=runs/lorel",
    "dvd": "robolearn train dvd data=[data/videos] out=runs/dvd",
}


def _check_file(key: str, path: str, missing: str) -> None:
    """A ``ConfigError`` unless ``path`` (the value of ``key``) is a file: ``missing`` says what to do when there is
    nothing there; a folder gets the .pt files inside it."""
    folder = Path(path)
    if folder.is_dir():
        inside = sorted(p.name for p in folder.glob("*.pt"))
        example = f" (it holds {', '.join(inside[:4])})" if inside else ""
        raise ConfigError(
            f"{key}={shown(path)} is a folder: give the .pt file inside it, e.g. {key}=DIR/best.pt{example}"
        )
    if not folder.is_file():
        raise ConfigError(f"{key}={shown(path)}: {missing}")


def _agent_config(node: Any) -> VMPCConfig:
    """``planners.vmpc.VMPCConfig`` from the ``agent`` node; every problem a one-line ``ConfigError`` naming ``agent``.

    Parsed apart from the other options because VMPCConfig's own checks name the class, not the key.
    """
    if not isinstance(node, Mapping):
        raise ConfigError(f"agent must be a mapping of receding-horizon options, got {node!r}")
    try:
        return from_mapping(VMPCConfig, node, prefix="agent")
    except (TypeError, ValueError) as e:
        message = re.sub(r"\bVMPCConfig\.", "agent.", one_line(str(e)))  # name the key as typed, not the class
        raise ConfigError(message if message.startswith(("agent", "unknown agent")) else f"agent: {message}") from None


@dataclass(frozen=True)
class VideoSettings:
    """The ``video`` options of a plan (``PlanVideoOptions``), with the path as a ``Path``."""

    path: Path | None
    fps: float
    panel: int
    font_size: int
    hold_final_frames: int


@dataclass(frozen=True)
class PlanSettings:
    """A validated ``conf/plan.yaml``: the options (``PlanOptions``) with the env config built and the paths checked."""

    env: DeskEnvConfig | CounterEnvConfig
    optimizer: Any  # the optimizer's validated config dataclass (planners.optimizers.optimizer_config)
    instruction: str
    task: str
    min_similarity: float
    objective: str
    reward_checkpoint: Path | None
    dynamics: str | tuple[str, ...]  # "oracle", one video-model checkpoint, or several (an ensemble)
    dynamics_samples: int  # ≥ 2: draws of one stochastic model's latent, an ensemble of samples
    oracle_exact: bool
    oracle_chunk: int
    oracle_workers: int  # resolved: ≥ 1
    oracle_rest_speed: float
    episodes: int
    seed: int
    torch_threads: int
    agent: VMPCConfig
    video: VideoSettings
    results: Path | None
    record: Path | None = None  # dataset folder the planned episodes are appended to (None: not kept)
    record_plans: Path | None = None  # dataset folder of every plan's real outcome (robolearn.plan_outcomes)
    episode_start: str = "docked"  # docked | home (see EPISODE_STARTS)
    demo: tuple[str, ...] | None = None  # objective=dvd: the demo videos' specs (robolearn.demo_videos)
    demo_frames: int = 20
    min_demo_score: float = 0.5

    @classmethod
    def from_config(
        cls, cfg: DictConfig | Mapping[str, Any], ignore: Collection[str] = (), demos_given: bool = False
    ) -> PlanSettings:
        """Validate a composed ``plan`` config; every problem is a one-line ``ConfigError``.

        The plan's own keys are ``PlanOptions`` (checked by its knobs); ``env`` and ``optimizer`` come from their
        groups; the rules between keys (checkpoints, objective and dynamics, where an episode starts) follow.

        Args:
            cfg: the composed config (or an equivalent mapping).
            ignore: keys of a command built on plan that are not plan's (``robolearn demo``'s ``supported_tasks``).
            demos_given: the caller passes the demo clips to ``build_agent`` itself (``robolearn bench`` renders
                them per episode), so ``objective=dvd`` does not need ``demo=``.
        """
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        if not isinstance(raw, dict):
            raise ConfigError(f"a plan config must be a mapping, got {raw!r}")
        d = {str(k): v for k, v in raw.items() if k not in ignore}
        missing = [key for key in GROUPS if key not in d]
        if missing:
            raise ConfigError(f"missing plan option(s) {missing}")
        env_node, optimizer_node = d.pop("env"), d.pop("optimizer")
        agent = _agent_config(d.pop("agent", {}))
        try:  # built and checked now, before any model loads (a bad value fails here, not after the models)
            optimizer = optimizer_config(optimizer_node)
        except ValueError as e:
            message = one_line(str(e))
            names = "|".join(cls.config_class.__name__ for cls in OPTIMIZERS.values())
            message = re.sub(rf"\b(?:{names})\.", "optimizer.", message)  # the config names its class: name the key
            raise ConfigError(message if message.startswith("optimizer") else f"optimizer: {message}") from None
        o = parse_options(PlanOptions, d, "plan")

        # The env's kind decides whether and how it can be planned in (robolearn.kinds: PlanSupport).
        kind = env_kind(env_node)
        require(kind, "plan")
        assert kind.plan is not None  # require() checked it
        instruction = check_instruction(o.instruction)
        reward, ckpt = o.objective, o.reward_checkpoint
        if ckpt is not None and not isinstance(ckpt, str):
            raise ConfigError(f"reward_checkpoint={ckpt!r} must be a checkpoint path or null")
        demo = o.demo
        if demo is not None:
            specs = [demo] if isinstance(demo, str) else demo
            if not isinstance(specs, (list, tuple)) or not specs or not all(isinstance(d, str) and d for d in specs):
                raise ConfigError(
                    f"demo={demo!r} must be a video file, a folder, DATASET:ids, a shipped demo's name or a list of them"
                )
            demo = tuple(specs)
            if reward != "dvd":
                raise ConfigError(f"demo= is imitated with the video reward: add objective=dvd (objective is {reward})")
        if reward == "dvd" and demo is None and not demos_given:
            raise ConfigError(
                "objective=dvd scores the episode against demo videos: give demo=VIDEO.mp4 (or a folder, DATASET:ids, "
                "a shipped demo's name)"
            )
        if reward == "dvd" and not ckpt:
            ckpt = str(SHIPPED_DVD)
        if reward == "dvd" and kind.name != "desk":
            raise ConfigError(f"objective=dvd plans at the desk (env=desk); its video reward never saw env={kind.name}")
        if reward == "lorel" and not ckpt:
            raise ConfigError(
                "objective=lorel needs reward_checkpoint=PATH (a .pt from `robolearn train`); "
                "or plan with objective=oracle dynamics_model=oracle"
            )
        if ckpt:
            hint = TRAIN_REWARD.get(reward)
            _check_file("reward_checkpoint", ckpt, f"no such file; train one with `{hint}`" if hint else "no such file")
        dynamics = o.dynamics_model
        if isinstance(dynamics, (list, tuple)):  # several video models: an ensemble
            if len(dynamics) < 2 or not all(isinstance(p, str) and p and p != ORACLE for p in dynamics):
                raise ConfigError(
                    f"dynamics_model={list(dynamics)!r}: an ensemble is a list of at least 2 video-model "
                    "checkpoint paths, e.g. dynamics_model=[runs/a/best.pt,runs/b/best.pt]"
                )
            if len(set(dynamics)) != len(dynamics):
                raise ConfigError("dynamics_model: the ensemble lists a checkpoint twice")
            dynamics = tuple(dynamics)
        elif not isinstance(dynamics, str) or not dynamics:
            raise ConfigError(f"dynamics_model={dynamics!r} must be `oracle` or a video-model checkpoint path")
        for path in (dynamics,) if isinstance(dynamics, str) else dynamics:
            if path != ORACLE:
                _check_file(
                    "dynamics_model", path, "no such checkpoint (or use dynamics_model=oracle for the simulator)"
                )
        if o.dynamics_samples > 1 and (not isinstance(dynamics, str) or dynamics == ORACLE):
            raise ConfigError(
                f"dynamics_samples={o.dynamics_samples} draws samples of one stochastic video model; give "
                "dynamics_model=PATH (one checkpoint trained with dynamics.stochastic=true), or dynamics_samples=1"
            )
        if reward == "oracle" and dynamics != ORACLE:
            raise ConfigError(
                "objective=oracle reads simulator states, which a video model cannot predict: "
                "use dynamics_model=oracle, or a frame-based reward (lorel, goal_image, dvd)"
            )
        if kind.plan.oracle_refused is not None and dynamics == ORACLE:
            raise ConfigError(f"env={kind.name} plans with learned models only: {kind.plan.oracle_refused}")
        start = o.episode_start
        if start == "home" and kind.plan.home_env is None:
            homes = [k.name for k in KINDS.values() if k.plan is not None and k.plan.home_env is not None]
            raise ConfigError(
                f"episode_start=home needs env={' or env='.join(homes)}: the planner's models must have been "
                "trained on the docked robot's head camera"
            )
        for key in ("record", "record_plans"):
            if start == "home" and getattr(o, key) is not None:
                raise ConfigError(
                    f"{key}= keeps episodes in the counter env's dataset format; plan with "
                    "episode_start=docked to record them"
                )
        if start == "home" and reward == "goal_image":
            raise ConfigError(
                "objective=goal_image needs an image of the episode's own scene done, which a home "
                "episode cannot render before it docks; use objective=lorel"
            )
        results, record, record_plans = o.results, o.record, o.record_plans
        if results is not None and (not isinstance(results, str) or not results.strip()):
            raise ConfigError(f"results={results!r} must be a JSON file path (or null for none)")
        for key, folder in (("record", record), ("record_plans", record_plans)):
            _check_record_folder(key, folder)
        if record is not None and record_plans is not None and Path(record).resolve() == Path(record_plans).resolve():
            raise ConfigError(
                f"record and record_plans are the same folder ({record}); give the plans' outcomes a folder of their own"
            )
        video = dataclasses.asdict(o.video)
        path = video.pop("path")
        # The outputs, now: not once the models are loaded and the episodes planned.
        if path:
            check_writable(path, "video.path", suffixes=VIDEO_SUFFIXES)
        if results:
            check_writable(results, "results")
        if record:
            check_writable(record, "record", folder=True)
        if record_plans:
            check_writable(record_plans, "record_plans", folder=True)
        return cls(
            # require() let only kinds with an arm to plan through (the desk's and the counter's configs)
            env=cast("DeskEnvConfig | CounterEnvConfig", env_config(env_node)),
            optimizer=optimizer,
            instruction=instruction,
            task=o.task,
            min_similarity=o.min_similarity,
            objective=reward,
            reward_checkpoint=Path(ckpt) if ckpt else None,
            dynamics=dynamics,
            dynamics_samples=o.dynamics_samples,
            oracle_exact=o.oracle_exact,
            oracle_chunk=o.oracle_chunk,
            oracle_workers=resolve_workers(o.oracle_workers),
            oracle_rest_speed=o.oracle_rest_speed,
            episodes=o.episodes,
            seed=o.seed,
            torch_threads=o.torch_threads,
            agent=agent,
            video=VideoSettings(path=Path(path) if path else None, **video),
            results=Path(results) if results else None,
            record=Path(record) if record else None,
            record_plans=Path(record_plans) if record_plans else None,
            episode_start=start,
            demo=demo,
            demo_frames=o.demo_frames,
            min_demo_score=o.min_demo_score,
        )

    def env_for(self, task: str) -> DeskEnvConfig | CounterEnvConfig:
        """A copy of the env config whose task (initial states, success check) is ``task``.

        The env group's own ``task`` is only a default: the planned task is ``task`` (or, with
        ``task=auto``, the one the instruction resolves to), so every env a plan builds comes from here.
        Its observations always include ``proprio`` (a few joint reads, no rendering) for video models
        that condition on the robot's state; it changes nothing else in the episode.
        """
        env_cfg = copy.deepcopy(self.env)
        env_cfg.task = task
        if "proprio" not in env_cfg.obs_keys:
            env_cfg.obs_keys = (*env_cfg.obs_keys, "proprio")
        return env_cfg


def make_home_env(env_cfg: CounterEnvConfig) -> Any:
    """The home env of ``episode_start=home`` (the counter kind's ``PlanSupport.home_env`` in robolearn.kinds): "open the
    kitchen drawer" in the counter env's homes, seen by its camera (so the planner's models see what they were
    trained on), with the navigation's LiDAR."""
    return HomeEnv(config=home_config_for(env_cfg, obs_keys=tuple(dict.fromkeys(("rgb", "scan", *env_cfg.obs_keys)))))


def goal_image(env_cfg: DeskEnvConfig | CounterEnvConfig, seed: int) -> np.ndarray:
    """uint8 (H, W, 3): the task done from the episode's start, by the scripted expert (the goal-image baseline).

    The expert runs in a separate env reset with the same seed, so the goal shows the same scene and
    initial state as the episode being planned; it stops ``GOAL_SETTLE_STEPS`` after first succeeding.
    """
    env = make_env(env_cfg)
    try:
        obs, _ = env.reset(seed=seed)
        expert = env.make_expert()
        after = None
        for _ in range(env.cfg.max_episode_steps):
            obs, _, _, _, info = env.step(env.expert_action(expert))
            if info["success"] and after is None:
                after = 0
            if after is not None:
                after += 1
                if after > GOAL_SETTLE_STEPS:
                    break
        return obs["rgb"]
    finally:
        env.close()


@dataclass(frozen=True)
class EnvSpaces:
    """What a planner's models must fit in an env kind: its action box and the size of its proprioception."""

    low: np.ndarray
    high: np.ndarray
    proprio_dim: int | None  # None: the kind has no proprioception


#: each kind's spaces, read once per process from an env of the kind (see ``env_spaces``)
_ENV_SPACES: dict[str, EnvSpaces] = {}


def env_spaces(env_cfg: DeskEnvConfig | CounterEnvConfig) -> EnvSpaces:
    """The action box and proprioception size of ``env_cfg``'s kind: an env of the kind (with proprioception
    among its observations) is built once per process to read them."""
    kind = kind_of(env_cfg).name
    if kind not in _ENV_SPACES:
        probe = copy.deepcopy(env_cfg)
        if "proprio" not in probe.obs_keys:
            probe.obs_keys = (*probe.obs_keys, "proprio")
        env = make_env(probe)
        try:
            proprio = env.observation_space.spaces.get("proprio")
            _ENV_SPACES[kind] = EnvSpaces(
                env.action_space.low.copy(),
                env.action_space.high.copy(),
                int(proprio.shape[-1]) if proprio is not None else None,
            )
        finally:
            env.close()
    return _ENV_SPACES[kind]


def action_bounds(env_cfg: DeskEnvConfig | CounterEnvConfig, action_space: Any = None) -> tuple[Any, Any]:
    """(low, high) float32 tensors: the optimizer's action bounds, the env's ``action_space`` box.

    ``action_space``: the box of the env being planned in. Without it (an episode that starts in a home, where
    the planned env is not built), an env of ``env_cfg``'s kind is built once per process to read it.
    """

    if action_space is None:
        spaces = env_spaces(env_cfg)
        low, high = spaces.low, spaces.high
    else:
        low, high = action_space.low, action_space.high
    # copies: the optimizer must not share memory with the env's space
    return torch.tensor(np.asarray(low), dtype=torch.float32), torch.tensor(np.asarray(high), dtype=torch.float32)


def build_agent(
    s: PlanSettings,
    env_cfg: DeskEnvConfig | CounterEnvConfig,
    seed: int,
    reward_model: Any = None,
    video_model: Any = None,
    action_space: Any = None,
    demos: np.ndarray | None = None,
) -> VMPCAgent:
    """The VMPC agent the settings describe (models may be passed in to load them once).

    ``action_space``: the planned env's action box, the optimizer's bounds (``action_bounds``).
    ``demos``: with ``objective=dvd``, the demo clips uint8 (M, T, S, S, 3) (``plan_demos``).
    """
    reward: RewardSource
    if s.objective == "lorel":
        reward = LorelObjective(reward_model, s.instruction)
    elif s.objective == "dvd":
        if demos is None or not isinstance(reward_model, DVDReward):
            raise ConfigError("objective=dvd needs a DVD reward model and the demo clips (robolearn.plan.plan_demos)")
        reward = DVDObjective(reward_model, demos)
    elif s.objective == "goal_image":
        reward = GoalImageObjective(goal_image(env_cfg, seed))
    else:
        reward = OracleStateObjective()
    dynamics: Dynamics
    if s.dynamics == ORACLE:
        dynamics = SimulatorDynamics(
            exact=s.oracle_exact, rest_speed=s.oracle_rest_speed, workers=s.oracle_workers, chunk=s.oracle_chunk
        )
    elif isinstance(video_model, list):
        dynamics = EnsembleDynamics([VideoModelDynamics(m) for m in video_model])
    else:  # with dynamics_samples > 1, draws of one stochastic model's latent, combined as an ensemble's members
        seeds = range(s.dynamics_samples) if s.dynamics_samples > 1 else ()
        dynamics = VideoModelDynamics(video_model, sample_seeds=seeds)
    # The optimizer searches the env's own action box (the same [-1, 1]^4 for the desk and the counter).
    low, high = action_bounds(env_cfg, action_space)
    optimizer = make_optimizer(s.optimizer, low, high, s.agent.horizon, seed=seed)
    # The plans' predicted frames are only ever shown in the video: without one, skip their extra rollout.
    agent_cfg = dataclasses.replace(s.agent, record_predictions=s.agent.record_predictions and s.video.path is not None)
    return VMPCAgent(dynamics, reward, optimizer, agent_cfg)


def load_models(s: PlanSettings) -> tuple[Any, Any]:
    """(reward model or None, video model, a list of them for an ensemble, or None): the checkpoints the
    settings name, loaded once."""
    reward_model = video_model = None
    if s.reward_checkpoint is not None:
        reward_model = load_dvd_model(s.reward_checkpoint) if s.objective == "dvd" else load_model(s.reward_checkpoint)
    if s.dynamics != ORACLE:
        video_model = (
            load_video_model(s.dynamics) if isinstance(s.dynamics, str) else [load_video_model(p) for p in s.dynamics]
        )
    return reward_model, video_model


def check_model(key: str, path: object, config: Any, env_cfg: DeskEnvConfig | CounterEnvConfig) -> None:
    """Fail in one line when a model (its ``config``) does not fit the env it acts in.

    Every model takes ``image_size`` × ``image_size`` frames of ``channels`` (the env's RGB camera); one with an
    ``action_dim`` (a video model is driven by the env's actions, a policy outputs them) must have the env's; one
    with ``proprio_dim`` > 0 conditions on the robot's proprioception, which must have the env's size.

    Args:
        key: the option that named the checkpoint (``dynamics_model``), and ``path`` its value, for the message.

    Raises:
        ConfigError: naming the checkpoint, both values and the fix.
    """
    path = shown(str(path))
    kind = kind_of(env_cfg).name
    side = getattr(config, "image_size", None)
    if isinstance(side, int) and (env_cfg.width, env_cfg.height) != (side, side):
        raise ConfigError(
            f"{key}={path} takes {side}x{side} images but the env renders {env_cfg.width}x{env_cfg.height}: "
            f"set env.width={side} env.height={side}, or give a {key} trained on "
            f"{env_cfg.width}x{env_cfg.height} frames"
        )
    channels = getattr(config, "channels", None)
    if isinstance(channels, int) and channels != RGB_CHANNELS:
        raise ConfigError(
            f"{key}={path} takes {channels}-channel images but it is given the env's RGB frames "
            f"({RGB_CHANNELS} channels): give a {key} trained on RGB frames"
        )
    action_dim, proprio = getattr(config, "action_dim", None), getattr(config, "proprio_dim", None)
    if not isinstance(action_dim, int) and not (isinstance(proprio, int) and proprio):
        return
    spaces = env_spaces(env_cfg)
    env_actions = int(np.prod(spaces.low.shape))
    if isinstance(action_dim, int) and action_dim != env_actions:
        raise ConfigError(
            f"{key}={path} has {action_dim}-D actions but env={kind}'s are {env_actions}-D: give a {key} "
            f"trained on env={kind} data"
        )
    if isinstance(proprio, int) and proprio and proprio != spaces.proprio_dim:
        has = f"{spaces.proprio_dim}-D" if spaces.proprio_dim else "no"
        raise ConfigError(
            f"{key}={path} conditions on {proprio}-D proprioception but env={kind} has {has} proprioception "
            f"(was it trained in another env?): use it in the env it was trained in, or give a {key} trained "
            f"on env={kind} data"
        )


def check_models(s: PlanSettings, env_cfg: DeskEnvConfig | CounterEnvConfig, models: tuple[Any, Any]) -> None:
    """Fail before the first episode when a checkpoint does not fit the env it plans in (``check_model``), and so
    the other model: the reward scores the frames the video model predicts, at the env's image size.

    Without this check a mismatch surfaces mid-episode, inside the first optimisation, as a tensor-shape error.

    Raises:
        ConfigError: one line naming the checkpoint, both values and the fix.
    """
    reward_model, video_model = models
    video_models = video_model if isinstance(video_model, list) else [video_model]
    paths = s.dynamics if isinstance(s.dynamics, tuple) else (s.dynamics,)
    named = [("reward_checkpoint", str(s.reward_checkpoint), reward_model)]
    named += [("dynamics_model", path, model) for path, model in zip(paths, video_models, strict=False)]
    for key, path, model in named:
        config = getattr(model, "config", None)
        if config is not None:
            check_model(key, path, config, env_cfg)
    if s.dynamics_samples > 1 and not getattr(getattr(video_model, "config", None), "stochastic", False):
        raise ConfigError(
            f"dynamics_samples={s.dynamics_samples}: dynamics_model={shown(str(s.dynamics))} is deterministic (every "
            "draw would be the same); give a model trained with dynamics.stochastic=true, or dynamics_samples=1"
        )


def plan_demos(s: PlanSettings, model: DVDReward, echo: bool = True) -> tuple[DemoVideos, Resolution]:
    """The demo videos of ``demo=`` and the task they show: ``task=`` when given, else their labels' task, else the
    one the video reward recognises against the shipped demo videos (``robolearn.demo_videos``).

    Raises:
        robolearn.demo_videos.DemoError: a demo cannot be read, or they show different tasks.
        robolearn.demo_videos.UnrecognizedDemoError: unlabelled demos that match no task closely enough.
    """
    if s.demo is None:
        raise ConfigError("objective=dvd needs demo=VIDEO (a video file, a folder, DATASET:ids or a shipped demo)")
    demos = load_demo_videos(s.demo, s.demo_frames, model.config.image_size)
    if s.task != "auto":
        if echo and demos.task is not None and demos.task != s.task:
            print(f"note: the demos are labelled {demos.task}; planning task={s.task} as asked")
        return demos, Resolution(s.task, 1.0, None)
    if demos.task is not None:
        if echo:
            print(f"{demos.describe()} → task {demos.task} (their label)")
        return demos, Resolution(demos.task, 1.0, None)
    size = model.config.image_size
    recognition = recognize_task(model, demos.clips, reference_clips(s.demo_frames, size), s.min_demo_score)
    if echo:
        runner_up = recognition.scores[1] if len(recognition.scores) > 1 else None
        print(
            f"{demos.describe()} → task {recognition.task} (recognised: P(same task) {recognition.score:.2f} with the "
            f"shipped demos of it"
            + (f"; next {runner_up[0]} {runner_up[1]:.2f}" if runner_up else "")
            + "; task=NAME overrides)"
        )
    return demos, Resolution(recognition.task, recognition.score, None)


def _check_record_folder(key: str, folder: object) -> None:
    """``record`` / ``record_plans``: null, or a dataset folder (new, or a readable one that episodes are added to)."""
    if folder is None:
        return
    if not isinstance(folder, str) or not folder.strip():
        raise ConfigError(f"{key}={folder!r} must be a dataset folder path (or null to keep no episodes)")
    if Path(folder).exists() and not Path(folder).is_dir():
        raise ConfigError(f"{key}={folder!r} is a file; give a dataset folder (new, or one written by {key}=)")
    if (Path(folder) / META_FILE).exists():
        try:  # episodes are added to it: a damaged one is refused now, not after the first episode
            read_meta(folder)
        except DatasetError as e:
            raise ConfigError(f"{key}={shown(folder)}: {e}") from None


@dataclass
class EpisodeRecording:
    """What ``record=`` and ``record_plans=`` keep of each planned episode: ``recorder`` records it (pass it to
    ``run_episode``; None when nothing is kept), ``write`` stores it and, with ``record_plans``, its plans' outcomes."""

    episodes: PlannedEpisodeWriter | None
    plans: PlanOutcomes | None
    recorder: EpisodeRecorder | None

    def open(self, env: Any) -> None:
        """Create (or check) the datasets for ``env``, before worker processes append to them."""
        if self.episodes is not None:
            self.episodes.open(env)
        if self.plans is not None:
            self.plans.writer.open(env)

    def write(self, env: Any, plans: Sequence[PlanRecord], task: str, seed: int) -> None:
        """Keep the episode just planned (``plans``: its ``EpisodeRecord.plans``)."""
        if self.recorder is None:
            return
        if self.episodes is not None:
            self.episodes.write(env, self.recorder, task, seed)
        if self.plans is not None:
            self.plans.write(env, self.recorder, plans, task, seed)

    def close(self) -> None:
        if self.plans is not None:
            self.plans.close()


def episode_recording(s: PlanSettings) -> EpisodeRecording:
    """What ``record=`` and ``record_plans=`` ask to keep (nothing when both are null)."""
    episodes = PlannedEpisodeWriter(s.record, AnnotationSettings()) if s.record is not None else None
    plans = PlanOutcomes(s.record_plans, AnnotationSettings()) if s.record_plans is not None else None
    recorder = EpisodeRecorder(keep_env_states=plans is not None) if episodes or plans else None
    return EpisodeRecording(episodes, plans, recorder)


def _curve_panel(rewards: list[float], total: int, side: int, font_size: int, lo: float, hi: float) -> np.ndarray:
    """A reward-over-time plot (uint8 side×side×3): the rewards so far, x over ``total`` steps."""
    img = Image.new("RGB", (side, side), _CURVE_BG)
    draw = ImageDraw.Draw(img)
    m = int(_CURVE_MARGIN * side)
    x0, y0, x1, y1 = m, m + font_size, side - m // 2, side - m
    draw.line([(x0, y1), (x1, y1)], fill=_CURVE_AXIS)
    draw.line([(x0, y0), (x0, y1)], fill=_CURVE_AXIS)
    font = load_font(font_size)
    draw.text((x0, 2), "reward", font=font, fill=(40, 40, 40))
    draw.text((2, y0 - font_size // 2), f"{hi:.1f}", font=font, fill=_CURVE_AXIS)
    draw.text((2, y1 - font_size // 2), f"{lo:.1f}", font=font, fill=_CURVE_AXIS)
    span = max(hi - lo, 1e-6)
    pts = [(x0 + (x1 - x0) * t / max(total, 1), y1 - (y1 - y0) * (r - lo) / span) for t, r in enumerate(rewards)]
    if len(pts) > 1:
        draw.line(pts, fill=_CURVE_LINE, width=max(1, side // 128))
    if pts:
        x, y = pts[-1]
        r = max(2, side // 64)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=_CURVE_NOW)
    return np.asarray(img)


def _upscale(frame: np.ndarray, side: int) -> np.ndarray:
    return np.asarray(Image.fromarray(frame).resize((side, side), Image.Resampling.NEAREST))


def compose_frame(
    real: np.ndarray,
    predicted: np.ndarray | None,
    rewards: list[float],
    total: int,
    s: VideoSettings,
    caption: Caption,
    bounds: tuple[float, float],
) -> np.ndarray:
    """One video frame: [real | predicted (or grey) | reward curve], with the caption over the real panel."""
    side = s.panel
    left = caption_frame(_upscale(real, side), caption, s.font_size)
    if predicted is None:
        mid = np.full((side, side, 3), 128, np.uint8)
    else:
        mid = caption_frame(_upscale(predicted, side), Caption("predicted"), s.font_size)
    right = _curve_panel(rewards, total, side, s.font_size, *bounds)
    return np.concatenate([left, mid, right], axis=1)


def _predicted_frame(record: EpisodeRecord, t: int) -> np.ndarray | None:
    """What the latest plan made before step t predicted for frame t (uint8 HWC), if any."""
    plans = [p for p in record.plans if p.step < t and p.frames is not None]
    if not plans:
        return None
    plan = plans[-1]
    frames = plan.frames
    if frames is None:  # unreachable: ``plans`` keeps only plans with frames
        raise RuntimeError(f"the plan made at step {plan.step} recorded no predicted frames")
    k = t - plan.step - 1
    if k >= len(frames):
        return None
    return (np.clip(frames[k], 0, 1).transpose(1, 2, 0) * 255).round().astype(np.uint8)


def run_plan(
    cfg: DictConfig | PlanSettings,
    echo: bool = True,
    models: tuple[Any, Any] | None = None,
    resolution: Resolution | None = None,
    demos: DemoVideos | None = None,
) -> list[dict[str, Any]]:
    """Run ``episodes`` planned episodes; write the video and results. Returns per-episode summaries.

    ``models``: the settings' (reward model, video model) if the caller loaded them already (``load_models``).
    ``resolution``: the task the instruction was resolved to, if the caller resolved it already
    (``robolearn.instructions.resolve_instruction``, e.g. ``robolearn demo``); None = resolve it here, the same way.
    ``demos``: with ``objective=dvd``, the demo videos if the caller read them already (``plan_demos``, with
    ``resolution`` their task); None = read them here.

    Raises:
        sim.plumbing.files.OutputError: an output cannot be written (checked before the models load, and when a
            write fails, e.g. on a full disk): one line naming the file, its option and the fix.
    """
    s = cfg if isinstance(cfg, PlanSettings) else PlanSettings.from_config(cfg)
    with output_keys({"video.path": s.video.path, "results": s.results, "record": s.record}):
        return _run_plan(s, echo, models, resolution, demos)


def _run_plan(
    s: PlanSettings,
    echo: bool,
    models: tuple[Any, Any] | None,
    resolution: Resolution | None,
    demos: DemoVideos | None,
) -> list[dict[str, Any]]:
    torch.set_num_threads(s.torch_threads)
    reward_model, video_model = models if models is not None else load_models(s)
    check_models(s, s.env, (reward_model, video_model))  # before anything runs: the models fit the env, each other
    tasks = env_tasks(s.env)
    if s.objective == "dvd" and (demos is None or resolution is None):
        if not isinstance(reward_model, DVDReward):
            raise ConfigError(
                f"reward_checkpoint={shown(str(s.reward_checkpoint))} is not a DVD reward (objective=dvd)"
            )
        demos, resolution = plan_demos(s, reward_model, echo)
    if resolution is None:
        resolution = resolve_instruction(
            s.instruction,
            s.task,
            tasks=sorted(tasks),
            text_encoder=reward_model.text if reward_model is not None else None,
            min_similarity=s.min_similarity,
        )
        if echo and resolution.by_matching:
            print(resolution.describe(s.instruction))
    task = resolution.task
    if task not in tasks:
        raise ConfigError(f"task={task!r} is not a task of this env; choose auto or one of {sorted(tasks)}")
    home = s.episode_start == "home"
    if home and task != "open_drawer":
        raise ConfigError(f'episode_start=home plans "open the kitchen drawer" (the homes\' drawer task), not {task}')
    env_cfg = s.env_for(task)
    home_env = kind_of(env_cfg).plan.home_env if home else None  # type: ignore[union-attr] # from_config checked it
    env = load(home_env)(env_cfg) if home_env is not None else make_env(env_cfg)
    writer = VideoWriter(s.video.path, s.video.fps) if s.video.path is not None else None
    recording = episode_recording(s)
    results = []
    try:
        for i in range(s.episodes):
            seed = s.seed + i
            # docked: the optimizer's bounds are the planned env's box; from a home, the counter kind's (read once)
            agent = build_agent(
                s,
                env_cfg,
                seed,
                reward_model,
                video_model,
                None if home else env.action_space,
                demos.clips if demos is not None else None,
            )
            stats: dict[str, Any] = {}
            if home:  # the drawer baseline drives and docks, then the VMPC agent takes the arm
                if not isinstance(env_cfg, CounterEnvConfig):  # unreachable: only the counter kind plans from a home
                    raise ConfigError(f"episode_start=home needs the counter env, not {type(env_cfg).__name__}")
                planned = PlannedDrawerAgent(agent, env_cfg.start_tcp, env_cfg.max_episode_steps)
                rec, stats = run_planned_home_episode(env, planned, seed=seed)
            else:
                rec = run_episode(env, agent, seed=seed, recorder=recording.recorder)
                recording.write(env, rec.plans, task, seed)
            command = {"demo": list(demos.names)} if demos is not None else {"instruction": s.instruction}
            summary = {"episode": i, "seed": seed, "task": task, **command, **rec.summary(), **stats}
            results.append(summary)
            if echo:
                mark = "SUCCESS" if rec.success else "failed"
                print(
                    f"episode {i + 1}/{s.episodes} (seed {seed}): {mark} (final-step; any-step "
                    f"{'yes' if rec.success_any else 'no'}), progress {rec.progress:+.3f}, "
                    f"{len(rec.plans)} plans, {summary['mean_plan_seconds']:.2f} s per plan, {rec.seconds:.1f} s"
                    + (f"; docked and handed over at step {stats['handover_step']}" if home else "")
                )
            if writer is not None:
                _write_episode(writer, rec, s, task, i, demos)
        if echo and s.episodes > 1:
            wins = sum(r["success"] for r in results)
            lo, hi = wilson(wins, len(results))
            print(
                f"success {wins}/{len(results)} = {100 * wins / len(results):.1f}% "
                f"[{100 * lo:.0f}, {100 * hi:.0f}] (95% Wilson interval)"
            )
        if writer is not None:
            path = writer.close()
            if echo:
                print(f"video: {path}")
        if recording.episodes is not None and echo:
            print(
                f"episodes recorded in {s.record} (train the reward on them: robolearn train "
                f"extra_data=[{s.record}] negatives.attempted=0.2; the video model: robolearn train dynamics "
                f"extra_data=[{s.record}])"
            )
        if recording.plans is not None and echo:
            print(
                f"every plan's real outcome recorded in {s.record_plans} (train the reward on the predictions it "
                f"was fooled by: robolearn train extra_data=[{s.record_plans}] predicted_frames.video_checkpoint="
                "VIDEO.pt negatives.attempted=0.2)"
            )
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        recording.close()
        env.close()
    if s.results is not None:
        write_json_atomic(
            s.results,
            {
                "settings": {
                    **({"demo": list(demos.names)} if demos is not None else {"instruction": s.instruction}),
                    "task": task,
                    "objective": s.objective,
                    "dynamics": s.dynamics,
                    "episode_start": s.episode_start,
                },
                "episodes": results,
            },
        )
    return results


def _write_episode(
    writer: VideoWriter, rec: EpisodeRecord, s: PlanSettings, task: str, episode: int, demos: DemoVideos | None
) -> None:
    total = len(rec.frames) - 1
    lo, hi = min(rec.rewards + [0.0]), max(rec.rewards + [1.0])
    # a demo-commanded episode is captioned with the task its demos were resolved to
    command = f"imitate the video ({task})" if demos is not None else s.instruction
    for t, frame in enumerate(rec.frames):
        final = t == total
        caption = Caption(command, f"ep {episode + 1} step {t}/{total}", rec.success if final else None, final)
        image = compose_frame(frame, _predicted_frame(rec, t), rec.rewards[: t + 1], total, s.video, caption, (lo, hi))
        for _ in range(1 + (s.video.hold_final_frames if final else 0)):
            writer.append(image)
