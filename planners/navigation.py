"""A baseline interactive-navigation agent: a global A* path on the home's traversability map and a
local pure-pursuit controller that pushes movable clutter and doors out of the way.

Per step the agent (1) replans when it has no path or has been stuck, (2) steers toward a look-ahead
point of the simplified path (turning in place when it faces away), (3) drives through whatever is
in the way: cartons slide and double-acting doors swing open under the base's push force. When the
base stops making progress (an unmovable obstacle), the LiDAR returns in front of it are marked as
blocked on the agent's own copy of the map, it backs up and replans around them. It reads the
robot's pose (ground-truth localisation, as iGibson's baselines), the goal, the map and the scan.

Example:
    >>> env = gym.make("robolearn/InteractiveNav-v0")
    >>> agent = InteractiveNavAgent()
    >>> obs, info = env.reset(seed=0); agent.reset(env.unwrapped)
    >>> obs, reward, terminated, truncated, info = env.step(agent.act(obs))
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planners.motion.astar import astar, inflate, nearest_free, simplify_path

if TYPE_CHECKING:  # pragma: no cover
    from sim.envs.home import HomeEnv


@dataclass
class NavAgentConfig:
    """The baseline agent's knobs (``conf/nav_agent.yaml`` documents each)."""

    clearance: float = 0.05  # m added to the robot radius when inflating the map for planning
    wall_cost: float = 2.0  # extra cost per cell near walls (within wall_cost_distance): keeps paths centred
    wall_cost_distance: float = 0.25  # m beyond the inflated obstacles where wall_cost applies
    lookahead: float = 0.5  # m: pure-pursuit look-ahead distance along the path
    heading_gain: float = 2.0  # turn rate command per rad of heading error
    turn_in_place: float = 1.0  # rad: heading errors above this stop the base and turn it
    stuck_window: int = 12  # steps over which progress is measured
    stuck_distance: float = 0.08  # m: moving less than this over the window means stuck
    backup_steps: int = 5  # steps driven backwards after getting stuck
    block_sector: float = 0.6  # rad: half-width of the frontal sector whose scan points get marked blocked
    block_range: float = 0.35  # m beyond the robot radius within which scan points are marked blocked
    block_radius: float = 0.15  # m: each marked point blocks a disc this wide

    def __post_init__(self) -> None:
        for name in ("clearance", "wall_cost", "wall_cost_distance", "block_range", "block_radius"):
            if getattr(self, name) < 0:
                raise ValueError(f"nav_agent.{name}={getattr(self, name)} must be >= 0")
        if self.lookahead <= 0 or self.heading_gain <= 0 or self.turn_in_place <= 0:
            raise ValueError("nav_agent.lookahead, heading_gain and turn_in_place must be > 0")
        if self.stuck_window < 2 or self.backup_steps < 0:
            raise ValueError("nav_agent.stuck_window must be >= 2 and backup_steps >= 0")


