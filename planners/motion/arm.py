"""Joint-space motion planning for a PyBullet arm, with PyBullet's distance queries as the collision check.

``ArmCollisionChecker`` answers "is joint configuration q free?" by teleporting the arm's joints to q,
asking ``getClosestPoints`` for anything of the listed obstacle bodies within ``margin`` of the arm,
and teleporting the joints back to where (and how fast) they were. No simulation step runs, so the
world's state is unchanged by a check. ``plan_arm_path`` runs RRT-Connect with it.

Only arm–obstacle contacts are checked, not the arm against itself: within its joint limits the
Panda can still fold a link onto another in rare poses, so callers that sample far from the
workspace poses should add a self-collision test to ``is_free`` (e.g. ``getClosestPoints`` between
the arm's own non-adjacent links).

Example:
    >>> checker = ArmCollisionChecker(client, arm.uid, arm.arm_joints, obstacles=[table_uid], margin=0.01)
    >>> low, high = np.array(PANDA_JOINT_LIMITS).T
    >>> path = plan_arm_path(checker, q_now, q_goal, low, high, np.random.default_rng(0))
    >>> for q in densify(path, 0.02): ...        # (7,) joint targets, ≤ 0.02 rad apart
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pybullet as p

from planners.motion.rrt_connect import RRTConnectConfig, rrt_connect

__all__ = ["ArmCollisionChecker", "plan_arm_path"]

# getClosestPoints result fields (pybullet's documented tuple layout).
_LINK_A = 3  # link index on bodyA (-1 = base)
_DISTANCE = 8  # signed distance, negative when penetrating (m)


class ArmCollisionChecker:
    """``checker(q) -> bool``: True when joint configuration ``q`` keeps the arm clear of the obstacles.

    Args:
        client: PyBullet physics client id.
        body_uid: the arm's body.
        joint_indices: the J joints that ``q`` sets, in order (e.g. the Panda's ``arm.arm_joints``).
        obstacles: body ids to keep clear of (all their links count). The arm's other joints (the
            fingers) stay where they are and their links are checked too.
        margin: clearance (m, ≥ 0): a configuration is in collision when any arm link comes within
            ``margin`` of an obstacle (touching counts at 0).
        ignore_links: links of the arm whose contacts do not count (-1 = base), e.g. a base resting on
            the floor, or fingers that are meant to touch the object they hold.

    Each call saves the J joints' positions and velocities, resets them to ``q``, queries every
    obstacle and restores the saved states exactly, so checking leaves the simulation untouched.
    """

    def __init__(
        self,
        client: int,
        body_uid: int,
        joint_indices: Sequence[int],
        obstacles: Sequence[int],
        margin: float = 0.0,
        ignore_links: Sequence[int] = (),
    ):
        num_joints = p.getNumJoints(body_uid, physicsClientId=client)
        joints = [int(j) for j in joint_indices]
        if not joints:
            raise ValueError("joint_indices is empty; pass the arm joints that a configuration sets")
        bad = [j for j in joints if not 0 <= j < num_joints]
        if bad:
            raise ValueError(
                f"joint_indices {bad} are not joints of body {body_uid} (it has joints 0..{num_joints - 1})"
            )
        if len(set(joints)) != len(joints):
            raise ValueError(f"joint_indices {joints} has duplicates; list each joint once")
        if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin >= 0):
            raise ValueError(f"margin must be a finite distance ≥ 0 (m), got {margin!r}")
        obstacles = [int(o) for o in obstacles]
        if body_uid in obstacles:
            raise ValueError(
                f"obstacles contains the arm itself (body {body_uid}); self-collision is not "
                "checked by ArmCollisionChecker, list only other bodies"
            )
        self.client = client
        self.body_uid = body_uid
        self.joint_indices = joints
        self.obstacles = obstacles
        self.margin = float(margin)
        self.ignore_links = frozenset(int(l) for l in ignore_links)
        self.calls = 0  # number of configurations checked (planning cost, for logs and tests)

    @property
    def dof(self) -> int:
        """J, the length of a configuration."""
        return len(self.joint_indices)

    def __call__(self, q: np.ndarray) -> bool:
        """Whether the arm at (J,) joint configuration ``q`` (rad / m) is clear of every obstacle."""
        q = np.asarray(q, dtype=float)
        if q.shape != (self.dof,):
            raise ValueError(f"q must have shape ({self.dof},) (one value per joint in joint_indices), got {q.shape}")
        self.calls += 1
        uid, cid = self.body_uid, self.client
        saved = p.getJointStates(uid, self.joint_indices, physicsClientId=cid)
        try:
            for j, qj in zip(self.joint_indices, q):
                p.resetJointState(uid, j, float(qj), 0.0, physicsClientId=cid)
            # resetJointState updates the links' collision transforms and getClosestPoints computes
            # distances on demand from them, so no performCollisionDetection is needed (the tests
            # compare against a check that does run it).
            return not self._any_contact()
        finally:
            for j, state in zip(self.joint_indices, saved):
                p.resetJointState(uid, j, state[0], state[1], physicsClientId=cid)

    def _any_contact(self) -> bool:
        for obstacle in self.obstacles:
            points = p.getClosestPoints(
                bodyA=self.body_uid, bodyB=obstacle, distance=self.margin, physicsClientId=self.client
            )
            for point in points:
                # Also filter on distance: the query's threshold is inclusive and Bullet may pad it.
                if point[_LINK_A] not in self.ignore_links and point[_DISTANCE] <= self.margin:
                    return True
        return False


def plan_arm_path(
    checker: ArmCollisionChecker,
    q_start: np.ndarray,
    q_goal: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    rng: np.random.Generator,
    cfg: RRTConnectConfig | None = None,
) -> list[np.ndarray] | None:
    """A collision-free joint-space path for the arm of ``checker``, by RRT-Connect.

    Args:
        checker: collision check of the arm against its obstacles.
        q_start, q_goal: (J,) joint configurations (rad), inside [low, high] and collision free.
        low, high: (J,) joint limits (rad), e.g. ``np.array(PANDA_JOINT_LIMITS).T``.
        rng: the only randomness; the same seed gives the same path.
        cfg: RRT-Connect settings (step and edge resolution in rad).

    Returns:
        (J,) configurations from ``q_start`` to ``q_goal`` whose every edge is free at
        ``cfg.edge_resolution`` rad, or None if none was found. Execute it through
        ``densify(path, resolution)``. The world's joint states are left as they were.

    Raises:
        ValueError: as ``rrt_connect`` (start / goal outside the limits or in collision, shapes).
    """
    q_start, q_goal = np.asarray(q_start, dtype=float), np.asarray(q_goal, dtype=float)
    for name, q in (("q_start", q_start), ("q_goal", q_goal)):
        if q.shape != (checker.dof,):
            raise ValueError(f"{name} must have shape ({checker.dof},) like the checker's joint_indices, got {q.shape}")
    return rrt_connect(q_start, q_goal, low, high, checker, rng, cfg)
