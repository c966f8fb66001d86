"""Checking a dataset: what ``robolearn data info`` checks every time, and what ``--verify`` adds.

``check_dataset(reader)`` checks what costs little: every shard and loose episode file opens (HDF5 checks its
superblock, the end-of-file address it recorded against the file's size, and the checksums of its v1.10
metadata), is a robolearn file of a version this robolearn reads, its ``index`` table is consistent (no
episode twice, every listed group present), the frame chunk tables point inside the file, and each file's
first episode has the arrays, shapes and dtypes that ``meta.json`` lists. It also finds episode indices
missing from a collected dataset (a deleted shard, an interrupted collection).

``check_dataset(reader, decode=True)`` (``--verify``) also decodes every array of every episode: the
compressed chunks carry zlib's Adler-32 checksum of their contents, so a flipped byte in any compressed
array (frames, actions, states) fails to decode; it checks every array's shape against the episode's length
and ``meta.json``, the episode attributes against the shard's index and attribute columns, and reads every
frame again through the fast path's chunk tables, comparing the two.

Why no extra checksum is stored (e.g. HDF5's Fletcher-32 filter): the compressed arrays already carry
Adler-32, the HDF5 metadata its own checksums; what neither covers is the uncompressed ``expert`` flags
(T bytes per episode) and the index table, which ``--verify`` cross-checks (against the actions' length, the
group attributes). Fletcher-32 on the frames would change their chunks' filter pipeline, which the fast
frame path (one ``pread`` + ``zlib.decompress``) reads only as deflate alone, and it would change the
files (not their arrays) of every dataset written from now on, for what Adler-32 already catches.

The first problem found is raised as a one-line ``DatasetError`` naming the file, the episode and the array,
and the fix (``robolearn.data.metadata.FIX_CORRUPT``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from tqdm import tqdm

from robolearn.data.files import (
    ATTR_COLUMNS_GROUP,
    FILE_KIND_EPISODE,
    FRAME_CHUNKS_GROUP,
    JSON_ATTRS,
    OPTIONAL_JSON_ATTRS,
    check_file,
    list_loose,
    list_shards,
    open_h5,
    read_index_table,
)
from robolearn.data.metadata import FIX_CORRUPT, DatasetError
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import META_FILE, episode_group
from sim.plumbing.checks import shorten

__all__ = ["DatasetCheck", "check_dataset", "missing_ranges"]

#: episode attributes every writer stores (``robolearn.data.schema``)
EPISODE_ATTRS = ("index", "seed", "length", "task", "exploration", *JSON_ATTRS)
#: arrays of an episode group besides ``obs/*``: name → (rows beyond T, dims)
EPISODE_ARRAYS = {"actions": (0, 2), "expert": (0, 1), "states": (1, 2), "object_states": (1, 2)}
#: loose episode files the cheap check opens (a recording, ``plan record=``, may hold thousands, never packed; the
#: reader opens each when it is read, and names it if it is damaged)
CHEAP_LOOSE_FILES = 64
#: what the messages tell to do about a dataset with episodes missing
FIX_MISSING = "rerun the collect command that made it (same out= and settings) to regenerate them"


@dataclass
class DatasetCheck:
    """What ``check_dataset`` looked at.

    Attributes:
        shards, loose: finished shard files and loose episode files opened; loose_total: loose files there are
            (the cheap check opens at most ``CHEAP_LOOSE_FILES``).
        episodes: episodes the dataset holds (each counted once).
        missing: ranges (first, last) of episode indices missing from a collected dataset (empty for a
            recording, ``robolearn plan record=``, whose indices are sparse by design).
        decoded: whether every array was decoded (``decode=True``).
        arrays, decoded_bytes: arrays decoded and their uncompressed size.
    """

    shards: int = 0
    loose: int = 0
    loose_total: int = 0
    episodes: int = 0
    missing: list[tuple[int, int]] = field(default_factory=list)
    decoded: bool = False
    arrays: int = 0
    decoded_bytes: int = 0

    @property
    def missing_count(self) -> int:
        return sum(b - a + 1 for a, b in self.missing)

    def describe_missing(self) -> str:
        """ "episodes 4–7 and 12 are missing (5 episodes)": the gaps, shortened."""
        parts = [f"{a}" if a == b else f"{a}–{b}" for a, b in self.missing]
        listed = ", ".join(parts[:5]) + (f" and {len(parts) - 5} more ranges" if len(parts) > 5 else "")
        n = self.missing_count
        return f"episode{'s' if n > 1 else ''} {listed} {'are' if n > 1 else 'is'} missing ({n} of {self.episodes + n})"


def missing_ranges(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Ranges (first, last) of the integers in 0..max(indices) that ``indices`` (ascending) lacks."""
    out: list[tuple[int, int]] = []
    expected = 0
    for i in indices:
        if i > expected:
            out.append((expected, i - 1))
        expected = max(expected, i + 1)
    return out


