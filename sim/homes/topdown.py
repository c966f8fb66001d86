"""A top-down view of a home episode: the map, the doors at their current angles, the clutter, the goal,
the robot and the path it drove. For videos and debugging (``robolearn rollout env=home``); north up.

Example:
    >>> img = top_down_view(env, trajectory=[(1.0, 2.0), (1.2, 2.1)], size=256)  # doctest: +SKIP
    >>> img.shape
    (256, 256, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from sim.homes.geometry import door_panel

if TYPE_CHECKING:  # pragma: no cover
    from sim.envs.home import HomeEnv

FREE = (236, 232, 222)
OCCUPIED = (96, 92, 88)
DOOR = (150, 100, 50)
CLUTTER = (230, 150, 40)
UNMOVABLE = (40, 40, 40)
ROBOT = (40, 90, 220)
PATH = (90, 140, 250)
GOAL = (220, 40, 40)
MARGIN_PX = 4  # pixels of border around the map


def top_down_view(env: HomeEnv, trajectory: Sequence[Sequence[float]] = (), size: int = 256) -> np.ndarray:
    """(size, size, 3) uint8 image of ``env``'s current episode, north up, the map scaled to fit.

    Args:
        env: a reset ``HomeEnv``.
        trajectory: (x, y) robot positions (m) to draw as the driven path.
        size: image side (pixels).
    """
    grid = env.maps.grid
    H, W = grid.occupied.shape
    scale = (size - 2 * MARGIN_PX) / max(H, W)  # pixels per cell
    base = np.where(grid.occupied[::-1, :, None], np.array(OCCUPIED, np.uint8), np.array(FREE, np.uint8))
    img = Image.fromarray(base.astype(np.uint8)).resize(
        (max(int(W * scale), 1), max(int(H * scale), 1)), Image.Resampling.NEAREST
    )
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    ox, oy = (size - img.width) // 2, (size - img.height) // 2
    canvas.paste(img, (ox, oy))
    draw = ImageDraw.Draw(canvas)
    px_per_m = scale / grid.resolution

    def px(xy: Sequence[float] | np.ndarray) -> tuple[float, float]:
        return (ox + (xy[0] - grid.origin[0]) * px_per_m, oy + img.height - (xy[1] - grid.origin[1]) * px_per_m)

    for spec, door in zip(env.plan.doors, env.scene.doors):
        a, b = door_panel(env.plan, spec, door.state())
        draw.line([px(a), px(b)], fill=DOOR, width=max(int(0.06 * px_per_m), 2))
    kinds = [c.kind for c in env.episode.layout.clutter]
    for kind, pos in zip(kinds, env.scene.clutter_positions()):
        r = 0.15 * px_per_m
        x, y = px(pos[:2])
        draw.rectangle([x - r, y - r, x + r, y + r], fill=UNMOVABLE if kind == "unmovable" else CLUTTER)
    if len(trajectory) > 1:
        draw.line([px(q) for q in trajectory], fill=PATH, width=2)
    gx, gy = px(env.goal_position())
    r = max(0.12 * px_per_m, 3)
    draw.polygon([(gx, gy - r), (gx + r, gy), (gx, gy + r), (gx - r, gy)], fill=GOAL)
    x, y, th = env.robot_pose()
    cx, cy = px((x, y))
    rr = env.cfg.base.radius * px_per_m
    draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=ROBOT)
    draw.line([(cx, cy), (cx + rr * 1.6 * np.cos(th), cy - rr * 1.6 * np.sin(th))], fill=(255, 255, 255), width=2)
    return np.asarray(canvas, np.uint8)
