"""Baseline agents for the homes' mobile-manipulation tasks: "open the kitchen drawer" and "open the bedroom door".

* ``OpenDrawerAgent``: drives to the kitchen counter with the navigation agent, turns to face it and docks so
  that the arm's base stands where the desk's arm stands in front of the desk (the counter *is* the desk), then
  runs the desk expert's motion in the arm's frame: over the handle at a travel height, down between the handle
  bar and the drawer face, and pull back until the drawer is out.
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

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pybullet as p

from planners.navigation import InteractiveNavAgent, NavAgentConfig
from rewards.fields import check_number
from sim.robots.mobile import wrap_angle

if TYPE_CHECKING:  # pragma: no cover
    from sim.envs.home import HomeEnv


@dataclass
class ManipulationAgentConfig:
    """The mobile-manipulation baseline's knobs (``conf/manipulation_agent/default.yaml`` documents each)."""

    staging_distance: float = 0.9  # m in front of the counter's centre where navigation hands over to docking
    dock_distance: float = 0.52  # m in front of the counter's centre where the arm base stops (the desk's arm base)
    heading_tolerance: float = 0.04  # rad: the base faces the counter within this before docking
    dock_tolerance: float = 0.01  # m: docked when the arm base is this close to its spot along the approach line
    dock_speed: float = 0.4  # fraction of the base's top speed while docking
    travel_height: float = 0.2  # m above the counter top the gripper moves at before descending (the desk expert's)
    approach_tolerance: float = 0.012  # m: how close to a waypoint the gripper counts as there
    pull_speed: float = 0.8  # fraction of the arm's max step while pulling the drawer
    overshoot: float = 0.03  # m the drawer is pulled past the success threshold
    door_beyond: float = 0.8  # m past the doorway the door baseline drives to
    tuck: tuple[float, float, float] = (0.22, 0.0, 0.4)  # m: gripper (forward, left, up of the arm base) while driving
    arm_clearance: float = 0.05  # m added to the navigation clearance: the tucked arm reaches past the chassis

    def __post_init__(self) -> None:
        for name in ("staging_distance", "heading_tolerance", "dock_tolerance", "travel_height", "approach_tolerance",
                     "door_beyond"):
            check_number("manipulation_agent", name, getattr(self, name), 0.0, lo_open=True)
        check_number("manipulation_agent", "dock_distance", self.dock_distance, 0.0, self.staging_distance,
                     lo_open=True, hi_open=True)
        for name in ("dock_speed", "pull_speed"):
            check_number("manipulation_agent", name, getattr(self, name), 0.0, 1.0, lo_open=True)
        for name in ("overshoot", "arm_clearance"):
            check_number("manipulation_agent", name, getattr(self, name), 0.0)
        if len(self.tuck) != 3:
            raise ValueError(f"manipulation_agent.tuck must be [forward, left, up] in m, got {list(self.tuck)}")
        self.tuck = tuple(check_number("manipulation_agent", "tuck", v, -math.inf) for v in self.tuck)


STAGE_TURN = 0.3  # rad: heading error above which the base turns in place toward the staging point


def tuck_arm(env: "HomeEnv", cfg: ManipulationAgentConfig) -> np.ndarray:
    """(4,) arm action toward the tucked pose (gripper closed): the arm folded over the chassis while driving."""
    robot = env.scene.robot
    return np.r_[np.clip((np.asarray(cfg.tuck) - robot.tcp_in_mount()) / robot.arm.max_step, -1, 1), 1.0]


def _nav_config(nav: NavAgentConfig | None, cfg: ManipulationAgentConfig) -> NavAgentConfig:
    """The navigation agent's config with the clearance widened for the arm."""
    from dataclasses import replace

    nav = nav or NavAgentConfig()
    return replace(nav, clearance=nav.clearance + cfg.arm_clearance)


