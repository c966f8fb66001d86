"""Typed, validated configuration of ``robolearn/Counter-v1``: the mobile manipulator docked at a home's counter.

Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/env/counter.yaml`` is generated from
these dataclasses (``python -m robolearn.conf_files --write``; a test checks it is current). The counter env is
where visual MPC's models for the homes are learned: its frames come from the robot's own head camera, turned
onto the drawer side of the kitchen counter, exactly as the robot sees the counter once the drawer baseline has
docked there (``planners.mobile_manipulation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sim.config import SuccessThresholds
from sim.dimensions import DRAWER_TRAVEL
from sim.home_config import BaseConfig, HomePhysics, MobileArmConfig, check_home_selector, home_selection_knob
from sim.observation_keys import COUNTER_OBS_KEYS
from sim.plumbing.checks import check_obs_keys
from sim.plumbing.settings import check_knobs, knob
from sim.tasks.catalogue import check_counter_task


def manipulation_camera() -> BaseConfig:
    """The counter env's (and home planning's) head camera: on a mast at the chassis's front-left edge, panned
    right and tilted down onto the drawer side of the counter, so the drawer is seen from its side, past the arm.

    Why not straight ahead: from behind and above the arm (1.7 m, 55° down) the drawer slides towards the
    camera and the arm hides its front; opening it by the 8 cm threshold changed 15-30 of the 64×64 pixels
    and the learned models never predicted it. From here the same opening changes 135-150 pixels (measured
    with the arm where the expert leaves it; docs/benchmarks.md, "A head camera that sees the drawer").
    """
    return BaseConfig(camera_height=1.15, camera_forward=0.10, camera_left=0.17, camera_yaw=-55.0, camera_pitch=-32.0)


@dataclass
class CounterEnvConfig:
    """Everything that defines a counter environment."""

    KIND: ClassVar[str] = "counter"  # its entry in robolearn.kinds.KINDS (conf/env/counter.yaml's `kind`)

    task: str = knob("open_drawer", "open_drawer | close_drawer: sets the drawer's start and the success check")
    home: str = home_selection_knob("home")
    split: str = home_selection_knob("split")
    num_homes: int = home_selection_knob("num_homes")
    num_rooms: tuple[int, int] = home_selection_knob("num_rooms")
    obs_keys: tuple[str, ...] = knob(
        ("rgb",), "any of rgb, depth, segmentation (head camera), proprio (tcp 3, finger 1, joints 7)"
    )
    width: int = knob(64, "head-camera image width (pixels)", lo=16, hi=1024)
    height: int = knob(64, "head-camera image height (pixels)", lo=16, hi=1024)
    max_episode_steps: int = knob(20, "arm actions per episode (count; LOReL's 20)", lo=1, hi=100_000)
    dock_distance: float = knob(
        0.52,
        "m in front of the counter's centre where the arm base stands (the desk's arm base; the drawer "
        "baseline's manipulation_agent.dock_distance)",
        lo=0.3,
        hi=0.9,
    )
    dock_jitter: tuple[float, float, float] = knob(
        (0.015, 0.015, 0.03),
        "± uniform docking error: along the approach (m), across it (m), heading (rad)",
        lo=0.0,
        hi=0.2,
    )
    start_tcp: tuple[float, float, float] = knob(
        (0.40, -0.20, 0.20),
        "gripper at reset (m; forward, left, up of the arm base): at travel height, over the drawer side of the "
        "counter (the drawer expert then needs 11-15 steps)",
    )
    start_tcp_jitter: tuple[float, float, float] = knob(
        (0.05, 0.08, 0.02), "± uniform per axis around start_tcp (m)", lo=0.0, hi=0.2
    )
    drawer_closed: tuple[float, float] = knob(
        (0.0, 0.03),
        "drawer opening at reset for open_drawer (m; [low, high], drawn uniformly)",
        lo=0.0,
        hi=0.15,
        pair=True,
    )
    drawer_open: tuple[float, float] = knob(
        (0.10, 0.14), "drawer opening at reset for close_drawer (m)", lo=0.0, hi=0.15, pair=True
    )
    cabinet_start: tuple[float, float] = knob(
        (0.0, 0.5), "cabinet door angle at reset (rad)", lo=0.0, hi=1.5, pair=True
    )
    faucet_start: tuple[float, float] = knob(
        (-1.0, 1.0), "faucet lever angle at reset (rad)", lo=-1.5, hi=1.5, pair=True
    )
    settle_steps: int = knob(3, "physics steps after placing everything, before the first frame (count)", lo=0, hi=1000)
    thresholds: SuccessThresholds = knob(
        SuccessThresholds(drawer=0.08),
        "How much an object must change for a task (and a hindsight label) to count: the drawer threshold is the "
        'homes\' drawer_open_threshold, so a reward trained here asks for what "open the kitchen drawer" checks.',
        field_docs={
            "mug": "m (no mugs at the counter; kept for the shared SuccessThresholds)",
            "door": "cabinet door rotation (rad; ~20°)",
        },
    )
    physics: HomePhysics = knob(
        HomePhysics(), "Physics stepping as the home env's: one env step = substeps × timestep seconds."
    )
    base: BaseConfig = knob(
        manipulation_camera(),
        "The base: as conf/env/home.yaml, with the head camera moved to the chassis's front-left edge and turned "
        "onto the drawer (sim.counter_config.manipulation_camera says why).",
        field_docs={
            "camera_height": "head camera height above the floor (m): a little above the counter top, to see the "
            "drawer's side",
            "camera_forward": "head camera ahead of the base centre (m): with camera_left, on the chassis's "
            "front-left edge",
            "camera_left": "head camera left of the base centre (m): beside the arm rather than behind it, so the "
            "arm hides less of the drawer",
            "camera_yaw": "head camera pan (degrees; negative turns right): towards the drawer, which slides "
            "across the view rather than towards it",
            "camera_pitch": "head camera tilt (degrees; negative looks down): the drawer, the gripper over it and "
            "the counter top fill the view",
            "lidar_height": "scan plane above the floor (m; no scan is observed here)",
        },
    )
    manipulator: MobileArmConfig = knob(
        MobileArmConfig(),
        "The manipulator's arm, as conf/env/home.yaml.",
        field_docs={
            "arm.start_tcp": "unused here (the env's own start_tcp places the gripper); kept for ArmConfig",
            "arm.start_tcp_jitter": "unused here; kept for ArmConfig",
            "arm.rest_pose": "7 joint angles of the IK rest pose (rad)",
        },
    )

    def __post_init__(self) -> None:
        self.obs_keys = check_obs_keys(self.obs_keys, COUNTER_OBS_KEYS)
        check_counter_task(self.task)
        for name in ("dock_jitter", "start_tcp", "start_tcp_jitter"):
            value = tuple(float(v) for v in getattr(self, name))
            if len(value) != 3:
                raise ValueError(f"env.{name}={list(value)} must have 3 values")
            setattr(self, name, value)
        check_knobs(self, "env")
        check_home_selector(self.home)
        th = self.thresholds.drawer
        if DRAWER_TRAVEL - self.drawer_closed[1] < th - 1e-9:
            raise ValueError(
                f"env.thresholds.drawer={th} m can never be reached by open_drawer from env.drawer_closed up to "
                f"{self.drawer_closed[1]} m (the drawer slides {DRAWER_TRAVEL} m); lower one of them"
            )
        if self.drawer_open[0] < th - 1e-9:
            raise ValueError(
                f"env.thresholds.drawer={th} m can never be reached by close_drawer from env.drawer_open down to "
                f"{self.drawer_open[0]} m (it cannot close past 0); lower the threshold or raise drawer_open"
            )
        arm = self.manipulator.arm
        for i, axis in enumerate(["forward", "left", "up"]):
            lo, hi = self.start_tcp[i] - self.start_tcp_jitter[i], self.start_tcp[i] + self.start_tcp_jitter[i]
            if lo < arm.workspace_low[i] or hi > arm.workspace_high[i]:
                raise ValueError(
                    f"env.start_tcp ± start_tcp_jitter reaches outside the arm's workspace along {axis} "
                    f"([{lo:.3f}, {hi:.3f}] m vs [{arm.workspace_low[i]}, {arm.workspace_high[i]}] m)"
                )
