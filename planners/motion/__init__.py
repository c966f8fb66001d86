"""Classical motion planning: grid search for the mobile base, sampling-based planning for the arm.

  - ``planners.motion.astar``: A* on an (H, W) traversability grid (8-connected, no corner cutting,
    optional per-cell cost), the matching geodesic distance field, obstacle inflation, nearest free
    cell and line-of-sight path simplification;
  - ``planners.motion.rrt_connect``: bidirectional RRT-Connect in a box-bounded configuration space
    with a black-box collision check, random shortcutting and path densification for executors;
  - ``planners.motion.arm``: a PyBullet collision checker for an arm's joint configurations that
    leaves the world untouched, and ``plan_arm_path`` (RRT-Connect in joint space).

Only numpy, scipy and pybullet are imported (no torch), so the package is cheap to load.
"""

from planners.motion.arm import ArmCollisionChecker, plan_arm_path
from planners.motion.astar import (
    Cell,
    astar,
    geodesic_distance_field,
    inflate,
    nearest_free,
    path_length,
    simplify_path,
)
from planners.motion.rrt_connect import RRTConnectConfig, densify, edge_is_free, rrt_connect, shortcut_path

__all__ = [
    "ArmCollisionChecker",
    "Cell",
    "RRTConnectConfig",
    "astar",
    "densify",
    "edge_is_free",
    "geodesic_distance_field",
    "inflate",
    "nearest_free",
    "path_length",
    "plan_arm_path",
    "rrt_connect",
    "shortcut_path",
    "simplify_path",
]
