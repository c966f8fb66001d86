"""Human annotations of episodes: a CSV mapping episode index → free-text descriptions.

LOReL's real-robot labels came as a crowd-sourced ``labels.csv`` (episode number → text, two
descriptions per episode). A dataset keeps its human descriptions in ``annotations.csv`` next to
the episodes (``robolearn.data.schema.ANNOTATIONS_FILE``).

Two layouts are read, both with a header row:

* long (what ``write_annotations`` writes): ``episode,text``, one description per row; an episode
  may have any number of rows.
* wide (LOReL's style): ``episode,text1,text2,...``; every non-empty ``text<n>`` cell of a row is a
  description, in column order.

Header names are matched case-insensitively after stripping whitespace; other columns (e.g. an
annotator id or a pandas index) are ignored. Texts and ids are stripped of surrounding whitespace;
blank lines are skipped. The file is UTF-8 (a byte-order mark is accepted).
"""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from robolearn.data.schema import TMP_MARKER
from sim.plumbing.files import atomic_path

__all__ = ["EPISODE_COLUMN", "TEXT_COLUMN", "AnnotationFormatError", "read_annotations", "write_annotations"]

EPISODE_COLUMN = "episode"
TEXT_COLUMN = "text"
_WIDE_TEXT_COLUMN = re.compile(r"text\d+")
_EPISODE_ID = re.compile(r"-?\d+")


class AnnotationFormatError(ValueError):
    """A malformed annotations file; the message names the file, the line and the problem."""

    def __init__(self, path: str | os.PathLike, line: int | None, problem: str):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise AnnotationFormatError(
            path, line, f"not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); save the file as UTF-8"
        ) from None


def read_annotations(path: str | os.PathLike) -> dict[int, list[str]]:
    """Read an annotations CSV (long or wide layout, see the module docstring).

    Returns:
        episode index → its descriptions in file order, sorted by episode index.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        AnnotationFormatError (a ValueError): the file is not UTF-8, lacks the ``episode`` or a text
            column, or a row has a non-integer or negative episode id, an empty text (long layout),
            no text at all (wide layout), more cells than the header, or broken CSV quoting.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"annotations file {path} does not exist") from None
    except IsADirectoryError:
        raise AnnotationFormatError(path, None, "is a folder, not an annotations CSV file") from None
    reader = csv.reader(io.StringIO(_decode(path, data), newline=""), strict=True)

    header: list[str] | None = None
    episode_col = -1
    text_cols: list[int] = []
    out: dict[int, list[str]] = {}
    line = 1  # physical line on which the next record starts (a quoted text may span lines)
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            cells = [c.strip() for c in row]
            if not any(cells):
                continue  # blank line
            if header is None:
                header = [c.lower() for c in cells]
                if EPISODE_COLUMN not in header:
                    raise AnnotationFormatError(path, start, f"missing column {EPISODE_COLUMN!r} in header {cells}")
                episode_col = header.index(EPISODE_COLUMN)
                if TEXT_COLUMN in header:
                    text_cols = [header.index(TEXT_COLUMN)]
                else:
                    text_cols = [i for i, h in enumerate(header) if _WIDE_TEXT_COLUMN.fullmatch(h)]
                if not text_cols:
                    raise AnnotationFormatError(
                        path, start, f"missing column {TEXT_COLUMN!r} (or text1, text2, ...) in header {cells}"
                    )
                continue
            if len(cells) > len(header):
                raise AnnotationFormatError(
                    path,
                    start,
                    f"row has {len(cells)} cells but the header has {len(header)}; quote texts that contain commas",
                )
            cells += [""] * (len(header) - len(cells))
            raw_id = cells[episode_col]
            if not _EPISODE_ID.fullmatch(raw_id):
                raise AnnotationFormatError(path, start, f"episode id {raw_id!r} is not an integer")
            episode = int(raw_id)
            if episode < 0:
                raise AnnotationFormatError(path, start, f"episode id {episode} is negative")
            texts = [cells[i] for i in text_cols if cells[i]]
            if not texts:
                raise AnnotationFormatError(path, start, f"empty text for episode {episode}")
            out.setdefault(episode, []).extend(texts)
    except csv.Error as e:
        raise AnnotationFormatError(path, reader.line_num, f"malformed CSV ({e})") from None
    if header is None:
        raise AnnotationFormatError(
            path, None, f"empty file; expected a header such as '{EPISODE_COLUMN},{TEXT_COLUMN}'"
        )
    return dict(sorted(out.items()))


def _checked(annotations: Mapping[int, Sequence[str]]) -> list[tuple[int, str]]:
    """Rows (episode, stripped text) sorted by episode, or a ValueError naming the bad entry."""
    rows: list[tuple[int, str]] = []
    for episode in sorted(annotations):
        if isinstance(episode, bool) or not isinstance(episode, int) or episode < 0:
            raise ValueError(f"episode ids must be non-negative integers, got {episode!r}")
        texts = annotations[episode]
        if isinstance(texts, str):  # a bare string would be written one character per row
            raise ValueError(f"episode {episode}: texts must be a list of strings, got the string {texts!r}")
        for text in texts:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"episode {episode}: every text must be a non-empty string, got {text!r}")
            rows.append((episode, text.strip()))
    return rows


def write_annotations(path: str | os.PathLike, annotations: Mapping[int, Sequence[str]]) -> None:
    """Write ``annotations`` (episode → texts) as a long-layout CSV ``episode,text``, atomically.

    Rows are sorted by episode, texts kept in the given order and stripped of surrounding whitespace
    (as ``read_annotations`` would strip them); episodes with no texts get no rows. Commas, quotes
    and newlines in texts are quoted as CSV requires. The file is written to a temporary file in
    the same folder and renamed over ``path``, so readers never see a half-written file.

    Raises:
        ValueError: an episode id is not a non-negative int, or a text is empty or not a string.
        FileNotFoundError: the folder of ``path`` does not exist.
    """
    path = Path(path)
    rows = _checked(annotations)  # validate everything before touching the disk
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    # Same naming as every other dataset file (schema.TMP_MARKER), so readers skip it; the random suffix
    # keeps two writers in one process apart. (Not ``atomic_open``: its mkstemp name lacks the marker and
    # its file mode is 0o600.)
    tmp_name = path.with_name(f"{path.name}{TMP_MARKER}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with atomic_path(path, tmp=tmp_name) as tmp:
        # O_EXCL: never write through someone else's file; mode 0o666 lets the umask decide permissions.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([EPISODE_COLUMN, TEXT_COLUMN])
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
