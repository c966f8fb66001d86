"""Articulated furniture and room structure, built from primitives.

These are the parts that the desk scene uses and that the multi-room homes reuse
(the desk is the kitchen counter of a home). Every piece faces the robot along
−x in its own frame; place it with a world position and yaw.

Joint conventions (the value each ``state()`` reports):
    Drawer: opening in metres, 0 = closed, grows as the drawer slides out toward −x.
    Door (cabinet or room door): opening angle in radians, 0 = closed.
    Faucet: lever angle in radians about +z, 0 = lever pointing at −x, positive = counter-clockwise
        seen from above.
    Button: depression in metres, 0 = up; a spring returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p

from sim.dimensions import BUTTON_TRAVEL, CABINET_DOOR_MAX_ANGLE, DRAWER_TRAVEL, FAUCET_MAX_ANGLE, ROOM_DOOR_MAX_ANGLE
from sim.primitives import Body, BodySpec, Link, box, build_body, cylinder

WOOD = (0.62, 0.45, 0.30, 1.0)
DARK_WOOD = (0.42, 0.30, 0.20, 1.0)
METAL = (0.72, 0.74, 0.78, 1.0)
WHITE_PAINT = (0.88, 0.87, 0.84, 1.0)
RED = (0.85, 0.15, 0.12, 1.0)


def _yaw(yaw: float) -> tuple[float, float, float, float]:
    return tuple(p.getQuaternionFromEuler((0.0, 0.0, yaw)))


class Articulated:
    """A built piece of furniture with one main joint whose value is the piece's state."""

    joint_link: str = ""

    def __init__(self, body: Body, client: int):
        self.body = body
        self.client = client
        self.uid = body.uid
        self.joint = body.joint(self.joint_link)
        self.limits = body.joint_limits[self.joint_link]

    def state(self) -> float:
        """The joint value (m or rad, see the module docstring)."""
        return float(p.getJointState(self.uid, self.joint, physicsClientId=self.client)[0])

    def set_state(self, value: float) -> None:
        """Teleport the joint to ``value`` (clipped to its limits), at rest."""
        v = float(np.clip(value, *self.limits))
        p.resetJointState(self.uid, self.joint, v, 0.0, physicsClientId=self.client)

    def link_world_position(self, link: str, local: tuple[float, float, float] = (0, 0, 0)) -> np.ndarray:
        """World position (3,) of a point given in a link's frame."""
        # Forward kinematics on request: link poses are otherwise cached from the last physics step.
        st = p.getLinkState(self.uid, self.body.joint(link), computeForwardKinematics=1, physicsClientId=self.client)
        return np.array(p.multiplyTransforms(st[4], st[5], local, (0, 0, 0, 1))[0])

    def max_stable_damping(self, timestep: float) -> float:
        """Largest joint damping that stays stable at ``timestep`` seconds.

        PyBullet applies joint damping explicitly: above about inertia / (2 · timestep) one step
        overshoots and the joint oscillates or explodes (LOReL's MuJoCo faucet damping of 2 would
        fling a 0.4 kg lever at 100 rad/s here). Joint friction, applied through an implicit motor
        constraint, has no such limit and is what holds furniture in place.
        """
        mass, _, inertia = p.getDynamicsInfo(self.uid, self.joint, physicsClientId=self.client)[:3]
        info = p.getJointInfo(self.uid, self.joint, physicsClientId=self.client)
        effective = mass if info[2] == p.JOINT_PRISMATIC else float(np.dot(np.abs(info[13]), inertia))
        return effective / (2.0 * timestep)

    def set_damping(self, damping: float, friction: float, timestep: float | None = None) -> None:
        """Joint damping (viscous) and friction (zero-velocity motor force cap).

        With ``timestep`` given, damping that would be numerically unstable raises ValueError.
        """
        if timestep is not None and damping > self.max_stable_damping(timestep):
            raise ValueError(
                f"{self.body.name} joint damping {damping:.3g} is unstable at timestep {timestep:.4g} s (limit "
                f"{self.max_stable_damping(timestep):.3g}); lower its dynamics.*_damping (or randomization."
                f"damping_scale) or physics.timestep, and use *_friction for resistance"
            )
        p.changeDynamics(self.uid, self.joint, jointDamping=damping, physicsClientId=self.client)
        p.setJointMotorControl2(
            self.uid, self.joint, p.VELOCITY_CONTROL, targetVelocity=0.0, force=friction, physicsClientId=self.client
        )


