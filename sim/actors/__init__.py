"""Demonstrators other than the robot, their scripted controllers and the labelled clips they make (issue 23).

Light: the registries (names, specs, behaviours, outcomes) import no simulator; ``sim.actors.clips.render_clip``
renders a clip (PyBullet).
"""

from sim.actors.catalogue import (
    ACTORS,
    BEHAVIOURS,
    EXTRA_BEHAVIOURS,
    HELDOUT_ACTOR,
    MEASURED_OUTCOMES,
    NON_ROBOT_ACTORS,
    OUTCOMES,
    ActorSpec,
    Behaviour,
    can_do,
    check_actor,
    check_behaviour,
    check_outcome,
)

__all__ = [
    "ACTORS",
    "BEHAVIOURS",
    "EXTRA_BEHAVIOURS",
    "HELDOUT_ACTOR",
    "MEASURED_OUTCOMES",
    "NON_ROBOT_ACTORS",
    "OUTCOMES",
    "ActorSpec",
    "Behaviour",
    "can_do",
    "check_actor",
    "check_behaviour",
    "check_outcome",
]
