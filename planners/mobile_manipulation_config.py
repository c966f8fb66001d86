"""The mobile-manipulation baselines' configuration (``conf/manipulation_agent/default.yaml``), apart from the
agents.

It imports only the config checks, so that composing and validating a config never loads the simulator
that ``planners.mobile_manipulation``'s agents drive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.plumbing.checks import check_number


@dataclass
class ManipulationAgentConfig:
    """The mobile-manipulation baseline's knobs (``conf/manipulation_agent/default.yaml`` documents each)."""

    staging_distance: float = 0.9  # m in front of the counter's centre where navigation hands over to docking
    dock_distance: float = 0.52  # m in front of the counter's centre where the arm base stops (the desk's arm base)
    heading_tolerance: float = 0.04  # rad: the base faces the counter within this before docking
    dock_tolerance: float = 0.01  # m: docked when the arm base is this close to its spot along the approach line
    dock_speed: float = 0.4  # fraction of the base's top speed while docking
    travel_height: float = 0.2  # m above the counter top the gripper moves at before descending (the desk expert's)
    approach_tolerance: float = 0.012  # m: how close to a waypoint the gripper counts as there
    pull_speed: float = 0.8  # fraction of the arm's max step while pulling the drawer
    overshoot: float = 0.03  # m the drawer is pulled past the success threshold
    door_beyond: float = 0.8  # m past the doorway the door baseline drives to
    tuck: tuple[float, float, float] = (0.22, 0.0, 0.4)  # m: gripper (forward, left, up of the arm base) while driving
    arm_clearance: float = 0.05  # m added to the navigation clearance: the tucked arm reaches past the chassis
    unfold_tolerance: float = 0.02  # m: a planned agent's gripper counts as at its start pose within this
    max_unfold_steps: int = 30  # steps a planned agent's arm may take to unfold before the planner takes over anyway

    def __post_init__(self) -> None:
        for name in (
            "staging_distance",
            "heading_tolerance",
            "dock_tolerance",
            "travel_height",
            "approach_tolerance",
            "door_beyond",
        ):
            check_number("manipulation_agent", name, getattr(self, name), 0.0, lo_open=True)
        check_number(
            "manipulation_agent",
            "dock_distance",
            self.dock_distance,
            0.0,
            self.staging_distance,
            lo_open=True,
            hi_open=True,
        )
        for name in ("dock_speed", "pull_speed"):
            check_number("manipulation_agent", name, getattr(self, name), 0.0, 1.0, lo_open=True)
        check_number("manipulation_agent", "unfold_tolerance", self.unfold_tolerance, 0.0, lo_open=True)
        if (
            isinstance(self.max_unfold_steps, bool)
            or not isinstance(self.max_unfold_steps, int)
            or self.max_unfold_steps < 0
        ):
            raise ValueError(
                f"manipulation_agent.max_unfold_steps must be an integer >= 0, got {self.max_unfold_steps!r}"
            )
        for name in ("overshoot", "arm_clearance"):
            check_number("manipulation_agent", name, getattr(self, name), 0.0)
        if len(self.tuck) != 3:
            raise ValueError(f"manipulation_agent.tuck must be [forward, left, up] in m, got {list(self.tuck)}")
        self.tuck = tuple(check_number("manipulation_agent", "tuck", v, -math.inf) for v in self.tuck)