# --------------------------------------------------------------------- drawer
@dataclass(frozen=True)
class DrawerGeometry:
    half_depth: float = 0.12  # carcass half size along x (m)
    half_width: float = 0.12
    height: float = 0.14
    travel: float = DRAWER_TRAVEL  # drawer slides out at most this far (m), as LOReL's
    handle_offset: float = 0.06  # handle bar stands this far in front of the drawer face (m)
    handle_half_width: float = 0.05
    handle_height: float = 0.045  # handle above the drawer's mid-height (m): near the top edge, so a hand
    # hooking it with its fingertips stays above the counter


class Drawer(Articulated):
    """A counter block with one drawer that slides out toward −x; its handle is a bar to hook or push."""

    joint_link = "drawer"

    @staticmethod
    def spec(
        geom: DrawerGeometry, damping: float, friction: float, carcass_rgba=WOOD, front_rgba=DARK_WOOD
    ) -> BodySpec:
        g = geom
        hz = g.height / 2
        carcass = (box((g.half_depth, g.half_width, hz), (0, 0, hz), carcass_rgba),)
        # The drawer link frame is on the carcass front face, at mid-height.
        inner_hd = g.half_depth - 0.01
        shapes = (
            box((inner_hd, g.half_width - 0.015, hz - 0.02), (inner_hd, 0, 0), front_rgba, collide=True),
            box((0.008, g.half_width - 0.005, hz - 0.008), (-0.008, 0, 0), front_rgba),
            box((0.008, g.handle_half_width, 0.008), (-g.handle_offset, 0, g.handle_height), METAL),
            box(
                (g.handle_offset / 2, 0.006, 0.006),
                (-g.handle_offset / 2, g.handle_half_width - 0.006, g.handle_height),
                METAL,
            ),
            box(
                (g.handle_offset / 2, 0.006, 0.006),
                (-g.handle_offset / 2, -g.handle_half_width + 0.006, g.handle_height),
                METAL,
            ),
        )
        link = Link(
            "drawer",
            "base",
            "prismatic",
            (-g.half_depth, 0, hz),
            shapes,
            axis=(-1, 0, 0),
            limits=(0.0, g.travel),
            mass=1.0,
            damping=damping,
            friction=friction,
        )
        return BodySpec("drawer", carcass, 0.0, [link], semantic="counter")

    def __init__(
        self,
        client: int,
        pos: tuple[float, float, float],
        yaw: float,
        damping: float,
        friction: float,
        geom: DrawerGeometry = DrawerGeometry(),
    ):
        self.geom = geom
        super().__init__(build_body(self.spec(geom, damping, friction), client, pos, _yaw(yaw)), client)

    def handle_position(self) -> np.ndarray:
        """World position (3,) of the handle bar's centre."""
        return self.link_world_position("drawer", (-self.geom.handle_offset, 0, self.geom.handle_height))

    def face_position(self, lateral: float = 0.0, height: float = 0.0) -> np.ndarray:
        """World point (3,) on the drawer's front face, ``lateral`` m along its width, ``height`` m above mid."""
        return self.link_world_position("drawer", (-0.016, lateral, height))


# ----------------------------------------------------------------------- door
@dataclass(frozen=True)
class DoorGeometry:
    width: float = 0.22  # m, hinge to free edge
    height: float = 0.13  # a low sideboard door: the hand clears its top while the fingers hold the handle
    thickness: float = 0.012
    max_angle: float = CABINET_DOOR_MAX_ANGLE  # rad
    handle_along: float = 0.16  # handle centre distance from the hinge (m)
    handle_half_length: float = 0.04  # the handle is a horizontal bar, hooked from above like the drawer's
    handle_offset: float = 0.06  # handle bar distance in front of the door (m)
    handle_height: float = 0.04  # handle above the door's mid-height (m), so a hooking hand clears the top


