"""Typed, validated configuration of the simulator (the desk env, ``robolearn/Desk-v1``).

Each field is declared once, with ``sim.plumbing.settings.knob``: its default, its documentation (with
units) and its allowed values. ``conf/env/desk.yaml`` is generated from these dataclasses
(``python -m robolearn.conf_files --write``; a test checks it is current). Invalid values raise a one-line
``ValueError`` naming the field and the accepted range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from sim.observation_keys import OBS_KEYS
from sim.plumbing.checks import check_obs_keys
from sim.plumbing.settings import FIGURES, check_knobs, knob
from sim.tasks.catalogue import check_desk_task
from sim.variants import VARIANTS


@dataclass
class PhysicsConfig:
    """Physics stepping. One env step = ``substeps`` × ``timestep`` seconds of simulated time."""

    timestep: float = knob(1.0 / 96.0, "physics time step (s)", lo=1e-4, hi=0.05)
    substeps: int = knob(8, "physics steps per env step (count)", lo=1, hi=1000)
    solver_iterations: int = knob(20, "constraint-solver iterations per physics step (count)", lo=1, hi=1000)
    gravity: float = knob(-9.81, "gravity along world z (m/s²)")

    def __post_init__(self) -> None:
        check_knobs(self, "physics")

    @property
    def control_period(self) -> float:
        """Simulated seconds per env step."""
        return self.timestep * self.substeps


@dataclass
class ArmConfig:
    """End-effector control of the arm. Workspace bounds are relative to the arm's base (m)."""

    max_step: float = knob(
        0.05, "largest tool-centre-point move per axis per env step (m; action ±1 = ±max_step)", lo=1e-4, hi=0.2
    )
    workspace_low: tuple[float, float, float] = knob(
        (0.22, -0.55, 0.005), "lower xyz corner the tool centre point is clipped to (m, arm base frame)"
    )
    workspace_high: tuple[float, float, float] = knob(
        (0.80, 0.55, 0.40), "upper xyz corner the tool centre point is clipped to (m, arm base frame)"
    )
    start_tcp: tuple[float, float, float] = knob(
        (0.45, 0.0, 0.12), "tool-centre-point position at episode start (m, arm base frame)"
    )
    start_tcp_jitter: tuple[float, float, float] = knob(
        (0.05, 0.08, 0.02), "uniform ± jitter per axis around start_tcp at reset (m)"
    )
    rest_pose: tuple[float, ...] = knob(
        (0.0, -0.5, 0.0, -2.3, 0.0, 1.8, 0.785), "7 arm joint angles of the rest pose, also the IK rest pose (rad)"
    )
    ik_iterations: int = knob(20, "max inverse-kinematics iterations per env step (count)")
    ik_tolerance: float = knob(1e-4, "inverse-kinematics residual that counts as converged (m)")
    position_gain: float = knob(0.3, "position gain of the arm and finger joint motors (unitless)", lo=1e-3, hi=1.0)
    finger_force: float = knob(70.0, "force cap of each gripper finger motor (N)")

    def __post_init__(self) -> None:
        check_knobs(self, "arm")
        if len(self.rest_pose) != 7:
            raise ValueError(f"arm.rest_pose needs 7 joint angles, got {len(self.rest_pose)}")
        for i, (lo, hi) in enumerate(zip(self.workspace_low, self.workspace_high)):
            if lo >= hi:
                raise ValueError(f"arm.workspace_low[{i}]={lo} must be below arm.workspace_high[{i}]={hi}")


@dataclass
class CameraConfig:
    """A pinhole camera looking at ``target`` from ``eye`` (world, m)."""

    name: str = knob("front", "camera name (unique); suffix of the observation keys of extra cameras")
    eye: tuple[float, float, float] = knob(
        (1.45, 0.0, 1.50), "camera position (world frame, m): far side of the desk, looking back at the robot"
    )
    target: tuple[float, float, float] = knob((0.40, 0.0, 0.82), "point the camera looks at (world frame, m)")
    up: tuple[float, float, float] = knob((0.0, 0.0, 1.0), "up direction of the image (world frame, unit vector)")
    fov: float = knob(55.0, "vertical field of view (degrees)", lo=5.0, hi=150.0)
    near: float = knob(0.05, "near clipping plane (m, > 0)")
    far: float = knob(4.0, "far clipping plane (m, > near); also the largest depth value")

    def __post_init__(self) -> None:
        check_knobs(self, f"camera[{self.name}]")
        if not 0 < self.near < self.far:
            raise ValueError(f"camera[{self.name}]: need 0 < near < far, got near={self.near}, far={self.far}")


