"""Typed, validated configuration of the simulator.

Each dataclass mirrors a file in ``conf/`` (``conf/env/desk.yaml`` and its groups),
where every field is documented; the dataclass defaults are the same values (a
test keeps them in sync). Invalid values raise ``ValueError`` naming the field
and the accepted range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from typing import Any, ClassVar, TypeVar

from sim.plumbing.checks import check_image_size, check_obs_keys, check_pair, check_range

T = TypeVar("T")


@dataclass
class PhysicsConfig:
    """Physics stepping. One env step = ``substeps`` × ``timestep`` seconds of simulated time."""

    timestep: float = 1.0 / 96.0
    substeps: int = 8
    solver_iterations: int = 20
    gravity: float = -9.81

    def __post_init__(self) -> None:
        check_range("physics", "timestep", self.timestep, 1e-4, 0.05)
        check_range("physics", "substeps", self.substeps, 1, 1000)
        check_range("physics", "solver_iterations", self.solver_iterations, 1, 1000)

    @property
    def control_period(self) -> float:
        """Simulated seconds per env step."""
        return self.timestep * self.substeps


@dataclass
class ArmConfig:
    """End-effector control of the arm. Workspace bounds are relative to the arm's base (m)."""

    max_step: float = 0.05
    workspace_low: tuple[float, float, float] = (0.22, -0.55, 0.005)
    workspace_high: tuple[float, float, float] = (0.80, 0.55, 0.40)
    start_tcp: tuple[float, float, float] = (0.45, 0.0, 0.12)  # episode start of the tool centre point
    start_tcp_jitter: tuple[float, float, float] = (0.05, 0.08, 0.02)  # uniform ± around start_tcp
    rest_pose: tuple[float, ...] = (0.0, -0.5, 0.0, -2.3, 0.0, 1.8, 0.785)
    ik_iterations: int = 20
    ik_tolerance: float = 1e-4
    position_gain: float = 0.3
    finger_force: float = 70.0

    def __post_init__(self) -> None:
        check_range("arm", "max_step", self.max_step, 1e-4, 0.2)
        if len(self.rest_pose) != 7:
            raise ValueError(f"arm.rest_pose needs 7 joint angles, got {len(self.rest_pose)}")
        for i, (lo, hi) in enumerate(zip(self.workspace_low, self.workspace_high)):
            if lo >= hi:
                raise ValueError(f"arm.workspace_low[{i}]={lo} must be below arm.workspace_high[{i}]={hi}")
        check_range("arm", "position_gain", self.position_gain, 1e-3, 1.0)


@dataclass
class CameraConfig:
    """A pinhole camera looking at ``target`` from ``eye`` (world, m)."""

    name: str = "front"
    eye: tuple[float, float, float] = (1.45, 0.0, 1.50)  # far side of the desk, looking back at the robot
    target: tuple[float, float, float] = (0.40, 0.0, 0.82)
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov: float = 55.0  # vertical field of view, degrees
    near: float = 0.05
    far: float = 4.0

    def __post_init__(self) -> None:
        check_range(f"camera[{self.name}]", "fov", self.fov, 5.0, 150.0)
        if not 0 < self.near < self.far:
            raise ValueError(f"camera[{self.name}]: need 0 < near < far, got near={self.near}, far={self.far}")


