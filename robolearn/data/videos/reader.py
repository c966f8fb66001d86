"""``ClipReader``: the clips of a clip dataset (``meta["content"] == "clips"``), their descriptions and frames.

A thin layer over ``robolearn.data.reader.DatasetReader`` (random access, lazy per-process files, the fast frame
path): it refuses a dataset that does not declare clips, and decodes each clip's ``clip`` attribute into a
``ClipInfo`` (``robolearn.data.videos.clip``). Packed shards hold every clip's attribute in one column, so
``infos()`` over a packed dataset reads one string table per shard.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robolearn.data.metadata import FIX_CORRUPT, DatasetError
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import META_FILE
from robolearn.data.videos.clip import CLIP_ATTR, CLIPS_CONTENT, ClipInfo, is_clip_meta

__all__ = ["ClipReader"]


class ClipReader:
    """The clips of the dataset at ``root``.

    Args:
        root: a dataset folder written by ``robolearn collect videos`` or ``robolearn data import``.

    Raises:
        DatasetError: not a robolearn dataset, or one that does not declare clips (an interaction dataset).
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.dataset = DatasetReader(self.root)
        if not is_clip_meta(self.dataset.meta):
            self.dataset.close()
            raise DatasetError(
                f"{self.root} is not a clip dataset ({self.root / META_FILE} does not declare "
                f'"content": "{CLIPS_CONTENT}"); make one with `robolearn collect videos out={self.root}` '
                "or `robolearn data import ssv2|folder ...`"
            )
        self.meta: dict[str, Any] = self.dataset.meta
        self._infos: dict[int, ClipInfo] = {}

    def __len__(self) -> int:
        return len(self.dataset)

    def __repr__(self) -> str:
        return f"ClipReader({str(self.root)!r}, clips={len(self)})"

    def indices(self) -> list[int]:
        """Clip (episode) indices, ascending."""
        return self.dataset.indices()

    def info(self, index: int) -> ClipInfo:
        """What clip ``index`` shows (decoded once, then cached).

        Raises:
            KeyError: no such clip. DatasetError: the clip has no valid ``clip`` attribute.
        """
        info = self._infos.get(int(index))
        if info is None:
            attr = self.dataset.attrs(index, [CLIP_ATTR])[CLIP_ATTR]
            try:
                info = ClipInfo.from_attr(index, attr)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise DatasetError(
                    f"{self.dataset.file_of(index)}: clip {index} has an invalid {CLIP_ATTR!r} attribute ({err!r}); "
                    f"{FIX_CORRUPT}"
                ) from None
            self._infos[int(index)] = info
        return info

    def infos(self) -> list[ClipInfo]:
        """Every clip's ``ClipInfo``, in index order."""
        return [self.info(i) for i in self.indices()]

    def num_frames(self, index: int) -> int:
        """T+1: frames stored for clip ``index``."""
        return self.dataset.length(index) + 1

    def frames(self, index: int, sel: int | slice | Sequence[int] | np.ndarray = slice(None)) -> np.ndarray:
        """Frames of clip ``index``: uint8 (n, H, W, 3) for a slice or a list of frame numbers, (H, W, 3) for an int."""
        return self.dataset.frames(index, "rgb", sel)

    def object_states(self, index: int) -> np.ndarray:
        """float32 (T+1, K): the objects' states at each frame (K = 0 for imported videos)."""
        return self.dataset.read(index, "object_states")

    def close(self) -> None:
        """Close this process's open files (reopened on use)."""
        self.dataset.close()

    def __enter__(self) -> ClipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
