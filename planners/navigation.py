"""A baseline interactive-navigation agent: a global A* path on the home's traversability map and a
local pure-pursuit controller that pushes movable clutter and doors out of the way.

Per step the agent (1) replans when it has no path or has been stuck, (2) steers toward a look-ahead
point of the simplified path (turning in place when it faces away), (3) drives through whatever is
in the way: cartons slide and double-acting doors swing open under the base's push force. Doorways
are crossed square to the wall and on the latch side (away from the hinge): a door pushed near its
free edge swings with the least force, and an open panel never stands there.

Every scan updates the agent's memory of obstacles the map does not show (clutter, doors, crates):
LiDAR returns off the map mark cells as seen, and the cells a ray passes through are cleared again,
so pushed objects and opened doors leave the memory. Seen obstacles cost extra in A* (going around
a carton is preferred when the detour is short, pushing it when it is not), and the path is checked
against them every few steps. When the base stops making progress while driving forward (an
unmovable obstacle), the obstacle in front of it is marked as blocked, it backs up and replans around
it. It reads the robot's pose (ground-truth localisation, as iGibson's baselines), the goal, the map
and the scan.

Example:
    >>> env = gym.make("robolearn/InteractiveNav-v0")
    >>> agent = InteractiveNavAgent()
    >>> obs, info = env.reset(seed=0); agent.reset(env.unwrapped)
    >>> obs, reward, terminated, truncated, info = env.step(agent.act(obs))
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from planners.motion.astar import astar, inflate, nearest_free, simplify_path
from planners.navigation_config import NavAgentConfig
from sim.homes.geometry import door_hinge_end
from sim.robots.mobile import wrap_angle

if TYPE_CHECKING:  # pragma: no cover
    from sim.envs.home import HomeEnv
    from sim.homes.floorplan import DoorSpec


class Doorway(TypedDict):
    """A doorway as the agent plans through it (world frame, m)."""

    centre: np.ndarray  # (2,) on the wall line
    normal: np.ndarray  # (2,) unit normal to the wall (either way)
    along: np.ndarray  # (2,) unit vector along the wall, from the hinge toward the latch
    half_width: float


START_SEARCH_CELLS = 20  # cells searched around the robot for a free start (1 m at 5 cm)
GOAL_SEARCH_CELLS = 40  # cells searched around the goal for a free target


class InteractiveNavAgent:
    """Global A* + local pure pursuit + stuck recovery (see the module docstring)."""

    def __init__(self, cfg: NavAgentConfig | None = None):
        self.cfg = cfg or NavAgentConfig()

    def reset(self, env: HomeEnv) -> None:
        """Prepare for the episode ``env`` has just been reset to."""
        self.env = env
        grid = env.traversability_map()
        self.grid = grid
        radius = env.cfg.base.radius + self.cfg.clearance
        self.static_occupied = inflate(grid.occupied, radius / grid.resolution)
        near = inflate(grid.occupied, (radius + self.cfg.wall_cost_distance) / grid.resolution)
        self.cost = np.where(near & ~self.static_occupied, self.cfg.wall_cost, 0.0)
        self.blocked = np.zeros_like(grid.occupied)
        # Returns landing this close to a wall or a piece of furniture are the map's own surfaces.
        self.mapped = inflate(grid.occupied, 2.0)
        self.seen = np.zeros_like(grid.occupied)  # obstacles the map does not show, from the scans
        self.seen_changed = False
        self._planned_zone = np.zeros_like(grid.occupied)  # the seen obstacles' zone the current path avoids
        self.steps = 0
        self.doorways = [self._doorway(d) for d in env.plan.doors]
        self.path: list[np.ndarray] = []
        self.reach: list[float] = []  # per waypoint: the distance at which it counts as reached (m)
        self.history: deque = deque(maxlen=self.cfg.stuck_window)
        self.turning: deque = deque(maxlen=self.cfg.stuck_window)  # heading change (rad) of each turning step
        self.last_heading: float | None = None
        self._goal: np.ndarray | None = None  # the goal the current path leads to
        self.backing = 0
        self.replans = 0
        self.stuck_events = 0

    # --------------------------------------------------------------- planning
    def _robot_cells(self) -> float:
        return (self.env.cfg.base.radius + self.cfg.clearance) / self.grid.resolution

    def _free(self) -> np.ndarray:
        blocked = inflate(self.blocked, self._robot_cells()) if self.blocked.any() else self.blocked
        return ~(self.static_occupied | blocked)

    def _seen_zone(self) -> np.ndarray:
        """(H, W) bool: cells where the robot would touch a seen obstacle."""
        return inflate(self.seen, self._robot_cells()) if self.seen.any() else self.seen

    def observe(self, pose: np.ndarray, scan: np.ndarray) -> None:
        """Update the obstacle memory from one scan (ranges (R,) m, from the robot's centre at ``pose``)."""
        g, lidar = self.grid, self.env.lidar
        heading = pose[2] + lidar.angles
        direction = np.stack([np.cos(heading), np.sin(heading)], axis=1)  # (R, 2)
        # Clear what each ray passed through (up to clear_margin short of its return).
        dist = np.arange(0.0, float(scan.max()), g.resolution)
        along = dist[None, :] < (scan[:, None] - self.cfg.clear_margin)
        pts = pose[None, None, :2] + dist[None, :, None] * direction[:, None, :]
        cleared = self._cells(pts[along])
        # Mark returns that the map does not explain, and the object's unseen depth behind each.
        hit = scan < lidar.cfg.range - 1e-3
        behind = np.arange(0.0, self.cfg.object_depth + 1e-9, g.resolution)
        pts = pose[None, None, :2] + (scan[hit, None] + behind[None, :])[..., None] * direction[hit, None, :]
        marked = self._cells(pts.reshape(-1, 2), skip=self.mapped)
        touched = np.concatenate([cleared, marked], axis=1)
        before = self.seen[touched[0], touched[1]]
        self.seen[cleared[0], cleared[1]] = False
        self.seen[marked[0], marked[1]] = True
        self.seen_changed |= bool((self.seen[touched[0], touched[1]] != before).any())

    def _cells(self, pts: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
        """(2, K) rows and columns of the map cells holding ``pts`` (N, 2) m, off-map points (and ``skip``
        cells) left out."""
        cells = self.grid.world_to_cells(pts)
        H, W = self.seen.shape
        cells = cells[(cells[:, 0] >= 0) & (cells[:, 0] < H) & (cells[:, 1] >= 0) & (cells[:, 1] < W)]
        if skip is not None:
            cells = cells[~skip[cells[:, 0], cells[:, 1]]]
        return cells.T

    def _path_hits_new_obstacle(self, xy: np.ndarray) -> bool:
        """Whether the next ``check_horizon`` m of the path cross a seen obstacle it was not planned around."""
        new = self._seen_zone() & ~self._planned_zone
        if not new.any():
            return False
        pts, left, here = [], self.cfg.check_horizon, xy
        for wp in self.path:
            seg = float(np.linalg.norm(wp - here))
            n = max(int(min(seg, left) / self.grid.resolution), 1)
            pts.append(here + np.linspace(0, min(seg, left) / max(seg, 1e-9), n)[:, None] * (wp - here))
            left -= seg
            here = wp
            if left <= 0:
                break
        if not pts:
            return False
        cells = self.grid.world_to_cells(np.concatenate(pts))
        H, W = new.shape
        ok = (cells[:, 0] >= 0) & (cells[:, 0] < H) & (cells[:, 1] >= 0) & (cells[:, 1] < W)
        # Cells right around the robot are what it is pushing now: only obstacles further on count.
        far = np.linalg.norm(np.concatenate(pts) - xy, axis=1) > self.env.cfg.base.radius + 0.15
        return bool(new[cells[ok & far, 0], cells[ok & far, 1]].any())

    def _doorway(self, door: DoorSpec) -> Doorway:
        """A doorway's centre on the wall line, its unit normal (either way) and the unit vector along it
        from the hinge toward the latch (m)."""
        end, along = door_hinge_end(self.env.plan, door)
        centre = end + along * door.width / 2
        return {
            "centre": centre,
            "normal": np.array([-along[1], along[0]]),
            "along": along,
            "half_width": door.width / 2,
        }

    def _crossings(self, cells: list[tuple[int, int]]) -> list[tuple[int, Doorway, float]]:
        """The doorways a cell path passes through, in order: (index of the first cell in the doorway,
        doorway, side sign of the cell before it along the doorway's normal)."""
        pts = self.grid.cells_to_world(cells)
        out = []
        for dw in self.doorways:
            rel = pts - dw["centre"]
            across, lateral = rel @ dw["normal"], rel @ dw["along"]
            inside = np.flatnonzero((np.abs(across) < self.grid.resolution * 2) & (np.abs(lateral) < dw["half_width"]))
            if len(inside):
                i = int(inside[0])
                out.append((i, dw, float(np.sign(across[max(i - 1, 0)]) or -1.0)))
        return sorted(out, key=lambda t: t[0])

    def _door_anchors(self, dw: Doorway, side: float, free: np.ndarray) -> list[np.ndarray] | None:
        """Waypoints that cross ``dw`` square to the wall on the latch side, from the ``side`` sign of its
        normal to the other; None when furniture leaves no room to line up (cross as planned)."""
        c = self.cfg
        for approach in (c.door_approach, c.door_approach / 2):
            for offset in (c.door_latch_offset, 0.0):
                mid = dw["centre"] + offset * dw["along"]
                pts = [mid + side * approach * dw["normal"], mid, mid - side * approach * dw["normal"]]
                if all(self.grid.in_bounds(rc := self.grid.world_to_cell(q)) and free[rc] for q in (pts[0], pts[2])):
                    return pts
        return None

    def _astar(self, free: np.ndarray, a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]] | None:
        g = self.grid
        start = self._start_cell(free, a)
        target = nearest_free(free, g.world_to_cell(b), max_radius=GOAL_SEARCH_CELLS)
        return astar(free, start, target, cost=self._cost) if start and target else None

    def _start_cell(self, free: np.ndarray, xy: np.ndarray) -> tuple[int, int] | None:
        """The free cell to plan from: the robot's own, or (when it stands in an inflated obstacle, as
        after hitting one) the nearest free cell it can reach in a straight line without crossing a
        blocked or seen obstacle (never one on the far side of the obstacle it is stuck against)."""
        g = self.grid
        rc = g.world_to_cell(xy)
        if g.in_bounds(rc) and free[rc]:
            return rc
        k = START_SEARCH_CELLS
        r0, c0 = max(rc[0] - k, 0), max(rc[1] - k, 0)
        window = free[r0 : rc[0] + k + 1, c0 : rc[1] + k + 1]
        cells = np.argwhere(window) + (r0, c0)
        if not len(cells):
            return None
        order = np.argsort(np.hypot(cells[:, 0] - rc[0], cells[:, 1] - rc[1]), kind="stable")
        wall = self.static_occupied | self.blocked | self.seen
        for cell in cells[order]:
            n = int(max(abs(cell[0] - rc[0]), abs(cell[1] - rc[1]))) + 1
            rows = np.round(np.linspace(rc[0], cell[0], n)).astype(int)
            cols = np.round(np.linspace(rc[1], cell[1], n)).astype(int)
            inside = (rows >= 0) & (rows < wall.shape[0]) & (cols >= 0) & (cols < wall.shape[1])
            if not wall[rows[inside], cols[inside]][1:].any():
                return int(cell[0]), int(cell[1])
        return nearest_free(free, rc, max_radius=k)

    def _simplify(self, cells: list[tuple[int, int]], free: np.ndarray) -> list[tuple[int, int]]:
        """String-pull a cell path without cutting into seen obstacles it went around: shortcuts must stay
        out of the costly zones except along the path's own cells (where it chose to push through)."""
        sight = free & ~(self._cost > self.cost)
        rows, cols = np.array(cells).T
        sight[rows, cols] = True
        return simplify_path(cells, sight)

    def plan(self, xy: np.ndarray, goal: np.ndarray) -> bool:
        """A* from ``xy`` to ``goal`` (world, m), with every doorway on the way crossed square to its wall
        on the latch side; sets ``self.path`` (waypoints, m) and ``self.reach``. False if no path."""
        self.replans += 1
        free = self._free()
        self._planned_zone = self._seen_zone()
        self.seen_changed = False
        self._cost = self.cost + self.cfg.object_cost * self._planned_zone
        cells = self._astar(free, xy, goal)
        if cells is None and self.blocked.any():
            self.blocked[:] = False  # a marked obstacle may have been a pushed door or carton: forget and retry
            return self.plan(xy, goal)
        if cells is None:
            self.path, self.reach = [], []
            return False
        c, g = self.cfg, self.grid
        path: list[np.ndarray] = []
        reach: list[float] = []
        here = xy
        for _, dw, side in self._crossings(cells):
            anchors = self._door_anchors(dw, side, free)
            if anchors is None:
                continue
            exit_dir = -side * dw["normal"]
            near = abs(float((xy - dw["centre"]) @ dw["along"])) < dw["half_width"] + c.door_approach / 2
            if not path and near:  # already in the doorway's approach: keep only the waypoints still ahead
                anchors = [q for q in anchors if (q - xy) @ exit_dir > 0]
                if len(anchors) < 3:
                    path += anchors
                    reach += [c.door_waypoint_tolerance] * len(anchors)
                    here = anchors[-1] if anchors else here
                    continue
            leg = self._astar(free, here, anchors[0])
            if leg is None:
                continue
            path += list(g.cells_to_world(self._simplify(leg, free)))[1:-1] + anchors
            reach += [c.lookahead] * (len(path) - len(reach) - 3) + [c.door_waypoint_tolerance] * 3
            here = anchors[-1]
        leg = self._astar(free, here, goal) if len(path) else cells
        if leg is None:
            leg = cells
            path, reach = [], []
        tail = list(g.cells_to_world(self._simplify(leg, free)))
        path += tail[1:] if path else tail
        reach += [c.lookahead] * (len(path) - len(reach))
        self.path, self.reach = path, reach
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
        contact = np.zeros_like(self.blocked)
        rows, cols = self._cells(np.asarray(near_pts).reshape(-1, 2))
        contact[rows, cols] = True
        res = self.grid.resolution
        # A disc around each point, plus the rest of what the scans have seen of that obstacle (its sides,
        # out of the frontal sector).
        self.blocked |= inflate(contact, c.block_radius / res) | (inflate(contact, c.block_extent / res) & self.seen)

    # ---------------------------------------------------------------- control
    def _scan(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        scan = obs.get("scan")
        if scan is None:  # the env does not observe it: cast the same noise-free scan
            env = self.env
            scan = env.lidar.scan(
                env.client, *env.scene.robot.lidar_origin(), None, env.scene.robot.uid, env.cfg.base.radius + 0.01
            )
        return np.asarray(scan, float)

    def act(self, obs: dict[str, np.ndarray], goal: np.ndarray | None = None) -> np.ndarray:
        """The next action (2,) or, for the manipulator, (6,) with the arm held still; toward the task's goal
        or, when given, ``goal`` (2,) m (a staging point of a manipulation agent)."""
        env, c = self.env, self.cfg
        pose = env.robot_pose()
        if goal is None:
            goal = env.goal_position()
        elif self.path and self._goal is not None and not np.allclose(goal, self._goal):
            self.path = []  # a new goal: plan afresh
        self._goal = np.asarray(goal, float)
        xy = pose[:2]
        scan = self._scan(obs)
        self.observe(pose, scan)
        self.steps += 1
        n = env.action_space.shape[0]
        action = np.zeros(n, np.float32)
        if self.backing > 0:
            self.backing -= 1
            action[0] = -0.5
            if self.backing == 0:
                self.plan(xy, goal)
            return action
        # Stuck: the window's steps all drove forward, yet the base barely moved; or all turned in place, yet
        # the heading barely changed (something caught the body, e.g. an arm against a wall).
        turn_stuck = len(self.turning) == c.stuck_window and abs(sum(self.turning)) < c.turn_stuck_angle
        if turn_stuck or (
            len(self.history) == c.stuck_window
            and np.linalg.norm(self.history[-1] - self.history[0]) < c.stuck_distance
        ):
            if not turn_stuck:
                self._mark_blocked(pose, scan)
            self.turning.clear()
            self.stuck_events += 1
            self.history.clear()
            self.backing = c.backup_steps
            action[0] = -0.5
            return action
        replan = not self.path or (
            self.steps % c.replan_interval == 0 and self.seen_changed and self._path_hits_new_obstacle(xy)
        )
        if replan and not self.plan(xy, goal):
            return action
        # Drop waypoints already reached (doorway waypoints only when close: they square the robot up to
        # the wall); steer at the next one.
        while len(self.path) > 1 and np.linalg.norm(self.path[0] - xy) < self.reach[0]:
            self.path.pop(0)
            self.reach.pop(0)
        target = self.path[0]
        d = target - xy
        err = wrap_angle(float(np.arctan2(d[1], d[0])) - pose[2])
        w = np.clip(c.heading_gain * err / env.cfg.base.max_angular_speed, -1.0, 1.0)
        v = 0.0 if abs(err) > c.turn_in_place else float(np.clip(np.cos(err), 0.0, 1.0))
        if len(self.path) == 1:  # slow down on the final approach so the goal radius is not overshot
            v *= float(np.clip(np.linalg.norm(d) / c.lookahead + 0.3, 0.0, 1.0))
        if v >= c.drive_threshold:  # progress is expected only while driving forward
            self.history.append(xy.copy())
        else:
            self.history.clear()
        if v < c.drive_threshold and abs(w) >= 0.5 and self.last_heading is not None:  # turning in place
            self.turning.append(wrap_angle(pose[2] - self.last_heading))
        else:
            self.turning.clear()
        self.last_heading = float(pose[2])
        action[0], action[1] = v, w
        return action
