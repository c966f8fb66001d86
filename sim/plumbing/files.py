"""Writing outputs: atomic files, and one-line errors when an output cannot be written.

Atomic writing: a crash, a full disk or Ctrl-C leaves the old file or the new one, never half of one.
Everything robolearn writes (datasets, checkpoints, metadata, annotations, videos, reports, floor plans) goes
through these helpers: the content is written to a temporary file in the destination's folder (same file system,
so the final rename is atomic on POSIX) and renamed onto the destination only when complete; on an exception the
temporary file is removed.

Errors: an operating-system error while writing (a full disk, a quota, a read-only file system, no permission, a
file too large, a parent that is a file) becomes an ``OutputError``: an ``OSError`` whose message is one line
naming the file, what happened and the fix (``no space left on device writing data/desk/shard_00003.h5; free space
on it or choose another out=...``). ``output_keys`` names the command's option (``out=``) in those messages, and
``check_writable`` checks an output before any work starts, so a job does not fail on its output after minutes.

Example:
    >>> with atomic_open("runs/x/summary.json", "w") as f:  # doctest: +SKIP
    ...     f.write("{}")
    >>> with atomic_path("data/shard_00000.h5") as tmp:  # doctest: +SKIP
    ...     h5py.File(tmp, "w").close()  # a library that wants a path, not a file object
    >>> check_writable("runs/lorel", "out", folder=True)  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "KNOWN_ERRNOS",
    "TMP_MARKER",
    "OutputError",
    "atomic_open",
    "atomic_path",
    "check_writable",
    "errno_in_text",
    "fsync_path",
    "output_error",
    "output_keys",
    "publish",
    "reserve_space",
    "tmp_path_for",
    "write_bytes_atomic",
    "write_cache_file",
    "write_json_atomic",
    "writing",
]

#: infix of the temporary files next to a destination (``<name>.tmp-<pid>``); a dead writer's leftovers
#: carry it, so readers and cleaners can recognise them
TMP_MARKER = ".tmp-"

#: what an OS error means for an output, and what frees it: errno → (what happened, the remedy besides writing
#: elsewhere; "" when writing elsewhere is the only one)
_REASONS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on device", "free space on it"),
    errno.EDQUOT: ("disk quota exceeded", "free space in your quota"),
    errno.EFBIG: ("file too large", "raise the file-size limit (ulimit -f)"),
    errno.EROFS: ("read-only file system", ""),
    errno.EACCES: ("permission denied", "make the folder writable"),
    errno.EPERM: ("operation not permitted", "make the folder writable"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", ""),
    errno.EISDIR: ("it is a folder, not a file", ""),
    errno.ENAMETOOLONG: ("file name too long", ""),
    errno.EEXIST: ("a part of the path exists and is not a folder", ""),
    errno.ELOOP: ("too many symbolic links in the path", ""),
}
#: the OS errors an output can meet that ``OutputError`` explains
KNOWN_ERRNOS = frozenset(_REASONS)
#: "C:\..." or "C:/...": a Windows drive, which a POSIX system would take as a folder named "C:"
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class OutputError(OSError):
    """An output that cannot be written; the message is one line naming the file, what happened and the fix.

    Attributes:
        path: the file or folder that could not be written (the final name, never a temporary one).
        reason: what happened, e.g. "no space left on device".
        errno: the OS error number (None when unknown, e.g. a video encoder that died).
        key: the option that chose the path (``out``), when known; see ``output_keys``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        reason: str = "",
        code: int | None = None,
        key: str | None = None,
        note: str = "",
        composed: bool = False,
    ):
        super().__init__(message)
        self.errno = code
        self.path = None if path is None else Path(path)
        self.reason = reason or message
        self.key = key
        self.note = note
        self.composed = composed  # the message is output_error's "<reason> writing <path>; <fix>", re-keyable

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:  # keep the attributes across processes (a worker's error)
        return (_rebuild, (str(self), self.path, self.reason, self.errno, self.key, self.note, self.composed))

    def for_key(self, key: str, note: str = "") -> OutputError:
        """The same error, its fix naming the option ``key`` that chose the path (and ``note`` appended); an
        error that names its option already (``check_writable``'s) is returned as it is."""
        if self.path is None or self.key is not None or not self.composed:
            return self
        return output_error(self.errno, self.path, key, note or self.note, self.reason)


def _rebuild(
    message: str, path: Path | None, reason: str, code: int | None, key: str | None, note: str, composed: bool
) -> OutputError:
    return OutputError(message, path=path, reason=reason, code=code, key=key, note=note, composed=composed)


