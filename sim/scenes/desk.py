"""The desk scene (LOReL's layout): a Panda on a pedestal at a desk with a drawer, a hinged
cabinet door, a faucet, a push button, a white and a black mug and optional blocks, inside a
small room. The camera looks back at the robot from the far side of the desk.

World frame: origin on the floor under the arm's base, +x from the robot toward the camera,
+z up. Seen from the default camera, +y is to the right and +x is down the image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pybullet as p

from sim.config import DeskEnvConfig
from sim.furniture import Button, Door, Drawer, Faucet, floor_spec, table_spec, wall_spec
from sim.objects import MovableObject, block_spec, mug_spec
from sim.observations import lookup_segmentation, segmentation_table
from sim.primitives import BodySpec, box, build_body
from sim.robots.panda import PandaArm
from sim.state import SimState, read_bodies, write_bodies

WHITE_MUG = (0.95, 0.95, 0.93, 1.0)
BLACK_MUG = (0.08, 0.08, 0.09, 1.0)
BLOCK_COLORS = ((0.2, 0.4, 0.85, 1.0), (0.2, 0.7, 0.3, 1.0), (0.9, 0.75, 0.1, 1.0), (0.6, 0.2, 0.7, 1.0))


@dataclass
class ObjectStates:
    """Task-relevant state of every object (world frame; m and rad)."""

    mugs: dict[str, np.ndarray]  # name → (x, y, z) of the bottom centre
    blocks: dict[str, np.ndarray]
    drawer: float  # opening (m)
    door: float  # cabinet door angle (rad)
    faucet: float  # lever angle (rad), positive = turned left
    button: float  # depression (m)
    tcp: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def as_dict(self) -> dict[str, float | list[float]]:
        out: dict[str, float | list[float]] = {k: v.tolist() for k, v in {**self.mugs, **self.blocks}.items()}
        out.update(
            drawer=self.drawer, cabinet_door=self.door, faucet=self.faucet, button=self.button, tcp=self.tcp.tolist()
        )
        return out

    def names(self) -> list[str]:
        """Names of the entries of ``vector()``, e.g. ``white_mug.x`` or ``drawer``."""
        objects = sorted(self.mugs) + sorted(self.blocks)
        return [f"{o}.{a}" for o in objects for a in "xyz"] + ["drawer", "cabinet_door", "faucet", "button"]

    def vector(self) -> np.ndarray:
        """Flat float64 vector: mug/block xyz in name order, then drawer, door, faucet, button."""
        parts = [v for _, v in sorted(self.mugs.items())] + [v for _, v in sorted(self.blocks.items())]
        return np.concatenate(parts + [np.array([self.drawer, self.door, self.faucet, self.button])])


def object_state_names(num_blocks: int) -> list[str]:
    """``ObjectStates.names()`` of a desk scene with ``num_blocks`` blocks, without building one (a dataset's
    metadata is written before its first clip is rendered)."""
    mugs = {"white_mug": np.zeros(3), "black_mug": np.zeros(3)}
    blocks = {f"block_{i}": np.zeros(3) for i in range(num_blocks)}
    return ObjectStates(mugs, blocks, 0.0, 0.0, 0.0, 0.0).names()


class DeskScene:
    """Builds and owns every body of the desk scene in one PyBullet client."""

    def __init__(self, client: int, cfg: DeskEnvConfig, mirror: bool = False):
        self.client = client
        self.cfg = cfg
        lay, dyn = cfg.layout, cfg.dynamics
        H = lay.desk_height
        self.desk_height = H
        self.mirror = mirror
        sy = -1.0 if mirror else 1.0
        ph = cfg.physics
        p.setGravity(0, 0, ph.gravity, physicsClientId=client)
        # Warm starting off: then positions + velocities are the whole state, so a restored state
        # replays bit-identically (checked by the tests).
        p.setPhysicsEngineParameter(
            fixedTimeStep=ph.timestep,
            numSolverIterations=ph.solver_iterations,
            warmStartingFactor=0.0,
            deterministicOverlappingPairs=1,
            physicsClientId=client,
        )

        cx, cy = lay.desk_center
        hx, hy = lay.desk_half_size

        def at(xy: tuple[float, float], z: float = H) -> tuple[float, float, float]:
            return (xy[0], sy * xy[1], z)

        # Creation order is draw order in TinyRenderer, which depth-tests before shading: building what is
        # nearest the camera first makes hidden floor and wall pixels cheap (~20% faster frames).
        self.mugs = {
            "white_mug": MovableObject(
                client, mug_spec("white_mug", WHITE_MUG, 0.3), (0.5, 0.1, H), dyn.object_friction
            ),
            "black_mug": MovableObject(
                client, mug_spec("black_mug", BLACK_MUG, 0.3), (0.5, -0.1, H), dyn.object_friction
            ),
        }
        self.blocks = {
            f"block_{i}": MovableObject(
                client,
                block_spec(f"block_{i}", BLOCK_COLORS[i % len(BLOCK_COLORS)], 0.1),
                (0.6, 0.05 * i, H),
                dyn.object_friction,
            )
            for i in range(lay.num_blocks)
        }
        self.faucet = Faucet(client, at(lay.faucet_center), 0.0, dyn.faucet_damping, dyn.faucet_friction)
        self.button = Button(client, at(lay.button_center), 0.0, dyn.button_stiffness, dyn.button_force)
        self.drawer = Drawer(client, at(lay.drawer_center), 0.0, dyn.drawer_damping, dyn.drawer_friction)
        # The door's frame is its hinge plane, in front of the carcass.
        cab = at(lay.cabinet_center)
        self.cabinet = Door(client, (cab[0] - 0.11 - 0.012, cab[1], H), 0.0, dyn.door_damping, dyn.door_friction)
        self.arm = PandaArm(client, cfg.arm, (0.0, 0.0, H))
        self.desk = build_body(table_spec((hx, hy), H), client, (cx, cy, 0.0))
        p.changeDynamics(self.desk.uid, -1, lateralFriction=dyn.desk_friction, physicsClientId=client)
        self.pedestal = build_body(
            BodySpec("pedestal", (box((0.1, 0.1, H / 2), (0, 0, H / 2), (0.3, 0.3, 0.32, 1)),), semantic="pedestal"),
            client,
            (0.0, 0.0, 0.0),
        )
        # The floor stops short of the camera: geometry behind the eye costs render time and is never seen.
        self.floor = build_body(floor_spec((1.0, 1.3)), client, (0.25, 0.0, 0.0))
        self.wall = build_body(wall_spec(2.6, 1.8, visible=lay.back_wall), client, (-0.75, 0.0, 0.0))
        self.articulated = {
            "drawer": self.drawer,
            "cabinet_door": self.cabinet,
            "faucet": self.faucet,
            "button": self.button,
        }
        self.movable = {**self.mugs, **self.blocks}
        self.bodies = [
            self.floor.uid,
            self.wall.uid,
            self.pedestal.uid,
            self.desk.uid,
            self.drawer.uid,
            self.cabinet.uid,
            self.faucet.uid,
            self.button.uid,
            self.arm.uid,
        ] + [o.uid for o in self.movable.values()]
        # Bodies that never move nor change colour within an episode: a fixed camera can draw them once
        # (``sim.backdrop.StaticBackdrop``).
        self.static_bodies = [self.floor.uid, self.wall.uid, self.pedestal.uid, self.desk.uid]
        # Bodies that move only when pushed and stay bit-for-bit still otherwise (a joint at rest on a fixed base):
        # a fixed camera draws them with the static ones until they move. The mugs rock for a few steps after a
        # reset, so they are not among them.
        self.parked_bodies = [self.drawer.uid, self.cabinet.uid, self.faucet.uid, self.button.uid]
        self._build_segmentation_lookup()

    # ------------------------------------------------------------ segmentation
    def _build_segmentation_lookup(self) -> None:
        """Instance id per (body, link) and a semantic class name per instance id (0 = background)."""
        named = [
            self.floor,
            self.wall,
            self.pedestal,
            self.desk,
            self.drawer.body,
            self.cabinet.body,
            self.faucet.body,
            self.button.body,
            self.arm.body,
        ] + [o.body for o in self.movable.values()]
        self._seg_lut, self._seg_links, self.instance_names, self.instance_classes = segmentation_table(named, "panda")

    def segmentation(self, raw: np.ndarray) -> np.ndarray:
        """Map PyBullet's raw ids (H, W) to instance ids (H, W) int32; see ``instance_names``."""
        return lookup_segmentation(raw, self._seg_lut, self._seg_links)

    # ------------------------------------------------------------------ state
    def object_states(self) -> ObjectStates:
        tcp, _ = self.arm.tcp_pose()
        return ObjectStates(
            mugs={k: m.position() for k, m in self.mugs.items()},
            blocks={k: b.position() for k, b in self.blocks.items()},
            drawer=self.drawer.state(),
            door=self.cabinet.state(),
            faucet=self.faucet.state(),
            button=self.button.state(),
            tcp=tcp,
        )

    def get_state(self) -> SimState:
        """Positions and velocities of every body and joint, plus the arm's motor targets."""
        base, joints = read_bodies(self.client, self.bodies)
        return SimState(base, joints, self.arm.command.joint_targets.copy(), float(self.arm.command.finger_target))

    def set_state(self, state: SimState) -> None:
        """Restore a state from ``get_state`` exactly (same scene configuration)."""
        try:
            write_bodies(self.client, self.bodies, state.base, state.joints)
        except ValueError as e:
            raise ValueError(f"{e} (was it saved with another layout, e.g. a different num_blocks?)") from None
        self.restore_controllers(state)

    def restore_controllers(self, state: SimState) -> None:
        """Re-send the motor targets, which are not part of PyBullet's own saved state."""
        self.arm.command.joint_targets = state.arm_targets.copy()
        self.arm.command.finger_target = float(state.finger_target)
        self.arm.apply_command()
        self.button.set_spring(self.button.stiffness, self.button.force)

    def resting_bodies(self, state: SimState, max_speed: float) -> list[int]:
        """The bodies other than the arm at rest in ``state``: no point of the body moves faster than
        ``max_speed`` (m/s), bounding a point's speed by the base's linear speed plus every angular speed (base
        and hinges, rad/s) times the body's radius (half its bounding box's diagonal, m) plus every sliding
        joint's speed. A mug still rocking right after a reset (0.05–0.2 rad/s: 3–12 mm/s at its rim) is not at
        rest at 5 mm/s; it settles below that within a few steps. Static bodies (floor, wall, pedestal, desk) are not listed: Bullet never simulates them."""
        static = set(self.static_bodies)
        out, k = [], 0
        for uid, base in zip(self.bodies, state.base):
            n = p.getNumJoints(uid, physicsClientId=self.client)
            joints = state.joints[k : k + n, 1]
            k += n
            if uid == self.arm.uid or uid in static:
                continue
            lo, hi = np.array(p.getAABB(uid, -1, physicsClientId=self.client))
            for j in range(n):
                link_lo, link_hi = p.getAABB(uid, j, physicsClientId=self.client)
                lo, hi = np.minimum(lo, link_lo), np.maximum(hi, link_hi)
            radius = 0.5 * float(np.linalg.norm(hi - lo))
            kinds = [p.getJointInfo(uid, j, physicsClientId=self.client)[2] for j in range(n)]
            turning = float(np.linalg.norm(base[10:13])) + sum(
                abs(v) for v, t in zip(joints, kinds) if t == p.JOINT_REVOLUTE
            )
            sliding = sum(abs(v) for v, t in zip(joints, kinds) if t == p.JOINT_PRISMATIC)
            if float(np.linalg.norm(base[7:10])) + turning * radius + sliding < max_speed:
                out.append(uid)
        return out

    def sleep(self, uids: list[int]) -> None:
        """Put ``uids`` to sleep: Bullet leaves a sleeping body out of integration and the solver until an awake
        body touches it, which wakes it. For bodies at rest this skips their contacts and joint motors (the
        mugs on the desk, the furniture) while the arm does not reach them. Setting a state wakes every body."""
        for uid in uids:
            p.changeDynamics(uid, -1, activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING, physicsClientId=self.client)
            p.changeDynamics(uid, -1, activationState=p.ACTIVATION_STATE_SLEEP, physicsClientId=self.client)

    def step_physics(self, substeps: int) -> None:
        for _ in range(substeps):
            p.stepSimulation(physicsClientId=self.client)
