"""Articulated bodies built from low-poly primitives (boxes, cylinders, spheres).

Everything in the simulator (the arm, the furniture, the movable objects) is a
PyBullet multibody assembled here from primitive shapes instead of meshes: a box
is 12 triangles, so the CPU TinyRenderer stays fast, while joints, limits and
masses are real.

Units: metres, kilograms, radians. Poses are (position xyz, quaternion xyzw).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np
import pybullet as p

from sim.plumbing.files import write_cache_file

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
IDENTITY_QUAT: Quat = (0.0, 0.0, 0.0, 1.0)


def _vec3(v: Sequence[float]) -> Vec3:
    """``v`` (a position in a link frame: three numbers, m) as a tuple of floats, unchecked as before."""
    return cast(Vec3, tuple(float(c) for c in v))


ShapeKind = Literal["box", "cylinder", "sphere", "quad"]


@dataclass(frozen=True)
class Shape:
    """One primitive of a link, placed in the link frame.

    Attributes:
        kind: "box", "cylinder" (axis along local z), "sphere", or "quad" (a visual-only rectangle in the
            local xy plane, facing +z: two triangles where a box has twelve).
        size: box half extents (3,), or (radius, length) for a cylinder, or (radius,) for a sphere, or
            the quad's half extents along local x and y (2,).
        pos: centre of the primitive in the link frame (m).
        orn: orientation of the primitive in the link frame (quaternion xyzw).
        rgba: colour; objects recoloured by domain randomization override it.
        collide: whether the primitive takes part in collisions (visual-only trim sets False).
    """

    kind: ShapeKind
    size: tuple[float, ...]
    pos: Vec3 = (0.0, 0.0, 0.0)
    orn: Quat = IDENTITY_QUAT
    rgba: tuple[float, float, float, float] = (0.7, 0.7, 0.7, 1.0)
    collide: bool = True


def box(
    half_extents: Sequence[float],
    pos: Sequence[float] = (0, 0, 0),
    rgba=(0.7, 0.7, 0.7, 1.0),
    orn: Quat = IDENTITY_QUAT,
    collide: bool = True,
) -> Shape:
    """A box primitive with the given half extents (m), centred at ``pos`` in the link frame."""
    return Shape("box", tuple(float(v) for v in half_extents), _vec3(pos), orn, tuple(rgba), collide)


def cylinder(
    radius: float,
    length: float,
    pos: Sequence[float] = (0, 0, 0),
    rgba=(0.7, 0.7, 0.7, 1.0),
    orn: Quat = IDENTITY_QUAT,
    collide: bool = True,
) -> Shape:
    """A cylinder primitive (axis along the local z axis after ``orn``)."""
    return Shape("cylinder", (float(radius), float(length)), _vec3(pos), orn, tuple(rgba), collide)


def quad(
    half_size: Sequence[float], pos: Sequence[float] = (0, 0, 0), rgba=(0.7, 0.7, 0.7, 1.0), orn: Quat = IDENTITY_QUAT
) -> Shape:
    """A visual-only rectangle (half sizes along local x and y, m) facing local +z after ``orn``.

    TinyRenderer rasterizes every triangle over its screen bounding box, so a large surface the camera
    sees from one side (a floor, a wall's inner face) costs a sixth as much as a quad than as a box.
    """
    return Shape("quad", (float(half_size[0]), float(half_size[1])), _vec3(pos), orn, tuple(rgba), False)


def segment(
    a: Sequence[float], b: Sequence[float], thickness: float, rgba=(0.7, 0.7, 0.7, 1.0), collide: bool = True
) -> Shape:
    """A square-section box spanning the segment a→b (link frame, m): the cheapest arm link."""
    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    d = b_ - a_
    length = float(np.linalg.norm(d))
    if length < 1e-9:
        raise ValueError("segment endpoints coincide")
    return box(
        (thickness / 2, thickness / 2, length / 2 + thickness / 2),
        (a_ + b_) / 2,
        rgba,
        quat_from_z_to(d / length),
        collide,
    )


def quat_from_z_to(direction: np.ndarray) -> Quat:
    """Quaternion (xyzw) rotating the +z axis onto the unit vector ``direction``."""
    z = np.array([0.0, 0.0, 1.0])
    c = float(np.dot(z, direction))
    if c > 1 - 1e-9:
        return IDENTITY_QUAT
    if c < -1 + 1e-9:
        return (1.0, 0.0, 0.0, 0.0)
    axis = np.cross(z, direction)
    axis /= np.linalg.norm(axis)
    half = np.arccos(np.clip(c, -1, 1)) / 2
    s = np.sin(half)
    return (float(axis[0] * s), float(axis[1] * s), float(axis[2] * s), float(np.cos(half)))


# Cylinders are drawn as a prism of this many sides (collision stays an exact cylinder): PyBullet
# tessellates cylinder visuals finely, which made a mug 5× slower to build and to render than a box.
PRISM_SIDES = 10


def _prism_mesh_path(sides: int = PRISM_SIDES) -> str:
    """A unit prism (radius 1, height 1, axis z, centred) as an OBJ file, written once per process."""
    folder = os.path.join(tempfile.gettempdir(), "robolearn_meshes")
    path = os.path.join(folder, f"prism{sides}.obj")
    if os.path.exists(path):
        return path
    angles = np.linspace(0.0, 2 * np.pi, sides, endpoint=False)
    lines = [f"v {np.cos(a):.6f} {np.sin(a):.6f} {z}" for z in (-0.5, 0.5) for a in angles]
    lines += ["v 0 0 -0.5", "v 0 0 0.5"]
    lines += [f"vn {np.cos(a):.6f} {np.sin(a):.6f} 0" for a in angles] + ["vn 0 0 -1", "vn 0 0 1"]
    n = sides
    for i in range(n):  # OBJ indices are 1-based: side quad as two triangles, then the two cap fans
        j = (i + 1) % n
        lines += [
            f"f {i + 1}//{i + 1} {j + 1}//{j + 1} {n + j + 1}//{j + 1}",
            f"f {i + 1}//{i + 1} {n + j + 1}//{j + 1} {n + i + 1}//{i + 1}",
            f"f {2 * n + 1}//{n + 1} {j + 1}//{n + 1} {i + 1}//{n + 1}",
            f"f {2 * n + 2}//{n + 2} {n + i + 1}//{n + 2} {n + j + 1}//{n + 2}",
        ]
    write_cache_file(path, "\n".join(lines) + "\n")
    return path


def _quad_mesh_path() -> str:
    """A unit quad (x, y in [-1, 1], z = 0, normal +z) as an OBJ file, written once per process."""
    folder = os.path.join(tempfile.gettempdir(), "robolearn_meshes")
    path = os.path.join(folder, "quad.obj")
    if os.path.exists(path):
        return path
    lines = ["v -1 -1 0", "v 1 -1 0", "v 1 1 0", "v -1 1 0", "vn 0 0 1", "f 1//1 2//1 3//1", "f 1//1 3//1 4//1"]
    write_cache_file(path, "\n".join(lines) + "\n")
    return path


JointKind = Literal["fixed", "revolute", "prismatic"]
_JOINT_TYPES = {"fixed": p.JOINT_FIXED, "revolute": p.JOINT_REVOLUTE, "prismatic": p.JOINT_PRISMATIC}


@dataclass(frozen=True)
class Link:
    """A child link of an articulated body.

    Attributes:
        name: unique name within the body (used for segmentation and lookups).
        parent: name of the parent link, or "base".
        joint: joint type connecting it to the parent.
        origin: joint frame position in the parent link frame (m).
        origin_orn: joint frame orientation in the parent link frame (quaternion xyzw).
        axis: joint axis in the joint (= link) frame.
        limits: (lower, upper) in rad or m; ignored for fixed joints.
        mass: kg.
        shapes: primitives in the link frame.
        damping: viscous joint damping (N·s/m or N·m·s/rad).
        friction: Coulomb-like joint friction, applied as a zero-velocity motor of this max force/torque.
        semantic: class name reported by segmentation (defaults to ``name``).
    """

    name: str
    parent: str
    joint: JointKind
    origin: Vec3
    shapes: tuple[Shape, ...]
    origin_orn: Quat = IDENTITY_QUAT
    axis: Vec3 = (0.0, 0.0, 1.0)
    limits: tuple[float, float] = (0.0, 0.0)
    mass: float = 0.1
    damping: float = 0.0
    friction: float = 0.0
    semantic: str | None = None


@dataclass
class BodySpec:
    """An articulated body: a base (possibly fixed) plus child links."""

    name: str
    base_shapes: tuple[Shape, ...]
    base_mass: float = 0.0  # 0 = static, fixed in the world
    links: list[Link] = field(default_factory=list)
    semantic: str | None = None
    lateral_friction: float | None = None


@dataclass
class Body:
    """A built body: its PyBullet id, link indices by name and joint metadata."""

    name: str
    uid: int
    link_index: dict[str, int]
    joint_limits: dict[str, tuple[float, float]]
    semantic_by_link: dict[int, str]
    movable_joints: list[int]
    rgba_by_link: dict[int, list[tuple[float, float, float, float]]]

    def joint(self, link_name: str) -> int:
        """The joint index of the named link (PyBullet: joint i moves link i)."""
        try:
            return self.link_index[link_name]
        except KeyError as exc:
            raise KeyError(f"body {self.name!r} has no link {link_name!r}; it has {sorted(self.link_index)}") from exc


# PyBullet's shape arrays hold at most this many primitives (MAX_COMPOUND_COLLISION_SHAPES); more crash it.
MAX_SHAPES_PER_LINK = 16


def _shape_arrays(shapes: Sequence[Shape], client: int, collide_only: bool) -> int:
    shapes = [s for s in shapes if s.collide] if collide_only else list(shapes)
    if not shapes:
        return -1
    if len(shapes) > MAX_SHAPES_PER_LINK:
        raise ValueError(
            f"a link has {len(shapes)} primitives; PyBullet allows at most {MAX_SHAPES_PER_LINK} per "
            f"link: split it into several bodies (see chunked_static_bodies)"
        )
    types, radii, half, lengths, poss, orns, colours, files, scales = [], [], [], [], [], [], [], [], []
    for s in shapes:
        files.append("")
        scales.append((1.0, 1.0, 1.0))
        if s.kind == "box":
            types.append(p.GEOM_BOX)
            half.append(s.size)
            radii.append(0.0)
            lengths.append(0.0)
        elif s.kind == "cylinder" and not collide_only:
            types.append(p.GEOM_MESH)
            radii.append(0.0)
            lengths.append(0.0)
            half.append((0, 0, 0))
            files[-1] = _prism_mesh_path()
            scales[-1] = (s.size[0], s.size[0], s.size[1])
        elif s.kind == "cylinder":
            types.append(p.GEOM_CYLINDER)
            radii.append(s.size[0])
            lengths.append(s.size[1])
            half.append((0, 0, 0))
        elif s.kind == "sphere":
            types.append(p.GEOM_SPHERE)
            radii.append(s.size[0])
            half.append((0, 0, 0))
            lengths.append(0.0)
        elif s.kind == "quad":  # visual only (collide_only filtered it out above)
            types.append(p.GEOM_MESH)
            radii.append(0.0)
            lengths.append(0.0)
            half.append((0, 0, 0))
            files[-1] = _quad_mesh_path()
            scales[-1] = (s.size[0], s.size[1], 1.0)
        else:  # pragma: no cover - Literal guards this
            raise ValueError(f"unknown primitive {s.kind!r}")
        poss.append(s.pos)
        orns.append(s.orn)
        colours.append(s.rgba)
    if collide_only:
        return p.createCollisionShapeArray(
            shapeTypes=types,
            radii=radii,
            halfExtents=half,
            lengths=lengths,
            collisionFramePositions=poss,
            collisionFrameOrientations=orns,
            physicsClientId=client,
        )
    return p.createVisualShapeArray(
        shapeTypes=types,
        radii=radii,
        halfExtents=half,
        lengths=lengths,
        fileNames=files,
        meshScales=scales,
        visualFramePositions=poss,
        visualFrameOrientations=orns,
        rgbaColors=colours,
        physicsClientId=client,
    )


def build_body(spec: BodySpec, client: int, pos: Sequence[float], orn: Quat = IDENTITY_QUAT) -> Body:
    """Create ``spec`` in the PyBullet world ``client`` with its base at the given pose."""
    names = [l.name for l in spec.links]
    if len(set(names)) != len(names):
        raise ValueError(f"body {spec.name!r} has duplicate link names")
    index = {n: i for i, n in enumerate(names)}
    kw: dict = {}
    if spec.links:
        for l in spec.links:
            if l.parent != "base" and l.parent not in index:
                raise ValueError(f"link {l.name!r} of {spec.name!r} has unknown parent {l.parent!r}")
            if l.parent != "base" and index[l.parent] >= index[l.name]:
                raise ValueError(f"link {l.name!r} must come after its parent {l.parent!r}")
        kw = dict(
            linkMasses=[l.mass for l in spec.links],
            linkCollisionShapeIndices=[_shape_arrays(l.shapes, client, True) for l in spec.links],
            linkVisualShapeIndices=[_shape_arrays(l.shapes, client, False) for l in spec.links],
            linkPositions=[l.origin for l in spec.links],
            linkOrientations=[l.origin_orn for l in spec.links],
            linkInertialFramePositions=[(0, 0, 0)] * len(spec.links),
            linkInertialFrameOrientations=[IDENTITY_QUAT] * len(spec.links),
            linkParentIndices=[0 if l.parent == "base" else index[l.parent] + 1 for l in spec.links],
            linkJointTypes=[_JOINT_TYPES[l.joint] for l in spec.links],
            linkJointAxis=[l.axis for l in spec.links],
        )
    uid = p.createMultiBody(
        baseMass=spec.base_mass,
        baseCollisionShapeIndex=_shape_arrays(spec.base_shapes, client, True),
        baseVisualShapeIndex=_shape_arrays(spec.base_shapes, client, False),
        basePosition=list(pos),
        baseOrientation=list(orn),
        useMaximalCoordinates=False,
        physicsClientId=client,
        **kw,
    )
    movable = []
    for i, l in enumerate(spec.links):
        if l.joint != "fixed":
            movable.append(i)
            # createMultiBody leaves no joint limits: set them, and turn the default velocity motor into
            # joint friction (a zero-velocity motor whose force cap is the friction force).
            p.changeDynamics(
                uid,
                i,
                jointLowerLimit=l.limits[0],
                jointUpperLimit=l.limits[1],
                jointDamping=l.damping,
                linearDamping=0.0,
                angularDamping=0.0,
                physicsClientId=client,
            )
            p.setJointMotorControl2(
                uid, i, p.VELOCITY_CONTROL, targetVelocity=0.0, force=l.friction, physicsClientId=client
            )
    if spec.lateral_friction is not None:
        for link in [-1] + list(range(len(spec.links))):
            p.changeDynamics(uid, link, lateralFriction=spec.lateral_friction, physicsClientId=client)
    semantic = {-1: spec.semantic or spec.name}
    semantic.update({i: l.semantic or l.name for i, l in enumerate(spec.links)})
    rgba = {-1: [s.rgba for s in spec.base_shapes]}
    rgba.update({i: [s.rgba for s in l.shapes] for i, l in enumerate(spec.links)})
    return Body(spec.name, uid, index, {l.name: l.limits for l in spec.links}, semantic, movable, rgba)


def chunked_static_bodies(name: str, shapes: Sequence[Shape], client: int, semantic: str | None = None) -> list[Body]:
    """Static bodies (world frame at the origin) holding ``shapes``, at most ``MAX_SHAPES_PER_LINK`` each."""
    out = []
    for i in range(0, len(shapes), MAX_SHAPES_PER_LINK):
        spec = BodySpec(name, tuple(shapes[i : i + MAX_SHAPES_PER_LINK]), 0.0, semantic=semantic or name)
        out.append(build_body(spec, client, (0.0, 0.0, 0.0)))
    return out
