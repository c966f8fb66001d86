"""Video clip datasets: clips stored in the episode format, read back, loaded in memory, imported and rendered.

* ``clip``: the ``clip`` attribute, ``ClipInfo`` and ``ClipInfo.label`` (what "same task" means);
* ``reader``: ``ClipReader`` (one clip dataset); ``table``: ``load_clips`` → ``ClipTable`` (all in memory);
* ``importers``: ``robolearn data import ssv2|folder`` (OpenCV decoding, ``decode``);
* ``collect``: ``robolearn collect videos`` (clips rendered by ``sim.actors.clips``);
* ``writing``: the parallel, resumable writer both use.
"""

from __future__ import annotations

from robolearn.data.videos.clip import CLIPS_CONTENT, ClipInfo, clip_label, is_clip_meta, template_class
from robolearn.data.videos.reader import ClipReader
from robolearn.data.videos.table import ClipTable, load_clips

__all__ = [
    "CLIPS_CONTENT",
    "ClipInfo",
    "ClipReader",
    "ClipTable",
    "clip_label",
    "is_clip_meta",
    "load_clips",
    "template_class",
]
