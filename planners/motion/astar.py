"""Grid planning for a mobile base: A* on an occupancy / traversability grid, and its helpers.

Conventions shared by every function here:

  - a grid is a numpy array of shape (H, W) indexed ``[row, col]``; a cell is a ``(row, col)`` tuple
    of ints; ``free`` grids are bool with True = traversable;
  - moves are the 8 king moves (``diagonal=True``) or the 4 orthogonal ones, of length 1 or √2 cells;
  - a diagonal move is allowed only when both orthogonal cells it passes between are free (no corner
    cutting): a base squeezing between two diagonally touching obstacles would clip both;
  - lengths are in cells unless a ``resolution`` (metres per cell) converts them to metres.

``geodesic_distance_field`` uses exactly astar's move set and corner rule, so its value at a cell is
the length of the path ``astar`` returns from there (without ``cost``). ``simplify_path`` applies the
same corner rule to its straight segments, so a simplified path never squeezes where astar would not.

Example:
    >>> free = np.ones((50, 80), bool); free[10:40, 40] = False        # a wall the base drives round
    >>> occupied = inflate(~free, radius_cells=3.0)                      # keep 3 cells of clearance
    >>> path = astar(~occupied, (25, 5), (25, 75))                       # [(25, 5), ..., (25, 75)]
    >>> path_length(path, resolution=0.05)                               # metres
    >>> waypoints = simplify_path(path, ~occupied)                       # a few straight segments
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np

from sim.homes.geodesic import distance_field
from sim.homes.maps import dilate

__all__ = ["Cell", "astar", "geodesic_distance_field", "inflate", "nearest_free", "path_length", "simplify_path"]

Cell = tuple[int, int]

SQRT2 = math.sqrt(2.0)
# Spacing (cells) of the samples simplify_path's line-of-sight check takes along a segment. At ≤ 0.5
# consecutive samples land in the same or king-adjacent cells, so the corner rule between them makes
# the check cover every cell the segment passes through (see _segment_is_free).
LOS_SAMPLE_SPACING = 0.5


# ----------------------------------------------------------------------------------------- validation
def _check_grid(name: str, grid: np.ndarray) -> np.ndarray:
    """``grid`` as a 2-D bool array, or a ValueError naming the argument."""
    grid = np.asarray(grid)
    if grid.ndim != 2 or grid.shape[0] == 0 or grid.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D (H, W) grid, got shape {grid.shape}")
    if grid.dtype != bool:
        raise ValueError(
            f"{name} must be a bool array (True = {'free' if name == 'free' else 'occupied'}), "
            f"got dtype {grid.dtype}; convert it, e.g. {name} = grid > 0"
        )
    return grid


def _check_cell(name: str, cell: Sequence[int], shape: tuple[int, int]) -> Cell:
    """``cell`` as a (row, col) tuple inside ``shape``, or a ValueError naming the argument."""
    try:
        r, c = (int(v) for v in cell)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (row, col) pair of integers, got {cell!r}") from None
    if not (0 <= r < shape[0] and 0 <= c < shape[1]):
        raise ValueError(
            f"{name}={(r, c)} is outside the {shape[0]}×{shape[1]} grid; "
            f"use a cell with 0 ≤ row < {shape[0]} and 0 ≤ col < {shape[1]}"
        )
    return r, c


def _check_free_cell(name: str, cell: Cell, free: np.ndarray) -> None:
    if not free[cell]:
        raise ValueError(
            f"{name}={cell} is on an occupied cell; move it to a free one first, "
            f"e.g. with nearest_free(free, {name}, max_radius)"
        )


def _moves(diagonal: bool) -> list[tuple[int, int, float]]:
    """(d_row, d_col, length in cells) of every move, orthogonal first (a fixed order: determinism)."""
    moves = [(-1, 0, 1.0), (1, 0, 1.0), (0, -1, 1.0), (0, 1, 1.0)]
    if diagonal:
        moves += [(-1, -1, SQRT2), (-1, 1, SQRT2), (1, -1, SQRT2), (1, 1, SQRT2)]
    return moves


# ---------------------------------------------------------------------------------------------- A*
def astar(
    free: np.ndarray,
    start: Sequence[int],
    goal: Sequence[int],
    *,
    cost: np.ndarray | None = None,
    diagonal: bool = True,
) -> list[Cell] | None:
    """Shortest grid path from ``start`` to ``goal`` over free cells, or None if there is none.

    Args:
        free: (H, W) bool, True = traversable.
        start, goal: (row, col) cells; both must be inside the grid and free.
        cost: optional (H, W) float ≥ 0, extra cost per cell of step length for entering a cell: a step
            of length ℓ (1 or √2 cells) into cell c costs ℓ · (1 + cost[c]). Callers raise it near walls
            (e.g. from a distance transform) to trade path length for clearance.
        diagonal: 8-connected moves (with no corner cutting) if True, else 4-connected.

    Returns:
        The cells from ``start`` to ``goal`` inclusive (``[start]`` if they coincide), minimising the
        total step cost; None when ``goal`` is unreachable. Ties between equal-cost paths are broken
        deterministically (same inputs → same path).

    Raises:
        ValueError: bad grid / cost shapes or dtypes, a cell outside the grid, or on an occupied cell.
    """
    free = _check_grid("free", free)
    height, width = free.shape
    start = _check_cell("start", start, free.shape)
    goal = _check_cell("goal", goal, free.shape)
    _check_free_cell("start", start, free)
    _check_free_cell("goal", goal, free)
    if start == goal:
        return [start]

    # Work on a grid padded with one occupied cell on every side: neighbours are then plain flat-index
    # offsets with no bounds checks in the inner loop (the padding is never free, so never entered).
    pw = width + 2
    padded = np.zeros((height + 2, pw), bool)
    padded[1:-1, 1:-1] = free
    # Python lists: indexing them from the interpreter is several times faster than numpy scalars.
    is_free: list[bool] = padded.ravel().tolist()
    if cost is None:
        weight = None
    else:
        cost = np.asarray(cost, dtype=float)
        if cost.shape != free.shape:
            raise ValueError(f"cost must have the grid's shape {free.shape}, got {cost.shape}")
        if not np.all(np.isfinite(cost)) or (cost < 0).any():
            raise ValueError(
                "cost must be finite and ≥ 0 everywhere (a negative cost would make the "
                "heuristic inadmissible); mark impassable cells in free instead"
            )
        padded_cost = np.zeros((height + 2, pw))
        padded_cost[1:-1, 1:-1] = 1.0 + cost
        weight = padded_cost.ravel().tolist()

    # (flat offset, length, flat offsets of the two orthogonal cells a diagonal passes between; 0, 0 for
    # orthogonal moves, which need no corner check).
    moves = [
        (dr * pw + dc, length, dr * pw if dr and dc else 0, dc if dr and dc else 0)
        for dr, dc, length in _moves(diagonal)
    ]
    s = (start[0] + 1) * pw + start[1] + 1
    g_idx = (goal[0] + 1) * pw + goal[1] + 1
    gr, gc = divmod(g_idx, pw)

    def heuristic(i: int) -> float:
        # Octile distance: the exact path length on an empty 8-connected grid, hence admissible (and
        # consistent) for any obstacles and any cost ≥ 0; Manhattan plays that role when 4-connected.
        r, c = divmod(i, pw)
        dr, dc = abs(r - gr), abs(c - gc)
        if diagonal:
            return (SQRT2 - 1.0) * min(dr, dc) + max(dr, dc)
        return float(dr + dc)

    n = padded.size
    g = np.full(n, np.inf).tolist()  # best known cost-to-come; a list for the same reason as is_free
    parent = [-1] * n
    closed = [False] * n
    g[s] = 0.0
    h0 = heuristic(s)
    # Entries (f, h, cell): among equal f, the smaller h (closer to the goal) first, which on open
    # ground expands one straight line of cells instead of the whole tie set; the flat index settles
    # remaining ties, so the search order, and the path, are deterministic.
    heap: list[tuple[float, float, int]] = [(h0, h0, s)]
    while heap:
        _, _, i = heapq.heappop(heap)
        if closed[i]:
            continue  # a stale entry: i was already expanded through a cheaper one
        if i == g_idx:
            break
        closed[i] = True
        gi = g[i]
        for off, length, o1, o2 in moves:
            j = i + off
            if not is_free[j] or closed[j]:
                continue
            if o1 and not (is_free[i + o1] and is_free[i + o2]):
                continue  # no corner cutting between two cells of which one is occupied
            gj = gi + (length if weight is None else length * weight[j])
            if gj < g[j]:
                g[j] = gj
                parent[j] = i
                hj = heuristic(j)
                heapq.heappush(heap, (gj + hj, hj, j))
    else:
        return None

    path = []
    i = g_idx
    while i != -1:
        r, c = divmod(i, pw)
        path.append((r - 1, c - 1))
        i = parent[i]
    path.reverse()
    return path


def path_length(path: Sequence[Sequence[int]], resolution: float = 1.0) -> float:
    """Length of a cell path in metres: the sum of its step lengths (cells) × ``resolution`` (m/cell).

    ``path`` is a sequence of (row, col) cells; fewer than two cells have length 0. Steps need not be
    king moves (a simplified path's straight segments are measured by their Euclidean length).
    """
    if not (isinstance(resolution, (int, float)) and math.isfinite(resolution) and resolution > 0):
        raise ValueError(f"resolution must be a positive number of metres per cell, got {resolution!r}")
    if len(path) < 2:
        return 0.0
    pts = np.asarray(path, dtype=float)  # (N, 2)
    return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum() * resolution)


# ---------------------------------------------------------------------------------- distance field
def geodesic_distance_field(free: np.ndarray, goal: Sequence[int], *, diagonal: bool = True) -> np.ndarray:
    """Shortest-path distance (cells) from every cell to ``goal`` with astar's moves and corner rule.

    Args:
        free: (H, W) bool, True = traversable.
        goal: (row, col), inside the grid and free.
        diagonal: 8-connected (no corner cutting) if True, else 4-connected, as in ``astar``.

    Returns:
        (H, W) float64: the length in cells of the shortest path from each cell to ``goal`` (0 at the
        goal), equal to ``path_length(astar(free, cell, goal))``; ``np.inf`` on occupied cells and on
        free cells with no path. Multiply by the resolution for metres.
    """
    free = _check_grid("free", free)
    goal = _check_cell("goal", goal, free.shape)
    _check_free_cell("goal", goal, free)

    # The simulator's geodesic field (what tasks measure SPL with) has exactly these moves and corner rule.
    return distance_field(free, goal, diagonal=diagonal)


# ------------------------------------------------------------------------------------------ helpers
def nearest_free(free: np.ndarray, cell: Sequence[int], max_radius: int) -> Cell | None:
    """The free cell closest to ``cell`` (Euclidean, in cells) within ``max_radius``, or None.

    ``cell`` itself is returned when it is free; it may lie outside the grid (e.g. a world target
    projected beyond the map edge), the search then covers the grid's part of the disc. Equidistant
    candidates are resolved by the smallest (row, col), so the answer is deterministic.
    """
    free = _check_grid("free", free)
    if isinstance(max_radius, bool) or not isinstance(max_radius, (int, np.integer)) or max_radius < 0:
        raise ValueError(f"max_radius must be an integer ≥ 0 (cells), got {max_radius!r}")
    try:
        r, c = (int(v) for v in cell)
    except (TypeError, ValueError):
        raise ValueError(f"cell must be a (row, col) pair of integers, got {cell!r}") from None
    height, width = free.shape
    r0, r1 = max(0, r - max_radius), min(height, r + max_radius + 1)
    c0, c1 = max(0, c - max_radius), min(width, c + max_radius + 1)
    if r0 >= r1 or c0 >= c1:
        return None  # the disc's bounding box misses the grid entirely
    rows, cols = np.nonzero(free[r0:r1, c0:c1])
    rows, cols = rows + r0, cols + c0
    d2 = (rows - r) ** 2 + (cols - c) ** 2  # integers: exact comparisons, no float ties to worry about
    keep = d2 <= max_radius * max_radius
    if not keep.any():
        return None
    rows, cols, d2 = rows[keep], cols[keep], d2[keep]
    best = np.lexsort((cols, rows, d2))[0]  # by distance, then row, then col
    return int(rows[best]), int(cols[best])


def inflate(occupied: np.ndarray, radius_cells: float) -> np.ndarray:
    """(H, W) bool: the cells within ``radius_cells`` (Euclidean, centre to centre) of an occupied cell.

    Occupied cells themselves are included (distance 0). Inflating by the base's radius (in cells)
    lets the planner treat the base as a point: ``astar(~inflate(occupied, r), ...)``.
    """
    occupied = _check_grid("occupied", occupied)
    if not (isinstance(radius_cells, (int, float, np.number)) and math.isfinite(radius_cells) and radius_cells >= 0):
        raise ValueError(f"radius_cells must be a finite number ≥ 0, got {radius_cells!r}")
    return dilate(occupied, float(radius_cells), resolution=1.0)  # the homes' map dilation, in cells


def _segment_is_free(free: np.ndarray, a: Cell, b: Cell) -> bool:
    """Whether the straight segment between the centres of cells a and b stays on free cells.

    Samples the segment every ≤ ``LOS_SAMPLE_SPACING`` cells and takes the cell of each sample. Those
    cells form a king-connected chain (no coordinate moves by a whole cell between samples); where the
    chain steps diagonally the segment passes through one of the two orthogonal cells, or exactly
    through their shared corner, and both must be free, as astar's corner rule demands. So the check
    covers every cell the segment enters, without a Bresenham-style traversal.
    """
    pa, pb = np.asarray(a, float), np.asarray(b, float)
    n = max(1, math.ceil(float(np.linalg.norm(pb - pa)) / LOS_SAMPLE_SPACING))
    t = np.linspace(0.0, 1.0, n + 1)[:, None]
    # floor(x + 0.5), not np.rint: rint rounds halves to even, which would make a sample exactly on
    # a cell boundary jump between the two cells depending on parity.
    cells = np.floor(pa + t * (pb - pa) + 0.5).astype(np.int64)  # (n + 1, 2)
    if not free[cells[:, 0], cells[:, 1]].all():
        return False
    step = np.diff(cells, axis=0)
    diag = (step[:, 0] != 0) & (step[:, 1] != 0)
    if diag.any():
        prev, nxt = cells[:-1][diag], cells[1:][diag]
        if not (free[prev[:, 0], nxt[:, 1]].all() and free[nxt[:, 0], prev[:, 1]].all()):
            return False
    return True


def simplify_path(path: Sequence[Sequence[int]], free: np.ndarray) -> list[Cell]:
    """Drop waypoints of a cell path while the straight segments between kept ones stay free.

    Greedy string pulling: from the last kept waypoint, keep extending the segment to later waypoints
    while it stays on free cells (line of sight, with astar's corner rule); the waypoint before the
    first failure is kept next. The first and last cells are always kept.

    Args:
        path: (row, col) cells, e.g. from ``astar``; consecutive cells must see each other.
        free: (H, W) bool grid the path was planned on.

    Returns:
        A sub-sequence of ``path`` (same endpoints, at most as many cells) whose consecutive cells
        are joined by collision-free straight segments.
    """
    free = _check_grid("free", free)
    cells = [_check_cell(f"path[{k}]", c, free.shape) for k, c in enumerate(path)]
    if len(cells) <= 2:
        return cells
    out = [cells[0]]
    anchor = 0
    k = anchor + 1
    while k < len(cells) - 1:
        # Can the segment from the anchor skip cells[k] and reach cells[k + 1] directly?
        if _segment_is_free(free, cells[anchor], cells[k + 1]):
            k += 1
        else:
            out.append(cells[k])
            anchor = k
            k += 1
    out.append(cells[-1])
    return out
