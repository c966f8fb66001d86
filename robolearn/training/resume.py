"""Starting a run from a checkpoint: resuming it (refused when the settings differ) or fine-tuning its weights.

* ``split_differences`` and ``refuse_resume``: a resumed run must train the same model on the same data
  split (``SPLIT_KEYS``), else validation episodes would leak into training;
* ``restore_rng``: the global torch RNG state saved in the checkpoint;
* ``init_weights``: a new run's model with a checkpoint's weights (``init_from``).

Every refusal is a one-line ``ConfigError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import torch

from robolearn.config import ConfigError, one_line
from sim.plumbing.checkpoints import CheckpointError

__all__ = ["SPLIT_KEYS", "LoadInto", "init_weights", "refuse_resume", "restore_rng", "split_differences"]

# Keys of a train config that define which episodes are held out: changing them on resume would put
# validation episodes into training (and make validation numbers meaningless), so a resume refuses.
SPLIT_KEYS = ("max_episodes", "val_fraction", "seed")

M = TypeVar("M")
M_contra = TypeVar("M_contra", contravariant=True)


class LoadInto(Protocol[M_contra]):
    """A model kind's ``load_checkpoint``, as ``init_weights`` calls it: ``load(path, model=model)``."""

    def __call__(self, path: Path, /, *, model: M_contra) -> object: ...


def split_differences(
    state: Mapping[str, Any], raw: Mapping[str, Any], identity: Mapping[str, Any], keys: Sequence[str] = SPLIT_KEYS
) -> list[str]:
    """How a checkpoint's data split differs from this run's: ``key: saved != now`` lines.

    Args:
        state: the loaded checkpoint info (its ``extra`` holds ``config`` and ``dataset``).
        raw: this run's resolved config.
        identity: this run's ``dataset_identity``.
        keys: the config keys that define the split.
    """
    extra = state.get("extra") or {}
    saved = dict(extra.get("config") or {})
    out = [f"{k}: {saved.get(k)!r} != {raw.get(k)!r}" for k in keys if saved.get(k) != raw.get(k)]
    old_identity = extra.get("dataset")
    if old_identity is not None and old_identity != dict(identity):
        out.append(f"dataset: {old_identity} != {dict(identity)}")
    return out


def refuse_resume(path: Path, model_diffs: Sequence[str], split_diffs: Sequence[str]) -> None:
    """Raise a one-line ``ConfigError`` when a resumed run's model settings or data split differ from
    the checkpoint at ``path`` (``model_diffs`` / ``split_diffs``: ``key: saved != now`` lines)."""
    fix = f"use a new out= folder, or rerun with the settings stored in {path}"
    if model_diffs:
        raise ConfigError(
            f"{path} was trained with other model settings ({'; '.join(model_diffs)}) (checkpoint != this run); {fix}"
        )
    if split_diffs:
        raise ConfigError(
            f"{path} was trained on another data split ({'; '.join(split_diffs)}) "
            f"(checkpoint != this run); resuming would train on its validation episodes; {fix}"
        )


def restore_rng(extra: Mapping[str, Any]) -> None:
    """Restore the global torch RNG state saved in a checkpoint's ``extra`` (if any)."""
    if extra.get("torch_rng_state") is not None:
        torch.set_rng_state(torch.as_tensor(extra["torch_rng_state"], dtype=torch.uint8))


def _override_value(value: Any) -> str:
    """A config value as a command-line override writes it (``[16,32]``, ``true``, ``null``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_override_value(v) for v in value) + "]"
    return str(value)


def init_weights(model: M, path: Path, load: LoadInto[M], prefix: str = "") -> M:
    """``model`` with the weights (and buffers) of the checkpoint at ``path`` (``init_from``: fine-tuning).

    ``load(path, model=model)`` is the model kind's ``load_checkpoint``; a missing file or a checkpoint of
    another configuration is a one-line ``ConfigError`` naming ``init_from``; for the latter, the overrides that
    give the model the checkpoint's config (``prefix``: the model's config node, e.g. ``dynamics.``).
    """
    try:
        load(path, model=model)
    except CheckpointError as e:
        if e.differences:
            diffs = "; ".join(f"{k}: {a!r} != {b!r}" for k, a, b in e.differences)
            sets = " ".join(f"{prefix}{k}={_override_value(a)}" for k, a, _ in e.differences)
            raise ConfigError(
                f"init_from={path} was trained with other model settings ({diffs}) (checkpoint != this run): "
                f"to fine-tune it, set {sets}"
            ) from None
        raise ConfigError(f"init_from={path}: {one_line(str(e))}") from None
    except FileNotFoundError as e:
        raise ConfigError(f"init_from={path}: {one_line(str(e))}") from None
    return model