class Door(Articulated):
    """A hinged door on a vertical axis at its right edge (seen from the robot); it opens toward −x.

    Used as a cabinet door (with its carcass) and, without the carcass, as a room door.
    """

    joint_link = "door"

    @staticmethod
    def spec(
        geom: DoorGeometry,
        damping: float,
        friction: float,
        carcass_half: tuple[float, float, float] | None,
        panel_rgba=WHITE_PAINT,
        carcass_rgba=WOOD,
        semantic: str = "cabinet",
    ) -> BodySpec:
        g = geom
        if carcass_half is not None:
            hx, hy, hz = carcass_half
            base_shapes: tuple = (box((hx, hy, hz), (hx + g.thickness, 0, hz), carcass_rgba),)
            hinge = (g.thickness / 2, hy, 0.01 + g.height / 2)
        else:
            base_shapes = (box((0.01, 0.01, g.height / 2), (0, g.width / 2 + 0.01, g.height / 2), METAL),)
            hinge = (0.0, g.width / 2, g.height / 2)
        w, a, l = g.width, g.handle_along, g.handle_half_length
        shapes = (
            box((g.thickness / 2, w / 2, g.height / 2), (0, -w / 2, 0), panel_rgba),
            box((0.007, l, 0.007), (-g.handle_offset, -a, g.handle_height), METAL),
            box((g.handle_offset / 2, 0.005, 0.005), (-g.handle_offset / 2, -a + l - 0.005, g.handle_height), METAL),
            box((g.handle_offset / 2, 0.005, 0.005), (-g.handle_offset / 2, -a - l + 0.005, g.handle_height), METAL),
        )
        link = Link(
            "door",
            "base",
            "revolute",
            hinge,
            shapes,
            axis=(0, 0, -1),
            limits=(0.0, g.max_angle),
            mass=0.8,
            damping=damping,
            friction=friction,
            semantic=f"{semantic}_door",
        )
        return BodySpec(semantic, base_shapes, 0.0, [link], semantic=semantic)

    def __init__(
        self,
        client: int,
        pos: tuple[float, float, float],
        yaw: float,
        damping: float,
        friction: float,
        geom: DoorGeometry = DoorGeometry(),
        carcass_half: tuple[float, float, float] | None = (0.11, 0.12, 0.075),
        semantic: str = "cabinet",
    ):
        self.geom = geom
        super().__init__(
            build_body(self.spec(geom, damping, friction, carcass_half, semantic=semantic), client, pos, _yaw(yaw)),
            client,
        )

    def hinge_position(self) -> np.ndarray:
        """World position (3,) of the hinge axis at the door's mid-height."""
        return self.link_world_position("door")

    def handle_position(self) -> np.ndarray:
        """World position (3,) of the handle bar's centre."""
        return self.point_on_door(self.geom.handle_along, self.geom.handle_offset, self.geom.handle_height)

    def point_on_door(self, along: float, out: float, height: float = 0.0) -> np.ndarray:
        """World point ``along`` m from the hinge across the door, ``out`` m in front of its face and
        ``height`` m above its mid-height."""
        return self.link_world_position("door", (-out, -along, height))


# --------------------------------------------------------------------- faucet
@dataclass(frozen=True)
class FaucetGeometry:
    column_height: float = 0.10  # lever pivot height above the base (m)
    # The lever is a paddle, long and tall enough that a turn by LOReL's π/10 threshold changes 7-19
    # pixels of the 64 × 64 default view (an 8 cm bar changed 0-5, too few for a pixel reward to judge;
    # benchmarks/task_visibility.py). Its sweep clears the mugs: it starts above their rims and its tip
    # stays behind the mug region at the default faucet position.
    lever_length: float = 0.12  # pivot to tip (m)
    lever_half_height: float = 0.02  # half the paddle's height (m)
    lever_half_width: float = 0.01  # half the paddle's thickness (m)
    max_angle: float = FAUCET_MAX_ANGLE  # rad each way, as LOReL's faucet