def _corrupt(path: Path, what: str, problem: str) -> DatasetError:
    return DatasetError(f"{path}: {what}: {shorten(problem, 160)}; the file is corrupt: {FIX_CORRUPT}")


def _reason(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _observations(meta: Mapping[str, Any]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    obs = meta.get("observations") or {}
    return {str(k): (tuple(v["shape"]), np.dtype(v["dtype"])) for k, v in obs.items()}


def _check_layout(
    group: h5py.Group, path: Path, index: int, length: int, observations: Mapping[str, tuple[tuple[int, ...], np.dtype]]
) -> None:
    """The episode group holds the arrays ``meta.json`` lists, with T (+1) rows (headers only, nothing decoded)."""
    where = f"episode {index}"
    try:
        obs = group["obs"]
        stored = set(obs.keys())
    except (KeyError, OSError) as err:
        raise _corrupt(path, where, f"no readable obs group ({_reason(err)})") from None
    lacking = sorted(set(observations) - stored)
    if lacking:
        raise DatasetError(
            f"{path}: episode {index} has no {', '.join(lacking)} observations, which "
            f"{META_FILE} lists (it stores {', '.join(sorted(stored)) or 'none'}); the file or {META_FILE} does not "
            f"belong to this dataset: {FIX_CORRUPT}"
        )
    for name, (shape, dtype) in observations.items():
        try:
            ds = obs[name]
        except (KeyError, OSError) as err:
            raise _corrupt(path, f"{where}, array obs/{name}", _reason(err)) from None
        want = (length + 1, *shape)
        if ds.shape != want or ds.dtype != dtype:
            raise DatasetError(
                f"{path}: {where}, array obs/{name} is {ds.dtype} {ds.shape}, but {META_FILE} and the episode's "
                f"length say {dtype} {want}: if {META_FILE} was edited, restore it; else the file does not belong "
                f"to this dataset: {FIX_CORRUPT}"
            )
    for name, (extra, ndim) in EPISODE_ARRAYS.items():
        try:
            ds = group[name]
        except (KeyError, OSError) as err:
            raise _corrupt(path, f"{where}, array {name}", f"missing or unreadable ({_reason(err)})") from None
        if len(ds.shape) != ndim or ds.shape[0] != length + extra:
            raise _corrupt(path, f"{where}, array {name}", f"shape {ds.shape} for an episode of {length} steps")


def _check_frame_tables(f: h5py.File, path: Path, rows: int) -> None:
    """The fast path's chunk tables (``frame_chunks/<modality>``) have a row per frame, inside the file."""
    if FRAME_CHUNKS_GROUP not in f:
        return
    size = path.stat().st_size
    for modality, group in f[FRAME_CHUNKS_GROUP].items():
        what = f"frame table {FRAME_CHUNKS_GROUP}/{modality}"
        try:
            start, offset, nbytes = group["start"][()], group["offset"][()], group["nbytes"][()]
        except (KeyError, OSError) as err:
            raise _corrupt(path, what, _reason(err)) from None
        ok = (
            len(start) == rows + 1
            and start[0] == 0
            and bool(np.all(np.diff(start) >= 0))
            and start[-1] == len(offset) == len(nbytes)
            and bool(np.all(offset >= 0))
            and bool(np.all(nbytes > 0))
            and bool(np.all(offset + nbytes <= size))
        )
        if not ok:
            raise _corrupt(path, what, f"its rows do not match the {rows} episodes of the index or lie past the end")


def _files(reader: DatasetReader, loose: list[Path]) -> Iterator[tuple[Path, bool]]:
    """(path, is a shard) of every finished shard of the dataset, then of the ``loose`` episode files."""
    for _, path in list_shards(reader.root):
        yield path, True
    for path in loose:
        yield path, False


def _episode_rows(f: h5py.File, path: Path, shard: bool) -> list[tuple[int, str, int]]:
    """(episode, group, length) of every episode of an open file, its index checked against its groups."""
    if not shard:
        check_file(f, path, FILE_KIND_EPISODE)
        groups = list(f["data"].keys()) if "data" in f else []
        if len(groups) != 1:
            raise _corrupt(path, "episode file", f"{len(groups)} episode groups, expected 1")
        group = f[f"data/{groups[0]}"]
        try:
            index, length = int(group.attrs["index"]), int(group.attrs["length"])
        except (KeyError, OSError, TypeError, ValueError) as err:
            raise _corrupt(path, "episode attributes", _reason(err)) from None
        if f"data/{groups[0]}" != episode_group(index):
            raise _corrupt(path, "episode file", f"group {groups[0]!r} holds episode {index}")
        return [(index, episode_group(index), length)]
    table = read_index_table(f, path)
    rows = [
        (int(e), g.decode(), int(n)) for e, g, n in zip(table["episode"], table["group"], table["length"], strict=True)
    ]
    seen: set[int] = set()
    stored = set(f["data"].keys()) if "data" in f else set()
    for index, group, length in rows:
        if index in seen:
            raise _corrupt(path, "index table", f"lists episode {index} twice")
        seen.add(index)
        if index < 0 or length < 0:
            raise _corrupt(path, "index table", f"episode {index} of length {length}")
        if not group.startswith("data/") or group[len("data/") :] not in stored:
            raise _corrupt(path, "index table", f"lists episode {index} in group {group!r}, which the file lacks")
    if len(stored) != len(rows):
        raise _corrupt(path, "index table", f"lists {len(rows)} episodes, the file holds {len(stored)} episode groups")
    _check_frame_tables(f, path, len(rows))
    return rows


def _columns(f: h5py.File) -> dict[str, list[str]]:
    if ATTR_COLUMNS_GROUP not in f:
        return {}
    return {key: ds.asstr()[()].tolist() for key, ds in f[ATTR_COLUMNS_GROUP].items()}


def _decode_episode(
    f: h5py.File,
    path: Path,
    row: int,
    index: int,
    group_name: str,
    length: int,
    columns: Mapping[str, list[str]],
    reader: DatasetReader,
    check: DatasetCheck,
) -> None:
    """Decode every array and attribute of one episode; compare them with the index, the columns and the
    fast path's frames."""
    where = f"episode {index}"
    group = f[group_name]
    try:
        attrs = {k: group.attrs[k] for k in group.attrs}
    except (OSError, TypeError, ValueError) as err:
        raise _corrupt(path, f"{where}, attributes", _reason(err)) from None
    lacking = [k for k in EPISODE_ATTRS if k not in attrs]
    if lacking:
        raise _corrupt(path, f"{where}, attributes", f"{', '.join(lacking)} missing")
    for key in (*JSON_ATTRS, *(k for k in OPTIONAL_JSON_ATTRS if k in attrs)):
        value = attrs[key]
        try:
            json.loads(value.decode() if isinstance(value, bytes) else value)
        except (TypeError, ValueError) as err:
            raise _corrupt(path, f"{where}, attribute {key}", f"not JSON ({_reason(err)})") from None
    if int(attrs["index"]) != index or int(attrs["length"]) != length:
        raise _corrupt(
            path,
            f"{where}, attributes",
            f"index {attrs['index']} and length {attrs['length']} disagree with the file's index ({index}, {length})",
        )
    for key, column in columns.items():
        value = attrs.get(key)
        value = value.decode() if isinstance(value, bytes) else value
        if row >= len(column) or column[row] != value:
            raise _corrupt(path, f"{where}, attribute {key}", f"differs from the shard's {ATTR_COLUMNS_GROUP}/{key}")
    arrays: dict[str, np.ndarray] = {}

    def visit(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset):
            try:
                arrays[name] = obj[()]
            except (OSError, ValueError, RuntimeError) as err:  # h5py: a filter (inflate) failed, a bad chunk
                raise _corrupt(path, f"{where}, array {name}", f"cannot be decoded ({_reason(err)})") from None

    group.visititems(visit)
    for name, (extra, _) in EPISODE_ARRAYS.items():
        if name in arrays and arrays[name].shape[0] != length + extra:
            raise _corrupt(path, f"{where}, array {name}", f"{arrays[name].shape[0]} rows for {length} steps")
    if reader.file_of(index) == path:  # the copy the reader uses: read its frames the way training does
        for name, data in arrays.items():
            if not name.startswith("obs/") or data.ndim < 3:
                continue
            try:
                fast = reader.frames(index, name[len("obs/") :])
            except DatasetError as err:
                raise _corrupt(path, f"{where}, array {name}", f"frame chunks unreadable ({_reason(err)})") from None
            if fast.shape != data.shape or not np.array_equal(fast, data):
                raise _corrupt(path, f"{where}, array {name}", "the frame chunk table points at other frames")
    check.arrays += len(arrays)
    check.decoded_bytes += sum(int(a.nbytes) for a in arrays.values())


def check_dataset(reader: DatasetReader, decode: bool = False, progress: bool = False) -> DatasetCheck:
    """Check the dataset ``reader`` opened: cheaply, or (``decode``) by decoding every array (module docstring).

    Args:
        reader: the open dataset (opening it already checked ``meta.json`` and the shards' headers).
        decode: decode and cross-check every array and attribute of every episode.
        progress: show a progress bar over episodes while decoding.

    Returns:
        What was checked, and the episode indices missing from a collected dataset.

    Raises:
        DatasetError: the first problem found, in one line naming the file, episode and array, and the fix.
    """
    check = DatasetCheck(episodes=len(reader), decoded=decode)
    loose = [path for _, path in sorted(list_loose(reader.root).items())]
    check.loose_total = len(loose)
    observations = _observations(reader.meta)
    # on a terminal only: a bar on a redirected stderr would sit in front of an error message
    bar = tqdm(
        total=len(reader), desc="verifying", unit="ep", disable=None if decode and progress else True, leave=False
    )
    try:
        for path, shard in _files(reader, loose if decode else loose[:CHEAP_LOOSE_FILES]):
            with open_h5(path) as f:
                if shard:
                    check.shards += 1
                else:
                    check.loose += 1
                try:
                    rows = _episode_rows(f, path, shard)
                    if rows:
                        index, group, length = rows[0]
                        _check_layout(f[group], path, index, length, observations)
                    if not decode:
                        continue
                    columns = _columns(f) if shard else {}
                    for row, (index, group, length) in enumerate(rows):
                        if row:
                            _check_layout(f[group], path, index, length, observations)
                        _decode_episode(f, path, row, index, group, length, columns, reader, check)
                        bar.update(1)
                except (OSError, KeyError, RuntimeError) as err:  # anything HDF5 could not read on the way
                    raise _corrupt(path, "file", f"unreadable ({_reason(err)})") from None
    finally:
        bar.close()
    exploration = reader.meta.get("exploration")
    recording = isinstance(exploration, Mapping) and "mode" in exploration  # plan record=: sparse indices
    if not recording:
        check.missing = missing_ranges(reader.indices())
    return check
