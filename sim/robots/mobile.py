"""Mobile robots: a differential-drive base and a mobile manipulator (the base with a Panda arm).

The base is a real multibody whose planar motion comes from three joints on a world anchor
(x and y prismatic, yaw revolute), each driven by a force-limited velocity motor. The motors are
re-targeted every physics substep to ``(v cos θ, v sin θ, ω)``, which enforces the
differential-drive (no side-slip) constraint exactly while contact forces stay real: the base
pushes a 2 kg carton aside, is stopped by a wall or a 200 kg crate, and never tips over. This is
the construction mobile manipulators use in ManiSkill; it avoids wheel-friction tuning and is
deterministic.

The manipulator carries the repository's primitive Panda (``sim.robots.panda``) on a torso column;
its Cartesian control solves inverse kinematics in a private kinematic copy of the arm fixed at the
origin, so the base joints never take part in the IK solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p

from sim.config import ArmConfig
from sim.home_config import BaseConfig, MobileArmConfig
from sim.primitives import Body, BodySpec, Link, box, build_body, cylinder
from sim.robots.panda import FINGER_TRAVEL, PANDA_MAX_TORQUE, TCP_Z, PandaArm, panda_spec

CHASSIS = (0.22, 0.22, 0.25, 1.0)
TRIM = (0.85, 0.45, 0.10, 1.0)
# Planar joints are unlimited: PyBullet treats lower > upper as "no limit".
NO_LIMIT = (1.0, -1.0)
# The massless-looking x/y carrier links still need some mass for Featherstone's articulated inertia.
CARRIER_MASS = 0.5  # kg


def wrap_angle(a: float) -> float:
    """Angle wrapped to [-π, π)."""
    return float((a + np.pi) % (2 * np.pi) - np.pi)


MAST_BEHIND_CAMERA = 0.07  # m the head mast stands behind the camera (out of its view)
MAST_HALF_WIDTH = 0.03  # m


def _mast_xy(cfg: BaseConfig) -> tuple[float, float]:
    """The head mast's position on the chassis (m, forward and left of the base centre): behind the camera
    along its pan, so it stays out of view, and pulled back onto the chassis where that would leave it."""
    pan = np.radians(cfg.camera_yaw)
    xy = np.array([cfg.camera_forward, cfg.camera_left]) - MAST_BEHIND_CAMERA * np.array([np.cos(pan), np.sin(pan)])
    edge = cfg.radius - MAST_HALF_WIDTH
    xy *= min(1.0, edge / max(float(np.linalg.norm(xy)), 1e-9))
    return float(xy[0]), float(xy[1])


def base_links(cfg: BaseConfig, extra_shapes: tuple = ()) -> list[Link]:
    """The planar carrier links (x, y, yaw) and the chassis (shapes on the yaw link, base frame at the floor)."""
    r, h = cfg.radius, cfg.height
    clearance = 0.01  # m: the chassis floats this far above the floor, so it never rubs on it
    chassis = (
        cylinder(r, h - clearance, (0, 0, clearance + (h - clearance) / 2), CHASSIS),
        # A bumper stripe on the front half shows the heading in images.
        box((r * 0.35, r * 0.6, 0.02), (r * 0.6, 0, h + 0.01), TRIM, collide=False),
        # The head mast: thin, just behind the camera, standing on the chassis.
        box((0.03, 0.03, (cfg.camera_height - h) / 2), (*_mast_xy(cfg), h + (cfg.camera_height - h) / 2), CHASSIS),
    ) + tuple(extra_shapes)
    return [
        Link(
            "base_x",
            "base",
            "prismatic",
            (0, 0, 0),
            (),
            axis=(1, 0, 0),
            limits=NO_LIMIT,
            mass=CARRIER_MASS,
            semantic="robot",
        ),
        Link(
            "base_y",
            "base_x",
            "prismatic",
            (0, 0, 0),
            (),
            axis=(0, 1, 0),
            limits=NO_LIMIT,
            mass=CARRIER_MASS,
            semantic="robot",
        ),
        Link(
            "chassis",
            "base_y",
            "revolute",
            (0, 0, 0),
            chassis,
            axis=(0, 0, 1),
            limits=NO_LIMIT,
            mass=cfg.mass,
            semantic="robot",
        ),
    ]


@dataclass
class BaseCommand:
    """The base controller's persistent command (part of the simulation state)."""

    linear: float = 0.0  # m/s
    angular: float = 0.0  # rad/s


