"""The non-robot actors' bodies, built from low-poly primitives, and how each is moved.

Every actor exposes one effector point, its ``tip`` (a fingertip, the stick's end, the suction cup), and follows a
tip target with real kinematics: a floating actor (hand, stick, gripper) is a free body pulled to its target pose by
a force-limited fixed constraint, so furniture and mugs stop it instead of being passed through; an arm actor
(planar arm, human arm) is a fixed-base chain of revolute joints whose torque-limited position motors track the
joint angles of an inverse-kinematics solution (closed-form for the planar arm, PyBullet's for the human arm).
Grasping (``lift_*``) closes the fingers onto the mug and, once they touch it, holds it with a fixed constraint
(PyBullet's friction grasps of a light cylinder are unreliable); the suction cup does the same from above.

World frame as the desk's (``sim.scenes.desk``): +x from the robot's side toward the default camera, +z up.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from sim.primitives import IDENTITY_QUAT, BodySpec, Link, box, build_body, cylinder

Rgb = tuple[float, float, float]

#: skin tones drawn for hands and human arms (rgb, 0-1): light to dark
SKIN_TONES: tuple[Rgb, ...] = (
    (0.96, 0.80, 0.69),
    (0.91, 0.72, 0.58),
    (0.80, 0.60, 0.45),
    (0.66, 0.46, 0.32),
    (0.50, 0.34, 0.23),
    (0.36, 0.24, 0.16),
)
ARM_LINK_MASS = 0.05  # kg per arm link: light, so gravity barely sags the position-controlled joints
AIM_GAIN, AIM_LIMIT = 0.3, 0.03  # integral gain (per control step) and bound (m) of an arm's tracking correction
FLOATING_MASS = 0.4  # kg: light, so the force-limited constraint moves it briskly
TIP_LIFT = 0.005  # m: the tip point sits this far above the lowest point of the effector (as the Panda's tcp)


def _rgba(rgb: Rgb) -> tuple[float, float, float, float]:
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


def random_color(rng: np.random.Generator, saturation: tuple[float, float] = (0.3, 0.9)) -> Rgb:
    """A random colour (rgb in [0, 1]) of random hue, the given saturation range and mid brightness."""
    h, s, v = rng.uniform(), rng.uniform(*saturation), rng.uniform(0.35, 0.95)
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return (float(r), float(g), float(b))


def skin_tone(rng: np.random.Generator) -> Rgb:
    """A skin tone between two neighbouring entries of ``SKIN_TONES`` (rgb)."""
    i = int(rng.integers(len(SKIN_TONES) - 1))
    w = rng.uniform()
    a, b = np.asarray(SKIN_TONES[i]), np.asarray(SKIN_TONES[i + 1])
    return tuple(float(c) for c in (1 - w) * a + w * b)  # type: ignore[return-value]


@dataclass
class ActorLook:
    """The colours of one clip's actor (rgb): skin, sleeve / body, tool / accent."""

    skin: Rgb
    sleeve: Rgb
    tool: Rgb

    @staticmethod
    def sample(rng: np.random.Generator) -> ActorLook:
        return ActorLook(skin_tone(rng), random_color(rng), random_color(rng, (0.5, 1.0)))

    def as_dict(self) -> dict[str, list[float]]:
        return {"skin": list(self.skin), "sleeve": list(self.sleeve), "tool": list(self.tool)}


