"""Clips for the DVD reward's training and evaluation: loading, the split by clip, and the pools pairs are drawn from.

The clip datasets are read through ``robolearn.data.videos`` (``load_clips``: every clip of a dataset in memory, its
frames resampled to the model's frame count and size, with a ``ClipInfo`` per clip). What this module reads of a
clip's info is the ``ClipLike`` protocol, so tests can build clips in memory.

Terms used by the trainer and the evaluation:

* a clip *demonstrates* its label when its measured outcome is a success (``outcome`` not in ``NEGATIVE_OUTCOMES``:
  "done", or "none" for a clip whose label names no intended change); failed, partial and pretending clips are
  negatives for their own label;
* the *domain* of a clip: robot (``is_robot``) or human (every other actor, rendered or imported);
* the split: each dataset's clips go to validation iff a hash of (seed, clip index) falls below ``val_fraction``
  (``robolearn.data.loader.split_episodes``): adding clips never moves one between splits.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from robolearn.data.loader import split_episodes

__all__ = [
    "NEGATIVE_OUTCOMES",
    "OUTCOME_RANK",
    "ClipLike",
    "ClipSet",
    "LoadClips",
    "Pool",
    "load_clip_set",
    "root_key",
]

#: outcomes of an attempt that did not do its label's task: negatives for their label
NEGATIVE_OUTCOMES = ("partial", "failed", "pretending")
#: how far an attempt got, for the ranking check: done > partial > failed / pretending
OUTCOME_RANK = {"done": 2, "partial": 1, "failed": 0, "pretending": 0}


class ClipLike(Protocol):
    """What the DVD trainer and evaluation read of a clip's info (``robolearn.data.videos.ClipInfo`` has it)."""

    @property
    def index(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def is_robot(self) -> bool: ...
    @property
    def outcome(self) -> str: ...
    @property
    def variant(self) -> str: ...
    @property
    def progress(self) -> np.ndarray | None: ...


@dataclass
class ClipSet:
    """The clips of one dataset in memory.

    Attributes:
        root: the dataset folder (as given).
        frames: uint8 (N, F, S, S, 3): each clip resampled to F frames of S × S.
        infos: N clip infos (``ClipLike``), in the order of ``frames``.
        state_change: object state name → float32 (N,): its change from the first frame to the last, NaN where
            unknown (``robolearn.data.videos.ClipTable.state_change``); empty when the dataset records none.
    """

    root: str
    frames: np.ndarray
    infos: list[Any]
    state_change: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.frames.ndim != 5 or self.frames.dtype != np.uint8 or len(self.infos) != self.frames.shape[0]:
            raise ValueError(
                f"{self.root}: clip frames must be uint8 (N, F, S, S, 3) with one info per clip, got "
                f"{self.frames.dtype} {self.frames.shape} and {len(self.infos)} infos"
            )
        for name, values in self.state_change.items():
            if np.shape(values) != (len(self.infos),):
                raise ValueError(
                    f"{self.root}: state_change[{name!r}] must hold one value per clip ({len(self.infos)}), got "
                    f"shape {np.shape(values)}"
                )

    def head(self, n: int) -> ClipSet:
        """The first ``n`` clips."""
        return ClipSet(self.root, self.frames[:n], self.infos[:n], {k: v[:n] for k, v in self.state_change.items()})


#: ``load(root, num_frames, image_size) → ClipSet``: how a dataset folder is read (tests pass their own)
LoadClips = Callable[[Path, int, int], ClipSet]


def load_clip_set(root: Path, num_frames: int, image_size: int) -> ClipSet:
    """Every clip of the clip dataset at ``root`` (``robolearn.data.videos.load_clips``), resampled to ``num_frames``
    frames of ``image_size`` pixels.

    Raises:
        robolearn.data.metadata.DatasetError: ``root`` is not a clip dataset (one line naming it).
    """
    from robolearn.data.videos import load_clips  # lazy: the video datasets' readers (h5py, opencv)

    table = load_clips([Path(root)], num_frames, image_size)
    return ClipSet(str(root), np.asarray(table.frames), list(table.infos), dict(table.state_change))


def root_key(root: str | os.PathLike[str]) -> str:
    """A dataset folder as the split and the checkpoint record it: its absolute, normalised path."""
    return os.path.normpath(os.path.abspath(os.fspath(root)))


def split_clips(clips: ClipSet, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(training, validation) positions in ``clips``, split by each clip's ``index`` (``split_episodes``)."""
    indices = [int(info.index) for info in clips.infos]
    train, val = split_episodes(indices, val_fraction, seed)
    where = {index: i for i, index in enumerate(indices)}
    return [where[i] for i in train], [where[i] for i in val]


def demonstrates(info: Any) -> bool:
    """Whether a clip shows its label's task done (see the module docstring)."""
    return str(info.outcome) not in NEGATIVE_OUTCOMES


def final_progress(info: Any) -> float | None:
    """The clip's progress at its last frame, in [0, 1], or None when unknown (imported videos)."""
    progress = getattr(info, "progress", None)
    if progress is None or len(progress) == 0:
        return None
    return float(np.clip(np.asarray(progress, dtype=np.float64)[-1], 0.0, 1.0))


@dataclass
class Pool:
    """Clips gathered from several ``ClipSet`` s (frames stacked) with the indexes pairs are drawn from.

    Attributes:
        frames: uint8 (N, F, S, S, 3).
        infos: N infos; ``sources``: N (dataset root key, clip index) pairs.
        labels, robot, positive: per clip: its label, whether a robot made it, whether it demonstrates its label.
        progress: float32 (N,) final progress, NaN where unknown.
        state_change: object state name → float32 (N,) change over the clip, NaN where unknown (``ClipSet``).
    """

    frames: np.ndarray
    infos: list[Any]
    sources: list[tuple[str, int]]
    state_change: dict[str, np.ndarray] = field(default_factory=dict)
    labels: np.ndarray = field(init=False)
    robot: np.ndarray = field(init=False)
    positive: np.ndarray = field(init=False)
    progress: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.labels = np.array([str(i.label) for i in self.infos], dtype=object)
        self.robot = np.array([bool(i.is_robot) for i in self.infos], dtype=bool)
        self.positive = np.array([demonstrates(i) for i in self.infos], dtype=bool)
        self.progress = np.array(
            [np.nan if (p := final_progress(i)) is None else p for i in self.infos], dtype=np.float32
        )

    @classmethod
    def gather(cls, parts: Sequence[tuple[ClipSet, Sequence[int]]]) -> Pool:
        """The clips at the given positions of each clip set, in order."""
        frames, infos, sources = [], [], []
        names = sorted({name for clips, positions in parts if len(positions) for name in clips.state_change})
        change: dict[str, list[np.ndarray]] = {name: [] for name in names}
        for clips, positions in parts:
            if len(positions):
                at = np.asarray(positions, dtype=np.int64)
                frames.append(clips.frames[at])
                infos += [clips.infos[i] for i in positions]
                sources += [(root_key(clips.root), int(clips.infos[i].index)) for i in positions]
                for name in names:
                    values = clips.state_change.get(name)
                    change[name].append(
                        np.full(len(at), np.nan, np.float32) if values is None else np.asarray(values, np.float32)[at]
                    )
        if not frames:
            return cls(np.zeros((0, 1, 1, 1, 3), np.uint8), [], [])
        return cls(np.concatenate(frames), infos, sources, {k: np.concatenate(v) for k, v in change.items()})

    def state_changes(self, names: Sequence[str]) -> np.ndarray:
        """float32 (N, len(names)): each clip's change of each named object state, NaN where unknown."""
        out = np.full((len(self), len(names)), np.nan, np.float32)
        for j, name in enumerate(names):
            if name in self.state_change:
                out[:, j] = self.state_change[name]
        return out

    def __len__(self) -> int:
        return len(self.infos)

    def where(self, mask: np.ndarray) -> np.ndarray:
        """Positions (int64) where ``mask`` holds."""
        return np.flatnonzero(mask)


def label_groups(pool: Pool, positions: np.ndarray, labels: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``positions`` grouped by label (label → int64 positions, ascending), labels sorted; ``labels``: one per pool
    clip to group by instead of ``pool.labels``."""
    keys = pool.labels if labels is None else labels
    out: dict[str, list[int]] = {}
    for i in positions.tolist():
        out.setdefault(str(keys[i]), []).append(i)
    return {k: np.asarray(out[k], dtype=np.int64) for k in sorted(out)}