class DiffDriveBase:
    """A differential-drive base with a head camera mount and a LiDAR mount.

    Action (2,) in [-1, 1]: forward speed and turn rate as fractions of ``max_linear_speed`` and
    ``max_angular_speed``.
    """

    action_dim = 2

    def __init__(self, client: int, cfg: BaseConfig, spec: BodySpec | None = None):
        self.client = client
        self.cfg = cfg
        self.body: Body = build_body(
            spec or BodySpec("robot", (), 0.0, base_links(cfg), semantic="robot"), client, (0.0, 0.0, 0.0)
        )
        self.uid = self.body.uid
        self.planar_joints = [self.body.joint("base_x"), self.body.joint("base_y"), self.body.joint("chassis")]
        for j in self.planar_joints:
            p.changeDynamics(
                self.uid,
                j,
                jointLowerLimit=NO_LIMIT[0],
                jointUpperLimit=NO_LIMIT[1],
                linearDamping=0.0,
                angularDamping=0.0,
                physicsClientId=client,
            )
        self.command = BaseCommand()
        self.mass = cfg.mass + 2 * CARRIER_MASS

    # ------------------------------------------------------------------ state
    def pose(self) -> np.ndarray:
        """(3,) x, y (m) and heading θ (rad, wrapped to [-π, π))."""
        st = p.getJointStates(self.uid, self.planar_joints, physicsClientId=self.client)
        return np.array([st[0][0], st[1][0], wrap_angle(st[2][0])])

    def velocity(self) -> np.ndarray:
        """(3,) world-frame ẋ, ẏ (m/s) and θ̇ (rad/s)."""
        st = p.getJointStates(self.uid, self.planar_joints, physicsClientId=self.client)
        return np.array([st[0][1], st[1][1], st[2][1]])

    def reset_pose(self, x: float, y: float, yaw: float) -> None:
        """Teleport the base to (x, y, yaw), at rest, with a zero command."""
        for j, v in zip(self.planar_joints, (x, y, yaw)):
            p.resetJointState(self.uid, j, float(v), 0.0, physicsClientId=self.client)
        self.command = BaseCommand()
        self.apply_command()

    # ---------------------------------------------------------------- control
    def set_action(self, action: np.ndarray) -> None:
        """Store the base command from the first two action entries (clipped to [-1, 1])."""
        a = np.clip(np.asarray(action[:2], float), -1.0, 1.0)
        self.command = BaseCommand(float(a[0]) * self.cfg.max_linear_speed, float(a[1]) * self.cfg.max_angular_speed)

    def apply_command(self) -> None:
        """Re-target the planar motors for the current heading; called before every physics substep."""
        theta = p.getJointState(self.uid, self.planar_joints[2], physicsClientId=self.client)[0]
        v, w = self.command.linear, self.command.angular
        f = self.cfg.max_push_force
        p.setJointMotorControlArray(
            self.uid,
            self.planar_joints,
            p.VELOCITY_CONTROL,
            targetVelocities=[v * np.cos(theta), v * np.sin(theta), w],
            forces=[f, f, self.cfg.max_torque],
            physicsClientId=self.client,
        )

    # ---------------------------------------------------------------- sensors
    def camera_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Head camera eye and look-at target (world, m)."""
        x, y, th = self.pose()
        c = self.cfg
        c_, s_ = np.cos(th), np.sin(th)
        eye = np.array(
            [
                x + c.camera_forward * c_ - c.camera_left * s_,
                y + c.camera_forward * s_ + c.camera_left * c_,
                c.camera_height,
            ]
        )
        pan, pitch = th + np.radians(c.camera_yaw), np.radians(c.camera_pitch)
        forward = np.array([np.cos(pan) * np.cos(pitch), np.sin(pan) * np.cos(pitch), np.sin(pitch)])
        return eye, eye + forward

    def lidar_origin(self) -> tuple[np.ndarray, float]:
        """LiDAR centre (3,) in the world (m) and heading (rad)."""
        x, y, th = self.pose()
        return np.array([x, y, self.cfg.lidar_height]), th

    def proprio(self) -> np.ndarray:
        """(5,) heading cos/sin, forward speed (m/s), turn rate (rad/s) and commanded speed fraction."""
        _, _, th = self.pose()
        vx, vy, w = self.velocity()
        forward = vx * np.cos(th) + vy * np.sin(th)
        return np.array([np.cos(th), np.sin(th), forward, w, self.command.linear / self.cfg.max_linear_speed])


class MobileManipulator(DiffDriveBase):
    """The base with a torso column and a Panda arm; action (6,) = (v, ω, Δforward, Δleft, Δup, gripper).

    The arm moves the tool centre point in the base frame by up to ``arm.max_step`` m per axis per
    step, clamped to the arm's workspace (relative to the arm base, as on the desk); the gripper
    command is −1 open, +1 closed. The arm holds its joint angles while the base drives.
    """

    action_dim = 6

    def __init__(self, client: int, cfg: BaseConfig, arm_cfg: MobileArmConfig):
        self.arm_cfg = arm_cfg
        panda = panda_spec()
        torso = box(
            (0.08, 0.08, (arm_cfg.mount_height - cfg.height) / 2),
            (arm_cfg.mount_forward, 0, cfg.height + (arm_cfg.mount_height - cfg.height) / 2),
            CHASSIS,
        )
        links = base_links(cfg, (torso,))
        links.append(
            Link(
                "arm_mount",
                "chassis",
                "fixed",
                (arm_cfg.mount_forward, 0, arm_cfg.mount_height),
                panda.base_shapes,
                mass=1.0,
                semantic="robot",
            )
        )
        for l in panda.links:
            links.append(
                Link(
                    l.name,
                    "arm_mount" if l.parent == "base" else l.parent,
                    l.joint,
                    l.origin,
                    l.shapes,
                    l.origin_orn,
                    l.axis,
                    l.limits,
                    l.mass,
                    l.damping,
                    l.friction,
                    "robot",
                )
            )
        super().__init__(client, cfg, BodySpec("robot", (), 0.0, links, semantic="robot"))
        self.mass += 1.0 + sum(l.mass for l in panda.links)
        self.mount_link = self.body.joint("arm_mount")
        self.arm_joints = [self.body.joint(f"panda_link{i + 1}") for i in range(7)]
        self.finger_joints = [self.body.joint("panda_finger_left"), self.body.joint("panda_finger_right")]
        self.ee_link = self.arm_joints[-1]
        # A private kinematic copy for IK: same chain, fixed at the origin of its own world.
        self._ik_client = p.connect(p.DIRECT)
        self.kinematics = PandaArm(self._ik_client, arm_cfg.arm, (0.0, 0.0, 0.0))
        self.arm_targets = self.kinematics.rest.copy()
        self.finger_target = FINGER_TRAVEL
        for j in self.arm_joints + self.finger_joints:
            p.changeDynamics(self.uid, j, maxJointVelocity=10.0, physicsClientId=client)
        self.reset_arm()

    def close(self) -> None:
        if p.isConnected(self._ik_client):
            p.disconnect(self._ik_client)

    @property
    def arm(self) -> ArmConfig:
        return self.arm_cfg.arm

    def reset_arm(self, q: np.ndarray | None = None, finger: float = FINGER_TRAVEL) -> None:
        """Teleport the arm to ``q`` (default: the rest pose), gripper open, at rest."""
        q = self.kinematics.rest if q is None else np.asarray(q, float)
        for j, qj in zip(self.arm_joints, q):
            p.resetJointState(self.uid, j, float(qj), 0.0, physicsClientId=self.client)
        for j in self.finger_joints:
            p.resetJointState(self.uid, j, finger, 0.0, physicsClientId=self.client)
        self.arm_targets, self.finger_target = np.array(q, float), float(finger)
        self.apply_arm_command()

    def reset_tcp(self, target: np.ndarray) -> None:
        """Teleport the arm so that its tool centre point is at ``target`` (3,) in the arm-base frame (m), gripper
        open, at rest (inverse kinematics on the kinematic copy, which stands at the arm base's origin)."""
        self.kinematics.reset_tcp(np.asarray(target, float))
        self.reset_arm(self.kinematics.joint_positions())

    def joint_positions(self) -> np.ndarray:
        """(7,) arm joint angles (rad)."""
        return np.array([s[0] for s in p.getJointStates(self.uid, self.arm_joints, physicsClientId=self.client)])

    def finger_opening(self) -> float:
        return float(sum(s[0] for s in p.getJointStates(self.uid, self.finger_joints, physicsClientId=self.client)))

    def mount_pose(self) -> tuple[np.ndarray, tuple[float, float, float, float]]:
        """World pose of the arm base (position (3,), quaternion xyzw)."""
        st = p.getLinkState(self.uid, self.mount_link, computeForwardKinematics=1, physicsClientId=self.client)
        return np.array(st[4]), st[5]

    def tcp_position(self) -> np.ndarray:
        """Tool centre point (3,) in the world (m)."""
        st = p.getLinkState(self.uid, self.ee_link, computeForwardKinematics=1, physicsClientId=self.client)
        return np.array(p.multiplyTransforms(st[4], st[5], (0, 0, TCP_Z), (0, 0, 0, 1))[0])

    def tcp_in_mount(self) -> np.ndarray:
        """Tool centre point (3,) in the arm-base frame (m): forward, left, up."""
        pos, orn = self.mount_pose()
        inv_pos, inv_orn = p.invertTransform(pos.tolist(), orn)
        return np.array(p.multiplyTransforms(inv_pos, inv_orn, self.tcp_position().tolist(), (0, 0, 0, 1))[0])

    def set_action(self, action: np.ndarray) -> None:
        a = np.clip(np.asarray(action, float).reshape(-1), -1.0, 1.0)
        super().set_action(a[:2])
        arm = self.arm
        # Solve IK in the arm-base frame on the kinematic copy, starting from the real joint angles.
        for j, qj in zip(self.kinematics.arm_joints, self.joint_positions()):
            p.resetJointState(self.kinematics.uid, j, float(qj), 0.0, physicsClientId=self._ik_client)
        target = np.clip(self.tcp_in_mount() + a[2:5] * arm.max_step, arm.workspace_low, arm.workspace_high)
        self.arm_targets = self.kinematics._ik(target)
        self.finger_target = (1.0 - float(a[5])) / 2.0 * FINGER_TRAVEL
        self.apply_arm_command()

    def apply_arm_command(self) -> None:
        p.setJointMotorControlArray(
            self.uid,
            self.arm_joints,
            p.POSITION_CONTROL,
            targetPositions=self.arm_targets.tolist(),
            targetVelocities=[0.0] * 7,
            forces=list(PANDA_MAX_TORQUE),
            positionGains=[self.arm.position_gain] * 7,
            velocityGains=[1.0] * 7,
            physicsClientId=self.client,
        )
        p.setJointMotorControlArray(
            self.uid,
            self.finger_joints,
            p.POSITION_CONTROL,
            targetPositions=[self.finger_target] * 2,
            forces=[self.arm.finger_force] * 2,
            positionGains=[self.arm.position_gain] * 2,
            physicsClientId=self.client,
        )

    def proprio(self) -> np.ndarray:
        """(16,) base proprioception (5,), tcp in the arm-base frame (3, m), finger opening (1, m), joints (7, rad)."""
        return np.concatenate([super().proprio(), self.tcp_in_mount(), [self.finger_opening()], self.joint_positions()])


BASE_PROPRIO_DIM = 5
MANIPULATOR_PROPRIO_DIM = 16
