"""The desk tasks: LOReL's six plus the cabinet door, the button and every mug direction.

Each task samples its own initial state (e.g. "close the drawer" starts with the drawer open),
measures success as a change since reset (as LOReL did, with thresholds from
``SuccessThresholds``), and comes with a scripted expert that reads the simulator state. The names
and descriptions of the tasks are listed in ``sim.tasks.catalogue``; ``DESK_TASKS`` has one instance per entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.dimensions import MUG_OVERSHOOT, MUG_PUSH_BEHIND, MUG_PUSH_FAR_MARGIN, MUG_RADIUS, mug_push_y_limit
from sim.tasks.base import Expert, Task
from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS, TaskDescription, check_desk_task, desk_task_name
from sim.tasks.catalogue import LOREL_TASKS as LOREL_TASKS  # re-exported: its users import it with DESK_TASKS

if TYPE_CHECKING:  # pragma: no cover
    from sim.config import SuccessThresholds
    from sim.scenes.desk import DeskScene, ObjectStates

# Image directions (default camera) → world xy unit vectors.
DIRECTIONS: dict[str, np.ndarray] = {
    "up": np.array([-1.0, 0.0]),
    "down": np.array([1.0, 0.0]),
    "left": np.array([0.0, -1.0]),
    "right": np.array([0.0, 1.0]),
}
# Experts move a little past the success threshold so that noise never leaves them just short.
OVERSHOOT = {"m": MUG_OVERSHOOT, "rad": 0.25}
TRAVEL_HEIGHT = 0.20  # expert moves between objects this far above the desk (m): clears every carcass
MUG_LAYOUT_ATTEMPTS = 20  # starts tried for a pushed mug before the layout counts as too cramped
EXPERT_SPEED = 0.8  # fraction of the max step the expert uses while manipulating
APPROACH_TOLERANCE = 0.012  # m: how close to a waypoint counts as there
RETREAT_HEIGHT = 0.06  # m the fingers rise once a change is complete
REAPPROACH_DISTANCE = 0.04  # m: drift from the start point that sends a descending gripper back up


def mug_region(scene: DeskScene) -> tuple[np.ndarray, np.ndarray]:
    """World-frame (low, high) xy corners of where free objects may start (mirrored with the layout)."""
    lay = scene.cfg.layout
    lo, hi = np.array(lay.mug_region_low, float), np.array(lay.mug_region_high, float)
    if scene.mirror:
        lo[1], hi[1] = -hi[1], -lo[1]
    return lo, hi


class PlacementError(RuntimeError):
    """The free objects could not be placed apart (retried by the caller with another layout)."""


def _sample_common(
    scene: DeskScene, rng: np.random.Generator, keep_out: list[tuple[np.ndarray, float]], skip: tuple[str, ...] = ()
) -> None:
    """Shared part of every initial state: arm start, furniture joints, mugs and blocks placed apart.

    ``keep_out`` lists discs (centre xy, radius) that free objects must avoid (e.g. a push path);
    objects named in ``skip`` are placed by the caller.
    """
    cfg = scene.cfg
    H = scene.desk_height
    start = np.asarray(cfg.arm.start_tcp) + rng.uniform(-1, 1, 3) * np.asarray(cfg.arm.start_tcp_jitter)
    scene.arm.reset_tcp(scene.arm.base_pos + start)
    scene.drawer.set_state(rng.uniform(0.0, 0.10))
    scene.cabinet.set_state(rng.uniform(0.0, 0.5))
    scene.faucet.set_state(rng.uniform(-1.0, 1.0))
    scene.button.set_state(0.0)
    lo, hi = mug_region(scene)
    jitter = cfg.randomization.object_position_jitter if cfg.randomization.object_positions else 0.0
    lo, hi = lo - jitter, hi + jitter
    placed = [(c, r) for c, r in keep_out]
    for obj in list(scene.mugs.values()) + list(scene.blocks.values()):
        if obj.name in skip:
            continue
        for _ in range(200):
            xy = rng.uniform(lo, hi)
            if all(np.linalg.norm(xy - c) > r + 0.06 for c, r in placed):
                break
        else:
            raise PlacementError(f"could not place {obj.name} without overlap; enlarge layout.mug_region_*")
        placed.append((xy, 0.05))
        obj.place(xy, H + 0.001, rng.uniform(-np.pi, np.pi))


class _ApproachThenAct(Expert):
    """Go to a start point over a travel height, descend, then run the task-specific motion."""

    travel_height = TRAVEL_HEIGHT  # m above the desk while moving between objects

    def __init__(self) -> None:
        self.phase = "approach"

    def reset(self) -> None:
        self.phase = "approach"

    def start_point(self, scene: DeskScene, init: ObjectStates) -> np.ndarray:
        raise NotImplementedError

    def manipulate(self, scene: DeskScene, init: ObjectStates) -> np.ndarray | None:
        """Action (4,) once the gripper is at the start point, or None when the change is complete."""
        raise NotImplementedError

    @staticmethod
    def toward(tcp: np.ndarray, target: np.ndarray, max_step: float, speed: float = 1.0) -> np.ndarray:
        return np.clip((target - tcp) / max_step, -speed, speed)

    def act(self, scene: DeskScene, init: ObjectStates) -> np.ndarray:
        tcp, _ = scene.arm.tcp_pose()
        step = scene.cfg.arm.max_step
        if self.phase in ("approach", "descend"):
            goal = self.start_point(scene, init)
            xy_error = np.linalg.norm(tcp[:2] - goal[:2])
            # Hysteresis: once descending, only a large drift sends the gripper back up.
            if self.phase == "approach" and xy_error <= APPROACH_TOLERANCE:
                self.phase = "descend"
            elif self.phase == "descend" and xy_error > REAPPROACH_DISTANCE:
                self.phase = "approach"
            if self.phase == "approach":
                travel_z = scene.desk_height + self.travel_height
                # Rise before moving sideways if low, so nothing on the desk is swept.
                delta = self.toward(tcp, np.array([goal[0], goal[1], travel_z]), step)
                if tcp[2] < travel_z - 0.04:
                    delta[:2] *= 0.3
                return np.r_[delta, 1.0]
            if np.linalg.norm(tcp - goal) > APPROACH_TOLERANCE:
                return np.r_[self.toward(tcp, goal, step), 1.0]
            self.phase = "act"
        if self.phase == "act":
            action = self.manipulate(scene, init)
            if action is not None:
                return action
            self.phase = "done"
            self._retreat_z = tcp[2] + RETREAT_HEIGHT
        # Done: lift the fingers off the object so nothing springs back against them, then wait.
        return np.r_[self.toward(tcp, np.array([tcp[0], tcp[1], self._retreat_z]), step, EXPERT_SPEED), 1.0]


def _lateral_push(tcp: np.ndarray, contact: np.ndarray, direction: np.ndarray, z: float, max_step: float) -> np.ndarray:
    """Move along ``direction`` (xy unit) while steering the tcp onto the line through ``contact``."""
    perp = np.array([-direction[1], direction[0]])
    lateral_error = float(np.dot(contact[:2] - tcp[:2], perp))
    d_xy = direction * EXPERT_SPEED * max_step + perp * lateral_error
    target = np.array([tcp[0] + d_xy[0], tcp[1] + d_xy[1], z])
    return np.r_[np.clip((target - tcp) / max_step, -1, 1), 1.0]


# --------------------------------------------------------------------- mugs
class MoveMugTask(Task):
    """Push a mug in an image direction by at least ``thresholds.mug`` metres."""

    expert_horizon = 24

    def __init__(self, mug: str, direction: str):
        self.mug, self.direction = mug, direction
        self.description = TaskDescription(mug, "move", direction)
        self.name = desk_task_name(self.description)

    def world_direction(self, scene: DeskScene) -> np.ndarray:
        return DIRECTIONS[self.direction]

    def sample_initial_state(self, scene: DeskScene, rng: np.random.Generator) -> None:
        d = self.world_direction(scene)
        lo, hi = mug_region(scene)
        # The hand is 2 × HAND_HALF_SPAN long along y: along the whole push, from behind the mug to past
        # the goal, it must stay clear of the drawer and cabinet carcasses at either side of the desk.
        lay = scene.cfg.layout
        y_limit = mug_push_y_limit(lay.drawer_center[1], lay.cabinet_center[1])
        travel = self.threshold(scene.cfg.thresholds) + OVERSHOOT["m"] + MUG_RADIUS
        if d[0] != 0:  # room at the far side for the gripper (up) or for the mug (down)
            hi[0] -= MUG_PUSH_FAR_MARGIN
        # Rarely (about 1 in 10,000) the other objects find no room beside the push path: then draw
        # another start for the pushed mug. The first attempt's draws are unchanged by the retry.
        for _attempt in range(MUG_LAYOUT_ATTEMPTS):
            for _ in range(1000):
                xy = rng.uniform(lo, hi)
                path_y = (xy[1] - d[1] * _MugExpert.BEHIND, xy[1] + d[1] * travel)
                if max(abs(y) for y in path_y) <= y_limit:
                    break
            else:  # pragma: no cover - a layout this cramped is a configuration error
                raise ValueError(f"no start position for {self.name}: layout.mug_region_* leaves the hand no room")
            path = [(xy + d * s, 0.045) for s in np.linspace(-0.09, 0.12, 8)]
            try:
                _sample_common(scene, rng, path, skip=(self.mug,))
                break
            except PlacementError:
                continue
        else:
            raise PlacementError(
                f"{self.name}: no layout in {MUG_LAYOUT_ATTEMPTS} attempts; enlarge layout.mug_region_*"
            )
        scene.mugs[self.mug].place(xy, scene.desk_height + 0.001, rng.uniform(-np.pi, np.pi))

    def progress(self, now: ObjectStates, init: ObjectStates) -> float:
        return float(np.dot(now.mugs[self.mug][:2] - init.mugs[self.mug][:2], DIRECTIONS[self.direction]))

    def threshold(self, th: SuccessThresholds) -> float:
        return th.mug

    def interaction_point(self, scene: DeskScene) -> np.ndarray:
        c = scene.mugs[self.mug].position()
        d = self.world_direction(scene)
        return np.array([c[0] - 0.05 * d[0], c[1] - 0.05 * d[1], scene.desk_height + 0.015])

    def make_expert(self) -> Expert:
        return _MugExpert(self)


class _MugExpert(_ApproachThenAct):
    PUSH_HEIGHT = 0.015  # tcp above the desk while pushing: below the mug's centre of mass, so it slides
    BEHIND = MUG_PUSH_BEHIND  # start this far behind the mug centre (clears the mug's handle)

    def __init__(self, task: MoveMugTask):
        super().__init__()
        self.task = task

    def start_point(self, scene, init):
        c = scene.mugs[self.task.mug].position()
        d = self.task.world_direction(scene)
        return np.array([c[0] - self.BEHIND * d[0], c[1] - self.BEHIND * d[1], scene.desk_height + self.PUSH_HEIGHT])

    def manipulate(self, scene, init):
        now = scene.object_states()
        goal = self.task.threshold(scene.cfg.thresholds) + OVERSHOOT["m"]
        if self.task.progress(now, init) >= goal:
            return None
        tcp, _ = scene.arm.tcp_pose()
        return _lateral_push(
            tcp,
            now.mugs[self.task.mug],
            self.task.world_direction(scene),
            scene.desk_height + self.PUSH_HEIGHT,
            scene.cfg.arm.max_step,
        )


# ------------------------------------------------------------------- drawer
class DrawerTask(Task):
    def __init__(self, opening: bool):
        self.opening = opening
        self.description = TaskDescription("drawer", "open" if opening else "close")
        self.name = desk_task_name(self.description)

    def sample_initial_state(self, scene, rng):
        _sample_common(scene, rng, [])
        scene.drawer.set_state(rng.uniform(0.0, 0.03) if self.opening else rng.uniform(0.07, 0.12))

    def progress(self, now, init):
        sign = 1.0 if self.opening else -1.0
        return sign * (now.drawer - init.drawer)

    def threshold(self, th):
        return th.drawer

    def interaction_point(self, scene):
        if self.opening:
            d = scene.drawer
            return 0.5 * (d.handle_position() + d.face_position(height=d.geom.handle_height))
        return scene.drawer.face_position(0.08)

    def make_expert(self) -> Expert:
        return _DrawerExpert(self)


class _DrawerExpert(_ApproachThenAct):
    def __init__(self, task: DrawerTask):
        super().__init__()
        self.task = task

    def start_point(self, scene, init):
        d = scene.drawer
        if self.task.opening:  # fingers drop into the gap between handle bar and drawer face
            p = 0.5 * (d.handle_position() + d.face_position(height=d.geom.handle_height))
            return np.array([p[0], p[1], p[2] - 0.005])
        face = d.face_position(0.08 * (-1 if scene.mirror else 1))  # beside the handle
        return np.array([face[0] - 0.035, face[1], scene.desk_height + 0.10])

    def manipulate(self, scene, init):
        now = scene.object_states()
        if self.task.progress(now, init) >= self.task.threshold(scene.cfg.thresholds) + OVERSHOOT["m"]:
            return None
        tcp, _ = scene.arm.tcp_pose()
        direction = np.array([-1.0, 0.0]) if self.task.opening else np.array([1.0, 0.0])
        anchor = self.start_point(scene, init) if self.task.opening else tcp
        return _lateral_push(tcp, anchor, direction, self.start_point(scene, init)[2], scene.cfg.arm.max_step)


# ------------------------------------------------------------ cabinet door
class CabinetDoorTask(Task):
    expert_horizon = 24

    def __init__(self, opening: bool):
        self.opening = opening
        self.description = TaskDescription("cabinet_door", "open" if opening else "close")
        self.name = desk_task_name(self.description)

    def sample_initial_state(self, scene, rng):
        _sample_common(scene, rng, [])
        scene.cabinet.set_state(rng.uniform(0.0, 0.1) if self.opening else rng.uniform(0.6, 1.1))

    def progress(self, now, init):
        sign = 1.0 if self.opening else -1.0
        return sign * (now.door - init.door)

    def threshold(self, th):
        return th.door

    def interaction_point(self, scene):
        g = scene.cabinet.geom
        if self.opening:
            return scene.cabinet.point_on_door(g.handle_along, g.handle_offset / 2, g.handle_height)
        return scene.cabinet.point_on_door(g.width - 0.02, -0.03)

    def make_expert(self) -> Expert:
        return _DoorExpert(self)


class _DoorExpert(_ApproachThenAct):
    SWING = 0.3  # rad: the expert aims this far ahead along the door's arc each step

    def __init__(self, task: CabinetDoorTask):
        super().__init__()
        self.task = task

    def _arc_point(self, scene, angle_delta: float, along: float, out: float, z: float) -> np.ndarray:
        """Point on the door at (along, out) after turning it by ``angle_delta`` more (rad)."""
        door = scene.cabinet
        hinge = door.hinge_position()
        now = door.point_on_door(along, out)
        rel = now[:2] - hinge[:2]
        # The door opens clockwise seen from above (axis −z), so opening by δ rotates points by −δ.
        c, s = np.cos(-angle_delta), np.sin(-angle_delta)
        rot = np.array([c * rel[0] - s * rel[1], s * rel[0] + c * rel[1]])
        return np.array([hinge[0] + rot[0], hinge[1] + rot[1], z])

    def _grip(self, scene):
        g = scene.cabinet.geom
        H = scene.desk_height
        if self.task.opening:  # hook behind the handle bar, fingertips just below its centre
            return g.handle_along, g.handle_offset / 2, scene.cabinet.hinge_position()[2] + g.handle_height - 0.005
        return g.width - 0.025, 0.035, H + 0.125  # push the face near the free edge, fingers near its top

    def start_point(self, scene, init):
        along, out, z = self._grip(scene)
        return self._arc_point(scene, 0.0, along, out, z)

    def manipulate(self, scene, init):
        now = scene.object_states()
        if self.task.progress(now, init) >= self.task.threshold(scene.cfg.thresholds) + OVERSHOOT["rad"]:
            return None
        along, out, z = self._grip(scene)
        delta = self.SWING if self.task.opening else -self.SWING
        if not self.task.opening:
            out = -0.02  # aim just inside the panel so the fingers keep pressing on it
        target = self._arc_point(scene, delta, along, out, z)
        tcp, _ = scene.arm.tcp_pose()
        return np.r_[np.clip((target - tcp) / scene.cfg.arm.max_step, -EXPERT_SPEED, EXPERT_SPEED), 1.0]


# ------------------------------------------------------------------ faucet
class FaucetTask(Task):
    def __init__(self, direction: str):
        self.direction = direction
        self.sign = 1.0 if direction == "left" else -1.0
        self.description = TaskDescription("faucet", "turn", direction)
        self.name = desk_task_name(self.description)

    def sample_initial_state(self, scene, rng):
        _sample_common(scene, rng, [])
        # Start turned up to 0.9 rad the other way: beyond that the finger would have to get behind the
        # lever at the edge of the arm's reach.
        scene.faucet.set_state(self.sign * rng.uniform(-0.9, 0.3))

    def progress(self, now, init):
        return self.sign * (now.faucet - init.faucet)

    def threshold(self, th):
        return th.faucet

    def interaction_point(self, scene):
        return scene.faucet.tip_position(0.8)

    def make_expert(self) -> Expert:
        return _FaucetExpert(self)


class _FaucetExpert(_ApproachThenAct):
    # Only mugs lie between the arm and the faucet; travelling low keeps the far lever within reach.
    travel_height = 0.14
    BEHIND = 0.045  # m: start beside the lever, on the side opposite to the turn (finger + tracking error)
    SWING = 0.35  # rad aimed ahead along the lever's arc each step

    def __init__(self, task: FaucetTask):
        super().__init__()
        self.task = task

    def _lever_point(self, scene, angle_delta: float, side_offset: float) -> np.ndarray:
        f = scene.faucet
        pivot = f.pivot_position()
        theta = f.state() + angle_delta
        r = 0.8 * f.geom.lever_length
        # The lever points along −x at angle 0 and turns counter-clockwise for positive angles.
        tip = pivot[:2] + r * np.array([-np.cos(theta), -np.sin(theta)])
        tangent = self.task.sign * np.array([np.sin(theta), -np.cos(theta)])
        xy = tip - tangent * side_offset
        return np.array([xy[0], xy[1], pivot[2] - 0.02])

    def start_point(self, scene, init):
        return self._lever_point(scene, 0.0, self.BEHIND)

    def manipulate(self, scene, init):
        now = scene.object_states()
        if self.task.progress(now, init) >= self.task.threshold(scene.cfg.thresholds) + OVERSHOOT["rad"]:
            return None
        target = self._lever_point(scene, self.task.sign * self.SWING, 0.01)
        tcp, _ = scene.arm.tcp_pose()
        return np.r_[np.clip((target - tcp) / scene.cfg.arm.max_step, -EXPERT_SPEED, EXPERT_SPEED), 1.0]


# ------------------------------------------------------------------ button
class ButtonTask(Task):
    description = TaskDescription("button", "press")
    name = desk_task_name(description)

    def sample_initial_state(self, scene, rng):
        _sample_common(scene, rng, [])

    def progress(self, now, init):
        return now.button - init.button

    def threshold(self, th):
        return th.button

    def interaction_point(self, scene):
        return scene.button.top_position()

    def make_expert(self) -> Expert:
        return _ButtonExpert()


class _ButtonExpert(_ApproachThenAct):
    def start_point(self, scene, init):
        top = scene.button.top_position()
        return np.array([top[0], top[1], top[2] + 0.02])

    def manipulate(self, scene, init):
        # Press to 1 mm above the end of travel and hold it there: success is also judged at the final step.
        b = scene.button
        top_up = b.top_position() + np.array([0.0, 0.0, b.state()])
        target = np.array([top_up[0], top_up[1], top_up[2] - b.geom.travel + 0.001])
        tcp, _ = scene.arm.tcp_pose()
        return np.r_[np.clip((target - tcp) / scene.cfg.arm.max_step, -EXPERT_SPEED, EXPERT_SPEED), 1.0]


# ---------------------------------------------------------------- registry
def _make_task(description: TaskDescription) -> Task:
    """The task class instance that carries out ``description`` (the catalogue lists the tasks)."""
    d = description
    if d.object == "drawer":
        return DrawerTask(d.change == "open")
    if d.object == "cabinet_door":
        return CabinetDoorTask(d.change == "open")
    if d.object == "faucet" and d.direction is not None:
        return FaucetTask(d.direction)
    if d.object == "button":
        return ButtonTask()
    if d.change == "move" and d.direction is not None:
        return MoveMugTask(d.object, d.direction)
    raise ValueError(f"no desk task class carries out {d}")  # pragma: no cover - a catalogue entry without a class


#: task name → task, in the catalogue's order
DESK_TASKS: dict[str, Task] = {name: _make_task(d) for name, d in DESK_TASK_DESCRIPTIONS.items()}


def get_task(name: str) -> Task:
    """The desk task called ``name``; unknown names raise a ValueError listing the valid ones."""
    check_desk_task(name)
    return DESK_TASKS[name]