class Actor:
    """An actor in a PyBullet world: its bodies, its tip and how it follows a tip target."""

    name = ""
    grasps = True

    def __init__(self, client: int) -> None:
        self.client = client
        self.uids: list[int] = []
        self._grasp_cid: int | None = None
        self.grip = 0.0  # 0 = open (fingers splayed), 1 = closed

    # ------------------------------------------------------------------ interface
    def tip(self) -> np.ndarray:
        """World position (3,) of the effector point (m)."""
        raise NotImplementedError

    def command(self, target: np.ndarray, grip: float, t: float) -> None:
        """Follow ``target`` (world tip position, m) with the fingers at ``grip`` (0 open, 1 closed) at time ``t`` (s)."""
        raise NotImplementedError

    def touching(self, uid: int) -> bool:
        """Whether any part of the actor is in contact with body ``uid`` (after the last physics step)."""
        return any(p.getContactPoints(a, uid, physicsClientId=self.client) for a in self.uids)

    # -------------------------------------------------------------------- grasping
    @property
    def holding(self) -> bool:
        return self._grasp_cid is not None

    def grasp_body(self) -> int:
        """The body a grasp attaches to (the hand, the arm's last link's body)."""
        return self.uids[0]

    def grasp_link(self) -> int:
        return -1

    def attach(self, uid: int) -> None:
        """Hold body ``uid`` where it is now relative to the grasping link (a force-limited fixed constraint)."""
        if self._grasp_cid is not None:
            return
        parent, link = self.grasp_body(), self.grasp_link()
        if link == -1:
            ppos, porn = p.getBasePositionAndOrientation(parent, physicsClientId=self.client)
        else:
            st = p.getLinkState(parent, link, computeForwardKinematics=1, physicsClientId=self.client)
            ppos, porn = st[4], st[5]
        cpos, corn = p.getBasePositionAndOrientation(uid, physicsClientId=self.client)
        inv_pos, inv_orn = p.invertTransform(ppos, porn)
        rel_pos, rel_orn = p.multiplyTransforms(inv_pos, inv_orn, cpos, corn)
        self._grasp_cid = p.createConstraint(
            parent,
            link,
            uid,
            -1,
            p.JOINT_FIXED,
            (0, 0, 0),
            rel_pos,
            (0, 0, 0),
            rel_orn,
            IDENTITY_QUAT,
            physicsClientId=self.client,
        )
        p.changeConstraint(self._grasp_cid, maxForce=30.0, physicsClientId=self.client)

    def release(self) -> None:
        if self._grasp_cid is not None:
            p.removeConstraint(self._grasp_cid, physicsClientId=self.client)
            self._grasp_cid = None


# ============================================================================ floating actors
class FloatingActor(Actor):
    """A free body whose pose follows a target through a fixed constraint with a force cap.

    Subclasses give the body (``spec``), the tip in the body frame (``tip_local``), the orientation per clip
    (``orientation``) and the finger joints' targets for a grip (``finger_targets``).
    """

    tip_local: tuple[float, float, float] = (0.0, 0.0, 0.0)
    MAX_YAW = 0.2  # rad of yaw drawn per clip: more and a finger row no longer fits behind a handle

    def __init__(self, client: int, rng: np.random.Generator, look: ActorLook, start: np.ndarray, force: float):
        super().__init__(client)
        self.force = force
        self.yaw = float(rng.uniform(-self.MAX_YAW, self.MAX_YAW))
        self.wobble = float(rng.uniform(0.0, 0.08))  # rad: slow sway of the body while it moves
        self.wobble_phase = rng.uniform(0, 2 * np.pi, 2)
        spec = self.spec(look)
        orn = self.orientation(0.0)
        base = self._base_for(start, orn)
        self.body = build_body(spec, client, base, orn)
        self.uid = self.body.uid
        self.uids = [self.uid]
        self.fingers = list(self.body.movable_joints)
        p.changeDynamics(self.uid, -1, linearDamping=0.5, angularDamping=0.5, physicsClientId=client)
        self.cid = p.createConstraint(
            self.uid, -1, -1, -1, p.JOINT_FIXED, (0, 0, 0), (0, 0, 0), base, IDENTITY_QUAT, orn, physicsClientId=client
        )
        p.changeConstraint(self.cid, maxForce=force, physicsClientId=client)
        self.command(start, 0.0 if self.grasps else 1.0, 0.0)

    def spec(self, look: ActorLook) -> BodySpec:
        raise NotImplementedError

    def base_orientation(self) -> tuple[float, float, float]:
        """(roll, pitch, yaw) of the body for this clip (rad)."""
        return (0.0, 0.0, self.yaw)

    def orientation(self, t: float) -> tuple[float, float, float, float]:
        r, pch, y = self.base_orientation()
        w = self.wobble
        r += w * math.sin(1.3 * t + self.wobble_phase[0])
        pch += w * math.sin(0.9 * t + self.wobble_phase[1])
        return tuple(p.getQuaternionFromEuler((r, pch, y)))

    def _base_for(self, tip: np.ndarray, orn: tuple[float, ...]) -> tuple[float, float, float]:
        offset = p.multiplyTransforms((0, 0, 0), orn, self.tip_local, IDENTITY_QUAT)[0]
        return (float(tip[0] - offset[0]), float(tip[1] - offset[1]), float(tip[2] - offset[2]))

    def tip(self) -> np.ndarray:
        pos, orn = p.getBasePositionAndOrientation(self.uid, physicsClientId=self.client)
        return np.array(p.multiplyTransforms(pos, orn, self.tip_local, IDENTITY_QUAT)[0])

    def finger_targets(self, grip: float) -> list[float]:
        return []

    def command(self, target: np.ndarray, grip: float, t: float) -> None:
        orn = self.orientation(t)
        p.changeConstraint(self.cid, self._base_for(target, orn), orn, maxForce=self.force, physicsClientId=self.client)
        self.grip = grip
        targets = self.finger_targets(grip)
        if self.fingers:
            p.setJointMotorControlArray(
                self.uid,
                self.fingers,
                p.POSITION_CONTROL,
                targetPositions=targets,
                forces=[3.0] * len(self.fingers),
                positionGains=[0.3] * len(self.fingers),
                physicsClientId=self.client,
            )


