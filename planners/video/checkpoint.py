"""Video-model checkpoints: the checkpoint protocol of ``sim.plumbing.checkpoints`` with their own format.

A checkpoint is a ``torch.save``-d dict, read back with ``torch.load(weights_only=True)``::

    format: "robolearn.dynamics"   version: 1   model: "VideoModel"
    config: {...}          # VideoConfig.to_dict()
    state_dict: {...}      # weights
    optimizer: {...} | None
    step: int
    extra: {...}           # the trainer's: training config, dataset identity, metrics, RNG state
    torch_version: str

Writes are atomic (temporary file + rename). Loading into an existing model whose config differs
(other than the runtime fields ``sample``, ``chunk``, ``channels_last``) raises a ``CheckpointError``
naming the differing fields.

Example:
    >>> save_checkpoint("runs/video/last.pt", model, optimizer, step=1000, extra={"val_loss": 0.01})
    >>> model = load_model("runs/video/best.pt")   # eval mode, ready to predict
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from planners.video.config import RUNTIME_FIELDS, VideoConfig
from planners.video.model import VideoModel
from sim.plumbing.checkpoints import CheckpointError, CheckpointKind, load_kind, read_kind, save_kind
from sim.plumbing.checks import state_dict_problems

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "VIDEO",
    "CheckpointError",
    "load_checkpoint",
    "load_model",
    "read_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "robolearn.dynamics"
CHECKPOINT_VERSION = 1
#: the kind of file this module reads and writes
VIDEO = CheckpointKind(
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    {"VideoModel": (VideoModel, VideoConfig)},
    RUNTIME_FIELDS,
    "video-model",
    "planners.video.load_model(path)",
    lambda model, state: state_dict_problems(model.state_dict(), state),
    "robolearn train dynamics",
)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: VideoModel,
    optimizer: torch.optim.Optimizer | None = None,
    step: int = 0,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (+ optimizer state, step, plain ``extra``) to ``path`` atomically; returns the path."""
    return save_kind(VIDEO, path, model, optimizer, step, extra)


def read_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """The raw checkpoint dict, after checking it is a video-model checkpoint this code can read.

    Raises:
        FileNotFoundError: no file. CheckpointError: unreadable, another kind of checkpoint, or newer.
    """
    return read_kind(VIDEO, path, map_location)


def load_checkpoint(
    path: str | os.PathLike[str], map_location: Any = "cpu", model: VideoModel | None = None
) -> tuple[VideoModel, dict[str, Any]]:
    """Load a checkpoint written by ``save_checkpoint``.

    Args:
        path: the checkpoint file.
        map_location: where tensors go; the model is moved there too.
        model: load into this model instead of building one from the stored config; its config must
            equal the checkpoint's except in ``RUNTIME_FIELDS`` (sample, chunk, channels_last).

    Returns:
        (model, info): the model in eval mode; info has ``step``, ``optimizer``, ``extra``, ``config``, ``version``.

    Raises:
        FileNotFoundError, CheckpointError (naming the differing config fields or tensors).
    """
    return load_kind(VIDEO, path, map_location, model)  # type: ignore[return-value]


def load_model(path: str | os.PathLike[str], map_location: Any = "cpu", **runtime: Any) -> VideoModel:
    """The model stored in a checkpoint, ready to predict (eval mode).

    ``runtime`` overrides runtime config fields (``sample``, ``chunk``, ``channels_last``), e.g.
    ``load_model(path, sample="sample")``.
    """
    bad = sorted(set(runtime) - set(RUNTIME_FIELDS))
    if bad:
        raise ValueError(
            f"load_model: {bad} are not runtime fields; only {list(RUNTIME_FIELDS)} can be changed without retraining"
        )
    if not runtime:
        return load_checkpoint(path, map_location)[0]
    data = read_checkpoint(path, map_location)
    try:
        config = VideoConfig.from_dict({**data["config"], **runtime})
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{str(path)!r}: {err}") from None
    return load_checkpoint(path, map_location, model=VideoModel(config))[0]
