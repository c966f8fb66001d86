"""Navigation metrics: SPL, effort efficiency and the Interactive Navigation Score (INS).

Definitions (Anderson et al. 2018; Xia et al. 2020, with two fixes):

* SPL = S · L / max(P, L): S success (0/1), L the shortest feasible path length at reset (m), P the
  path length the robot drove (m). When L = 0 (start already at the goal) SPL = S instead of 0/0.
* Effort efficiency = mean of the kinematic ratio D / (D + Σ d_i) and the dynamic ratio
  M·D / (M·D + Σ m_i·d_i), D the robot's path length, d_i and m_i the distance each other object
  (clutter, obstacles, doors: their panel's centre arc) was moved and its mass. It is gated by
  success (iGibson's was not, so a robot that never moved scored 0.5) and is 1 when nothing moved.
* INS = 0.5 · SPL + 0.5 · effort efficiency, hence 0 for a failed episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EffortTracker:
    """Accumulates the robot's path length and every other object's displacement over an episode."""

    robot_mass: float
    object_masses: np.ndarray  # (N,) kg: free objects, then doors
    robot_path: float = 0.0  # m
    object_paths: np.ndarray | None = None  # (N,) m
    _last_robot: np.ndarray | None = None
    _last_objects: np.ndarray | None = None

    def reset(self, robot_xy: np.ndarray, object_xyz: np.ndarray) -> None:
        """Start counting from the robot's (2,) and the objects' (N, 3) positions (m)."""
        self.robot_path = 0.0
        self.object_paths = np.zeros(len(object_xyz))
        self._last_robot = np.asarray(robot_xy, float).copy()
        self._last_objects = np.asarray(object_xyz, float).copy()

    def update(self, robot_xy: np.ndarray, object_xyz: np.ndarray) -> None:
        """Add this step's displacements (positions in m, same order as at reset)."""
        robot_xy, object_xyz = np.asarray(robot_xy, float), np.asarray(object_xyz, float)
        self.robot_path += float(np.linalg.norm(robot_xy - self._last_robot))
        if len(object_xyz):
            moved = np.linalg.norm(object_xyz - self._last_objects, axis=1)
            # Solver jitter of objects at rest is sub-millimetre: ignore it so that effort counts pushes.
            self.object_paths += np.where(moved > 1e-4, moved, 0.0)
        self._last_robot, self._last_objects = robot_xy.copy(), object_xyz.copy()

    def effort(self) -> tuple[float, float, float]:
        """(kinematic ratio, dynamic ratio, their mean), ungated; 1 when nothing moved at all."""
        moved = float(self.object_paths.sum()) if self.object_paths is not None else 0.0
        weighted = float(np.dot(self.object_masses, self.object_paths)) if self.object_paths is not None else 0.0
        D = self.robot_path
        kin = D / (D + moved) if D + moved > 0 else 1.0
        dyn = self.robot_mass * D / (self.robot_mass * D + weighted) if D + weighted > 0 else 1.0
        return kin, dyn, (kin + dyn) / 2


def spl(success: bool, shortest: float, travelled: float) -> float:
    """Success weighted by path length; ``shortest`` and ``travelled`` in m."""
    if not success:
        return 0.0
    if shortest <= 0.0:
        return 1.0
    return float(shortest / max(travelled, shortest))


def episode_metrics(success: bool, shortest: float, tracker: EffortTracker) -> dict[str, float]:
    """SPL, effort efficiency (gated by success), its two ratios, INS and the path length."""
    kin, dyn, eff = tracker.effort()
    s = spl(success, shortest, tracker.robot_path)
    gated = eff if success else 0.0
    return {
        "spl": s,
        "effort_efficiency": gated,
        "kinematic_disturbance": kin,
        "dynamic_disturbance": dyn,
        "ins": 0.5 * s + 0.5 * gated,
        "path_length": tracker.robot_path,
        "shortest_path": shortest,
    }