class InteractiveNavAgent:
    """Global A* + local pure pursuit + stuck recovery (see the module docstring)."""

    def __init__(self, cfg: NavAgentConfig | None = None):
        self.cfg = cfg or NavAgentConfig()

    def reset(self, env: "HomeEnv") -> None:
        """Prepare for the episode ``env`` has just been reset to."""
        self.env = env
        grid = env.traversability_map()
        self.grid = grid
        radius = env.cfg.base.radius + self.cfg.clearance
        self.static_occupied = inflate(grid.occupied, radius / grid.resolution)
        near = inflate(grid.occupied, (radius + self.cfg.wall_cost_distance) / grid.resolution)
        self.cost = np.where(near & ~self.static_occupied, self.cfg.wall_cost, 0.0)
        self.blocked = np.zeros_like(grid.occupied)
        self.path: list[np.ndarray] = []
        self.history: deque = deque(maxlen=self.cfg.stuck_window)
        self.backing = 0
        self.replans = 0
        self.stuck_events = 0

    # --------------------------------------------------------------- planning
    def _free(self) -> np.ndarray:
        blocked = inflate(self.blocked, (self.env.cfg.base.radius + self.cfg.clearance) / self.grid.resolution) \
            if self.blocked.any() else self.blocked
        return ~(self.static_occupied | blocked)

    def plan(self, xy: np.ndarray, goal: np.ndarray) -> bool:
        """A* from ``xy`` to ``goal`` (world, m); sets ``self.path`` (waypoints, m). False if none."""
        self.replans += 1
        free = self._free()
        g = self.grid
        start = nearest_free(free, g.world_to_cell(xy), max_radius=20)
        target = nearest_free(free, g.world_to_cell(goal), max_radius=40)
        cells = astar(free, start, target, cost=self.cost) if start and target else None
        if cells is None and self.blocked.any():
            self.blocked[:] = False  # a marked obstacle may have been a pushed door or carton: forget and retry
            return self.plan(xy, goal)
        if cells is None:
            self.path = []
            return False
        self.path = [g.cell_to_world(c) for c in simplify_path(cells, free)]
        return True

    def _mark_blocked(self, pose: np.ndarray, scan: np.ndarray) -> None:
        """Mark the scan points right in front of the base as an obstacle the base could not move."""
        c = self.cfg
        angles = self.env.lidar.angles
        near = (np.abs(angles) <= c.block_sector) & (scan <= self.env.cfg.base.radius + c.block_range)
        if not near.any():  # stuck on something the scan plane misses: block the cell ahead
            near_pts = [pose[:2] + (self.env.cfg.base.radius + 0.1) * np.array([np.cos(pose[2]), np.sin(pose[2])])]
        else:
            a = pose[2] + angles[near]
            near_pts = list(pose[:2] + scan[near, None] * np.stack([np.cos(a), np.sin(a)], 1))
        g = self.grid
        k = int(np.ceil(c.block_radius / g.resolution))
        for pt in near_pts:
            r, col = g.world_to_cell(pt)
            self.blocked[max(r - k, 0):r + k + 1, max(col - k, 0):col + k + 1] = True

    # ---------------------------------------------------------------- control
    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The next action (2,) or, for the manipulator, (6,) with the arm held still."""
        env, c = self.env, self.cfg
        pose = env.robot_pose()
        goal = env.goal_position()
        xy = pose[:2]
        self.history.append(xy.copy())
        n = env.action_space.shape[0]
        action = np.zeros(n, np.float32)
        if self.backing > 0:
            self.backing -= 1
            action[0] = -0.5
            if self.backing == 0:
                self.plan(xy, goal)
            return action
        if len(self.history) == c.stuck_window and np.linalg.norm(self.history[-1] - self.history[0]) < c.stuck_distance:
            scan = obs.get("scan")
            if scan is None:
                scan = env.lidar.scan(env.client, *env.scene.robot.lidar_origin(), None, env.scene.robot.uid,
                                      env.cfg.base.radius + 0.01)
            self._mark_blocked(pose, scan)
            self.stuck_events += 1
            self.history.clear()
            self.backing = c.backup_steps
            action[0] = -0.5
            return action
        if not self.path:
            if not self.plan(xy, goal):
                return action
        # Drop waypoints already reached; steer at the point `lookahead` m along the remaining path.
        while len(self.path) > 1 and np.linalg.norm(self.path[0] - xy) < c.lookahead:
            self.path.pop(0)
        target = self.path[0]
        d = target - xy
        err = float((np.arctan2(d[1], d[0]) - pose[2] + np.pi) % (2 * np.pi) - np.pi)
        w = np.clip(c.heading_gain * err / env.cfg.base.max_angular_speed, -1.0, 1.0)
        v = 0.0 if abs(err) > c.turn_in_place else float(np.clip(np.cos(err), 0.0, 1.0))
        if len(self.path) == 1:  # slow down on the final approach so the goal radius is not overshot
            v *= float(np.clip(np.linalg.norm(d) / c.lookahead + 0.3, 0.0, 1.0))
        action[0], action[1] = v, w
        return action
