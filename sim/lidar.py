"""A 1-beam planar LiDAR by ray casting, and the robot-centric occupancy grid built from its scan."""

from __future__ import annotations

import numpy as np
import pybullet as p

from sim.home_config import LidarConfig, LocalMapConfig

FREE, UNKNOWN, OCCUPIED = 0, 128, 255  # local-map cell values (uint8)


class Lidar:
    """Casts ``num_rays`` rays in the horizontal plane over ``fov`` degrees centred on the heading.

    Ray i points at heading + angles[i], angles running from −fov/2 (right) to +fov/2 (left).
    """

    def __init__(self, cfg: LidarConfig):
        self.cfg = cfg
        half = np.radians(cfg.fov) / 2
        # A full circle would cast the first and last ray the same way: leave out the duplicate.
        endpoint = cfg.fov < 360.0
        self.angles = np.linspace(-half, half, cfg.num_rays, endpoint=endpoint) if cfg.num_rays > 1 else np.zeros(1)

    def scan(self, client: int, origin: np.ndarray, heading: float, rng: np.random.Generator | None,
             ignore_body: int = -1, start_offset: float = 0.0) -> np.ndarray:
        """Ranges (num_rays,) float32 in metres, in [min_range, range]; misses read ``range``.

        Noise (Gaussian ``noise_std``, ``dropout``) is drawn from ``rng`` when given (None = noise-free).
        Rays start ``start_offset`` m from the centre (outside the robot's own body: a ray reports only
        its first hit, so one starting inside the chassis would see nothing else); ranges are measured
        from the centre. Hits on ``ignore_body`` are treated as misses.
        """
        c = self.cfg
        a = heading + self.angles
        direction = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=1)
        start = origin[None, :] + direction * start_offset
        end = origin[None, :] + direction * c.range
        hits = p.rayTestBatch(start.tolist(), end.tolist(), numThreads=c.threads, physicsClientId=client)
        frac = np.array([h[2] if h[0] not in (-1, ignore_body) else 1.0 for h in hits], dtype=np.float64)
        ranges = start_offset + frac * (c.range - start_offset)
        if rng is not None:
            if c.noise_std > 0:
                ranges = ranges + rng.normal(0.0, c.noise_std, ranges.shape)
            if c.dropout > 0:
                ranges = np.where(rng.random(ranges.shape) < c.dropout, c.range, ranges)
        return np.clip(ranges, c.min_range, c.range).astype(np.float32)


def local_occupancy(ranges: np.ndarray, angles: np.ndarray, max_range: float, cfg: LocalMapConfig) -> np.ndarray:
    """Robot-centric occupancy grid (size, size) uint8 from one scan.

    The robot is at the grid centre heading up (row 0 is ahead); cells a ray crossed are ``FREE``,
    cells where it ended on a surface ``OCCUPIED`` (a max-range reading ends on nothing), the rest
    ``UNKNOWN``.
    """
    n, res = cfg.size, cfg.extent / cfg.size
    grid = np.full((n, n), UNKNOWN, np.uint8)
    step = res / 2  # sample each ray at half a cell, so no crossed cell is skipped
    dist = np.arange(0.0, max_range, step)
    r = ranges.astype(np.float64)[:, None]
    # Robot frame: forward = up the grid (decreasing row), left = decreasing column.
    fwd = np.cos(angles)[:, None] * dist[None, :]
    left = np.sin(angles)[:, None] * dist[None, :]
    inside = dist[None, :] < r
    rows = np.floor(n / 2 - fwd / res).astype(np.int64)
    cols = np.floor(n / 2 - left / res).astype(np.int64)
    ok = inside & (rows >= 0) & (rows < n) & (cols >= 0) & (cols < n)
    grid[rows[ok], cols[ok]] = FREE
    hit = ranges < max_range - 1e-3
    hr = np.floor(n / 2 - np.cos(angles[hit]) * ranges[hit] / res).astype(np.int64)
    hc = np.floor(n / 2 - np.sin(angles[hit]) * ranges[hit] / res).astype(np.int64)
    ok = (hr >= 0) & (hr < n) & (hc >= 0) & (hc < n)
    grid[hr[ok], hc[ok]] = OCCUPIED
    return grid
