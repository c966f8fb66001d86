"""Dataset metadata: ``meta.json``, its format and version checks, and the error the storage modules raise.

What it holds:

* ``read_meta(root)`` loads and validates ``<root>/meta.json`` (format ``robolearn-episodes``, a version
  this robolearn reads);
* ``create_dataset(root, meta)`` writes ``meta.json`` once (atomically); a resumed collection calls it
  again with its own settings and gets a ``DatasetError`` naming every conflicting key
  (``check_compatible``, ``COMPAT_KEYS``);
* ``DatasetError`` and the fix its messages suggest for a corrupt file (``FIX_CORRUPT``), the version
  check shared with the HDF5 files (``version_error``) and the JSON encoding of meta and episode
  attributes (``json_dumps``: numpy values, sets and paths become JSON), and the package versions a dataset
  records (``package_versions``).

The on-disk layout is ``robolearn.data.schema`` (format ``robolearn-episodes`` v1). The storage modules,
in import order (each imports only the ones above it, so there is no cycle):

* ``robolearn.data.metadata`` (this one);
* ``robolearn.data.files``: the HDF5 side shared by writer and reader: the shard tables' layout,
  opening, checking and stamping files, listing shards and loose episodes;
* ``robolearn.data.writer``: ``DatasetWriter``, crash-safe episode files and shard packing;
* ``robolearn.data.reader``: ``DatasetReader``, random access to episodes and its fast frame path.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from robolearn.data.schema import EPISODES_DIR, FORMAT_NAME, FORMAT_VERSION, META_FILE, SHARD_GLOB
from sim.plumbing.checks import shorten, shown
from sim.plumbing.files import atomic_path, writing

__all__ = [
    "COMPAT_KEYS",
    "FIX_CORRUPT",
    "META_TYPES",
    "DatasetError",
    "check_compatible",
    "check_meta",
    "create_dataset",
    "json_dumps",
    "meta_value",
    "package_versions",
    "read_meta",
    "version_error",
]


# Meta keys that must agree between an existing dataset and a resumed collection (``check_compatible``):
# anything that changes what episode ``i`` contains. Keys absent from both metas are skipped.
COMPAT_KEYS: tuple[str, ...] = (
    "format",
    "format_version",
    "seed",
    "env",
    "obs",
    "observations",
    "object_state_names",
    "label_vocabulary",
)
_FORMAT_KEYS = ("format", "format_version")  # always compared by create_dataset

_MISSING = object()  # sentinel: a key one of the metas lacks
# What a DatasetError tells the user to do: with a corrupt or truncated file (files, writer, reader), and
# with a resumed run whose settings conflict with the dataset's (here).
FIX_CORRUPT = "delete it, then rerun the same collect command to regenerate its episodes"
_FIX_CONFLICT = "use a new out= folder, or rerun with the same settings as the existing dataset"
# What a DatasetError says to do about a meta.json whose contents are not what robolearn writes.
_FIX_META = "meta.json was edited or damaged: restore it, or collect the dataset again into a new out= folder"
#: meta.json keys that readers use, and what ``robolearn collect`` writes there (checked by ``read_meta``, when
#: present: a dataset written by other code may leave some out); ``observations`` is checked more closely.
META_TYPES: dict[str, tuple[type, str]] = {
    "seed": (int, "an integer"),
    "env_id": (str, "a string"),
    "env": (dict, "a mapping"),
    "tasks": (list, "a list of task names"),
    "exploration": (dict, "a mapping"),
    "annotation": (dict, "a mapping"),
    "object_state_names": (list, "a list of names"),
    "label_vocabulary": (list, "a list of labels"),
    "observations": (dict, "a mapping of observation names to their shape and dtype"),
    "action_space": (dict, "a mapping"),
    "instance_names": (list, "a list of names"),
    "versions": (dict, "a mapping"),
    "created": (str, "a string"),
    "command": (str, "a string"),
}


class DatasetError(ValueError):
    """A dataset folder or file that cannot be used as asked; the message says why and how to fix it."""


# ----------------------------------------------------------------------------------------- helpers
def _json_default(obj: object) -> object:
    """``json.dumps`` fallback for numpy values (scene parameters and meta often hold them)."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serializable")


def json_dumps(obj: object, **kw: Any) -> str:
    """``json.dumps`` that also encodes numpy values, sets and paths: how meta.json and the JSON episode
    attributes (labels, instructions, scene_params) are written. ``kw`` goes to ``json.dumps``."""
    return json.dumps(obj, default=_json_default, **kw)


