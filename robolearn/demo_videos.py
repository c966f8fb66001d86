"""Demo videos for planning with a video reward: ``robolearn plan demo=...`` and ``robolearn demo video=...``.

A demo is given as

* a video file (``clip.mp4``, ``.webm``, ``.avi``, ``.mov``, ``.mkv``), decoded, resampled evenly in time and
  centre-cropped to the reward's frame size (``robolearn.data.videos.decode``);
* a folder of video files (every one of them, by name);
* clips of a clip dataset (``robolearn collect videos`` / ``robolearn data import``): ``DATASET:3,17`` (clips 3 and
  17), whose labels say which desk task they show;
* the name of a demo video shipped with the package (``robolearn/checkpoints/demos/``; ``SHIPPED_DEMOS``), whose
  manifest entry says its task;
* or a list of these (all must show one task).

The task the planned episodes start from and are judged by comes from the demos' labels where they have one, else
from ``task=``, else it is recognised by the video reward itself (``recognize_task``: the demos against the shipped
demo videos of every task); a video that matches no task closely enough is answered, never planned at random.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rewards.dvd.model import DVDReward
from robolearn.data.metadata import DatasetError
from robolearn.data.schema import META_FILE
from robolearn.data.videos.decode import VIDEO_SUFFIXES, VideoError, decode_video
from robolearn.data.videos.frames import even_indices, fit_square_frames
from robolearn.data.videos.reader import ClipReader
from robolearn.paths import SHIPPED_DIR
from sim.plumbing.checks import shown

__all__ = [
    "DEMOS_DIR",
    "DemoError",
    "DemoVideos",
    "Recognition",
    "UnrecognizedDemoError",
    "load_demo_videos",
    "recognize_task",
    "reference_clips",
    "render_demo_videos",
    "shipped_demos",
    "write_demo_videos",
]

#: what a shipped reference video of no task shows (its manifest entry's ``shows``; ``recognize_task``'s non-task)
NOTHING = "nothing"
#: the demo videos shipped with the package, and their manifest (name → file, task, actor, seed)
DEMOS_DIR = SHIPPED_DIR / "demos"
DEMOS_MANIFEST = DEMOS_DIR / "demos.json"


class DemoError(ValueError):
    """A demo that cannot be used (missing, undecodable, mixed tasks, wrong size); the message names it and the fix."""


class UnrecognizedDemoError(DemoError):
    """The demos show no task the video reward recognises closely enough; the message says what it saw."""


@dataclass(frozen=True)
class DemoVideos:
    """Demo clips of one task.

    Attributes:
        clips: uint8 (M, T, S, S, 3) RGB clips, T frames evenly spaced over each video, S the reward's frame side.
        names: where each clip came from (a file, ``DATASET:index``, a shipped demo's name).
        task: the desk task their labels name, or None when none is labelled (files).
    """

    clips: np.ndarray
    names: tuple[str, ...]
    task: str | None

    def describe(self) -> str:
        """One line: how many demos, from where."""
        shown_names = ", ".join(self.names[:3]) + (f" and {len(self.names) - 3} more" if len(self.names) > 3 else "")
        return f"{len(self.names)} demo video{'s' if len(self.names) != 1 else ''} ({shown_names})"


def shipped_demos() -> dict[str, dict[str, object]]:
    """The shipped demo videos: name → {file, task, actor, seed, ...} (empty when none are installed)."""
    if not DEMOS_MANIFEST.is_file():
        return {}
    entries = json.loads(DEMOS_MANIFEST.read_text(encoding="utf-8")).get("demos", {})
    return {str(k): dict(v) for k, v in entries.items()}


def _fit_clip(frames: np.ndarray, num_frames: int, image_size: int) -> np.ndarray:
    """uint8 (T, H, W, 3) → (num_frames, image_size, image_size, 3): evenly resampled in time, centre-cropped."""
    return fit_square_frames(frames[even_indices(len(frames), num_frames)], image_size).astype(np.uint8, copy=False)


def _dataset_clips(
    root: Path, ids: str, num_frames: int, image_size: int
) -> tuple[list[np.ndarray], list[str], list[str | None]]:
    try:
        wanted = [int(i) for i in ids.split(",") if i.strip()]
    except ValueError:
        raise DemoError(
            f"demo={shown(f'{root}:{ids}')}: after the dataset folder give clip indices, e.g. {root}:3,17"
        ) from None
    if not wanted:
        raise DemoError(f"demo={shown(f'{root}:{ids}')} names no clip: give indices, e.g. {root}:3,17")
    try:
        reader = ClipReader(root)
    except DatasetError as e:
        raise DemoError(f"demo={shown(str(root))}: {e}") from None
    with reader:
        known = set(reader.indices())
        bad = [i for i in wanted if i not in known]
        if bad:
            raise DemoError(
                f"demo={shown(f'{root}:{ids}')}: no clip {bad} in {root} (it holds {len(known)} clips, indices "
                f"{min(known)}–{max(known)})"
                if known
                else f"demo={shown(str(root))}: the dataset holds no clip"
            )
        clips = [_fit_clip(reader.frames(i), num_frames, image_size) for i in wanted]
        tasks = [reader.info(i).task for i in wanted]
    return clips, [f"{root}:{i}" for i in wanted], tasks


def _file_clip(path: Path, num_frames: int, image_size: int) -> np.ndarray:
    try:
        return decode_video(path, num_frames, image_size).frames
    except VideoError as e:
        raise DemoError(f"demo: {e}") from None


def _one(spec: str, num_frames: int, image_size: int) -> tuple[list[np.ndarray], list[str], list[str | None]]:
    """The clips, names and labelled tasks of one demo entry."""
    shipped = shipped_demos()
    if spec in shipped:
        entry = shipped[spec]
        clip = _file_clip(DEMOS_DIR / str(entry["file"]), num_frames, image_size)
        task = entry.get("task")
        return [clip], [spec], [str(task) if task else None]
    path = Path(spec)
    root, sep, ids = spec.rpartition(":")
    if sep and root and not path.exists() and (Path(root) / META_FILE).is_file():
        return _dataset_clips(Path(root), ids, num_frames, image_size)
    if path.is_dir():
        if (path / META_FILE).is_file():
            raise DemoError(
                f"demo={shown(spec)} is a clip dataset: name the clips to imitate, e.g. demo={spec}:3,17 "
                "(`robolearn data info` lists them)"
            )
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        if not files:
            raise DemoError(
                f"demo={shown(spec)} is a folder with no video file ({', '.join(VIDEO_SUFFIXES)}): give a video "
                "file, a folder of them, DATASET:ids or a shipped demo's name"
            )
        return [_file_clip(f, num_frames, image_size) for f in files], [str(f) for f in files], [None] * len(files)
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise DemoError(
                f"demo={shown(spec)} is not a video file (suffix {path.suffix or 'none'}; decodable: "
                f"{', '.join(VIDEO_SUFFIXES)})"
            )
        return [_file_clip(path, num_frames, image_size)], [spec], [None]
    names = ", ".join(sorted(shipped)[:6])
    raise DemoError(
        f"demo={shown(spec)}: no such video file, folder, DATASET:ids or shipped demo"
        + (f" (shipped demos: {names}{', ...' if len(shipped) > 6 else ''})" if shipped else "")
    )


def load_demo_videos(spec: str | Sequence[str], num_frames: int, image_size: int) -> DemoVideos:
    """The demo clips ``spec`` names (see the module docstring), ``num_frames`` × ``image_size``² each.

    Raises:
        DemoError: a demo is missing or undecodable, or labelled demos name different tasks (one line each).
    """
    specs = [spec] if isinstance(spec, str) else list(spec)
    if not specs or not all(isinstance(s, str) and s.strip() for s in specs):
        raise DemoError(f"demo={spec!r}: give a video file, a folder of them, DATASET:ids or a shipped demo's name")
    clips: list[np.ndarray] = []
    names: list[str] = []
    tasks: list[str | None] = []
    for s in specs:
        c, n, t = _one(s.strip(), num_frames, image_size)
        clips += c
        names += n
        tasks += t
    labelled = sorted({t for t in tasks if t})
    if len(labelled) > 1:
        raise DemoError(
            f"the demos show different tasks ({', '.join(labelled)}): give demos of one task, the robot imitates them "
            "all at once"
        )
    return DemoVideos(np.stack(clips), tuple(names), labelled[0] if labelled else None)


@dataclass(frozen=True)
class Recognition:
    """What a video reward recognises in demo videos.

    Attributes:
        task: the best-matching task.
        score: the demos' mean P(same task) with that task's reference videos, in [0, 1].
        scores: every task's mean P(same task), best first.
    """

    task: str
    score: float
    scores: tuple[tuple[str, float], ...]


def recognize_task(
    model: DVDReward,
    demos: np.ndarray,
    references: Mapping[str, np.ndarray],
    min_score: float,
) -> Recognition:
    """The task whose reference videos the demos match best: the mean over demos and references of P(same task)
    (``DVDReward``'s pair head, without the progress factor).

    Args:
        model: the video reward.
        demos: uint8 (M, T, S, S, 3) clips to recognise.
        references: task → uint8 (K, T, S, S, 3) videos of that task (e.g. the shipped demos); the key ``NOTHING``
            holds videos of actors doing nothing: demos that match them best show no task (on its own, P(same task)
            is no test of that: a static or a noise video scores ~0.6 with some task, as true demos do; measured in
            docs/benchmarks.md).
        min_score: the best task's score must reach this, else the demos show nothing recognised.

    Raises:
        UnrecognizedDemoError: the demos match the videos of nothing best, or no task reaches ``min_score``; the
            message gives the nearest tasks.
    """
    if not references:
        raise UnrecognizedDemoError(
            "no reference videos to recognise the demo's task with (the shipped demo videos are missing): give task="
        )
    with torch.no_grad():
        d = model.demo_embeddings(demos)
        scores = []
        for task, clips in references.items():
            r = model.demo_embeddings(clips)
            p = torch.sigmoid(model.pair_logits(d[:, None].expand(-1, len(r), -1), r[None].expand(len(d), -1, -1)))
            scores.append((task, float(p.mean())))
    scores.sort(key=lambda ts: -ts[1])
    tasks = [(t, s) for t, s in scores if t != NOTHING]
    if not tasks:
        raise UnrecognizedDemoError("no reference videos of any task to recognise the demo's task with: give task=")
    near = ", ".join(f"{t} {s:.2f}" for t, s in tasks[:3])
    if scores[0][0] == NOTHING:
        raise UnrecognizedDemoError(
            f"the demo video shows no task the video reward recognises: it resembles the shipped videos of actors "
            f"doing nothing most (P(same) {scores[0][1]:.2f}; the nearest tasks: {near}). Show a video of one of the "
            "tasks, or say which it is with task=NAME"
        )
    best, score = tasks[0]
    if score < min_score:
        raise UnrecognizedDemoError(
            f"the demo video shows no task the video reward recognises: its best matches are {near} (P(same task), "
            f"below min_demo_score={min_score}). Show a video of one of the tasks, or say which it is with task=NAME"
        )
    return Recognition(best, score, tuple(tasks))


def reference_clips(num_frames: int, image_size: int) -> dict[str, np.ndarray]:
    """The shipped demo videos grouped by what they show: task (or ``NOTHING``) → uint8 (K, num_frames, S, S, 3)."""
    by_task: dict[str, list[np.ndarray]] = {}
    for entry in shipped_demos().values():
        shows = entry.get("shows") or entry.get("task")
        if shows:
            clip = _file_clip(DEMOS_DIR / str(entry["file"]), num_frames, image_size)
            by_task.setdefault(str(shows), []).append(clip)
    return {task: np.stack(clips) for task, clips in by_task.items()}


def render_demo_videos(
    task: str,
    count: int,
    actors: Sequence[str],
    rng: np.random.Generator,
    first_seed: int,
    image_size: int,
) -> tuple[np.ndarray, list[str]]:
    """``count`` videos of ``task`` by non-robot actors drawn from ``actors`` with ``rng``, in randomized scenes,
    rendered at seeds ``first_seed``, ``first_seed + 1``, ...; a take where the actor did not do the task is re-shot
    at the next seed (a demo shows the task, as a person would show it).

    Returns:
        (uint8 (count, 20, S, S, 3) clips, the actor of each).
    """
    from sim.actors.clips import ClipRequest, render_clip  # lazy: PyBullet

    clips: list[np.ndarray] = []
    drawn: list[str] = []
    seed = first_seed
    while len(clips) < count:
        actor = str(rng.choice(list(actors)))
        clip = render_clip(ClipRequest(actor, task, image_size=image_size), seed)
        seed += 1
        if clip.outcome == "done":
            clips.append(clip.frames)
            drawn.append(actor)
    return np.stack(clips), drawn


def write_demo_videos(
    out: str | Path,
    demos: Sequence[tuple[str, str, int, bool, str]],
    num_frames: int,
    image_size: int,
    fps: float,
) -> dict[str, dict[str, object]]:
    """Render demo videos of non-robot actors into ``out`` (MP4 files and ``demos.json``), as shipped in
    ``robolearn/checkpoints/demos`` (the command that made them is in ``robolearn/checkpoints/README.md``).

    Args:
        out: the folder (created).
        demos: (actor, task, seed, randomize, outcome) of each video: an actor other than the robot (``sim.actors``),
            whether its scene is randomized (``sim.video_randomization``) or the robot's own desk, and ``done`` (the
            task carried out; named ``<task>_<actor>``) or ``none`` (the actor moves about and does nothing, a
            reference of what no task looks like; named ``nothing_<actor>``); ``_<k>`` is added for the k-th video
            of the same name.
        num_frames: frames per video, evenly spaced over the actor's attempt.
        image_size: frame side (pixels).
        fps: the videos' frame rate.

    Returns:
        The manifest written to ``demos.json``: name → {file, task, actor, seed, label, outcome, sha256}.
    """
    import hashlib

    from robolearn.video import VideoWriter
    from sim.actors.clips import ClipRequest, render_clip
    from sim.plumbing.files import write_json_atomic

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, object]] = {}
    for actor, task, seed, randomize, outcome in demos:
        request = ClipRequest(actor, task, outcome, num_frames=num_frames, image_size=image_size, randomize=randomize)
        clip = render_clip(request, seed)
        if clip.outcome != outcome or outcome not in ("done", "none"):
            raise DemoError(
                f"{actor} {task} at seed {seed}: measured {clip.outcome}, wanted {outcome}; pick another seed"
            )
        stem = f"{task}_{actor}" if outcome == "done" else f"{NOTHING}_{actor}"
        name, k = stem, 2
        while name in entries:
            name, k = f"{stem}_{k}", k + 1
        path = folder / f"{name}.mp4"
        with VideoWriter(path, fps=fps) as video:
            for frame in clip.frames:
                video.append(frame)
        entries[name] = {
            "file": path.name,
            "task": task if outcome == "done" else None,
            "shows": task if outcome == "done" else NOTHING,
            "actor": actor,
            "seed": seed,
            "label": clip.template.replace("[", "").replace("]", ""),
            "outcome": clip.outcome,
            "randomized_scene": randomize,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    write_json_atomic(
        folder / DEMOS_MANIFEST.name,
        {"num_frames": num_frames, "image_size": image_size, "fps": fps, "demos": entries},
    )
    return entries