@dataclass
class RandomizationConfig:
    """Domain randomization; each factor switchable, each bounded."""

    colors: bool = knob(False, "randomize furniture, desk, floor and wall colours and the mugs' grey levels")
    color_jitter: float = knob(
        0.15, "max |Δ| per RGB channel around the nominal colours, on a 0–1 colour scale", lo=0.0, hi=1.0
    )
    textures: bool = knob(False, "put procedural textures on furniture surfaces")
    texture_probability: float = knob(
        0.5, "chance that a furniture surface gets a texture (probability)", lo=0.0, hi=1.0
    )
    lighting: bool = knob(False, "randomize the light direction and strength")
    light_azimuth: tuple[float, float] = knob(
        (-180.0, 180.0), "[low, high] light azimuth (degrees)", lo=-360.0, hi=360.0, pair=True
    )
    light_elevation: tuple[float, float] = knob(
        (30.0, 80.0), "[low, high] light elevation above the horizon (degrees)", lo=0.0, hi=90.0, pair=True
    )
    light_ambient: tuple[float, float] = knob(
        (0.4, 0.8), "[low, high] ambient light coefficient (unitless)", lo=0.0, hi=1.0, pair=True
    )
    light_diffuse: tuple[float, float] = knob(
        (0.3, 0.7), "[low, high] diffuse light coefficient (unitless)", lo=0.0, hi=1.0, pair=True
    )
    camera: bool = knob(False, "jitter the camera pose and field of view")
    camera_eye_jitter: float = knob(0.05, "max camera position jitter per axis (m)", lo=0.0, hi=0.5)
    camera_target_jitter: float = knob(0.03, "max camera look-at point jitter per axis (m)", lo=0.0, hi=0.5)
    camera_fov_jitter: float = knob(3.0, "max field-of-view jitter (degrees)", lo=0.0, hi=30.0)
    object_positions: bool = knob(False, "widen the region where mugs and blocks start by object_position_jitter")
    object_position_jitter: float = knob(
        0.03, "how far the start region grows on each side, per axis (m)", lo=0.0, hi=0.2
    )
    physics: bool = knob(False, "randomize friction, masses and damping")
    friction_scale: tuple[float, float] = knob(
        (0.7, 1.3),
        "[low, high] factor on the lateral friction of objects and desk (unitless)",
        lo=0.05,
        hi=10.0,
        pair=True,
    )
    mass_scale: tuple[float, float] = knob(
        (0.7, 1.3), "[low, high] factor on object masses (unitless)", lo=0.05, hi=10.0, pair=True
    )
    damping_scale: tuple[float, float] = knob(
        (0.7, 1.5), "[low, high] factor on furniture joint damping and friction (unitless)", lo=0.0, hi=10.0, pair=True
    )

    def __post_init__(self) -> None:
        check_knobs(self, "randomization")


@dataclass
class FurnitureDynamics:
    """Joint damping and friction of the articulated furniture (SI units)."""

    drawer_damping: float = knob(20.0, "drawer slide damping (N·s/m; as LOReL's drawer, stable: the drawer is 1 kg)")
    drawer_friction: float = knob(2.0, "drawer slide friction (N)")
    door_damping: float = knob(0.1, "cabinet door hinge damping (N·m·s/rad)")
    door_friction: float = knob(0.3, "cabinet door hinge friction (N·m)")
    faucet_damping: float = knob(
        0.01, "faucet lever damping (N·m·s/rad; LOReL's 2 is unstable for a light lever at this step)"
    )
    faucet_friction: float = knob(0.1, "faucet lever friction: holds the lever where it is left (N·m)")
    button_stiffness: float = knob(0.3, "position gain of the spring that returns the button (unitless)")
    button_force: float = knob(3.0, "force cap of the return spring: force needed to hold the button down (N)")
    object_friction: float = knob(0.6, "lateral friction coefficient of mugs and blocks (unitless)")
    desk_friction: float = knob(0.6, "lateral friction coefficient of the desk top (unitless)")

    def __post_init__(self) -> None:
        check_knobs(self, "dynamics")


