"""``load_clips``: every clip of one or more clip datasets in memory, at one length and one size.

DVD's training reads random pairs of whole clips many times over; at 20 frames of 64×64 a clip is 246 kB, so
10,000 clips (2.5 GB) fit in memory and decoding them once beats decoding them every epoch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from robolearn.data.metadata import DatasetError
from robolearn.data.videos.clip import ClipInfo
from robolearn.data.videos.frames import even_indices, fit_square_frames
from robolearn.data.videos.reader import ClipReader

__all__ = ["ClipTable", "load_clips"]


@dataclass
class ClipTable:
    """Clips in memory.

    Attributes:
        frames: uint8 (N, F, S, S, 3): each clip evenly resampled to F frames and resized to S×S.
        infos: N ``ClipInfo`` (aligned with ``frames``); ``infos[k].index`` is the clip's index in its dataset.
        dataset: int64 (N,): which of ``roots`` each clip came from.
        roots: the dataset folders, in the order given.
        progress: float32 (N, F): each clip's progress at the resampled frames, NaN where unknown (imports).
        state_change: object state name → float32 (N,): how much that state changed from the clip's first frame to
            its last (metres for positions, radians or joint units for joints: ``sim.state``), NaN for the clips of a
            dataset that does not record it (imported videos record none); names from the clip's
            ``info["object_state_names"]`` (rendered clips), else ``meta["object_state_names"]``.
    """

    frames: np.ndarray
    infos: list[ClipInfo]
    dataset: np.ndarray
    roots: list[Path]
    progress: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    state_change: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.infos)

    @property
    def labels(self) -> list[str]:
        """Each clip's ``ClipInfo.label`` (the class "same task" compares)."""
        return [i.label for i in self.infos]

    def select(self, mask: np.ndarray | Sequence[bool]) -> ClipTable:
        """The clips where ``mask`` is True (views of the arrays where numpy can)."""
        keep = np.flatnonzero(np.asarray(mask, dtype=bool))
        return ClipTable(
            frames=self.frames[keep],
            infos=[self.infos[k] for k in keep.tolist()],
            dataset=self.dataset[keep],
            roots=list(self.roots),
            progress=self.progress[keep],
            state_change={k: v[keep] for k, v in self.state_change.items()},
        )


def load_clips(
    roots: Sequence[str | os.PathLike[str]],
    num_frames: int,
    image_size: int,
    progress_bar: bool = False,
) -> ClipTable:
    """Load every clip of ``roots`` into memory.

    Args:
        roots: clip dataset folders (``robolearn collect videos`` / ``robolearn data import``).
        num_frames: F, frames per clip after even resampling (first and last frame kept).
        image_size: S, pixels per side after resizing (shorter side) and centre-cropping.
        progress_bar: show a tqdm bar.

    Returns:
        A ``ClipTable`` (frames uint8 (N, F, S, S, 3)).

    Raises:
        DatasetError: a folder that is not a clip dataset, or a damaged file.
        ValueError: ``num_frames`` or ``image_size`` < 1, or no roots.
    """
    if num_frames < 1 or image_size < 1:
        raise ValueError(f"load_clips: num_frames and image_size must be ≥ 1, got {num_frames} and {image_size}")
    if not roots:
        raise ValueError("load_clips: no clip datasets given")
    readers = [ClipReader(r) for r in roots]
    total = sum(len(r) for r in readers)
    frames = np.empty((total, num_frames, image_size, image_size, 3), np.uint8)
    progress = np.full((total, num_frames), np.nan, np.float32)
    infos: list[ClipInfo] = []
    dataset = np.empty(total, np.int64)
    change: dict[str, np.ndarray] = {}
    k = 0
    with tqdm(total=total, desc="loading clips", unit="clip", disable=not progress_bar, dynamic_ncols=True) as bar:
        for d, reader in enumerate(readers):
            meta_names = [str(n) for n in reader.meta.get("object_state_names") or []]
            with reader:
                for index in reader.indices():
                    info = reader.info(index)
                    n = reader.num_frames(index)
                    picks = even_indices(n, num_frames)
                    clip = reader.frames(index, picks)
                    frames[k] = fit_square_frames(clip, image_size)
                    if info.progress is not None:
                        if len(info.progress) != n:
                            raise DatasetError(
                                f"{reader.dataset.file_of(index)}: clip {index} has {len(info.progress)} progress "
                                f"values for {n} frames; the file is damaged: collect the dataset again"
                            )
                        progress[k] = info.progress[picks]
                    # rendered clips name their states in their info (a dataset may mix scenes); else the meta's
                    names = [str(x) for x in (info.info or {}).get("object_state_names") or meta_names]
                    if names:
                        states = reader.object_states(index)
                        if states.shape != (n, len(names)):
                            raise DatasetError(
                                f"{reader.dataset.file_of(index)}: clip {index} has object states of shape "
                                f"{states.shape}, expected ({n}, {len(names)}) (frames, object_state_names); the file "
                                "is damaged: collect the dataset again"
                            )
                        for j, name in enumerate(names):
                            values = change.setdefault(name, np.full(total, np.nan, np.float32))
                            values[k] = states[picks[-1], j] - states[picks[0], j]
                    infos.append(info)
                    dataset[k] = d
                    k += 1
                    bar.update()
    return ClipTable(
        frames=frames,
        infos=infos,
        dataset=dataset,
        roots=[r.root for r in readers],
        progress=progress,
        state_change=change,
    )
