"""Tasks at a home's kitchen counter, seen from the docked mobile manipulator's arm.

The counter is the desk (same drawer, cabinet, faucet and button), but the robot's arm base stands
wherever the robot docked, so everything here lives in the **arm-base frame** (forward, left, up, m),
the frame the arm's actions move the gripper in. ``ArmFrameView`` turns the counter's world positions
into that frame; the experts act in it, so the same code opens the drawer in ``robolearn/Counter-v1``
and in the homes' "open the kitchen drawer" baseline (``planners.mobile_manipulation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pybullet as p

from sim.tasks.catalogue import COUNTER_TASK_DESCRIPTIONS, TaskDescription, check_counter_task, counter_task_name

if TYPE_CHECKING:  # pragma: no cover
    from sim.config import SuccessThresholds
    from sim.robots.mobile import MobileManipulator
    from sim.scenes.home import Counter

TRAVEL_HEIGHT = 0.20  # m above the counter top the gripper moves at between objects (the desk expert's)
APPROACH_TOLERANCE = 0.012  # m: how close to a waypoint the gripper counts as there
MANIPULATE_SPEED = 0.8  # fraction of the arm's max step while pulling or pushing the drawer
OVERSHOOT = 0.03  # m the expert moves the drawer past its target, so noise never leaves it just short
GRIP_DROP = 0.005  # m below the handle's centre line the fingers hold it (between the bar and the face)
CLOSE_LATERAL = 0.08  # m beside the handle along the drawer's face where the fingers push it shut
CLOSE_STANDOFF = 0.035  # m in front of the face the fingers start the push
CLOSE_HEIGHT = 0.10  # m above the counter top the fingers push at
LOW_RISE_MARGIN = 0.04  # m below travel height under which the gripper rises before moving sideways
LOW_SIDEWAYS = 0.3  # fraction of the sideways motion kept while rising


@dataclass
class CounterStates:
    """The counter's articulated objects (m and rad), named as in the desk's ``ObjectStates``."""

    drawer: float  # opening (m)
    door: float  # cabinet door angle (rad)
    faucet: float  # lever angle (rad), positive = turned left
    button: float  # depression (m)

    @staticmethod
    def names() -> list[str]:
        """Names of the entries of ``vector()``."""
        return ["drawer", "cabinet_door", "faucet", "button"]

    def vector(self) -> np.ndarray:
        """(4,) float64: drawer, cabinet door, faucet, button."""
        return np.array([self.drawer, self.door, self.faucet, self.button])


class ArmFrameView:
    """The counter in the arm-base frame of a (docked) mobile manipulator."""

    def __init__(self, robot: MobileManipulator, counter: Counter):
        self.robot, self.counter = robot, counter

    def to_arm(self, world: np.ndarray) -> np.ndarray:
        """A world point (3,) → the arm-base frame (3,) (m: forward, left, up)."""
        pos, orn = self.robot.mount_pose()
        inv_pos, inv_orn = p.invertTransform(pos.tolist(), orn)
        return np.array(p.multiplyTransforms(inv_pos, inv_orn, np.asarray(world, float).tolist(), (0, 0, 0, 1))[0])

    def tcp(self) -> np.ndarray:
        """The tool centre point (3,) in the arm-base frame (m)."""
        return self.robot.tcp_in_mount()

    @property
    def max_step(self) -> float:
        """m the gripper moves per unit action per step."""
        return self.robot.arm.max_step

    def top_height(self) -> float:
        """The counter top's height in the arm-base frame (m)."""
        return float(self.counter.height - self.robot.mount_pose()[0][2])

    def states(self) -> CounterStates:
        c = self.counter
        return CounterStates(c.drawer.state(), c.cabinet.state(), c.faucet.state(), c.button.state())

    def interaction_points(self) -> dict[str, np.ndarray]:
        """Where each object is handled (arm-base frame, m): drawer and cabinet handles, faucet lever, button."""
        c = self.counter
        return {
            "drawer": self.to_arm(c.drawer.handle_position()),
            "cabinet_door": self.to_arm(c.cabinet.handle_position()),
            "faucet": self.to_arm(c.faucet.link_world_position("lever")),
            "button": self.to_arm(c.button.link_world_position("cap")),
        }


