"""Importing real videos as a clip dataset: a Something-Something-V2 folder, or a folder of videos + a CSV.

``robolearn data import ssv2 SRC OUT`` reads SSv2 as distributed (or as a Hugging Face mirror lays it out):

* videos ``<id>.webm`` (or ``.mp4``) in ``SRC``, ``SRC/20bn-something-something-v2`` or ``SRC/videos``;
* the labels file ``something-something-v2-labels.json`` (or ``labels.json``; in ``SRC`` or ``SRC/labels``):
  ``{"Opening something": "101", ...}``, class name (template without brackets) → class index;
* the split ``something-something-v2-{train,validation}.json`` (or ``{train,validation}.json``): a list of
  ``{"id": "78687", "label": "opening a box", "template": "Opening [something]", "placeholders": ["box"]}``;
  a mirror's ``{"video_id": ..., "text": ..., "label": 101}`` (an integer class index) is read too.

``robolearn data import folder SRC OUT`` reads a folder of videos and a CSV (``SRC/labels.csv`` by default) with
a header and the columns ``file`` (relative to SRC), ``label`` (a template, with or without brackets) and,
optionally, ``task`` (a desk task: the clip's label becomes it), ``actor``, ``outcome``, ``placeholders``
(``;``-separated) and ``variant``.

Every problem with the inputs (a JSON or CSV that does not parse, an entry without a class, a template or class
the labels file does not know, a missing or undecodable video) is a one-line ``DatasetError`` naming the file
and the entry or line, raised before any video is decoded where it can be. Clip ``i`` is the ``i``-th selected
entry (in the JSON's or CSV's order), so a rerun resumes (``robolearn.data.videos.writing``).
"""

from __future__ import annotations

import csv
import difflib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from robolearn.data.episode import Episode
from robolearn.data.metadata import DatasetError, package_versions
from robolearn.data.videos.clip import CLIPS_CONTENT, OUTCOME_NAMES, clip_attr, clip_episode, template_class
from robolearn.data.videos.decode import decode_video
from robolearn.data.videos.writing import WriteOptions, write_clips
from sim.plumbing.checks import shown
from sim.plumbing.settings import check_knobs, knob
from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS

__all__ = [
    "FOLDER_COLUMNS",
    "ImportOptions",
    "VideoEntry",
    "clips_meta",
    "folder_entries",
    "import_folder",
    "import_ssv2",
    "ssv2_entries",
]

#: SSv2's file names, as distributed and as mirrors rename them (the first one found is used)
SSV2_LABEL_FILES = ("something-something-v2-labels.json", "labels.json")
SSV2_SPLIT_FILES = ("something-something-v2-{split}.json", "{split}.json")
SSV2_SUBDIRS = ("", "labels")  # where the JSON files may lie, relative to SRC
SSV2_VIDEO_DIRS = ("", "20bn-something-something-v2", "videos")  # where <id>.webm may lie
SSV2_SPLITS = ("train", "validation")
SSV2_ACTOR = "person"  # who acts in an SSv2 video
REAL_VARIANT = "real"  # the variant of a video that was filmed, not rendered
#: the CSV columns the folder importer reads (``file`` and ``label`` required)
FOLDER_COLUMNS = ("file", "label", "task", "actor", "outcome", "placeholders", "variant")
FOLDER_REQUIRED = ("file", "label")
PLACEHOLDER_SEP = ";"
#: metadata keys a resumed import must agree on (they change what clip i is)
RESUME_KEYS = ("content", "clips", "observations")
#: packages whose versions meta.json records
RECORDED_PACKAGES = ("robolearn", "numpy", "h5py", "opencv-python-headless", "opencv-python")


