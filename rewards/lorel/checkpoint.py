"""LOReL reward checkpoints: the checkpoint protocol of ``sim.plumbing.checkpoints`` with the reward's format.

A checkpoint is a ``torch.save``-d dict, read back with ``torch.load(weights_only=True)``::

    format: "robolearn.reward"   version: 1   model: "LorelReward"
    config: {...}                # LorelConfig.to_dict()
    state_dict: {...}            # weights, WITHOUT a frozen text encoder's (reloaded by config.text_model)
    optimizer: {...} | None      # optimizer.state_dict()
    step: int                    # training step
    extra: {...}                 # anything plain the trainer wants: training config, metrics, ...
    torch_version: str

Writes are atomic (temporary file + rename). Loading into an existing model whose config differs
(other than the runtime fields ``dropout``, ``score_chunk``, ``channels_last``) raises a
``CheckpointError`` naming the differing fields.

Example:
    >>> save_checkpoint("runs/lorel/last.pt", model, optimizer, step=1000, extra={"val_auc": 0.93})
    >>> model, state = load_checkpoint("runs/lorel/last.pt")
    >>> optimizer.load_state_dict(state["optimizer"]); step = state["step"]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rewards.lorel.config import RUNTIME_FIELDS, LorelConfig
from rewards.lorel.model import LorelReward, state_problems
from sim.plumbing.checkpoints import CheckpointError, CheckpointKind, load_kind, read_kind, save_kind
from sim.plumbing.checks import PlainConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "MODELS",
    "REWARD",
    "RUNTIME_FIELDS",
    "CheckpointError",
    "load_checkpoint",
    "load_model",
    "read_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "robolearn.reward"
CHECKPOINT_VERSION = 1
#: model classes a checkpoint can name: class name -> (model class, config class)
MODELS: dict[str, tuple[type[nn.Module], type[PlainConfig]]] = {"LorelReward": (LorelReward, LorelConfig)}
#: the kind of file this module reads and writes
REWARD = CheckpointKind(
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    MODELS,
    RUNTIME_FIELDS,
    "reward",
    "rewards.lorel.load_model(path)",
    state_problems,
    "robolearn train",
)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: LorelReward,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` (+ optimizer state, step, extra) to ``path`` atomically.

    The file is written to a temporary file in the same folder, flushed to disk, then renamed over
    ``path`` (``os.replace``), so a crash leaves either the old checkpoint or the new one, never half
    a file. Parent folders are created.

    Returns:
        The checkpoint path.
    """
    return save_kind(REWARD, path, model, optimizer, step, extra)


def read_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, after checking it is a robolearn reward checkpoint this code can read.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: unreadable, not a reward checkpoint, or from a newer format version.
    """
    return read_kind(REWARD, path, map_location)


def load_checkpoint(
    path: str | os.PathLike[str], map_location: Any = "cpu", model: LorelReward | None = None
) -> tuple[LorelReward, dict[str, Any]]:
    """Load a checkpoint written by ``save_checkpoint``.

    Args:
        path: the checkpoint file.
        map_location: where tensors go (``torch.load``'s argument); the model is moved there too.
        model: load into this existing model instead of building one from the stored config. Its
            config must equal the checkpoint's, except in ``RUNTIME_FIELDS`` (dropout, score_chunk,
            channels_last), which keep the model's values.

    Returns:
        (model, state): the model, in eval mode, and a dict with ``step``, ``optimizer`` (a state dict
        for ``optimizer.load_state_dict``, or None), ``extra``, ``config`` (plain dict), ``version``.

    Raises:
        FileNotFoundError: no file.
        CheckpointError: not a (readable) reward checkpoint, or its weights do not fit ``model`` — the
            message names the differing config fields / tensors and how to fix it.
    """
    return load_kind(REWARD, path, map_location, model)  # type: ignore[return-value]


def load_model(path: str | os.PathLike[str], map_location: Any = "cpu") -> LorelReward:
    """The model stored in a checkpoint, ready to score (eval mode). See ``load_checkpoint``."""
    return load_checkpoint(path, map_location)[0]