class DrawerMotion:
    """Scripted drawer motion in the arm-base frame: travel over the handle, descend, pull (or push) to a target.

    ``act(view)`` returns the arm action (4,): (Δforward, Δleft, Δup) as fractions of the max step, and
    the gripper (+1 closed). ``target`` is the drawer opening (m) to reach; the motion is done (holds
    still) once the drawer is past it. ``travel_height`` (m above the counter top), ``tolerance`` (m to a
    waypoint) and ``speed`` (fraction of the max step while pulling or pushing) default to the desk expert's.
    """

    def __init__(
        self,
        opening: bool,
        target: float,
        travel_height: float = TRAVEL_HEIGHT,
        tolerance: float = APPROACH_TOLERANCE,
        speed: float = MANIPULATE_SPEED,
    ):
        self.opening, self.target, self.phase = opening, float(target), "reach"
        self.travel_height, self.tolerance, self.speed = travel_height, tolerance, speed

    def done(self, view: ArmFrameView) -> bool:
        drawer = view.counter.drawer.state()
        return drawer >= self.target if self.opening else drawer <= self.target

    def start_point(self, view: ArmFrameView) -> np.ndarray:
        d = view.counter.drawer
        if self.opening:  # fingers drop into the gap between the handle bar and the drawer face (as on the desk)
            return view.to_arm(0.5 * (d.handle_position() + d.face_position(height=d.geom.handle_height))) - np.array(
                [0.0, 0.0, GRIP_DROP]
            )
        face = view.to_arm(d.face_position(CLOSE_LATERAL))  # beside the handle, a little in front of the face
        return np.array([face[0] - CLOSE_STANDOFF, face[1], view.top_height() + CLOSE_HEIGHT])

    def act(self, view: ArmFrameView) -> np.ndarray:
        tcp, step = view.tcp(), view.max_step
        start = self.start_point(view)
        if self.phase == "reach":
            travel = view.top_height() + self.travel_height
            if np.linalg.norm(tcp[:2] - start[:2]) > self.tolerance:
                delta = np.clip((np.array([start[0], start[1], travel]) - tcp) / step, -1, 1)
                if tcp[2] < travel - LOW_RISE_MARGIN:  # rise before moving sideways, so nothing on the counter is swept
                    delta[:2] *= LOW_SIDEWAYS
                return np.r_[delta, 1.0]
            if np.linalg.norm(tcp - start) > self.tolerance:
                return np.r_[np.clip((start - tcp) / step, -1, 1), 1.0]
            self.phase = "move"
        if self.phase == "move":
            if not self.done(view):
                # Along ∓forward at the start's height, steering sideways onto the handle's line.
                sign = -1.0 if self.opening else 1.0
                target = np.array([tcp[0] + sign * self.speed * step, start[1], start[2]])
                return np.r_[np.clip((target - tcp) / step, -1, 1), 1.0]
            self.phase = "done"
        return np.array([0.0, 0.0, 0.0, 1.0])


class CounterTask:
    """One instruction at the counter: its initial drawer state, progress, success and scripted expert."""

    def __init__(self, opening: bool):
        self.opening = opening
        self.description = TaskDescription("drawer", "open" if opening else "close")
        self.name = counter_task_name(self.description)

    def initial_drawer(
        self, rng: np.random.Generator, closed: tuple[float, float], open_: tuple[float, float]
    ) -> float:
        """The drawer's opening (m) at reset: nearly closed for "open", open for "close"."""
        return float(rng.uniform(*(closed if self.opening else open_)))

    def progress(self, now: CounterStates, init: CounterStates) -> float:
        """Signed drawer travel since reset toward the instructed change (m)."""
        return (1.0 if self.opening else -1.0) * (now.drawer - init.drawer)

    def threshold(self, th: SuccessThresholds) -> float:
        return th.drawer

    def succeeded(self, now: CounterStates, init: CounterStates, th: SuccessThresholds) -> bool:
        return self.progress(now, init) >= self.threshold(th)

    def interaction_point(self, view: ArmFrameView) -> np.ndarray:
        """Where the gripper acts on the drawer (arm-base frame, m)."""
        return DrawerMotion(self.opening, 0.0).start_point(view)

    def make_expert(self, init: CounterStates, th: SuccessThresholds) -> DrawerMotion:
        """The scripted expert of an episode that started from ``init``: it moves the drawer past success."""
        sign = 1.0 if self.opening else -1.0
        return DrawerMotion(self.opening, init.drawer + sign * (self.threshold(th) + OVERSHOOT))


#: task name → task, in the catalogue's order
COUNTER_TASKS: dict[str, CounterTask] = {
    name: CounterTask(d.change == "open") for name, d in COUNTER_TASK_DESCRIPTIONS.items()
}


def get_counter_task(name: str) -> CounterTask:
    """The counter task called ``name``; a ValueError lists the choices otherwise."""
    check_counter_task(name)
    return COUNTER_TASKS[name]