FINGER_LENGTH = 0.10  # m: long enough that the palm clears a 9 cm mug while the fingertips push it low


class Hand(FloatingActor):
    """A palm with four fingers and a thumb hanging down; open = splayed out, closed = straight down."""

    name = "hand"
    PALM_HALF = (0.035, 0.045, 0.012)
    SPLAY = 0.45  # rad the digits rotate outward when open
    tip_local = (0.0, 0.0, -PALM_HALF[2] - FINGER_LENGTH + TIP_LIFT)

    def spec(self, look: ActorLook) -> BodySpec:
        skin = _rgba(look.skin)
        nail = _rgba(tuple(min(1.0, c * 1.15) for c in look.skin))  # type: ignore[arg-type]
        hz = self.PALM_HALF[2]
        palm = (box(self.PALM_HALF, (0, 0, 0), skin), box((0.02, 0.03, 0.02), (-0.03, 0, 0.02), skin, collide=False))
        links = []
        # Four fingers in a row along y and a short thumb behind them: the row (1.4 cm thick) fits the 3.6 cm gap
        # behind a handle while the thumb stays above the bar; each digit hinges about y at the palm's underside.
        for i, y in enumerate((-0.027, -0.009, 0.009, 0.027)):
            length = FINGER_LENGTH * (0.92 if i in (0, 3) else 1.0)
            links.append(
                Link(
                    f"finger{i}",
                    "base",
                    "revolute",
                    (0.0, y, -hz),
                    (
                        box((0.007, 0.0075, length / 2), (0, 0, -length / 2), skin),
                        box((0.0072, 0.0072, 0.006), (0, 0, -length + 0.006), nail, collide=False),
                    ),
                    axis=(0, 1, 0),
                    limits=(-0.1, self.SPLAY),
                    mass=0.02,
                    damping=0.05,
                )
            )
        links.append(
            Link(
                "thumb",
                "base",
                "revolute",
                (-0.02, 0.0, -hz),
                (box((0.008, 0.009, 0.03), (0, 0, -0.03), skin),),
                axis=(0, -1, 0),
                limits=(-0.1, self.SPLAY),
                mass=0.02,
                damping=0.05,
            )
        )
        return BodySpec("actor_hand", palm, FLOATING_MASS, links, semantic="actor")

    def finger_targets(self, grip: float) -> list[float]:
        return [self.SPLAY * (1.0 - grip)] * len(self.fingers)


