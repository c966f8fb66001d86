"""Synthetic clip sets for the DVD tests: coloured shapes moving over a background, in memory.

The label is the direction of the motion (``left``, ``right``, ``up``, ``down``); the "robot" is a square, the other
actors a disk, a cross and a ring (each with its own size and speed); failed attempts do not move, partial ones move a
third of the way, pretending ones move and come back. A static distractor shape of another colour sits in each clip.
Each clip records the actor's displacement over it as the object states ``x`` and ``y`` (pixels).
Robot clips can be rendered in held-out variants: ``new_colors`` (background colours outside the training range),
``new_viewpoint`` (the whole scene shifted and shrunk), ``new_arrangement`` (the distractor on the other side).
Deterministic in the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robolearn.training.dvd_data import ClipSet

DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
ACTORS = {"square": 3, "disk": 4, "cross": 4, "ring": 5}  # actor → half size (pixels); "square" is the robot
ROBOT = "square"


@dataclass(frozen=True)
class SynthInfo:
    """A synthetic clip's info: the ``ClipLike`` fields (and ``task``, as ``ClipInfo`` has)."""

    index: int
    label: str
    actor: str
    is_robot: bool
    outcome: str
    variant: str
    progress: np.ndarray | None
    task: str | None = None


def _shape_mask(actor: str, cx: float, cy: float, size: int, grid: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    yy, xx = grid
    r = ACTORS[actor]
    dx, dy = xx - cx, yy - cy
    if actor == "square":
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if actor == "disk":
        return dx**2 + dy**2 <= r**2
    if actor == "cross":
        return ((np.abs(dx) <= 1) & (np.abs(dy) <= r)) | ((np.abs(dy) <= 1) & (np.abs(dx) <= r))
    return (dx**2 + dy**2 <= r**2) & (dx**2 + dy**2 >= (r - 2) ** 2)


def make_clips(
    n: int,
    seed: int,
    actors: Sequence[str] = ("square", "disk", "cross"),
    labels: Sequence[str] = tuple(DIRECTIONS),
    outcomes: Sequence[str] = ("done",),
    variant: str = "train",
    frames: int = 4,
    size: int = 32,
    root: str = "synthetic",
    start_index: int = 0,
) -> ClipSet:
    """``n`` clips, cycling over actors × labels × outcomes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    grid = np.mgrid[0:size, 0:size].astype(np.float32)
    out = np.zeros((n, frames, size, size, 3), np.uint8)
    moved = np.zeros((n, 2), np.float32)
    infos = []
    combos = [(a, lab, o) for a in actors for lab in labels for o in outcomes]
    for i in range(n):
        actor, label, outcome = combos[(i + start_index) % len(combos)]
        bg = rng.uniform(0.55, 0.95, 3) if variant == "new_colors" else rng.uniform(0.05, 0.45, 3)
        fg = rng.uniform(0.6, 1.0, 3) if variant != "new_colors" else rng.uniform(0.0, 0.4, 3)
        scale, offset = (0.75, size * 0.15) if variant == "new_viewpoint" else (1.0, 0.0)
        dx, dy = DIRECTIONS[label]
        travel = size * 0.4 * rng.uniform(0.85, 1.15)
        start = np.array([size / 2, size / 2]) - 0.5 * travel * np.array([dx, dy]) + rng.uniform(-2, 2, 2)
        t = np.linspace(0.0, 1.0, frames)
        if outcome == "done":
            frac = t
        elif outcome == "partial":
            frac = t / 3
        elif outcome == "pretending":
            frac = 0.5 * (1 - np.abs(2 * t - 1))
        else:
            frac = np.zeros_like(t)
        progress = {"done": t, "partial": t / 3}.get(outcome, np.zeros_like(t)).astype(np.float32)
        side = 1 if variant == "new_arrangement" else -1
        distractor = (size / 2 + side * size * 0.35, size * 0.2)
        for k in range(frames):
            img = np.broadcast_to(bg, (size, size, 3)).copy()
            img[_shape_mask("disk", *distractor, size, grid)] = (0.2, 0.9, 0.2)
            cx, cy = start + frac[k] * travel * np.array([dx, dy])
            cx, cy = cx * scale + offset, cy * scale + offset
            img[_shape_mask(actor, cx, cy, size, grid)] = fg
            img += rng.normal(0, 0.02, img.shape)
            out[i, k] = np.clip(img * 255, 0, 255).astype(np.uint8)
        moved[i] = (frac[-1] - frac[0]) * travel * np.array([dx, dy]) * scale
        infos.append(SynthInfo(start_index + i, label, actor, actor == ROBOT, outcome, variant, progress, label))
    return ClipSet(root, out, infos, {"x": moved[:, 0], "y": moved[:, 1]})


def concat(root: str, *parts: ClipSet) -> ClipSet:
    """One clip set of several (indices renumbered in order)."""
    infos = []
    for part in parts:
        for info in part.infos:
            infos.append(
                SynthInfo(
                    len(infos),
                    *[
                        getattr(info, f)
                        for f in ("label", "actor", "is_robot", "outcome", "variant", "progress", "task")
                    ],
                )
            )
    names = sorted({name for p in parts for name in p.state_change})
    change = {n: np.concatenate([p.state_change[n] for p in parts]) for n in names}
    return ClipSet(root, np.concatenate([p.frames for p in parts]), infos, change)
