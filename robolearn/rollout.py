"""Roll out a scripted expert or a random policy in an environment, with a captioned video.

The env node's declared ``kind`` (``robolearn.kinds``) picks how: ``run_arm_rollout`` here for the desk and the counter,
``robolearn.home_rollout`` for the homes.

From Python:
    >>> from robolearn.config import compose_config
    >>> from robolearn.rollout import run_rollout
    >>> cfg = compose_config("rollout", ["env.task=close_drawer", "episodes=2", "video.path=null"])
    >>> results = run_rollout(cfg, echo=False)  # doctest: +SKIP
    >>> [r["success_any"] for r in results]  # doctest: +SKIP
    [True, True]

The command line is ``robolearn rollout [overrides...]`` (see ``robolearn.cli``); the options
are declared by ``RolloutOptions`` (``conf/rollout.yaml`` is generated from it) and ``conf/env/desk.yaml``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from planners.navigation_config import check_doorways
from robolearn.conf_files import parse_options
from robolearn.config import ConfigError, env_config, make_env, manipulation_agent_config, nav_agent_config
from robolearn.kinds import kind_of, load
from robolearn.video import Caption, VideoWriter, caption_frame
from sim.envs.counter import CounterEnv
from sim.home_config import HomeEnvConfig
from sim.observations import Camera
from sim.plumbing.files import check_writable, output_keys
from sim.plumbing.settings import check_knobs, knob
from sim.tasks.catalogue import check_home_task

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet
    from sim.config import DeskEnvConfig
    from sim.counter_config import CounterEnvConfig
    from sim.envs.counter import CounterEnv
    from sim.envs.desk import DeskEnv
    from sim.envs.home import HomeEnv

#: the policies ``policy=`` accepts
POLICIES = ("expert", "random")
#: accepted video frame sizes (pixels), the same range as the simulator's observation images
VIDEO_SIZE_RANGE = (16, 1024)
#: the composed config groups of ``conf/rollout.yaml``, built by their own factories (not rollout options)
GROUPS = ("env", "nav_agent", "manipulation_agent")
#: video file suffixes the writer knows
VIDEO_SUFFIXES = (".mp4", ".gif")


def check_video_path(path: Any) -> None:
    """A ``ConfigError`` unless ``video.path`` is null or a file name ending in .mp4 or .gif."""
    if path is None:
        return
    if not isinstance(path, str) or not path:
        raise ConfigError(f"video.path={path!r} must be a file name or null")
    if Path(path).suffix.lower() not in VIDEO_SUFFIXES:
        raise ConfigError(f"video.path={path!r} must end with .mp4 or .gif (or be null for no video)")


@dataclass
class RolloutVideoOptions:
    """The video of the rollout (rendered by the env's main camera at its own resolution)."""

    path: str | None = knob(
        "outputs/rollout/${env.task}-${policy}.mp4",
        "video file (.mp4 or .gif), all episodes in a row; null = no video",
        any_type=True,  # a file name or null, checked below
    )
    fps: float = knob(
        12.0,
        "frames per second; 12 plays in real time (one env step = 1/12 s of simulated time by default)",
        lo=0,
        lo_open=True,
    )
    width: int = knob(
        256,
        "video frame width (pixels), independent of the observation size env.width",
        lo=VIDEO_SIZE_RANGE[0],
        hi=VIDEO_SIZE_RANGE[1],
    )
    height: int = knob(
        256,
        "video frame height (pixels), independent of the observation size env.height",
        lo=VIDEO_SIZE_RANGE[0],
        hi=VIDEO_SIZE_RANGE[1],
    )
    caption: bool = knob(True, "draw the instruction, the step and a success marker on every frame")
    font_size: int = knob(14, "caption text height (pixels)", lo=1)
    hold_final_frames: int = knob(
        6, "repeat each episode's last frame this many times so the outcome can be seen (frames)", lo=0
    )

    def __post_init__(self) -> None:
        check_knobs(self, "video")
        check_video_path(self.path)


@dataclass
class RolloutOptions:
    """The options of ``robolearn rollout`` (``conf/rollout.yaml`` is generated from this class)."""

    policy: str = knob(
        "expert",
        "who acts: expert (the desk task's scripted expert; in homes the task's baseline agent) | random (uniform "
        "actions)",
        choices=POLICIES,
    )
    episodes: int = knob(1, "number of episodes to run (count)", lo=1)
    seed: int = knob(
        0, "seed of episode 0; episode i resets with seed + i, the random policy draws from the same seed", lo=0
    )
    progress_bar: bool = knob(True, "show a progress bar when running more than one episode")
    video: RolloutVideoOptions = knob(
        RolloutVideoOptions(), "The video of the rollout (rendered by the env's main camera at its own resolution)."
    )

    def __post_init__(self) -> None:
        check_knobs(self, "")


@dataclass(frozen=True)
class VideoSettings:
    """The ``video`` options of a rollout (``RolloutVideoOptions``), with the path as a ``Path``."""

    path: Path | None
    fps: float
    width: int
    height: int
    caption: bool
    font_size: int
    hold_final_frames: int


@dataclass(frozen=True)
class RolloutSettings:
    """A validated ``conf/rollout.yaml``: the job options (``RolloutOptions``) plus the composed group configs."""

    env: DeskEnvConfig | HomeEnvConfig | CounterEnvConfig  # env=home / env=counter give those environments' configs
    policy: str
    episodes: int
    seed: int
    progress_bar: bool
    video: VideoSettings
    nav_agent: dict[str, Any] = field(default_factory=dict)  # env=home experts: NavAgentConfig values
    manipulation_agent: dict[str, Any] = field(default_factory=dict)  # and ManipulationAgentConfig values

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> RolloutSettings:
        """Validate a composed config (``compose_config("rollout", ...)``) or an equivalent mapping.

        The rollout's own keys are ``RolloutOptions`` (checked by its knobs); ``env``, ``nav_agent`` and
        ``manipulation_agent`` are built by their groups' factories.

        Raises:
            ConfigError: a missing, unknown or invalid option, with a one-line message.
        """
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        if not isinstance(raw, dict):
            raise ConfigError(f"a rollout config must be a mapping, got {raw!r}")
        data: dict[str, Any] = {str(k): v for k, v in raw.items()}
        if "env" not in data:
            raise ConfigError("missing rollout option(s) ['env']")
        groups = {key: data.pop(key, {}) for key in GROUPS}
        options = parse_options(RolloutOptions, data, "rollout")
        nav_agent, manipulation_agent = groups["nav_agent"], groups["manipulation_agent"]
        for key, node in (("nav_agent", nav_agent), ("manipulation_agent", manipulation_agent)):
            if not isinstance(node, Mapping):
                raise ConfigError(f"{key} must be a mapping of agent options, got {node!r}")
        nav = nav_agent_config(nav_agent)  # validated now, before anything is simulated
        manipulation = manipulation_agent_config(manipulation_agent)
        env = env_config(groups["env"])
        if isinstance(env, HomeEnvConfig):  # the home agents plan on the map inflated by the base and the clearance
            extra = manipulation.arm_clearance if check_home_task(env.task).needs_arm else 0.0
            try:
                check_doorways(nav, env.base.radius, extra)
            except ValueError as e:
                raise ConfigError(str(e)) from None
        video = dataclasses.asdict(options.video)
        path = video.pop("path")
        if path is not None:  # now, not once the episodes have run
            check_writable(path, "video.path", suffixes=VIDEO_SUFFIXES)
        return cls(
            env=env,
            policy=options.policy,
            episodes=options.episodes,
            seed=options.seed,
            progress_bar=options.progress_bar,
            video=VideoSettings(path=Path(path) if path is not None else None, **video),
            nav_agent=dict(nav_agent),
            manipulation_agent=dict(manipulation_agent),
        )


class _VideoCamera:
    """Renders the env's main camera at the video resolution, independent of the observation size.

    The pose is copied from the env's first camera before every frame, so per-episode camera
    randomization and the ``new_viewpoint`` variant show in the video as the policy sees them.
    """

    def __init__(self, env: DeskEnv | CounterEnv, width: int, height: int):
        self.env = env
        # The counter env sees through its home env's head camera; the desk env through its first camera.
        self.home: HomeEnv | None
        self.desk: DeskEnv | None
        if isinstance(env, CounterEnv):
            self.home, self.desk = env.home_env, None
            source = self.home.camera
        else:
            self.home, self.desk = None, env
            source = env.cameras[0]
        self.camera = Camera(source.cfg, width, height)

    def render(self) -> np.ndarray:
        if self.home is not None:
            eye, target = self.home.aim_camera()
            self.camera.set_pose(eye, target, self.home.cfg.base.camera_fov)
            return self.camera.render(self.home.client, self.home.light, False)[0]
        desk = self.desk
        if desk is None:  # unreachable: __init__ sets one of home and desk
            raise RuntimeError("the video camera has neither a home env nor a desk env")
        main = desk.cameras[0]
        self.camera.set_pose(main.eye, main.target, main.fov)
        rgb, _, _ = self.camera.render(desk.client, desk.scene_params.light, False)
        return rgb


class _FrameRecorder:
    """Renders, captions and writes a rollout's video frames; does nothing when there is no video."""

    def __init__(self, env: DeskEnv | CounterEnv, settings: RolloutSettings, writer: VideoWriter | None):
        self.settings = settings
        self.writer = writer
        self.camera = _VideoCamera(env, settings.video.width, settings.video.height) if writer else None
        self.instruction = env.task.description.instruction()

    def record(self, episode: int, step: int, success: bool | None, final: bool = False) -> int:
        """Write the current state as the frame of ``step``; returns how many frames were written."""
        if self.writer is None or self.camera is None:
            return 0
        vs, n_episodes = self.settings.video, self.settings.episodes
        frame = self.camera.render()
        if vs.caption:
            detail = f"step {step}/{self.settings.env.max_episode_steps}"
            if n_episodes > 1:
                detail = f"ep {episode + 1}/{n_episodes}  {detail}"
            frame = caption_frame(frame, Caption(self.instruction, detail, success, final), vs.font_size)
        copies = 1 + (vs.hold_final_frames if final else 0)
        for _ in range(copies):
            self.writer.append(frame)
        return copies


def _episode_line(r: dict[str, Any], episodes: int) -> str:
    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    return (
        f"episode {r['episode'] + 1}/{episodes} (seed {r['seed']}): success any-step {yes(r['success_any'])}, "
        f"final-step {yes(r['success_final'])}; {r['steps']} steps, return {r['return']:.2f}, "
        f"progress {round(r['progress'], 3) + 0.0:+.3f}"
    )


def run_rollout(cfg: DictConfig | Mapping[str, Any] | RolloutSettings, *, echo: bool = True) -> list[dict[str, Any]]:
    """Run ``cfg.episodes`` episodes of ``cfg.policy`` on ``cfg.env.task``; write the video if asked.

    Episode ``i`` resets with seed ``cfg.seed + i``; the random policy's action sampler is
    seeded with ``cfg.seed`` once, so a run is reproducible as a whole. All episodes go into
    one video, one after another, each followed by ``video.hold_final_frames`` copies of its
    last frame.

    Args:
        cfg: a composed ``rollout`` config, an equivalent mapping, or validated settings.
        echo: print one line per episode (and a progress bar for several episodes).

    Returns:
        One dict per episode: ``episode`` (0-based), ``seed``, ``task``, ``instruction``,
        ``policy``, ``steps``, ``return``, ``success_any`` (achieved at any step, LOReL's
        criterion), ``success_final`` (achieved at the last step), ``progress`` (final signed
        change toward the goal, m or rad), ``video`` (path written, or None) and ``frames``
        (video frames of this episode).

    Raises:
        ConfigError: invalid options (before anything is simulated).
        sim.plumbing.files.OutputError: the video cannot be written (checked before anything is simulated, and
            when writing it fails, e.g. on a full disk): one line naming it, ``video.path`` and the fix.
    """
    settings = cfg if isinstance(cfg, RolloutSettings) else RolloutSettings.from_config(cfg)
    # How episodes run is the env kind's (robolearn.kinds): the arm's scripted expert here, the homes' baseline agents
    # with a top-down map in robolearn.home_rollout.
    runner: Callable[..., list[dict[str, Any]]] = load(kind_of(settings.env).rollout)
    with output_keys({"video.path": settings.video.path}):
        return runner(settings, echo=echo)


def run_arm_rollout(settings: RolloutSettings, *, echo: bool = True) -> list[dict[str, Any]]:
    """Episodes of ``settings.policy`` in an arm env (the desk, the counter): the kind's scripted expert or random
    actions, with the main camera's captioned video; see ``run_rollout``."""
    vs = settings.video
    results: list[dict[str, Any]] = []
    env = make_env(settings.env)
    writer: VideoWriter | None = None
    try:
        writer = VideoWriter(vs.path, vs.fps) if vs.path is not None else None
        frames = _FrameRecorder(env, settings, writer)
        instruction = env.task.description.instruction()
        env.action_space.seed(settings.seed)
        show_bar = echo and settings.progress_bar and settings.episodes > 1
        bar = tqdm(
            range(settings.episodes),
            desc=f"{settings.policy} on {env.task.name}",
            unit="episode",
            disable=not show_bar,
            file=sys.stderr,
        )
        for i in bar:
            seed = settings.seed + i
            _, info = env.reset(seed=seed)
            expert = env.make_expert() if settings.policy == "expert" else None
            written = frames.record(i, 0, None)  # the start state: nothing has been attempted yet
            total, steps, done = 0.0, 0, False
            while not done:
                action = env.expert_action(expert) if expert is not None else env.action_space.sample()
                _, reward, terminated, truncated, info = env.step(action)
                total += reward
                steps += 1
                done = terminated or truncated
                written += frames.record(i, steps, bool(info["success"]), final=done)
            result = {
                "episode": i,
                "seed": seed,
                "task": env.task.name,
                "instruction": instruction,
                "policy": settings.policy,
                "steps": steps,
                "return": total,
                "success_any": bool(info["success_any"]),
                "success_final": bool(info["success"]),
                "progress": float(info["progress"]),
                "video": str(vs.path) if vs.path is not None else None,
                "frames": written,
            }
            results.append(result)
            if echo:
                tqdm.write(_episode_line(result, settings.episodes), file=sys.stdout)
        if writer is not None:
            writer.close()
    except BaseException:
        if writer is not None:
            writer.abort()  # keep whatever video was at the path before; drop the partial one
        raise
    finally:
        env.close()
    return results


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Success counts and rates over episodes (any-step and final-step criteria)."""
    n = len(results)
    any_ok = sum(r["success_any"] for r in results)
    final_ok = sum(r["success_final"] for r in results)
    return {
        "episodes": n,
        "success_any": any_ok,
        "success_final": final_ok,
        "success_any_rate": any_ok / n if n else 0.0,
        "success_final_rate": final_ok / n if n else 0.0,
    }
