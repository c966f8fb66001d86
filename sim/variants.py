"""Named environment variants: the training distribution and held-out shifts (as DVD evaluated).

Each held-out variant changes exactly one factor relative to "train":
    new_colors: object, furniture and desk colours drawn from a palette never used in training.
    new_viewpoint: the camera moved to a different, fixed pose.
    new_arrangement: the drawer and the cabinet swap sides, the faucet and button move.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    palette: str = "train"  # which colour palette to draw from
    camera_eye_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    camera_target_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mirror_furniture: bool = False  # swap drawer/cabinet sides and mirror faucet/button in y


VARIANTS: dict[str, Variant] = {
    "train": Variant("train", "the training layout, colours and viewpoint"),
    "new_colors": Variant("new_colors", "held-out colours for furniture, desk and floor", palette="heldout"),
    "new_viewpoint": Variant(
        "new_viewpoint",
        "camera moved 35 cm sideways and 15 cm lower",
        camera_eye_offset=(-0.05, 0.35, -0.15),
        camera_target_offset=(0.0, 0.05, 0.0),
    ),
    "new_arrangement": Variant(
        "new_arrangement", "drawer and cabinet swap sides; faucet and button mirrored", mirror_furniture=True
    ),
}
