"""A 7-DoF arm with the Franka Emika Panda's kinematics, built from primitives.

Joint origins, axes and limits are those of the real robot (Franka's published
kinematic parameters); geometry is a handful of boxes so that a 64×64 frame
renders in well under a millisecond. The parallel gripper has two prismatic
fingers (0–4 cm each). The end effector is controlled in Cartesian space through
PyBullet's inverse kinematics with the gripper pointing straight down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p

from sim.config import ArmConfig
from sim.dimensions import FINGER_TRAVEL as FINGER_TRAVEL  # re-exported: the arm's users import them here
from sim.dimensions import HAND_HALF_SPAN as HAND_HALF_SPAN
from sim.dimensions import PANDA_JOINT_LIMITS as PANDA_JOINT_LIMITS
from sim.primitives import Body, BodySpec, Link, box, build_body, cylinder, segment

HALF_PI = np.pi / 2

# Franka Panda joint frames: (origin xyz in parent, origin rpy in parent), axis z; from the robot's datasheet.
PANDA_JOINT_ORIGINS: tuple[tuple[tuple[float, float, float], tuple[float, float, float]], ...] = (
    ((0.0, 0.0, 0.333), (0.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (-HALF_PI, 0.0, 0.0)),
    ((0.0, -0.316, 0.0), (HALF_PI, 0.0, 0.0)),
    ((0.0825, 0.0, 0.0), (HALF_PI, 0.0, 0.0)),
    ((-0.0825, 0.384, 0.0), (-HALF_PI, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (HALF_PI, 0.0, 0.0)),
    ((0.088, 0.0, 0.0), (HALF_PI, 0.0, 0.0)),
)
PANDA_MAX_TORQUE = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)  # N·m
PANDA_MAX_JOINT_SPEED = (2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61)  # rad/s
PANDA_LINK_MASS = (4.97, 0.65, 3.23, 3.59, 1.23, 1.67, 1.47)  # kg; link 7 includes the hand
FLANGE_Z = 0.107  # link 7 origin → flange (m)
FINGER_JOINT_Z = 0.0584  # hand origin → finger joints (m)
# Fingers are longer than Franka's (4.8 cm) so the hand clears a 9 cm mug while the fingertips push it low.
FINGER_LENGTH = 0.10
TCP_Z = FLANGE_Z + FINGER_JOINT_Z + FINGER_LENGTH - 0.005  # link 7 origin → just above the fingertips (m)
HAND_YAW = -np.pi / 4  # the hand is mounted at −45° about the flange axis


def _q(rpy: tuple[float, float, float]) -> tuple[float, float, float, float]:
    return tuple(p.getQuaternionFromEuler(rpy))


def panda_spec(link_rgba=(0.92, 0.92, 0.92, 1.0), joint_rgba=(0.25, 0.25, 0.28, 1.0)) -> BodySpec:
    """The arm as a primitive body: base column plus 7 revolute links and 2 prismatic fingers."""
    t = 0.085  # link thickness (m)
    geom = [
        # Each link's boxes span from its own joint to the next joint, in its own frame.
        (cylinder(0.06, 0.2, (0, 0, -0.1), joint_rgba),),
        (segment((0, 0, -0.06), (0, -0.16, 0), t, link_rgba),),
        (segment((0, 0, 0.0), (0, 0, -0.12), t, link_rgba), segment((0.0, 0, -0.03), (0.0825, 0, -0.03), t, link_rgba)),
        (
            segment((0, 0, 0.0), (-0.0825, 0.1, 0), t, joint_rgba),
            segment((-0.0825, 0.1, 0), (-0.0825, 0.3, 0), t, link_rgba),
        ),
        (segment((0, 0, 0.0), (0, 0, -0.14), t * 0.9, link_rgba),),
        (segment((0, 0, 0.0), (0.088, 0, 0), t * 0.9, joint_rgba),),
        (
            segment((0, 0, 0.0), (0, 0, FLANGE_Z), 0.06, joint_rgba),
            # The hand: a bar across the finger axis.
            box((0.025, HAND_HALF_SPAN, 0.03), (0, 0, FLANGE_Z + 0.03), link_rgba, _q((0, 0, HAND_YAW))),
        ),
    ]
    links = []
    parent = "base"
    for i, ((xyz, rpy), limits, mass, shapes) in enumerate(
        zip(PANDA_JOINT_ORIGINS, PANDA_JOINT_LIMITS, PANDA_LINK_MASS, geom)
    ):
        name = f"panda_link{i + 1}"
        links.append(
            Link(
                name,
                parent,
                "revolute",
                xyz,
                tuple(shapes),
                _q(rpy),
                limits=limits,
                mass=mass,
                damping=0.05,
                semantic="robot",
            )
        )  # the motors do the damping; explicit damping must stay small
        parent = name
    finger_frame = _q((0, 0, HAND_YAW))
    # A finger's frame sits at the finger joint, its pad pointing along +z (down when the hand points down).
    finger_shape = box((0.011, 0.006, FINGER_LENGTH / 2), (0, 0.006, FINGER_LENGTH / 2), joint_rgba)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shape = box(finger_shape.size, (0, sign * 0.006, FINGER_LENGTH / 2), joint_rgba)
        links.append(
            Link(
                f"panda_finger_{side}",
                "panda_link7",
                "prismatic",
                (0, 0, FLANGE_Z + FINGER_JOINT_Z),
                (shape,),
                finger_frame,
                axis=(0, sign, 0),
                limits=(0.0, FINGER_TRAVEL),
                mass=0.05,
                damping=1.0,
                semantic="robot",
            )
        )
    base = (cylinder(0.07, 0.14, (0, 0, 0.07), joint_rgba),)
    return BodySpec("panda", base, 0.0, links, semantic="robot", lateral_friction=1.0)


@dataclass
class ArmCommand:
    """The controller's persistent targets (part of the simulation state)."""

    joint_targets: np.ndarray  # (7,) rad
    finger_target: float  # m per finger


