"""A home scene: the floor plan's walls, floors, doors and furniture, movable clutter and a mobile robot.

The scene is built fresh for every episode (as the desk scene is): a fresh PyBullet world has no
cached contacts, so the same seed gives the same episode in any process. Build order is draw order
in TinyRenderer, which depth-tests before shading: the robot, clutter and furniture (nearest the
head camera) come first and the floor last, so hidden floor pixels cost little.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pybullet as p

from sim.config import DeskLayout, FurnitureDynamics
from sim.furniture import Button, Door, Drawer, Faucet, RoomDoor, RoomDoorGeometry, table_spec
from sim.home_config import HomeEnvConfig
from sim.homes.floorplan import DoorSpec, FloorPlan, FurnitureSpec, Room
from sim.homes.furnishings import CATALOG, CLUTTER, UNMOVABLE, ClutterKind
from sim.homes.geometry import door_hinge_end, wall_boxes
from sim.observations import lookup_segmentation, segmentation_table
from sim.primitives import Body, BodySpec, box, build_body, chunked_static_bodies, quad
from sim.robots.mobile import DiffDriveBase, MobileManipulator, wrap_angle
from sim.state import read_bodies, write_bodies

WALL = (0.80, 0.78, 0.72, 1.0)
FLOOR_COLORS = {
    "kitchen": (0.70, 0.70, 0.66, 1.0),
    "living_room": (0.55, 0.42, 0.30, 1.0),
    "bedroom": (0.60, 0.50, 0.38, 1.0),
    "bathroom": (0.78, 0.80, 0.82, 1.0),
    "corridor": (0.50, 0.48, 0.45, 1.0),
}
ROOM_DOOR_DAMPING = 0.5  # N·m·s/rad: stable for an 8 kg panel at the home's timestep
ROOM_DOOR_FRICTION = 3.0  # N·m: a door stays where it is left, and a base pushes it open easily
CLEARANCE_Z = 0.001  # m: free objects are placed this far above the floor and settle
# m between the panel's hinge-side face and the wall end (and its free edge and the other wall end). The
# panel turns about its own centre line, so its hinge-side corners sweep a circle of half the panel's
# thickness: any gap smaller than that jams the door against the wall at asin(gap / half thickness).
DOOR_GAP = 0.01
FACE_OFFSET = 0.005  # m the drawn wall faces stand off the collision walls' surfaces (no z-fighting)
HANDLE_FROM_EDGE = 0.12  # m from the panel's free edge to its handle bars
VIEW_MARGIN = 0.15  # rad added to the camera's half field of view when deciding what a doorway shows
DOORWAY_ALWAYS_SEEN = 0.6  # m: within this of a doorway the rooms on both sides are drawn, whatever the heading


@dataclass(frozen=True)
class ClutterSpec:
    """One free object of an episode: catalogue kind (or ``unmovable``), pose on the floor and mass."""

    kind: str
    xy: tuple[float, float]
    yaw: float
    mass: float


@dataclass
class EpisodeLayout:
    """What varies per episode on top of the floor plan: door openings and the free objects."""

    door_angles: list[float] = field(default_factory=list)
    clutter: list[ClutterSpec] = field(default_factory=list)


def clutter_kind(kind: str) -> ClutterKind:
    return UNMOVABLE if kind == "unmovable" else CLUTTER[kind]


def _rotate(xy: np.ndarray, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([c * xy[0] - s * xy[1], s * xy[0] + c * xy[1]])


def _inner_faces(plan: FloorPlan, room: Room) -> list[tuple[tuple[float, float, float], tuple[float, float], tuple]]:
    """The drawn faces of ``room``'s walls: (centre, quad half sizes, orientation) of quads on the inner
    wall surfaces, facing into the room, with the doorways on each edge left open."""
    t, h = plan.wall_thickness, plan.wall_height
    faces: list[tuple[tuple[float, float, float], tuple[float, float], tuple]] = []
    for axis in (0, 1):  # axis 0: the west/east edges (walls along y); axis 1: the south/north edges
        other = 1 - axis
        for side, coord in ((-1, room.min[axis]), (1, room.max[axis])):
            face = coord - side * (t / 2 + FACE_OFFSET)
            lo, hi = room.min[other] - t / 2, room.max[other] + t / 2
            gaps = sorted(
                (d.center[other] - d.width / 2, d.center[other] + d.width / 2)
                for d in plan.doors
                if room.name in d.rooms and abs(d.center[axis] - coord) < 1e-3
            )
            cuts, start = [], lo
            for g0, g1 in gaps:
                cuts.append((start, g0))
                start = g1
            cuts.append((start, hi))
            for a, b in cuts:
                if b - a < 0.01:
                    continue
                centre = [0.0, 0.0, h / 2]
                centre[axis], centre[other] = face, (a + b) / 2
                # The quad's normal (local +z) turned to point into the room: about y for walls along y,
                # about x for walls along x; its local axes then span the wall's length and height.
                if axis == 0:
                    orn = p.getQuaternionFromEuler((0, -side * np.pi / 2, 0))
                    half = (h / 2, (b - a) / 2)
                else:
                    orn = p.getQuaternionFromEuler((side * np.pi / 2, 0, 0))
                    half = ((b - a) / 2, h / 2)
                faces.append(((centre[0], centre[1], centre[2]), half, tuple(orn)))
    return faces


class Counter:
    """The kitchen counter: the desk scene's desk with its drawer, cabinet, faucet and button, placed by
    the desk layout relative to the desk's centre and turned by the piece's yaw."""

    def __init__(
        self,
        client: int,
        spec: FurnitureSpec,
        layout: DeskLayout | None = None,
        dyn: FurnitureDynamics | None = None,
    ):
        layout = layout if layout is not None else DeskLayout()
        dyn = dyn if dyn is not None else FurnitureDynamics()
        H, yaw, centre = layout.desk_height, spec.yaw, np.asarray(spec.pos, float)
        desk_c = np.asarray(layout.desk_center, float)

        def at(xy) -> tuple[float, float, float]:
            w = centre + _rotate(np.asarray(xy, float) - desk_c, yaw)
            return (float(w[0]), float(w[1]), H)

        self.height = H
        self.faucet = Faucet(client, at(layout.faucet_center), yaw, dyn.faucet_damping, dyn.faucet_friction)
        self.button = Button(client, at(layout.button_center), yaw, dyn.button_stiffness, dyn.button_force)
        self.drawer = Drawer(client, at(layout.drawer_center), yaw, dyn.drawer_damping, dyn.drawer_friction)
        cab = np.asarray(layout.cabinet_center, float) - np.array([0.11 + 0.012, 0.0])
        self.cabinet = Door(client, at(cab), yaw, dyn.door_damping, dyn.door_friction)
        self.desk = build_body(
            table_spec(layout.desk_half_size, H, name="counter"),
            client,
            (float(centre[0]), float(centre[1]), 0.0),
            tuple(p.getQuaternionFromEuler((0, 0, yaw))),
        )
        self.bodies: list[Body] = [self.desk, self.drawer.body, self.cabinet.body, self.faucet.body, self.button.body]

    def restore_controllers(self) -> None:
        self.button.set_spring(self.button.stiffness, self.button.force)


class HomeScene:
    """Builds and owns every body of one home episode in one PyBullet client."""

    def __init__(self, client: int, cfg: HomeEnvConfig, plan: FloorPlan, layout: EpisodeLayout):
        self.client, self.cfg, self.plan, self.layout = client, cfg, plan, layout
        ph = cfg.physics
        p.setGravity(0, 0, ph.gravity, physicsClientId=client)
        # Warm starting off: positions and velocities are then the whole state (exact restore).
        p.setPhysicsEngineParameter(
            fixedTimeStep=ph.timestep,
            numSolverIterations=ph.solver_iterations,
            warmStartingFactor=0.0,
            deterministicOverlappingPairs=1,
            physicsClientId=client,
        )
        self.named: list[Body] = []  # every body with its segmentation names, in build order
        if cfg.robot == "manipulator":
            self.robot: DiffDriveBase = MobileManipulator(client, cfg.base, cfg.manipulator)
        else:
            self.robot = DiffDriveBase(client, cfg.base)
        self.named.append(self.robot.body)
        self.clutter: list[Body] = []
        self.clutter_mass: list[float] = []
        for i, c in enumerate(layout.clutter):
            kind = clutter_kind(c.kind)
            spec = BodySpec(
                f"{c.kind}_{i}",
                (box(kind.half_extents, (0, 0, kind.half_extents[2]), kind.rgba),),
                c.mass,
                semantic="obstacle" if c.kind == "unmovable" else "clutter",
            )
            b = build_body(
                spec, client, (c.xy[0], c.xy[1], CLEARANCE_Z), tuple(p.getQuaternionFromEuler((0, 0, c.yaw)))
            )
            # Heavy obstacles grip the floor: with the base's push force capped they cannot be moved.
            p.changeDynamics(
                b.uid,
                -1,
                lateralFriction=0.6 if c.kind != "unmovable" else 1.0,
                spinningFriction=0.01,
                physicsClientId=client,
            )
            self.clutter.append(b)
            self.clutter_mass.append(c.mass)
        self.named += self.clutter
        self.counters: list[Counter] = []
        self._room_furniture: dict[str, list[Body]] = {r.name: [] for r in plan.rooms}
        for f in plan.furniture:
            make_spec = CATALOG[f.kind].spec
            if make_spec is None:
                counter = Counter(client, f)
                self.counters.append(counter)
                self.named += counter.bodies
                self._room_furniture[f.room] += counter.bodies
            else:
                b = build_body(
                    make_spec(),
                    client,
                    (f.pos[0], f.pos[1], 0.0),
                    tuple(p.getQuaternionFromEuler((0, 0, f.yaw))),
                )
                self.named.append(b)
                self._room_furniture[f.room].append(b)
        self.doors: list[RoomDoor] = [self._build_door(d) for d in plan.doors]
        self.named += [d.body for d in self.doors]
        for d, angle in zip(self.doors, layout.door_angles or [d.angle for d in plan.doors]):
            d.set_state(angle)
        h, t = plan.wall_height, plan.wall_thickness
        # Walls collide as boxes centred on the room edges, but are drawn as each room's inner faces, so
        # that the head camera can draw only the rooms it may see (``update_visibility``): TinyRenderer
        # pays for every wall layer in view, hidden or not, and skips fully transparent shapes.
        invisible = (*WALL[:3], 0.0)
        self.walls = chunked_static_bodies(
            "wall",
            [
                box((w.half_extents[0], w.half_extents[1], h / 2), (w.center[0], w.center[1], h / 2), invisible)
                for w in wall_boxes(plan)
            ],
            client,
        )
        self.room_visuals: dict[str, list[Body]] = {}
        for r in plan.rooms:
            floor = (r.size[0] / 2 + t / 2, r.size[1] / 2 + t / 2)
            # The floor collides as a slab but is drawn as its top quad (as the walls' faces are quads).
            shapes = [
                box((*floor, 0.01), (r.center[0], r.center[1], -0.01), (*FLOOR_COLORS.get(r.type, WALL)[:3], 0.0)),
                quad(floor, (r.center[0], r.center[1], 0.0), FLOOR_COLORS.get(r.type, WALL)),
            ]
            shapes += [quad(half, centre, WALL, orn) for centre, half, orn in _inner_faces(plan, r)]
            self.room_visuals[r.name] = chunked_static_bodies("wall", shapes, client)
        self.named += self.walls + [b for bs in self.room_visuals.values() for b in bs]
        self._groups = self._visibility_groups()
        self.visible_rooms: frozenset[str] | None = None  # None: every room drawn
        self.bodies = [b.uid for b in self.named]
        self._build_segmentation_lookup()

    @property
    def manipulator(self) -> MobileManipulator:
        """The robot as the mobile manipulator, for what needs its arm (``robot=manipulator``)."""
        if not isinstance(self.robot, MobileManipulator):
            raise TypeError(f"this home's robot is a {type(self.robot).__name__} without an arm; set robot=manipulator")
        return self.robot

    def _build_door(self, d: DoorSpec) -> RoomDoor:
        """A room door in its doorway: hinge at one end of the opening, swing limits from ``swing``."""
        plan = self.plan
        axis = plan.door_axis(d)
        inset = RoomDoorGeometry.thickness / 2 + DOOR_GAP  # hinge axis to the wall end: the corners clear it
        panel = d.width - 2 * inset
        geom = RoomDoorGeometry(width=panel, handle_along=panel - HANDLE_FROM_EDGE)
        end, along = door_hinge_end(plan, d)
        hinge_xy = end + inset * along  # (2,)
        hinge = (float(hinge_xy[0]), float(hinge_xy[1]))
        cx, cy = d.center
        if axis == "y":  # wall along y: the closed panel spans −y from the hinge; +angle opens toward −x
            yaw = 0.0
            a_is_negative_side = plan.room(d.rooms[0]).center[0] < cx
        else:  # wall along x: yaw π/2 turns the panel along x; +angle opens toward −y
            yaw = np.pi / 2
            a_is_negative_side = plan.room(d.rooms[0]).center[1] < cy
        m = geom.max_angle
        if d.swing == "both":
            limits = (-m, m)
        else:
            into_negative = (d.swing == "a") == a_is_negative_side
            limits = (0.0, m) if into_negative else (-m, 0.0)
        return RoomDoor(self.client, hinge, yaw, limits, ROOM_DOOR_DAMPING, ROOM_DOOR_FRICTION, geom)

    # ------------------------------------------------------------- visibility
    def _visibility_groups(self) -> dict[str, list[tuple[int, int, int, tuple]]]:
        """Per room, every drawn shape (body, link, shape index, colour) of its faces, floor and furniture."""
        groups = {}
        for name in self.room_visuals:
            entries = []
            for b in self.room_visuals[name] + self._room_furniture[name]:
                for link, colours in b.rgba_by_link.items():
                    entries += [(b.uid, link, i, c) for i, c in enumerate(colours) if c[3] > 0]
            groups[name] = entries
        return groups

    def rooms_seen_from(
        self, xy: Sequence[float] | np.ndarray, heading: float | None = None, half_fov: float | None = None
    ) -> frozenset[str]:
        """The rooms the head camera may see from ``xy``: the room(s) it is in and their door neighbours.

        With ``heading`` and ``half_fov`` (rad, horizontal), a neighbour counts only when its doorway lies
        at least partly inside the camera's horizontal field of view (or the eye stands in the doorway).
        """
        here = {r.name for r in self.plan.rooms if r.contains(xy, margin=-self.plan.wall_thickness)}
        seen = set(here)
        for d in self.plan.doors:
            if here & set(d.rooms) and (heading is None or self._doorway_in_view(d, xy, heading, half_fov)):
                seen |= set(d.rooms)
        return frozenset(seen or {r.name for r in self.plan.rooms})

    def _doorway_in_view(
        self, door: DoorSpec, xy: Sequence[float] | np.ndarray, heading: float, half_fov: float | None
    ) -> bool:
        """Whether the doorway's opening overlaps the horizontal view wedge from ``xy`` (with a margin)."""
        end, along = door_hinge_end(self.plan, door)
        a, b = end, end + door.width * along
        eye = np.asarray(xy, float)[:2]
        if float(np.min(np.linalg.norm(np.stack([a, b, (a + b) / 2]) - eye, axis=1))) < DOORWAY_ALWAYS_SEEN:
            return True
        rel = [wrap_angle(float(np.arctan2(q[1] - eye[1], q[0] - eye[0])) - heading) for q in (a, b)]
        lo, hi = min(rel), max(rel)
        half = (half_fov if half_fov is not None else np.pi) + VIEW_MARGIN
        if hi - lo > np.pi:  # the opening spans the direction straight behind: its angles are >= hi or <= lo
            return hi <= half or lo >= -half
        return hi >= -half and lo <= half

    def update_visibility(
        self, xy: Sequence[float] | np.ndarray | None, heading: float | None = None, half_fov: float | None = None
    ) -> None:
        """Draw only the rooms seen from ``xy`` (``None``: draw every room), with ``heading`` and ``half_fov``
        only the neighbours whose doorway is in view; a no-op while they do not change."""
        want = frozenset(self._groups) if xy is None else self.rooms_seen_from(xy, heading, half_fov)
        current = self.visible_rooms if self.visible_rooms is not None else frozenset(self._groups)
        if want == current and self.visible_rooms is not None:
            return
        for name in self._groups:
            if (name in want) != (name in current) or self.visible_rooms is None:
                alpha = 1.0 if name in want else 0.0
                for uid, link, i, c in self._groups[name]:
                    p.changeVisualShape(uid, link, shapeIndex=i, rgbaColor=(*c[:3], alpha), physicsClientId=self.client)
        self.visible_rooms = want

    # ----------------------------------------------------------- segmentation
    def _build_segmentation_lookup(self) -> None:
        """Instance id per (body, link), a class name per instance (0 = background); pieces of furniture and
        clutter are told apart by their body id (``table#12``), walls and floors are one instance each."""
        self._seg_lut, self._seg_links, self.instance_names, self.instance_classes = segmentation_table(
            self.named, "robot", lambda b, link, name: name if b.name in ("wall", "floor") else f"{name}#{b.uid}"
        )

    def segmentation(self, raw: np.ndarray) -> np.ndarray:
        """PyBullet's raw ids (H, W) → instance ids (H, W) int32; names in ``instance_names``."""
        return lookup_segmentation(raw, self._seg_lut, self._seg_links)

    # ------------------------------------------------------------------ state
    def clutter_positions(self) -> np.ndarray:
        """(N, 3) positions of the free objects (m)."""
        if not self.clutter:
            return np.zeros((0, 3))
        return np.array([p.getBasePositionAndOrientation(b.uid, physicsClientId=self.client)[0] for b in self.clutter])

    def door_angles(self) -> np.ndarray:
        return np.array([d.state() for d in self.doors])

    def get_state(self) -> np.ndarray:
        """One vector: (B, 13) base states and (J, 2) joint states of every body (``sim.state.read_bodies``),
        then the robot's command (and, for the manipulator, its arm and finger targets)."""
        base, joints = read_bodies(self.client, self.bodies)
        r = self.robot
        parts: list[npt.ArrayLike] = [base.ravel(), joints.ravel(), [r.command.linear, r.command.angular]]
        if isinstance(r, MobileManipulator):
            parts += [r.arm_targets, [r.finger_target]]
        return np.concatenate(parts)

    def set_state(self, flat: np.ndarray) -> None:
        """Restore ``get_state`` of a scene built from the same plan and layout."""
        flat = np.asarray(flat, float)
        r = self.robot
        n_base = 13 * len(self.bodies)
        n_joints = 2 * sum(p.getNumJoints(u, physicsClientId=self.client) for u in self.bodies)
        n_robot = 2 + (8 if isinstance(r, MobileManipulator) else 0)
        if len(flat) != n_base + n_joints + n_robot:
            raise ValueError(
                f"state has {len(flat)} values but this scene needs {n_base + n_joints + n_robot}: it "
                f"was saved from another home, layout or robot"
            )
        write_bodies(
            self.client, self.bodies, flat[:n_base].reshape(-1, 13), flat[n_base : n_base + n_joints].reshape(-1, 2)
        )
        k = n_base + n_joints
        r.command.linear, r.command.angular = float(flat[k]), float(flat[k + 1])
        if isinstance(r, MobileManipulator):
            r.arm_targets, r.finger_target = flat[k + 2 : k + 9].copy(), float(flat[k + 9])
            r.apply_arm_command()
        r.apply_command()
        for c in self.counters:
            c.restore_controllers()
        for d in self.doors:  # set_state zeroes motors' targets: re-apply the hinge friction
            d.set_damping(ROOM_DOOR_DAMPING, ROOM_DOOR_FRICTION)

    def step_physics(self, substeps: int) -> None:
        for _ in range(substeps):
            self.robot.apply_command()
            p.stepSimulation(physicsClientId=self.client)

    def close(self) -> None:
        if isinstance(self.robot, MobileManipulator):
            self.robot.close()
