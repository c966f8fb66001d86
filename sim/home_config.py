"""Typed, validated configuration of the home environments (``robolearn/Home-v0`` and its task ids).

Each dataclass mirrors a section of ``conf/env/home.yaml``, where every field is documented; the
defaults are the same values (tests/test_conf.py keeps the two in sync). Invalid values raise
``ValueError`` naming the field and the accepted range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from sim.config import ArmConfig, PhysicsConfig
from sim.plumbing.checks import check_image_size, check_obs_keys, check_pair, check_range

ROBOTS = ("base", "manipulator")
HOME_OBS_KEYS = ("rgb", "depth", "segmentation", "scan", "local_map", "proprio", "goal")
SPLITS = ("train", "test")


@dataclass
class HomePhysics(PhysicsConfig):
    """Physics stepping: one env step = ``substeps`` × ``timestep`` s (default 0.1 s, iGibson's 10 Hz)."""

    timestep: float = 1.0 / 60.0
    substeps: int = 6
    solver_iterations: int = 10


@dataclass
class BaseConfig:
    """The differential-drive base (both robots). Action (v, ω) ∈ [-1, 1]² scales the maxima."""

    radius: float = 0.2  # m: chassis radius; also the collision radius planners inflate the map by
    height: float = 0.32  # m: chassis top above the floor
    mass: float = 30.0  # kg
    max_linear_speed: float = 0.5  # m/s at action v = ±1
    max_angular_speed: float = 1.5  # rad/s at action ω = ±1
    max_push_force: float = 250.0  # N: wheel force limit; light clutter moves, 200 kg crates do not
    max_torque: float = 60.0  # N·m about the vertical axis
    camera_height: float = 1.05  # m: head camera above the floor
    camera_forward: float = 0.02  # m: head camera ahead of the base centre (negative: behind it)
    camera_left: float = 0.0  # m: head camera left of the base centre (negative: right of it)
    camera_yaw: float = 0.0  # degrees: head camera pan from the base's heading (positive = left, negative = right)
    camera_pitch: float = -15.0  # degrees: head camera tilt (negative = looking down)
    camera_fov: float = 70.0  # degrees, vertical
    camera_near: float = 0.05  # m
    camera_far: float = 8.0  # m; also the largest depth value
    lidar_height: float = 0.15  # m: scan plane above the floor (sees clutter, passes over nothing taller)

    def __post_init__(self) -> None:
        check_range("base", "radius", self.radius, 0.1, 0.5)
        check_range("base", "height", self.height, 0.1, 1.0)
        check_range("base", "mass", self.mass, 1.0, 500.0)
        check_range("base", "max_linear_speed", self.max_linear_speed, 0.05, 3.0)
        check_range("base", "max_angular_speed", self.max_angular_speed, 0.1, 6.0)
        check_range("base", "max_push_force", self.max_push_force, 1.0, 5000.0)
        check_range("base", "camera_fov", self.camera_fov, 10.0, 150.0)
        check_range("base", "camera_forward", self.camera_forward, -self.radius, self.radius)
        check_range("base", "camera_left", self.camera_left, -self.radius, self.radius)
        if math.hypot(self.camera_forward, self.camera_left) > self.radius + 1e-9:  # the mast stands on the chassis
            raise ValueError(
                f"base: the head camera (camera_forward={self.camera_forward}, camera_left="
                f"{self.camera_left}) must stand within the chassis radius {self.radius} m of its centre"
            )
        check_range("base", "camera_yaw", self.camera_yaw, -180.0, 180.0)
        check_range("base", "camera_pitch", self.camera_pitch, -90.0, 90.0)
        if not 0 < self.camera_near < self.camera_far:
            raise ValueError(f"base: need 0 < camera_near < camera_far, got {self.camera_near}, {self.camera_far}")
        check_range("base", "lidar_height", self.lidar_height, 0.02, 2.0)


@dataclass
class MobileArmConfig:
    """The manipulator's arm: a Panda on a torso column of the base (control as ``ArmConfig``)."""

    mount_height: float = 0.75  # m: arm base above the floor (the counter height, as the desk's pedestal)
    mount_forward: float = 0.0  # m: arm base ahead of the base centre
    arm: ArmConfig = field(default_factory=lambda: ArmConfig(workspace_low=(0.22, -0.55, -0.35)))

    def __post_init__(self) -> None:
        check_range("manipulator", "mount_height", self.mount_height, 0.2, 1.5)


@dataclass
class LidarConfig:
    """A 1-beam planar LiDAR by ray casting (defaults: iGibson's 228 rays over 240°, 5.6 m)."""

    num_rays: int = 228
    fov: float = 240.0  # degrees, centred on the robot's heading
    range: float = 5.6  # m; misses read this value
    min_range: float = 0.05  # m
    noise_std: float = 0.01  # m: Gaussian range noise
    dropout: float = 0.0  # probability that a ray returns max range (a missed echo)
    threads: int = 0  # threads PyBullet casts the rays on (0 = every core; the ranges do not depend on it)

    def __post_init__(self) -> None:
        check_range("lidar", "num_rays", self.num_rays, 1, 4096)
        check_range("lidar", "threads", self.threads, 0, 256)
        check_range("lidar", "fov", self.fov, 1.0, 360.0)
        check_range("lidar", "range", self.range, 0.1, 100.0)
        check_range("lidar", "min_range", self.min_range, 0.0, self.range)
        check_range("lidar", "noise_std", self.noise_std, 0.0, 1.0)
        check_range("lidar", "dropout", self.dropout, 0.0, 1.0)


@dataclass
class LocalMapConfig:
    """Robot-centric occupancy grid built from each scan (iGibson: 128 × 128 cells over 5 m)."""

    size: int = 128  # cells per side
    extent: float = 5.0  # m per side; the robot sits at the centre, heading up the grid

    def __post_init__(self) -> None:
        check_range("local_map", "size", self.size, 8, 1024)
        check_range("local_map", "extent", self.extent, 0.5, 50.0)


@dataclass
class NavTaskConfig:
    """Episode sampling and success of the navigation and mobile-manipulation tasks."""

    goal_tolerance: float = 0.36  # m: success radius around a point goal (iGibson's)
    min_geodesic: float = 1.5  # m: shortest start-goal path drawn for a point goal
    max_geodesic: float = 12.0  # m
    clutter_spacing: float = 0.5  # m of shortest path per clutter object in InteractiveNav (iGibson: one per 0.5 m)
    clutter_offset: float = 0.3  # m: clutter lies within this distance of the shortest path
    unmovable_fraction: float = 0.2  # share of InteractiveNav obstacles that no robot can push
    closed_door_probability: float = 0.5  # InteractiveNav: chance that each door starts closed
    room_clutter: int = 2  # movable objects scattered in every room (all tasks)
    door_open_threshold: float = 1.0  # rad: "open the ... door" succeeds at this opening
    drawer_open_threshold: float = 0.08  # m: "open the kitchen drawer" succeeds at this opening
    success_reward: float = 10.0  # dense reward bonus on success
    map_resolution: float = 0.05  # m per cell of the traversability map and geodesic distances

    def __post_init__(self) -> None:
        check_range("task", "goal_tolerance", self.goal_tolerance, 0.05, 5.0)
        check_range("task", "min_geodesic", self.min_geodesic, 0.0, 100.0)
        check_range("task", "max_geodesic", self.max_geodesic, self.min_geodesic, 1000.0)
        check_range("task", "clutter_spacing", self.clutter_spacing, 0.1, 100.0)
        check_range("task", "clutter_offset", self.clutter_offset, 0.0, 2.0)
        check_range("task", "unmovable_fraction", self.unmovable_fraction, 0.0, 1.0)
        check_range("task", "closed_door_probability", self.closed_door_probability, 0.0, 1.0)
        check_range("task", "room_clutter", self.room_clutter, 0, 50)
        check_range("task", "map_resolution", self.map_resolution, 0.01, 0.5)


@dataclass
class HomeEnvConfig:
    """Everything that defines a home environment."""

    KIND: ClassVar[str] = "home"  # its entry in sim.kinds.KINDS (conf/env/home.yaml's `kind`)

    task: str = "pointnav"
    robot: str = "base"
    home: str = (
        "generated"  # "generated" (a pool of seeded homes), a named home, a .yaml/.json path, or "generated:<seed>"
    )
    split: str = "train"  # generated homes: train draws from home seeds [0, num_homes), test from a disjoint range
    num_homes: int = 100  # size of the generated pool of each split
    num_rooms: tuple[int, int] = (2, 8)  # [low, high] rooms of generated homes
    obs_keys: tuple[str, ...] = ("rgb", "depth", "scan", "proprio", "goal")
    width: int = 128
    height: int = 128
    max_episode_steps: int = 500
    room_culling: bool = True  # the head camera draws only the robot's room and its door neighbours (~2x faster)
    physics: HomePhysics = field(default_factory=HomePhysics)
    base: BaseConfig = field(default_factory=BaseConfig)
    manipulator: MobileArmConfig = field(default_factory=MobileArmConfig)
    lidar: LidarConfig = field(default_factory=LidarConfig)
    local_map: LocalMapConfig = field(default_factory=LocalMapConfig)
    nav: NavTaskConfig = field(default_factory=NavTaskConfig)

    def __post_init__(self) -> None:
        from sim.tasks.navigation import HOME_TASKS

        self.obs_keys = check_obs_keys(self.obs_keys, HOME_OBS_KEYS)
        if self.task not in HOME_TASKS:
            raise ValueError(f"unknown home task {self.task!r}; choose from {sorted(HOME_TASKS)}")
        if self.robot not in ROBOTS:
            raise ValueError(f"unknown robot {self.robot!r}; choose from {list(ROBOTS)}")
        if HOME_TASKS[self.task].needs_arm and self.robot != "manipulator":
            raise ValueError(f"task {self.task!r} needs the arm; set robot=manipulator")
        if self.split not in SPLITS:
            raise ValueError(f"unknown split {self.split!r}; choose from {list(SPLITS)}")
        check_range("env", "num_homes", self.num_homes, 1, 1_000_000)
        check_pair("env", "num_rooms", self.num_rooms, 2, 8)
        check_image_size(self.width, self.height)
        check_range("env", "max_episode_steps", self.max_episode_steps, 1, 100_000)
