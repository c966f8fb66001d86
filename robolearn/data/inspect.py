"""``robolearn data``: look inside a dataset, and move human annotations in and out.

robolearn data info ROOT [--verify]             episodes, steps, label distribution, disk size; checks
robolearn data show ROOT [-e 0 5 9] [-o FILE]   contact sheet (.png) or video (.mp4/.gif) of episodes
robolearn data export-annotations ROOT CSV      hindsight descriptions as an editable CSV
robolearn data import-annotations ROOT CSV      human descriptions (episode → text), as LOReL's
robolearn data export-actions ROOT OUT.npz      every episode's actions, the library of `optimizer=library`
robolearn data import ssv2 SRC OUT [--classes ...] [--split validation]   Something-Something-V2 videos as clips
robolearn data import folder SRC OUT [--csv labels.csv]                     a folder of videos + a CSV of labels

``info`` on a clip dataset (``robolearn collect videos``, ``robolearn data import``) counts its clips per label,
actor, outcome, variant and source instead of episodes per hindsight label.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import imageio.v3 as iio
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from tqdm import tqdm

from robolearn.data.annotations import read_annotations, write_annotations
from robolearn.data.language import canonical
from robolearn.data.metadata import DatasetError
from robolearn.data.reader import DatasetReader
from robolearn.data.schema import ANNOTATIONS_FILE
from robolearn.data.verify import FIX_MISSING, DatasetCheck, check_dataset
from robolearn.data.videos.clip import is_clip_meta
from robolearn.data.videos.reader import ClipReader
from robolearn.video import VIDEO_FORMATS, Caption, VideoWriter, caption_frame
from sim.plumbing.checks import shown
from sim.plumbing.files import OutputError, atomic_path, check_writable, output_keys, write_bytes_atomic
from sim.plumbing.settings import knobs_of

SHEET_FRAMES = 6  # frames per episode on a contact sheet (evenly spaced, first and last included)
SHEET_SCALE = 2  # contact sheet pixels per observation pixel (64×64 frames are tiny)
VIDEO_SCALE = 4  # video pixels per observation pixel
VIDEO_FPS = 6  # slow enough to follow a 20-step episode
CAPTION_FONT = 12  # caption text height (pixels)
TOP_LABELS = 12  # label rows shown by `info`
#: what `show` writes: a contact sheet or a video
SHOW_SUFFIXES = (".png", *VIDEO_FORMATS)


def _disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _label_text(label: Sequence[Any]) -> str:
    return canonical(tuple(label))


def dataset_info(root: str | Path, verify: bool = False, progress: bool = False) -> dict[str, Any]:
    """Counts and distributions of a dataset, after checking it (``robolearn.data.verify.check_dataset``).

    Without ``verify`` only episode attributes, headers and tables are read (not the frames); with it every
    array of every episode is decoded first.

    Raises:
        DatasetError: the first problem the check finds; with ``verify``, also episodes missing from it.
    """

    root = Path(root)
    reader = DatasetReader(root)
    check = check_dataset(reader, decode=verify, progress=progress)
    if verify and check.missing:
        raise DatasetError(
            f"{root}: {check.describe_missing()}: a shard or episode file was deleted, or the collection was "
            f"interrupted; {FIX_MISSING}"
        )
    if is_clip_meta(reader.meta):
        return _clip_info(root, reader, check)
    indices = reader.indices()
    labels: collections.Counter[str] = collections.Counter()
    tasks: collections.Counter[str] = collections.Counter()
    modes: collections.Counter[str] = collections.Counter()
    n_labels: collections.Counter[int] = collections.Counter()
    steps = 0
    example: dict[str, list[str]] = {}
    for i in tqdm(indices, desc="reading episode attributes", disable=True if len(indices) < 2000 else None, unit="ep"):
        attrs = reader.attrs(i)
        steps += int(attrs["length"])
        tasks[attrs["task"]] += 1
        modes[attrs["exploration"]] += 1
        ep_labels = json.loads(attrs["labels"]) if isinstance(attrs["labels"], str) else attrs["labels"]
        n_labels[len(ep_labels)] += 1
        for label in ep_labels:
            text = _label_text(label)
            labels[text] += 1
            if text not in example:
                inst = attrs["instructions"]
                example[text] = json.loads(inst) if isinstance(inst, str) else list(inst)
    size = _disk_bytes(root)
    return {
        "root": str(root),
        "meta": reader.meta,
        "episodes": len(indices),
        "steps": steps,
        "disk_bytes": size,
        "bytes_per_episode": size / max(1, len(indices)),
        "labels": labels,
        "labels_per_episode": n_labels,
        "tasks": tasks,
        "exploration": modes,
        "examples": example,
        "check": check,
    }


#: the distributions `info` counts over a clip dataset: ClipInfo attribute → table title
CLIP_COUNTS = {"label": "label", "actor": "actor", "outcome": "outcome", "variant": "variant", "source": "source"}


def _clip_info(root: Path, reader: DatasetReader, check: DatasetCheck) -> dict[str, Any]:
    """``dataset_info`` of a clip dataset: counts per label, actor, outcome, variant and source (and robot clips
    per label), frames per clip."""
    clips = ClipReader(root)
    counts: dict[str, collections.Counter[str]] = {k: collections.Counter() for k in CLIP_COUNTS}
    robot: collections.Counter[str] = collections.Counter()
    frames: collections.Counter[int] = collections.Counter()
    templates: dict[str, str] = {}
    with clips:
        for i in clips.indices():
            info = clips.info(i)
            for key in CLIP_COUNTS:
                counts[key][str(getattr(info, key))] += 1
            if info.is_robot:
                robot[info.label] += 1
            frames[clips.num_frames(i)] += 1
            templates.setdefault(info.label, info.template)
    size = _disk_bytes(root)
    n = len(clips)
    return {
        "root": str(root),
        "meta": reader.meta,
        "clips": n,
        "episodes": n,
        "disk_bytes": size,
        "bytes_per_episode": size / max(1, n),
        "counts": counts,
        "robot": robot,
        "frames": frames,
        "templates": templates,
        "check": check,
    }


def _print_clip_info(info: dict[str, Any], console: Console) -> None:
    meta = info["meta"]
    n = max(1, info["clips"])
    made = meta.get("clips") or {}
    frames = ", ".join(f"{k} frames: {v}" for k, v in sorted(info["frames"].items()))
    console.print(
        f"[bold]{info['root']}[/bold]: {info['clips']} clips ({frames or 'none'}); "
        f"{info['disk_bytes'] / 1e6:.1f} MB on disk ({info['bytes_per_episode'] / 1e3:.1f} kB per clip)"
    )
    shape = "×".join(map(str, (meta.get("observations") or {}).get("rgb", {}).get("shape", [])))
    console.print(
        f"clips from {made.get('source', '?')}; frames {shape or '?'} uint8; "
        + (f"seed {made['seed']}; " if "seed" in made else "")
        + f"created {meta.get('created', '?')} with robolearn {meta.get('versions', {}).get('robolearn', '?')}"
    )
    table = Table(title='clips per label (the class "same task" compares: the desk task, else the template)')
    table.add_column("label")
    table.add_column("clips", justify="right")
    table.add_column("robot", justify="right")
    table.add_column("share", justify="right")
    table.add_column("template")
    for label, count in sorted(info["counts"]["label"].items()):
        table.add_row(
            escape(label),
            str(count),
            str(info["robot"].get(label, 0)),
            f"{100 * count / n:.1f}%",
            escape(info["templates"][label]),  # "[something]" is not rich markup
        )
    console.print(table)
    for key in ("actor", "outcome", "variant", "source"):
        counter = info["counts"][key]
        console.print(
            f"{key}: " + ", ".join(f"{escape(k)} {v} ({100 * v / n:.0f}%)" for k, v in sorted(counter.items()))
        )


def print_info(info: dict[str, Any]) -> None:
    console = Console(highlight=False)
    if "clips" in info:
        _print_clip_info(info, console)
        if info.get("check") is not None:
            console.print(_check_line(info["root"], info["check"]))
        if not info["clips"]:
            console.print(
                "[yellow]warning: the dataset holds no clips: its collection or import has not finished one yet, "
                "or its files were deleted; rerun the command that made it[/yellow]"
            )
        return
    meta = info["meta"]
    n = max(1, info["episodes"])
    obs = ", ".join(
        f"{k} {'×'.join(map(str, v['shape']))} {v['dtype']}" for k, v in meta.get("observations", {}).items()
    )
    console.print(
        f"[bold]{info['root']}[/bold]: {info['episodes']} episodes, {info['steps']} steps; "
        f"{info['disk_bytes'] / 1e6:.1f} MB on disk ({info['bytes_per_episode'] / 1e3:.1f} kB per episode)"
    )
    console.print(
        f"observations: {obs}; seed {meta.get('seed')}; created {meta.get('created', '?')} "
        f"with robolearn {meta.get('versions', {}).get('robolearn', '?')}"
    )
    table = Table(title="hindsight labels (an episode can have several)")
    table.add_column("label")
    table.add_column("episodes", justify="right")
    table.add_column("share", justify="right")
    table.add_column("example description")
    for text, count in info["labels"].most_common(TOP_LABELS):
        table.add_row(text, str(count), f"{100 * count / n:.1f}%", (info["examples"].get(text) or [""])[0])
    if len(info["labels"]) > TOP_LABELS:
        table.add_row(f"… {len(info['labels']) - TOP_LABELS} more", "", "", "")
    console.print(table)
    per = ", ".join(f"{k}: {100 * v / n:.0f}%" for k, v in sorted(info["labels_per_episode"].items()))
    console.print(f"labels per episode: {per}")
    console.print("exploration: " + ", ".join(f"{k} {100 * v / n:.0f}%" for k, v in info["exploration"].most_common()))
    console.print("start states: " + ", ".join(f"{k} {v}" for k, v in sorted(info["tasks"].items())))
    check: DatasetCheck | None = info.get("check")
    if check is not None:
        console.print(_check_line(info["root"], check))
        if check.missing:
            console.print(
                f"[yellow]warning: {check.describe_missing()}: a shard or episode file was deleted, or the "
                f"collection was interrupted; {FIX_MISSING}[/yellow]"
            )
        if not info["episodes"]:
            console.print(
                "[yellow]warning: the dataset holds no episodes: its collection has not finished one yet, or its "
                f"files were deleted; collect into it with robolearn collect out={info['root']}[/yellow]"
            )


def _check_line(root: str, check: DatasetCheck) -> str:
    files = f"{check.shards} shard{'s' * (check.shards != 1)} and {check.loose} episode file{'s' * (check.loose != 1)}"
    if check.loose < check.loose_total:
        files += f" (of {check.loose_total})"
    if check.decoded:
        return (
            f"verified: every array of the {check.episodes} episodes decoded ({check.arrays} arrays, "
            f"{check.decoded_bytes / 1e6:.1f} MB) and consistent with the index tables and meta.json"
        )
    return (
        f"checked: {files} open, their index tables and each file's first episode agree with meta.json; "
        f"the arrays were not decoded (robolearn data info {root} --verify decodes every one)"
    )


def _upscale(frame: np.ndarray, scale: int) -> np.ndarray:
    return np.repeat(np.repeat(frame, scale, axis=0), scale, axis=1)


def show(root: str | Path, episodes: Sequence[int] | None, out: str | Path, modality: str = "rgb") -> Path:
    """Write a contact sheet (.png: one row per episode) or a video (.mp4/.gif) of ``episodes``.

    Raises:
        sim.plumbing.files.OutputError: ``out`` cannot be written (checked before the dataset is read, and when
            writing fails, e.g. on a full disk); one line naming it and ``-o``.
    """
    out = check_writable(out, "-o", suffixes=SHOW_SUFFIXES)
    with output_keys({"-o": out}):
        return _show(root, episodes, out, modality)


def _show(root: str | Path, episodes: Sequence[int] | None, out: Path, modality: str) -> Path:
    reader = DatasetReader(root)
    available = reader.indices()
    if not available:
        raise DatasetError(
            f"{root} holds no episodes: its collection has not finished one yet, or its files were deleted; "
            f"collect into it with robolearn collect out={root}"
        )
    chosen = list(episodes) if episodes else available[:8]
    missing = [i for i in chosen if i not in set(available)]
    if missing:
        raise ValueError(
            f"episode(s) {shown(missing)} not in {root} (it holds {len(available)} episodes, "
            f"indices {available[0]}–{available[-1]})"
        )
    # meta.json lists what every episode stores; a dataset whose meta.json leaves it out: the first episode's
    stored = list(reader.meta.get("observations") or reader.episode(available[0]).obs)
    if modality not in stored:
        raise ValueError(f"the dataset has no {shown(modality)} observations; it has {', '.join(stored) or 'none'}")
    if out.suffix.lower() == ".png":
        rows = []
        for i in chosen:
            attrs = reader.attrs(i)
            frames = reader.frames(i, modality, slice(None))
            picks = np.linspace(0, len(frames) - 1, SHEET_FRAMES).round().astype(int)
            row = np.concatenate([_upscale(_as_rgb(frames[t]), SHEET_SCALE) for t in picks], axis=1)
            text = _describe_attrs(attrs)
            rows.append(
                caption_frame(row, Caption(f"#{i} {text}", f"{attrs['task']} · {attrs['exploration']}"), CAPTION_FONT)
            )
        # encoded in memory, then written atomically (a full disk is an OutputError, never half a file)
        write_bytes_atomic(out, iio.imwrite("<bytes>", np.concatenate(rows, axis=0), extension=".png"), durable=False)
        return out
    with VideoWriter(out, VIDEO_FPS) as video:
        for i in chosen:
            attrs = reader.attrs(i)
            frames = reader.frames(i, modality, slice(None))
            for t, frame in enumerate(frames):
                video.append(
                    caption_frame(
                        _upscale(_as_rgb(frame), VIDEO_SCALE),
                        Caption(f"#{i} {_describe_attrs(attrs)}", f"step {t}/{len(frames) - 1}"),
                        CAPTION_FONT,
                    )
                )
    return out


def _as_rgb(frame: np.ndarray) -> np.ndarray:
    """uint8 H×W×3 for display: RGB as is; depth and segmentation as grey levels."""
    if frame.ndim == 3 and frame.shape[-1] == 3:
        return frame
    f = frame.astype(np.float32)
    f = (f - f.min()) / max(1e-6, float(f.max() - f.min()))
    return np.repeat((f * 255).astype(np.uint8)[..., None], 3, axis=-1)


def _describe_attrs(attrs: dict[str, Any]) -> str:
    clip = attrs.get("clip")
    if isinstance(clip, dict):  # a clip: what it shows, who did it and how it ended
        return f"{clip.get('template')} · {clip.get('actor')} · {clip.get('outcome')}"
    labels = json.loads(attrs["labels"]) if isinstance(attrs["labels"], str) else attrs["labels"]
    return " + ".join(_label_text(label) for label in labels)


def export_annotations(root: str | Path, csv_path: str | Path) -> int:
    """Write every episode's hindsight descriptions as ``episode,text`` rows; returns the row count.

    Raises:
        sim.plumbing.files.OutputError: ``csv_path`` cannot be written (checked before the dataset is read).
    """
    check_writable(csv_path, "CSV")
    reader = DatasetReader(root)
    rows: dict[int, list[str]] = {}
    for i in reader.indices():
        inst = reader.attrs(i)["instructions"]
        rows[i] = json.loads(inst) if isinstance(inst, str) else list(inst)
    with output_keys({"CSV": csv_path}):
        write_annotations(csv_path, rows)
    return sum(len(v) for v in rows.values())


def export_actions(root: str | Path, out: str | Path, max_episodes: int | None = None) -> int:
    """Write the actions of the dataset's episodes (the first ``max_episodes``, by index) as an action library
    (``planners.optimizers.library``): ``actions`` float32 (N, T_max, A), zero past each episode's end, and
    ``lengths`` int64 (N,); returns N. Written atomically.

    Raises:
        sim.plumbing.files.OutputError: ``out`` cannot be written (checked before the dataset is read).
        ValueError: ``out`` does not end in .npz, or ``max_episodes`` < 1.
    """
    if not str(out).endswith(".npz"):
        raise ValueError(f"the action library must be a .npz file, got {out}; e.g. actions.npz")
    if max_episodes is not None and max_episodes < 1:
        raise ValueError(f"--max-episodes must be ≥ 1, got {max_episodes}")
    check_writable(out, "action library")
    reader = DatasetReader(root)
    indices, lengths = reader.indices(), reader.lengths
    keep = [r for r in range(len(indices)) if lengths[r] >= 1][:max_episodes]
    if not keep:
        raise ValueError(f"{root}: no episode with at least one action")
    first = reader.read(indices[keep[0]], "actions")
    actions = np.zeros((len(keep), int(lengths[keep].max()), first.shape[-1]), dtype=np.float32)
    for row, r in enumerate(tqdm(keep, desc="actions", unit="ep", disable=len(keep) < 1000)):
        actions[row, : lengths[r]] = reader.read(indices[r], "actions")
    with atomic_path(out) as tmp, open(tmp, "wb") as f:  # np.savez on a path would append .npz to the temp name
        np.savez(f, actions=actions, lengths=lengths[keep].astype(np.int64))
    return len(keep)


def import_annotations(root: str | Path, csv_path: str | Path) -> int:
    """Copy a CSV of human descriptions into the dataset (``annotations.csv``); returns the episode count.

    Raises:
        ValueError: the CSV names episodes that the dataset does not hold.
    """
    check_writable(Path(root) / ANNOTATIONS_FILE, "ROOT")  # the descriptions are stored in the dataset folder
    annotations = read_annotations(csv_path)
    held = set(DatasetReader(root).indices())
    unknown = sorted(set(annotations) - held)
    if unknown:
        raise ValueError(f"{csv_path}: {len(unknown)} episode id(s) not in {root}, e.g. {unknown[:5]}")
    write_annotations(Path(root) / ANNOTATIONS_FILE, annotations)
    return len(annotations)


#: `robolearn data import` sources: (name, help, ImportOptions fields it does not use)
IMPORT_SOURCES = (
    (
        "ssv2",
        "a Something-Something-V2 folder: <id>.webm videos, the labels file and the split's JSON",
        ("csv",),
    ),
    (
        "folder",
        "a folder of videos and a CSV of labels (file,label[,task,actor,outcome,placeholders,variant])",
        ("split",),
    ),
)


def _knob_arguments(parser: argparse.ArgumentParser, skip: Sequence[str]) -> None:
    """``--flag`` options for the fields of ``ImportOptions`` (its knobs: default, doc, allowed values)."""
    from robolearn.data.videos.importers import ImportOptions  # lazy: OpenCV's importer; `data info` stays light

    defaults = ImportOptions()
    for name, k in knobs_of(ImportOptions).items():
        if name in skip:
            continue
        flag = "--" + name.replace("_", "-")
        default = getattr(defaults, name)
        allowed = f" ({k.describe()})" if k.describe() else ""
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=k.doc)
        elif isinstance(default, tuple):
            parser.add_argument(flag, nargs="*", default=list(default), metavar="CLASS", help=k.doc)
        else:
            parser.add_argument(
                flag,
                type=type(default),
                default=default,
                choices=k.choices,
                help=f"{k.doc}{allowed}; default {default}",
            )


def _import(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``robolearn data import SOURCE``; returns the summary."""
    from robolearn.data.videos.importers import ImportOptions, import_folder, import_ssv2  # lazy: OpenCV

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(ImportOptions) if hasattr(args, f.name)}
    values["classes"] = tuple(values.get("classes") or ())
    try:
        options = ImportOptions(**values)
    except ValueError as err:  # the knob check names the field as a key (image_size=4): say it as the flag typed
        message = str(err)
        name = message.split("=", 1)[0]
        if name in values:
            message = f"--{name.replace('_', '-')} {message[len(name) + 1 :]}"
        raise ValueError(message) from None
    check_writable(args.out, "OUT", folder=True)
    with output_keys({"OUT": args.out}, "the imported clips are kept: rerun the same command to resume"):
        run = import_ssv2 if args.source == "ssv2" else import_folder
        return run(args.src, args.out, options)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (argparse prints the usage block, then the error)."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split()).removeprefix("usage: ")
        self.exit(2, f"{self.prog}: error: {message} (usage: {usage}; see '{self.prog} --help')\n")