class Stick(FloatingActor):
    """A thin rod with a handle, held tilted; it hooks and pushes with its lower end and cannot grasp."""

    name = "stick"
    grasps = False
    LENGTH = 0.42
    tip_local = (0.0, 0.0, TIP_LIFT)

    def __init__(self, client: int, rng: np.random.Generator, look: ActorLook, start: np.ndarray, force: float):
        self.tilt = float(rng.uniform(np.radians(20), np.radians(45)))
        self.lean_yaw = float(rng.uniform(np.pi - 0.5, np.pi + 0.5))  # leans back toward -x (the robot's side)
        super().__init__(client, rng, look, start, force)
        self.wobble *= 0.3

    def spec(self, look: ActorLook) -> BodySpec:
        L = self.LENGTH
        return BodySpec(
            "actor_stick",
            (
                box((0.006, 0.006, L / 2), (0, 0, L / 2), _rgba(look.tool)),
                cylinder(0.014, 0.12, (0, 0, L - 0.06), _rgba(look.sleeve)),
            ),
            FLOATING_MASS,
            semantic="actor",
        )

    def base_orientation(self) -> tuple[float, float, float]:
        # The rod's +z axis tilts by ``tilt`` toward the lean direction: rotate about the horizontal axis
        # perpendicular to it.
        q = p.getQuaternionFromAxisAngle((-math.sin(self.lean_yaw), math.cos(self.lean_yaw), 0.0), self.tilt)
        return tuple(p.getEulerFromQuaternion(q))

    def set_lean(self, direction_xy: np.ndarray) -> None:
        """Lean the rod back along ``-direction_xy`` (a push's direction): it trails its stroke, like a cue."""
        d = np.asarray(direction_xy, float)
        self.lean_yaw = float(math.atan2(-d[1], -d[0]))


class Gripper(FloatingActor):
    """A round body with two fingers that slide apart along its x axis (across the Panda's), round pads."""

    name = "gripper"
    OPEN = 0.055  # m each finger travels out when open
    tip_local = (0.0, 0.0, -0.03 - FINGER_LENGTH + TIP_LIFT)

    def __init__(self, client: int, rng: np.random.Generator, look: ActorLook, start: np.ndarray, force: float):
        super().__init__(client, rng, look, start, force)
        self.twist = float(rng.uniform(-0.6, 0.6))  # rad: a slow twist about the vertical while it moves

    def orientation(self, t: float) -> tuple[float, float, float, float]:
        twist = getattr(self, "twist", 0.0)
        return tuple(p.getQuaternionFromEuler((0.0, 0.0, self.yaw + twist * math.sin(0.6 * t))))

    def spec(self, look: ActorLook) -> BodySpec:
        body, pad = _rgba(look.tool), _rgba(look.sleeve)
        base = (
            cylinder(0.035, 0.05, (0, 0, 0.0), body),
            box((0.05, 0.012, 0.008), (0, 0, -0.03), body),
        )
        links = [
            Link(
                f"finger_{side}",
                "base",
                "prismatic",
                (0.0, 0.0, -0.03),
                (
                    box((0.006, 0.01, FINGER_LENGTH / 2), (0, 0, -FINGER_LENGTH / 2), body),
                    cylinder(
                        0.012,
                        0.012,
                        (0, 0, -FINGER_LENGTH + 0.012),
                        pad,
                        orn=tuple(p.getQuaternionFromEuler((0, math.pi / 2, 0))),
                    ),
                ),
                axis=(sign, 0.0, 0.0),
                limits=(0.0, self.OPEN),
                mass=0.03,
                damping=0.5,
            )
            for side, sign in (("a", 1.0), ("b", -1.0))
        ]
        return BodySpec("actor_gripper", base, FLOATING_MASS, links, semantic="actor")

    def finger_targets(self, grip: float) -> list[float]:
        return [self.OPEN * (1.0 - grip)] * 2


