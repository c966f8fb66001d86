"""Geodesic distances on a traversability grid: what tasks use to sample start-goal pairs at a given
shortest-path length, to measure SPL's L, to shape the dense reward, and to trace the shortest path
that InteractiveNav lines with clutter. (Planners import these too; ``sim`` imports no planner.)

Moves are 8-connected with octile lengths (1 or √2 cells); a diagonal move needs both orthogonal
neighbours free, so a path never squeezes between two occupied cells touching at a corner.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

# (row, col) offsets and lengths (cells) of the 8 moves
MOVES = (
    (0, 1, 1.0),
    (1, 0, 1.0),
    (0, -1, 1.0),
    (-1, 0, 1.0),
    (1, 1, np.sqrt(2)),
    (1, -1, np.sqrt(2)),
    (-1, 1, np.sqrt(2)),
    (-1, -1, np.sqrt(2)),
)


def grid_graph(free: np.ndarray, diagonal: bool = True) -> csr_matrix:
    """Sparse (H·W, H·W) adjacency of the free cells of ``free`` (bool (H, W)), edge weights in cells;
    4-connected when ``diagonal`` is False."""
    H, W = free.shape
    idx = np.arange(H * W).reshape(H, W)
    rows, cols, weights = [], [], []
    padded = np.pad(free, 1, constant_values=False)
    for dr, dc, w in MOVES if diagonal else MOVES[:4]:
        # Cells (r, c) whose move to (r+dr, c+dc) stays on free cells (and, diagonally, cuts no corner).
        ok = free & padded[1 + dr : 1 + dr + H, 1 + dc : 1 + dc + W]
        if dr and dc:
            ok &= padded[1 + dr : 1 + dr + H, 1 : 1 + W] & padded[1 : 1 + H, 1 + dc : 1 + dc + W]
        src = idx[ok]
        rows.append(src)
        cols.append(src + dr * W + dc)
        weights.append(np.full(src.shape, w))
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
    return csr_matrix((w, (r, c)), shape=(H * W, H * W))


def distance_field(
    free: np.ndarray, sources: np.ndarray | tuple[int, int], graph: csr_matrix | None = None, diagonal: bool = True
) -> np.ndarray:
    """Geodesic distance (H, W) float64 in cells from the nearest source to every cell; inf if unreachable.

    ``sources`` is one (row, col) cell or a bool (H, W) mask of source cells (e.g. a whole room).
    """
    H, W = free.shape
    if isinstance(sources, np.ndarray) and sources.dtype == bool:
        src = np.flatnonzero(sources & free)
    else:
        r, c = sources
        if not (0 <= r < H and 0 <= c < W):
            raise ValueError(f"source cell {(r, c)} is outside the {H}x{W} grid")
        src = np.array([r * W + c]) if free[r, c] else np.array([], dtype=np.int64)
    if len(src) == 0:
        return np.full((H, W), np.inf)
    g = grid_graph(free, diagonal) if graph is None else graph
    d = dijkstra(g, directed=True, indices=src, min_only=True)
    return np.asarray(d).reshape(H, W)


def descend(field: np.ndarray, start: tuple[int, int]) -> list[tuple[int, int]]:
    """The shortest path (cells, start first) from ``start`` to the field's source, by steepest descent.

    Follows, at every cell, the move that lowers the distance by exactly its length (ties broken in
    ``MOVES`` order, so deterministic). Raises ValueError if ``start`` is unreachable.
    """
    H, W = field.shape
    r, c = start
    if not np.isfinite(field[r, c]):
        raise ValueError(f"cell {start} cannot reach the goal on this map")
    path = [(r, c)]
    while field[r, c] > 0:
        best = None
        for dr, dc, w in MOVES:
            rr, cc = r + dr, c + dc
            # Only a move that is an edge of a shortest path (its length accounts for the whole drop) is
            # legal: a lower diagonal neighbour behind a corner is not reachable in one move.
            if 0 <= rr < H and 0 <= cc < W and abs(field[rr, cc] + w - field[r, c]) < 1e-6:
                best = (rr, cc)
                break
        if best is None:  # pragma: no cover - impossible on a Dijkstra field
            raise RuntimeError("distance field has no descending edge")
        r, c = best
        path.append(best)
    return path
