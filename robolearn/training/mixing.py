"""Mixing other datasets into every training batch (``extra_data`` / ``extra_fraction`` of both trainers).

Data aggregation trains a model on the planner's own recorded episodes (``robolearn plan record=DIR``)
alongside the offline data: the video model to predict the plans it was wrong about, the reward to reject
the predicted frames of plans that failed. Training on the recording alone forgets the offline data
(measured: a reward fine-tuned on 278 planner episodes alone rejected only 8% of opposite-direction
negatives), so each item of a batch comes from the extra data with probability ``extra_fraction`` and
from the main data otherwise.

* ``draw_source``: which source and which position an item key (seed, step, j) draws. It depends only
  on the key, so a resumed run draws the batches an uninterrupted one would; without extra data it is
  the main data's draw alone, so batches are unchanged by this feature;
* ``mix_differences``: what a resumed run must share (the ``extra_data`` / ``extra_fraction`` knobs of
  ``robolearn.training.settings.LoopSettings`` parse and check the settings);
* ``open_extra``: an extra folder's reader and train / validation split, refused in one line when its
  frames or actions do not fit the main data;
* ``mix_validation``: validation numbers mixed as the batches are (what ``best.pt`` is chosen by);
* ``extra_report``: what the trainers record and print about the extra data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from torch.utils.data import Dataset

from robolearn.config import ConfigError
from robolearn.data.metadata import DatasetError
from robolearn.data.reader import DatasetReader
from robolearn.training.datasets import check_frame_shape, open_split

if TYPE_CHECKING:  # pragma: no cover
    from robolearn.data.loader import SampleKey
    from robolearn.data.reader import DatasetReader

__all__ = [
    "ExtraSplit",
    "KeyedItems",
    "MixedItems",
    "draw_source",
    "extra_report",
    "mix_differences",
    "mix_validation",
    "open_extra",
]

POSITION_STREAM = 0xE915  # rng stream of the position (episode) drawn for each (step, j) key
SOURCE_STREAM = 0x50CE  # rng stream choosing, per (step, j) key, the main or the extra data
# Keys a resumed run must share with its checkpoint: which data was mixed in, and how much of it.
MIX_KEYS = ("extra_data",)
MIX_FRACTION_KEYS = ("extra_fraction",)  # must also match when there is extra data
ADDED_KEY_DEFAULTS: dict[str, list[str]] = {
    "extra_data": []
}  # what checkpoints written before the key existed trained with


class KeyedItems(Protocol):
    """A dataset that draws an item (a dict of tensors and labels) from a ``SampleKey``, with a nominal size."""

    def __len__(self) -> int: ...

    def __getitem__(self, key: SampleKey, /) -> dict[str, Any]: ...


def draw_source(key: SampleKey, sizes: Sequence[int], extra_fraction: float) -> tuple[int, int]:
    """The source and position of the item with key ``key``.

    Args:
        key: the item's (seed, epoch = training step, i = position in the batch).
        sizes: items (episodes) per source: ``sizes[0]`` the main data, ``sizes[1:]`` the extra folders.
        extra_fraction: probability that the item comes from the extra data (ignored without extras).

    Returns:
        (source, position): source 0 = main data, s ≥ 1 = extra folder s − 1; position uniform in
        [0, sizes[source]). Extra folders are drawn in proportion to their size (uniform over all extra
        episodes).
    """
    rng = np.random.default_rng([key.seed, POSITION_STREAM, key.epoch, key.i])
    if len(sizes) > 1 and np.random.default_rng([key.seed, SOURCE_STREAM, key.epoch, key.i]).random() < extra_fraction:
        ends = np.cumsum(sizes[1:])
        g = int(rng.integers(ends[-1]))
        source = int(np.searchsorted(ends, g, side="right"))
        return source + 1, g - (int(ends[source - 1]) if source else 0)
    return 0, int(rng.integers(sizes[0]))


def mix_differences(saved: Mapping[str, Any], raw: Mapping[str, Any], keys: Sequence[str] = ()) -> list[str]:
    """``key: saved != now`` lines for the data mix (and any further ``keys``) a resumed run changed.

    ``saved`` is the checkpoint's training config, ``raw`` this run's. ``extra_fraction`` only matters
    when there is extra data; checkpoints written before ``extra_data`` existed trained without it.
    """
    keys = tuple(keys) + MIX_KEYS + (MIX_FRACTION_KEYS if raw.get("extra_data") else ())
    old = {k: saved.get(k, ADDED_KEY_DEFAULTS.get(k)) for k in keys}
    now = {k: raw.get(k, ADDED_KEY_DEFAULTS.get(k)) for k in keys}
    return [f"{k}: {old[k]!r} != {now[k]!r}" for k in keys if old[k] != now[k]]


@dataclass(frozen=True)
class ExtraSplit:
    """An extra folder opened and split by episode hash as the main data is.

    Attributes:
        path: the folder; reader: its ``DatasetReader``; train, val: episode indices (val may be empty:
        a folder too small for a held-out part is trained on whole and not validated).
    """

    path: Path
    reader: DatasetReader
    train: list[int]
    val: list[int]


def open_extra(
    path: Path,
    val_fraction: float,
    seed: int,
    image_size: int,
    channels: int,
    fix_key: str,
    main_data: Path,
    action_dim: int,
) -> ExtraSplit:
    """Open an ``extra_data`` folder; every misfit is a one-line ``ConfigError`` naming it.

    Args:
        path: the folder.
        val_fraction, seed: the main data's split settings (the same episode hash).
        image_size, channels, fix_key: the model's frame shape and the setting that changes it.
        main_data, action_dim: the main data folder and its action size (the extra's must match).
    """
    try:
        try:
            reader, episodes, train, val = open_split(path, None, val_fraction, seed)
        except ConfigError:  # too few episodes for a held-out part: train on all of them, validate on none
            reader = DatasetReader(path)
            episodes, train, val = reader.indices(), reader.indices(), []
    except DatasetError as e:
        raise ConfigError(f"extra_data: {e}") from None
    if not episodes:
        raise ConfigError(f"extra_data {path} holds no episodes")
    check_frame_shape(reader, episodes[0], image_size, channels, path, fix_key)
    dim = reader.read(episodes[0], "actions").shape[-1]
    if dim != action_dim:
        raise ConfigError(f"extra_data {path} has {dim}-D actions but {main_data} has {action_dim}-D ones")
    return ExtraSplit(path, reader, list(train), list(val))


def mix_validation(
    out: dict[str, Any], parts: Sequence[Mapping[str, Any]], key: str, extra_fraction: float
) -> dict[str, Any]:
    """Add the extra folders' validation to the main data's, in place.

    Args:
        out: the main data's validation numbers.
        parts: each validated extra folder's (same keys); none: ``out`` is returned unchanged.
        key: the number ``best.pt`` is chosen by (``loss``, ``auc``).
        extra_fraction: the batches' share of extra data.

    Returns:
        ``out`` with ``extra`` (the folders' mean of every number), ``main_<key>`` (the main data's) and
        ``<key>`` weighted as the batches mix the sources: main · (1 − fraction) + extra · fraction.
    """
    if not parts:
        return out
    out["extra"] = {
        k: float(np.mean([p[k] for p in parts])) for k, v in parts[0].items() if isinstance(v, (int, float))
    }
    out[f"main_{key}"] = out[key]
    out[key] = float((1 - extra_fraction) * out[key] + extra_fraction * out["extra"][key])
    return out


def extra_report(
    paths: Sequence[Path], counts: Sequence[tuple[int, int]], extra_fraction: float
) -> tuple[dict[str, dict[str, int]], str]:
    """(summary entry, message) for extra folders with (training, validated) episode ``counts``."""
    entry = {str(p): {"train": t, "val": v} for p, (t, v) in zip(paths, counts)}
    listed = ", ".join(f"{p} ({t} training episodes)" for p, (t, _) in zip(paths, counts))
    return entry, f"extra data: {listed}, {extra_fraction:.0%} of every batch"


class MixedItems(Dataset[dict[str, Any]]):
    """Keyed items from a main dataset and extra ones: each key's source is ``draw_source``'s, and the
    source's own item for the same key is returned (for datasets that draw their items from the key,
    e.g. ``RewardPairDataset``), with ``source`` added (0 = main data, s ≥ 1 = extra folder s − 1).

    Args:
        main, extra: the datasets (indexable by ``SampleKey``).
        sizes: episodes per dataset, main first (extra folders are drawn in proportion to them).
        extra_fraction: probability that an item comes from the extra data.
    """

    def __init__(
        self,
        main: KeyedItems,
        extra: Sequence[KeyedItems],
        sizes: Sequence[int],
        extra_fraction: float,
    ):
        if len(sizes) != 1 + len(extra):
            raise ValueError(f"sizes has {len(sizes)} entries for {1 + len(extra)} datasets")
        self.sources, self.sizes, self.extra_fraction = [main, *extra], list(sizes), float(extra_fraction)

    def __len__(self) -> int:
        return len(self.sources[0])

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        source, _ = draw_source(key, self.sizes, self.extra_fraction)
        return {**self.sources[source][key], "source": source}