# ============================================================================ arm actors
class ArmActor(Actor):
    """A fixed-base chain of revolute joints tracking inverse-kinematics targets with torque-limited motors."""

    def __init__(self, client: int, force: float) -> None:
        super().__init__(client)
        self.force = force

    def _setup(self, body_uid: int, joints: list[int], tip_link: int) -> None:
        self.uid = body_uid
        self.uids = [body_uid]
        self.joints = joints
        self.tip_link = tip_link
        for j in joints:
            p.changeDynamics(body_uid, j, maxJointVelocity=4.0, physicsClientId=self.client)

    def grasp_body(self) -> int:
        return self.uid

    def grasp_link(self) -> int:
        return self.tip_link

    def aim(self, target: np.ndarray) -> np.ndarray:
        """The point to solve the inverse kinematics for: ``target`` plus an integral of the tip's past tracking
        errors (IK residuals, the motors' sag), bounded so that a blocked tip never winds up into a hard push."""
        target = np.asarray(target, float)
        last = getattr(self, "_last_target", None)
        bias = getattr(self, "_bias", np.zeros(3))
        if last is not None:
            bias = np.clip(bias + AIM_GAIN * (last - self.tip()), -AIM_LIMIT, AIM_LIMIT)
        self._last_target, self._bias = target, bias
        return target + bias

    def tip(self) -> np.ndarray:
        st = p.getLinkState(self.uid, self.tip_link, computeForwardKinematics=1, physicsClientId=self.client)
        return np.array(st[4])

    def ik(self, target: np.ndarray) -> list[float]:
        raise NotImplementedError

    def drive(self, q: list[float]) -> None:
        p.setJointMotorControlArray(
            self.uid,
            self.joints,
            p.POSITION_CONTROL,
            targetPositions=q,
            forces=[self.force] * len(self.joints),
            positionGains=[0.5] * len(self.joints),
            velocityGains=[1.0] * len(self.joints),
            physicsClientId=self.client,
        )

    def teleport(self, q: list[float]) -> None:
        """Set the joints to ``q`` at rest (only when the clip's world is built, before any physics)."""
        for j, v in zip(self.joints, q):
            p.resetJointState(self.uid, j, v, 0.0, physicsClientId=self.client)
        self.drive(q)


class PlanarArm(ArmActor):
    """Base yaw + three pitch joints in one vertical plane, a vertical suction-cup tool; closed-form IK."""

    name = "planar_arm"
    L1, L2, L3 = 0.42, 0.40, 0.12  # m: upper link, forelink, tool
    COLUMN = 0.27  # m above the desk top: the shoulder's height

    def __init__(
        self,
        client: int,
        rng: np.random.Generator,
        look: ActorLook,
        desk_height: float,
        start: np.ndarray,
        force: float,
    ):
        super().__init__(client, force)
        H = desk_height
        self.shoulder = np.array([0.03, float(rng.uniform(-0.12, 0.12)), H + self.COLUMN])
        body, joint_c, cup = _rgba(look.tool), _rgba(tuple(0.25 * c for c in look.tool)), (0.12, 0.12, 0.12, 1.0)  # type: ignore[arg-type]
        pitch = (0.0, -1.0, 0.0)
        links = [
            Link(
                "turret",
                "base",
                "revolute",
                (0, 0, H + self.COLUMN),
                (cylinder(0.05, 0.06, (0, 0, 0), joint_c),),
                axis=(0, 0, 1),
                limits=(-3.0, 3.0),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "upper",
                "turret",
                "revolute",
                (0, 0, 0),
                (box((self.L1 / 2, 0.025, 0.025), (self.L1 / 2, 0, 0), body),),
                axis=pitch,
                limits=(-1.6, 1.6),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "fore",
                "upper",
                "revolute",
                (self.L1, 0, 0),
                (
                    box((self.L2 / 2, 0.02, 0.02), (self.L2 / 2, 0, 0), body),
                    cylinder(0.03, 0.06, (0, 0, 0), joint_c, orn=tuple(p.getQuaternionFromEuler((math.pi / 2, 0, 0)))),
                ),
                axis=pitch,
                limits=(-2.8, 2.8),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "tool",
                "fore",
                "revolute",
                (self.L2, 0, 0),
                (
                    box((self.L3 / 2, 0.012, 0.012), (self.L3 / 2 - 0.01, 0, 0), joint_c),
                    cylinder(
                        0.018,
                        0.012,
                        (self.L3 - 0.006, 0, 0),
                        cup,
                        orn=tuple(p.getQuaternionFromEuler((0, math.pi / 2, 0))),
                    ),
                ),
                axis=pitch,
                limits=(-3.0, 3.0),
                mass=ARM_LINK_MASS,
            ),
            Link("tip", "tool", "fixed", (self.L3 - TIP_LIFT, 0, 0), (), mass=0.001),
        ]
        base = (box((0.06, 0.06, (H + self.COLUMN) / 2), (0, 0, (H + self.COLUMN) / 2), joint_c),)
        b = build_body(
            BodySpec("actor_planar_arm", base, 0.0, links, semantic="actor"),
            client,
            (self.shoulder[0], self.shoulder[1], 0.0),
        )
        self._setup(b.uid, [0, 1, 2, 3], 4)
        self.teleport(self.ik(start))

    def ik(self, target: np.ndarray) -> list[float]:
        """Closed form: yaw toward the target, the tool vertical, a two-link planar solution (elbow up)."""
        w = np.asarray(target, float) + np.array([0.0, 0.0, self.L3 - TIP_LIFT])
        d = w - self.shoulder
        yaw = math.atan2(d[1], d[0])
        r, z = math.hypot(d[0], d[1]), d[2]
        reach = min(math.hypot(r, z), self.L1 + self.L2 - 1e-4)
        cos_elbow = (reach**2 - self.L1**2 - self.L2**2) / (2 * self.L1 * self.L2)
        q2 = -math.acos(float(np.clip(cos_elbow, -1.0, 1.0)))
        q1 = math.atan2(z, r) - math.atan2(self.L2 * math.sin(q2), self.L1 + self.L2 * math.cos(q2))
        q3 = -math.pi / 2 - q1 - q2
        return [yaw, q1, q2, q3]

    def command(self, target: np.ndarray, grip: float, t: float) -> None:
        self.grip = grip
        self.drive(self.ik(self.aim(target)))


