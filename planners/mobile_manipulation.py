"""Baseline agents for the homes' mobile-manipulation tasks: "open the kitchen drawer" and "open the bedroom door".

* ``OpenDrawerAgent``: drives to the kitchen counter with the navigation agent, turns to face it and docks so
  that the arm's base stands where the desk's arm stands in front of the desk (the counter *is* the desk), then
  runs the desk expert's motion in the arm's frame: over the handle at a travel height, down between the handle
  bar and the drawer face, and pull back until the drawer is out.
* ``PlannedDrawerAgent``: the same drive and dock, then a learned local planner takes the arm (visual MPC
  with models trained in ``robolearn/Counter-v1``, whose frames are this robot's head camera at the counter);
  ``run_planned_home_episode`` runs one such episode (``robolearn plan env=counter episode_start=home``).
* ``OpenDoorAgent``: the door tasks' doors are double-acting, so the baseline pushes the door open with the
  base: it drives through the doorway (latch side, square to the wall, as ``InteractiveNavAgent`` crosses doors)
  to a point beyond it; the door swings past the success angle on the way.

Both read the robot's pose, the map, the scan and the simulator's furniture poses (the counter, the doorway),
as the navigation baseline reads the map: ground-truth localisation, no learned perception.

Example:
    >>> env = gym.make("robolearn/OpenDrawer-v0")
    >>> agent = make_home_agent("open_drawer")
    >>> obs, info = env.reset(seed=0); agent.reset(env.unwrapped)
    >>> obs, reward, terminated, truncated, info = env.step(agent.act(obs))
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from planners.mobile_manipulation_config import ManipulationAgentConfig
from planners.navigation import InteractiveNavAgent
from planners.navigation_config import NavAgentConfig
from planners.vmpc import EpisodeRecord
from sim.envs.counter import arm_observation
from sim.homes.geodesic import distance_field
from sim.robots.mobile import wrap_angle
from sim.tasks.counter import ArmFrameView, DrawerMotion

if TYPE_CHECKING:  # pragma: no cover
    from sim.envs.home import HomeEnv


STAGE_TURN = 0.3  # rad: heading error above which the base turns in place toward the staging point
DRIVE_PHASES = ("navigate", "stage", "align", "dock")  # the drawer agents' phases before the arm takes over


def tuck_arm(env: HomeEnv, cfg: ManipulationAgentConfig) -> np.ndarray:
    """(4,) arm action toward the tucked pose (gripper closed): the arm folded over the chassis while driving."""
    robot = env.scene.manipulator
    return np.r_[np.clip((np.asarray(cfg.tuck) - robot.tcp_in_mount()) / robot.arm.max_step, -1, 1), 1.0]


def _nav_config(nav: NavAgentConfig | None, cfg: ManipulationAgentConfig) -> NavAgentConfig:
    """The navigation agent's config with the clearance widened for the arm."""

    nav = nav or NavAgentConfig()
    return replace(nav, clearance=nav.clearance + cfg.arm_clearance)


