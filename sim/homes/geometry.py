"""Plan geometry: the wall boxes of a floor plan and the footprints of its furniture.

Everything is in the world frame of ``sim.homes.floorplan`` (x east, y north, metres, yaw in radians
counter-clockwise from +x). Walls are axis-aligned boxes standing on the floor, centred on the room
edges, ``plan.wall_thickness`` thick and ``plan.wall_height`` high; doorways are cut out of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.homes.floorplan import EDGE_TOLERANCE, DoorSpec, FloorPlan, FurnitureSpec

#: wall pieces shorter than this (m) are dropped: a doorway ending within a centimetre of a corner
#: would otherwise leave a sliver that renders as a flickering seam and adds a useless collision box
MIN_WALL_LENGTH = 0.01


@dataclass(frozen=True)
class WallBox:
    """An axis-aligned wall segment: ``center`` (x, y) and ``half_extents`` (x, y half sizes), m.

    The box stands on the floor; its height is the plan's ``wall_height``.
    """

    center: tuple[float, float]
    half_extents: tuple[float, float]

    @property
    def low(self) -> np.ndarray:
        """(x, y) of the box's lower-left corner (m)."""
        return np.asarray(self.center) - np.asarray(self.half_extents)

    @property
    def high(self) -> np.ndarray:
        """(x, y) of the box's upper-right corner (m)."""
        return np.asarray(self.center) + np.asarray(self.half_extents)

    def contains(self, xy: Sequence[float] | np.ndarray, margin: float = 0.0) -> bool:
        """Whether the point (x, y) lies in the box grown by ``margin`` m on every side."""
        d = np.abs(np.asarray(xy, dtype=float) - np.asarray(self.center))
        return bool(np.all(d <= np.asarray(self.half_extents) + margin))


# ----------------------------------------------------------------------------------------- walls
def _cluster(values: list[float]) -> dict[float, float]:
    """Map each value to a representative, merging values closer than ``EDGE_TOLERANCE``.

    Rounding alone would split two edges that straddle a rounding boundary; sorting and merging
    neighbours does not.
    """
    rep: dict[float, float] = {}
    current: float | None = None
    for v in sorted(set(values)):
        if current is None or v - current > EDGE_TOLERANCE:
            current = v
        rep[v] = current
    return rep


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of closed intervals, sorted; intervals that touch (within tolerance) merge."""
    out: list[list[float]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + EDGE_TOLERANCE:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


def _subtract(intervals: list[tuple[float, float]], cut: tuple[float, float]) -> list[tuple[float, float]]:
    out = []
    for lo, hi in intervals:
        if cut[1] <= lo or cut[0] >= hi:
            out.append((lo, hi))
            continue
        if cut[0] > lo:
            out.append((lo, cut[0]))
        if cut[1] < hi:
            out.append((cut[1], hi))
    return out


def door_line(plan: FloorPlan, door: DoorSpec) -> tuple[str, float, float]:
    """Where a door sits: (axis, line, along).

    ``axis`` is ``"x"`` when the door's wall runs along x (then ``line`` is its y and ``along`` the
    door centre's x) and ``"y"`` when it runs along y (``line`` is its x, ``along`` the centre's y); m.
    """
    axis = plan.door_axis(door)
    k = 1 if axis == "x" else 0  # the coordinate that is constant along the wall
    a, b = plan.room(door.rooms[0]), plan.room(door.rooms[1])
    # the wall line is the rooms' shared edge (not the door centre, which may be off by the tolerance)
    line = a.max[k] if abs(a.max[k] - b.min[k]) < EDGE_TOLERANCE else a.min[k]
    return axis, float(line), float(door.center[1 - k])


def wall_boxes(plan: FloorPlan) -> list[WallBox]:
    """The walls of ``plan`` as axis-aligned boxes with the doorways cut out.

    Every room edge is a wall ``plan.wall_thickness`` thick, centred on the edge line. Edges on the
    same line are merged (two rooms sharing a wall give one box, not two overlapping ones), each
    merged run is lengthened by half the thickness at both ends so that corners close, and each
    door's doorway (``door.center`` ± ``door.width`` / 2 along the wall) is removed from its line.

    Returns:
        The boxes, ordered by orientation (walls along x first), then line coordinate, then position
        along the line, so the order is the same for the same plan.
    """
    t = plan.wall_thickness
    # (orientation, line coordinate) -> intervals along the line; "x": the edge runs along x at y=line
    raw: dict[str, list[tuple[float, tuple[float, float]]]] = {"x": [], "y": []}
    for r in plan.rooms:
        (x0, y0), (x1, y1) = r.min, r.max
        raw["x"] += [(y0, (x0, x1)), (y1, (x0, x1))]
        raw["y"] += [(x0, (y0, y1)), (x1, (y0, y1))]

    lines: dict[tuple[str, float], list[tuple[float, float]]] = defaultdict(list)
    reps: dict[str, dict[float, float]] = {}
    for orient, edges in raw.items():
        reps[orient] = _cluster([c for c, _ in edges])
        for c, iv in edges:
            lines[(orient, reps[orient][c])].append(iv)

    runs: dict[tuple[str, float], list[tuple[float, float]]] = {
        key: [(lo - t / 2, hi + t / 2) for lo, hi in _union(ivs)] for key, ivs in lines.items()
    }

    for door in plan.doors:
        axis, line, along = door_line(plan, door)
        # the door's line is one of the room edges, so it has a representative within tolerance
        key = next(((o, c) for (o, c) in runs if o == axis and abs(c - line) <= EDGE_TOLERANCE), None)
        if key is None:  # validate() rules this out; keep the walls intact rather than guess
            continue
        runs[key] = _subtract(runs[key], (along - door.width / 2, along + door.width / 2))

    boxes = []
    for orient, line in sorted(runs):
        # rounding to a nanometre drops float noise (4.550000000000001) without moving anything
        c = round(line, 9)
        for lo, hi in sorted(runs[(orient, line)]):
            if hi - lo < MIN_WALL_LENGTH:
                continue
            mid, half = round((lo + hi) / 2, 9), round((hi - lo) / 2, 9)
            if orient == "x":
                boxes.append(WallBox((mid, c), (half, t / 2)))
            else:
                boxes.append(WallBox((c, mid), (t / 2, half)))
    return boxes


def doorway_box(plan: FloorPlan, door: DoorSpec) -> WallBox:
    """The doorway of ``door``: the box cut out of its wall (door width x wall thickness)."""
    axis, line, along = door_line(plan, door)
    if axis == "x":
        return WallBox((along, line), (door.width / 2, plan.wall_thickness / 2))
    return WallBox((line, along), (plan.wall_thickness / 2, door.width / 2))


def door_hinge_end(plan: FloorPlan, door: DoorSpec) -> tuple[np.ndarray, np.ndarray]:
    """The doorway end a door's hinge stands at, and the unit direction from there along the doorway.

    Hinges sit at the north end of doorways in walls along y and at the west end of doorways in
    walls along x; a panel of the doorway's width swings within ``door.width`` m of that end.

    Returns:
        ((2,) the end's x, y in m, (2,) unit vector from the end toward the doorway's other end).
    """
    axis, line, along = door_line(plan, door)
    if axis == "y":
        return np.array([line, along + door.width / 2]), np.array([0.0, -1.0])
    return np.array([along - door.width / 2, line]), np.array([1.0, 0.0])


def door_panel(plan: FloorPlan, door: DoorSpec, angle: float) -> np.ndarray:
    """(2, 2) the hinge end and the free end (x, y, m) of ``door``'s panel opened by ``angle`` rad.

    A positive angle turns the panel clockwise seen from above (the hinge axis points down), as the
    simulator's room doors do: toward −x for doors in walls along y, toward −y for walls along x.
    """
    end, along = door_hinge_end(plan, door)
    c, s = np.cos(angle), np.sin(angle)
    direction = np.array([along[0] * c + along[1] * s, -along[0] * s + along[1] * c])
    return np.stack([end, end + door.width * direction])


def segment_distance(points: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Distance (m) from each of ``points`` (..., 2) to the segment (2, 2); shape (...)."""
    a, b = segment
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[..., None] * ab), axis=-1)


