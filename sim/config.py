"""Typed, validated configuration of the simulator (the desk env, ``robolearn/Desk-v1``).

Each field is declared once, with ``sim.plumbing.settings.knob``: its default, its documentation (with
units) and its allowed values. ``conf/env/desk.yaml`` is generated from these dataclasses
(``python -m robolearn.conf_files --write``; a test checks it is current). Invalid values raise a one-line
``ValueError`` naming the field and the accepted range.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from sim.dimensions import (
    BUTTON_TRAVEL,
    CABINET_DOOR_MAX_ANGLE,
    DESK_JOINT_INERTIA,
    DRAWER_TRAVEL,
    FAUCET_MAX_ANGLE,
    MUG_OVERSHOOT,
    MUG_PUSH_BEHIND,
    MUG_RADIUS,
    PANDA_JOINT_LIMITS,
    mug_push_y_limit,
)
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
    gravity: float = knob(
        -9.81, "gravity along world z (m/s²; 0 = weightless; upwards lifts everything off)", lo=-50.0, hi=0.0
    )

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
        (0.22, -0.55, 0.005),
        "lower xyz corner the tool centre point is clipped to (m, arm base frame; the Panda reaches ~0.86 m)",
        lo=-1.2,
        hi=1.2,
    )
    workspace_high: tuple[float, float, float] = knob(
        (0.80, 0.55, 0.40), "upper xyz corner the tool centre point is clipped to (m, arm base frame)", lo=-1.2, hi=1.2
    )
    start_tcp: tuple[float, float, float] = knob(
        (0.45, 0.0, 0.12), "tool-centre-point position at episode start (m, arm base frame)", lo=-1.2, hi=1.2
    )
    start_tcp_jitter: tuple[float, float, float] = knob(
        (0.05, 0.08, 0.02), "uniform ± jitter per axis around start_tcp at reset (m)", lo=0.0, hi=0.5
    )
    rest_pose: tuple[float, ...] = knob(
        (0.0, -0.5, 0.0, -2.3, 0.0, 1.8, 0.785),
        "7 arm joint angles of the rest pose, also the IK rest pose (rad, within the Panda's joint limits)",
    )
    ik_iterations: int = knob(20, "max inverse-kinematics iterations per env step (count)", lo=1, hi=1000)
    ik_tolerance: float = knob(
        1e-4, "inverse-kinematics residual that counts as converged (m)", lo=0.0, hi=0.01, lo_open=True
    )
    position_gain: float = knob(0.3, "position gain of the arm and finger joint motors (unitless)", lo=1e-3, hi=1.0)
    finger_force: float = knob(70.0, "force cap of each gripper finger motor (N)", lo=0.0, hi=1000.0, lo_open=True)

    def __post_init__(self) -> None:
        check_knobs(self, "arm")
        if len(self.rest_pose) != 7:
            raise ValueError(f"arm.rest_pose needs 7 joint angles, got {len(self.rest_pose)}")
        for i, (q, (lo, hi)) in enumerate(zip(self.rest_pose, PANDA_JOINT_LIMITS)):
            if not lo <= q <= hi:
                raise ValueError(
                    f"arm.rest_pose[{i}]={q} is beyond the Panda's joint {i + 1} limits; use a value in [{lo}, {hi}]"
                )
        for i, (lo, hi) in enumerate(zip(self.workspace_low, self.workspace_high)):
            if lo >= hi:
                raise ValueError(f"arm.workspace_low[{i}]={lo} must be below arm.workspace_high[{i}]={hi}")

    def check_start(self, start: tuple[float, float, float], jitter: tuple[float, float, float], where: str) -> None:
        """A ValueError unless ``start`` ± ``jitter`` (how a reset places the tool centre point) lies in the workspace,
        where the arm's actions keep it: a start outside is never reached, and the first action jumps."""
        for i, axis in enumerate("xyz"):
            lo, hi = start[i] - jitter[i], start[i] + jitter[i]
            if lo < self.workspace_low[i] - 1e-9 or hi > self.workspace_high[i] + 1e-9:
                raise ValueError(
                    f"{where} reaches outside the arm's workspace along {axis} ([{lo:.3f}, {hi:.3f}] m vs "
                    f"[{self.workspace_low[i]}, {self.workspace_high[i]}] m); move the start or widen arm.workspace_*"
                )


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
    far: float = knob(4.0, "far clipping plane (m, > near); also the largest depth value", hi=100.0)

    def __post_init__(self) -> None:
        check_knobs(self, f"cameras[{self.name}]")
        if not 0 < self.near < self.far:
            raise ValueError(f"cameras[{self.name}]: need 0 < near < far, got near={self.near}, far={self.far}")
        view = [t - e for t, e in zip(self.target, self.eye)]
        if math.hypot(*view) < 1e-3:
            raise ValueError(f"cameras[{self.name}]: eye and target are the same point {list(self.eye)}; move one")
        cross = (
            self.up[1] * view[2] - self.up[2] * view[1],
            self.up[2] * view[0] - self.up[0] * view[2],
            self.up[0] * view[1] - self.up[1] * view[0],
        )
        if math.hypot(*cross) < 1e-6 * math.hypot(*view) * max(math.hypot(*self.up), 1e-12):
            raise ValueError(
                f"cameras[{self.name}].up={list(self.up)} is zero or along the viewing direction (eye to target); "
                "give a direction across it, e.g. [0, 0, 1]"
            )


