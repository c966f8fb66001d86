"""Movable objects: mugs and blocks (free bodies built from primitives)."""

from __future__ import annotations

import numpy as np
import pybullet as p

from sim.dimensions import MUG_RADIUS as MUG_RADIUS  # re-exported: the bodies' users import it from here
from sim.primitives import BodySpec, box, build_body, cylinder

MUG_HEIGHT = 0.09
BLOCK_HALF = 0.025


def mug_spec(name: str, rgba: tuple[float, float, float, float], mass: float) -> BodySpec:
    """A mug: a cylinder with a box handle on its +y side; base frame at the bottom centre."""
    shapes = (
        cylinder(MUG_RADIUS, MUG_HEIGHT, (0, 0, MUG_HEIGHT / 2), rgba),
        box((0.008, 0.012, 0.025), (0, MUG_RADIUS + 0.010, MUG_HEIGHT * 0.55), rgba),
    )
    return BodySpec(name, shapes, mass, semantic=name)


def block_spec(name: str, rgba: tuple[float, float, float, float], mass: float) -> BodySpec:
    """A cube of side 5 cm; base frame at its bottom centre."""
    return BodySpec(name, (box((BLOCK_HALF,) * 3, (0, 0, BLOCK_HALF), rgba),), mass, semantic=name)


class MovableObject:
    """A free body on the desk whose planar position is its task-relevant state."""

    def __init__(self, client: int, spec: BodySpec, pos: tuple[float, float, float], friction: float):
        self.client = client
        self.name = spec.name
        self.body = build_body(spec, client, pos)
        self.uid = self.body.uid
        self.nominal_mass = spec.base_mass
        p.changeDynamics(
            self.uid, -1, lateralFriction=friction, rollingFriction=0.0, spinningFriction=0.001, physicsClientId=client
        )

    def position(self) -> np.ndarray:
        """World position (3,) of the object's base frame (bottom centre), m."""
        return np.array(p.getBasePositionAndOrientation(self.uid, physicsClientId=self.client)[0])

    def place(self, xy: np.ndarray, z: float, yaw: float) -> None:
        """Teleport upright to (x, y) at height z with the given yaw, at rest."""
        p.resetBasePositionAndOrientation(
            self.uid,
            (float(xy[0]), float(xy[1]), z),
            p.getQuaternionFromEuler((0, 0, yaw)),
            physicsClientId=self.client,
        )
        p.resetBaseVelocity(self.uid, (0, 0, 0), (0, 0, 0), physicsClientId=self.client)

    def upright(self) -> bool:
        """Whether the object stands within 30° of upright."""
        orn = p.getBasePositionAndOrientation(self.uid, physicsClientId=self.client)[1]
        z_axis = p.getMatrixFromQuaternion(orn)[6:9]
        return bool(z_axis[2] > np.cos(np.radians(30)))
