"""Surface colours: the training and held-out palettes, distances to the held-out one, and wide colour draws.

The held-out palette is what the ``new_colors`` variant (``sim.variants``) shows. Randomization that must keep that
variant unseen (the "human" videos' scenes, ``sim.video_randomization``; the robot env's ``palette: wide``,
``sim.randomization``) draws colours with ``draw_outside_palette``, which redraws any colour within a margin of it.
"""

from __future__ import annotations

import numpy as np

# Colours of the surfaces that randomization recolours (body name → rgb), for the training palette
# and for the held-out palette of the "new_colors" variant. Mugs keep their identity (white/black).
TRAIN_PALETTE: dict[str, tuple[float, float, float]] = {
    "desk": (0.62, 0.45, 0.30),
    "floor": (0.55, 0.55, 0.52),
    "wall": (0.80, 0.78, 0.72),
    "drawer": (0.62, 0.45, 0.30),
    "cabinet": (0.62, 0.45, 0.30),
    "pedestal": (0.30, 0.30, 0.32),
}
HELDOUT_PALETTE: dict[str, tuple[float, float, float]] = {
    "desk": (0.25, 0.32, 0.45),
    "floor": (0.78, 0.72, 0.60),
    "wall": (0.50, 0.62, 0.52),
    "drawer": (0.30, 0.55, 0.35),
    "cabinet": (0.55, 0.30, 0.45),
    "pedestal": (0.60, 0.55, 0.20),
}
MUG_BRIGHTNESS = {"white_mug": (0.85, 1.0), "black_mug": (0.03, 0.15)}  # allowed grey levels
_PALETTE = np.array(list(HELDOUT_PALETTE.values()), float)  # (P, 3)
_PAIRS = ((0, 1), (0, 2), (1, 2))


def palette_distances(rgb: np.ndarray, darkest: float | np.ndarray = 1.0) -> np.ndarray:
    """Smallest L∞ distance (per RGB channel, 0–1 scale) from any shade ``s · rgb``, ``s`` ∈ [darkest, 1], to any
    colour of ``HELDOUT_PALETTE``, for (B, 3) colours (``darkest`` a number or (B,)) → (B,). Exact: per palette colour the distance is convex
    and piecewise linear in ``s``, so its minimum is at an end, where a channel's term vanishes (``h_i / c_i``)
    or where two channels' terms cross (``(h_i ∓ h_j) / (c_i ∓ c_j)``)."""
    c = np.asarray(rgb, float).reshape(-1, 3)[:, None, :]  # (B, 1, 3)
    h = _PALETTE[None]  # (1, P, 3)
    lo = np.broadcast_to(np.asarray(darkest, float), (c.shape[0],))[:, None, None]  # (B, 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cand = [h / c]
        for i, j in _PAIRS:
            for sg in (1.0, -1.0):
                cand.append(((h[..., i] - sg * h[..., j]) / (c[..., i] - sg * c[..., j]))[..., None])
    shape = (c.shape[0], h.shape[1])
    parts = [lo, np.ones((1, 1, 1)), *cand]
    s = np.concatenate([np.broadcast_to(a, (*shape, a.shape[2])) for a in parts], axis=2)  # (B, P, M)
    s = np.clip(np.nan_to_num(s, nan=1.0, posinf=1.0, neginf=0.0), lo, 1.0)
    dist = np.abs(s[..., None] * c[:, :, None, :] - h[:, :, None, :]).max(axis=3)  # (B, P, M)
    return dist.min(axis=(1, 2))


def palette_distance(rgb: tuple[float, float, float] | np.ndarray, darkest: float = 1.0) -> float:
    """``palette_distances`` of one colour."""
    return float(palette_distances(np.asarray(rgb, float)[None], darkest)[0])


def near_heldout_palette(rgb: tuple[float, float, float] | np.ndarray, margin: float, darkest: float = 1.0) -> bool:
    """Whether colour ``rgb`` (or a shade of it down to ``darkest`` × it, as a texture shows) lies within ``margin``
    (L∞ per channel) of a held-out palette colour."""
    return palette_distance(rgb, darkest) < margin


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """(..., 3) HSV in [0, 1] → (..., 3) RGB (``colorsys.hsv_to_rgb``, vectorised)."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    pq = [v, v * (1.0 - s * f), v * (1.0 - s), v * (1.0 - s * (1.0 - f))]  # v, q, p, t
    i = i.astype(int) % 6
    order = np.array([[0, 3, 2], [1, 0, 2], [2, 0, 3], [2, 1, 0], [3, 2, 0], [0, 2, 1]])  # rgb per sector
    stack = np.stack(pq, axis=-1)
    return np.take_along_axis(stack, order[i], axis=-1)


def draw_outside_palette(
    rng: np.random.Generator,
    names: list[str],
    saturation: np.ndarray,
    value: np.ndarray,
    darkest: np.ndarray,
    margin: float,
    max_draws: int,
    fix: str,
    batch: int = 16,
) -> dict[str, tuple[float, float, float]]:
    """One colour per name, hue over the whole circle, none within ``margin`` of the held-out palette.

    Args:
        rng: the generator (advanced by ``batch`` × 3 uniforms per name still without a colour, per round).
        names: what each colour is for (a surface, a distractor); n of them.
        saturation, value: (n, 2) [low, high] HSV ranges per name (unitless, 0–1).
        darkest: (n,) the darkest shade of each colour a texture shows (1 = untextured; see ``palette_distances``).
        margin: L∞ distance per RGB channel (0–1 scale) every shade must keep from every held-out colour.
        max_draws: candidates tried per name before giving up; ``batch`` are drawn at once (one vectorised check).
        fix: what the error tells the user to change (the caller's knobs).

    Returns:
        name → RGB in [0, 1].

    Raises:
        ValueError: ``max_draws`` candidates for a name all fell within the margin; the message names it and ``fix``.
    """
    out: dict[str, tuple[float, float, float]] = {}
    todo = list(range(len(names)))
    for _ in range(max(1, max_draws // batch)):
        if not todo:
            return out
        sat, val = np.asarray(saturation, float)[todo], np.asarray(value, float)[todo]
        k = len(todo)
        hsv = np.stack(
            [
                rng.uniform(0.0, 1.0, (k, batch)),
                rng.uniform(sat[:, :1], sat[:, 1:], (k, batch)),
                rng.uniform(val[:, :1], val[:, 1:], (k, batch)),
            ],
            axis=2,
        )
        rgb = hsv_to_rgb(hsv)  # (k, batch, 3)
        shade = np.repeat(np.asarray(darkest, float)[todo], batch)
        ok = (palette_distances(rgb.reshape(-1, 3), shade) >= margin).reshape(k, batch)
        left = []
        for row, i in enumerate(todo):
            hits = np.flatnonzero(ok[row])
            if len(hits):
                r, g, b = rgb[row, hits[0]]
                out[names[i]] = (float(r), float(g), float(b))
            else:
                left.append(i)
        todo = left
    if todo:
        raise ValueError(
            f"no {names[todo[0]]} colour outside the held-out palette's margin ({margin}) in {max_draws} draws; {fix}"
        )
    return out