def main(argv: Sequence[str]) -> int:
    """Entry point of ``robolearn data``; returns the exit code (2 for usage and data errors)."""
    parser = OneLineParser(prog="robolearn data", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="episodes, steps, label distribution, disk size; checks the files")
    p_info.add_argument("root")
    p_info.add_argument(
        "--verify",
        action="store_true",
        help="decode every array of every episode and cross-check it (slow: reads the whole dataset)",
    )
    p_show = sub.add_parser("show", help="contact sheet (.png) or video (.mp4/.gif) of chosen episodes")
    p_show.add_argument("root")
    p_show.add_argument("-e", "--episodes", type=int, nargs="*", help="episode indices (default: the first 8)")
    p_show.add_argument("-o", "--out", default="outputs/data_show.png", help="output .png, .mp4 or .gif")
    p_show.add_argument("-m", "--modality", default="rgb")
    p_exp = sub.add_parser("export-annotations", help="write descriptions as an editable CSV (episode,text)")
    p_exp.add_argument("root")
    p_exp.add_argument("csv")
    p_act = sub.add_parser("export-actions", help="write every episode's actions as an action library (.npz)")
    p_act.add_argument("root")
    p_act.add_argument("out", help="the .npz to write, e.g. actions.npz (optimizer=library optimizer.library=OUT)")
    p_act.add_argument("--max-episodes", type=int, default=None, help="the first N episodes only (default: all)")
    p_imp = sub.add_parser("import-annotations", help="store human descriptions (CSV: episode,text) in the dataset")
    p_imp.add_argument("root")
    p_imp.add_argument("csv")
    p_vid = sub.add_parser("import", help="import real videos as a clip dataset: ssv2 SRC OUT, or folder SRC OUT")
    kinds = p_vid.add_subparsers(dest="source", required=True, parser_class=OneLineParser)
    for source, about, skip in IMPORT_SOURCES:
        p_src = kinds.add_parser(source, help=about, description=about)
        p_src.add_argument("src", help="the folder of videos and labels")
        p_src.add_argument("out", help="the clip dataset to write (an existing one is resumed if its settings match)")
        _knob_arguments(p_src, skip)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as e:  # argparse exits 2 on usage errors and 0 on --help
        return int(e.code or 0)
    try:
        if args.command == "info":
            print_info(dataset_info(args.root, verify=args.verify, progress=True))
        elif args.command == "show":
            print(f"wrote {show(args.root, args.episodes, args.out, args.modality)}")
        elif args.command == "import":
            summary = _import(args)
            print(
                f"imported {summary['made']} clips in {summary['seconds']:.1f} s; dataset {summary['out']} holds "
                f"{summary['held']} clips (robolearn data info {summary['out']})"
            )
        elif args.command == "export-actions":
            n = export_actions(args.root, args.out, args.max_episodes)
            print(
                f"wrote the actions of {n} episodes to {args.out} (plan with optimizer=library optimizer.library={args.out})"
            )
        elif args.command == "export-annotations":
            print(f"wrote {export_annotations(args.root, args.csv)} descriptions to {args.csv}")
        else:
            print(f"imported descriptions of {import_annotations(args.root, args.csv)} episodes into {args.root}")
    except (DatasetError, ValueError, FileNotFoundError, OutputError) as e:
        message = " ".join(line.strip() for line in str(e).splitlines() if line.strip()) or type(e).__name__
        print(f"robolearn data {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0
