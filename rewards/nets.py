"""What the reward families' networks share: the conv geometry their configs and encoders compute, and
``evaluating``, eval mode for a block.

Light: the standard library only (torch for annotations alone), so the config modules (``rewards.lorel.config``,
``rewards.dvd.config``), which must not import torch, can use the conv geometry.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - for the annotation only
    from torch import nn

__all__ = ["conv_output_size", "conv_padding", "conv_stack_side", "evaluating"]


def conv_padding(kernel: int, stride: int) -> int:
    """Zero padding per side (pixels) that makes a conv output ⌈size / stride⌉ wide for the usual
    kernels (3/s1, 3/s2, 4/s2, 5/s2, ...) and none for a patchify conv (kernel == stride), so that
    every input pixel is covered and patches are aligned with the image."""
    return max(0, (kernel - stride + 1) // 2)


def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """Side of a conv output with ``conv_padding`` (pixels)."""
    return (size + 2 * conv_padding(kernel, stride) - kernel) // stride + 1


def conv_stack_side(size: int, kernels: Sequence[int], strides: Sequence[int]) -> int:
    """Side of the last feature map of a stack of convs (``conv_padding`` each) on a ``size``-pixel input (pixels)."""
    for k, s in zip(kernels, strides):
        size = conv_output_size(size, k, s)
    return size


@contextmanager
def evaluating(module: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout, running norm statistics) for the block, then the previous mode again."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)