@dataclass(frozen=True)
class ImportOptions:
    """The options of ``robolearn data import ssv2|folder`` (its ``--flags``; defaults and checks here)."""

    num_frames: int = knob(20, "frames per clip, evenly spaced over the video, first and last kept (count)", lo=2)
    image_size: int = knob(
        64, "pixels per side: the shorter side is resized to this and the longer one centre-cropped", lo=8, hi=1024
    )
    split: str = knob("train", "the SSv2 split to import (ssv2 only)", choices=SSV2_SPLITS)
    classes: tuple[str, ...] = knob(
        (),
        "the classes to import: class names (templates with or without brackets) or, for ssv2, class indices of "
        "the labels file; empty = every class",
        any_type=True,
    )
    limit: int = knob(0, "import at most this many videos, the first selected in file order (count; 0 = all)", lo=0)
    csv: str = knob("labels.csv", "the CSV of labels, relative to SRC (folder only)")
    workers: int = knob(2, "processes decoding videos (count); 1 decodes in this process", lo=1)
    chunk_clips: int = knob(25, "videos per work unit handed to a worker (count)", lo=1)
    progress_bar: bool = knob(True, "show a progress bar")
    compression_level: int = knob(4, "gzip level of the stored frames", lo=0, hi=9)
    episodes_per_shard: int = knob(1000, "clips per shard file (count)", lo=1)

    def __post_init__(self) -> None:
        check_knobs(self, "")
        if not isinstance(self.classes, tuple) or not all(isinstance(c, str) and c.strip() for c in self.classes):
            raise ValueError(f"classes={shown(self.classes)} must be a list of class names or indices")


@dataclass(frozen=True)
class VideoEntry:
    """One video to import and what it shows.

    Attributes:
        path: the video file.
        origin: how the labels name it (SSv2 id, or the CSV's ``file``).
        where: the labels file and entry or line that listed it (for error messages).
        template: the template (SSv2's with brackets when the labels give one).
        class_name: the template's class (no brackets).
        class_index: SSv2's class index, or None.
        placeholders: the objects filling the brackets.
        task: a desk task, or None.
        actor, outcome, variant: as stored in the clip's attribute.
        text: the label as written (SSv2's filled-in label, the CSV's label).
    """

    path: Path
    origin: str
    where: str
    template: str
    class_name: str
    class_index: int | None = None
    placeholders: tuple[str, ...] = ()
    task: str | None = None
    actor: str = SSV2_ACTOR
    outcome: str = "done"
    variant: str = REAL_VARIANT
    text: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- reading
def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise DatasetError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); not an SSv2 JSON file"
        ) from None
    except json.JSONDecodeError as err:
        raise DatasetError(
            f"{path}: not valid JSON ({err.msg}: line {err.lineno}, column {err.colno}); restore the file "
            "as distributed"
        ) from None
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read ({err.strerror or err})") from None


def _find(src: Path, names: Sequence[str], subdirs: Sequence[str], what: str) -> Path:
    for sub in subdirs:
        for name in names:
            path = src / sub / name
            if path.is_file():
                return path
    tried = ", ".join(str(Path(sub) / n) if sub else n for sub in subdirs for n in names)
    raise DatasetError(f"{src}: no {what} found (looked for {tried}); pass the SSv2 folder that holds it")


def _class_map(path: Path) -> dict[str, int]:
    """The labels file: class name → index."""
    raw = _load_json(path)
    if not isinstance(raw, dict) or not raw:
        raise DatasetError(
            f"{path}: holds {type(raw).__name__}, not a JSON object of class name → index "
            '(e.g. {"Opening something": "101"})'
        )
    out: dict[str, int] = {}
    for name, value in raw.items():
        try:
            if isinstance(value, (bool, float)):
                raise ValueError
            out[template_class(str(name))] = int(value)
        except (TypeError, ValueError):
            raise DatasetError(f"{path}: class {name!r} has index {shown(value)}, not an integer") from None
    return out


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {' / '.join(repr(c) for c in close)}?)" if close else ""


def _video_file(src: Path, video_id: str, where: str) -> Path:
    for sub in SSV2_VIDEO_DIRS:
        for suffix in (".webm", ".mp4"):
            path = src / sub / f"{video_id}{suffix}"
            if path.is_file():
                return path
    raise DatasetError(
        f"{where}: video {video_id!r} not found ({src / f'{video_id}.webm'} or .mp4, also under "
        f"{', '.join(d + '/' for d in SSV2_VIDEO_DIRS if d)}); download it, or import only the classes you have"
    )