class PandaArm:
    """The arm in a scene, with Cartesian end-effector control.

    Action = (Δx, Δy, Δz, gripper) in [-1, 1]: the tool centre point's target moves by
    ``action × cfg.max_step`` metres (at most 5 cm per axis per step, as Meta-World and robosuite
    count it), clamped to the workspace; gripper −1 = open, +1 = closed.
    """

    def __init__(self, client: int, cfg: ArmConfig, base_pos: tuple[float, float, float]):
        self.client = client
        self.cfg = cfg
        self.body: Body = build_body(panda_spec(), client, base_pos)
        self.uid = self.body.uid
        self.arm_joints = list(range(7))
        self.finger_joints = [self.body.joint("panda_finger_left"), self.body.joint("panda_finger_right")]
        self.ee_link = 6
        self.lower = np.array([l for l, _ in PANDA_JOINT_LIMITS])
        self.upper = np.array([u for _, u in PANDA_JOINT_LIMITS])
        self.rest = np.array(cfg.rest_pose, dtype=float)
        self.base_pos = np.asarray(base_pos, float)
        self.workspace_low = self.base_pos + np.asarray(cfg.workspace_low)
        self.workspace_high = self.base_pos + np.asarray(cfg.workspace_high)
        # The controlled orientation is the flange's at the rest pose (gripper pointing straight down).
        self.reset()
        self.down_orn = p.getLinkState(self.uid, self.ee_link, computeForwardKinematics=1, physicsClientId=client)[5]
        self._tcp_offset = np.array(p.multiplyTransforms((0, 0, 0), self.down_orn, (0, 0, TCP_Z), (0, 0, 0, 1))[0])
        for j in range(p.getNumJoints(self.uid, physicsClientId=client)):
            p.changeDynamics(self.uid, j, maxJointVelocity=10.0, physicsClientId=client)

    # ----------------------------------------------------------------- state
    def reset(self, q: np.ndarray | None = None, finger: float = FINGER_TRAVEL) -> None:
        """Teleport to joint configuration ``q`` (default: the rest pose) at rest, gripper open."""
        q = self.rest if q is None else np.asarray(q, float)
        for j, qj in zip(self.arm_joints, q):
            p.resetJointState(self.uid, j, float(qj), 0.0, physicsClientId=self.client)
        for j in self.finger_joints:
            p.resetJointState(self.uid, j, finger, 0.0, physicsClientId=self.client)
        self.command = ArmCommand(np.array(q, float), float(finger))
        self.apply_command()

    def reset_tcp(self, target: np.ndarray) -> None:
        """Teleport the arm so that its tool centre point is at ``target`` (world, m)."""
        self.reset()
        for _ in range(3):  # a few IK passes from the teleported pose converge exactly
            q = self._ik(np.asarray(target, float))
            for j, qj in zip(self.arm_joints, q):
                p.resetJointState(self.uid, j, float(qj), 0.0, physicsClientId=self.client)
        self.command = ArmCommand(q, FINGER_TRAVEL)
        self.apply_command()

    def joint_positions(self) -> np.ndarray:
        """(7,) arm joint angles (rad)."""
        return np.array([s[0] for s in p.getJointStates(self.uid, self.arm_joints, physicsClientId=self.client)])

    def tcp_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Tool centre point position (3,) m and linear velocity (3,) m/s in the world frame."""
        st = p.getLinkState(
            self.uid, self.ee_link, computeLinkVelocity=1, computeForwardKinematics=1, physicsClientId=self.client
        )
        pos, orn = np.array(st[4]), st[5]
        tcp = np.array(p.multiplyTransforms(pos, orn, (0, 0, TCP_Z), (0, 0, 0, 1))[0])
        return tcp, np.array(st[6])

    def finger_opening(self) -> float:
        """Distance between the finger pads (m): 0–0.08 within the joint limits, which PyBullet enforces softly (a
        finger pressed by a contact goes past them; ``sim.envs.desk.FINGER_OPENING_LOW`` says by how much)."""
        return float(sum(s[0] for s in p.getJointStates(self.uid, self.finger_joints, physicsClientId=self.client)))

    # --------------------------------------------------------------- control
    def _ik(self, tcp_target: np.ndarray) -> np.ndarray:
        wrist = tcp_target - self._tcp_offset
        q = p.calculateInverseKinematics(
            self.uid,
            self.ee_link,
            wrist.tolist(),
            self.down_orn,
            lowerLimits=self.lower.tolist(),
            upperLimits=self.upper.tolist(),
            jointRanges=(self.upper - self.lower).tolist(),
            restPoses=self.rest.tolist(),
            maxNumIterations=self.cfg.ik_iterations,
            residualThreshold=self.cfg.ik_tolerance,
            physicsClientId=self.client,
        )
        return np.clip(np.array(q[:7]), self.lower, self.upper)

    def set_action(self, action: np.ndarray) -> None:
        """Turn a normalised action (4,) into joint targets; motors hold them during the physics substeps."""
        delta = np.clip(action[:3], -1.0, 1.0) * self.cfg.max_step
        tcp, _ = self.tcp_pose()
        target = np.clip(tcp + delta, self.workspace_low, self.workspace_high)
        self.command.joint_targets = self._ik(target)
        grip = float(np.clip(action[3], -1.0, 1.0))
        self.command.finger_target = (1.0 - grip) / 2.0 * FINGER_TRAVEL
        self.apply_command()

    def apply_command(self) -> None:
        """Send the stored targets to the joint motors (also used after a state restore)."""
        p.setJointMotorControlArray(
            self.uid,
            self.arm_joints,
            p.POSITION_CONTROL,
            targetPositions=self.command.joint_targets.tolist(),
            targetVelocities=[0.0] * 7,
            forces=list(PANDA_MAX_TORQUE),
            positionGains=[self.cfg.position_gain] * 7,
            velocityGains=[1.0] * 7,
            physicsClientId=self.client,
        )
        p.setJointMotorControlArray(
            self.uid,
            self.finger_joints,
            p.POSITION_CONTROL,
            targetPositions=[self.command.finger_target] * 2,
            forces=[self.cfg.finger_force] * 2,
            positionGains=[self.cfg.position_gain] * 2,
            physicsClientId=self.client,
        )
