"""The navigation baseline's configuration (``conf/nav_agent/default.yaml``), apart from the agent.

Each field is declared once, with ``sim.plumbing.settings.knob``; the YAML file is generated from it
(``python -m robolearn.conf_files --write``). It imports only the config plumbing, so that composing and
validating a config never loads the simulator that ``planners.navigation``'s agent drives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.dimensions import ROOM_DOOR_WIDTH
from sim.plumbing.settings import check_knobs, knob


@dataclass
class NavAgentConfig:
    """The baseline agent's knobs."""

    clearance: float = knob(
        0.05,
        "m added to the robot radius when inflating the map for planning (radius + clearance must leave the 0.9 m "
        "doorways open)",
        lo=0.0,
        hi=0.25,
    )
    wall_cost: float = knob(
        2.0, "extra cost per cell near walls (within wall_cost_distance): keeps paths centred", lo=0.0
    )
    wall_cost_distance: float = knob(0.25, "m beyond the inflated obstacles where wall_cost applies", lo=0.0)
    lookahead: float = knob(0.5, "m: pure-pursuit look-ahead distance along the path", lo=0.0, lo_open=True)
    heading_gain: float = knob(2.0, "turn rate command per rad of heading error", lo=0.0, lo_open=True)
    turn_in_place: float = knob(
        1.0,
        "rad: heading errors above this stop the base and turn it (a heading error is at most π)",
        lo=0.0,
        hi=math.pi,
        lo_open=True,
    )
    stuck_window: int = knob(12, "steps over which progress is measured", lo=2)
    stuck_distance: float = knob(0.08, "m: moving less than this over the window means stuck", lo=0.0)
    turn_stuck_angle: float = knob(
        0.1, "rad: turning in place by less than this over the window means stuck", lo=0.0, hi=math.pi
    )
    backup_steps: int = knob(5, "steps driven backwards after getting stuck", lo=0)
    block_sector: float = knob(
        1.2,
        "rad: half-width of the frontal sector whose scan points get marked blocked",
        lo=0.0,
        hi=math.pi,
        lo_open=True,
    )
    block_range: float = knob(0.35, "m beyond the robot radius within which scan points are marked blocked", lo=0.0)
    block_radius: float = knob(0.15, "m: each marked point blocks a disc this wide", lo=0.0)
    block_extent: float = knob(
        0.45, "m around each marked point within which seen obstacle cells are blocked too", lo=0.0
    )
    object_cost: float = knob(
        3.0, "extra A* cost per cell near a seen obstacle: detour (cells) vs push trade-off", lo=0.0
    )
    clear_margin: float = knob(
        0.1, "m short of each LiDAR return up to which the ray clears remembered obstacles", lo=0.0
    )
    object_depth: float = knob(
        0.25, "m behind each LiDAR return taken as occupied too (an object's unseen back)", lo=0.0
    )
    replan_interval: int = knob(5, "steps between checks of the remaining path against newly seen obstacles", lo=1)
    check_horizon: float = knob(
        2.0, "m of the remaining path checked against newly seen obstacles", lo=0.0, lo_open=True
    )
    drive_threshold: float = knob(
        0.3, "commanded forward speed (fraction) from which the base must make progress", lo=0.0, hi=1.0, lo_open=True
    )
    door_approach: float = knob(
        0.6, "m before and after a doorway where the path lines up square to the wall", lo=0.0, lo_open=True
    )
    door_latch_offset: float = knob(
        0.12, "m from the doorway's centre toward the latch side the path crosses at", lo=0.0
    )
    door_waypoint_tolerance: float = knob(
        0.15, "m: doorway waypoints count as reached this close (not lookahead)", lo=0.0, lo_open=True
    )

    def __post_init__(self) -> None:
        check_knobs(self, "nav_agent")


def check_doorways(cfg: NavAgentConfig, base_radius: float, extra_clearance: float = 0.0) -> None:
    """A ValueError unless the agent's planning map, inflated by the base's radius plus its clearance, keeps the
    homes' doorways open: wider, every path through a door is closed and the agent fails every episode in silence.

    Args:
        cfg: the agent's config.
        base_radius: the env's ``base.radius`` (m).
        extra_clearance: clearance added for the task (the manipulator's ``manipulation_agent.arm_clearance``).
    """
    total = base_radius + cfg.clearance + extra_clearance
    if total >= ROOM_DOOR_WIDTH / 2:
        extra = f" + manipulation_agent.arm_clearance={extra_clearance}" if extra_clearance else ""
        raise ValueError(
            f"nav_agent.clearance={cfg.clearance}{extra} with env.base.radius={base_radius} inflates the map by "
            f"{total:.3f} m, which closes the homes' {ROOM_DOOR_WIDTH} m doorways (every path through a door); keep "
            f"the sum below {ROOM_DOOR_WIDTH / 2} m"
        )
