"""Procedural homes: a seed -> a furnished multi-room ``FloorPlan`` that a disc robot can traverse.

Steps (all randomness from ``numpy.random.default_rng(seed)``, so a seed and a config give one home):

1. **Layout.** The house is a rectangle cut by recursive binary splits (a BSP tree). The tree is drawn
   first and its size constraints solved exactly with interval arithmetic on a ``snap`` grid: a
   room's sides lie in ``room_side`` (the corridor's width in ``corridor_width``), side-by-side
   children share their parent's height and add up to its width. Any tree whose intervals are
   non-empty can therefore be realised, and the house outline is picked to hit a target area.
   From five rooms on, the tree is a hallway: two groups of rooms on either side of a corridor.
2. **Types.** The largest room is the living room, the smallest ones bathrooms, the others the kitchen
   and bedrooms in random order (the corridor is the hallway leaf).
3. **Doors.** Rooms sharing a wall long enough for a door are adjacent; a minimum spanning tree of
   that graph (cheap through the living room and corridor, expensive into bathrooms, so bathrooms
   stay leaves) gets doors, plus loop doors with ``extra_door_probability``. Doors start open.
4. **Furniture.** Per room, in ``ROOM_FURNITURE`` order, rejection-sample spots against a wall with the
   piece's front toward the room; keep door fronts and piece fronts clear; drop a spot that would
   disconnect the home for a disc of ``robot_radius`` (checked on the inflated traversability map).
   A kitchen without its counter rejects the layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import ndimage

from sim.dimensions import ROOM_DOOR_WIDTH
from sim.homes.floorplan import DoorSpec, FloorPlan, FurnitureSpec, Room
from sim.homes.furnishings import CATALOG, ROOM_FURNITURE
from sim.homes.geometry import door_line, furniture_footprint
from sim.homes.maps import GridMap, dilate, polygon_cells, room_map, traversability_map
from sim.plumbing.checks import check_pair, check_range

MAX_ROOMS = 8
#: room types of an n-room home: the first n of these (the corridor only from five rooms on)
ROOM_SEQUENCE = ("kitchen", "living_room", "bedroom", "bathroom", "corridor", "bedroom", "bathroom", "bedroom")
#: rooms that doors preferably go through (the spanning tree makes them hubs)
HUB_TYPES = ("living_room", "corridor")
#: the generated rooms' order in the plan (then by position)
_TYPE_ORDER = {t: i for i, t in enumerate(("living_room", "kitchen", "corridor", "bedroom", "bathroom"))}
#: wall side -> yaw that turns a piece's front (−x at yaw 0) away from that wall, into the room
_SIDE_YAW = {"east": 0.0, "north": math.pi / 2, "west": math.pi, "south": -math.pi / 2}
_SIDES = ("east", "north", "west", "south")
# Spanning-tree edge weights are 1 + U[0, 1) (the jitter makes the tree random), minus _HUB_DISCOUNT per
# hub end, which makes every edge to a hub cheaper than any other, plus _BATHROOM_PENALTY per bathroom
# end, which makes the tree enter each bathroom once (a leaf) whenever the other rooms connect without it.
_HUB_DISCOUNT = 1.0
_BATHROOM_PENALTY = 10.0


@dataclass(frozen=True)
class GeneratorConfig:
    """Tunables of ``generate_floorplan``. Lengths in m, areas in m², angles in rad.

    Frozen, so the default instance shared by ``generate_floorplan``'s signature cannot be changed.
    """

    num_rooms: tuple[int, int] = (2, 8)  # inclusive range of rooms drawn per home (2 <= low <= high <= 8)
    room_side: tuple[float, float] = (2.6, 5.0)  # every side of every room except the corridor
    corridor_width: tuple[float, float] = (1.4, 1.8)  # the corridor's short side
    corridor_length: tuple[float, float] = (3.0, 10.0)  # the corridor's long side
    # target floor area (sum of the room rectangles) = area_base + rooms * U(area_per_room): gives
    # 26-34 m² for 2 rooms and 86-118 m² for 8 (the larger homes have a corridor and small bathrooms)
    area_base: float = 6.0
    area_per_room: tuple[float, float] = (10.0, 14.0)
    max_house_aspect: float = 2.0  # long / short side of the house outline: no row houses
    snap: float = 0.1  # room corners lie on this grid
    layout_draws: int = 200  # BSP trees drawn per attempt until one can meet all size constraints
    door_width: float = ROOM_DOOR_WIDTH
    door_margin: float = 0.3  # min distance between a doorway and a room corner
    door_angle: float = 1.4  # initial opening of generated doors (open: point goals need no pushing)
    # chance of a loop door between adjacent rooms beyond the spanning tree (never into a bathroom,
    # which keeps its one door)
    extra_door_probability: float = 0.25
    furniture_clearance: float = 0.9  # kept free in front of every door (both sides) and every piece
    wall_gap: float = 0.02  # furniture stands this far from walls and from other pieces
    furniture_snap: float = 0.01  # furniture positions lie on this grid
    furniture_tries: int = 100  # spots sampled per piece before it is left out
    robot_radius: float = 0.3  # the home must be traversable for a disc of this radius
    map_resolution: float = 0.05  # of the traversability map used for the connectivity check
    max_attempts: int = 50  # layouts tried before giving up
    wall_height: float = 2.4
    wall_thickness: float = 0.1

    def __post_init__(self) -> None:
        o = "generator"
        counts = tuple(self.num_rooms)
        if (
            len(counts) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in counts)
            or not 2 <= self.num_rooms[0] <= self.num_rooms[1] <= MAX_ROOMS
        ):
            raise ValueError(
                f"{o}.num_rooms={list(self.num_rooms)!r} must be a [low, high] pair of integers "
                f"with 2 <= low <= high <= {MAX_ROOMS}"
            )
        check_pair(o, "room_side", self.room_side, 1.0, 20.0)
        check_pair(o, "corridor_width", self.corridor_width, 1.0, 5.0)
        check_pair(o, "corridor_length", self.corridor_length, 1.0, 40.0)
        check_range(o, "area_base", self.area_base, 0.0, 200.0)
        check_pair(o, "area_per_room", self.area_per_room, 1.0, 400.0)
        check_range(o, "max_house_aspect", self.max_house_aspect, 1.0, 10.0)
        check_range(o, "snap", self.snap, 0.01, 1.0)
        check_range(o, "layout_draws", self.layout_draws, 1, 100_000)
        check_range(o, "door_width", self.door_width, 0.5, 2.0)
        check_range(o, "door_margin", self.door_margin, 0.0, 2.0)
        check_range(o, "door_angle", self.door_angle, 0.0, math.pi)
        check_range(o, "extra_door_probability", self.extra_door_probability, 0.0, 1.0)
        check_range(o, "furniture_clearance", self.furniture_clearance, 0.0, 3.0)
        check_range(o, "wall_gap", self.wall_gap, 0.0, 0.5)
        check_range(o, "furniture_snap", self.furniture_snap, 0.001, 0.5)
        check_range(o, "furniture_tries", self.furniture_tries, 1, 10_000)
        check_range(o, "robot_radius", self.robot_radius, 0.05, 1.0)
        check_range(o, "map_resolution", self.map_resolution, 0.01, 0.5)
        check_range(o, "max_attempts", self.max_attempts, 1, 10_000)
        check_range(o, "wall_height", self.wall_height, 1.5, 5.0)
        check_range(o, "wall_thickness", self.wall_thickness, 0.02, 0.5)
        need = self.door_width + 2 * self.door_margin
        if self.room_side[0] < need:
            raise ValueError(
                f"generator.room_side[0]={self.room_side[0]} is below door_width + 2 * door_margin "
                f"= {need:.2f} m, so no wall could hold a door; raise room_side or shrink the door"
            )
        # the doorway, narrowed by the robot's radius on each side, must still let a map cell through
        if self.door_width - 2 * self.robot_radius < 2 * self.map_resolution:
            raise ValueError(
                f"generator.door_width={self.door_width} m leaves no room for a robot of radius "
                f"{self.robot_radius} m at map resolution {self.map_resolution} m; widen the "
                f"doors or shrink robot_radius"
            )


# ------------------------------------------------------------------------------------ BSP layout
Interval = tuple[int, int]  # inclusive, in snap units


@dataclass
class _Leaf:
    corridor: bool
    W: Interval  # feasible widths (along x)
    H: Interval  # feasible heights (along y)


@dataclass
class _Split:
    axis: str  # "x": the children sit side by side along x (the cut is a vertical line); "y": stacked
    first: _Node  # the west / south child
    second: _Node
    W: Interval
    H: Interval


_Node = _Leaf | _Split


def _units(pair: tuple[float, float], snap: float) -> Interval:
    """A [lo, hi] range in m as the inclusive range of snap-grid multiples inside it."""
    return math.ceil(pair[0] / snap - 1e-9), math.floor(pair[1] / snap + 1e-9)


def _split(axis: str, first: _Node, second: _Node) -> _Split | None:
    """Join two subtrees; None if no size fits both (the shared side's intervals do not intersect)."""
    if axis == "x":
        W = (first.W[0] + second.W[0], first.W[1] + second.W[1])
        H = (max(first.H[0], second.H[0]), min(first.H[1], second.H[1]))
    else:
        H = (first.H[0] + second.H[0], first.H[1] + second.H[1])
        W = (max(first.W[0], second.W[0]), min(first.W[1], second.W[1]))
    if W[0] > W[1] or H[0] > H[1]:
        return None
    return _Split(axis, first, second, W, H)


def _random_rooms(n: int, side: Interval, rng: np.random.Generator) -> _Node | None:
    """A random BSP subtree of ``n`` ordinary rooms, or None if its sizes cannot work out."""
    if n == 1:
        return _Leaf(False, side, side)
    n1 = int(rng.integers(1, n))
    a, b = _random_rooms(n1, side, rng), _random_rooms(n - n1, side, rng)
    if a is None or b is None:
        return None
    return _split(str(rng.choice(["x", "y"])), a, b)


def _random_tree(n: int, corridor: bool, cfg: GeneratorConfig, rng: np.random.Generator) -> _Node | None:
    """A random layout tree of ``n`` rooms; with a corridor, a hallway with rooms on both sides."""
    side = _units(cfg.room_side, cfg.snap)
    if not corridor:
        return _random_rooms(n, side, rng)
    axis = str(rng.choice(["x", "y"]))  # the direction in which the groups and the corridor are stacked
    width, length = _units(cfg.corridor_width, cfg.snap), _units(cfg.corridor_length, cfg.snap)
    # the corridor runs across the stacking direction, along the groups it serves
    hall = _Leaf(True, width, length) if axis == "x" else _Leaf(True, length, width)
    n_a = int(rng.integers(1, n - 1))  # rooms on one side; the rest (>= 1) on the other
    a, b = _random_rooms(n_a, side, rng), _random_rooms(n - 1 - n_a, side, rng)
    if a is None or b is None:
        return None
    # the hall always ends up between the groups (a | hall | b); which side it joins first varies
    if rng.random() < 0.5:
        inner = _split(axis, hall, b)
        return None if inner is None else _split(axis, a, inner)
    inner = _split(axis, a, hall)
    return None if inner is None else _split(axis, inner, b)


def _outline(tree: _Node, area_m2: float, cfg: GeneratorConfig, rng: np.random.Generator) -> tuple[int, int] | None:
    """House width and height (snap units) within the tree's intervals, near ``area_m2`` and not too
    elongated; None if the tree cannot get there."""
    area = area_m2 / cfg.snap**2
    lo = max(tree.W[0], area / tree.H[1], math.sqrt(area / cfg.max_house_aspect))
    hi = min(tree.W[1], area / tree.H[0], math.sqrt(area * cfg.max_house_aspect))
    lo_i, hi_i = math.ceil(lo), math.floor(hi)
    if lo_i > hi_i:
        return None
    w = int(rng.integers(lo_i, hi_i + 1))
    h = int(np.clip(round(area / w), tree.H[0], tree.H[1]))
    return w, h


def _realize(
    node: _Node, x: int, y: int, w: int, h: int, rng: np.random.Generator, out: list[tuple[_Leaf, int, int, int, int]]
) -> None:
    """Cut the rectangle (x, y, w, h) (snap units) down the tree; append (leaf, x, y, w, h) per room.

    The cut position is drawn from the range that leaves both children feasible, which is never
    empty because (w, h) lies in the node's intervals.
    """
    if isinstance(node, _Leaf):
        out.append((node, x, y, w, h))
        return
    a, b = node.first, node.second
    if node.axis == "x":
        lo, hi = max(a.W[0], w - b.W[1]), min(a.W[1], w - b.W[0])
        w1 = int(rng.integers(lo, hi + 1))
        _realize(a, x, y, w1, h, rng, out)
        _realize(b, x + w1, y, w - w1, h, rng, out)
    else:
        lo, hi = max(a.H[0], h - b.H[1]), min(a.H[1], h - b.H[0])
        h1 = int(rng.integers(lo, hi + 1))
        _realize(a, x, y, w, h1, rng, out)
        _realize(b, x, y + h1, w, h - h1, rng, out)


def _door_fits(a: tuple[_Leaf, int, int, int, int], b: tuple[_Leaf, int, int, int, int], cfg: GeneratorConfig) -> bool:
    """Whether two laid-out rooms (leaf, x, y, w, h in snap units) share a wall long enough for a door."""
    _, ax, ay, aw, ah = a
    _, bx, by, bw, bh = b
    need = (cfg.door_width + 2 * cfg.door_margin) / cfg.snap - 1e-9
    if ax + aw == bx or bx + bw == ax:  # touching along a vertical line
        return min(ay + ah, by + bh) - max(ay, by) >= need
    if ay + ah == by or by + bh == ay:
        return min(ax + aw, bx + bw) - max(ax, bx) >= need
    return False


def _layout(n: int, cfg: GeneratorConfig, rng: np.random.Generator) -> list[Room] | None:
    """Typed, named rooms of an n-room house, or None if no tree drawn this attempt fits."""
    types = list(ROOM_SEQUENCE[:n])
    corridor = "corridor" in types
    area = cfg.area_base + n * rng.uniform(*cfg.area_per_room)
    for _ in range(cfg.layout_draws):
        tree = _random_tree(n, corridor, cfg, rng)
        outline = tree and _outline(tree, area, cfg, rng)
        if outline:
            break
    else:
        return None
    assert tree is not None and outline, "the loop breaks only on a tree with an outline"
    cells: list[tuple[_Leaf, int, int, int, int]] = []
    _realize(tree, 0, 0, outline[0], outline[1], rng, cells)

    # types: the corridor is its leaf; by area, the largest room is the living room, the smallest
    # are the bathrooms; the kitchen is a remaining room that can get a door to the living room or
    # the corridor (when there is one: nobody wants to cook behind a bedroom), the bedrooms the rest
    assigned = ["corridor" if leaf.corridor else "" for leaf, *_ in cells]
    others = sorted((i for i in range(n) if not cells[i][0].corridor), key=lambda i: (-cells[i][3] * cells[i][4], i))
    n_bath = types.count("bathroom")
    assigned[others[0]] = "living_room"
    for i in others[len(others) - n_bath :]:
        assigned[i] = "bathroom"
    middle = others[1 : len(others) - n_bath]
    if middle:
        hubs = [i for i in range(n) if assigned[i] in HUB_TYPES]
        near = [i for i in middle if any(_door_fits(cells[i], cells[h], cfg) for h in hubs)]
        pool = near or middle
        kitchen = pool[int(rng.integers(len(pool)))]
        for i in middle:
            assigned[i] = "kitchen" if i == kitchen else "bedroom"

    order = sorted(range(n), key=lambda i: (_TYPE_ORDER[assigned[i]], cells[i][2], cells[i][1]))
    counts = {t: assigned.count(t) for t in set(assigned)}
    seen: dict[str, int] = {}
    rooms = []
    for i in order:
        _, x, y, w, h = cells[i]
        t = assigned[i]
        seen[t] = seen.get(t, 0) + 1
        name = t if counts[t] == 1 else f"{t}_{seen[t]}"
        s = cfg.snap
        rooms.append(Room(name, t, (round(x * s, 6), round(y * s, 6)), (round((x + w) * s, 6), round((y + h) * s, 6))))
    return rooms


# ------------------------------------------------------------------------------------------ doors
def _doors(rooms: list[Room], cfg: GeneratorConfig, rng: np.random.Generator) -> list[DoorSpec] | None:
    """Doors along a spanning tree of the room adjacency graph plus random loops; None if the rooms
    cannot all be connected."""
    plan = FloorPlan("layout", rooms)
    need = cfg.door_width + 2 * cfg.door_margin
    graph = nx.Graph()
    graph.add_nodes_from(range(len(rooms)))
    for i in range(len(rooms)):
        for j in range(i + 1, len(rooms)):
            edge = plan.shared_edge(rooms[i].name, rooms[j].name)
            if edge[0] is None or edge[1] - edge[0] < need - 1e-9:
                continue
            lo, hi = edge
            types = (rooms[i].type, rooms[j].type)
            weight = (
                1.0
                + rng.random()
                - _HUB_DISCOUNT * sum(t in HUB_TYPES for t in types)
                + _BATHROOM_PENALTY * types.count("bathroom")
            )
            graph.add_edge(i, j, weight=weight, span=(lo, hi))
    if not nx.is_connected(graph):
        return None
    tree = nx.minimum_spanning_tree(graph, weight="weight", algorithm="kruskal")
    chosen = sorted(tuple(sorted(e)) for e in tree.edges)
    for i, j in sorted(tuple(sorted(e)) for e in graph.edges):
        if (i, j) in chosen or "bathroom" in (rooms[i].type, rooms[j].type):
            continue
        if rng.random() < cfg.extra_door_probability:
            chosen.append((i, j))

    doors = []
    for i, j in sorted(chosen):
        lo, hi = graph.edges[i, j]["span"]
        lo, hi = lo + cfg.door_margin + cfg.door_width / 2, hi - cfg.door_margin - cfg.door_width / 2
        grid = np.arange(math.ceil(lo / cfg.snap - 1e-9), math.floor(hi / cfg.snap + 1e-9) + 1) * cfg.snap
        along = float(rng.choice(grid)) if len(grid) else (lo + hi) / 2
        a, b = rooms[i], rooms[j]
        if abs(a.max[0] - b.min[0]) < 1e-6 or abs(a.min[0] - b.max[0]) < 1e-6:  # shared wall runs along y
            x = a.max[0] if abs(a.max[0] - b.min[0]) < 1e-6 else a.min[0]
            center = (round(x, 6), round(along, 6))
            k = 0
        else:
            y = a.max[1] if abs(a.max[1] - b.min[1]) < 1e-6 else a.min[1]
            center = (round(along, 6), round(y, 6))
            k = 1
        # An open panel stands about square to the wall: open it into the deeper room, where it leaves
        # the most room to pass (a positive angle opens toward −x / −y, the side of the lower room).
        low, high = (a, b) if a.center[k] < b.center[k] else (b, a)
        angle = cfg.door_angle if low.size[k] >= high.size[k] else -cfg.door_angle
        doors.append(DoorSpec((a.name, b.name), center, cfg.door_width, angle, "both"))
    return doors


# -------------------------------------------------------------------------------------- furniture
Rect = tuple[float, float, float, float]  # axis-aligned (x0, y0, x1, y1), m


def _overlaps(a: Rect, b: Rect, gap: float = 0.0) -> bool:
    """Whether two rectangles come closer than ``gap`` (overlap by more than a float's noise if 0)."""
    eps = 1e-9
    return a[0] < b[2] + gap - eps and b[0] < a[2] + gap - eps and a[1] < b[3] + gap - eps and b[1] < a[3] + gap - eps


class _Reachability:
    """The inflated traversability map of the home as furniture is added, and its connectivity test."""

    def __init__(self, plan: FloorPlan, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.grid: GridMap = traversability_map(plan, cfg.map_resolution, furniture=False)
        self.inflated = self.grid.inflated(cfg.robot_radius).occupied
        self.rooms = room_map(plan, self.grid)
        self.n_rooms = len(plan.rooms)
        # a piece's inflation reaches robot_radius beyond its footprint; one more cell for rounding
        self.pad = math.ceil(cfg.robot_radius / cfg.map_resolution) + 1

    def connected(self, inflated: np.ndarray) -> bool:
        """Every free cell in one 4-connected component, and every room holding some of them.

        Requiring a single component (not just one per room) means no unreachable pockets: any free
        cell of the map is a valid navigation goal.
        """
        free = ~inflated
        _, n = ndimage.label(free)
        if n != 1:
            return False
        per_room = np.bincount(self.rooms[free].astype(np.int64) + 1, minlength=self.n_rooms + 1)
        return bool(np.all(per_room[1:] > 0))

    def try_add(self, corners: np.ndarray) -> bool:
        """Add a footprint (4, 2 world corners) if the home stays connected; return whether it was."""
        window, mask = polygon_cells(self.grid, corners, pad=self.pad)
        grown = self.inflated.copy()
        grown[window] |= dilate(mask, self.cfg.robot_radius, self.cfg.map_resolution)
        if not self.connected(grown):
            return False
        self.inflated = grown
        return True


def _door_zones(plan: FloorPlan, cfg: GeneratorConfig) -> list[Rect]:
    """Rectangles to keep free of furniture: the doorway width x ``furniture_clearance`` on both sides."""
    zones = []
    for d in plan.doors:
        axis, line, along = door_line(plan, d)
        w, c = d.width / 2, cfg.furniture_clearance
        if axis == "x":
            zones.append((along - w, line - c, along + w, line + c))
        else:
            zones.append((line - c, along - w, line + c, along + w))
    return zones


def _spot(
    kind: str, room: Room, side: str, t: float, cfg: GeneratorConfig, rng: np.random.Generator
) -> tuple[tuple[float, float], Rect, Rect] | None:
    """A random spot for ``kind`` against the ``side`` wall of ``room``: (pos, footprint, front zone),
    or None if the piece with its front clearance does not fit there."""
    hx, hy = CATALOG[kind].half_size
    ex, ey = (hx, hy) if side in ("east", "west") else (hy, hx)  # world half extents
    inner_lo = np.asarray(room.min) + t / 2  # wall faces
    inner_hi = np.asarray(room.max) - t / 2
    g, c, q = cfg.wall_gap, cfg.furniture_clearance, cfg.furniture_snap
    along_axis = 1 if side in ("east", "west") else 0
    half_along = ey if along_axis == 1 else ex
    lo, hi = inner_lo[along_axis] + g + half_along, inner_hi[along_axis] - g - half_along
    k_lo, k_hi = math.ceil(lo / q - 1e-9), math.floor(hi / q + 1e-9)
    if k_lo > k_hi:
        return None
    along = round(int(rng.integers(k_lo, k_hi + 1)) * q, 6)
    if side == "east":
        x = inner_hi[0] - g - ex
        pos, front = (x, along), (x - ex - c, along - ey, x - ex, along + ey)
    elif side == "west":
        x = inner_lo[0] + g + ex
        pos, front = (x, along), (x + ex, along - ey, x + ex + c, along + ey)
    elif side == "north":
        y = inner_hi[1] - g - ey
        pos, front = (along, y), (along - ex, y - ey - c, along + ex, y - ey)
    else:
        y = inner_lo[1] + g + ey
        pos, front = (along, y), (along - ex, y + ey, along + ex, y + ey + c)
    pos = (round(float(pos[0]), 6), round(float(pos[1]), 6))
    rect = (pos[0] - ex, pos[1] - ey, pos[0] + ex, pos[1] + ey)
    # the robot must be able to stand in front of the piece, so its front zone lies in the room
    if (
        front[0] < inner_lo[0] - 1e-9
        or front[1] < inner_lo[1] - 1e-9
        or front[2] > inner_hi[0] + 1e-9
        or front[3] > inner_hi[1] + 1e-9
    ):
        return None
    return pos, rect, front


def _furnish(plan: FloorPlan, cfg: GeneratorConfig, rng: np.random.Generator) -> list[FurnitureSpec] | None:
    """Furniture for every room; None if a kitchen gets no counter (or the bare home is disconnected)."""
    reach = _Reachability(plan, cfg)
    if not reach.connected(reach.inflated):
        return None
    door_zones = _door_zones(plan, cfg)
    rects: list[Rect] = []  # footprints placed so far
    fronts: list[Rect] = []  # their front zones
    placed: list[FurnitureSpec] = []
    for room in plan.rooms:
        for kind, count in ROOM_FURNITURE[room.type]:
            for _ in range(count):
                ok = False
                for _ in range(cfg.furniture_tries):
                    side = _SIDES[int(rng.integers(len(_SIDES)))]
                    spot = _spot(kind, room, side, plan.wall_thickness, cfg, rng)
                    if spot is None:
                        continue
                    pos, rect, front = spot
                    if any(_overlaps(rect, z) for z in door_zones):
                        continue
                    if any(_overlaps(rect, r, cfg.wall_gap) for r in rects):
                        continue
                    if any(_overlaps(rect, f) for f in fronts) or any(_overlaps(front, r) for r in rects):
                        continue
                    spec = FurnitureSpec(kind, room.name, pos, _SIDE_YAW[side])
                    if not reach.try_add(furniture_footprint(spec)):
                        continue  # this spot would cut the home apart for the robot
                    rects.append(rect)
                    fronts.append(front)
                    placed.append(spec)
                    ok = True
                    break
                if not ok and room.type == "kitchen" and kind == "counter":
                    return None  # the kitchen tasks need the counter: try another layout
    return placed


# ------------------------------------------------------------------------------------------- main
def generate_floorplan(seed: int, cfg: GeneratorConfig = GeneratorConfig(), num_rooms: int | None = None) -> FloorPlan:
    """Generate a furnished home from ``seed``; the same seed and config give the same plan.

    Args:
        seed: any integer; seeds the numpy Generator that makes every random choice.
        cfg: tunables (see ``GeneratorConfig``).
        num_rooms: rooms of the home (2..8); default: drawn from ``cfg.num_rooms``.

    Returns:
        A validated ``FloorPlan`` named ``generated_<seed>``, with open doors (``cfg.door_angle``).

    Raises:
        ValueError: ``num_rooms`` out of range.
        RuntimeError: no valid home after ``cfg.max_attempts`` layouts.
    """
    rng = np.random.default_rng(seed)
    if num_rooms is None:
        n = int(rng.integers(cfg.num_rooms[0], cfg.num_rooms[1] + 1))
    else:
        integer = isinstance(num_rooms, (int, np.integer)) and not isinstance(num_rooms, bool)
        if not integer or not 2 <= num_rooms <= MAX_ROOMS:
            raise ValueError(f"num_rooms={num_rooms!r} must be an integer in [2, {MAX_ROOMS}]")
        n = int(num_rooms)
    for _ in range(cfg.max_attempts):
        rooms = _layout(n, cfg, rng)
        if rooms is None:
            continue
        doors = _doors(rooms, cfg, rng)
        if doors is None:
            continue
        plan = FloorPlan(f"generated_{seed}", rooms, doors, [], cfg.wall_height, cfg.wall_thickness)
        furniture = _furnish(plan, cfg, rng)
        if furniture is None:
            continue
        plan.furniture = furniture
        return plan.validate()
    raise RuntimeError(
        f"could not generate a {n}-room home for seed {seed} in {cfg.max_attempts} attempts; "
        f"widen GeneratorConfig.room_side or area_per_room, or raise max_attempts"
    )
