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

    def scan(
        self,
        client: int,
        origin: np.ndarray,
        heading: float,
        rng: np.random.Generator | None,
        ignore_body: int = -1,
        start_offset: float = 0.0,
    ) -> np.ndarray:
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


class LocalMap:
    """Robot-centric occupancy grids (size, size) uint8 from scans of fixed ray ``angles`` (rad).

    The robot is at the grid centre heading up (row 0 is ahead); cells a ray crossed are ``FREE``, cells
    where it ended on a surface ``OCCUPIED`` (a max-range reading ends on nothing), the rest ``UNKNOWN``.
    Where each ray's samples fall depends only on the angles, the range and the grid, so it is worked
    out once here; a scan then only decides how far along each ray is free.
    """

    def __init__(self, angles: np.ndarray, max_range: float, cfg: LocalMapConfig):
        self.angles, self.max_range, self.cfg = np.asarray(angles, float), float(max_range), cfg
        n, res = cfg.size, cfg.extent / cfg.size
        self.n, self.res = n, res
        # Samples every half cell (no crossed cell is skipped), only as far as the grid's corners reach.
        self.dist = np.arange(0.0, min(self.max_range, cfg.extent / np.sqrt(2) + res), res / 2)
        # Robot frame: forward = up the grid (decreasing row), left = decreasing column.
        rows = np.floor(n / 2 - np.cos(self.angles)[:, None] * self.dist[None, :] / res).astype(np.int64)
        cols = np.floor(n / 2 - np.sin(self.angles)[:, None] * self.dist[None, :] / res).astype(np.int64)
        self.on_grid = (rows >= 0) & (rows < n) & (cols >= 0) & (cols < n)  # (R, S)
        self.flat = np.where(self.on_grid, rows * n + cols, 0)  # (R, S) flat cell index of every sample

    def __call__(self, ranges: np.ndarray) -> np.ndarray:
        """(size, size) uint8 grid from one scan's ``ranges`` (R,) m."""
        n, res = self.n, self.res
        grid = np.full(n * n, UNKNOWN, np.uint8)
        r = np.asarray(ranges, np.float64)
        grid[self.flat[self.on_grid & (self.dist[None, :] < r[:, None])]] = FREE
        hit = r < self.max_range - 1e-3
        hr = np.floor(n / 2 - np.cos(self.angles[hit]) * r[hit] / res).astype(np.int64)
        hc = np.floor(n / 2 - np.sin(self.angles[hit]) * r[hit] / res).astype(np.int64)
        ok = (hr >= 0) & (hr < n) & (hc >= 0) & (hc < n)
        grid[hr[ok] * n + hc[ok]] = OCCUPIED
        return grid.reshape(n, n)


def local_occupancy(ranges: np.ndarray, angles: np.ndarray, max_range: float, cfg: LocalMapConfig) -> np.ndarray:
    """Robot-centric occupancy grid (size, size) uint8 from one scan (see ``LocalMap``, which keeps the
    ray geometry between scans)."""
    return LocalMap(angles, max_range, cfg)(ranges)
