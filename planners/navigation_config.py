"""The navigation baseline's configuration (``conf/nav_agent/default.yaml``), apart from the agent.

It imports only the config checks, so that composing and validating a config never loads the simulator
that ``planners.navigation``'s agent drives.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.plumbing.checks import check_int, check_number


@dataclass
class NavAgentConfig:
    """The baseline agent's knobs (``conf/nav_agent/default.yaml`` documents each)."""

    clearance: float = 0.05  # m added to the robot radius when inflating the map for planning
    wall_cost: float = 2.0  # extra cost per cell near walls (within wall_cost_distance): keeps paths centred
    wall_cost_distance: float = 0.25  # m beyond the inflated obstacles where wall_cost applies
    lookahead: float = 0.5  # m: pure-pursuit look-ahead distance along the path
    heading_gain: float = 2.0  # turn rate command per rad of heading error
    turn_in_place: float = 1.0  # rad: heading errors above this stop the base and turn it
    stuck_window: int = 12  # steps over which progress is measured
    stuck_distance: float = 0.08  # m: moving less than this over the window means stuck
    turn_stuck_angle: float = 0.1  # rad: turning in place by less than this over the window means stuck
    backup_steps: int = 5  # steps driven backwards after getting stuck
    block_sector: float = 1.2  # rad: half-width of the frontal sector whose scan points get marked blocked
    block_range: float = 0.35  # m beyond the robot radius within which scan points are marked blocked
    block_radius: float = 0.15  # m: each marked point blocks a disc this wide
    block_extent: float = 0.45  # m around each marked point within which seen obstacle cells are blocked too
    object_cost: float = 3.0  # extra A* cost per cell near a seen obstacle: detour (cells) vs push trade-off
    clear_margin: float = 0.1  # m short of each LiDAR return up to which the ray clears remembered obstacles
    object_depth: float = 0.25  # m behind each LiDAR return taken as occupied too (an object's unseen back)
    replan_interval: int = 5  # steps between checks of the remaining path against newly seen obstacles
    check_horizon: float = 2.0  # m of the remaining path checked against newly seen obstacles
    drive_threshold: float = 0.3  # commanded forward speed (fraction) from which the base must make progress
    door_approach: float = 0.6  # m before and after a doorway where the path lines up square to the wall
    door_latch_offset: float = 0.12  # m from the doorway's centre toward the latch side the path crosses at
    door_waypoint_tolerance: float = 0.15  # m: doorway waypoints count as reached this close (not lookahead)

    def __post_init__(self) -> None:
        for name in (
            "clearance",
            "wall_cost",
            "wall_cost_distance",
            "block_range",
            "block_radius",
            "block_extent",
            "object_cost",
            "clear_margin",
            "object_depth",
            "door_latch_offset",
            "stuck_distance",
            "turn_stuck_angle",
        ):
            check_number("nav_agent", name, getattr(self, name), 0.0)
        for name in (
            "lookahead",
            "heading_gain",
            "turn_in_place",
            "block_sector",
            "check_horizon",
            "door_approach",
            "door_waypoint_tolerance",
        ):
            check_number("nav_agent", name, getattr(self, name), 0.0, lo_open=True)
        check_number("nav_agent", "drive_threshold", self.drive_threshold, 0.0, 1.0, lo_open=True)
        check_int("nav_agent", "stuck_window", self.stuck_window, 2)
        check_int("nav_agent", "backup_steps", self.backup_steps, 0)
        check_int("nav_agent", "replan_interval", self.replan_interval, 1)
