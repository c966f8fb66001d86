"""DVD reward checkpoints: the checkpoint protocol of ``sim.plumbing.checkpoints`` with a format of their own.

A checkpoint is a ``torch.save``-d dict, read back with ``torch.load(weights_only=True)``::

    format: "robolearn.dvd"   version: 1   model: "DVDReward"
    config: {...}                # DVDConfig.to_dict(): architecture, frame count, image size, pixel normalisation
    state_dict: {...}            # every weight (the encoder included: DVD never saved its encoder)
    optimizer: {...} | None
    step: int
    extra: {"vocabulary": {...}, ...}   # DVDVocabulary.to_dict(): labels, labels with robot clips, actors, variants;
                                        # plus the trainer's entries (training config, data, metrics, RNG state)
    torch_version: str

Everything ``DVDReward.score`` needs is in the file; the vocabulary defines the evaluation's splits (tasks seen only in
human videos, the held-out actor). Writes are atomic. A file of another kind (a LOReL reward, a video model), a
damaged one, or one whose config differs from the model it is loaded into is a one-line ``CheckpointError``.

Example:
    >>> save_checkpoint("runs/dvd/last.pt", model, optimizer, step=1000, extra={"val_auc": 0.93})
    >>> model = load_model("runs/dvd/best.pt")      # eval mode, model.vocabulary set
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rewards.dvd.config import RUNTIME_FIELDS, DVDConfig, DVDVocabulary
from rewards.dvd.model import DVDReward, state_problems
from sim.plumbing.checkpoints import CheckpointError, CheckpointKind, load_kind, read_kind, save_kind
from sim.plumbing.checks import PlainConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "DVD",
    "MODELS",
    "VOCABULARY_KEY",
    "CheckpointError",
    "load_checkpoint",
    "load_model",
    "read_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "robolearn.dvd"
CHECKPOINT_VERSION = 1
#: the key of ``extra`` that holds the ``DVDVocabulary``
VOCABULARY_KEY = "vocabulary"
MODELS: dict[str, tuple[type[nn.Module], type[PlainConfig]]] = {"DVDReward": (DVDReward, DVDConfig)}
#: the kind of file this module reads and writes
DVD = CheckpointKind(
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    MODELS,
    RUNTIME_FIELDS,
    "DVD reward",
    "rewards.dvd.load_model(path)",
    state_problems,
    "robolearn train dvd",
)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: DVDReward,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` (+ its ``vocabulary``, optimizer state, step, extra) to ``path`` atomically.

    Returns:
        The checkpoint path.
    """
    payload = {**dict(extra or {}), VOCABULARY_KEY: model.vocabulary.to_dict()}
    return save_kind(DVD, path, model, optimizer, step, payload)


def read_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, after checking it is a DVD reward checkpoint this code can read.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: unreadable, another kind of checkpoint, or from a newer format version.
    """
    return read_kind(DVD, path, map_location)


def load_checkpoint(
    path: str | os.PathLike[str], map_location: Any = "cpu", model: DVDReward | None = None
) -> tuple[DVDReward, dict[str, Any]]:
    """Load a checkpoint written by ``save_checkpoint``.

    Args:
        path: the checkpoint file.
        map_location: where tensors go; the model is moved there too.
        model: load into this existing model instead of building one; its config must equal the checkpoint's
            except in ``RUNTIME_FIELDS``.

    Returns:
        (model, info): the model in eval mode with its ``vocabulary`` set, and ``step``, ``optimizer``, ``extra``,
        ``config``, ``version``.

    Raises:
        FileNotFoundError: no file.
        CheckpointError: not a (readable) DVD reward checkpoint, or its weights / vocabulary do not fit (one line
            naming the file and the fix).
    """
    loaded, info = load_kind(DVD, path, map_location, model)
    assert isinstance(loaded, DVDReward)  # load_kind builds one of DVD.models
    try:
        loaded.vocabulary = DVDVocabulary.from_dict(info["extra"].get(VOCABULARY_KEY))
    except ValueError as e:
        raise CheckpointError(
            f"{path} holds an invalid vocabulary ({e}); retrain it with `robolearn train dvd`"
        ) from None
    return loaded, info


def load_model(path: str | os.PathLike[str], map_location: Any = "cpu") -> DVDReward:
    """The model stored in a checkpoint, ready to score (eval mode, vocabulary set). See ``load_checkpoint``."""
    return load_checkpoint(path, map_location)[0]
