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
are documented in ``conf/rollout.yaml`` and ``conf/env/desk.yaml``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from robolearn.config import ConfigError, env_config, make_env, manipulation_agent_config, nav_agent_config
from robolearn.video import Caption, VideoWriter, caption_frame

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet
    from sim.config import DeskEnvConfig
    from sim.counter_config import CounterEnvConfig
    from sim.envs.counter import CounterEnv
    from sim.envs.desk import DeskEnv
    from sim.home_config import HomeEnvConfig

#: the policies ``policy=`` accepts
POLICIES = ("expert", "random")
#: accepted video frame sizes (pixels), the same range as the simulator's observation images
VIDEO_SIZE_RANGE = (16, 1024)


@dataclass(frozen=True)
class VideoSettings:
    """The ``video`` node of ``conf/rollout.yaml`` (see there for each field)."""

    path: Path | None
    fps: float
    width: int
    height: int
    caption: bool
    font_size: int
    hold_final_frames: int


@dataclass(frozen=True)
class RolloutSettings:
    """A validated ``conf/rollout.yaml``: the job options plus the environment config."""

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

        Raises:
            ConfigError: a missing, unknown or invalid option, with a one-line message.
        """
        raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        if not isinstance(raw, dict):
            raise ConfigError(f"a rollout config must be a mapping, got {raw!r}")
        data: dict[str, Any] = {str(k): v for k, v in raw.items()}
        data.setdefault("nav_agent", {})
        data.setdefault("manipulation_agent", {})
        _check_keys(
            "rollout",
            data,
            {"env", "policy", "episodes", "seed", "progress_bar", "video", "nav_agent", "manipulation_agent"},
        )
        nav_agent, manipulation_agent = data["nav_agent"], data["manipulation_agent"]
        for key, node in (("nav_agent", nav_agent), ("manipulation_agent", manipulation_agent)):
            if not isinstance(node, Mapping):
                raise ConfigError(f"{key} must be a mapping of agent options, got {node!r}")
        nav_agent_config(nav_agent)  # validated now, before anything is simulated
        manipulation_agent_config(manipulation_agent)
        video = data["video"]
        if not isinstance(video, Mapping):
            raise ConfigError(f"video must be a mapping of video options, got {video!r}")
        _check_keys("video", video, {"path", "fps", "width", "height", "caption", "font_size", "hold_final_frames"})

        policy = data["policy"]
        if policy not in POLICIES:
            raise ConfigError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
        path = video["path"]
        if path is not None:
            if not isinstance(path, str) or not path:
                raise ConfigError(f"video.path={path!r} must be a file name or null")
            if Path(path).suffix.lower() not in (".mp4", ".gif"):
                raise ConfigError(f"video.path={path!r} must end with .mp4 or .gif (or be null for no video)")
        fps = video["fps"]
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
            raise ConfigError(f"video.fps={fps!r} must be a positive number")
        lo, hi = VIDEO_SIZE_RANGE
        return cls(
            env=env_config(data["env"]),
            policy=policy,
            episodes=_integer("episodes", data["episodes"], 1),
            seed=_integer("seed", data["seed"], 0),
            progress_bar=_boolean("progress_bar", data["progress_bar"]),
            video=VideoSettings(
                path=Path(path) if path is not None else None,
                fps=float(fps),
                width=_integer("video.width", video["width"], lo, hi),
                height=_integer("video.height", video["height"], lo, hi),
                caption=_boolean("video.caption", video["caption"]),
                font_size=_integer("video.font_size", video["font_size"], 1),
                hold_final_frames=_integer("video.hold_final_frames", video["hold_final_frames"], 0),
            ),
            nav_agent=dict(nav_agent),
            manipulation_agent=dict(manipulation_agent),
        )


def _check_keys(where: str, data: Mapping[str, Any], expected: set[str]) -> None:
    missing, unknown = sorted(expected - set(data)), sorted(set(data) - expected)
    if unknown:
        raise ConfigError(f"unknown {where} option(s) {unknown}; valid options are {sorted(expected)}")
    if missing:
        raise ConfigError(f"missing {where} option(s) {missing}")


def _integer(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        bounds = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ConfigError(f"{name}={value!r} must be an integer {bounds}")
    return value


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} must be true or false")
    return value


class _VideoCamera:
    """Renders the env's main camera at the video resolution, independent of the observation size.

    The pose is copied from the env's first camera before every frame, so per-episode camera
    randomization and the ``new_viewpoint`` variant show in the video as the policy sees them.
    """

    def __init__(self, env: DeskEnv | CounterEnv, width: int, height: int):
        from sim.envs.counter import CounterEnv
        from sim.observations import Camera

        self.env = env
        # The counter env sees through its home env's head camera.
        self.home = env.home_env if isinstance(env, CounterEnv) else None
        source = self.home.camera if self.home is not None else env.cameras[0]
        self.camera = Camera(source.cfg, width, height)

    def render(self) -> np.ndarray:
        if self.home is not None:
            eye, target = self.home.aim_camera()
            self.camera.set_pose(eye, target, self.home.cfg.base.camera_fov)
            return self.camera.render(self.home.client, self.home.light, False)[0]
        main = self.env.cameras[0]
        self.camera.set_pose(main.eye, main.target, main.fov)
        rgb, _, _ = self.camera.render(self.env.client, self.env.scene_params.light, False)
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
        OSError: the video could not be written.
    """
    from robolearn.kinds import kind_of, load

    settings = cfg if isinstance(cfg, RolloutSettings) else RolloutSettings.from_config(cfg)
    # How episodes run is the env kind's (robolearn.kinds): the arm's scripted expert here, the homes' baseline agents
    # with a top-down map in robolearn.home_rollout.
    runner: Callable[..., list[dict[str, Any]]] = load(kind_of(settings.env).rollout)
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