@dataclass
class RandomizationConfig:
    """Domain randomization; each factor switchable, each bounded."""

    colors: bool = False
    color_jitter: float = 0.15  # max |Δ| per RGB channel (0–1 scale) around the nominal colours
    textures: bool = False
    texture_probability: float = 0.5  # chance that a furniture surface gets a procedural texture
    lighting: bool = False
    light_azimuth: tuple[float, float] = (-180.0, 180.0)  # degrees
    light_elevation: tuple[float, float] = (30.0, 80.0)  # degrees above the horizon
    light_ambient: tuple[float, float] = (0.4, 0.8)
    light_diffuse: tuple[float, float] = (0.3, 0.7)
    camera: bool = False
    camera_eye_jitter: float = 0.05  # m, per axis
    camera_target_jitter: float = 0.03  # m, per axis
    camera_fov_jitter: float = 3.0  # degrees
    object_positions: bool = False
    object_position_jitter: float = 0.03  # m: extra jitter on object start positions, per axis
    physics: bool = False
    friction_scale: tuple[float, float] = (0.7, 1.3)  # multiplies lateral friction of objects and desk
    mass_scale: tuple[float, float] = (0.7, 1.3)  # multiplies object masses
    damping_scale: tuple[float, float] = (0.7, 1.5)  # multiplies furniture joint damping and friction

    def __post_init__(self) -> None:
        check_range("randomization", "color_jitter", self.color_jitter, 0.0, 1.0)
        check_range("randomization", "texture_probability", self.texture_probability, 0.0, 1.0)
        check_pair("randomization", "light_azimuth", self.light_azimuth, -360.0, 360.0)
        check_pair("randomization", "light_elevation", self.light_elevation, 0.0, 90.0)
        check_pair("randomization", "light_ambient", self.light_ambient, 0.0, 1.0)
        check_pair("randomization", "light_diffuse", self.light_diffuse, 0.0, 1.0)
        check_range("randomization", "camera_eye_jitter", self.camera_eye_jitter, 0.0, 0.5)
        check_range("randomization", "camera_target_jitter", self.camera_target_jitter, 0.0, 0.5)
        check_range("randomization", "camera_fov_jitter", self.camera_fov_jitter, 0.0, 30.0)
        check_range("randomization", "object_position_jitter", self.object_position_jitter, 0.0, 0.2)
        check_pair("randomization", "friction_scale", self.friction_scale, 0.05, 10.0)
        check_pair("randomization", "mass_scale", self.mass_scale, 0.05, 10.0)
        check_pair("randomization", "damping_scale", self.damping_scale, 0.0, 10.0)


@dataclass
class FurnitureDynamics:
    """Joint damping and friction of the articulated furniture (SI units)."""

    # Damping is applied explicitly by PyBullet and must stay below inertia / (2 · timestep) (checked at
    # reset); friction is implicit, so it carries the resistance LOReL put into damping.
    drawer_damping: float = 20.0  # N·s/m, as LOReL's drawer (stable: the drawer is 1 kg)
    drawer_friction: float = 2.0  # N
    door_damping: float = 0.1  # N·m·s/rad
    door_friction: float = 0.3  # N·m
    faucet_damping: float = 0.01  # N·m·s/rad (LOReL: 2, unstable for a light lever at an 8 ms step)
    faucet_friction: float = 0.1  # N·m: holds the lever where it is left
    button_stiffness: float = 0.3  # position gain of the spring that returns the button
    button_force: float = 3.0  # N: force needed to hold the button down
    object_friction: float = 0.6  # lateral friction of mugs and blocks
    desk_friction: float = 0.6


@dataclass
class DeskLayout:
    """Where the furniture stands on the desk (world frame, m). The desk top is at ``desk_height``."""

    desk_height: float = 0.75
    desk_center: tuple[float, float] = (0.52, 0.0)
    desk_half_size: tuple[float, float] = (0.38, 0.55)
    drawer_center: tuple[float, float] = (0.56, -0.38)  # carcass centre
    cabinet_center: tuple[float, float] = (0.58, 0.38)  # carcass centre
    faucet_center: tuple[float, float] = (0.78, 0.10)
    button_center: tuple[float, float] = (0.70, -0.16)
    mug_region_low: tuple[float, float] = (0.42, -0.16)  # where mugs may start
    mug_region_high: tuple[float, float] = (0.62, 0.18)
    num_blocks: int = 0
    back_wall: bool = (
        False  # draw the wall behind the robot; it fills a third of the frame and costs ~25% of render time
    )

    def __post_init__(self) -> None:
        check_range("layout", "desk_height", self.desk_height, 0.3, 1.5)
        check_range("layout", "num_blocks", self.num_blocks, 0, 8)


