"""Scripted controllers: every actor does every desk task, and the extras the robot has no task for.

A desk behaviour runs the desk task's own scripted expert (``sim.tasks.desk``) with the actor's tip in place of the
Panda's tool centre point (``ExpertView``): the expert's closed-loop logic (hook the handle, follow the door's arc,
push the mug along its line) is shared, while the actor's body, speed, approach path, pauses and tremor are its own.
Per clip a ``Plan`` is drawn (speed, pauses, approach bend, where a partial attempt stops, how a failure happens);
the attempted outcome changes the script:

* ``done``: the expert runs until its change is complete;
* ``partial``: it stops once the change reaches a drawn fraction of the task's success threshold;
* ``failed``: it slips off after a few control steps of contact, or misses (the whole motion passes above the
  object by ``pretend_clearance``);
* ``pretending``: the motion without contact (shifted above the contact path), for a time as long as the real one;
* ``none`` (LOReL's "do nothing"): the actor moves about in the air and touches nothing.

Extras: mugs pushed towards / away from the clip's camera, the drawer pushed in part of the way, touching an object
without moving it, lifting a mug. What happened is measured afterwards from the object states (``measure``), never
trusted from the script.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.actors.bodies import Actor, Hand, Stick
from sim.actors.catalogue import Behaviour
from sim.actors.config import ActorConfig
from sim.objects import MUG_HEIGHT
from sim.tasks.base import Expert, Task
from sim.tasks.desk import DESK_TASKS, MoveMugTask, _ApproachThenAct, get_task

if TYPE_CHECKING:  # pragma: no cover
    from sim.scenes.desk import DeskScene, ObjectStates

ENV_PERIOD = 1.0 / 12.0  # s: one desk env step, the period the experts' actions are scaled to
#: per-actor speed style (factor on the drawn speed): the gripper is slow and steady, the stick quick
SPEED_STYLE = {"hand": 1.0, "stick": 1.2, "gripper": 0.75, "planar_arm": 0.9, "human_arm": 0.8}
PARTIAL_MIN = 0.25  # fraction of the threshold above which a change counts as partial (below: failed / none)
STILL = 0.004  # m or rad: an object that changed less than this has not moved (pretending, touching)
LIFTED = 0.03  # m: a mug whose bottom rose this far above where it stood was picked up
REST_HEIGHT = 0.30  # m above the desk where actors start and go back to
SLIP_STEPS = (1, 3)  # control steps of contact before a slipping attempt lets go
SLIP_PROGRESS = 0.1  # fraction of the threshold after which a slipping attempt has surely let go
PRESS_HOLD = 0.25  # s a done press holds the button at or past its threshold before letting go
ACT_TIMEOUT = 3.0  # s: a contact phase still running then has failed (the change never came)
TOUCH_POINT_ABOVE = 0.04  # m: a touch descends from this far above the touched surface
TOUCH_GIVE_UP = 0.01  # m below the surface at which a touch that met nothing gives up


@dataclass
class Plan:
    """One clip's draw of how the attempt goes (JSON-able through ``as_dict``)."""

    outcome: str
    speed: float
    lead_in: float
    lead_out: float
    pause_before_contact: float
    pause_after: float
    curve: list[float]
    partial_fraction: float
    failure: str  # "slip" or "miss" (failed attempts only)
    slip_steps: int
    act_budget: float  # s the act phase lasts when nothing can end it (pretending, missing)
    lift_height: float
    touch_hold: float
    halfway_fraction: float
    wander: list[list[float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def draw_plan(cfg: ActorConfig, rng: np.random.Generator, outcome: str, actor: str, desk_height: float) -> Plan:
    """Draw a clip's ``Plan``; the RNG is advanced the same way whatever the outcome."""
    speed = rng.uniform(*cfg.speed) * SPEED_STYLE.get(actor, 1.0)
    pauses = [rng.uniform(*cfg.pause_duration) if rng.uniform() < cfg.pause_probability else 0.0 for _ in range(2)]
    angle = rng.uniform(0, 2 * np.pi)
    mag = rng.uniform(0, cfg.approach_curve)
    wander = [
        [float(rng.uniform(0.25, 0.55)), float(rng.uniform(-0.25, 0.25)), desk_height + float(rng.uniform(0.22, 0.36))]
        for _ in range(3)
    ]
    return Plan(
        outcome=outcome,
        speed=float(speed),
        lead_in=float(rng.uniform(*cfg.lead_in)),
        lead_out=float(rng.uniform(*cfg.lead_out)),
        pause_before_contact=float(pauses[0]),
        pause_after=float(pauses[1]),
        curve=[float(mag * math.cos(angle)), float(mag * math.sin(angle))],
        partial_fraction=float(rng.uniform(*cfg.partial_fraction)),
        failure="slip" if rng.uniform() < cfg.slip_probability else "miss",
        slip_steps=int(rng.integers(*SLIP_STEPS)),
        act_budget=float(rng.uniform(0.6, 1.4)),
        lift_height=float(rng.uniform(*cfg.lift_height)),
        touch_hold=float(rng.uniform(*cfg.touch_hold)),
        halfway_fraction=float(rng.uniform(*cfg.halfway_fraction)),
        wander=wander,
    )


# ------------------------------------------------------------------ the expert's view of an actor
class _TipArm:
    def __init__(self, view: ExpertView) -> None:
        self.view = view

    def tcp_pose(self) -> tuple[np.ndarray, np.ndarray]:
        return self.view.actor.tip() - self.view.offset, np.zeros(3)


class ExpertView:
    """The desk scene as a task expert sees it, with the actor's tip (minus ``offset``) as the tool centre point.

    A non-zero ``offset`` makes the expert perform its whole motion shifted by it (a pretended or missed attempt).
    Everything else is the real scene's.
    """

    def __init__(self, scene: DeskScene, actor: Actor) -> None:
        self._scene = scene
        self.actor = actor
        self.offset = np.zeros(3)
        self.arm = _TipArm(self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._scene, name)


class DirectedMugTask(MoveMugTask):
    """A mug push along any world direction on the desk (for pushes towards / away from a camera)."""

    def __init__(self, mug: str, direction_xy: np.ndarray) -> None:
        self.mug, self.direction = mug, "custom"
        self._d = np.asarray(direction_xy, float) / max(float(np.linalg.norm(direction_xy)), 1e-9)
        self.name = f"move_{mug}_along_{self._d[0]:+.2f}_{self._d[1]:+.2f}"

    def world_direction(self, scene: DeskScene) -> np.ndarray:
        return self._d

    def progress(self, now: ObjectStates, init: ObjectStates) -> float:
        return float(np.dot(now.mugs[self.mug][:2] - init.mugs[self.mug][:2], self._d))


class _TouchExpert(_ApproachThenAct):
    """Go above a point, descend until the actor touches the body there, rest on it, then lift off."""

    travel_height = 0.22

    def __init__(self, point_fn: Any, actor: Actor, uid: int, hold_steps: int) -> None:
        super().__init__()
        self.point_fn, self.actor, self.uid, self.hold_steps = point_fn, actor, uid, hold_steps
        self.touched = 0

    def start_point(self, scene: Any, init: Any) -> np.ndarray:
        return self.point_fn() + np.array([0.0, 0.0, TOUCH_POINT_ABOVE])

    def manipulate(self, scene: Any, init: Any) -> np.ndarray | None:
        tcp, _ = scene.arm.tcp_pose()
        if self.touched or self.actor.touching(self.uid):
            self.touched += 1  # rest where contact was made: no further push
            return None if self.touched > self.hold_steps else np.r_[0.0, 0.0, 0.0, 1.0]
        surface = self.point_fn()
        if tcp[2] < surface[2] - TOUCH_GIVE_UP:  # went below where the surface should be: nothing there (pretended)
            return None
        goal = surface - np.array([0.0, 0.0, 2 * TOUCH_GIVE_UP])  # aim just below the surface, slowly
        return np.r_[np.clip((goal - tcp) / scene.cfg.arm.max_step, -0.3, 0.3), 1.0]


def touch_point(scene: DeskScene, obj: str) -> tuple[Any, int]:
    """(point function, body uid) of where ``obj`` is touched without moving it: the top of a static part or a mug."""
    H = scene.desk_height
    if obj == "drawer":
        d = scene.drawer
        pos = np.array(d.link_world_position("drawer", (0.0, 0.0, 0.0)))
        base = d.body.uid
        top = np.array([pos[0] + d.geom.half_depth + 0.03, pos[1], H + d.geom.height])  # the carcass top
        return (lambda: top), base
    if obj == "cabinet_door":
        c = scene.cabinet
        hinge = c.hinge_position()
        top = np.array([hinge[0] + 0.11, hinge[1] - 0.1, H + 0.15])
        return (lambda: top), c.body.uid
    if obj == "faucet":
        f = scene.faucet
        return (lambda: f.pivot_position() + np.array([0.0, 0.0, 0.01])), f.body.uid
    mug = scene.mugs[obj]
    return (lambda: mug.position() + np.array([0.0, 0.0, MUG_HEIGHT])), mug.uid


# ------------------------------------------------------------------------------------- the script
class Script:
    """Runs one attempt: ``step(t)`` gives the actor's tip target and grip for the next control step.

    Args:
        behaviour: what to do; outcome: the attempted outcome; plan: the clip's draw.
        scene: the desk scene (its objects at their initial state); actor: the built actor.
        camera_forward: unit xy (2,) of the clip camera's viewing direction on the desk (for pushes towards/away).
        cfg: the actor settings; dt: seconds per control step.
    """

    def __init__(
        self,
        behaviour: Behaviour,
        plan: Plan,
        scene: DeskScene,
        actor: Actor,
        camera_forward: np.ndarray,
        cfg: ActorConfig,
        dt: float,
    ) -> None:
        self.b, self.plan, self.scene, self.actor, self.cfg, self.dt = behaviour, plan, scene, actor, cfg, dt
        self.view = ExpertView(scene, actor)
        self.init = scene.object_states()
        self.start = actor.tip()
        self.phase = "lead_in"
        self.phase_t = 0.0
        self.contact_steps = 0
        self.touched_target = False
        self.task: Task | None = None
        self.expert: Expert | None = None
        self.target_uid = self._target_uid()
        grip_default = 1.0
        self.grip = grip_default
        kind = behaviour.kind
        if plan.outcome in ("pretending",) or (plan.outcome == "failed" and plan.failure == "miss"):
            self.view.offset = np.array([0.0, 0.0, cfg.pretend_clearance + self._extra_clearance()])
        if kind == "push" and behaviour.direction in ("towards_camera", "away_from_camera"):
            sign = -1.0 if behaviour.direction == "towards_camera" else 1.0
            self.task = DirectedMugTask(behaviour.object, sign * np.asarray(camera_forward, float))
        elif kind == "push_halfway":
            self.task = get_task("close_drawer")
        elif behaviour.task is not None:
            self.task = get_task(behaviour.task)
        if kind in ("open", "close", "turn", "press", "push", "push_halfway"):
            assert self.task is not None
            self.expert = self.task.make_expert()
            if isinstance(actor, Hand) and kind in ("close", "push_halfway") and behaviour.object == "drawer":
                actor.yaw += math.pi / 2  # the finger row along the push: beside the handle, not across it
            if isinstance(actor, Stick) and kind == "push":
                actor.set_lean(self.task.world_direction(scene) if isinstance(self.task, MoveMugTask) else np.zeros(2))
        elif kind == "touch":
            fn, uid = touch_point(scene, behaviour.object)
            self.expert = _TouchExpert(fn, actor, uid, max(1, int(plan.touch_hold / dt)))
        elif kind == "lift":
            self.grip = 0.0 if actor.grasps else 1.0
        self.approach_from: np.ndarray | None = None
        self._hold: np.ndarray = self.start
        self._pause_len = 0.0
        self._after_pause = "expert"
        self.lift_phase = "above"

    # --------------------------------------------------------------------------------- helpers
    def _extra_clearance(self) -> float:
        """m more that a pretended mug push / lift must rise: over the mug, not into it."""
        return MUG_HEIGHT if self.b.object.endswith("_mug") else 0.0

    def _target_uid(self) -> int:
        s, o = self.scene, self.b.object
        if o == "drawer":
            return s.drawer.uid
        if o == "cabinet_door":
            return s.cabinet.uid
        if o == "faucet":
            return s.faucet.uid
        if o == "button":
            return s.button.uid
        return s.mugs[o].uid

    def task_progress(self, now: ObjectStates) -> float:
        """The behaviour's signed change since the start (m or rad), as its task measures it."""
        if self.task is not None:
            return float(self.task.progress(now, self.init))
        if self.b.kind == "lift":
            return float(now.mugs[self.b.object][2] - self.init.mugs[self.b.object][2])
        return 0.0

    def _move(self, goal: np.ndarray, speed: float) -> np.ndarray:
        """A tip target one control step toward ``goal`` at ``speed`` × the expert's top speed."""
        tip = self.actor.tip()
        step = self.scene.cfg.arm.max_step * (self.dt / ENV_PERIOD) * speed * self.plan.speed
        d = goal - tip
        n = float(np.linalg.norm(d))
        return goal if n <= step else tip + d / n * step

    def _set(self, phase: str) -> None:
        self.phase, self.phase_t = phase, 0.0

    # ------------------------------------------------------------------------------------ step
    def step(self, t: float) -> tuple[np.ndarray, float] | None:
        """The tip target (3,) and grip for the control step at time ``t`` (s), or None when the attempt is over."""
        self.phase_t += self.dt
        if self.actor.touching(self.target_uid):
            self.contact_steps += 1
            self.touched_target = True
        ph = self.phase
        if ph == "lead_in":
            if self.phase_t >= self.plan.lead_in:
                self._set("wander" if self.plan.outcome == "none" else ("lift" if self.b.kind == "lift" else "expert"))
            return self.start, self.grip
        if ph == "wander":
            return self._wander()
        if ph == "expert":
            return self._expert_step()
        if ph == "lift":
            return self._lift_step()
        if ph == "pause":
            if self.phase_t >= self._pause_len:
                self._set(self._after_pause)
            return self._hold, self.grip
        if ph == "retreat":
            goal = np.array([self.start[0], self.start[1], max(self.start[2], self.actor.tip()[2])])
            if self.phase_t < 0.3:  # first straight up, off the object
                goal = self.actor.tip() + np.array([0.0, 0.0, 0.08])
            target = self._move(goal, 0.7)
            if np.linalg.norm(self.actor.tip() - goal) < 0.02 or self.phase_t > 2.5:
                self._hold = self.actor.tip()
                self._set("lead_out")
            return target, self.grip
        if ph == "lead_out":
            return None if self.phase_t >= self.plan.lead_out else (self._hold, self.grip)
        raise AssertionError(ph)  # pragma: no cover

    def _pause(self, length: float, then: str) -> None:
        if length <= 0:
            self._set(then)
            return
        self._hold = self.actor.tip()
        self._pause_len, self._after_pause = length, then
        self._set("pause")

    def _end_attempt(self) -> None:
        if self.actor.holding and self.b.kind != "lift":
            self.actor.release()
        self._pause(self.plan.pause_after, "retreat")

    def _wander(self) -> tuple[np.ndarray, float] | None:
        pts = self.plan.wander
        i = getattr(self, "_wander_i", 0)
        if i >= len(pts):
            self._hold = self.actor.tip()
            self._set("lead_out")
            return self._hold, self.grip
        goal = np.asarray(pts[i])
        if np.linalg.norm(self.actor.tip() - goal) < 0.02 or self.phase_t > 2.0:
            self._wander_i = i + 1
            self.phase_t = 0.0
        return self._move(goal, 0.6), self.grip

    def _expert_step(self) -> tuple[np.ndarray, float] | None:
        assert self.expert is not None
        expert = self.expert
        before = getattr(expert, "phase", "act")
        action = expert.act(self.view, self.init)  # type: ignore[arg-type]
        after = getattr(expert, "phase", "act")
        if before in ("approach", "descend") and after == "act" and not getattr(self, "_paused_contact", False):
            self._paused_contact = True
            self.act_t = 0.0
            self._pause(self.plan.pause_before_contact, "expert")
            return self.actor.tip(), self.grip
        if after == "done":
            self._end_attempt()
            return self.actor.tip(), self.grip
        if after == "act":
            self.act_t = getattr(self, "act_t", 0.0) + self.dt
            if self._should_stop():
                self._end_attempt()
                return self.actor.tip(), self.grip
        delta = np.asarray(action[:3], float) * self.scene.cfg.arm.max_step * (self.dt / ENV_PERIOD) * self.plan.speed
        if after == "approach":
            delta += self._bend(expert)
        return self.actor.tip() + delta, self.grip

    def _should_stop(self) -> bool:
        o, now = self.plan.outcome, self.scene.object_states()
        thr = self.task.threshold(self.scene.cfg.thresholds) if self.task is not None else 1.0
        prog = self.task_progress(now)
        if self.b.kind == "push_halfway":
            return prog >= self.plan.halfway_fraction * thr
        if o == "partial":
            return prog >= self.plan.partial_fraction * thr
        if self.b.kind == "press" and o == "done":  # the expert holds the button down for good: let go after a while
            self.pressed_t = getattr(self, "pressed_t", 0.0) + (self.dt if prog >= thr else 0.0)
            return self.pressed_t > PRESS_HOLD
        if o == "failed" and self.plan.failure == "slip":
            slipped = self.contact_steps >= self.plan.slip_steps or prog >= SLIP_PROGRESS * thr
            return slipped or self.act_t > self.plan.act_budget
        if o in ("pretending", "failed"):
            return self.act_t > self.plan.act_budget
        return self.act_t > ACT_TIMEOUT  # stuck (e.g. missed the handle): give up, measured as failed

    def _bend(self, expert: Expert) -> np.ndarray:
        """A sideways push that bends the approach into a curve, strongest half-way, gone at the goal."""
        goal = expert.start_point(self.view, self.init)  # type: ignore[attr-defined]
        tip = self.actor.tip() - self.view.offset
        if self.approach_from is None:
            self.approach_from = tip.copy()
        total = float(np.linalg.norm((goal - self.approach_from)[:2]))
        if total < 0.05:
            return np.zeros(3)
        s = float(np.clip(1.0 - np.linalg.norm((goal - tip)[:2]) / total, 0.0, 1.0))
        return np.r_[np.asarray(self.plan.curve) * 0.25 * math.sin(math.pi * s) * (1.0 - s), 0.0]

    def _lift_step(self) -> tuple[np.ndarray, float] | None:
        """Above the mug, down around it (or onto its top: suction), close, then up to the lift height."""
        mug = self.scene.mugs[self.b.object]
        H = self.scene.desk_height
        c = mug.position()
        off = self.view.offset
        suction = not hasattr(self.actor, "fingers")  # arms grasp from the top (suction / fingertips)
        grasp_z = H + MUG_HEIGHT + 0.002 if suction else H + 0.025
        if self.lift_phase == "above":
            goal = np.array([c[0], c[1], H + MUG_HEIGHT + 0.12]) + off
            if np.linalg.norm(self.actor.tip() - goal) < 0.015:
                self.lift_phase = "down"
                self._pause(self.plan.pause_before_contact, "lift")
            return self._move(goal, 0.8), 0.0
        if self.lift_phase == "down":
            goal = np.array([c[0], c[1], grasp_z]) + off
            touching = suction and self.actor.touching(mug.uid)
            if np.linalg.norm(self.actor.tip() - goal) < 0.01 or touching or self.phase_t > 3.0:
                self.lift_phase, self.phase_t = "close", 0.0
            return self._move(goal, 0.5), 0.0
        if self.lift_phase == "close":
            self.grip = 1.0
            slips = self.plan.outcome == "failed" and self.plan.failure == "slip"
            if self.actor.touching(mug.uid) and self.phase_t > 0.15 and self.plan.outcome != "pretending" and not slips:
                self.actor.attach(mug.uid)
            if self.phase_t > 0.5:
                self.lift_phase, self.phase_t = "up", 0.0
                self.lift_from = self.actor.tip()
            return self.actor.tip(), 1.0
        # up
        goal = self.lift_from + np.array([0.0, 0.0, self.plan.lift_height])
        if self.plan.outcome == "partial":
            goal = self.lift_from + np.array([0.0, 0.0, self.plan.lift_height * self.plan.partial_fraction * 0.5])
        if np.linalg.norm(self.actor.tip() - goal) < 0.01 or self.phase_t > 3.0:
            self._end_attempt()
        return self._move(goal, 0.4), 1.0


# --------------------------------------------------------------------------------------- measuring
def intended_change(behaviour: Behaviour, task: Task | None, plan: Plan, thresholds: Any) -> float:
    """The change (m or rad) the behaviour aims at, the denominator of a clip's progress: the task's threshold,
    the halfway push's share of it, or the lift height."""
    if behaviour.kind == "lift":
        return LIFTED
    if behaviour.kind == "push_halfway":
        return plan.halfway_fraction * thresholds.drawer
    if task is not None:
        return float(task.threshold(thresholds))
    return 1.0


def moved(now: ObjectStates, init: ObjectStates) -> float:
    """The largest change of any object since ``init`` (m for positions and the drawer/button, rad for joints)."""
    return float(np.max(np.abs(now.vector() - init.vector())))


def measure(
    behaviour: Behaviour, attempted: str, progress: float, intended: float, moved_most: float, touched: bool
) -> str:
    """The outcome a clip reports, from what happened (``progress`` toward the ``intended`` change, the largest
    change of any object, and whether the actor touched the target)."""
    if behaviour.kind == "touch":
        if moved_most < STILL and touched:
            return "done"
        if moved_most < STILL:
            return "none" if attempted == "none" else "pretending"
        return "failed"
    if progress >= intended:
        return "done"
    if progress >= PARTIAL_MIN * intended:
        return "partial"
    if attempted == "none" and moved_most < STILL:
        return "none"
    if attempted == "pretending" and moved_most < STILL and not touched:
        return "pretending"
    return "failed"


__all__ = [
    "DESK_TASKS",
    "DirectedMugTask",
    "ExpertView",
    "Plan",
    "Script",
    "draw_plan",
    "intended_change",
    "measure",
    "moved",
]