class OpenDrawerAgent:
    """Navigate to the counter, dock in the desk's arm pose, and pull the drawer out (module docstring)."""

    def __init__(self, cfg: ManipulationAgentConfig | None = None, nav: NavAgentConfig | None = None):
        self.cfg = cfg or ManipulationAgentConfig()
        self.nav = InteractiveNavAgent(_nav_config(nav, self.cfg))

    def reset(self, env: "HomeEnv") -> None:
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
            mount = env.scene.robot.mount_pose()[0][:2]
            ahead = float((self.dock - mount) @ self.front)  # m still to drive along the approach line
            if abs(ahead) > c.dock_tolerance:
                base[0] = np.clip(ahead / step, -c.dock_speed, c.dock_speed)
                base[1] = np.clip(2.0 * err / env.cfg.base.max_angular_speed, -1, 1)
                return self._hold_arm(base)
            self.phase = "reach"
        return np.r_[base, self._arm()].astype(np.float32)

    def _hold_arm(self, base: np.ndarray) -> np.ndarray:
        return np.r_[base[:2], tuck_arm(self.env, self.cfg)].astype(np.float32)

    def _to_mount(self, world: np.ndarray) -> np.ndarray:
        pos, orn = self.env.scene.robot.mount_pose()
        inv_pos, inv_orn = p.invertTransform(pos.tolist(), orn)
        return np.array(p.multiplyTransforms(inv_pos, inv_orn, np.asarray(world, float).tolist(), (0, 0, 0, 1))[0])

    def _arm(self) -> np.ndarray:
        """(4,) arm action: the desk expert's drawer motion, in the arm-base frame (forward, left, up)."""
        c, env = self.cfg, self.env
        robot, drawer, counter = env.scene.robot, env.scene.counters[0].drawer, env.scene.counters[0]
        step = robot.arm.max_step
        tcp = robot.tcp_in_mount()
        # Fingers drop into the gap between the handle bar and the drawer face (as on the desk).
        grip = self._to_mount(0.5 * (drawer.handle_position() + drawer.face_position(height=drawer.geom.handle_height))
                              - np.array([0.0, 0.0, 0.005]))
        if self.phase == "reach":
            travel = self._to_mount(np.r_[self.centre, counter.height + c.travel_height])[2]
            if np.linalg.norm(tcp[:2] - grip[:2]) > c.approach_tolerance:
                delta = np.clip((np.array([grip[0], grip[1], travel]) - tcp) / step, -1, 1)
                if tcp[2] < travel - 0.04:  # rise before moving sideways, so nothing on the counter is swept
                    delta[:2] *= 0.3
                return np.r_[delta, 1.0]
            if np.linalg.norm(tcp - grip) > c.approach_tolerance:
                return np.r_[np.clip((grip - tcp) / step, -1, 1), 1.0]
            self.phase = "pull"
        if self.phase == "pull":
            if drawer.state() < env.cfg.nav.drawer_open_threshold + c.overshoot:
                # Back along −forward at the grip's height, steering sideways onto the handle's line.
                target = np.array([tcp[0] - c.pull_speed * step, grip[1], grip[2]])
                return np.r_[np.clip((target - tcp) / step, -1, 1), 1.0]
            self.phase = "done"
        return np.array([0.0, 0.0, 0.0, 1.0])


class OpenDoorAgent:
    """Push the target door open by driving through its doorway to a point beyond it (module docstring)."""

    def __init__(self, cfg: ManipulationAgentConfig | None = None, nav: NavAgentConfig | None = None):
        self.cfg = cfg or ManipulationAgentConfig()
        self.nav = InteractiveNavAgent(_nav_config(nav, self.cfg))

    def reset(self, env: "HomeEnv") -> None:
        from sim.homes.geodesic import distance_field

        self.env = env
        self.nav.reset(env)
        doorway = self.nav.doorways[env.episode.target_door]  # the navigation agent's view of the doorway
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
        if len(self.waypoints) > 1 and \
                np.linalg.norm(self.env.robot_pose()[:2] - self.waypoints[0]) < self.env.cfg.nav.goal_tolerance:
            self.waypoints.pop(0)  # at the door: now through it
        action = self.nav.act(obs, goal=self.waypoints[0])
        if action.shape[0] == 6:
            action[2:] = tuck_arm(self.env, self.cfg)
        return action


def make_home_agent(task: str, nav: NavAgentConfig | None = None,
                    manipulation: ManipulationAgentConfig | None = None):
    """The baseline agent of a home task: navigation (pointnav, interactive_nav, room_nav) or manipulation."""
    if task == "open_drawer":
        return OpenDrawerAgent(manipulation, nav)
    if task == "open_door":
        return OpenDoorAgent(manipulation, nav)
    return InteractiveNavAgent(nav)