def ssv2_entries(src: str | Path, split: str) -> tuple[list[VideoEntry], dict[str, int], Path]:
    """Every labelled video of an SSv2 split.

    Returns:
        (entries in the JSON's order, class name → index, the labels file).

    Raises:
        DatasetError: a file missing or malformed, an entry without an id or a class, a template or class index
            the labels file lacks (one line naming the file and the entry). Videos are located later, per entry
            selected (``_locate``).
    """
    src = Path(src)
    if not src.is_dir():
        raise DatasetError(f"{src}: no such folder; pass the folder that holds the SSv2 videos and JSON files")
    labels_path = _find(src, SSV2_LABEL_FILES, SSV2_SUBDIRS, "SSv2 labels file")
    classes = _class_map(labels_path)
    by_index = {i: n for n, i in classes.items()}
    split_path = _find(src, [n.format(split=split) for n in SSV2_SPLIT_FILES], SSV2_SUBDIRS, f"SSv2 {split} split")
    raw = _load_json(split_path)
    if not isinstance(raw, list):
        raise DatasetError(
            f"{split_path}: holds {type(raw).__name__}, not a JSON list of videos "
            '({"id", "label", "template", "placeholders"})'
        )
    entries: list[VideoEntry] = []
    for n, item in enumerate(raw):
        where = f"{split_path}: entry {n}"
        if not isinstance(item, dict):
            raise DatasetError(f"{where} is {shown(item)}, not an object with id, label and template")
        vid = item.get("id", item.get("video_id"))
        if isinstance(vid, bool) or not isinstance(vid, (str, int)) or not str(vid).strip():
            raise DatasetError(f"{where} has no video id (an 'id' or 'video_id' field); got {shown(vid)}")
        vid = str(vid).strip()
        where = f"{where} (id {vid})"
        template, label = item.get("template"), item.get("label")
        if isinstance(template, str) and template.strip():
            name = template_class(template)
            if name not in classes:
                raise DatasetError(
                    f"{where}: template {template!r} is not a class of {labels_path}{_suggest(name, list(classes))}"
                )
        elif isinstance(label, int) and not isinstance(label, bool):
            if label not in by_index:
                raise DatasetError(
                    f"{where}: class index {label} is not in {labels_path} (indices {min(by_index)}–{max(by_index)})"
                )
            name = template = by_index[label]
        elif isinstance(label, str) and template_class(label) in classes:
            name = template = template_class(label)
        else:
            raise DatasetError(
                f"{where} has no class: give a 'template' (e.g. \"Opening [something]\") or an integer 'label' "
                f"index of {labels_path}; got template {shown(template)}, label {shown(label)}"
            )
        placeholders = item.get("placeholders") or []
        if not isinstance(placeholders, list) or not all(isinstance(p, str) for p in placeholders):
            raise DatasetError(f"{where}: placeholders {shown(placeholders)} is not a list of strings")
        text = item.get("label") if isinstance(item.get("label"), str) else item.get("text", "")
        entries.append(
            VideoEntry(
                path=src / f"{vid}.webm",  # placeholder until located: only selected entries need their file
                origin=vid,
                where=where,
                template=str(template),
                class_name=name,
                class_index=classes[name],
                placeholders=tuple(placeholders),
                text=str(text or ""),
            )
        )
    return entries, classes, labels_path


def _cell(row: Mapping[str, str | None], key: str) -> str:
    value = row.get(key)
    return value.strip() if isinstance(value, str) else ""


