"""``robolearn rollout env=home``: the task's baseline agent (navigation, or the drawer / door baselines) or
random actions in the homes, with a video of the head camera beside a top-down map of the home.

From Python:
    >>> from robolearn.config import compose_config
    >>> from robolearn.rollout import run_rollout
    >>> cfg = compose_config("rollout", ["env=home", "env.task=interactive_nav", "video.path=null"])
    >>> [r["success_final"] for r in run_rollout(cfg, echo=False)]  # doctest: +SKIP
    [True]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from tqdm import tqdm

from planners.mobile_manipulation import make_home_agent
from robolearn.bench.agents import HOME_FIELDS
from robolearn.config import ConfigError, manipulation_agent_config, nav_agent_config
from robolearn.video import Caption, VideoWriter, caption_frame
from sim.envs.home import HomeEnv
from sim.homes.topdown import top_down_view
from sim.observations import Camera
from sim.tasks.navigation import TaskSamplingError

if TYPE_CHECKING:  # pragma: no cover - importing sim loads pybullet
    from planners.mobile_manipulation import OpenDoorAgent, OpenDrawerAgent
    from planners.navigation import InteractiveNavAgent
    from robolearn.rollout import RolloutSettings
    from sim.envs.home import HomeEnv
    from sim.home_config import HomeEnvConfig

#: the observations the agent reads (the camera is rendered for the video separately)
AGENT_OBS_KEYS = ("scan", "goal")


class _HomeFrames:
    """Video frames: the head camera at the video height beside a square top-down map, captioned."""

    def __init__(self, env: HomeEnv, settings: RolloutSettings, writer: VideoWriter | None):
        self.env, self.settings, self.writer = env, settings, writer
        vs = settings.video
        self.camera = Camera(env.camera.cfg, vs.width, vs.height) if writer else None
        self.trajectory: list[np.ndarray] = []

    def record(self, episode: int, step: int, success: bool | None, final: bool = False) -> int:
        """Write the current state as the frame of ``step``; returns how many frames were written."""
        self.trajectory.append(self.env.robot_pose()[:2].copy())
        if self.writer is None or self.camera is None:
            return 0
        env, vs = self.env, self.settings.video
        eye, target = env.aim_camera()  # also culls the rooms the head camera cannot see
        self.camera.set_pose(eye, target, env.cfg.base.camera_fov)
        head = self.camera.render(env.client, env.light, False)[0]
        # cast: top_down_view reads each position's [0] and [1], which a (2,) array has; its annotation
        # (Sequence[Sequence[float]]) does not admit numpy arrays
        trajectory = cast("list[Sequence[float]]", self.trajectory)
        frame = np.concatenate([head, top_down_view(env, trajectory, vs.height)], axis=1)
        if vs.caption:
            detail = f"step {step}/{self.settings.env.max_episode_steps}"
            if self.settings.episodes > 1:
                detail = f"ep {episode + 1}/{self.settings.episodes}  {detail}"
            frame = caption_frame(frame, Caption(env.episode.instruction, detail, success, final), vs.font_size)
        copies = 1 + (vs.hold_final_frames if final else 0)
        for _ in range(copies):
            self.writer.append(frame)
        return copies


def _line(r: dict[str, Any], episodes: int) -> str:
    ok = "yes" if r["success_final"] else "no"
    return (
        f'episode {r["episode"] + 1}/{episodes} (seed {r["seed"]}, {r["home"]}): "{r["instruction"]}" '
        f"success {ok}; {r['steps']} steps, SPL {r['spl']:.2f}, effort {r['effort_efficiency']:.2f}, "
        f"INS {r['ins']:.2f}, shortest path {r['shortest_path']:.1f} m"
    )


def run_home_rollout(settings: RolloutSettings, *, echo: bool = True) -> list[dict[str, Any]]:
    """Episodes of ``settings.policy`` in the home environment; see ``robolearn.rollout.run_rollout``.

    Returns:
        One dict per episode with the fields of ``run_rollout`` plus ``home``, ``spl``,
        ``effort_efficiency``, ``ins``, ``path_length`` and ``shortest_path`` (m).

    """

    # cast: the kinds registry (robolearn.kinds) sends only env=home rollouts here
    cfg = cast("HomeEnvConfig", settings.env)
    # The agent reads the scan and the goal, nothing else is kept: the head camera renders for the video only.
    cfg = replace(cfg, obs_keys=AGENT_OBS_KEYS)  # (the config stores obs_keys as a tuple either way)
    vs = settings.video
    agent: OpenDrawerAgent | OpenDoorAgent | InteractiveNavAgent | None = None
    if settings.policy == "expert":
        agent = make_home_agent(
            cfg.task, nav_agent_config(settings.nav_agent), manipulation_agent_config(settings.manipulation_agent)
        )
    results: list[dict[str, Any]] = []
    env = HomeEnv(config=cfg)
    # The writer keeps any earlier video at the path until the new one is complete (aborted on error).
    with VideoWriter(vs.path, vs.fps) if vs.path is not None else nullcontext() as writer:
        try:
            rng = np.random.default_rng(settings.seed)
            bar = tqdm(
                range(settings.episodes),
                desc=f"{settings.policy} on {cfg.task}",
                unit="episode",
                disable=not (echo and settings.progress_bar and settings.episodes > 1),
                file=sys.stderr,
            )
            for i in bar:
                results.append(_episode(env, agent, rng, settings, writer, i))
                if echo:
                    tqdm.write(_line(results[-1], settings.episodes), file=sys.stdout)
        finally:
            env.close()
    return results


def _episode(
    env: HomeEnv,
    agent: OpenDrawerAgent | OpenDoorAgent | InteractiveNavAgent | None,
    rng: np.random.Generator,
    settings: RolloutSettings,
    writer: VideoWriter | None,
    i: int,
) -> dict[str, Any]:
    """Episode ``i`` (seed ``settings.seed + i``) of the agent, or of random actions without one."""
    seed = settings.seed + i
    try:
        obs, info = env.reset(seed=seed)
    except TaskSamplingError as e:  # the home cannot host the task as configured (e.g. env.nav.min_geodesic)
        raise ConfigError(f"episode {i} (seed {seed}, {env.home}): {e}") from None
    if agent is not None:
        agent.reset(env)
    frames = _HomeFrames(env, settings, writer)
    written = frames.record(i, 0, None)
    total, steps, done = 0.0, 0, False
    while not done:
        if agent is not None:
            action = agent.act(obs)
        else:
            action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        steps += 1
        done = terminated or truncated
        written += frames.record(i, steps, bool(info["success"]), final=done)
    vs = settings.video
    return {
        "episode": i,
        "seed": seed,
        "task": env.cfg.task,
        "instruction": info["instruction"],
        "home": info["home"],
        "policy": settings.policy,
        "steps": steps,
        "return": total,
        "success_any": bool(info["success_any"]),
        "success_final": bool(info["success"]),
        "progress": -float(info["geodesic_distance"]),
        **{k: float(info[k]) for k in HOME_FIELDS},
        "video": str(vs.path) if vs.path is not None else None,
        "frames": written,
    }
