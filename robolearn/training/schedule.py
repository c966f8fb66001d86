"""The learning-rate schedule of the trainers: linear warm-up, then cosine decay to a floor (``lr_at``)."""

from __future__ import annotations

import math
from typing import Protocol

__all__ = ["Schedule", "lr_at"]


class Schedule(Protocol):
    """The settings ``lr_at`` reads (``LoopSettings`` has them)."""

    @property
    def lr(self) -> float: ...

    @property
    def steps(self) -> int: ...

    @property
    def warmup_steps(self) -> int: ...

    @property
    def min_lr_fraction(self) -> float: ...


def lr_at(step: int, s: Schedule) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warm-up over ``s.warmup_steps``, then
    cosine decay to ``s.lr · s.min_lr_fraction`` at ``s.steps``."""
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = min(1.0, (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps))
    floor = s.lr * s.min_lr_fraction
    return floor + (s.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
