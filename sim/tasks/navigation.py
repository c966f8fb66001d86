"""The home tasks: PointNav, InteractiveNav, go to a named room, and mobile manipulation.

A task draws an episode (start pose, goal, door openings, clutter) from the floor plan's
traversability map, says how far the goal is along the shortest feasible path (the geodesic
distance, for SPL and the dense reward) and judges success from the simulator state.

* ``pointnav``: reach a point goal (within ``goal_tolerance``) in a home with open doors.
* ``interactive_nav``: the same with clutter along the shortest path (one object per
  ``clutter_spacing`` m, iGibson's density), some of it unmovable, and some doors closed.
* ``room_nav``: "go to the kitchen" (any room type of the home): succeed inside that room.
* ``open_door``: "open the bedroom door" (manipulator): a closed door of a room of that type.
* ``open_drawer``: "open the kitchen drawer" (manipulator): the counter's drawer.

``sim.tasks.catalogue.HOME_TASK_INFO`` lists these names, with what each needs of the robot; ``HOME_TASKS``
has one instance per entry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from sim.homes.floorplan import FloorPlan
from sim.homes.furnishings import CLUTTER, UNMOVABLE
from sim.homes.geodesic import descend, distance_field
from sim.homes.geometry import door_hinge_end, door_panel, segment_distance
from sim.scenes.home import ClutterSpec, EpisodeLayout
from sim.tasks.catalogue import HOME_TASK_INFO, check_home_task

if TYPE_CHECKING:  # pragma: no cover
    from sim.home_config import HomeEnvConfig
    from sim.homes.maps import GridMap
    from sim.scenes.home import HomeScene

START_CLEARANCE = 0.6  # m: clutter is kept this far from the robot's start and from the goal
MAX_SAMPLING_TRIES = 200  # start/goal draws before a home counts as unable to host the task
ROOM_CLUTTER_PATH_CLEARANCE = 0.15  # m added to robot radius + object radius around the path
PATH_CLUTTER_TRIES = 6  # positions tried for each object along the path before it is left out
PANEL_CLEARANCE = 0.05  # m kept between door panels (at their episode angles) and the robot's start or objects
DETOUR_CLEARANCE = 0.15  # m of room to spare the way around an unmovable obstacle must leave the robot


class TaskSamplingError(RuntimeError):
    """The home cannot host an episode of this task (e.g. too small for the requested distances)."""


@dataclass
class HomeEpisode:
    """One drawn episode.

    Attributes:
        start: (3,) x, y (m), heading (rad).
        goal: (2,) the point the ``goal`` observation points at (m): the point goal, the room's
            centre, the door's or the drawer handle's position.
        shortest_path: L of SPL: geodesic length (m) from the start to success, avoiding walls,
            furniture and unmovable obstacles (doors and movable clutter do not block it).
        instruction: the task in words.
        layout: door openings and clutter to build.
        goal_field: (H, W) geodesic distance (cells) to success, on the task's map (dense reward).
        target_room: room name of ``room_nav`` / ``open_door``; target_door: door index of ``open_door``.
    """

    start: np.ndarray
    goal: np.ndarray
    shortest_path: float
    instruction: str
    layout: EpisodeLayout
    goal_field: np.ndarray
    target_room: str | None = None
    target_door: int | None = None
    path_cells: list[tuple[int, int]] = field(default_factory=list)


class HomeTask(ABC):
    """A task of the home environments."""

    name: str = ""  # a key of ``sim.tasks.catalogue.HOME_TASK_INFO``, which lists the home tasks
    terminate_on_success: bool = True

    @property
    def needs_arm(self) -> bool:
        """Whether only the manipulator can do this task (the catalogue says)."""
        return HOME_TASK_INFO[self.name].needs_arm

    def instruction_for(self, plan: FloorPlan) -> str:  # pragma: no cover - overridden
        return self.name

    @abstractmethod
    def sample(self, plan: FloorPlan, maps: TaskMaps, cfg: HomeEnvConfig, rng: np.random.Generator) -> HomeEpisode:
        """Draw an episode in ``plan`` (raises TaskSamplingError if the home cannot host it)."""

    @abstractmethod
    def succeeded(self, scene: HomeScene, episode: HomeEpisode, cfg: HomeEnvConfig) -> bool:
        """Whether the task is achieved in the current state."""

    def progress_distance(self, scene: HomeScene, episode: HomeEpisode, maps: TaskMaps) -> float:
        """Remaining geodesic distance to success (m) from the robot's position (large if off the map)."""
        x, y, _ = scene.robot.pose()
        r, c = maps.grid.world_to_cell((x, y))
        H, W = episode.goal_field.shape
        if 0 <= r < H and 0 <= c < W and np.isfinite(episode.goal_field[r, c]):
            return float(episode.goal_field[r, c] * maps.grid.resolution)
        # Off the inflated map (brushing a wall): the nearest reachable cell's distance plus the gap.
        finite = np.argwhere(np.isfinite(episode.goal_field))
        if not len(finite):  # a goal no free cell reaches (a hand-made episode): no shaping
            return float(episode.shortest_path)
        d = np.hypot(finite[:, 0] - r, finite[:, 1] - c)
        i = int(np.argmin(d))
        return float((episode.goal_field[tuple(finite[i])] + d[i]) * maps.grid.resolution)