class Faucet(Articulated):
    """A faucet column with a lever that turns about the vertical axis."""

    joint_link = "lever"

    @staticmethod
    def spec(geom: FaucetGeometry, damping: float, friction: float) -> BodySpec:
        g = geom
        base = (
            cylinder(0.03, g.column_height, (0, 0, g.column_height / 2), METAL),
            box((0.06, 0.012, 0.012), (0.0, 0.0, g.column_height + 0.05), METAL, _yaw(np.pi / 2), collide=False),
            box((0.05, 0.05, 0.004), (0, 0, 0.004), METAL),
        )
        lever = (
            cylinder(0.02, 0.02, (0, 0, 0), RED),
            box((g.lever_length / 2, g.lever_half_width, g.lever_half_height), (-g.lever_length / 2, 0, 0), RED),
        )
        link = Link(
            "lever",
            "base",
            "revolute",
            (0, 0, g.column_height + 0.01),
            lever,
            axis=(0, 0, 1),
            limits=(-g.max_angle, g.max_angle),
            mass=0.4,
            damping=damping,
            friction=friction,
            semantic="faucet_lever",
        )
        return BodySpec("faucet", base, 0.0, [link], semantic="faucet")

    def __init__(
        self,
        client: int,
        pos: tuple[float, float, float],
        yaw: float,
        damping: float,
        friction: float,
        geom: FaucetGeometry = FaucetGeometry(),
    ):
        self.geom = geom
        super().__init__(build_body(self.spec(geom, damping, friction), client, pos, _yaw(yaw)), client)

    def pivot_position(self) -> np.ndarray:
        return self.link_world_position("lever")

    def tip_position(self, fraction: float = 1.0) -> np.ndarray:
        """World position (3,) of a point ``fraction`` of the way from pivot to lever tip."""
        return self.link_world_position("lever", (-self.geom.lever_length * fraction, 0, 0))


# --------------------------------------------------------------------- button
@dataclass(frozen=True)
class ButtonGeometry:
    travel: float = BUTTON_TRAVEL  # m
    cap_radius: float = 0.022
    housing_half: float = 0.04
    housing_height: float = 0.03


class Button(Articulated):
    """A spring-returned push button on a housing; pressing moves the cap down."""

    joint_link = "cap"

    @staticmethod
    def spec(geom: ButtonGeometry, damping: float) -> BodySpec:
        g = geom
        housing = (
            box(
                (g.housing_half, g.housing_half, g.housing_height / 2),
                (0, 0, g.housing_height / 2),
                (0.2, 0.2, 0.22, 1.0),
            ),
        )
        cap = (cylinder(g.cap_radius, 0.024, (0, 0, 0), RED),)
        # Cap centre sits so that 1.2 cm of it protrudes above the housing when up.
        link = Link(
            "cap",
            "base",
            "prismatic",
            (0, 0, g.housing_height),
            cap,
            axis=(0, 0, -1),
            limits=(0.0, g.travel),
            mass=0.05,
            damping=damping,
            semantic="button",
        )
        return BodySpec("button", housing, 0.0, [link], semantic="button_housing")

    def __init__(
        self,
        client: int,
        pos: tuple[float, float, float],
        yaw: float,
        stiffness: float,
        force: float,
        geom: ButtonGeometry = ButtonGeometry(),
    ):
        self.geom = geom
        super().__init__(build_body(self.spec(geom, 0.5), client, pos, _yaw(yaw)), client)
        self.set_spring(stiffness, force)

    def set_spring(self, stiffness: float, force: float) -> None:
        """The return spring: a position motor toward "up" with a capped force (N)."""
        self.stiffness, self.force = stiffness, force
        p.setJointMotorControl2(
            self.uid,
            self.joint,
            p.POSITION_CONTROL,
            targetPosition=0.0,
            positionGain=stiffness,
            force=force,
            physicsClientId=self.client,
        )

    def top_position(self) -> np.ndarray:
        return self.link_world_position("cap", (0, 0, 0.012))


# -------------------------------------------------------------- room pieces
def table_spec(
    half_size: tuple[float, float], height: float, top_rgba=WOOD, leg_rgba=DARK_WOOD, name: str = "desk"
) -> BodySpec:
    """A table: top slab at ``height`` (m) on four legs; its base frame is on the floor at its centre."""
    hx, hy = half_size
    t = 0.025
    shapes = [box((hx, hy, t), (0, 0, height - t), top_rgba)]
    for sx in (-1, 1):
        for sy in (-1, 1):
            shapes.append(
                box(
                    (0.025, 0.025, (height - 2 * t) / 2),
                    (sx * (hx - 0.05), sy * (hy - 0.05), (height - 2 * t) / 2),
                    leg_rgba,
                )
            )
    return BodySpec(name, tuple(shapes), 0.0, semantic=name)