class OpenDrawerAgent:
    """Navigate to the counter, dock in the desk's arm pose, and pull the drawer out (module docstring)."""

    def __init__(self, cfg: ManipulationAgentConfig | None = None, nav: NavAgentConfig | None = None):
        self.cfg = cfg or ManipulationAgentConfig()
        self.nav = InteractiveNavAgent(_nav_config(nav, self.cfg))

    def reset(self, env: HomeEnv) -> None:
        if not env.scene.counters:
            raise ValueError("open_drawer needs a home with a kitchen counter")
        self.env = env
        self.nav.reset(env)
        spec = next(f for f in env.plan.furniture if f.kind == "counter")
        self.heading = float(spec.yaw)  # the desk's +x (away from its arm) in the world
        self.front = np.array([np.cos(self.heading), np.sin(self.heading)])
        self.centre = np.asarray(spec.pos, float)
        self.staging = self.centre - self.cfg.staging_distance * self.front
        self.dock = self.centre - self.cfg.dock_distance * self.front
        self.phase = "navigate"
        self.view: ArmFrameView | None = None
        self.motion: DrawerMotion | None = None

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The next action (6,): base (v, ω), arm (Δforward, Δleft, Δup), gripper."""
        c, env = self.cfg, self.env
        pose = env.robot_pose()
        if self.phase == "navigate":
            action = self.nav.act(obs, goal=self.staging)
            if np.linalg.norm(pose[:2] - self.staging) > env.cfg.nav.goal_tolerance:
                return self._hold_arm(action)
            self.phase = "stage"
        base = np.zeros(2, np.float32)
        step = env.cfg.base.max_linear_speed * env.cfg.physics.timestep * env.cfg.physics.substeps  # m per step
        if self.phase == "stage":  # onto the staging point itself: docking then only drives straight
            d = self.staging - pose[:2]
            if np.linalg.norm(d) > c.dock_tolerance * 3:
                err = wrap_angle(float(np.arctan2(d[1], d[0])) - pose[2])
                base[1] = np.clip(2.0 * err / env.cfg.base.max_angular_speed, -1, 1)
                if abs(err) < STAGE_TURN:
                    base[0] = np.clip(np.linalg.norm(d) / step, 0.0, c.dock_speed)
                return self._hold_arm(base)
            self.phase = "align"
        if self.phase in ("align", "dock"):
            err = wrap_angle(self.heading - pose[2])
            if self.phase == "align" and abs(err) > c.heading_tolerance:
                base[1] = np.clip(2.0 * err / env.cfg.base.max_angular_speed, -1, 1)
                return self._hold_arm(base)
            self.phase = "dock"
            mount = env.scene.manipulator.mount_pose()[0][:2]
            ahead = float((self.dock - mount) @ self.front)  # m still to drive along the approach line
            if abs(ahead) > c.dock_tolerance:
                base[0] = np.clip(ahead / step, -c.dock_speed, c.dock_speed)
                base[1] = np.clip(2.0 * err / env.cfg.base.max_angular_speed, -1, 1)
                return self._hold_arm(base)
            self.phase = "arm"
            self.view = ArmFrameView(env.scene.manipulator, env.scene.counters[0])
        return np.r_[base, self._arm(obs)].astype(np.float32)

    @property
    def docked(self) -> bool:
        """Whether the base has docked and the arm is at work."""
        return self.phase not in DRIVE_PHASES

    def _hold_arm(self, base: np.ndarray) -> np.ndarray:
        return np.r_[base[:2], tuck_arm(self.env, self.cfg)].astype(np.float32)

    def _arm(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """(4,) arm action once docked: the desk expert's drawer motion, in the arm-base frame (forward, left, up)."""
        if self.motion is None:
            c = self.cfg
            self.motion = DrawerMotion(
                True,
                self.env.cfg.nav.drawer_open_threshold + c.overshoot,
                c.travel_height,
                c.approach_tolerance,
                c.pull_speed,
            )
        assert self.view is not None, "the arm acts once docked, when act() has set the view"
        return self.motion.act(self.view)


class PlannedDrawerAgent(OpenDrawerAgent):
    """The drawer baseline's navigation and docking, then a learned local planner for the arm.

    Once docked, the arm unfolds to ``start_tcp``, the pose every episode of the planner's training env
    begins in (``sim.counter_config.CounterEnvConfig.start_tcp``, gripper open), and ``planner`` chooses
    the next ``local_steps`` arm actions from the head camera's frames, converted to that env's
    observations by ``sim.envs.counter.arm_observation``. ``planner`` is anything with
    ``reset(env, obs, episode_steps)``, ``act() -> (4,)`` and ``observe(env, obs)``: e.g.
    ``planners.vmpc.VMPCAgent`` with a video model and a LOReL reward trained in ``robolearn/Counter-v1``.
    The phases after docking are ``arm`` (unfolding), ``local`` (the planner acts) and ``done``.
    """

    def __init__(
        self,
        planner: Any,
        start_tcp: Sequence[float],
        local_steps: int,
        cfg: ManipulationAgentConfig | None = None,
        nav: NavAgentConfig | None = None,
    ):
        super().__init__(cfg, nav)
        if isinstance(local_steps, bool) or not isinstance(local_steps, int) or local_steps < 1:
            raise ValueError(f"local_steps must be an integer >= 1, got {local_steps!r}")
        self.planner, self.start_tcp, self.local_steps = planner, np.asarray(start_tcp, float), local_steps

    def reset(self, env: HomeEnv) -> None:
        super().reset(env)
        self.unfold_steps = self.local_t = 0
        self.handover: dict[str, np.ndarray] | None = None  # the planner's first observation

    def _arm(self, obs: dict[str, np.ndarray]) -> np.ndarray:

        c, robot = self.cfg, self.env.scene.manipulator
        if self.phase == "arm":
            error = self.start_tcp - robot.tcp_in_mount()
            if np.linalg.norm(error) > c.unfold_tolerance and self.unfold_steps < c.max_unfold_steps:
                self.unfold_steps += 1
                return np.r_[np.clip(error / robot.arm.max_step, -1, 1), -1.0]
            self.phase = "local"
            self.handover = arm_observation(obs)
            self.planner.reset(self.env, self.handover, episode_steps=self.local_steps)
        if self.phase == "local":
            if self.local_t > 0:
                self.planner.observe(self.env, arm_observation(obs))
            if self.local_t < self.local_steps:
                self.local_t += 1
                return np.asarray(self.planner.act(), np.float32)
            self.phase = "done"
        return np.array([0.0, 0.0, 0.0, 1.0])


