"""The mobile-manipulation baselines' configuration (``conf/manipulation_agent/default.yaml``), apart from the
agents.

Each field is declared once, with ``sim.plumbing.settings.knob``; the YAML file is generated from it
(``python -m robolearn.conf_files --write``). It imports only the config plumbing, so that composing and
validating a config never loads the simulator that ``planners.mobile_manipulation``'s agents drive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.dimensions import DRAWER_TRAVEL
from sim.plumbing.checks import check_number
from sim.plumbing.settings import check_knobs, knob


@dataclass
class ManipulationAgentConfig:
    """The mobile-manipulation baseline's knobs."""

    staging_distance: float = knob(
        0.9,
        "m in front of the counter's centre where navigation hands over to docking",
        lo=0.0,
        hi=5.0,
        lo_open=True,
    )
    dock_distance: float = knob(
        0.52,
        "m in front of the counter's centre where the arm base stops (the desk's arm base; < staging_distance; the "
        "arm reaches the drawer from there: as env=counter's dock_distance)",
        lo=0.3,
        hi=0.9,
    )
    heading_tolerance: float = knob(
        0.04, "rad: the base faces the counter within this before docking", lo=0.0, hi=math.pi, lo_open=True
    )
    dock_tolerance: float = knob(
        0.01,
        "m: docked when the arm base is this close to its spot along the approach line",
        lo=0.0,
        hi=0.2,
        lo_open=True,
    )
    dock_speed: float = knob(0.4, "fraction of the base's top speed while docking", lo=0.0, hi=1.0, lo_open=True)
    travel_height: float = knob(
        0.2,
        "m above the counter top the gripper moves at before descending (the desk expert's; within the arm's reach)",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    approach_tolerance: float = knob(
        0.012, "m: how close to a waypoint the gripper counts as there", lo=0.0, hi=0.1, lo_open=True
    )
    pull_speed: float = knob(
        0.8, "fraction of the arm's max step while pulling the drawer", lo=0.0, hi=1.0, lo_open=True
    )
    overshoot: float = knob(
        0.03, f"m the drawer is pulled past the success threshold (it slides {DRAWER_TRAVEL})", lo=0.0, hi=DRAWER_TRAVEL
    )
    door_beyond: float = knob(0.8, "m past the doorway the door baseline drives to", lo=0.0, hi=10.0, lo_open=True)
    tuck: tuple[float, float, float] = knob(
        (0.22, 0.0, 0.4), "m: gripper (forward, left, up of the arm base) while driving", lo=-1.2, hi=1.2
    )
    arm_clearance: float = knob(
        0.05, "m added to the navigation clearance: the tucked arm reaches past the chassis", lo=0.0, hi=0.25
    )
    unfold_tolerance: float = knob(
        0.02,
        "m: with a learned local planner (robolearn plan env=counter episode_start=home), the gripper counts as "
        "at the planner's start pose within this",
        lo=0.0,
        hi=0.5,
        lo_open=True,
    )
    max_unfold_steps: int = knob(
        30,
        "steps the arm may take to unfold to that pose before the planner takes over anyway (count)",
        lo=0,
        hi=10_000,
    )

    def __post_init__(self) -> None:
        check_knobs(self, "manipulation_agent")
        check_number(
            "manipulation_agent",
            "dock_distance",
            self.dock_distance,
            0.0,
            self.staging_distance,
            lo_open=True,
            hi_open=True,
        )
        if len(self.tuck) != 3:
            raise ValueError(f"manipulation_agent.tuck must be [forward, left, up] in m, got {list(self.tuck)}")
        forward, left, up = (check_number("manipulation_agent", "tuck", v, -math.inf) for v in self.tuck)
        self.tuck = (forward, left, up)
