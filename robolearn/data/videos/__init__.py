"""Video clip datasets: clips stored in the episode format, read back, loaded in memory, imported and rendered.

* ``clip``: the ``clip`` attribute, ``ClipInfo`` and ``ClipInfo.label`` (what "same task" means);
* ``reader``: ``ClipReader`` (one clip dataset); ``table``: ``load_clips`` → ``ClipTable`` (all in memory);
* ``importers``: ``robolearn data import ssv2|folder`` (OpenCV decoding, ``decode``);
* ``collect``: ``robolearn collect videos`` (clips rendered by ``sim.actors.clips``);
* ``writing``: the parallel, resumable writer both use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the names below are loaded on first use
    from robolearn.data.videos.clip import CLIPS_CONTENT, ClipInfo, clip_label, is_clip_meta, template_class
    from robolearn.data.videos.reader import ClipReader
    from robolearn.data.videos.table import ClipTable, load_clips

#: public name → its module: loaded on first use, so that the light config module of ``collect videos``
#: (``collect_config``, imported when configs are built) does not load h5py through this package
_EXPORTS = {
    "CLIPS_CONTENT": "clip",
    "ClipInfo": "clip",
    "clip_label": "clip",
    "is_clip_meta": "clip",
    "template_class": "clip",
    "ClipReader": "reader",
    "ClipTable": "table",
    "load_clips": "table",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