def folder_entries(src: str | Path, csv_name: str = "labels.csv") -> list[VideoEntry]:
    """The videos a folder's CSV lists, with their labels (rows in the CSV's order).

    Raises:
        DatasetError: the CSV missing, unreadable, without the ``file`` / ``label`` columns or with unknown ones;
            a row with an empty file or label, a file that does not exist, an unknown desk task or outcome (one
            line naming the CSV and its line).
    """
    src = Path(src)
    if not src.is_dir():
        raise DatasetError(f"{src}: no such folder; pass the folder that holds the videos and their CSV")
    path = src / csv_name
    if not path.is_file():
        raise DatasetError(
            f"{path}: no such CSV of labels; write one with the header {','.join(FOLDER_REQUIRED)}[,task,actor,"
            f"outcome] (one row per video), or name yours with --csv"
        )
    entries: list[VideoEntry] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if not header:
                raise DatasetError(f"{path}: empty; expected a header line {','.join(FOLDER_REQUIRED)}[,task,...]")
            reader.fieldnames = header
            missing = [c for c in FOLDER_REQUIRED if c not in header]
            unknown = [c for c in header if c not in FOLDER_COLUMNS]
            if missing or unknown:
                raise DatasetError(
                    f"{path}: line 1 (the header) "
                    + (f"lacks the column(s) {', '.join(missing)}" if missing else "")
                    + ("; " if missing and unknown else "")
                    + (f"has unknown column(s) {', '.join(repr(u) for u in unknown)}" if unknown else "")
                    + f"; the columns are {', '.join(FOLDER_COLUMNS)} (file and label required)"
                )
            for row in reader:
                line = reader.line_num
                where = f"{path}: line {line}"
                extra = row.get(None)  # DictReader's key for the cells beyond the header
                if extra:
                    raise DatasetError(f"{where} has {len(header) + len(extra)} cells, the header {len(header)}")
                file, label = _cell(row, "file"), _cell(row, "label")
                if not file and not label and not any(_cell(row, c) for c in header):
                    continue  # a blank line
                if not file or not label:
                    raise DatasetError(f"{where}: empty {'file' if not file else 'label'}; every row needs both")
                video = src / file
                if not video.is_file():
                    raise DatasetError(f"{where}: video {file!r} not found ({video})")
                task = _cell(row, "task") or None
                if task is not None and task not in DESK_TASK_DESCRIPTIONS:
                    raise DatasetError(
                        f"{where}: task {task!r} is not a desk task; leave it empty or use one of "
                        f"{', '.join(DESK_TASK_DESCRIPTIONS)}"
                    )
                outcome = _cell(row, "outcome") or "done"
                if outcome not in OUTCOME_NAMES:
                    raise DatasetError(f"{where}: outcome {outcome!r} is not one of {', '.join(OUTCOME_NAMES)}")
                placeholders = tuple(p.strip() for p in _cell(row, "placeholders").split(PLACEHOLDER_SEP) if p.strip())
                entries.append(
                    VideoEntry(
                        path=video,
                        origin=file,
                        where=where,
                        template=label,
                        class_name=template_class(label),
                        placeholders=placeholders,
                        task=task,
                        actor=_cell(row, "actor") or SSV2_ACTOR,
                        outcome=outcome,
                        variant=_cell(row, "variant") or REAL_VARIANT,
                        text=label,
                    )
                )
    except UnicodeDecodeError as err:
        raise DatasetError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save the CSV as UTF-8"
        ) from None
    except csv.Error as err:
        raise DatasetError(f"{path}: not a readable CSV ({err}); save it as plain comma-separated text") from None
    if not entries:
        raise DatasetError(f"{path}: lists no video; add one row per video under the header")
    return entries


def _select(
    entries: list[VideoEntry], classes: Sequence[str], known: Mapping[str, int] | None, where: Path
) -> tuple[list[VideoEntry], list[str]]:
    """The entries of the chosen classes (names or, with ``known``, indices); returns them and the class names."""
    if not classes:
        return entries, sorted({e.class_name for e in entries})
    by_index = {i: n for n, i in (known or {}).items()}
    names: list[str] = []
    present = sorted({e.class_name for e in entries}) if known is None else sorted(known)
    for c in classes:
        c = c.strip()
        if known is not None and c.isdigit():
            if int(c) not in by_index:
                raise DatasetError(
                    f"classes: index {c} is not a class of {where} (indices {min(by_index)}–{max(by_index)})"
                )
            names.append(by_index[int(c)])
            continue
        name = template_class(c)
        if name not in present:
            raise DatasetError(f"classes: {c!r} is not a class of {where}{_suggest(name, present)}")
        names.append(name)
    chosen = set(names)
    return [e for e in entries if e.class_name in chosen], sorted(chosen)


# ----------------------------------------------------------------------------------------------- writing
def _versions() -> dict[str, str | None]:
    """The installed ones of ``RECORDED_PACKAGES`` (either OpenCV wheel may be the one installed), then Python."""
    return {k: v for k, v in package_versions(RECORDED_PACKAGES).items() if v is not None}


