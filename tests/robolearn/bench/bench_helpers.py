"""Job functions for the executor tests (importable by spawned worker processes)."""

from __future__ import annotations

import os
from pathlib import Path


def double(x: int) -> int:
    return 2 * x


def crash_once(job: tuple[str, int]) -> int:
    """The first attempt of each job kills its worker process outright (no exception: the process dies)."""
    marker_dir, x = job
    marker = Path(marker_dir) / f"ran_{x}"
    if not marker.exists():
        marker.touch()
        os._exit(3)
    return 2 * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise RuntimeError("three is not allowed")
    return 2 * x