@dataclass
class TaskMaps:
    """Maps of one home shared by every episode in it: the traversability grid and the robot's
    free space (the grid inflated by the robot's radius, restricted to its largest component)."""

    grid: GridMap
    robot_free: np.ndarray  # bool (H, W)
    graph: object = None  # the robot_free grid graph, cached (scipy sparse)


# --------------------------------------------------------------- sampling helpers
def _random_cell(mask: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    cells = np.argwhere(mask)
    r, c = cells[rng.integers(len(cells))]
    return int(r), int(c)


def _door_panels(plan: FloorPlan, angles: list[float]) -> np.ndarray:
    """(D, 2, 2) every door panel (hinge end, free end; m) at the episode's opening ``angles``."""
    return np.array([door_panel(plan, d, a) for d, a in zip(plan.doors, angles)]).reshape(-1, 2, 2)


def _panel_distance(panels: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance (m) from each of ``points`` (..., 2) to the nearest door panel; inf without doors."""
    out = np.full(np.shape(points)[:-1], np.inf)
    for seg in panels:
        out = np.minimum(out, segment_distance(points, seg))
    return out


def _start_mask(maps: TaskMaps, cfg: HomeEnvConfig, panels: np.ndarray) -> np.ndarray:
    """(H, W) bool: free cells where the robot may start, clear of every door panel."""
    xs, ys = maps.grid.cell_centers()
    centres = np.stack(np.broadcast_arrays(xs[None, :], ys[:, None]), axis=-1)
    return maps.robot_free & (_panel_distance(panels, centres) > cfg.base.radius + PANEL_CLEARANCE)


def _sample_start_goal(
    maps: TaskMaps,
    cfg: HomeEnvConfig,
    rng: np.random.Generator,
    panels: np.ndarray,
    goal_mask: np.ndarray | None = None,
) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """A start cell (clear of the door ``panels``) whose geodesic distance to the goal (a random free
    cell, or ``goal_mask``) lies in [min_geodesic, max_geodesic]; returns (start cell, goal cell or mask
    centre, distance field)."""
    res, nav = maps.grid.resolution, cfg.nav
    startable = _start_mask(maps, cfg, panels)
    for _ in range(MAX_SAMPLING_TRIES):
        if goal_mask is None:
            goal = _random_cell(maps.robot_free, rng)
            fld = distance_field(maps.robot_free, goal, maps.graph)
            goal_xy = maps.grid.cell_to_world(goal)
        else:
            fld = distance_field(maps.robot_free, goal_mask, maps.graph)
            goal_xy = None
        ok = (fld * res >= nav.min_geodesic) & (fld * res <= nav.max_geodesic) & startable
        if ok.any():
            return _random_cell(ok, rng), (goal_xy if goal_xy is not None else np.zeros(2)), fld
        if goal_mask is not None:
            break
    raise TaskSamplingError(
        f"no start within [{nav.min_geodesic}, {nav.max_geodesic}] m of a goal in this home; "
        f"lower env.nav.min_geodesic or use a larger home"
    )


def _path_xy(maps: TaskMaps, fld: np.ndarray, start: tuple[int, int]) -> tuple[list[tuple[int, int]], np.ndarray]:
    cells = descend(fld, start)
    return cells, maps.grid.cells_to_world(cells)


def _object_fits(maps: TaskMaps, xy: np.ndarray, radius: float, panels: np.ndarray) -> bool:
    """Whether a disc of ``radius`` m at ``xy`` lies on free (non-inflated) floor, clear of the door panels."""
    if _panel_distance(panels, np.asarray(xy, float)) <= radius + PANEL_CLEARANCE:
        return False
    g = maps.grid
    r, c = g.world_to_cell(xy)
    k = int(np.ceil(radius / g.resolution))
    H, W = g.occupied.shape
    if r - k < 0 or c - k < 0 or r + k >= H or c + k >= W:
        return False
    return not g.occupied[r - k : r + k + 1, c - k : c + k + 1].any()


def _room_clutter(
    plan: FloorPlan,
    maps: TaskMaps,
    cfg: HomeEnvConfig,
    rng: np.random.Generator,
    keep_out: np.ndarray,
    taken: list[tuple[np.ndarray, float]],
    panels: np.ndarray,
) -> list:
    """``room_clutter`` movable objects per room, off the path (``keep_out`` (K, 2) points), clear of the
    door ``panels`` and apart."""
    out = []
    kinds = sorted(CLUTTER)
    for room in plan.rooms:
        for _ in range(cfg.nav.room_clutter):
            kind = kinds[rng.integers(len(kinds))]
            k = CLUTTER[kind]
            rad = float(np.hypot(k.half_extents[0], k.half_extents[1]))
            for _try in range(20):
                xy = rng.uniform(np.asarray(room.min) + rad, np.asarray(room.max) - rad)
                clear = cfg.base.radius + rad + ROOM_CLUTTER_PATH_CLEARANCE
                if len(keep_out) and np.min(np.linalg.norm(keep_out - xy, axis=1)) < clear:
                    continue
                if any(np.linalg.norm(xy - t) < rad + tr + 0.05 for t, tr in taken):
                    continue
                if not _object_fits(maps, xy, rad + 0.02, panels):
                    continue
                out.append(
                    ClutterSpec(
                        kind,
                        (float(xy[0]), float(xy[1])),
                        float(rng.uniform(-np.pi, np.pi)),
                        float(rng.uniform(*k.mass)),
                    )
                )
                taken.append((xy, rad))
                break
    return out


def _start_pose(maps: TaskMaps, cell: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    xy = maps.grid.cell_to_world(cell)
    return np.array([xy[0], xy[1], rng.uniform(-np.pi, np.pi)])


# ---------------------------------------------------------------------- tasks
class PointNav(HomeTask):
    name = "pointnav"

    def instruction_for(self, plan: FloorPlan) -> str:
        return "go to the goal point"

    def _base_episode(self, plan, maps, cfg, rng, door_angles):
        panels = _door_panels(plan, door_angles)
        start, goal_xy, fld = _sample_start_goal(maps, cfg, rng, panels)
        cells, path = _path_xy(maps, fld, start)
        return start, goal_xy, fld, cells, path, EpisodeLayout(door_angles, []), panels

    def sample(self, plan, maps, cfg, rng):
        start, goal_xy, fld, cells, path, layout, panels = self._base_episode(
            plan, maps, cfg, rng, [d.angle for d in plan.doors]
        )
        keep = np.vstack([path, goal_xy[None]])
        layout.clutter = _room_clutter(plan, maps, cfg, rng, keep, [], panels)
        return HomeEpisode(
            _start_pose(maps, start, rng),
            goal_xy,
            float(fld[start] * maps.grid.resolution),
            self.instruction_for(plan),
            layout,
            fld,
            path_cells=cells,
        )

    def succeeded(self, scene, episode, cfg):
        x, y, _ = scene.robot.pose()
        return bool(np.hypot(x - episode.goal[0], y - episode.goal[1]) <= cfg.nav.goal_tolerance)


class InteractiveNav(PointNav):
    name = "interactive_nav"

    def sample(self, plan, maps, cfg, rng):
        nav = cfg.nav
        angles = [0.0 if rng.random() < nav.closed_door_probability else d.angle for d in plan.doors]
        start, goal_xy, fld, cells, path, layout, panels = self._base_episode(plan, maps, cfg, rng, angles)
        seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        L = float(arc[-1])
        n = int(np.floor(L / nav.clutter_spacing))
        kinds = sorted(CLUTTER)
        clutter: list[ClutterSpec] = []
        taken: list[tuple[np.ndarray, float]] = []  # (xy, radius) of each placed object
        lo, hi = START_CLEARANCE, L - START_CLEARANCE
        # Evenly spaced along the free stretch of the path, each jittered along and across it.
        for i in range(n):
            if hi <= lo:
                break
            unmovable = rng.random() < nav.unmovable_fraction
            kind = "unmovable" if unmovable else kinds[rng.integers(len(kinds))]
            k = UNMOVABLE if unmovable else CLUTTER[kind]
            rad = float(np.hypot(k.half_extents[0], k.half_extents[1]))
            # A few draws within the object's stretch of path: near walls, furniture and door panels the
            # first may not fit.
            for attempt in range(PATH_CLUTTER_TRIES):
                lo_frac, hi_frac = (0.2, 0.8) if attempt == 0 else (0.0, 1.0)
                s = lo + (i + rng.uniform(lo_frac, hi_frac)) * (hi - lo) / max(n, 1)
                j = int(np.clip(np.searchsorted(arc, s), 1, len(path) - 1))
                t = (s - arc[j - 1]) / max(seg[j - 1], 1e-9)
                p0 = path[j - 1] + t * (path[j] - path[j - 1])
                tangent = (path[j] - path[j - 1]) / max(seg[j - 1], 1e-9)
                normal = np.array([-tangent[1], tangent[0]])
                xy = p0 + normal * rng.uniform(-nav.clutter_offset, nav.clutter_offset)
                if any(np.linalg.norm(xy - q) < rad + qr + 0.02 for q, qr in taken) or not _object_fits(
                    maps, xy, rad, panels
                ):
                    continue
                clutter.append(
                    ClutterSpec(
                        kind,
                        (float(xy[0]), float(xy[1])),
                        float(rng.uniform(-np.pi, np.pi)),
                        float(rng.uniform(*k.mass)),
                    )
                )
                taken.append((xy, rad))
                break
        # Unmovable obstacles may block the way only where another route exists: keep each one only if
        # start and goal stay connected around it (with DETOUR_CLEARANCE to spare) and it stands clear
        # of every door's swing (a crate there would jam the door half open); else it becomes a carton.
        free = maps.robot_free
        goal_cell = maps.grid.world_to_cell(goal_xy)
        hinges = [(door_hinge_end(plan, d)[0], d.width) for d in plan.doors]
        crate = float(np.hypot(*UNMOVABLE.half_extents[:2]))
        final = []
        for c in clutter:
            if c.kind == "unmovable":
                trial = free & ~_disc_mask(maps, np.asarray(c.xy), crate + cfg.base.radius + DETOUR_CLEARANCE)
                in_swing = any(np.linalg.norm(np.asarray(c.xy) - h) < w + crate for h, w in hinges)
                if not in_swing and _connected(trial, start, goal_cell):
                    free = trial
                else:
                    k = CLUTTER["carton"]
                    c = ClutterSpec("carton", c.xy, c.yaw, float(rng.uniform(*k.mass)))
            final.append(c)
        if free is not maps.robot_free:  # a crate stays: the shortest feasible path goes round it
            fld = distance_field(free, goal_cell)
        keep = np.vstack([path, goal_xy[None]])
        layout.clutter = final + _room_clutter(plan, maps, cfg, rng, keep, list(taken), panels)
        return HomeEpisode(
            _start_pose(maps, start, rng),
            goal_xy,
            float(fld[start] * maps.grid.resolution),
            self.instruction_for(plan),
            layout,
            fld,
            path_cells=cells,
        )


def _connected(free: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether cells ``a`` and ``b`` lie in one 4-connected region of ``free`` (grid paths never cut corners,
    so 8-connected paths reach exactly the 4-connected region)."""
    if not (free[a] and free[b]):
        return False
    labels, _ = ndimage.label(free)
    return bool(labels[a] == labels[b])


def _disc_mask(maps: TaskMaps, xy: np.ndarray, radius: float) -> np.ndarray:
    """(H, W) bool: cells whose centre lies within ``radius`` m of ``xy``."""
    xs, ys = maps.grid.cell_centers()
    return (xs[None, :] - xy[0]) ** 2 + (ys[:, None] - xy[1]) ** 2 <= radius**2


def _room_mask(maps: TaskMaps, room, margin: float) -> np.ndarray:
    """(H, W) bool: cells whose centre lies inside ``room`` shrunk by ``margin`` m."""
    xs, ys = maps.grid.cell_centers()
    inx = (xs >= room.min[0] + margin) & (xs <= room.max[0] - margin)
    iny = (ys >= room.min[1] + margin) & (ys <= room.max[1] - margin)
    return iny[:, None] & inx[None, :]


class RoomNav(HomeTask):
    """Go to a room of the given type; the type is drawn among the home's rooms unless fixed."""

    name = "room_nav"

    def __init__(self, room_type: str | None = None):
        self.room_type = room_type

    def sample(self, plan, maps, cfg, rng):
        types = sorted({r.type for r in plan.rooms}) if self.room_type is None else [self.room_type]
        angles = [d.angle for d in plan.doors]
        panels = _door_panels(plan, angles)
        startable = _start_mask(maps, cfg, panels)
        for _ in range(MAX_SAMPLING_TRIES):
            rtype = types[rng.integers(len(types))]
            rooms = plan.rooms_of_type(rtype)
            if not rooms:
                raise TaskSamplingError(
                    f"home {plan.name!r} has no {rtype}; its rooms are {sorted({r.type for r in plan.rooms})}"
                )
            room = rooms[rng.integers(len(rooms))]
            mask = _room_mask(maps, room, cfg.base.radius) & maps.robot_free
            if not mask.any():
                continue
            fld = distance_field(maps.robot_free, mask, maps.graph)
            ok = (
                (fld * maps.grid.resolution >= cfg.nav.min_geodesic)
                & np.isfinite(fld)
                & (fld * maps.grid.resolution <= cfg.nav.max_geodesic)
                & startable
            )
            if not ok.any():
                continue
            start = _random_cell(ok, rng)
            cells, path = _path_xy(maps, fld, start)
            layout = EpisodeLayout(angles, _room_clutter(plan, maps, cfg, rng, path, [], panels))
            noun = rtype.replace("_", " ")
            return HomeEpisode(
                _start_pose(maps, start, rng),
                room.center,
                float(fld[start] * maps.grid.resolution),
                f"go to the {noun}",
                layout,
                fld,
                target_room=room.name,
                path_cells=cells,
            )
        raise TaskSamplingError(
            f"home {plan.name!r}: no start far enough from a {types} room; lower env.nav.min_geodesic"
        )

    def succeeded(self, scene, episode, cfg):
        x, y, _ = scene.robot.pose()
        return scene.plan.room(episode.target_room).contains((x, y), margin=cfg.base.radius)


class OpenDoor(HomeTask):
    """ "open the bedroom door": a closed door of a room of ``room_type``; success at ``door_open_threshold``."""

    name = "open_door"

    def __init__(self, room_type: str | None = None):
        self.room_type = room_type  # None: a bedroom door when the home has one, else any room's door

    def sample(self, plan, maps, cfg, rng):
        rtype = self.room_type
        if rtype is None:
            types = sorted({plan.room(r).type for d in plan.doors for r in d.rooms} - {"corridor"})
            rtype = "bedroom" if "bedroom" in types else (types[rng.integers(len(types))] if types else "bedroom")
        doors = [i for i, d in enumerate(plan.doors) if any(plan.room(r).type == rtype for r in d.rooms)]
        if not doors:
            raise TaskSamplingError(f"home {plan.name!r} has no door to a {rtype}; choose another home or room type")
        i = doors[rng.integers(len(doors))]
        door = plan.doors[i]
        room = next(r for r in door.rooms if plan.room(r).type == rtype)
        # Success needs the robot at the door: distances are to the doorway, from the other side.
        goal_mask = _disc_mask(maps, np.asarray(door.center), 0.9) & maps.robot_free
        angles = [d.angle for d in plan.doors]
        angles[i] = 0.0
        panels = _door_panels(plan, angles)
        start, _, fld = _sample_start_goal(maps, cfg, rng, panels, goal_mask)
        cells, path = _path_xy(maps, fld, start)
        layout = EpisodeLayout(angles, _room_clutter(plan, maps, cfg, rng, path, [], panels))
        return HomeEpisode(
            _start_pose(maps, start, rng),
            np.asarray(door.center, float),
            float(fld[start] * maps.grid.resolution),
            f"open the {rtype.replace('_', ' ')} door",
            layout,
            fld,
            target_room=room,
            target_door=i,
            path_cells=cells,
        )

    def succeeded(self, scene, episode, cfg):
        return bool(abs(scene.doors[episode.target_door].state()) >= cfg.nav.door_open_threshold)


class OpenDrawer(HomeTask):
    """ "open the kitchen drawer": the counter's drawer; success at ``drawer_open_threshold``."""

    name = "open_drawer"

    def sample(self, plan, maps, cfg, rng):
        counters = [f for f in plan.furniture if f.kind == "counter"]
        if not counters:
            raise TaskSamplingError(f"home {plan.name!r} has no kitchen counter; choose another home")
        f = counters[0]
        # The counter's front (−x at yaw 0) is where the robot stands to use it.
        front = np.asarray(f.pos) + 0.9 * np.array([-np.cos(f.yaw), -np.sin(f.yaw)])
        goal_mask = _disc_mask(maps, front, 0.5) & maps.robot_free
        angles = [d.angle for d in plan.doors]
        panels = _door_panels(plan, angles)
        start, _, fld = _sample_start_goal(maps, cfg, rng, panels, goal_mask)
        cells, path = _path_xy(maps, fld, start)
        layout = EpisodeLayout(angles, _room_clutter(plan, maps, cfg, rng, path, [], panels))
        return HomeEpisode(
            _start_pose(maps, start, rng),
            np.asarray(f.pos, float),
            float(fld[start] * maps.grid.resolution),
            "open the kitchen drawer",
            layout,
            fld,
            path_cells=cells,
        )

    def succeeded(self, scene, episode, cfg):
        return bool(scene.counters and scene.counters[0].drawer.state() >= cfg.nav.drawer_open_threshold)


_IMPLEMENTATIONS: dict[str, type[HomeTask]] = {
    cls.name: cls for cls in (PointNav, InteractiveNav, RoomNav, OpenDoor, OpenDrawer)
}
if _IMPLEMENTATIONS.keys() != HOME_TASK_INFO.keys():  # pragma: no cover - a task added to one list only
    raise ImportError(
        f"home tasks in sim.tasks.catalogue {sorted(HOME_TASK_INFO)} and their classes {sorted(_IMPLEMENTATIONS)} differ"
    )
#: task name → task instance, in the catalogue's order
HOME_TASKS: dict[str, HomeTask] = {name: _IMPLEMENTATIONS[name]() for name in HOME_TASK_INFO}


def get_home_task(name: str) -> HomeTask:
    """The home task called ``name``; a ValueError lists the choices otherwise."""
    check_home_task(name)
    return HOME_TASKS[name]