@dataclass
class RandomizationConfig:
    """Domain randomization; each factor switchable, each bounded."""

    colors: bool = knob(False, "randomize furniture, desk, floor and wall colours and the mugs' grey levels")
    color_jitter: float = knob(
        0.15, "max |Δ| per RGB channel around the nominal colours, on a 0–1 colour scale", lo=0.0, hi=1.0
    )
    palette: str = knob(
        "jitter",
        "how colours are drawn when `colors` is on: jitter = the training palette ± color_jitter; wide = any hue, "
        "saturation in wide_saturation, brightness in wide_value, none within heldout_margin of the held-out "
        "palette (the new_colors variant stays unseen; an env of that variant keeps its own palette ± color_jitter)",
        choices=("jitter", "wide"),
    )
    wide_saturation: tuple[float, float] = knob(
        (0.0, 0.8), "[low, high] HSV saturation of a wide-palette surface colour (unitless)", lo=0.0, hi=1.0, pair=True
    )
    wide_value: tuple[float, float] = knob(
        (0.3, 0.95),
        "[low, high] HSV value (brightness) of a wide-palette surface colour (unitless)",
        lo=0.0,
        hi=1.0,
        pair=True,
    )
    heldout_margin: float = knob(
        0.15,
        "a wide-palette colour is redrawn while within this L∞ distance per RGB channel (0–1 scale) of a colour of "
        "the held-out palette (sim.palette.HELDOUT_PALETTE; the new_colors variant shows exactly those)",
        lo=0.0,
        hi=0.5,
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
    heldout_viewpoint_margin: float = knob(
        0.15,
        "the camera jitter's reach (camera_eye_jitter per axis) must stay at least this far from the new_viewpoint "
        "variant's camera offset, so that variant stays unseen (m)",
        lo=0.0,
        hi=1.0,
    )
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
        # the nearest eye offset the jitter box [-j, j]^3 reaches to the held-out viewpoint's offset (no jitter
        # is drawn with the camera off, so then nothing can reach it)
        held = VARIANTS["new_viewpoint"].camera_eye_offset
        j = self.camera_eye_jitter
        gap = sum((o - min(max(o, -j), j)) ** 2 for o in held) ** 0.5
        if self.camera and gap < self.heldout_viewpoint_margin:
            raise ValueError(
                f"randomization.camera_eye_jitter={j} reaches {gap:.3f} m from the new_viewpoint variant's camera "
                f"offset {held} (heldout_viewpoint_margin={self.heldout_viewpoint_margin} m): training on it would "
                "show the held-out viewpoint; lower camera_eye_jitter"
            )


@dataclass
class FurnitureDynamics:
    """Joint damping and friction of the articulated furniture (SI units)."""

    drawer_damping: float = knob(
        20.0, "drawer slide damping (N·s/m; as LOReL's drawer, stable: the drawer is 1 kg)", lo=0.0
    )
    drawer_friction: float = knob(2.0, "drawer slide friction (N)", lo=0.0)
    door_damping: float = knob(0.1, "cabinet door hinge damping (N·m·s/rad)", lo=0.0)
    door_friction: float = knob(0.3, "cabinet door hinge friction (N·m)", lo=0.0)
    faucet_damping: float = knob(
        0.01, "faucet lever damping (N·m·s/rad; LOReL's 2 is unstable for a light lever at this step)", lo=0.0
    )
    faucet_friction: float = knob(0.1, "faucet lever friction: holds the lever where it is left (N·m)", lo=0.0)
    button_stiffness: float = knob(
        0.3, "position gain of the spring that returns the button (unitless)", lo=0.0, hi=1.0, lo_open=True
    )
    button_force: float = knob(
        3.0, "force cap of the return spring: force needed to hold the button down (N)", lo=0.0, lo_open=True
    )
    object_friction: float = knob(0.6, "lateral friction coefficient of mugs and blocks (unitless)", lo=0.0, hi=10.0)
    desk_friction: float = knob(0.6, "lateral friction coefficient of the desk top (unitless)", lo=0.0, hi=10.0)

    def __post_init__(self) -> None:
        check_knobs(self, "dynamics")


#: the smallest mug region (m along x, y) where every task places the two mugs apart, beside a mug push's path
#: (measured: 0.10 × 0.15 m fails the left/right pushes; tests/sim/test_desk_layout.py)
MIN_MUG_REGION = (0.12, 0.20)
#: the smallest mug region (m) that also takes blocks: the default's
BLOCK_MUG_REGION = (0.20, 0.34)
#: blocks that always fit there beside the two mugs (and a mug push's path): of 150 resets (every task, 10 seeds) per
#: variant, 3 blocks failed 2 (new_arrangement), 4 about 55, 6 every one; 0-2 none of 7,200 (tests/sim/test_desk_layout.py)
MAX_BLOCKS = 2
#: m of the mug region's y range that must give a mug push a start (rejection sampling finds it)
MIN_PUSH_ROOM = 0.01


@dataclass
class DeskLayout:
    """Where the furniture stands on the desk (world frame, m). The desk top is at ``desk_height``."""

    desk_height: float = knob(0.75, "height of the desk top above the floor (m)", lo=0.3, hi=1.5)
    desk_center: tuple[float, float] = knob((0.52, 0.0), "xy centre of the desk top (m)", lo=-2.0, hi=2.0)
    desk_half_size: tuple[float, float] = knob(
        (0.38, 0.55), "half extents of the desk top along x and y (m)", lo=0.2, hi=1.5
    )
    drawer_center: tuple[float, float] = knob(
        (0.56, -0.38), "xy centre of the drawer carcass (m, on the desk top)", lo=-2.0, hi=2.0
    )
    cabinet_center: tuple[float, float] = knob(
        (0.58, 0.38), "xy centre of the cabinet carcass (m, on the desk top)", lo=-2.0, hi=2.0
    )
    faucet_center: tuple[float, float] = knob(
        (0.78, 0.10),
        "xy position of the faucet column (m, on the desk top): its 12 cm lever's sweep stays behind the mug region",
        lo=-2.0,
        hi=2.0,
    )
    button_center: tuple[float, float] = knob(
        (0.70, -0.16), "xy position of the button (m, on the desk top)", lo=-2.0, hi=2.0
    )
    mug_region_low: tuple[float, float] = knob(
        (0.42, -0.16),
        "lower xy corner of the region where mugs (and blocks) may start (m, on the desk top; below mug_region_high "
        f"by at least {MIN_MUG_REGION[0]} m along x and {MIN_MUG_REGION[1]} m along y)",
        lo=-2.0,
        hi=2.0,
    )
    mug_region_high: tuple[float, float] = knob(
        (0.62, 0.18), "upper xy corner of the region where mugs (and blocks) may start (m)", lo=-2.0, hi=2.0
    )
    num_blocks: int = knob(
        0,
        "extra loose blocks on the desk (count): they start in the mug region, which then needs at least "
        f"{BLOCK_MUG_REGION[0]} × {BLOCK_MUG_REGION[1]} m (the default's), and more do not always fit beside the two "
        "mugs and a push",
        lo=0,
        hi=MAX_BLOCKS,
    )
    back_wall: bool = knob(
        False, f"draw the wall behind the robot (it fills a third of the frame; render cost: {FIGURES})"
    )

    def __post_init__(self) -> None:
        check_knobs(self, "layout")
        low, high = self.mug_region_low, self.mug_region_high
        for i, axis in enumerate("xy"):
            if low[i] >= high[i]:
                raise ValueError(
                    f"layout.mug_region_low[{i}]={low[i]} must be below layout.mug_region_high[{i}]={high[i]} "
                    f"(the region's {axis} range is [low, high])"
                )
        need = BLOCK_MUG_REGION if self.num_blocks else MIN_MUG_REGION
        size = (high[0] - low[0], high[1] - low[1])
        if size[0] < need[0] - 1e-9 or size[1] < need[1] - 1e-9:
            what = f"two mugs and {self.num_blocks} block(s)" if self.num_blocks else "the two mugs and a push"
            raise ValueError(
                f"layout.mug_region_low/high span {size[0]:.3f} × {size[1]:.3f} m, too small to place {what} "
                f"apart (resets fail); make it at least {need[0]} × {need[1]} m"
            )
        desk_low = [c - h for c, h in zip(self.desk_center, self.desk_half_size)]
        desk_high = [c + h for c, h in zip(self.desk_center, self.desk_half_size)]
        points = {
            "mug_region_low": low,
            "mug_region_high": high,
            "drawer_center": self.drawer_center,
            "cabinet_center": self.cabinet_center,
            "faucet_center": self.faucet_center,
            "button_center": self.button_center,
        }
        for name, xy in points.items():
            if not all(lo - 1e-9 <= v <= hi + 1e-9 for v, lo, hi in zip(xy, desk_low, desk_high)):
                raise ValueError(
                    f"layout.{name}={list(xy)} is off the desk top ([{desk_low[0]:.3f}, {desk_high[0]:.3f}] × "
                    f"[{desk_low[1]:.3f}, {desk_high[1]:.3f}] m: desk_center ± desk_half_size); move it onto the desk"
                )


@dataclass
class SuccessThresholds:
    """How much an object must change for a task to count as done (LOReL used 2 cm / π/10)."""

    mug: float = knob(
        0.04,
        "mug displacement along the instructed direction (m; a push must also fit beside the furniture)",
        lo=0.0,
        hi=0.5,
        lo_open=True,
    )
    drawer: float = knob(
        0.04, f"drawer travel (m; the drawer slides {DRAWER_TRAVEL} m)", lo=0.0, hi=DRAWER_TRAVEL, lo_open=True
    )
    faucet: float = knob(
        0.314,
        f"faucet rotation (rad; π/10; the lever turns ±{FAUCET_MAX_ANGLE})",
        lo=0.0,
        hi=2 * FAUCET_MAX_ANGLE,
        lo_open=True,
    )
    door: float = knob(
        0.35,
        f"cabinet door rotation (rad; ~20°; the door opens {CABINET_DOOR_MAX_ANGLE})",
        lo=0.0,
        hi=CABINET_DOOR_MAX_ANGLE,
        lo_open=True,
    )
    button: float = knob(
        0.006, f"button travel (m; of {BUTTON_TRAVEL} m full travel)", lo=0.0, hi=BUTTON_TRAVEL, lo_open=True
    )

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
        "explicitly, so it must stay below inertia / (2 · physics.timestep) (checked with the config); friction is "
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
            raise ValueError("cameras=[] names no camera; give at least one (the first is the main view)")
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        check_desk_task(self.task)  # a ValueError listing the tasks, as sim.tasks.desk.get_task's
        self.arm.check_start(self.arm.start_tcp, self.arm.start_tcp_jitter, "arm.start_tcp ± arm.start_tcp_jitter")
        self._check_damping()
        self._check_mug_pushes()
        if VARIANTS[self.variant].mirror_furniture:  # the furniture and the mug region mirrored in y: still on the desk
            lay = self.layout
            mirrored = {
                name: (getattr(lay, name)[0], -getattr(lay, name)[1])
                for name in ("drawer_center", "cabinet_center", "faucet_center", "button_center")
            }
            mirrored["mug_region_low"] = (lay.mug_region_low[0], -lay.mug_region_high[1])
            mirrored["mug_region_high"] = (lay.mug_region_high[0], -lay.mug_region_low[1])
            try:
                DeskLayout(**{**asdict(lay), **mirrored})
            except ValueError as e:
                raise ValueError(f"variant={self.variant} mirrors the furniture in y: {e}") from None

    def _check_damping(self) -> None:
        """PyBullet applies joint damping explicitly: above inertia / (2 · timestep) a joint explodes at the first step."""
        scale = self.randomization.damping_scale[1] if self.randomization.physics else 1.0
        for joint, inertia in DESK_JOINT_INERTIA.items():
            damping = getattr(self.dynamics, f"{joint}_damping")
            limit = inertia / (2.0 * self.physics.timestep)
            if damping * scale > limit:
                scaled = f" × randomization.damping_scale up to {scale}" if scale != 1.0 else ""
                raise ValueError(
                    f"dynamics.{joint}_damping={damping}{scaled} is unstable at timestep {self.physics.timestep:.4g} s "
                    f"(physics.timestep; limit {limit:.3g}: PyBullet applies damping explicitly); lower it or the "
                    f"timestep, and use dynamics.{joint}_friction for resistance"
                )

    def _check_mug_pushes(self) -> None:
        """Every mug push has a start: from ``MUG_PUSH_BEHIND`` behind the mug to ``thresholds.mug`` (+ overshoot) past
        it, the hand stays within ±y_limit of the desk's centre line, clear of the drawer and cabinet carcasses."""
        lay = self.layout
        y_limit = mug_push_y_limit(lay.drawer_center[1], lay.cabinet_center[1])
        lo, hi = lay.mug_region_low[1], lay.mug_region_high[1]
        if min(hi, y_limit) - max(lo, -y_limit) < MIN_PUSH_ROOM:
            raise ValueError(
                f"layout.mug_region_low/high (y in [{lo}, {hi}] m) lies beside the drawer or cabinet: a mug pushed "
                f"there would take the hand into a carcass (|y| ≤ {y_limit:.3f} m is clear); move the region or the "
                "furniture"
            )
        reach = self.thresholds.mug + MUG_OVERSHOOT + MUG_RADIUS  # past the start, along the push
        # a push to the right starts at y ≥ -y_limit + behind and ends at y + reach ≤ y_limit; to the left, mirrored
        starts = (max(lo, -y_limit + MUG_PUSH_BEHIND), max(-hi, -y_limit + MUG_PUSH_BEHIND))
        most = min(y_limit - MIN_PUSH_ROOM - s for s in starts) - MUG_OVERSHOOT - MUG_RADIUS
        if self.thresholds.mug > most + 1e-9:
            raise ValueError(
                f"thresholds.mug={self.thresholds.mug} m leaves a sideways mug push no start: the hand, from "
                f"{MUG_PUSH_BEHIND} m behind the mug to {reach:.3f} m past it, must stay within ±{y_limit:.3f} m "
                f"of the desk's centre line (clear of the drawer and the cabinet); use at most {math.floor(max(most, 0.0) * 1000 + 1e-6) / 1000:g}, "
                "or move layout.drawer_center/cabinet_center further apart"
            )


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain nested dict (JSON/YAML-friendly) of a config dataclass."""
    return asdict(cfg)