# ------------------------------------------------------------------------------------ footprints
def footprint_corners(half_size: Sequence[float], pos: Sequence[float], yaw: float) -> np.ndarray:
    """Corners of a rectangle in the world, counter-clockwise.

    Args:
        half_size: (half depth along the local x, half width along the local y), m.
        pos: (x, y) of the rectangle's centre in the world, m.
        yaw: rotation of the local frame, rad.

    Returns:
        (4, 2) array of world (x, y) corners, counter-clockwise (a proper convex polygon).
    """
    hx, hy = float(half_size[0]), float(half_size[1])
    local = np.array([[hx, -hy], [hx, hy], [-hx, hy], [-hx, -hy]])
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.array([[c, -s], [s, c]])
    return local @ rot.T + np.asarray(pos, dtype=float)


def furniture_footprint(spec: FurnitureSpec) -> np.ndarray:
    """(4, 2) world corners (m, counter-clockwise) of a piece's footprint, from its catalogue size."""
    from sim.homes.furnishings import CATALOG  # local: furnishings loads PyBullet; floor-plan checks use this

    if spec.kind not in CATALOG:
        raise KeyError(f"furniture kind {spec.kind!r} is unknown; use one of {sorted(CATALOG)}")
    return footprint_corners(CATALOG[spec.kind].half_size, spec.pos, spec.yaw)


def box_corners(box: WallBox) -> np.ndarray:
    """(4, 2) world corners of an axis-aligned box, counter-clockwise."""
    return footprint_corners(box.half_extents, box.center, 0.0)


def points_in_convex_polygon(points: np.ndarray, polygon: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Which points lie inside (or on the border of) a convex polygon.

    Args:
        points: (N, 2) world (x, y), m.
        polygon: (K, 2) corners in order (either orientation).
        tol: points up to this far outside (m, times the edge length) still count as inside.

    Returns:
        (N,) bool.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=float)
    edges = np.roll(poly, -1, axis=0) - poly  # (K, 2)
    area2 = np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1])
    sign = 1.0 if area2 >= 0 else -1.0  # make the test orientation independent
    rel = pts[:, None, :] - poly[None, :, :]  # (N, K, 2)
    cross = edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]
    return np.all(sign * cross >= -tol, axis=1)


def convex_overlap(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether two convex polygons overlap by more than ``tol`` m (separating-axis test).

    Touching polygons (sharing an edge, as furniture against a wall face) do not overlap.
    """
    for poly in (np.asarray(a, dtype=float), np.asarray(b, dtype=float)):
        edges = np.roll(poly, -1, axis=0) - poly
        normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        pa, pb = np.asarray(a) @ normals.T, np.asarray(b) @ normals.T  # (4, K) projections
        gap = np.minimum(pa.max(0), pb.max(0)) - np.maximum(pa.min(0), pb.min(0))
        if np.any(gap <= tol):
            return False
    return True
