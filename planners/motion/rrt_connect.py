"""Bidirectional RRT-Connect (Kuffner & LaValle 2000) in a box-bounded configuration space.

Two trees grow from the start and the goal. Each iteration one tree EXTENDs a single step toward a
uniform random sample, and the other tree CONNECTs greedily toward the new node (straight steps until
it reaches it or hits an obstacle); then the trees swap roles. A path is found when CONNECT reaches.
The path is then shortened by random shortcutting (``shortcut_path``).

The configuration space is generic: configurations are (D,) float arrays inside [low, high], the
metric is Euclidean in configuration units (rad for an arm), and collisions are a black-box
``is_free(q) -> bool``. Edges are checked at ``edge_resolution`` spacing; obstacles thinner than that
in configuration space can be jumped over, so pick it below the thinnest feature that matters.

Everything random comes from the ``np.random.Generator`` passed in: the same seed gives the same path.

Example:
    >>> is_free = lambda q: np.linalg.norm(q - 0.5) > 0.2                       # a disc obstacle
    >>> path = rrt_connect(np.array([0.1, 0.1]), np.array([0.9, 0.9]), np.zeros(2), np.ones(2),
    ...                    is_free, np.random.default_rng(0))
    >>> dense = densify(path, 0.01)                                              # for an executor
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.plumbing.checks import check_int, check_number

__all__ = ["RRTConnectConfig", "densify", "edge_is_free", "rrt_connect", "shortcut_path"]

IsFree = Callable[[np.ndarray], bool]

# Tree storage starts with this many node slots and doubles when full: no per-node Python objects,
# and the nearest-neighbour search is one vectorised pass over a contiguous (n, D) block.
_INITIAL_CAPACITY = 256


@dataclass
class RRTConnectConfig:
    """Settings of ``rrt_connect``; validated on construction (``ValueError`` naming the field).

    Distances are in configuration units (rad for an arm's joint space), Euclidean over all dimensions.
    """

    #: longest edge one EXTEND / CONNECT step adds (> 0); larger grows faster, smaller threads tighter gaps
    step_size: float = 0.2
    #: spacing of collision checks along every edge (> 0); must be below the thinnest obstacle in C-space
    edge_resolution: float = 0.05
    #: EXTEND + CONNECT rounds before giving up (≥ 1); each round samples once
    max_iterations: int = 2000
    #: random shortcut attempts on the found path (≥ 0; 0 returns the raw tree path)
    shortcut_iterations: int = 100

    def __post_init__(self) -> None:
        owner = type(self).__name__
        self.step_size = check_number(owner, "step_size", self.step_size, 0.0, lo_open=True)
        self.edge_resolution = check_number(owner, "edge_resolution", self.edge_resolution, 0.0, lo_open=True)
        check_int(owner, "max_iterations", self.max_iterations, 1)
        check_int(owner, "shortcut_iterations", self.shortcut_iterations, 0)


# -------------------------------------------------------------------------------------------- edges
def _check_resolution(resolution: float) -> None:
    if not (isinstance(resolution, (int, float)) and math.isfinite(resolution) and resolution > 0):
        raise ValueError(f"resolution must be a positive number (configuration units), got {resolution!r}")


def _coarse_to_fine(n: int) -> np.ndarray:
    """The sample numbers 1..n ordered coarse to fine (n/2-ish first, then quarters, ...).

    Obstacles are likelier far from an edge's known-free endpoint than right next to it, so checking
    the middle first finds a collision in fewer calls on average; the set of samples is unchanged.
    """
    k = np.arange(1, n + 1)
    return k[np.argsort(-(k & -k), kind="stable")]  # k & -k: the largest power of two dividing k


def edge_is_free(a: np.ndarray, b: np.ndarray, is_free: IsFree, resolution: float, *, check_start: bool = True) -> bool:
    """Whether the straight edge a → b is collision free, checked every ≤ ``resolution``.

    Args:
        a, b: (D,) configurations.
        is_free: collision check, True = free.
        resolution: largest spacing between checked configurations (configuration units, > 0).
        check_start: also check ``a``; planners pass False for edges leaving a node they already checked.

    Returns:
        True if ``is_free`` holds at ``b``, at ``a`` (when ``check_start``) and at the
        ceil(|b − a| / resolution) − 1 evenly spaced configurations between them.
    """
    _check_resolution(resolution)
    a, b = np.asarray(a, float), np.asarray(b, float)
    if check_start and not is_free(a):
        return False
    n = max(1, math.ceil(float(np.linalg.norm(b - a)) / resolution))
    return all(is_free(a + k / n * (b - a) if k < n else b) for k in _coarse_to_fine(n))


def densify(path: Sequence[np.ndarray], resolution: float) -> list[np.ndarray]:
    """Interpolate ``path`` linearly so that consecutive configurations are ≤ ``resolution`` apart.

    Args:
        path: N ≥ 1 configurations of shape (D,).
        resolution: largest spacing (configuration units, > 0).

    Returns:
        (D,) configurations, starting and ending exactly at ``path[0]`` and ``path[-1]`` and passing
        through every waypoint; each edge a → b is split into ceil(|b − a| / resolution) equal steps.
    """
    _check_resolution(resolution)
    if len(path) == 0:
        return []
    pts = [np.asarray(q, float) for q in path]
    out = [pts[0].copy()]
    for a, b in itertools.pairwise(pts):
        n = max(1, math.ceil(float(np.linalg.norm(b - a)) / resolution))
        out.extend(a + (k / n) * (b - a) for k in range(1, n))
        out.append(b.copy())
    return out


def shortcut_path(
    path: Sequence[np.ndarray], is_free: IsFree, rng: np.random.Generator, iterations: int, resolution: float
) -> list[np.ndarray]:
    """Shorten a collision-free path by random shortcuts between its waypoints.

    Each attempt draws two non-adjacent waypoints i < j with ``rng`` and, when the straight edge
    between them is free (checked every ``resolution``), drops the waypoints in between. Endpoints
    are kept; the path never gets longer (a straight edge is the shortest between its ends).

    Args:
        path: N configurations of shape (D,), every edge already collision free.
        is_free: collision check, True = free.
        rng: source of the random waypoint pairs.
        iterations: number of attempts (≥ 0); stops early once only the endpoints are left.
        resolution: collision-check spacing along a shortcut edge (> 0).

    Returns:
        A sub-sequence of ``path`` (copies) with the same endpoints.
    """
    _check_resolution(resolution)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"iterations must be an integer ≥ 0, got {iterations!r}")
    out = [np.asarray(q, float).copy() for q in path]
    for _ in range(iterations):
        if len(out) <= 2:
            break
        i, j = sorted(int(v) for v in rng.choice(len(out), size=2, replace=False))
        if j - i < 2:
            continue  # adjacent waypoints: nothing to cut
        # Both ends are path waypoints, hence already known to be free.
        if edge_is_free(out[i], out[j], is_free, resolution, check_start=False):
            del out[i + 1 : j]
    return out


# -------------------------------------------------------------------------------------------- trees
class _Tree:
    """Nodes in a growing (capacity, D) array with parent indices; node 0 is the root."""

    def __init__(self, root: np.ndarray):
        self.nodes = np.empty((_INITIAL_CAPACITY, root.shape[0]))
        self.parents = np.empty(_INITIAL_CAPACITY, dtype=np.int64)
        self.nodes[0], self.parents[0] = root, -1
        self.size = 1

    def add(self, q: np.ndarray, parent: int) -> int:
        if self.size == len(self.nodes):
            self.nodes = np.concatenate([self.nodes, np.empty_like(self.nodes)])
            self.parents = np.concatenate([self.parents, np.empty_like(self.parents)])
        self.nodes[self.size], self.parents[self.size] = q, parent
        self.size += 1
        return self.size - 1

    def nearest(self, q: np.ndarray) -> int:
        """Index of the node closest to q (Euclidean; the lowest index among ties)."""
        d = self.nodes[: self.size] - q
        return int(np.argmin(np.einsum("ij,ij->i", d, d)))

    def branch(self, i: int) -> list[np.ndarray]:
        """Configurations from node i up to the root."""
        out = []
        while i != -1:
            out.append(self.nodes[i].copy())
            i = int(self.parents[i])
        return out


def _steer(q_from: np.ndarray, q_to: np.ndarray, step: float) -> tuple[np.ndarray, bool]:
    """The point ``step`` along q_from → q_to, or q_to itself if closer; and whether it is q_to."""
    d = q_to - q_from
    dist = float(np.linalg.norm(d))
    if dist <= step:
        return q_to, True
    return q_from + d * (step / dist), False


def _extend(tree: _Tree, target: np.ndarray, is_free: IsFree, cfg: RRTConnectConfig) -> tuple[int, bool]:
    """One EXTEND step of ``tree`` toward ``target``: (new node index or -1 if trapped, reached)."""
    near = tree.nearest(target)
    q_new, reached = _steer(tree.nodes[near], target, cfg.step_size)
    if not edge_is_free(tree.nodes[near], q_new, is_free, cfg.edge_resolution, check_start=False):
        return -1, False
    return tree.add(q_new, near), reached


def _connect(tree: _Tree, target: np.ndarray, is_free: IsFree, cfg: RRTConnectConfig) -> int:
    """CONNECT: EXTEND ``tree`` toward ``target`` until it is reached (its node index) or blocked (-1).

    After the first step the newest node is the one heading for ``target``, so later steps continue
    from it instead of searching the nearest node again.
    """
    i, reached = _extend(tree, target, is_free, cfg)
    while i != -1 and not reached:
        q_new, reached = _steer(tree.nodes[i], target, cfg.step_size)
        if not edge_is_free(tree.nodes[i], q_new, is_free, cfg.edge_resolution, check_start=False):
            return -1
        i = tree.add(q_new, i)
    return i


# ------------------------------------------------------------------------------------------ planner
def _check_configuration(name: str, q: np.ndarray, low: np.ndarray, high: np.ndarray, is_free: IsFree) -> np.ndarray:
    q = np.asarray(q, dtype=float)
    if q.shape != low.shape:
        raise ValueError(f"{name} must have shape {low.shape} like low/high, got {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError(f"{name}={q.tolist()} has non-finite entries")
    outside = np.nonzero((q < low) | (q > high))[0]
    if outside.size:
        raise ValueError(
            f"{name}={q.tolist()} is outside the bounds in dimension(s) {outside.tolist()} "
            f"(low={low[outside].tolist()}, high={high[outside].tolist()}); clip it or widen "
            "the bounds"
        )
    if not is_free(q):
        raise ValueError(
            f"{name} configuration {q.tolist()} is in collision; plan from / to a free "
            "configuration (e.g. back off from the obstacle first)"
        )
    return q


def rrt_connect(
    start: np.ndarray,
    goal: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    is_free: IsFree,
    rng: np.random.Generator,
    cfg: RRTConnectConfig | None = None,
) -> list[np.ndarray] | None:
    """A collision-free path from ``start`` to ``goal`` by RRT-Connect, shortened by random shortcuts.

    Args:
        start, goal: (D,) configurations inside [low, high], both collision free.
        low, high: (D,) bounds of the configuration space (low < high), where samples are drawn.
        is_free: collision check of a (D,) configuration, True = free. Called many times: make it fast.
        rng: the only source of randomness (samples and shortcuts); the same seed gives the same path.
        cfg: step size, edge check resolution and budgets (defaults: ``RRTConnectConfig()``).

    Returns:
        Configurations from ``start`` to ``goal`` (exactly those arrays' values) whose every edge is
        collision free at ``cfg.edge_resolution``; ``[start, goal]`` when the direct edge is free.
        None when no path was found within ``cfg.max_iterations``.

    Raises:
        ValueError: shape mismatch, empty or inverted bounds, or start / goal out of bounds or in
            collision (the message says which).
    """
    cfg = RRTConnectConfig() if cfg is None else cfg
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if low.ndim != 1 or low.size == 0 or low.shape != high.shape:
        raise ValueError(f"low and high must be (D,) arrays of the same shape, got {low.shape} and {high.shape}")
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(low < high)):
        raise ValueError(
            f"bounds must be finite with low < high in every dimension, got low={low.tolist()}, high={high.tolist()}"
        )
    start = _check_configuration("start", start, low, high, is_free)
    goal = _check_configuration("goal", goal, low, high, is_free)

    # Often there is nothing in the way: one edge check instead of growing two trees.
    if edge_is_free(start, goal, is_free, cfg.edge_resolution, check_start=False):
        return [start.copy(), goal.copy()]

    tree_a, tree_b = _Tree(start), _Tree(goal)  # tree_a grows from start, tree_b from goal
    grow, other = tree_a, tree_b
    for _ in range(cfg.max_iterations):
        q_rand = rng.uniform(low, high)
        i_new, _ = _extend(grow, q_rand, is_free, cfg)
        if i_new != -1:
            i_meet = _connect(other, grow.nodes[i_new], is_free, cfg)
            if i_meet != -1:
                # Both trees now hold the meeting configuration; join their branches at it.
                i_a, i_b = (i_new, i_meet) if grow is tree_a else (i_meet, i_new)
                raw = tree_a.branch(i_a)[::-1] + tree_b.branch(i_b)[1:]
                return shortcut_path(raw, is_free, rng, cfg.shortcut_iterations, cfg.edge_resolution)
        grow, other = other, grow  # alternate which tree explores (the "bidirectional" part)
    return None
