"""The furniture catalogue of the homes: low-poly static pieces and movable clutter.

Every piece is a handful of boxes (12 triangles each), so a furnished home renders at 128 x 128 in
a few milliseconds on the CPU. At yaw 0 a piece's front faces −x, its footprint is centred on its
base frame (on the floor), ``half_size`` is (half depth along x, half width along y). Furniture is
static (mass 0): heavy pieces that no robot can push. The kitchen ``counter`` is the desk of the
desk environment with its drawer, cabinet, faucet and button (built by ``sim.scenes.home``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.furniture import DARK_WOOD, METAL, WHITE_PAINT, WOOD, table_spec
from sim.primitives import BodySpec, box, cylinder

FABRIC = (0.35, 0.42, 0.55, 1.0)
LINEN = (0.90, 0.90, 0.86, 1.0)
CERAMIC = (0.95, 0.95, 0.97, 1.0)


@dataclass(frozen=True)
class FurnitureKind:
    """A catalogue entry: footprint half size (m, at yaw 0), height (m) and a body builder.

    ``spec`` is None for pieces with articulated parts that the scene assembles itself (the counter).
    """

    half_size: tuple[float, float]
    height: float
    spec: Callable[[], BodySpec] | None


def _sofa() -> BodySpec:
    hx, hy = 0.45, 1.0
    return BodySpec(
        "sofa",
        (
            box((hx, hy, 0.2), (0, 0, 0.2), FABRIC),  # seat block
            box((0.12, hy, 0.2), (hx - 0.12, 0, 0.6), FABRIC),  # back rest at the rear (+x)
            box((hx, 0.1, 0.13), (0, hy - 0.1, 0.53), FABRIC),  # arm rests
            box((hx, 0.1, 0.13), (0, -hy + 0.1, 0.53), FABRIC),
        ),
        semantic="sofa",
    )


def _armchair() -> BodySpec:
    h = 0.4
    return BodySpec(
        "armchair",
        (
            box((h, h, 0.2), (0, 0, 0.2), FABRIC),
            box((0.1, h, 0.2), (h - 0.1, 0, 0.6), FABRIC),
        ),
        semantic="armchair",
    )


def _bed() -> BodySpec:
    hx, hy = 1.0, 0.8
    return BodySpec(
        "bed",
        (
            box((hx, hy, 0.2), (0, 0, 0.2), DARK_WOOD),  # frame
            box((hx - 0.05, hy - 0.03, 0.08), (-0.02, 0, 0.48), LINEN),  # mattress
            box((0.04, hy, 0.45), (hx - 0.04, 0, 0.45), DARK_WOOD),  # headboard at the rear (+x)
        ),
        semantic="bed",
    )


def _shelf() -> BodySpec:
    hx, hy, h = 0.2, 0.5, 1.8
    shapes = [box((hx, 0.02, h / 2), (0, s * (hy - 0.02), h / 2), WOOD) for s in (-1, 1)]
    shapes.append(box((0.01, hy, h / 2), (hx - 0.01, 0, h / 2), WOOD))  # back panel
    shapes += [box((hx, hy, 0.015), (0, 0, z), WOOD) for z in (0.05, 0.5, 0.95, 1.4, 1.785)]
    return BodySpec("shelf", tuple(shapes), semantic="shelf")


def _wardrobe() -> BodySpec:
    return BodySpec(
        "wardrobe",
        (
            box((0.3, 0.6, 1.0), (0, 0, 1.0), WHITE_PAINT),
            box((0.005, 0.01, 0.15), (-0.305, 0, 1.0), METAL, collide=False),
        ),
        semantic="wardrobe",
    )


def _nightstand() -> BodySpec:
    return BodySpec("nightstand", (box((0.2, 0.2, 0.25), (0, 0, 0.25), WOOD),), semantic="nightstand")


def _tv_stand() -> BodySpec:
    return BodySpec(
        "tv_stand",
        (
            box((0.22, 0.7, 0.25), (0, 0, 0.25), DARK_WOOD),
            box((0.03, 0.6, 0.3), (0.1, 0, 0.85), (0.05, 0.05, 0.06, 1.0)),
        ),
        semantic="tv_stand",
    )


def _bathtub() -> BodySpec:
    hx, hy = 0.4, 0.85
    return BodySpec(
        "bathtub",
        (
            box((hx, hy, 0.04), (0, 0, 0.04), CERAMIC),
            box((0.04, hy, 0.27), (hx - 0.04, 0, 0.27), CERAMIC),
            box((0.04, hy, 0.27), (-hx + 0.04, 0, 0.27), CERAMIC),
            box((hx, 0.04, 0.27), (0, hy - 0.04, 0.27), CERAMIC),
            box((hx, 0.04, 0.27), (0, -hy + 0.04, 0.27), CERAMIC),
        ),
        semantic="bathtub",
    )


def _toilet() -> BodySpec:
    return BodySpec(
        "toilet",
        (
            box((0.12, 0.18, 0.38), (0.18, 0, 0.38), CERAMIC),  # cistern at the rear
            cylinder(0.19, 0.4, (-0.08, 0, 0.2), CERAMIC),
        ),
        semantic="toilet",
    )


def _sink() -> BodySpec:
    return BodySpec(
        "sink",
        (box((0.25, 0.3, 0.4), (0, 0, 0.4), WHITE_PAINT), box((0.02, 0.02, 0.1), (0.15, 0, 0.9), METAL)),
        semantic="sink",
    )


def _table() -> BodySpec:
    return table_spec((0.45, 0.7), 0.74, name="table")


#: kind → catalogue entry
CATALOG: dict[str, FurnitureKind] = {
    "counter": FurnitureKind((0.38, 0.55), 0.75, None),
    "table": FurnitureKind((0.45, 0.7), 0.74, _table),
    "sofa": FurnitureKind((0.45, 1.0), 0.8, _sofa),
    "armchair": FurnitureKind((0.4, 0.4), 0.8, _armchair),
    "tv_stand": FurnitureKind((0.22, 0.7), 1.15, _tv_stand),
    "bed": FurnitureKind((1.0, 0.8), 0.9, _bed),
    "nightstand": FurnitureKind((0.2, 0.2), 0.5, _nightstand),
    "wardrobe": FurnitureKind((0.3, 0.6), 2.0, _wardrobe),
    "shelf": FurnitureKind((0.2, 0.5), 1.8, _shelf),
    "bathtub": FurnitureKind((0.4, 0.85), 0.55, _bathtub),
    "toilet": FurnitureKind((0.3, 0.2), 0.76, _toilet),
    "sink": FurnitureKind((0.25, 0.3), 1.0, _sink),
}

#: what the generator furnishes each room type with, in placement order: (kind, how many) — the first
#: entries are placed first, so they are the ones a small room still gets
ROOM_FURNITURE: dict[str, tuple[tuple[str, int], ...]] = {
    "kitchen": (("counter", 1), ("table", 1), ("shelf", 1)),
    "living_room": (("sofa", 1), ("tv_stand", 1), ("armchair", 1), ("shelf", 1), ("table", 1)),
    "bedroom": (("bed", 1), ("wardrobe", 1), ("nightstand", 1)),
    "bathroom": (("sink", 1), ("toilet", 1), ("bathtub", 1)),
    "corridor": (("shelf", 1),),
}


@dataclass(frozen=True)
class ClutterKind:
    """A movable object: box half extents (m) and mass range (kg)."""

    half_extents: tuple[float, float, float]
    mass: tuple[float, float]
    rgba: tuple[float, float, float, float]


#: light movable clutter a base can push (mass such that friction · m · g stays well below its push force)
CLUTTER: dict[str, ClutterKind] = {
    "carton": ClutterKind((0.15, 0.15, 0.15), (1.0, 3.0), (0.72, 0.56, 0.36, 1.0)),
    "crate": ClutterKind((0.12, 0.2, 0.12), (1.0, 3.0), (0.25, 0.45, 0.75, 1.0)),
    "basket": ClutterKind((0.12, 0.12, 0.18), (0.5, 2.0), (0.80, 0.30, 0.25, 1.0)),
}
#: an obstacle no robot can push (heavy; dynamic so that any disturbance of it counts as effort)
UNMOVABLE = ClutterKind((0.2, 0.2, 0.3), (200.0, 200.0), (0.30, 0.30, 0.30, 1.0))