SHOULDER_X = -0.02  # m: the person leans on the desk's back edge (the robot's side), shoulders over it
SHOULDER_HEIGHT = 0.32  # m above the desk top


class HumanArm(ArmActor):
    """A torso and head behind the desk; shoulder (yaw, pitch, roll), elbow, wrist (pitch, yaw) and a hand.

    The hand's fingers point down-forward; PyBullet's inverse kinematics (damped least squares, from the current
    joint angles) solves for the fingertip's position and orientation; a tremor is added to the target.
    """

    name = "human_arm"
    UPPER, FORE, HAND = 0.36, 0.34, 0.16  # m

    def __init__(
        self,
        client: int,
        rng: np.random.Generator,
        look: ActorLook,
        desk_height: float,
        start: np.ndarray,
        force: float,
        tremor: float,
        tremor_hz: float,
        focus_y: float = 0.0,
    ):
        super().__init__(client, force)
        H = desk_height
        # The person sits facing the object, reaching with the arm on its side (either arm for one in the middle).
        torso_y = float(np.clip(0.5 * focus_y + rng.uniform(-0.08, 0.08), -0.2, 0.2))
        coin = 1.0 if rng.uniform() < 0.5 else -1.0
        side = float(np.sign(focus_y - torso_y)) if abs(focus_y - torso_y) > 0.1 else coin
        self.shoulder = np.array([SHOULDER_X, torso_y + side * 0.19, H + SHOULDER_HEIGHT])
        self.tremor, self.tremor_hz = tremor, tremor_hz
        self.tremor_phase = rng.uniform(0, 2 * np.pi, 3)
        self.hand_pitch = float(rng.uniform(0.15, 0.45))  # rad the fingers point forward (+x) from straight down
        skin, sleeve = _rgba(look.skin), _rgba(look.sleeve)
        shirt = _rgba(tuple(0.8 * c for c in look.sleeve))  # type: ignore[arg-type]
        hair = _rgba(random_color(rng, (0.1, 0.5)))
        rx = tuple(p.getQuaternionFromEuler((0, math.pi / 2, 0)))  # cylinder axis along x
        # Base: the torso and head, fixed; the shoulder joints sit at the torso's top corner.
        base = (
            box((0.08, 0.17, 0.2), (-0.02, 0.0, H + 0.12), shirt),
            box((0.07, 0.065, 0.08), (0.0, 0.0, H + 0.42), skin),
            box((0.075, 0.07, 0.03), (-0.01, 0.0, H + 0.5), hair),
        )
        links = [
            Link(
                "sh_yaw",
                "base",
                "revolute",
                (0.0, side * 0.19, H + SHOULDER_HEIGHT),
                (cylinder(0.045, 0.05, (0, 0, 0), sleeve),),
                axis=(0, 0, 1),
                limits=(-1.6, 1.6),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "sh_pitch", "sh_yaw", "revolute", (0, 0, 0), (), axis=(0, -1, 0), limits=(-1.5, 1.5), mass=ARM_LINK_MASS
            ),
            Link(
                "upper",
                "sh_pitch",
                "revolute",
                (0, 0, 0),
                (cylinder(0.04, self.UPPER, (self.UPPER / 2, 0, 0), sleeve, orn=rx),),
                axis=(1, 0, 0),
                limits=(-1.5, 1.5),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "forearm",
                "upper",
                "revolute",
                (self.UPPER, 0, 0),
                (
                    cylinder(0.032, self.FORE, (self.FORE / 2, 0, 0), skin, orn=rx),
                    cylinder(0.041, 0.05, (0.0, 0, 0), sleeve, orn=rx),
                ),
                axis=(0, -1, 0),
                limits=(-2.8, 0.1),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "wrist",
                "forearm",
                "revolute",
                (self.FORE, 0, 0),
                (),
                axis=(0, -1, 0),
                limits=(-1.4, 1.4),
                mass=ARM_LINK_MASS,
            ),
            Link(
                "hand",
                "wrist",
                "revolute",
                (0, 0, 0),
                (box((0.045, 0.035, 0.012), (0.045, 0, 0), skin), box((0.035, 0.026, 0.009), (0.125, 0, 0), skin)),
                axis=(0, 0, 1),
                limits=(-1.2, 1.2),
                mass=ARM_LINK_MASS,
            ),
            Link("tip", "hand", "fixed", (self.HAND - TIP_LIFT, 0, 0), (), mass=0.001),
        ]
        b = build_body(
            BodySpec("actor_human", base, 0.0, links, semantic="actor"), client, (self.shoulder[0], torso_y, 0.0)
        )
        self._setup(b.uid, [0, 1, 2, 3, 4, 5], 6)
        self.lower = [-1.6, -1.5, -1.5, -2.8, -1.4, -1.2]
        self.upper = [1.6, 1.5, 1.5, 0.1, 1.4, 1.2]
        self.rest = [0.0, 0.6, 0.0, -1.2, 0.3, 0.0]
        self.teleport(self.rest)
        for _ in range(30):  # converge onto the start pose before any physics
            self.teleport(self.ik(start))

    def ik(self, target: np.ndarray) -> list[float]:
        # The hand's x axis (the fingers) points down and tilted forward by hand_pitch; its yaw is free-ish
        # (the rest pose keeps the wrist natural).
        orn = p.getQuaternionFromEuler((0.0, math.pi / 2 - self.hand_pitch, 0.0))
        q = p.calculateInverseKinematics(
            self.uid,
            self.tip_link,
            [float(v) for v in target],
            orn,
            lowerLimits=self.lower,
            upperLimits=self.upper,
            jointRanges=[u - l for l, u in zip(self.lower, self.upper)],
            restPoses=self.rest,
            maxNumIterations=40,
            residualThreshold=1e-4,
            physicsClientId=self.client,
        )
        return [float(np.clip(v, l, u)) for v, l, u in zip(q, self.lower, self.upper)]

    def command(self, target: np.ndarray, grip: float, t: float) -> None:
        self.grip = grip
        w = 2 * np.pi * self.tremor_hz * t
        shake = self.tremor * np.sin(np.array([w, 1.13 * w, 0.87 * w]) + self.tremor_phase)
        self.drive(self.ik(self.aim(np.asarray(target, float)) + shake))


def build_actor(
    name: str,
    client: int,
    rng: np.random.Generator,
    look: ActorLook,
    desk_height: float,
    start: np.ndarray,
    floating_force: float,
    arm_force: float,
    tremor: float,
    tremor_hz: float,
    focus_y: float = 0.0,
) -> Actor:
    """Build actor ``name`` with its tip at ``start`` (world, m); ``focus_y`` (m) is where along the desk the object
    it will act on stands (a person sits facing it)."""
    if name == "hand":
        return Hand(client, rng, look, start, floating_force)
    if name == "stick":
        return Stick(client, rng, look, start, floating_force)
    if name == "gripper":
        return Gripper(client, rng, look, start, floating_force)
    if name == "planar_arm":
        return PlanarArm(client, rng, look, desk_height, start, arm_force)
    if name == "human_arm":
        return HumanArm(client, rng, look, desk_height, start, arm_force, tremor, tremor_hz, focus_y)
    raise ValueError(f"no body for actor {name!r}; choose one of: hand, stick, gripper, planar_arm, human_arm")