@dataclass
class SuccessThresholds:
    """How much an object must change for a task to count as done (LOReL used 2 cm / π/10)."""

    mug: float = 0.04  # m along the instructed direction
    drawer: float = 0.04  # m of drawer travel
    faucet: float = 0.314  # rad (π/10)
    door: float = 0.35  # rad (~20°)
    button: float = 0.006  # m of button travel (of 0.012)


@dataclass
class DeskEnvConfig:
    """Everything that defines a desk environment."""

    KIND: ClassVar[str] = "desk"  # its entry in sim.kinds.KINDS (conf/env/desk.yaml's `kind`)

    task: str = "open_drawer"
    obs_keys: tuple[str, ...] = ("rgb",)
    width: int = 64
    height: int = 64
    cameras: list[CameraConfig] = field(default_factory=lambda: [CameraConfig()])
    max_episode_steps: int = 20
    variant: str = "train"  # named held-out variant: train | new_colors | new_viewpoint | new_arrangement
    physics: PhysicsConfig = field(default_factory=PhysicsConfig)
    arm: ArmConfig = field(default_factory=ArmConfig)
    layout: DeskLayout = field(default_factory=DeskLayout)
    dynamics: FurnitureDynamics = field(default_factory=FurnitureDynamics)
    thresholds: SuccessThresholds = field(default_factory=SuccessThresholds)
    randomization: RandomizationConfig = field(default_factory=RandomizationConfig)

    def __post_init__(self) -> None:
        from sim.observations import OBS_KEYS  # local import: observations imports config

        self.obs_keys = check_obs_keys(self.obs_keys, OBS_KEYS)
        check_image_size(self.width, self.height)
        if not self.cameras:
            raise ValueError("cameras must name at least one camera")
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        check_range("env", "max_episode_steps", self.max_episode_steps, 1, 100_000)
        from sim.tasks.desk import get_task  # raises a ValueError listing the tasks
        from sim.variants import VARIANTS

        get_task(self.task)
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose from {sorted(VARIANTS)}")


def _checked_value(owner: str, name: str, value: Any, default: Any) -> Any:
    """``value`` converted to the type of ``default``, or a ValueError that names the field and type."""
    where = f"{owner}.{name}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{where}={value!r} must be true or false")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}={value!r} must be a number")
        if isinstance(default, int) and not float(value).is_integer():
            raise ValueError(f"{where}={value!r} must be a whole number")
        return type(default)(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"{where}={value!r} must be a string")
        return value
    if isinstance(default, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(f"{where}={value!r} must be a list")
        if default and all(isinstance(d, (int, float)) for d in default):
            if len(value) != len(default):
                raise ValueError(f"{where}={list(value)!r} must have {len(default)} values")
            return tuple(_checked_value(owner, f"{name}[{i}]", v, float(default[0])) for i, v in enumerate(value))
        return tuple(value)
    return value


def from_dict(cls: type[T], data: Mapping[str, Any] | None) -> T:
    """Build dataclass ``cls`` from a (possibly nested, possibly partial) mapping.

    Unknown keys and values of the wrong type are ValueErrors that name the field; range checks
    happen in each dataclass's ``__post_init__``.
    """
    data = dict(data or {})
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} option(s) {unknown}; valid options are {sorted(known)}")
    kwargs: dict[str, Any] = {}
    defaults = cls()  # type: ignore[call-arg]
    for name, value in data.items():
        current = getattr(defaults, name)
        if is_dataclass(current):
            if isinstance(value, type(current)):
                kwargs[name] = value
            elif isinstance(value, Mapping):
                # A partial mapping overrides this field's own default (which may differ from its class's).
                kwargs[name] = from_dict(type(current), {**asdict(current), **value})
            else:
                raise ValueError(
                    f"{cls.__name__}.{name} must be a mapping of {type(current).__name__} options, got {value!r}"
                )
        elif name == "cameras":
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
                raise ValueError(f"cameras must be a list of camera mappings, got {value!r}")
            kwargs[name] = [v if isinstance(v, CameraConfig) else from_dict(CameraConfig, v) for v in value]
        else:
            kwargs[name] = _checked_value(cls.__name__, name, value, current)
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (JSON/YAML-friendly) of a config dataclass."""
    return asdict(cfg)
