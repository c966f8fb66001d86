"""Atomic file writing: a crash, a full disk or Ctrl-C leaves the old file or the new one, never half of one.

Everything robolearn writes (datasets, checkpoints, metadata, annotations, videos, floor plans) goes through
these helpers: the content is written to a temporary file in the destination's folder (same file system,
so the final rename is atomic on POSIX) and renamed onto the destination only when complete; on an
exception the temporary file is removed.

Example:
    >>> with atomic_open("runs/x/summary.json", "w") as f:  # doctest: +SKIP
    ...     f.write("{}")
    >>> with atomic_path("data/shard_00000.h5") as tmp:  # doctest: +SKIP
    ...     h5py.File(tmp, "w").close()  # a library that wants a path, not a file object
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["TMP_MARKER", "atomic_open", "atomic_path", "fsync_path", "publish", "tmp_path_for", "write_json_atomic"]

#: infix of the temporary files next to a destination (``<name>.tmp-<pid>``); a dead writer's leftovers
#: carry it, so readers and cleaners can recognise them
TMP_MARKER = ".tmp-"


def tmp_path_for(final: Path) -> Path:
    """``<name>.tmp-<pid>`` next to ``final`` (same file system, so the rename is atomic)."""
    return final.with_name(f"{final.name}{TMP_MARKER}{os.getpid()}")


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's) data to disk; a folder's fsync makes renames and unlinks durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: Path, final: Path, durable: bool) -> None:
    """Rename a finished ``tmp`` onto ``final`` (atomic on POSIX), fsyncing file and folder if ``durable``."""
    if durable:
        fsync_path(tmp)
    os.replace(tmp, final)
    if durable:
        fsync_path(final.parent)


@contextmanager
def atomic_path(final: str | os.PathLike[str], durable: bool = False, tmp: Path | None = None) -> Iterator[Path]:
    """A temporary path for a writer that needs a file name (h5py, ffmpeg); published as ``final`` when the
    block ends without an exception, removed when it raises. ``tmp`` overrides the temporary name (e.g. to
    keep a suffix a library reads the format from). Parents are created."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp if tmp is not None else tmp_path_for(final)
    try:
        yield tmp
        publish(tmp, final, durable)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` for writing; on success it is fsynced and renamed onto
    ``path``, on an exception deleted. Parents are created. ``mode``: "wb" or "w" (UTF-8 text)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike[str], data: object, **dump_kwargs: Any) -> Path:
    """``json.dump`` ``data`` (indented, trailing newline) to ``path`` atomically (``atomic_open``)."""
    with atomic_open(path, "w") as f:
        json.dump(data, f, indent=2, **dump_kwargs)
        f.write("\n")
    return Path(path)
