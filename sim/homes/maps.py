"""Grid maps of a home: where a robot's centre may be (traversability) and which room a cell is in.

Convention: a ``GridMap`` is indexed ``[row, col]`` with the row along y and the column along x;
cell ``(r, c)`` covers x in [origin_x + c·res, origin_x + (c+1)·res) and y in
[origin_y + r·res, origin_y + (r+1)·res). A cell is occupied when its centre is; inflating the map
by a robot's radius turns it into a configuration space for a disc robot (free cell = the disc
centred there touches no occupied cell centre).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sim.homes.floorplan import FloorPlan
from sim.homes.geometry import doorway_box, furniture_footprint, points_in_convex_polygon, wall_boxes

#: cells whose centres are up to this far outside a polygon still count as inside (m); absorbs float
#: noise so that a footprint edge exactly on a cell centre rasterizes the same on every machine
_RASTER_TOL = 1e-9


@dataclass
class GridMap:
    """A 2-D occupancy grid.

    Attributes:
        occupied: (H, W) bool; True where a robot's centre may not be.
        origin: world (x, y) of the outer corner of cell (0, 0), m.
        resolution: cell side, m.
    """

    occupied: np.ndarray
    origin: tuple[float, float]
    resolution: float

    def __post_init__(self) -> None:
        self.occupied = np.asarray(self.occupied, dtype=bool)
        if self.occupied.ndim != 2:
            raise ValueError(f"GridMap.occupied must be a 2-D (H, W) array, got shape {self.occupied.shape}")
        if not self.resolution > 0:
            raise ValueError(f"GridMap.resolution={self.resolution!r} must be positive (m per cell)")
        self.origin = (float(self.origin[0]), float(self.origin[1]))

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W): rows (along y), columns (along x)."""
        return self.occupied.shape

    @property
    def free(self) -> np.ndarray:
        """(H, W) bool: the complement of ``occupied``."""
        return ~self.occupied

    def world_to_cells(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) world (x, y) in m -> (N, 2) int (row, col); points off the map give out-of-range cells."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        col = np.floor((xy[:, 0] - self.origin[0]) / self.resolution)
        row = np.floor((xy[:, 1] - self.origin[1]) / self.resolution)
        return np.stack([row, col], axis=1).astype(np.int64)

    def world_to_cell(self, xy: Sequence[float] | np.ndarray) -> tuple[int, int]:
        """World (x, y), m -> (row, col) of the cell containing it (may be out of bounds)."""
        r, c = self.world_to_cells(np.asarray(xy, dtype=float)[None])[0]
        return int(r), int(c)

    def cells_to_world(self, cells: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
        """(N, 2) (row, col) -> (N, 2) world (x, y) of the cell centres, m."""
        rc = np.asarray(cells, dtype=float).reshape(-1, 2)
        return np.stack(
            [self.origin[0] + (rc[:, 1] + 0.5) * self.resolution, self.origin[1] + (rc[:, 0] + 0.5) * self.resolution],
            axis=1,
        )

    def cell_to_world(self, cell: Sequence[int]) -> np.ndarray:
        """(row, col) -> (2,) world (x, y) of the cell centre, m."""
        r, c = cell
        return np.array([self.origin[0] + (c + 0.5) * self.resolution, self.origin[1] + (r + 0.5) * self.resolution])

    def in_bounds(self, cell: Sequence[int]) -> bool:
        """Whether (row, col) is a cell of the map."""
        return bool(0 <= cell[0] < self.shape[0] and 0 <= cell[1] < self.shape[1])

    def cell_centers(self) -> tuple[np.ndarray, np.ndarray]:
        """(xs (W,), ys (H,)): world x of each column's centres and y of each row's, m."""
        xs = self.origin[0] + (np.arange(self.shape[1]) + 0.5) * self.resolution
        ys = self.origin[1] + (np.arange(self.shape[0]) + 0.5) * self.resolution
        return xs, ys

    def inflated(self, radius_m: float) -> GridMap:
        """A copy with the occupied cells dilated by a disc of ``radius_m`` m.

        A cell becomes occupied when its centre is within ``radius_m`` of an occupied cell's centre;
        cells beyond the map's edge count as occupied, so the border grows too.
        """
        # pad with one occupied ring: the map's outside counts as occupied
        padded = np.pad(self.occupied, 1, constant_values=True)
        return GridMap(dilate(padded, radius_m, self.resolution)[1:-1, 1:-1], self.origin, self.resolution)


def dilate(mask: np.ndarray, radius_m: float, resolution: float) -> np.ndarray:
    """(H, W) bool ``mask`` dilated by a disc: True where a cell centre is within ``radius_m`` (m) of a
    True cell's centre. Cells beyond the array's edge count as False.

    Dilation distributes over union (dilate(A | B) == dilate(A) | dilate(B)), which lets the generator
    add one piece of furniture at a time to an already inflated map.
    """
    if radius_m < 0:
        raise ValueError(f"inflation radius {radius_m} m must be >= 0")
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return mask.copy()  # distance_transform_edt has no zero to measure from
    # distance_transform_edt measures each non-zero cell's distance to the nearest zero (in cells)
    dist = ndimage.distance_transform_edt(~mask) * resolution
    return dist <= radius_m + _RASTER_TOL


def _span(centers: np.ndarray, lo: float, hi: float) -> slice:
    """The index range of sorted cell centres within [lo, hi] (with a tolerance for float noise)."""
    return slice(
        int(np.searchsorted(centers, lo - _RASTER_TOL, "left")),
        int(np.searchsorted(centers, hi + _RASTER_TOL, "right")),
    )


def box_cells(
    grid: GridMap, low: Sequence[float] | np.ndarray, high: Sequence[float] | np.ndarray
) -> tuple[slice, slice]:
    """(row slice, col slice) of the cells whose centres lie in the axis-aligned box [low, high] (m)."""
    xs, ys = grid.cell_centers()
    return _span(ys, low[1], high[1]), _span(xs, low[0], high[0])


def polygon_cells(grid: GridMap, corners: np.ndarray, pad: int = 0) -> tuple[tuple[slice, slice], np.ndarray]:
    """Rasterize a convex polygon in a window of the grid.

    Args:
        grid: the map (only its geometry is used).
        corners: (K, 2) world corners of a convex polygon, m.
        pad: extra cells around the polygon's bounding box in the window.

    Returns:
        ((row slice, col slice), mask): the window (clipped to the map) and a bool mask of its
        shape, True where the cell centre lies in the polygon.
    """
    corners = np.asarray(corners, dtype=float)
    rows, cols = box_cells(grid, corners.min(axis=0), corners.max(axis=0))
    h, w = grid.shape
    rows = slice(max(rows.start - pad, 0), min(rows.stop + pad, h))
    cols = slice(max(cols.start - pad, 0), min(cols.stop + pad, w))
    xs, ys = grid.cell_centers()
    gx, gy = np.meshgrid(xs[cols], ys[rows])
    inside = points_in_convex_polygon(np.stack([gx.ravel(), gy.ravel()], axis=1), corners, _RASTER_TOL)
    return (rows, cols), inside.reshape(gx.shape)


def empty_map(plan: FloorPlan, resolution: float) -> GridMap:
    """An all-free grid covering ``plan.bounds`` plus one cell on every side."""
    if not resolution > 0:
        raise ValueError(f"map resolution {resolution!r} must be positive (m per cell)")
    lo, hi = plan.bounds
    origin = lo - resolution  # the margin keeps the outer walls' outer faces inside the map
    w, h = np.ceil((hi - lo) / resolution - 1e-9).astype(int) + 2
    return GridMap(np.zeros((h, w), dtype=bool), (origin[0], origin[1]), resolution)


def traversability_map(plan: FloorPlan, resolution: float = 0.05, furniture: bool = True) -> GridMap:
    """Rasterize a home: which cells a robot's centre may occupy (before inflating by its radius).

    A cell is occupied when its centre lies in a wall box, in a furniture footprint (if
    ``furniture``), or outside every room and every doorway (outside the home). Doorways are free;
    door panels are not drawn because a robot can push them.

    Args:
        plan: the home.
        resolution: cell side, m.
        furniture: whether furniture footprints occupy cells.

    Returns:
        A ``GridMap`` covering ``plan.bounds`` plus a one-cell margin (which is outside, so occupied).
    """
    grid = empty_map(plan, resolution)
    inside = np.zeros(grid.shape, dtype=bool)
    for r in plan.rooms:
        inside[box_cells(grid, r.min, r.max)] = True
    for d in plan.doors:
        box = doorway_box(plan, d)
        inside[box_cells(grid, box.low, box.high)] = True
    occ = ~inside
    for wall in wall_boxes(plan):
        occ[box_cells(grid, wall.low, wall.high)] = True
    if furniture:
        for f in plan.furniture:
            window, mask = polygon_cells(grid, furniture_footprint(f))
            occ[window] |= mask
    grid.occupied = occ
    return grid


def room_map(plan: FloorPlan, grid: GridMap) -> np.ndarray:
    """(H, W) int16: index into ``plan.rooms`` of the room containing each cell centre, -1 elsewhere.

    Rooms only share edges, so a tie happens only for a centre exactly on a shared edge; the room
    listed first keeps such a cell.
    """
    out = np.full(grid.shape, -1, dtype=np.int16)
    for i in reversed(range(len(plan.rooms))):  # reversed: earlier rooms overwrite, so they win ties
        r = plan.rooms[i]
        out[box_cells(grid, r.min, r.max)] = i
    return out


def free_components(grid: GridMap) -> tuple[np.ndarray, int]:
    """Connected components of the free cells (4-connected: a disc robot cannot squeeze diagonally).

    Returns:
        ((H, W) int32 labels, 0 on occupied cells and 1..n on free ones; n).
    """
    labels, n = ndimage.label(grid.free)
    return labels, int(n)
