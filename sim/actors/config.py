"""Settings of the scripted actors and their clips (issue 23): speeds, pauses, outcome mix, tremor, ...

Light (standard library and ``sim.plumbing`` only): a collection config can hold an ``ActorConfig`` without
loading PyBullet. Every field is a ``knob`` with its unit and range; cross-field rules are checked in
``__post_init__`` with one-line errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.actors.catalogue import OUTCOMES
from sim.plumbing.settings import check_knobs, knob


@dataclass
class ActorConfig:
    """How scripted actors move and how a clip's attempt is drawn."""

    speed: tuple[float, float] = knob(
        (0.55, 1.15),
        "[low, high] speed factor drawn per clip, on the robot expert's speed (unitless; the expert moves the tool "
        "at most 0.6 m/s)",
        lo=0.1,
        hi=2.0,
        pair=True,
    )
    pause_probability: float = knob(
        0.5, "chance of a pause at each phase change of an attempt (probability)", lo=0.0, hi=1.0
    )
    pause_duration: tuple[float, float] = knob(
        (0.15, 0.7), "[low, high] length of one pause (s)", lo=0.0, hi=5.0, pair=True
    )
    lead_in: tuple[float, float] = knob(
        (0.0, 0.4), "[low, high] time the actor waits before it starts moving (s)", lo=0.0, hi=5.0, pair=True
    )
    lead_out: tuple[float, float] = knob(
        (0.2, 0.6), "[low, high] time the clip goes on after the attempt ends (s)", lo=0.0, hi=5.0, pair=True
    )
    max_duration: float = knob(
        10.0, "longest attempt (s of simulated time); a script still running then is stopped", lo=1.0, hi=60.0
    )
    control_substeps: int = knob(
        4, "physics steps per control step of an actor (count; physics.timestep each)", lo=1, hi=16
    )
    outcome_mix: tuple[float, ...] = knob(
        (0.6, 0.1, 0.1, 0.1, 0.1),
        f"relative weights of the attempted outcomes {', '.join(OUTCOMES)} when a collection draws them (unitless)",
        lo=0.0,
        hi=1000.0,
    )
    partial_fraction: tuple[float, float] = knob(
        (0.3, 0.7),
        "[low, high] fraction of the task's success threshold at which a partial attempt stops (unitless)",
        lo=0.05,
        hi=0.95,
        pair=True,
    )
    slip_probability: float = knob(
        0.5,
        "chance that a failed attempt slips off after contact (else it misses the object: passes above it) "
        "(probability)",
        lo=0.0,
        hi=1.0,
    )
    pretend_clearance: float = knob(
        0.05, "how far above the real contact path a pretended (or missed) motion passes (m)", lo=0.02, hi=0.2
    )
    approach_curve: float = knob(0.08, "largest sideways bend of an approach path, drawn per clip (m)", lo=0.0, hi=0.3)
    tremor_amplitude: float = knob(
        0.004, "amplitude of the human arm's hand tremor (m; physiological tremor is a few mm)", lo=0.0, hi=0.02
    )
    tremor_frequency: tuple[float, float] = knob(
        (6.0, 11.0), "[low, high] tremor frequency drawn per clip (Hz)", lo=0.5, hi=30.0, pair=True
    )
    lift_height: tuple[float, float] = knob(
        (0.07, 0.12), "[low, high] height a lifted mug is raised to (m above the desk)", lo=0.03, hi=0.3, pair=True
    )
    touch_hold: tuple[float, float] = knob(
        (0.3, 0.9), "[low, high] time a touch rests on the object (s)", lo=0.05, hi=5.0, pair=True
    )
    halfway_fraction: tuple[float, float] = knob(
        (0.35, 0.65),
        "[low, high] fraction of the drawer's opening a 'push the drawer halfway' pushes it in (unitless)",
        lo=0.1,
        hi=0.9,
        pair=True,
    )
    floating_force: float = knob(
        40.0,
        "force cap of the constraint that moves a floating actor (N): it pushes, it never passes through",
        lo=1.0,
        hi=1000.0,
    )
    arm_force: float = knob(60.0, "torque cap of an arm actor's joint motors (N·m)", lo=1.0, hi=1000.0)

    def __post_init__(self) -> None:
        check_knobs(self, "actors")
        if len(self.outcome_mix) != len(OUTCOMES):
            raise ValueError(
                f"actors.outcome_mix has {len(self.outcome_mix)} weights; give {len(OUTCOMES)}, one per outcome "
                f"({', '.join(OUTCOMES)})"
            )
        if sum(self.outcome_mix) <= 0:
            raise ValueError("actors.outcome_mix weights sum to 0; give at least one positive weight")
