"""Typed, validated configuration of the home environments (``robolearn/Home-v0`` and its task ids).

Each field is declared once, with ``sim.plumbing.settings.knob`` (default, documentation with units, allowed
values); ``conf/env/home.yaml`` is generated from these dataclasses (``python -m robolearn.conf_files
--write``; a test checks it is current). Invalid values raise a one-line ``ValueError`` naming the field and
the accepted range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from sim.config import ArmConfig, PhysicsConfig
from sim.dimensions import DRAWER_TRAVEL, ROOM_DOOR_MAX_ANGLE, ROOM_DOOR_WIDTH
from sim.homes.catalogue import check_home_name
from sim.observation_keys import HOME_OBS_KEYS
from sim.plumbing.checks import check_obs_keys, check_range
from sim.plumbing.settings import FIGURES, check_knobs, knob
from sim.tasks.catalogue import check_home_task

ROBOTS = ("base", "manipulator")
SPLITS = ("train", "test")

#: the knobs that choose an env's home, the same for the home and the counter envs: name → (default, doc, bounds)
_HOME_SELECTION: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "home": (
        "generated",
        "generated (a seeded pool, see split), a named home (studio, apartment, ...), a .yaml/.json floor plan, "
        "or generated:<seed>",
        {},
    ),
    "split": (
        "train",
        "generated homes: train draws home seeds [0, num_homes); test a disjoint range never used for training",
        {"choices": SPLITS},
    ),
    "num_homes": (100, "homes in each split's generated pool (count)", {"lo": 1, "hi": 1_000_000}),
    "num_rooms": ((2, 8), "[low, high] rooms of a generated home (count)", {"lo": 2, "hi": 8, "pair": True}),
}


def home_selection_knob(name: str) -> Any:
    """A fresh knob ``name`` (home, split, num_homes or num_rooms) of the home selection, declared once for the
    home env (``HomeEnvConfig``) and the counter env (``CounterEnvConfig``)."""
    default, doc, bounds = _HOME_SELECTION[name]
    return knob(default, doc, **bounds)


def check_home_selector(home: object) -> None:
    """``env.home``'s syntax: ``generated`` (the seeded pool), a named home, ``generated:<seed ≥ 0>`` or a floor-plan
    path (whether it loads is checked where the env is built: ``robolearn.kinds.check_home``, ``HomeEnv``).

    Raises:
        ValueError: ``env.home: <why>`` (one line, with the options).
    """
    try:
        check_home_name(home, pool="generated")
    except ValueError as e:
        raise ValueError(f"env.home: {e}") from None


@dataclass
class HomePhysics(PhysicsConfig):
    """Physics stepping: one env step = ``substeps`` × ``timestep`` s (default 0.1 s, iGibson's 10 Hz).

    The plain redeclarations keep ``PhysicsConfig``'s knobs (docs and bounds), with new defaults.
    """

    timestep: float = 1.0 / 60.0
    substeps: int = 6
    solver_iterations: int = 10


@dataclass
class BaseConfig:
    """The differential-drive base (both robots). Action (v, ω) ∈ [-1, 1]² scales the maxima."""

    radius: float = knob(0.2, "chassis radius (m); planners inflate the map by it", lo=0.1, hi=0.5)
    height: float = knob(0.32, "chassis top above the floor (m)", lo=0.1, hi=1.0)
    mass: float = knob(
        30.0, "chassis mass (kg); enters the dynamic-disturbance ratio of effort efficiency", lo=1.0, hi=500.0
    )
    max_linear_speed: float = knob(0.5, "forward speed at action v = ±1 (m/s)", lo=0.05, hi=3.0)
    max_angular_speed: float = knob(1.5, "turn rate at action ω = ±1 (rad/s)", lo=0.1, hi=6.0)
    max_push_force: float = knob(
        250.0, "drive force limit (N): light clutter moves, 200 kg obstacles do not", lo=1.0, hi=5000.0
    )
    max_torque: float = knob(60.0, "turning torque limit (N·m)", lo=0.0, hi=5000.0, lo_open=True)
    camera_height: float = knob(1.05, "head camera height above the floor (m)", lo=0.05, hi=3.0)
    camera_forward: float = knob(0.02, "head camera ahead of the base centre (m; negative: behind it; within ±radius)")
    camera_left: float = knob(
        0.0, "head camera left of the base centre (m; negative: right of it; camera within the chassis radius)"
    )
    camera_yaw: float = knob(
        0.0,
        "head camera pan from the base's heading (degrees; positive turns left, negative right)",
        lo=-180.0,
        hi=180.0,
    )
    camera_pitch: float = knob(-15.0, "head camera tilt (degrees; negative looks down)", lo=-90.0, hi=90.0)
    camera_fov: float = knob(70.0, "head camera vertical field of view (degrees)", lo=10.0, hi=150.0)
    camera_near: float = knob(0.05, "near clipping plane (m)")
    camera_far: float = knob(8.0, "far clipping plane (m); also the largest depth value", hi=100.0)
    lidar_height: float = knob(0.15, "scan plane above the floor (m): low enough to see clutter", lo=0.02, hi=2.0)

    def __post_init__(self) -> None:
        check_knobs(self, "base")
        check_range("base", "camera_forward", self.camera_forward, -self.radius, self.radius)
        check_range("base", "camera_left", self.camera_left, -self.radius, self.radius)
        if math.hypot(self.camera_forward, self.camera_left) > self.radius + 1e-9:  # the mast stands on the chassis
            raise ValueError(
                f"base: the head camera (camera_forward={self.camera_forward}, camera_left="
                f"{self.camera_left}) must stand within the chassis radius {self.radius} m of its centre"
            )
        if not 0 < self.camera_near < self.camera_far:
            raise ValueError(f"base: need 0 < camera_near < camera_far, got {self.camera_near}, {self.camera_far}")


#: docs of the mobile arm's controller fields where they differ from the desk arm's
_MOBILE_ARM_DOCS = {
    "max_step": "largest tool-centre-point move per axis per step (m; action ±1)",
    "workspace_low": "lower xyz corner of the tool centre point (m, arm-base frame: forward, left, up)",
    "workspace_high": "upper xyz corner (m, arm-base frame)",
    "start_tcp": "unused by the home envs (the arm starts at rest_pose); kept for ArmConfig",
    "start_tcp_jitter": "unused by the home envs; kept for ArmConfig",
    "rest_pose": "7 arm joint angles at episode start and the IK rest pose (rad)",
}


@dataclass
class MobileArmConfig:
    """The manipulator's arm: a Panda on a torso column of the base (control as ``ArmConfig``)."""

    mount_height: float = knob(
        0.75,
        "arm base above the floor (m): the kitchen counter's height, as the desk's pedestal",
        lo=0.2,
        hi=1.5,
    )
    mount_forward: float = knob(
        0.0, "arm base ahead of the base centre (m, within the chassis radius)", lo=-0.5, hi=0.5
    )
    arm: ArmConfig = knob(
        ArmConfig(workspace_low=(0.22, -0.55, -0.35)),
        "the arm controller (as the desk arm's, sim.config.ArmConfig)",
        field_docs=_MOBILE_ARM_DOCS,
    )

    def __post_init__(self) -> None:
        check_knobs(self, "manipulator")


@dataclass
class LidarConfig:
    """A 1-beam planar LiDAR by ray casting (defaults: iGibson's 228 rays over 240°, 5.6 m)."""

    num_rays: int = knob(228, "rays per scan (count)", lo=1, hi=4096)
    fov: float = knob(240.0, "horizontal field of view centred on the heading (degrees)", lo=1.0, hi=360.0)
    range: float = knob(5.6, "maximum range (m); misses read this value", lo=0.1, hi=100.0)
    min_range: float = knob(0.05, "minimum reported range (m, ≤ range)", lo=0.0)
    noise_std: float = knob(0.01, "Gaussian range noise (m, standard deviation)", lo=0.0, hi=1.0)
    dropout: float = knob(0.0, "probability that a ray misses its echo and reads the maximum range", lo=0.0, hi=1.0)
    threads: int = knob(
        0,
        f"threads PyBullet casts the rays on (0 = every core; the ranges do not depend on it; speed: {FIGURES})",
        lo=0,
        hi=256,
    )

    def __post_init__(self) -> None:
        check_knobs(self, "lidar")
        check_range("lidar", "min_range", self.min_range, 0.0, self.range)


@dataclass
class LocalMapConfig:
    """Robot-centric occupancy grid built from each scan (iGibson: 128 × 128 cells over 5 m)."""

    size: int = knob(128, "cells per side (count)", lo=8, hi=1024)
    extent: float = knob(5.0, "side length (m)", lo=0.5, hi=50.0)

    def __post_init__(self) -> None:
        check_knobs(self, "local_map")


@dataclass
class NavTaskConfig:
    """Episode sampling and success of the navigation and mobile-manipulation tasks."""

    goal_tolerance: float = knob(0.36, "success radius around a point goal (m; iGibson's)", lo=0.05, hi=5.0)
    min_geodesic: float = knob(1.5, "shortest start-goal path length drawn (m)", lo=0.0, hi=100.0)
    max_geodesic: float = knob(12.0, "longest start-goal path length drawn (m, ≥ min_geodesic)", hi=1000.0)
    clutter_spacing: float = knob(
        0.5,
        "InteractiveNav: one clutter object per this many metres of shortest path (iGibson's density)",
        lo=0.1,
        hi=100.0,
    )
    clutter_offset: float = knob(
        0.3, "InteractiveNav: clutter lies within this distance of the shortest path (m)", lo=0.0, hi=2.0
    )
    unmovable_fraction: float = knob(
        0.2, "InteractiveNav: share of path obstacles that cannot be pushed (fraction)", lo=0.0, hi=1.0
    )
    closed_door_probability: float = knob(
        0.5, "InteractiveNav: chance that each door starts closed (probability)", lo=0.0, hi=1.0
    )
    room_clutter: int = knob(
        2, "movable objects scattered in every room, off the shortest path (count per room)", lo=0, hi=50
    )
    door_open_threshold: float = knob(
        1.0,
        f"open_door succeeds when the door has swung this far (rad; a door swings {ROOM_DOOR_MAX_ANGLE})",
        lo=0.0,
        hi=ROOM_DOOR_MAX_ANGLE,
        lo_open=True,
    )
    drawer_open_threshold: float = knob(
        0.08,
        f"open_drawer succeeds at this drawer opening (m; the drawer slides {DRAWER_TRAVEL})",
        lo=0.0,
        hi=DRAWER_TRAVEL,
        lo_open=True,
    )
    success_reward: float = knob(10.0, "dense reward bonus on success", lo=0.0, hi=1e6)
    map_resolution: float = knob(
        0.05, "cell size of the traversability map and of geodesic distances (m)", lo=0.01, hi=0.5
    )

    def __post_init__(self) -> None:
        check_knobs(self, "nav")
        check_range("nav", "max_geodesic", self.max_geodesic, self.min_geodesic, 1000.0)


@dataclass
class HomeEnvConfig:
    """Everything that defines a home environment."""

    KIND: ClassVar[str] = "home"  # its entry in robolearn.kinds.KINDS (conf/env/home.yaml's `kind`)

    task: str = knob(
        "pointnav",
        "pointnav | interactive_nav | room_nav | open_door | open_drawer (the last two need robot=manipulator)",
    )
    robot: str = knob("base", "base (differential drive) | manipulator (the base with a Panda arm)", choices=ROBOTS)
    home: str = home_selection_knob("home")
    split: str = home_selection_knob("split")
    num_homes: int = home_selection_knob("num_homes")
    num_rooms: tuple[int, int] = home_selection_knob("num_rooms")
    obs_keys: tuple[str, ...] = knob(
        ("rgb", "depth", "scan", "proprio", "goal"),
        "any of rgb, depth, segmentation (head camera), scan (LiDAR), local_map, proprio, goal",
    )
    width: int = knob(128, "head-camera image width (pixels)", lo=16, hi=1024)
    height: int = knob(128, "head-camera image height (pixels)", lo=16, hi=1024)
    max_episode_steps: int = knob(
        500,
        "the env truncates after this many steps; 1 step = physics.substeps × physics.timestep s",
        lo=1,
        hi=100_000,
    )
    room_culling: bool = knob(
        True,
        "head camera draws only the robot's room and the rooms through its doors (rooms further away are not "
        f"drawn; speed: {FIGURES})",
    )
    physics: HomePhysics = knob(
        HomePhysics(),
        "Physics stepping: one env step = substeps × timestep seconds (default 6 × 1/60 s = 0.1 s, iGibson's 10 Hz).",
    )
    base: BaseConfig = knob(
        BaseConfig(), "The differential-drive base (both robots); action (v, ω) in [-1, 1] scales the maxima."
    )
    manipulator: MobileArmConfig = knob(
        MobileArmConfig(),
        "The manipulator's arm: a Panda on a torso column of the base, controlled as the desk's arm.",
    )
    lidar: LidarConfig = knob(
        LidarConfig(), "The 1-beam LiDAR (ray casting); defaults are iGibson's 228 rays over 240° to 5.6 m."
    )
    local_map: LocalMapConfig = knob(
        LocalMapConfig(), "Robot-centric occupancy grid from each scan (robot at the centre, heading up)."
    )
    nav: NavTaskConfig = knob(NavTaskConfig(), "Episode sampling, success and rewards of the tasks.")

    def __post_init__(self) -> None:
        self.obs_keys = check_obs_keys(self.obs_keys, HOME_OBS_KEYS)
        task = check_home_task(self.task)
        check_knobs(self, "env")
        check_home_selector(self.home)
        if task.needs_arm and self.robot != "manipulator":
            raise ValueError(f"task {self.task!r} needs the arm; set robot=manipulator")
        if self.base.radius + self.nav.map_resolution >= ROOM_DOOR_WIDTH / 2:
            raise ValueError(
                f"env.base.radius={self.base.radius} m closes the homes' {ROOM_DOOR_WIDTH} m doorways: the map keeps "
                f"free only what is radius + one cell (env.nav.map_resolution={self.nav.map_resolution}) from a wall, "
                f"which must stay below {ROOM_DOOR_WIDTH / 2} m; use a smaller base or map cell"
            )
        if abs(self.manipulator.mount_forward) > self.base.radius:
            raise ValueError(
                f"manipulator.mount_forward={self.manipulator.mount_forward} puts the arm off the chassis (radius "
                f"base.radius={self.base.radius} m); use a value within ±{self.base.radius}"
            )