class OpenDoorAgent:
    """Push the target door open by driving through its doorway to a point beyond it (module docstring)."""

    def __init__(self, cfg: ManipulationAgentConfig | None = None, nav: NavAgentConfig | None = None):
        self.cfg = cfg or ManipulationAgentConfig()
        self.nav = InteractiveNavAgent(_nav_config(nav, self.cfg))

    def reset(self, env: HomeEnv) -> None:

        self.env = env
        self.nav.reset(env)
        target_door = env.episode.target_door
        assert target_door is not None, "open_door episodes name their target door"
        doorway = self.nav.doorways[target_door]  # the navigation agent's view of the doorway
        centre, normal = doorway["centre"], doorway["normal"]
        # The robot comes to the door from the side it reaches first along the floor (not the side it
        # starts on: the way may lead round through other rooms), and pushes through to the other side.
        grid, free = env.maps.grid, env.maps.robot_free
        field = distance_field(free, grid.world_to_cell(env.robot_pose()[:2]), env.maps.graph)

        def reach(side: float) -> float:
            cell = grid.world_to_cell(centre + side * self.cfg.door_beyond * normal)
            return float(field[cell]) if grid.in_bounds(cell) and np.isfinite(field[cell]) else np.inf

        side = 1.0 if reach(1.0) <= reach(-1.0) else -1.0
        self.waypoints = [centre + side * self.cfg.door_beyond * normal, centre - side * self.cfg.door_beyond * normal]

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        if (
            len(self.waypoints) > 1
            and np.linalg.norm(self.env.robot_pose()[:2] - self.waypoints[0]) < self.env.cfg.nav.goal_tolerance
        ):
            self.waypoints.pop(0)  # at the door: now through it
        action = self.nav.act(obs, goal=self.waypoints[0])
        if action.shape[0] == 6:
            action[2:] = tuck_arm(self.env, self.cfg)
        return action


def make_home_agent(
    task: str, nav: NavAgentConfig | None = None, manipulation: ManipulationAgentConfig | None = None
) -> OpenDrawerAgent | OpenDoorAgent | InteractiveNavAgent:
    """The baseline agent of a home task: navigation (pointnav, interactive_nav, room_nav) or manipulation."""
    if task == "open_drawer":
        return OpenDrawerAgent(manipulation, nav)
    if task == "open_door":
        return OpenDoorAgent(manipulation, nav)
    return InteractiveNavAgent(nav)


def run_planned_home_episode(
    env: HomeEnv, agent: PlannedDrawerAgent, seed: int | None = None, options: dict[str, Any] | None = None
) -> tuple[EpisodeRecord, dict[str, Any]]:
    """One "open the kitchen drawer" episode: the agent navigates and docks, then its planner acts.

    Returns ``(record, stats)``: a ``planners.vmpc.EpisodeRecord`` of the planner's part (the head-camera
    frames from the hand-over on, the arm actions, the planner's reward on each real frame, its plans) whose
    ``success`` is the home task's (the drawer open at the end), and ``stats``: ``steps`` (whole episode),
    ``handover_step`` (None if the agent never docked) and ``home``.
    """

    start = time.perf_counter()
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(env)
    drawer0 = env.scene.counters[0].drawer.state()
    rec, handover, steps = EpisodeRecord(), None, 0
    planner = agent.planner

    def reward(arm_obs: dict[str, np.ndarray]) -> float:  # the planner's own score of a real frame, if it has one
        score = getattr(planner, "real_reward", None)
        return float(score(env, arm_obs)) if score is not None else 0.0

    for _ in range(env.cfg.max_episode_steps):
        action = agent.act(obs)
        if agent.phase == "done":  # the planner has used its steps: the episode ends with its last frame
            break
        if agent.phase == "local" and handover is None:  # the planner has just taken over: its first frame
            handover = steps
            assert agent.handover is not None, "the agent keeps its hand-over observation in the local phase"
            rec.frames.append(obs["rgb"])
            rec.rewards.append(reward(agent.handover))
        obs, _, terminated, truncated, info = env.step(action)
        steps += 1
        if handover is not None:
            rec.frames.append(obs["rgb"])
            rec.actions.append(np.asarray(action[2:], np.float32))
            rec.rewards.append(reward(arm_observation(obs)))
        if terminated or truncated:
            break
    rec.plans = list(getattr(planner, "plans", []))
    rec.success, rec.success_any = bool(info["success"]), bool(info["success_any"])
    rec.progress = float(env.scene.counters[0].drawer.state() - drawer0)
    rec.seconds = time.perf_counter() - start
    return rec, {"steps": steps, "handover_step": handover, "home": env.home}
