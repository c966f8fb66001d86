"""Simulation state as plain numpy arrays, so it can be stored in datasets and sent between
processes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pybullet as p


@dataclass
class SimState:
    """Physical state of a scene.

    Attributes:
        base: (B, 13) per body: position (3, m), quaternion xyzw (4), linear (3, m/s) and
            angular (3, rad/s) velocity of the base.
        joints: (J, 2) joint position (m or rad) and velocity of every joint, bodies in order.
        arm_targets: (7,) the arm motors' joint targets (rad).
        finger_target: finger motor target (m).
    """

    base: np.ndarray
    joints: np.ndarray
    arm_targets: np.ndarray
    finger_target: float

    def flat(self) -> np.ndarray:
        """One float64 vector, for storage."""
        return np.concatenate([self.base.ravel(), self.joints.ravel(), self.arm_targets, [self.finger_target]])


def read_bodies(client: int, uids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The physical state of ``uids`` in ``client``: (B, 13) per body position (3, m), quaternion xyzw (4),
    linear (3, m/s) and angular (3, rad/s) velocity of the base, and (J, 2) position and velocity of every
    joint, bodies in order."""
    base, joints = [], []
    for uid in uids:
        pos, orn = p.getBasePositionAndOrientation(uid, physicsClientId=client)
        lin, ang = p.getBaseVelocity(uid, physicsClientId=client)
        base.append(np.concatenate([pos, orn, lin, ang]))
        n = p.getNumJoints(uid, physicsClientId=client)
        if n:
            joints.append(np.array([s[:2] for s in p.getJointStates(uid, list(range(n)), physicsClientId=client)]))
    return np.array(base).reshape(-1, 13), (np.concatenate(joints) if joints else np.zeros((0, 2)))


def write_bodies(client: int, uids: Sequence[int], base: np.ndarray, joints: np.ndarray) -> None:
    """Restore ``read_bodies`` onto the same bodies (at rest in the solver: velocities as given).

    Raises:
        ValueError: the arrays do not match the bodies (checked before anything is changed).
    """
    counts = [p.getNumJoints(u, physicsClientId=client) for u in uids]
    base, joints = np.asarray(base, float), np.asarray(joints, float)
    if base.shape != (len(uids), 13) or joints.shape != (sum(counts), 2):
        raise ValueError(
            f"state does not match this scene: expected {len(uids)} bodies and {sum(counts)} joints, "
            f"got {base.shape[0]} bodies and {joints.shape[0] if joints.ndim else 0} joints"
        )
    k = 0
    for uid, b, n in zip(uids, base, counts):
        p.resetBasePositionAndOrientation(uid, b[0:3], b[3:7], physicsClientId=client)
        p.resetBaseVelocity(uid, b[7:10], b[10:13], physicsClientId=client)
        for j in range(n):
            p.resetJointState(uid, j, joints[k, 0], joints[k, 1], physicsClientId=client)
            k += 1