def clips_meta(clips: Mapping[str, Any], image_size: int, object_state_names: Sequence[str] = ()) -> dict[str, Any]:
    """The meta.json of a clip dataset: ``content``, how the clips were made (``clips``), the stored observations,
    the object-state names (rendered clips), package versions, date and command."""
    return {
        "content": CLIPS_CONTENT,
        "clips": dict(clips),
        "observations": {"rgb": {"shape": [image_size, image_size, 3], "dtype": "uint8"}},
        "object_state_names": list(object_state_names),
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
    }


@dataclass(frozen=True)
class _ImportJob:
    """Decodes entry ``i`` (a ``ClipJob``)."""

    entries: tuple[VideoEntry, ...]
    source: str
    num_frames: int
    image_size: int

    def setup(self) -> None:
        """Nothing to prepare: OpenCV opens each file itself."""

    def episode(self, index: int) -> Episode:
        e = self.entries[index]
        video = decode_video(e.path, self.num_frames, self.image_size)
        info = {
            "file": str(e.path),
            "text": e.text,
            "class_index": e.class_index,
            "source_frames": video.source_frames,
            "source_size": list(video.source_size),
            "fps": video.fps,
        }
        attr = clip_attr(
            template=e.template,
            placeholders=e.placeholders,
            task=e.task,
            actor=e.actor,
            is_robot=False,
            outcome=e.outcome,
            variant=e.variant,
            source=self.source,
            behaviour=e.class_name,
            origin=e.origin,
            info=info,
        )
        return clip_episode(index, index, video.frames, attr)


def _write(
    entries: list[VideoEntry], source: str, out: str | Path, options: ImportOptions, clips: Mapping[str, Any]
) -> dict[str, Any]:
    if options.limit:
        entries = entries[: options.limit]
    if not entries:
        raise DatasetError(f"no video to import with classes={list(options.classes)}: choose other classes")
    job = _ImportJob(tuple(entries), source, options.num_frames, options.image_size)
    meta = clips_meta(
        {**clips, "count": len(entries), "num_frames": options.num_frames, "image_size": options.image_size},
        options.image_size,
    )
    opts = WriteOptions(
        out=Path(out),
        total=len(entries),
        workers=options.workers,
        chunk_size=options.chunk_clips,
        progress_bar=options.progress_bar,
        compression_level=options.compression_level,
        episodes_per_shard=options.episodes_per_shard,
        desc=f"import {source} → {out}",
    )
    return write_clips(job, opts, meta, RESUME_KEYS)


def import_ssv2(src: str | Path, out: str | Path, options: ImportOptions | None = None) -> dict[str, Any]:
    """Import an SSv2 split (the chosen classes) into a clip dataset at ``out``; returns the summary.

    Raises:
        DatasetError: a problem with the SSv2 files, the chosen classes, a video, or an existing ``out`` made with
            other settings (one line each).
    """
    options = options or ImportOptions()
    src = Path(src)
    entries, known, labels_path = ssv2_entries(src, options.split)
    chosen, names = _select(entries, options.classes, known, labels_path)
    if options.limit:
        chosen = chosen[: options.limit]
    # only the selected videos need to be there
    located = [replace(e, path=_video_file(src, e.origin, e.where)) for e in chosen]
    clips = {"source": "ssv2", "src": str(src.resolve()), "split": options.split, "classes": names}
    return _write(located, "ssv2", out, options, clips)


def import_folder(src: str | Path, out: str | Path, options: ImportOptions | None = None) -> dict[str, Any]:
    """Import the videos a folder's CSV lists (the chosen classes) into a clip dataset at ``out``.

    Raises:
        DatasetError: a problem with the CSV, the chosen classes, a video, or an existing ``out`` made with other
            settings (one line each).
    """
    options = options or ImportOptions()
    src = Path(src)
    entries = folder_entries(src, options.csv)
    chosen, names = _select(entries, options.classes, None, src / options.csv)
    clips = {"source": "folder", "src": str(src.resolve()), "csv": options.csv, "classes": names}
    return _write(chosen, "folder", out, options, clips)
