"""The HDF5 files of a dataset: what writer and reader share beyond ``robolearn.data.schema``.

What it holds:

* the layout of the tables ``DatasetWriter.pack`` adds to each shard (``index``, ``frame_chunks/<modality>``,
  ``episode_attrs/<key>``) and the HDF5 file-format bounds (``LIBVER``);
* writing a file crash-safely (``atomic_h5``: a tmp file published by ``sim.plumbing.files.atomic_path``)
  and stamping it as a robolearn file (``stamp``);
* opening, identifying and version-checking a finished file (``open_h5``, ``check_file``,
  ``read_index_table``), with ``DatasetError`` messages that say how to fix it;
* listing a dataset's finished shards and loose episode files (``list_shards``, ``list_loose``; tmp
  files never match);
* whether a frame can be read as one raw chunk + ``zlib.decompress`` (``fast_frames_ok``).

Storage per 64×64 RGB episode of T = 20 (``benchmarks/loader_speed.py``, rendered desk frames):
~29 kB, of which ~16 kB compressed frames, ~9.5 kB other arrays (mostly float64 states), ~3.8 kB HDF5
itself (headers of the episode's 9 objects, chunk indexes, attributes, string heaps) and ~0.2 kB
shard tables.

The other storage modules: ``robolearn.data.metadata`` (``meta.json``, ``DatasetError``; imported here),
``robolearn.data.writer`` (``DatasetWriter``) and ``robolearn.data.reader`` (``DatasetReader``), which
both import this one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from robolearn.data.metadata import FIX_CORRUPT, DatasetError, version_error
from robolearn.data.schema import EPISODES_DIR, FORMAT_NAME, FORMAT_VERSION, SHARD_GLOB
from sim.plumbing.files import atomic_path, reserve_space

__all__ = [
    "ATTR_COLUMNS",
    "ATTR_COLUMNS_GROUP",
    "CHUNK_CACHE_BYTES",
    "FILE_KIND_EPISODE",
    "FILE_KIND_SHARD",
    "FRAME_CHUNKS_GROUP",
    "GROUP_NAME_BYTES",
    "INDEX_DATASET",
    "INDEX_DTYPE",
    "IN_MEMORY_MAX_BYTES",
    "JSON_ATTRS",
    "LIBVER",
    "OPTIONAL_ATTR_COLUMNS",
    "OPTIONAL_JSON_ATTRS",
    "atomic_h5",
    "check_file",
    "fast_frames_ok",
    "list_loose",
    "list_shards",
    "open_h5",
    "read_index_table",
    "stamp",
]


# HDF5 file-format bounds: the v1.10 object formats have much smaller headers than the 1.8-compatible
# defaults (a 64×64 test episode in a 100-episode file: 35.9 kB → 29.3 kB, measured), "latest" gives
# the same size, and a v1.10 lower bound keeps the files readable by any HDF5 ≥ 1.10 rather than only
# by the library that wrote them.
LIBVER: tuple[str, str] = ("v110", "latest")
FILE_KIND_EPISODE = "episode"  # root attribute "kind" of a loose episode file
FILE_KIND_SHARD = "shard"  # ... and of a shard
INDEX_DATASET = "index"  # per-shard table of the episodes it holds, read when a dataset is opened
# One row per episode; ``group`` is the file-local group (``schema.episode_group``), stored so that a
# reader never has to list a shard's 1000 groups.
GROUP_NAME_BYTES = 32  # "data/ep_0000123" is 15 bytes; room for indices up to 10^23
INDEX_DTYPE = np.dtype([("episode", "<i8"), ("length", "<i8"), ("seed", "<i8"), ("group", f"S{GROUP_NAME_BYTES}")])

# Episode-group attributes stored as JSON strings; the others are ints (index, seed, length) or plain
# strings (task, exploration).
JSON_ATTRS = ("labels", "instructions", "heldout_instructions", "scene_params")
# JSON attributes only some episodes have: ``clip`` (what a video clip shows, robolearn.data.videos). An episode
# without one stores nothing, so interaction datasets keep their exact bytes.
OPTIONAL_JSON_ATTRS = ("clip",)
# Small string attributes that ``pack`` also copies into per-shard columns ``episode_attrs/<key>``
# (variable-length UTF-8 strings, one row per ``index`` row), so that a reader gets them for a whole
# shard in one read instead of opening each episode group (~130 µs for two attributes, measured).
# scene_params is left out: larger, and not needed per training sample.
ATTR_COLUMNS_GROUP = "episode_attrs"
ATTR_COLUMNS = ("task", "exploration", "labels", "instructions", "heldout_instructions")
# Optional attributes that ``pack`` copies into a column when every episode of the shard has them (a clip
# dataset's ``clip``: a reader gets every clip's description in one read per shard).
OPTIONAL_ATTR_COLUMNS = ("clip",)
# Per-shard tables of where each image frame's compressed chunk lies in the file, written by ``pack``:
# ``frame_chunks/<modality>/{start, offset, nbytes}`` (int64; ``start`` has one entry per index row
# plus one, rows start[j]:start[j+1] are the frames of index row j). With them a reader gets a frame
# with one ``os.pread`` + ``zlib.decompress`` (~20 µs at 64×64) instead of opening the episode's
# HDF5 dataset first (~50 µs more, measured): what makes random (s0, s_t) sampling fast. The files
# stay ordinary HDF5: other tools ignore the tables. Written only for modalities whose chunks are
# deflate-only, one frame each, with the same frame shape and dtype in every episode of the shard.
FRAME_CHUNKS_GROUP = "frame_chunks"
# h5py's per-dataset chunk cache for the generic read path (the fast path bypasses it): a few frames.
CHUNK_CACHE_BYTES = 1 << 20

#: files expected larger than this (a shard of big frames) are written straight to disk, not built in memory
#: first (``atomic_h5``); 30 MB is a default shard of 64×64 episodes
IN_MEMORY_MAX_BYTES = 1 << 30
#: free space required for a file written straight to disk, as a multiple of its expected size
DIRECT_SPACE_MARGIN = 1.25

_SHARD_RE = re.compile(r"^shard_(\d+)\.h5$")
_LOOSE_RE = re.compile(r"^ep_(\d+)\.h5$")
_DEFLATE = h5py.h5z.FILTER_DEFLATE


# ----------------------------------------------------------------------------------------- writing
@contextmanager
def atomic_h5(final: Path, durable: bool, expected_bytes: int = 0) -> Iterator[h5py.File]:
    """Write an HDF5 file at a tmp path; on success publish it as ``final``, on error remove the tmp.

    The tmp path is ``<name>.tmp-<pid>`` (``sim.plumbing.files.tmp_path_for``): ``DatasetWriter.clean_tmp``
    recognises a killed writer's leftovers by ``schema.TMP_MARKER`` and the pid after it.

    A full disk (or quota, or a file too large) is an ``OutputError`` naming ``final``, never a crash or a
    half-written file published. Why it takes care: HDF5 (2.0, h5py 3.16, measured) does most of its writing
    when objects and the file are closed; a write that fails there is only printed ("Exception ignored in
    ObjectID.__dealloc__"), so a file with missing data could be published, or HDF5 crashes in ``H5Fclose``
    (a segmentation fault: ``robolearn collect`` into a full disk exited 139). So the file is built in memory
    by HDF5's core driver, whose backing file (the tmp path) is written only when it is created and closed;
    the space for the close is reserved first (``reserve_space``); and when anything fails, the driver's file
    descriptor is pointed at a scratch file before the close, so HDF5 never writes a failing disk. The bytes
    are those the default driver writes (measured: episodes and shards are identical).

    ``expected_bytes`` (about the file's size: a shard's loose episodes) above ``IN_MEMORY_MAX_BYTES`` writes the
    file straight to disk (HDF5's default driver) instead, once the free space is checked against it.
    """
    with atomic_path(final, durable) as tmp:
        if expected_bytes > IN_MEMORY_MAX_BYTES:
            with open(tmp, "wb") as g:  # a check only: h5py truncates the file again
                reserve_space(g.fileno(), int(expected_bytes * DIRECT_SPACE_MARGIN), final)
            with h5py.File(tmp, "w", libver=LIBVER) as f:
                yield f
            return
        f = h5py.File(tmp, "w", libver=LIBVER, driver="core", backing_store=True)
        try:
            yield f
            with open(tmp, "r+b") as g:  # the core driver writes its whole image (get_filesize) on close
                reserve_space(g.fileno(), f.id.get_filesize(), final)
        except BaseException:
            _discard(f, tmp)
            raise
        f.close()


def _discard(f: h5py.File, tmp: Path) -> None:
    """Close a core-driver file without writing its backing file: its descriptor is first pointed at a scratch
    file (the close then writes nowhere that can fail); best effort, the tmp file is removed by the caller."""
    fd = _descriptor_of(tmp)
    if fd is not None:
        scratch = os.memfd_create("robolearn-discarded-h5") if hasattr(os, "memfd_create") else None
        if scratch is not None:
            os.dup2(scratch, fd)
            os.close(scratch)
    try:
        f.close()
    except Exception:  # the file is being thrown away; a failing close changes nothing
        pass


def _descriptor_of(path: Path) -> int | None:
    """The descriptor this process has open on ``path`` (the same inode), or None (no /proc/self/fd, none open)."""
    try:
        st = os.stat(path)
        names = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for name in names:
        try:
            other = os.fstat(int(name))
        except (OSError, ValueError):
            continue
        if (other.st_ino, other.st_dev) == (st.st_ino, st.st_dev):
            return int(name)
    return None


def stamp(f: h5py.File, kind: str) -> None:
    """Root attributes that identify a robolearn file (checked by readers)."""
    f.attrs["format"] = FORMAT_NAME
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["kind"] = kind


# ----------------------------------------------------------------------------------------- finished files
def open_h5(path: Path) -> h5py.File:
    """Open a finished dataset file read-only, turning HDF5 errors into a DatasetError with the fix.

    HDF5's default file locking is kept: the same process opening a file twice with different locking
    flags fails, which would surprise anyone who also opens a shard with plain ``h5py.File``. (On a
    filesystem without locks, set ``HDF5_USE_FILE_LOCKING=FALSE``.)
    """
    try:
        return h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES)
    except FileNotFoundError as err:
        raise DatasetError(f"{path} disappeared (packed or deleted by another process?); reopen the dataset") from err
    except OSError as err:
        raise DatasetError(
            f"{path} is not a readable HDF5 file ({err}): it is corrupt or truncated; {FIX_CORRUPT}"
        ) from err


def check_file(f: h5py.File, path: Path, kind: str) -> None:
    """Raise a DatasetError unless ``f`` is a robolearn file of this ``kind`` and a readable version."""
    fmt = f.attrs.get("format")
    fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
    err = version_error(str(path), fmt, f.attrs.get("format_version"))
    if err is not None:
        raise err
    if f.attrs.get("kind") != kind:
        raise DatasetError(f"{path}: expected a robolearn {kind} file, found kind {f.attrs.get('kind')!r}")


def read_index_table(f: h5py.File, path: Path) -> np.ndarray:
    """A shard's ``index`` table (structured, ``INDEX_DTYPE`` fields), validated."""
    check_file(f, path, FILE_KIND_SHARD)
    try:
        table = f[INDEX_DATASET][()]
    except (KeyError, OSError) as err:
        raise DatasetError(f"{path}: shard without a readable '{INDEX_DATASET}' table ({err}); {FIX_CORRUPT}") from err
    missing = {"episode", "length", "group"} - set(table.dtype.names or ())
    if missing:
        raise DatasetError(f"{path}: '{INDEX_DATASET}' table lacks {sorted(missing)}; {FIX_CORRUPT}")
    return table


def list_shards(root: Path) -> list[tuple[int, Path]]:
    """(number, path) of every finished shard, by number (tmp files do not match ``shard_N.h5``)."""
    out = []
    for p in root.glob(SHARD_GLOB):
        m = _SHARD_RE.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def list_loose(root: Path) -> dict[int, Path]:
    """Episode index → path of every finished loose episode file."""
    out: dict[int, Path] = {}
    folder = root / EPISODES_DIR
    if not folder.is_dir():
        return out
    with os.scandir(folder) as it:
        for entry in it:
            m = _LOOSE_RE.match(entry.name)
            if m:
                out[int(m.group(1))] = Path(entry.path)
    return out


def fast_frames_ok(dsid: h5py.h5d.DatasetID) -> bool:
    """Whether a frame can be read as one raw chunk + ``zlib.decompress``.

    Requires one frame per chunk and a filter pipeline of exactly deflate (what the writer uses for
    1-byte images); anything else (shuffle, checksums, other codecs) takes the generic path.
    """
    plist = dsid.get_create_plist()
    shape = dsid.shape
    if len(shape) < 2 or plist.get_layout() != h5py.h5d.CHUNKED or plist.get_chunk() != (1, *shape[1:]):
        return False
    return [plist.get_filter(k)[0] for k in range(plist.get_nfilters())] == [_DEFLATE]