@dataclass
class DeskLayout:
    """Where the furniture stands on the desk (world frame, m). The desk top is at ``desk_height``."""

    desk_height: float = knob(0.75, "height of the desk top above the floor (m)", lo=0.3, hi=1.5)
    desk_center: tuple[float, float] = knob((0.52, 0.0), "xy centre of the desk top (m)")
    desk_half_size: tuple[float, float] = knob((0.38, 0.55), "half extents of the desk top along x and y (m)")
    drawer_center: tuple[float, float] = knob((0.56, -0.38), "xy centre of the drawer carcass (m)")
    cabinet_center: tuple[float, float] = knob((0.58, 0.38), "xy centre of the cabinet carcass (m)")
    faucet_center: tuple[float, float] = knob(
        (0.78, 0.10), "xy position of the faucet column (m): its 12 cm lever's sweep stays behind the mug region"
    )
    button_center: tuple[float, float] = knob((0.70, -0.16), "xy position of the button (m)")
    mug_region_low: tuple[float, float] = knob(
        (0.42, -0.16), "lower xy corner of the region where mugs (and blocks) may start (m)"
    )
    mug_region_high: tuple[float, float] = knob(
        (0.62, 0.18), "upper xy corner of the region where mugs (and blocks) may start (m)"
    )
    num_blocks: int = knob(0, "extra loose blocks on the desk (count)", lo=0, hi=8)
    back_wall: bool = knob(
        False, f"draw the wall behind the robot (it fills a third of the frame; render cost: {FIGURES})"
    )

    def __post_init__(self) -> None:
        check_knobs(self, "layout")


@dataclass
class SuccessThresholds:
    """How much an object must change for a task to count as done (LOReL used 2 cm / π/10)."""

    mug: float = knob(0.04, "mug displacement along the instructed direction (m)")
    drawer: float = knob(0.04, "drawer travel (m)")
    faucet: float = knob(0.314, "faucet rotation (rad; π/10)")
    door: float = knob(0.35, "cabinet door rotation (rad; ~20°)")
    button: float = knob(0.006, "button travel (m; of 0.012 m full travel)")

    def __post_init__(self) -> None:
        check_knobs(self, "thresholds")


@dataclass
class DeskEnvConfig:
    """Everything that defines a desk environment."""

    KIND: ClassVar[str] = "desk"  # its entry in robolearn.kinds.KINDS (conf/env/desk.yaml's `kind`)

    task: str = knob(
        "open_drawer",
        'instruction to learn; one of the 15 desk tasks (README "Tasks"), e.g. close_drawer, move_white_mug_up',
    )
    obs_keys: tuple[str, ...] = knob(
        ("rgb",),
        "observations to return: any of rgb (uint8 HxWx3), depth (float32 m), segmentation (int32 ids), "
        "proprio (float32 14)",
    )
    width: int = knob(64, "observation image width (pixels)", lo=16, hi=1024)
    height: int = knob(64, "observation image height (pixels)", lo=16, hi=1024)
    cameras: list[CameraConfig] = knob(
        [CameraConfig()],
        "Cameras that render observations; the first is the main view (keys rgb, depth, ...), extra ones add "
        "<key>_<name>.",
    )
    max_episode_steps: int = knob(
        20,
        "episode length (env steps): the env truncates after this many; 1 step = physics.substeps × physics.timestep s",
        lo=1,
        hi=100_000,
    )
    variant: str = knob("train", "named held-out variant", choices=tuple(VARIANTS))
    physics: PhysicsConfig = knob(
        PhysicsConfig(),
        "Physics stepping: one env step = substeps × timestep seconds of simulated time (default 8 × 1/96 s = 1/12 s).",
    )
    arm: ArmConfig = knob(
        ArmConfig(), "End-effector control of the arm; workspace bounds are relative to the arm's base (m)."
    )
    layout: DeskLayout = knob(
        DeskLayout(), "Where the furniture stands on the desk (world frame, m); the desk top is at desk_height."
    )
    dynamics: FurnitureDynamics = knob(
        FurnitureDynamics(),
        "Joint damping and friction of the articulated furniture (SI units). PyBullet applies damping "
        "explicitly, so it must stay below inertia / (2 · physics.timestep) (checked at reset); friction is "
        "implicit and carries the resistance LOReL put into damping.",
    )
    thresholds: SuccessThresholds = knob(
        SuccessThresholds(),
        "How much an object must change since reset for a task to count as done (LOReL used 2 cm / π/10).",
    )
    randomization: RandomizationConfig = knob(
        RandomizationConfig(),
        "Domain randomization, drawn at every reset; each factor has an on/off switch and bounded ranges.",
    )

    def __post_init__(self) -> None:
        self.obs_keys = check_obs_keys(self.obs_keys, OBS_KEYS)
        check_knobs(self, "env")
        if not self.cameras:
            raise ValueError("cameras must name at least one camera")
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        check_desk_task(self.task)  # a ValueError listing the tasks, as sim.tasks.desk.get_task's


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (JSON/YAML-friendly) of a config dataclass."""
    return asdict(cfg)
