"""The dataset a training run or an evaluation reads: its split, its identity, and whether it fits the model.

* ``open_dataset``: a reader, after the cheap checks of ``robolearn.data.verify`` (and not of an empty folder);
* ``open_split``: a reader and the by-episode train/validation split of a training run;
* ``held_out_episodes``: an evaluation's view of the split a checkpoint was trained with;
* ``dataset_identity``: what identifies a dataset when its folder moves (recorded in checkpoints);
* ``check_frame_shape`` and ``needs_proprio``: refuse data the model cannot read (frame size,
  proprioception), with the setting to change.

Every problem is a one-line ``ConfigError`` (or ``DatasetError``, for a damaged dataset).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from robolearn.config import ConfigError
from robolearn.data.loader import split_episodes
from robolearn.data.metadata import DatasetError
from robolearn.data.reader import DatasetReader
from robolearn.data.verify import check_dataset

if TYPE_CHECKING:  # pragma: no cover
    from robolearn.data.reader import DatasetReader

__all__ = [
    "ProprioConfig",
    "check_frame_shape",
    "dataset_identity",
    "held_out_episodes",
    "needs_proprio",
    "open_dataset",
    "open_split",
]


def open_dataset(data: str | os.PathLike[str]) -> DatasetReader:
    """A dataset opened for training or evaluation, after the checks that cost little
    (``robolearn.data.verify.check_dataset``: files, index tables, each file's first episode against meta.json).

    Raises:
        DatasetError: not a dataset, a damaged file, or no episodes (one line with the fix).
    """
    reader = DatasetReader(data)
    if not len(reader):
        raise DatasetError(
            f"{data} holds no episodes: its collection has not finished one yet, or its files were deleted; "
            f"collect into it with robolearn collect out={data}"
        )
    check_dataset(reader)
    return reader


def open_split(
    data: Path, max_episodes: int | None, val_fraction: float, seed: int
) -> tuple[DatasetReader, list[int], list[int], list[int]]:
    """Open a dataset and split its first ``max_episodes`` episodes by episode hash.

    Returns:
        (reader, episodes, train, val).

    Raises:
        ConfigError: either split is empty. DatasetError: not a dataset.
    """
    reader = open_dataset(data)
    episodes = reader.indices()[:max_episodes]
    train_eps, val_eps = split_episodes(episodes, val_fraction, seed)
    if not train_eps or not val_eps:
        raise ConfigError(
            f"{data}: {len(episodes)} episodes give {len(train_eps)} training and {len(val_eps)} "
            f"validation episodes at val_fraction={val_fraction}; both must be non-empty"
        )
    return reader, episodes, train_eps, val_eps


def held_out_episodes(
    state: Mapping[str, Any], checkpoint: Path, data: Path | None, max_episodes: int | str, max_val_episodes: int | None
) -> tuple[Path, DatasetReader, list[int], dict[str, Any], dict[str, Any]]:
    """The validation split a checkpoint was trained with, for its evaluation.

    Args:
        state: the loaded checkpoint info (its ``extra.config`` is the training config).
        checkpoint: its path (for messages).
        data: the dataset folder, or None for the one the checkpoint was trained on.
        max_episodes: ``checkpoint`` (as in training), ``all``, or a count: the episodes the split is made over.
        max_val_episodes: keep at most this many held-out episodes (the first ones), None = all.

    Returns:
        (data folder, reader, held-out episode indices, training config, split) where split holds the
        ``max_episodes``, ``val_fraction`` and ``seed`` the split was made with.
    """
    train_cfg = dict((state.get("extra") or {}).get("config") or {})
    if data is None and not train_cfg.get("data"):
        raise ConfigError(f"{checkpoint} does not record its training data; pass data=FOLDER")
    folder = data if data is not None else Path(train_cfg["data"])
    if data is None and not folder.is_dir():
        raise ConfigError(
            f"{checkpoint} was trained on {folder}, which is not there (moved or deleted?); pass data=FOLDER"
        )
    val_fraction, split_seed = float(train_cfg.get("val_fraction", 0.1)), int(train_cfg.get("seed", 0))
    limit = cast(  # an int or None once checked (EvalSettings: `checkpoint`, `all` or an int)
        "int | None",
        train_cfg.get("max_episodes")
        if max_episodes == "checkpoint"
        else (None if max_episodes == "all" else max_episodes),
    )
    reader = open_dataset(folder)
    _, val_eps = split_episodes(reader.indices()[:limit], val_fraction, split_seed)
    split = {"max_episodes": limit, "val_fraction": val_fraction, "seed": split_seed}
    return folder, reader, val_eps[:max_val_episodes], train_cfg, split


def dataset_identity(reader: DatasetReader) -> dict[str, Any]:
    """What identifies a dataset across moves/renames of its folder: its creation time and seed."""
    return {"created": reader.meta.get("created"), "seed": reader.meta.get("seed")}


def check_frame_shape(
    reader: DatasetReader, episode: int, image_size: int, channels: int, data: Path, fix_key: str
) -> None:
    """Refuse a dataset whose frames are not image_size × image_size × channels (``fix_key``: the setting
    to change)."""
    frame = reader.frames(episode, "rgb", 0)  # (H, W, C)
    want = (image_size, image_size, channels)
    if tuple(frame.shape) != want:
        raise ConfigError(
            f"{data} has {frame.shape[1]}×{frame.shape[0]}×{frame.shape[2]} frames but the model "
            f"expects {want[1]}×{want[0]}×{want[2]}; set {fix_key}={frame.shape[0]}"
        )


class ProprioConfig(Protocol):
    """What ``needs_proprio`` reads of a model's config: the size of the proprioception it takes (0: none)."""

    @property
    def proprio_dim(self) -> int: ...


def needs_proprio(
    config: ProprioConfig,
    reader: DatasetReader,
    data: str | os.PathLike[str],
    key: str = "dynamics.proprio_dim",
    checkpoint: str | os.PathLike[str] | None = None,
) -> bool:
    """Whether a model with ``config`` reads proprioception; raises ``ConfigError`` if the dataset lacks it.

    ``key`` is the config key of the model's ``proprio_dim`` named in the fix (``policy.proprio_dim``, ...);
    with ``checkpoint`` (a trained model being evaluated, whose config is fixed) the fix is other data instead.
    """
    if not config.proprio_dim:
        return False
    spec = (reader.meta.get("observations") or {}).get("proprio")
    if spec is None:
        if checkpoint is not None:
            raise ConfigError(
                f"{data} has no proprioception but the model of {checkpoint} conditions on it ({key}="
                f"{config.proprio_dim}); evaluate it on data collected with env.obs_keys=[rgb,proprio] (data=FOLDER)"
            )
        raise ConfigError(
            f"{data} has no proprioception but the model conditions on it ({key}="
            f"{config.proprio_dim}); collect with env.obs_keys=[rgb,proprio], or set {key}=0"
        )
    size = int(spec["shape"][-1])
    if size != config.proprio_dim:
        if checkpoint is not None:
            raise ConfigError(
                f"{data} has {size}-D proprioception but the model of {checkpoint} expects {config.proprio_dim} "
                f"({key}); evaluate it on data of the env it was trained in (data=FOLDER)"
            )
        raise ConfigError(
            f"{data} has {size}-D proprioception but the model expects {config.proprio_dim}; set {key}={size}"
        )
    return True
