"""Every task's name and plain-data description, per scene, apart from the task classes.

The one list of robolearn's tasks: the configs validate ``task=`` against it, and the task classes
(``sim.tasks.desk``, ``sim.tasks.counter``, ``sim.tasks.navigation``: initial states, success, experts)
are built from it. It imports only the standard library, so that building a config never loads the
simulator (PyBullet, scipy) that the task classes need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskDescription:
    """Structured description of a task: which object, what change, which direction.

    ``object`` names a scene object (``drawer``, ``faucet``, ``cabinet_door``, ``button``,
    ``white_mug``, ``black_mug``); ``change`` is ``open``, ``close``, ``turn``, ``press`` or
    ``move``; ``direction`` is ``left``, ``right``, ``up``, ``down`` or None. Directions are
    as seen from the default camera (up = away from the camera, toward the robot).
    """

    object: str
    change: str
    direction: str | None = None

    def instruction(self) -> str:
        """The canonical English instruction, e.g. "move the white mug up"."""
        noun = {"cabinet_door": "cabinet door", "white_mug": "white mug", "black_mug": "black mug"}.get(
            self.object, self.object
        )
        verb = {"press": "push"}.get(self.change, self.change)
        text = f"{verb} the {noun}"
        return f"{text} {self.direction}" if self.direction else text


# ------------------------------------------------------------------------ desk
MUGS = ("white_mug", "black_mug")
#: image directions a mug can be pushed in (as seen from the default camera)
MUG_DIRECTIONS = ("up", "down", "left", "right")

#: desk task name → description, in the order the desk lists its tasks
DESK_TASK_DESCRIPTIONS: dict[str, TaskDescription] = {
    "open_drawer": TaskDescription("drawer", "open"),
    "close_drawer": TaskDescription("drawer", "close"),
    "turn_faucet_left": TaskDescription("faucet", "turn", "left"),
    "turn_faucet_right": TaskDescription("faucet", "turn", "right"),
    "open_cabinet": TaskDescription("cabinet_door", "open"),
    "close_cabinet": TaskDescription("cabinet_door", "close"),
    "push_button": TaskDescription("button", "press"),
    **{f"move_{mug}_{d}": TaskDescription(mug, "move", d) for mug in MUGS for d in MUG_DIRECTIONS},
}
#: the six desk tasks LOReL evaluated in simulation
LOREL_TASKS: tuple[str, ...] = (
    "open_drawer",
    "close_drawer",
    "turn_faucet_left",
    "turn_faucet_right",
    "move_black_mug_right",
    "move_white_mug_down",
)
_DESK_NAME_BY_DESCRIPTION = {d: name for name, d in DESK_TASK_DESCRIPTIONS.items()}


def check_desk_task(name: str) -> TaskDescription:
    """The description of the desk task ``name``; unknown names raise a ValueError listing the valid ones."""
    try:
        return DESK_TASK_DESCRIPTIONS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(sorted(DESK_TASK_DESCRIPTIONS))}") from None


def desk_task_name(description: TaskDescription) -> str:
    """The name of the desk task that ``description`` describes (a KeyError if it describes none)."""
    return _DESK_NAME_BY_DESCRIPTION[description]


# --------------------------------------------------------------------- counter
#: counter task name → description: the desk's drawer tasks, done by the docked mobile manipulator
COUNTER_TASK_DESCRIPTIONS: dict[str, TaskDescription] = {
    name: d for name, d in DESK_TASK_DESCRIPTIONS.items() if d.object == "drawer"
}


def counter_task_name(description: TaskDescription) -> str:
    """The name of the counter task that ``description`` describes (a KeyError if it describes none)."""
    return next(name for name, d in COUNTER_TASK_DESCRIPTIONS.items() if d == description)


def check_counter_task(name: str) -> TaskDescription:
    """The description of the counter task ``name``; unknown names raise a ValueError listing the choices."""
    if name not in COUNTER_TASK_DESCRIPTIONS:
        raise ValueError(f"unknown counter task {name!r}; choose from {sorted(COUNTER_TASK_DESCRIPTIONS)}")
    return COUNTER_TASK_DESCRIPTIONS[name]


# ----------------------------------------------------------------------- homes
@dataclass(frozen=True)
class HomeTaskInfo:
    """What a home task asks for, and what it needs of the robot."""

    name: str
    summary: str
    needs_arm: bool = False  # only the manipulator (``robot=manipulator``) can do it
    needs_counter: bool = False  # only in a home with a kitchen counter (its drawer)
    needs_door: bool = False  # only in a home with a door between two rooms


#: home task name → its summary and needs, in the order the homes list their tasks
HOME_TASK_INFO: dict[str, HomeTaskInfo] = {
    info.name: info
    for info in (
        HomeTaskInfo("pointnav", "reach a point goal in a home with open doors"),
        HomeTaskInfo(
            "interactive_nav",
            "reach a point goal past clutter on the shortest path (some unmovable), some doors closed",
        ),
        HomeTaskInfo("room_nav", 'go to a room of a named type ("go to the kitchen")'),
        HomeTaskInfo(
            "open_door", 'open a closed door of a room of a named type ("open the bedroom door")', True, needs_door=True
        ),
        HomeTaskInfo(
            "open_drawer", 'open the kitchen counter\'s drawer ("open the kitchen drawer")', True, needs_counter=True
        ),
    )
}


def home_lacks(info: HomeTaskInfo, plan: Any) -> str | None:
    """What floor plan ``plan`` (a ``sim.homes.floorplan.FloorPlan``) lacks for home task ``info``, or None."""
    if info.needs_counter and not any(f.kind == "counter" for f in plan.furniture):
        return "kitchen counter"
    if info.needs_door and not plan.doors:
        return "door"
    return None


def check_home_hosts(task: str, plan: Any, home: str, who: str | None = None) -> None:
    """A ValueError unless the floor plan ``plan`` (named ``home`` in the config) has what home task ``task`` needs.

    The generated homes always do (every one has a kitchen with its counter, and doors); a named home or a
    floor-plan file may not, and the task would fail at its first reset. ``who`` names what needs it in the message
    (default: ``task <task>``).
    """
    lacks = home_lacks(check_home_task(task), plan)
    if lacks is not None:
        from sim.homes.catalogue import NAMED_HOMES  # here: the task names above need no floor plans

        raise ValueError(
            f"env.home={home!r} (floor plan {plan.name!r}) has no {lacks}, which {who or 'task ' + task} needs; give a "
            f"home with one ({', '.join(NAMED_HOMES)} or generated)" + ("" if who else " or another env.task")
        )


def check_home_task(name: str) -> HomeTaskInfo:
    """The summary and needs of the home task ``name``; unknown names raise a ValueError listing the choices."""
    try:
        return HOME_TASK_INFO[name]
    except KeyError:
        raise ValueError(f"unknown home task {name!r}; choose from {sorted(HOME_TASK_INFO)}") from None
