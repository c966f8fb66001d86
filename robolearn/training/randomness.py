"""Randomness keyed by (seed, stream, step), so that a resumed run draws what an uninterrupted one would.

Each random decision of a training step (augmentation, which items get predicted frames, a stochastic
model's noise) takes its own stream id and a generator from ``keyed_generator(seed, stream, step)``,
instead of advancing one global RNG whose state a resume would have to reproduce exactly.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["keyed_generator"]


def keyed_generator(seed: int, stream: int, step: int) -> torch.Generator:
    """A torch generator that depends only on (seed, stream, step): resume-safe per-step randomness."""
    g = torch.Generator()
    g.manual_seed(int(np.random.SeedSequence([seed, stream, step]).generate_state(1, np.uint64)[0] >> 1))
    return g
