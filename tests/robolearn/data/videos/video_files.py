"""Small real video files in the layouts the importers read, written with OpenCV (``cv2.VideoWriter``).

Fourccs the installed opencv-python writes (checked): ``VP90`` for .webm (FFmpeg warns that the tag is not the
container's, then writes VP9; ``VP80`` is refused the same way), ``mp4v`` for .mp4. Frame ``t`` of video ``k``:
a dark background whose red channel is ``t * RED_STEP`` (so resampling can be checked frame by frame) and a white
square at ``k``-dependent column.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

FPS = 12
WIDTH, HEIGHT = 48, 36  # not square: the importer centre-crops
FRAMES = 12  # frames per written video
RED_STEP = 20  # red of frame t (a codec keeps a flat colour within a few levels)
FOURCC = {".webm": "VP90", ".mp4": "mp4v"}
#: SSv2's labels file of the tests: class name → index, as distributed (indices as strings)
LABELS = {
    "Opening something": "0",
    "Closing something": "1",
    "Pushing something from left to right": "2",
    "Moving something away from the camera": "3",
}


def write_video(path: Path, k: int = 0, frames: int = FRAMES) -> Path:
    """A small video at ``path`` (codec by suffix); returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC[path.suffix]), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened(), f"OpenCV cannot write {path.suffix}"
    for t in range(frames):
        bgr = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        bgr[..., 2] = t * RED_STEP  # OpenCV frames are BGR: channel 2 is red
        col = 4 + 3 * k
        bgr[4:12, col : col + 8] = 255
        writer.write(bgr)
    writer.release()
    return path


def ssv2_folder(
    root: Path,
    entries: Sequence[tuple[str, str]] = (
        ("Opening [something]", "drawer"),
        ("Closing [something]", "box"),
        ("Pushing [something] from left to right", "cup"),
        ("Opening [something]", "jar"),
        ("Moving [something] away from the camera", "pen"),
    ),
    split: str = "train",
    mirror: bool = False,
) -> Path:
    """An SSv2 folder: ``<id>.webm`` videos, the labels file and the split's JSON (``mirror``: a Hugging Face
    mirror's field names, ``video_id`` / ``text`` / integer ``label``, and ``labels.json`` / ``<split>.json`` in
    ``labels/``). Video ids are 1000 + n."""
    items = []
    for n, (template, thing) in enumerate(entries):
        vid = str(1000 + n)
        write_video(root / f"{vid}.webm", n)
        text = template.replace("[something]", thing)
        name = template.replace("[", "").replace("]", "")
        if mirror:
            items.append({"video_id": vid, "text": text, "label": int(LABELS[name])})
        else:
            items.append({"id": vid, "label": text, "template": template, "placeholders": [thing]})
    labels_dir = root / "labels" if mirror else root
    labels_dir.mkdir(parents=True, exist_ok=True)
    prefix = "" if mirror else "something-something-v2-"
    (labels_dir / f"{prefix}labels.json").write_text(json.dumps(LABELS))
    (labels_dir / f"{prefix}{split}.json").write_text(json.dumps(items))
    return root


def csv_folder(root: Path, rows: Sequence[dict[str, str]], header: Sequence[str] | None = None) -> Path:
    """A folder of videos named by ``rows`` (their ``file``, written as .mp4 or .webm) and ``labels.csv``."""
    root.mkdir(parents=True, exist_ok=True)
    for n, row in enumerate(rows):
        if row.get("file") and not (root / row["file"]).exists():
            write_video(root / row["file"], n)
    header = list(header or rows[0].keys())
    with (root / "labels.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return root
