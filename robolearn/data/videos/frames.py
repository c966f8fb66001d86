"""Frame arithmetic shared by the importers and ``load_clips``: even resampling in time, resize + centre crop.

OpenCV (``cv2``) does the resizing: area interpolation when shrinking (what averages the pixels a frame loses,
so thin edges do not alias), bilinear when enlarging.
"""

from __future__ import annotations

import numpy as np

__all__ = ["even_indices", "fit_square", "fit_square_frames"]


def even_indices(n: int, num_frames: int) -> np.ndarray:
    """int64 (num_frames,): frame numbers evenly spaced over ``n`` frames, first and last included.

    With fewer frames than asked, frames repeat (a 10-frame video resampled to 20 shows each frame twice).

    Raises:
        ValueError: ``n`` < 1 or ``num_frames`` < 1.
    """
    if n < 1 or num_frames < 1:
        raise ValueError(f"cannot resample {n} frames to {num_frames}")
    return np.linspace(0, n - 1, num_frames).round().astype(np.int64)


def fit_square(frame: np.ndarray, size: int) -> np.ndarray:
    """One frame (H, W, 3) uint8 → (size, size, 3): the shorter side scaled to ``size``, the longer centre-cropped."""
    import cv2  # lazy: only resizing needs OpenCV (~0.1 s to import)

    h, w = frame.shape[:2]
    if (h, w) == (size, size):
        return frame
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(np.ascontiguousarray(frame), (nw, nh), interpolation=interp)
    top, left = (nh - size) // 2, (nw - size) // 2
    return np.ascontiguousarray(resized[top : top + size, left : left + size])


def fit_square_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """(n, H, W, 3) uint8 → (n, size, size, 3) uint8, each frame by ``fit_square`` (no copy when already so)."""
    if frames.shape[1:3] == (size, size):
        return frames
    return np.stack([fit_square(f, size) for f in frames]) if len(frames) else np.zeros((0, size, size, 3), np.uint8)