def _choose(key: str | None) -> str:
    """The fix that writes elsewhere: ``choose another out=...`` for a ``key=value`` option, ``choose another
    -o`` / ``choose another CSV`` for a flag or a positional argument (``-...`` or upper case)."""
    if key is None:
        return "write it elsewhere"
    return f"choose another {key}" if key.startswith("-") or key.isupper() else f"choose another {key}=..."


def _named(key: str | None, raw: str) -> str:
    """How a message names the output: ``out=runs/x``, ``-o sheet.png``, or the path alone."""
    if key is None:
        return raw
    return f"{key} {raw}" if key.startswith("-") or key.isupper() else f"{key}={raw}"


def _fix(code: int | None, key: str | None) -> str:
    remedy = _REASONS[code][1] if code in _REASONS else ("check the disk" if code in (None, errno.EIO) else "")
    return f"{remedy} or {_choose(key)}" if remedy else _choose(key)


def output_error(
    err: OSError | int | None,
    path: str | os.PathLike[str],
    key: str | None = None,
    note: str = "",
    reason: str = "",
) -> OutputError:
    """An ``OutputError`` for writing ``path``: from an ``OSError`` (its errno says what happened), an errno, or
    None with a ``reason`` (e.g. "the video encoder failed"). ``key`` is the option that chose the path; ``note``
    is appended in parentheses (e.g. what a rerun resumes)."""
    if isinstance(err, OutputError):
        return err
    code = err.errno if isinstance(err, OSError) else err
    if not reason and code in (errno.ENOTDIR, errno.EEXIST):
        blocker = _nearest_existing(Path(path).parent)
        if not blocker.is_dir():
            reason = f"{blocker} is a file, not a folder"
    if not reason:
        if code in _REASONS:
            reason = _REASONS[code][0]
        elif isinstance(err, OSError) and err.strerror:
            reason = " ".join(str(err.strerror).split()).lower()
        elif code is not None:
            reason = os.strerror(code).lower()
        else:
            reason = " ".join(str(err).split()) or "the write failed"
    message = f"{reason} writing {path}; {_fix(code, key)}" + (f" ({note})" if note else "")
    return OutputError(message, path=path, reason=reason, code=code, key=key, note=note, composed=True)


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block into an ``OutputError`` naming ``path`` (an ``OutputError``
    passes as it is)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as err:
        raise output_error(err, path) from err


def errno_in_text(text: str) -> int | None:
    """The OS error a library's message quotes as text ("No space left on device": ``ENOSPC``), for the
    ``KNOWN_ERRNOS``; None when it quotes none (a tool such as ffmpeg reports errors as text)."""
    lowered = text.lower()
    for code in _REASONS:
        if os.strerror(code).lower() in lowered:
            return code
    return None


def _under(path: Path, root: Path) -> bool:
    try:
        path.absolute().relative_to(root.absolute())
    except ValueError:
        return False
    return True


@contextmanager
def output_keys(outputs: Mapping[str, str | os.PathLike[str] | None], note: str = "") -> Iterator[None]:
    """Name the option in the ``OutputError`` s raised inside the block: ``outputs`` maps each option (``out``,
    ``video.path``) to the path it chose; an error about that path or a file under it gets ``choose another
    KEY=...`` as its fix, and ``note`` (e.g. "the finished episodes are kept: rerun the same command to resume")."""
    try:
        yield
    except OutputError as err:
        if err.key is None and err.path is not None:
            for key, value in outputs.items():
                if value is not None and _under(err.path, Path(value)):
                    raise err.for_key(key, note) from err.__cause__
        raise


