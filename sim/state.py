"""Simulation state as plain numpy arrays, so it can be stored in datasets and sent between
processes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


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


@dataclass
class EnvState:
    """Everything ``set_state`` needs to continue an episode exactly where it was."""

    sim: SimState
    elapsed_steps: int
    initial_objects: Any  # ObjectStates at reset: the reference for success
    success_any: bool
    scene_params: Any  # SceneParams: the episode's randomization draw
