"""planners.motion: A* finds the hand-computed optimum without corner cutting and honours costs; the
distance field agrees with A*; grid helpers do what they say; RRT-Connect threads a narrow gap,
is reproducible and gives up on enclosed goals; the arm planner avoids a box in PyBullet and leaves
the world's joint states untouched.

Everything is seeded; the file runs in a few seconds on one core (the arm problems take well under
a second: each PyBullet check is ~30 µs).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pybullet as p
import pytest

from planners.motion import (
    ArmCollisionChecker,
    RRTConnectConfig,
    astar,
    densify,
    edge_is_free,
    geodesic_distance_field,
    inflate,
    nearest_free,
    path_length,
    plan_arm_path,
    rrt_connect,
    shortcut_path,
    simplify_path,
)
from sim.config import ArmConfig
from sim.robots.panda import PANDA_JOINT_LIMITS, PandaArm

SQRT2 = math.sqrt(2.0)


# ------------------------------------------------------------------------------------------ helpers
def assert_valid_grid_path(
    path: Sequence[tuple[int, int]], free: np.ndarray, start: tuple[int, int], goal: tuple[int, int]
) -> None:
    """Endpoints, free cells, king moves only, and no diagonal squeezing past an occupied cell."""
    assert path[0] == start and path[-1] == goal
    for r, c in path:
        assert free[r, c], f"path enters occupied cell {(r, c)}"
    for (r0, c0), (r1, c1) in itertools.pairwise(path):
        dr, dc = r1 - r0, c1 - c0
        assert max(abs(dr), abs(dc)) == 1, f"step {(r0, c0)} → {(r1, c1)} is not a king move"
        if dr and dc:
            assert free[r0, c1] and free[r1, c0], f"diagonal {(r0, c0)} → {(r1, c1)} cuts a corner"


def segment_cells(a: Sequence[int], b: Sequence[int], spacing: float = 0.01) -> np.ndarray:
    """(N, 2) cells containing points sampled densely along the segment between two cell centres."""
    pa, pb = np.asarray(a, float), np.asarray(b, float)
    n = max(1, math.ceil(np.linalg.norm(pb - pa) / spacing))
    pts = pa + np.linspace(0.0, 1.0, n + 1)[:, None] * (pb - pa)
    return np.floor(pts + 0.5).astype(int)


def wall_with_gap() -> np.ndarray:
    """6×9 free grid with a wall down column 4, open only at row 4."""
    free = np.ones((6, 9), bool)
    free[:, 4] = False
    free[4, 4] = True
    return free


# ---------------------------------------------------------------------------------------------- A*
def test_astar_goes_through_the_gap_with_the_optimal_length() -> None:
    free = wall_with_gap()
    path = astar(free, (0, 0), (0, 8))
    assert path is not None
    assert_valid_grid_path(path, free, (0, 0), (0, 8))
    assert (4, 4) in path
    # By hand: the gap (4, 4) can only be crossed orthogonally, (4, 3) → (4, 4) → (4, 5) (its diagonal
    # entries pass wall cells (3, 4) / (5, 4)): 2 cells. (0, 0) → (4, 3) is 4 rows and 3 columns:
    # 3 diagonal steps + 1 straight = 1 + 3√2, and (4, 5) → (0, 8) likewise. Total 4 + 6√2 ≈ 12.49.
    assert path_length(path, 1.0) == pytest.approx(4 + 6 * SQRT2, abs=1e-12)
    assert path_length(path, 0.05) == pytest.approx(0.05 * (4 + 6 * SQRT2))
    assert astar(free, (0, 0), (0, 8)) == path  # deterministic tie-breaking
    # 4-connected: Manhattan, (0,0) → (4,3) → gap → (4,5) → (0,8) = 7 + 2 + 7.
    path4 = astar(free, (0, 0), (0, 8), diagonal=False)
    assert path4 is not None and path_length(path4) == 16.0
    assert all(abs(r1 - r0) + abs(c1 - c0) == 1 for (r0, c0), (r1, c1) in itertools.pairwise(path4))


def test_astar_does_not_cut_corners() -> None:
    # (1, 1) → (2, 2) is one diagonal step, but it squeezes between the occupied (1, 2) and (2, 1).
    # Without it the shortest way round is 6 unit steps, e.g. (1,1) (0,1) (0,2) (0,3) (1,3) (2,3)
    # (2,2): every diagonal near the target also passes an occupied cell.
    free = np.ones((4, 4), bool)
    free[1, 2] = free[2, 1] = False
    path = astar(free, (1, 1), (2, 2))
    assert path is not None and len(path) > 2
    assert_valid_grid_path(path, free, (1, 1), (2, 2))
    assert path_length(path) == pytest.approx(6.0)
    # The only other "route" is that squeeze: with the detours walled off there is no path at all.
    closed = free.copy()
    closed[0, :] = closed[:, 0] = closed[3, :] = closed[:, 3] = False
    assert astar(closed, (1, 1), (2, 2)) is None


def test_astar_returns_none_when_disconnected_and_trivial_path_when_start_is_goal() -> None:
    free = np.ones((5, 7), bool)
    free[:, 3] = False
    assert astar(free, (2, 0), (2, 6)) is None
    assert astar(free, (2, 0), (2, 0)) == [(2, 0)]


def test_astar_rejects_bad_cells_and_costs() -> None:
    free = wall_with_gap()
    with pytest.raises(ValueError, match=r"start=\(0, 4\) is on an occupied cell.*nearest_free"):
        astar(free, (0, 4), (0, 8))
    with pytest.raises(ValueError, match=r"goal=\(1, 4\) is on an occupied cell"):
        astar(free, (0, 0), (1, 4))
    with pytest.raises(ValueError, match=r"start=\(6, 0\) is outside the 6×9 grid"):
        astar(free, (6, 0), (0, 8))
    with pytest.raises(ValueError, match=r"goal=\(0, -1\) is outside"):
        astar(free, (0, 0), (0, -1))
    with pytest.raises(ValueError, match="cost must be finite and ≥ 0"):
        astar(free, (0, 0), (0, 8), cost=-np.ones(free.shape))
    with pytest.raises(ValueError, match="cost must have the grid's shape"):
        astar(free, (0, 0), (0, 8), cost=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="bool"):
        astar(free.astype(np.uint8), (0, 0), (0, 8))


def test_astar_cost_avoids_an_expensive_corridor() -> None:
    free = np.ones((5, 11), bool)
    start, goal = (2, 0), (2, 10)
    straight = astar(free, start, goal)
    assert straight is not None and path_length(straight) == 10.0
    cost = np.zeros(free.shape)
    cost[1:4, 1:10] = 5.0  # the direct band costs 6× per cell; rows 0 and 4 stay cheap
    path = astar(free, start, goal, cost=cost)
    assert path is not None
    assert_valid_grid_path(path, free, start, goal)
    assert all(cost[c] == 0 for c in path), "the path entered the expensive band"
    # Round the band: (2,0) → (1,0) → diagonal to row 0 → 8 cells → diagonal → (2,10): 10 + 2√2,
    # far below the 1 + 9 · 6 = 55 of the straight line through the band.
    assert path_length(path) == pytest.approx(10 + 2 * SQRT2)


def test_astar_and_distance_field_are_fast_on_300x300() -> None:
    free = np.ones((300, 300), bool)
    t0 = time.perf_counter()
    path = astar(free, (0, 0), (299, 299))
    t_open = time.perf_counter() - t0
    assert path is not None and path_length(path) == pytest.approx(299 * SQRT2)
    free[:, 150] = False
    free[299, 150] = True  # a wall with one gap in the far corner: most of the grid gets expanded
    t0 = time.perf_counter()
    path = astar(free, (0, 0), (0, 299))
    t_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    field = geodesic_distance_field(free, (0, 299))
    t_field = time.perf_counter() - t0
    assert path is not None and field[0, 0] == pytest.approx(path_length(path))
    # Measured ≈ 0.01 s, 0.2 s and 0.05 s on a 2-core dev box; the bounds leave room for a loaded CPU.
    assert t_open < 0.5 and t_wall < 2.0 and t_field < 1.0, (t_open, t_wall, t_field)


# ---------------------------------------------------------------------------------- distance field
def test_distance_field_matches_astar_path_lengths() -> None:
    rng = np.random.default_rng(7)
    free = rng.random((40, 40)) > 0.3
    free[28:37, 28:37] = False
    free[30:35, 30:35] = True  # a free pocket sealed by a ring wall: unreachable from outside
    goal = (3, 3)
    free[goal] = True
    field = geodesic_distance_field(free, goal)
    assert field.shape == (40, 40) and field.dtype == np.float64
    assert field[goal] == 0.0
    assert np.all(np.isinf(field[~free]))
    assert np.all(np.isinf(field[30:35, 30:35]))

    cells = np.argwhere(free)
    picks = [tuple(int(v) for v in cells[i]) for i in rng.choice(len(cells), size=25, replace=False)]
    picks.append((32, 32))  # inside the pocket
    reachable = 0
    for cell in picks:
        path = astar(free, cell, goal)
        if np.isinf(field[cell]):
            assert path is None, f"field says {cell} is unreachable but astar found a path"
        else:
            reachable += 1
            assert path is not None
            assert path_length(path) == pytest.approx(field[cell], rel=1e-12)
    assert 0 < reachable < len(picks)  # the check saw both cases

    field4 = geodesic_distance_field(free, goal, diagonal=False)
    for cell in picks[:8]:
        path = astar(free, cell, goal, diagonal=False)
        assert (path is None) == bool(np.isinf(field4[cell]))
        if path is not None:
            assert path_length(path) == field4[cell]


def test_distance_field_rejects_occupied_goal() -> None:
    with pytest.raises(ValueError, match="occupied"):
        geodesic_distance_field(wall_with_gap(), (0, 4))


# ------------------------------------------------------------------------------------ grid helpers
def test_inflate() -> None:
    occupied = np.zeros((11, 11), bool)
    occupied[5, 5] = True
    assert inflate(occupied, 0.0).sum() == 1
    assert inflate(occupied, 1.0).sum() == 5  # the cell and its 4 orthogonal neighbours
    assert inflate(occupied, 1.5).sum() == 9  # + the diagonals (√2 ≤ 1.5)
    assert inflate(occupied, 2.0).sum() == 13  # lattice points in a disc of radius 2
    grown = inflate(occupied, 2.0)
    rows, cols = np.nonzero(grown)
    assert np.all((rows - 5) ** 2 + (cols - 5) ** 2 <= 4)
    assert not inflate(np.zeros((4, 4), bool), 3.0).any()
    with pytest.raises(ValueError, match="radius_cells"):
        inflate(occupied, -1.0)


def test_nearest_free() -> None:
    free = np.zeros((8, 8), bool)
    free[0, 0] = free[3, 5] = free[5, 3] = True
    assert nearest_free(free, (5, 3), 2) == (5, 3)  # a free cell is its own answer
    # (3, 5) and (5, 3) are both 2 cells from (5, 5): the smaller row wins, every time.
    assert nearest_free(free, (5, 5), 2) == (3, 5)
    assert nearest_free(free, (5, 5), 1) is None
    assert nearest_free(free, (7, 7), 3) is None  # (3, 5), (5, 3) are √20 > 3 away
    assert nearest_free(free, (-2, 0), 2) == (0, 0)  # a cell off the map is fine
    with pytest.raises(ValueError, match="max_radius"):
        nearest_free(free, (0, 0), -1)


def test_simplify_path_keeps_endpoints_and_clear_segments() -> None:
    rng = np.random.default_rng(3)
    free = rng.random((30, 30)) > 0.2
    free[0, 0] = free[29, 29] = True
    cases = [(wall_with_gap(), (0, 0), (0, 8)), (free, (0, 0), (29, 29)), (np.ones((20, 20), bool), (0, 0), (19, 10))]
    corner = np.ones((4, 4), bool)
    corner[1, 2] = corner[2, 1] = False
    cases.append((corner, (1, 1), (2, 2)))
    for grid, start, goal in cases:
        path = astar(grid, start, goal)
        assert path is not None
        short = simplify_path(path, grid)
        assert short[0] == start and short[-1] == goal
        assert len(short) <= len(path)
        it = iter(path)
        assert all(c in it for c in short), "simplified path is not a sub-sequence of the path"
        for a, b in itertools.pairwise(short):
            cells = segment_cells(a, b)
            assert grid[cells[:, 0], cells[:, 1]].all(), f"segment {a} → {b} crosses an occupied cell"
        assert path_length(short) <= path_length(path) + 1e-9
    # On open ground the staircase collapses to one segment; the corner case keeps its detour
    # (the straight segment would squeeze between the two occupied cells).
    open_path = astar(np.ones((20, 20), bool), (0, 0), (19, 10))
    assert simplify_path(open_path, np.ones((20, 20), bool)) == [(0, 0), (19, 10)]
    assert len(simplify_path(astar(corner, (1, 1), (2, 2)), corner)) > 2
    gap_short = simplify_path(astar(wall_with_gap(), (0, 0), (0, 8)), wall_with_gap())
    assert len(gap_short) < len(astar(wall_with_gap(), (0, 0), (0, 8)))


# --------------------------------------------------------------------------------------- RRT-Connect
LOW2, HIGH2 = np.zeros(2), np.ones(2)


def wall_2d(q: np.ndarray) -> bool:
    """Unit square with a wall 0.1 thick at x ∈ [0.45, 0.55], open only for y ∈ [0.20, 0.26]."""
    x, y = q
    return not (0.45 <= x <= 0.55 and not 0.20 <= y <= 0.26)


def ring_2d(q: np.ndarray) -> bool:
    """A square ring wall 0.1 thick around (0.5, 0.5): its inside is sealed off."""
    return not 0.2 <= np.max(np.abs(q - 0.5)) <= 0.3


def assert_valid_rrt_path(path: list[np.ndarray], start: np.ndarray, goal: np.ndarray, is_free, res: float) -> None:
    assert np.array_equal(path[0], start) and np.array_equal(path[-1], goal)
    for q in densify(path, res):
        assert is_free(q), f"path passes through {q}"
        assert np.all(q >= LOW2) and np.all(q <= HIGH2)


def test_rrt_connect_threads_a_narrow_gap_reproducibly() -> None:
    start, goal = np.array([0.1, 0.9]), np.array([0.9, 0.9])
    cfg = RRTConnectConfig(step_size=0.1, edge_resolution=0.01)
    assert not edge_is_free(start, goal, wall_2d, cfg.edge_resolution)  # the direct edge is blocked
    path = rrt_connect(start, goal, LOW2, HIGH2, wall_2d, np.random.default_rng(0), cfg)
    assert path is not None
    # densify at the planner's edge resolution reproduces exactly the configurations it checked.
    assert_valid_rrt_path(path, start, goal, wall_2d, cfg.edge_resolution)
    crossing = [q for q in densify(path, cfg.edge_resolution) if 0.45 <= q[0] <= 0.55]
    assert crossing and all(0.20 <= q[1] <= 0.26 for q in crossing)  # it went through the gap
    again = rrt_connect(start, goal, LOW2, HIGH2, wall_2d, np.random.default_rng(0), cfg)
    assert again is not None and len(again) == len(path)
    assert all(np.array_equal(a, b) for a, b in zip(path, again))
    other = rrt_connect(start, goal, LOW2, HIGH2, wall_2d, np.random.default_rng(1), cfg)
    assert other is not None
    assert_valid_rrt_path(other, start, goal, wall_2d, cfg.edge_resolution)
    assert len(other) != len(path) or not all(np.array_equal(a, b) for a, b in zip(path, other))


def test_rrt_connect_direct_edge_and_enclosed_goal() -> None:
    start, goal = np.array([0.1, 0.1]), np.array([0.9, 0.8])
    path = rrt_connect(start, goal, LOW2, HIGH2, lambda q: True, np.random.default_rng(0))
    assert path is not None and len(path) == 2 and np.array_equal(path[1], goal)
    cfg = RRTConnectConfig(max_iterations=100)
    assert rrt_connect(start, np.array([0.5, 0.5]), LOW2, HIGH2, ring_2d, np.random.default_rng(0), cfg) is None


def test_rrt_connect_rejects_bad_start_and_goal() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="start configuration .* is in collision"):
        rrt_connect(np.array([0.5, 0.9]), np.array([0.9, 0.9]), LOW2, HIGH2, wall_2d, rng)
    with pytest.raises(ValueError, match="goal configuration .* is in collision"):
        rrt_connect(np.array([0.1, 0.9]), np.array([0.5, 0.75]), LOW2, HIGH2, ring_2d, rng)  # on the ring
    with pytest.raises(ValueError, match=r"goal=.* is outside the bounds in dimension\(s\) \[1\]"):
        rrt_connect(np.array([0.1, 0.9]), np.array([0.9, 1.5]), LOW2, HIGH2, wall_2d, rng)
    with pytest.raises(ValueError, match="start must have shape"):
        rrt_connect(np.zeros(3), np.array([0.9, 0.9]), LOW2, HIGH2, wall_2d, rng)
    with pytest.raises(ValueError, match="low < high"):
        rrt_connect(np.array([0.1, 0.9]), np.array([0.9, 0.9]), HIGH2, LOW2, wall_2d, rng)


@pytest.mark.parametrize(
    "field, value",
    [
        ("step_size", 0.0),
        ("edge_resolution", float("nan")),
        ("max_iterations", 0),
        ("shortcut_iterations", -1),
        ("max_iterations", 10.0),
    ],
)
def test_rrt_config_validation(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"RRTConnectConfig.{field} must be"):
        RRTConnectConfig(**{field: value})


def test_densify_and_shortcut() -> None:
    path = [np.array([0.0, 0.0]), np.array([0.3, 0.4]), np.array([0.3, 1.0])]
    dense = densify(path, 0.07)
    assert np.array_equal(dense[0], path[0]) and np.array_equal(dense[-1], path[-1])
    assert any(np.array_equal(q, path[1]) for q in dense)
    assert max(np.linalg.norm(b - a) for a, b in itertools.pairwise(dense)) <= 0.07 + 1e-12
    assert len(dense) == 1 + math.ceil(0.5 / 0.07) + math.ceil(0.6 / 0.07)

    zigzag = [np.array([0.05 * k, 0.1 * (k % 2)]) for k in range(15)]
    short = shortcut_path(zigzag, lambda q: True, np.random.default_rng(0), 50, 0.05)
    assert len(short) == 2 and np.array_equal(short[0], zigzag[0]) and np.array_equal(short[-1], zigzag[-1])
    kept = shortcut_path(zigzag, lambda q: False, np.random.default_rng(0), 50, 0.05)  # nothing is free
    assert len(kept) == len(zigzag)


# ---------------------------------------------------------------------------------------------- arm
class ArmScene:
    """A Panda at the origin on a floor, with a static box between two grasp-height poses."""

    def __init__(self) -> None:
        self.client = p.connect(p.DIRECT)
        self.arm = PandaArm(self.client, ArmConfig(), (0.0, 0.0, 0.0))
        self.q_a = self.arm._ik(np.array([0.5, -0.3, 0.15]))
        self.q_b = self.arm._ik(np.array([0.5, 0.3, 0.15]))
        # A 12 × 8 × 40 cm post standing on the floor halfway between the two poses.
        post = p.createCollisionShape(p.GEOM_BOX, halfExtents=[0.06, 0.04, 0.2], physicsClientId=self.client)
        self.box = p.createMultiBody(0.0, post, -1, [0.5, 0.0, 0.2], physicsClientId=self.client)
        slab = p.createCollisionShape(p.GEOM_BOX, halfExtents=[2.0, 2.0, 0.05], physicsClientId=self.client)
        self.floor = p.createMultiBody(0.0, slab, -1, [0.0, 0.0, -0.05], physicsClientId=self.client)
        self.low, self.high = np.array(PANDA_JOINT_LIMITS).T
        # The arm's base stands on the floor and never moves: its contacts say nothing about q.
        self.checker = ArmCollisionChecker(
            self.client, self.arm.uid, self.arm.arm_joints, [self.box, self.floor], ignore_links=[-1]
        )

    def joint_states(self) -> list[tuple[float, float]]:
        """(position, velocity) of every joint, fingers included."""
        n = p.getNumJoints(self.arm.uid, physicsClientId=self.client)
        return [s[:2] for s in p.getJointStates(self.arm.uid, range(n), physicsClientId=self.client)]

    def set_moving_state(self) -> None:
        """Arm at q_a with nonzero joint velocities, so 'unchanged' covers velocities too."""
        for k, j in enumerate(self.arm.arm_joints):
            p.resetJointState(self.arm.uid, j, float(self.q_a[k]), 0.1 * (k + 1), physicsClientId=self.client)

    def independently_free(self, q: np.ndarray) -> bool:
        """Reset joints, run full collision detection, query at distance 0, restore (test-side check)."""
        uid, cid = self.arm.uid, self.client
        saved = p.getJointStates(uid, self.arm.arm_joints, physicsClientId=cid)
        for j, qj in zip(self.arm.arm_joints, q):
            p.resetJointState(uid, j, float(qj), physicsClientId=cid)
        p.performCollisionDetection(physicsClientId=cid)
        hits = [
            pt
            for body in (self.box, self.floor)
            for pt in p.getClosestPoints(uid, body, 0.0, physicsClientId=cid)
            if pt[3] != -1
        ]
        for j, s in zip(self.arm.arm_joints, saved):
            p.resetJointState(uid, j, s[0], s[1], physicsClientId=cid)
        return not hits


@pytest.fixture(scope="module")
def scene() -> Iterator[ArmScene]:
    s = ArmScene()
    yield s
    p.disconnect(s.client)


def test_arm_plan_avoids_the_box_and_leaves_the_world_unchanged(scene: ArmScene) -> None:
    cfg = RRTConnectConfig(edge_resolution=0.02)  # = the check spacing below: same configurations
    straight = densify([scene.q_a, scene.q_b], 0.02)
    assert scene.independently_free(scene.q_a) and scene.independently_free(scene.q_b)
    assert not all(scene.independently_free(q) for q in straight), "the straight motion should hit the box"

    scene.set_moving_state()
    before = scene.joint_states()
    path = plan_arm_path(scene.checker, scene.q_a, scene.q_b, scene.low, scene.high, np.random.default_rng(0), cfg)
    assert scene.joint_states() == before  # positions and velocities, exactly
    assert path is not None
    assert np.array_equal(path[0], scene.q_a) and np.array_equal(path[-1], scene.q_b)
    dense = densify(path, 0.02)
    assert all(np.all(q >= scene.low) and np.all(q <= scene.high) for q in dense)
    blocked = [k for k, q in enumerate(dense) if not scene.independently_free(q)]
    assert not blocked, f"densified configurations {blocked} collide"
    assert scene.joint_states() == before

    again = plan_arm_path(scene.checker, scene.q_a, scene.q_b, scene.low, scene.high, np.random.default_rng(0), cfg)
    assert again is not None and len(again) == len(path)
    assert all(np.array_equal(a, b) for a, b in zip(path, again))


def test_arm_checker_agrees_with_full_detection_and_restores_state(scene: ArmScene) -> None:
    rng = np.random.default_rng(5)
    scene.set_moving_state()
    before = scene.joint_states()
    # Random configurations plus a sweep through the box: both answers occur and always agree.
    qs = [rng.uniform(scene.low, scene.high) for _ in range(60)] + densify([scene.q_a, scene.q_b], 0.05)
    answers = [scene.checker(q) for q in qs]
    assert scene.joint_states() == before
    assert answers == [scene.independently_free(q) for q in qs]
    assert any(answers) and not all(answers)
    with pytest.raises(ValueError, match=r"q must have shape \(7,\)"):
        scene.checker(np.zeros(6))


def test_arm_checker_margin_and_ignore_links(scene: ArmScene) -> None:
    # Along the straight sweep, the last configuration clear of the box by 0 m is within 5 cm of it.
    sweep = densify([scene.q_a, scene.q_b], 0.01)
    first_hit = next(k for k, q in enumerate(sweep) if not scene.checker(q))
    near = sweep[first_hit - 1]
    cautious = ArmCollisionChecker(scene.client, scene.arm.uid, scene.arm.arm_joints, [scene.box], margin=0.05)
    assert scene.checker(near) and not cautious(near)
    assert cautious(scene.q_a)  # the start pose is > 5 cm from the post
    # Contacts on ignored links do not count: the base cylinder (link -1) inside a block.
    block_shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=[0.05] * 3, physicsClientId=scene.client)
    block = p.createMultiBody(0.0, block_shape, -1, [0.0, 0.0, 0.05], physicsClientId=scene.client)
    try:
        strict = ArmCollisionChecker(scene.client, scene.arm.uid, scene.arm.arm_joints, [block])
        lenient = ArmCollisionChecker(scene.client, scene.arm.uid, scene.arm.arm_joints, [block], ignore_links=[-1])
        assert not strict(scene.q_a) and lenient(scene.q_a)
    finally:
        p.removeBody(block, physicsClientId=scene.client)
    with pytest.raises(ValueError, match="margin"):
        ArmCollisionChecker(scene.client, scene.arm.uid, scene.arm.arm_joints, [scene.box], margin=-0.1)
    with pytest.raises(ValueError, match="not joints"):
        ArmCollisionChecker(scene.client, scene.arm.uid, [0, 99], [scene.box])
    with pytest.raises(ValueError, match="in collision"):
        plan_arm_path(scene.checker, sweep[first_hit], scene.q_b, scene.low, scene.high, np.random.default_rng(0))