def floor_spec(half_size: tuple[float, float], rgba=(0.55, 0.55, 0.52, 1.0)) -> BodySpec:
    """A floor slab whose top face is at z = 0."""
    return BodySpec("floor", (box((half_size[0], half_size[1], 0.01), (0, 0, -0.01), rgba),), 0.0, semantic="floor")


def wall_spec(
    length: float, height: float, thickness: float = 0.05, rgba=(0.80, 0.78, 0.72, 1.0), visible: bool = True
) -> BodySpec:
    """A wall along the local y axis, standing on the floor, centred at its base frame.

    ``visible=False`` keeps it a collider only (TinyRenderer skips fully transparent shapes).
    """
    colour = rgba if visible else (rgba[0], rgba[1], rgba[2], 0.0)
    return BodySpec(
        "wall", (box((thickness / 2, length / 2, height / 2), (0, 0, height / 2), colour),), 0.0, semantic="wall"
    )


# ------------------------------------------------------------------ room door
@dataclass(frozen=True)
class RoomDoorGeometry:
    width: float = 0.88  # m: panel width, hinge to free edge (the doorway is a little wider)
    height: float = 2.0  # m
    thickness: float = 0.04  # m
    max_angle: float = ROOM_DOOR_MAX_ANGLE  # rad each way it may swing
    handle_along: float = 0.78  # m from the hinge
    handle_height: float = 0.95  # m above the floor, as a real door's
    handle_offset: float = 0.06  # m: the bars stand this far off each face
    handle_half_length: float = 0.06  # m


class RoomDoor(Articulated):
    """A room door: a panel hinged on a vertical axis at one side of the doorway, with a handle bar on
    each face. At yaw 0 the closed panel spans from the hinge toward −y; a positive angle swings it
    toward −x. ``limits`` says which ways it may swing (both for a double-acting door)."""

    joint_link = "door"

    @staticmethod
    def spec(
        geom: RoomDoorGeometry, limits: tuple[float, float], damping: float, friction: float, panel_rgba=WOOD
    ) -> BodySpec:
        g = geom
        hz = g.height / 2
        # A visual-only post marks the hinge; the door's frame is the wall's doorway.
        base = (box((0.02, 0.02, hz), (0, 0.02, hz), METAL, collide=False),)
        shapes = [box((g.thickness / 2, g.width / 2, hz - 0.005), (0, -g.width / 2, 0), panel_rgba)]
        for side in (-1.0, 1.0):  # a bar on each face, as on a double-acting door
            x = side * (g.handle_offset + g.thickness / 2)
            shapes.append(box((0.012, g.handle_half_length, 0.012), (x, -g.handle_along, g.handle_height - hz), METAL))
            shapes.append(
                box(
                    (g.handle_offset / 2, 0.008, 0.008),
                    (x / 2 + side * g.thickness / 4, -g.handle_along, g.handle_height - hz),
                    METAL,
                )
            )
        link = Link(
            "door",
            "base",
            "revolute",
            (0, 0, hz),
            tuple(shapes),
            axis=(0, 0, -1),
            limits=limits,
            mass=8.0,
            damping=damping,
            friction=friction,
            semantic="door",
        )
        return BodySpec("room_door", base, 0.0, [link], semantic="door_frame")

    def __init__(
        self,
        client: int,
        hinge: tuple[float, float],
        yaw: float,
        limits: tuple[float, float],
        damping: float,
        friction: float,
        geom: RoomDoorGeometry = RoomDoorGeometry(),
    ):
        self.geom = geom
        super().__init__(
            build_body(self.spec(geom, limits, damping, friction), client, (hinge[0], hinge[1], 0.0), _yaw(yaw)), client
        )

    def handle_position(self, side: float = 1.0) -> np.ndarray:
        """World position (3,) of the handle bar on the +x (side=1) or −x (side=−1) face, in the door frame."""
        g = self.geom
        return self.link_world_position(
            "door", (side * (g.handle_offset + g.thickness / 2), -g.handle_along, g.handle_height - g.height / 2)
        )