def package_versions(dists: Iterable[str]) -> dict[str, str | None]:
    """The installed version of each distribution in ``dists`` (None if it is not installed), then ``python``'s:
    what made a dataset, recorded in its ``meta.json`` (``versions``)."""
    versions: dict[str, str | None] = {}
    for dist in dists:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {**versions, "python": platform.python_version()}


def version_error(where: str, fmt: object, version: object) -> DatasetError | None:
    """The error for a foreign format or an unsupported version, or None if (fmt, version) is ours."""
    if fmt is None:
        return DatasetError(f"{where} is not a robolearn dataset (it has no format; expected {FORMAT_NAME!r})")
    if fmt != FORMAT_NAME:
        return DatasetError(f"{where} is not a robolearn dataset (format {shown(fmt)}, expected {FORMAT_NAME!r})")
    if not isinstance(version, (int, np.integer)) or isinstance(version, bool) or version < 1:
        return DatasetError(f"{where}: invalid format_version {shown(version)}; the file is damaged or foreign")
    if version > FORMAT_VERSION:
        return DatasetError(
            f"{where}: this dataset was written by a newer robolearn (format v{int(version)}; "
            f"this robolearn reads up to v{FORMAT_VERSION}); upgrade robolearn"
        )
    return None


def _normalize(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The meta as it reads back from JSON (tuples → lists, numpy → Python), for comparisons."""
    return json.loads(json_dumps(dict(meta)))


def _flat_diff(a: object, b: object, path: str) -> list[str]:
    """Readable differences between two JSON values (``_MISSING`` = absent), descending into mappings."""
    if a is _MISSING:
        return [f"{path}: missing in the existing dataset, this run has {b!r}"]
    if b is _MISSING:
        return [f"{path}: the existing dataset has {a!r}, missing in this run"]
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b), key=str):
            out += _flat_diff(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}")
        return out
    return [] if a == b else [f"{path}: the existing dataset has {a!r}, this run has {b!r}"]


# ----------------------------------------------------------------------------------------- meta
def read_meta(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and validate ``<root>/meta.json``.

    Raises:
        DatasetError: the folder or meta.json is missing, is not JSON, is another format, or was
            written by a newer robolearn.
    """
    root = Path(root)
    path = root / META_FILE
    if root.is_file():
        raise DatasetError(f"{root} is a file, not a dataset folder: give the folder `robolearn collect out=` made")
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    if not path.is_file():
        raise DatasetError(
            f"{root} is not a robolearn dataset: {META_FILE} is missing (a dataset folder is "
            f"created by `robolearn collect`; pass the folder that holds {META_FILE})"
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path} is not valid JSON ({err}); it is damaged or not a robolearn dataset") from err
    if not isinstance(meta, dict):
        raise DatasetError(f"{path} holds a {type(meta).__name__}, not a JSON object; not a robolearn dataset")
    version_err = version_error(str(path), meta.get("format"), meta.get("format_version"))
    if version_err is not None:
        raise version_err
    check_meta(meta, path)
    return meta


def _observation_problem(name: object, spec: object) -> str | None:
    """What is wrong with one ``observations`` entry (``{"shape": [64, 64, 3], "dtype": "uint8"}``), or None."""
    if not isinstance(spec, dict):
        return f"observations.{name} is {shown(spec)}, not a mapping with shape and dtype"
    shape, dtype = spec.get("shape"), spec.get("dtype")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
        return f"observations.{name}.shape is {shown(shape)}, not a list of sizes ≥ 1"
    try:
        np.dtype(dtype)
        if not isinstance(dtype, str):
            raise TypeError
    except (TypeError, ValueError):
        return f"observations.{name}.dtype is {shown(dtype)}, not a numpy dtype name (e.g. uint8)"
    return None


def check_meta(meta: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Check the keys readers use (``META_TYPES``) hold what ``robolearn collect`` writes there.

    Raises:
        DatasetError: one line naming the file, the key, what it holds and the fix.
    """
    for key, (kind, expected) in META_TYPES.items():
        if key not in meta:
            continue
        value = meta[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise DatasetError(f"{path}: {key} is {shown(value)}, not {expected}; {_FIX_META}")
        if isinstance(value, list) and key in ("tasks", "object_state_names", "instance_names"):
            bad = [v for v in value if not isinstance(v, str)]
            if bad:
                raise DatasetError(f"{path}: {key} holds {shown(bad[0])}, not a name; {_FIX_META}")
    for name, spec in (meta.get("observations") or {}).items():
        problem = _observation_problem(name, spec)
        if problem is not None:
            raise DatasetError(f"{path}: {problem}; {_FIX_META}")


def meta_value(meta: Mapping[str, Any], key: str, root: str | os.PathLike[str], purpose: str) -> Any:
    """``meta[key]``, or a DatasetError saying that ``<root>/meta.json`` lacks it and what needs it (``purpose``)."""
    if key not in meta:
        raise DatasetError(f"{Path(root) / META_FILE} has no {key!r}, which {purpose} needs; {_FIX_META}")
    return meta[key]


def check_compatible(
    existing: Mapping[str, Any], new: Mapping[str, Any], keys: Iterable[str] | None = COMPAT_KEYS, where: str = ""
) -> None:
    """Check that a run with meta ``new`` may add episodes to a dataset whose meta is ``existing``.

    Values are compared as they read back from JSON (tuples equal lists); mappings are compared key by
    key, so the error names e.g. ``env.width``. A key absent from both metas is fine; absent from one is
    a conflict.

    Args:
        existing: the dataset's meta.json.
        new: the meta the resuming run would write.
        keys: the top-level keys that must agree; None compares every key.
        where: what the message starts with (the dataset folder).

    Raises:
        DatasetError: one line naming every differing key with both values, and the fix.
    """
    a, b = _normalize(existing), _normalize(new)
    names = sorted(set(a) | set(b)) if keys is None else list(keys)
    diffs: list[str] = []
    for k in names:
        if k in a or k in b:
            diffs += _flat_diff(a.get(k, _MISSING), b.get(k, _MISSING), k)
    if diffs:
        shown_diffs = [shorten(d, 160) for d in diffs[:6]]
        more = f"; and {len(diffs) - 6} more" if len(diffs) > 6 else ""
        raise DatasetError(
            f"{where + ': ' if where else ''}this run's settings differ from the existing dataset's meta.json "
            f"({len(diffs)} difference{'s' if len(diffs) > 1 else ''}): {'; '.join(shown_diffs)}{more}; "
            f"fix: {_FIX_CONFLICT}"
        )


def create_dataset(
    root: str | os.PathLike[str],
    meta: Mapping[str, Any],
    resume_keys: Iterable[str] | None = COMPAT_KEYS,
    durable: bool = True,
) -> None:
    """Create a dataset folder and its ``meta.json``, or check that an existing one is compatible.

    ``meta`` is the caller's dataset-level metadata (env config, seed, object_state_names,
    label_vocabulary, package versions, observation modalities and shapes, ...); ``"format"`` and
    ``"format_version"`` are added. meta.json is written once, atomically; if it exists (a resumed
    collection) it is left untouched and ``check_compatible(existing, new, keys)`` decides, with
    ``keys`` = "format", "format_version" and ``resume_keys`` (None: every key).

    Args:
        root: the dataset folder (created with its parents if needed).
        meta: JSON-serializable mapping (numpy values and tuples are converted).
        resume_keys: the meta keys a resumed run must agree on (see ``COMPAT_KEYS``).
        durable: fsync meta.json and the folder.

    Raises:
        DatasetError: meta.json exists with another format/version or conflicting keys; or the folder
            holds episode files but no meta.json (the metadata was lost: do not guess it).
    """
    root = Path(root)
    full = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, **_normalize(meta)}
    err = version_error("the meta passed to create_dataset", full["format"], full["format_version"])
    if err is not None or full["format_version"] != FORMAT_VERSION:
        raise DatasetError(
            f"create_dataset writes format {FORMAT_NAME!r} v{FORMAT_VERSION}; do not pass "
            f"other 'format'/'format_version' values (got {full['format']!r} "
            f"v{full['format_version']!r})"
        )
    if (root / META_FILE).exists():
        keys = None if resume_keys is None else dict.fromkeys((*_FORMAT_KEYS, *resume_keys))
        check_compatible(read_meta(root), full, keys, str(root))
        with writing(root / EPISODES_DIR):
            (root / EPISODES_DIR).mkdir(exist_ok=True)
        return
    if root.is_dir():
        stray = sorted(p.name for p in root.glob(SHARD_GLOB)) + sorted(
            f"{EPISODES_DIR}/{p.name}" for p in (root / EPISODES_DIR).glob("*.h5")
        )
        if stray:
            raise DatasetError(
                f"{root} holds episode files ({', '.join(stray[:3])}, ...) but no {META_FILE}; "
                f"its settings are unknown; fix: use a new out= folder"
            )
    with writing(root / EPISODES_DIR):
        (root / EPISODES_DIR).mkdir(parents=True, exist_ok=True)
    with atomic_path(root / META_FILE, durable) as tmp:
        tmp.write_text(json_dumps(full, indent=2, sort_keys=True) + "\n", encoding="utf-8")