# ------------------------------------------------------------------------------------------ checks before work
def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists (``.`` for a relative path whose first part is missing)."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def check_writable(
    path: str | os.PathLike[str],
    key: str | None = None,
    *,
    folder: bool = False,
    suffixes: Sequence[str] = (),
) -> Path:
    """Check, before any work, that the output ``path`` (a file, or with ``folder`` a folder) can be written.

    Side-effect free apart from a probe file created and removed in the nearest existing folder: nothing is
    created. Checked: a Windows-drive path on POSIX, the file suffix (``suffixes``, e.g. ``(".mp4", ".gif")``), an
    existing folder where a file is expected (and the reverse), a parent that is a file, and that the nearest
    existing folder takes a new file (read-only file system, permissions, no space or inodes left).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OutputError: one line naming ``key`` (the option, when given), the path and the fix.
    """
    raw = os.fspath(path)
    path = Path(raw)
    name, other = _named(key, raw), _choose(key)
    if not raw.strip():
        raise OutputError(f"{key or 'the output'} is empty; give a {'folder' if folder else 'file'} name")
    if os.name != "nt" and (_DRIVE.match(raw) or "\\" in raw):
        example = "outputs/result" + ("" if folder else next(iter(suffixes), ""))
        raise OutputError(
            f"{name} looks like a Windows path; this system would write it in a folder named "
            f"{raw.replace(chr(92), '/').split('/')[0]!r} here; give a path with / such as {example}",
            path=path,
            key=key,
        )
    if folder and path.exists() and not path.is_dir():
        raise OutputError(f"{name} is a file, not a folder; {other}", path=path, key=key)
    if not folder and path.is_dir():
        inside = path / f"output{next(iter(suffixes), '')}"
        raise OutputError(f"{name} is a folder, not a file; give a file name such as {inside}", path=path, key=key)
    if suffixes and not folder and path.suffix.lower() not in suffixes:
        got = f"{path.suffix} files" if path.suffix else "a file without a suffix"
        ends = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        raise OutputError(f"{name}: cannot write {got}; end the name with {ends}", path=path, key=key)
    where = path if folder else path.parent
    anc = _nearest_existing(where)
    if not anc.is_dir():
        raise OutputError(
            f"{name}: {anc} is a file, not a folder, so it cannot hold the output; {other}", path=path, key=key
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".robolearn-probe-", dir=anc)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        fallback = " ".join(str(err.strerror or err).split()).lower()
        reason = _REASONS[err.errno][0] if err.errno in _REASONS else fallback
        raise OutputError(
            f"{name}: cannot write in {anc} ({reason}); {_fix(err.errno, key)}",
            path=path,
            reason=reason,
            code=err.errno,
            key=key,
        ) from None
    return path


def reserve_space(fd: int, nbytes: int, path: str | os.PathLike[str]) -> None:
    """Allocate ``nbytes`` for the open file ``fd`` now (``posix_fallocate``), so that writing that much later
    cannot run out of space; a full disk or quota is an ``OutputError`` naming ``path`` here, before the writer
    (a C library that may not survive a failed write) starts. Without ``posix_fallocate`` (or where the file
    system does not support it) the free space is compared instead."""
    try:
        fallocate = getattr(os, "posix_fallocate", None)
        if fallocate is not None:
            try:
                fallocate(fd, 0, max(1, int(nbytes)))
                return
            except OSError as err:
                if err.errno not in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, errno.ENODEV):
                    raise
        st = os.fstatvfs(fd)
        if st.f_bavail * st.f_frsize < nbytes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError as err:
        raise output_error(err, path) from None


# ------------------------------------------------------------------------------------------ atomic writing
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
    keep a suffix a library reads the format from). Parents are created. An ``OSError`` (in the block too)
    becomes an ``OutputError`` naming ``final``."""
    final = Path(final)
    with writing(final):
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp if tmp is not None else tmp_path_for(final)
        try:
            yield tmp
            publish(tmp, final, durable)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` for writing; on success it is fsynced and renamed onto
    ``path``, on an exception deleted. Parents are created. ``mode``: "wb" or "w" (UTF-8 text, with
    ``newline`` as ``open`` takes it: "" for the csv module). An ``OSError`` becomes an ``OutputError``
    naming ``path``."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, mode) if "b" in mode else os.fdopen(fd, mode, encoding="utf-8", newline=newline) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes | memoryview, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (``atomic_path``); the space is reserved first, so a full disk
    fails before anything is written."""
    with atomic_path(path, durable) as tmp, open(tmp, "wb") as f:
        reserve_space(f.fileno(), len(data), path)
        f.write(data)
    return Path(path)


def write_cache_file(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write a cache file (a mesh, a texture, in the system's temporary folder) atomically: concurrent workers
    never read half of one. A full or read-only disk is an ``OutputError`` that says how to move the cache."""
    try:
        with atomic_path(path) as tmp:
            if isinstance(data, str):
                tmp.write_text(data, encoding="utf-8")
            else:
                tmp.write_bytes(data)
    except OutputError as err:
        note = f"a cache; TMPDIR=FOLDER moves it ({tempfile.gettempdir()} now)"
        raise output_error(err.errno, path, note=note, reason=err.reason) from err
    return Path(path)


def write_json_atomic(path: str | os.PathLike[str], data: object, **dump_kwargs: Any) -> Path:
    """``json.dump`` ``data`` (indented, trailing newline) to ``path`` atomically (``atomic_open``)."""
    with atomic_open(path, "w") as f:
        json.dump(data, f, indent=2, **dump_kwargs)
        f.write("\n")
    return Path(path)
