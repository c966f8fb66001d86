"""Demo videos for video-commanded planning (``robolearn.demo_videos``): a file, a folder, clips of a clip dataset,
with the task from their labels, and one-line answers for every demo that cannot be used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robolearn.cli import main
from robolearn.data.videos import ClipReader
from robolearn.demo_videos import DemoError, load_demo_videos
from robolearn.video import VideoWriter
from sim.actors.clips import ClipRequest, render_clip

QUIET = ("workers=1", "progress_bar=false")


def _write(path: Path, frames: np.ndarray) -> Path:
    with VideoWriter(path, fps=8) as video:
        for frame in frames:
            video.append(frame)
    return path


@pytest.fixture(scope="module")
def clip_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Robot demos of open_drawer (clips 0, 1) and of close_drawer (2, 3), then 2 actor clips, at 32²."""
    out = tmp_path_factory.mktemp("clips") / "videos"
    argv = ["collect", "videos", f"out={out}", "actor_clips=2", "robot_demos_per_task=2", "num_frames=5"]
    assert main([*argv, "robot_tasks=[open_drawer,close_drawer]", "image_size=32", *QUIET]) == 0
    return out


def test_a_video_file_and_a_folder_of_them(tmp_path: Path) -> None:
    clip = render_clip(ClipRequest("hand", "open_drawer", num_frames=12), 5).frames
    path = _write(tmp_path / "demos" / "b.mp4", clip)
    demos = load_demo_videos(str(path), 12, 64)
    assert demos.clips.shape == (1, 12, 64, 64, 3) and demos.clips.dtype == np.uint8 and demos.task is None
    assert np.abs(demos.clips[0].astype(int) - clip).mean() < 8  # H.264 keeps the picture within a few levels
    _write(tmp_path / "demos" / "a.mp4", clip[::-1])
    (tmp_path / "demos" / "notes.txt").write_text("not a video")
    folder = load_demo_videos(str(tmp_path / "demos"), 6, 32)
    assert folder.clips.shape == (2, 6, 32, 32, 3)
    assert [Path(n).name for n in folder.names] == ["a.mp4", "b.mp4"]  # by name; other files left out
    assert "2 demo videos" in folder.describe()


def test_clips_of_a_dataset_carry_their_task(clip_dataset: Path) -> None:
    demos = load_demo_videos([f"{clip_dataset}:0,1"], 5, 64)
    assert demos.task == "open_drawer" and demos.clips.shape == (2, 5, 64, 64, 3)
    with ClipReader(clip_dataset) as reader:
        assert reader.info(3).task == "close_drawer"
    assert load_demo_videos(f"{clip_dataset}:3", 5, 32).task == "close_drawer"
    with pytest.raises(DemoError, match="different tasks .*close_drawer, open_drawer"):
        load_demo_videos(f"{clip_dataset}:0,3", 5, 64)
    with pytest.raises(DemoError, match=r"no clip \[99\]"):
        load_demo_videos(f"{clip_dataset}:1,99", 5, 64)
    with pytest.raises(DemoError, match="is a clip dataset: name the clips"):
        load_demo_videos(str(clip_dataset), 5, 64)
    with pytest.raises(DemoError, match="clip indices"):
        load_demo_videos(f"{clip_dataset}:first", 5, 64)


def test_demos_that_cannot_be_used_are_named(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match="no such video file, folder, DATASET:ids or shipped demo"):
        load_demo_videos(str(tmp_path / "missing.mp4"), 5, 64)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DemoError, match="folder with no video file"):
        load_demo_videos(str(tmp_path / "empty"), 5, 64)
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(DemoError, match="is not a video file"):
        load_demo_videos(str(tmp_path / "a.txt"), 5, 64)
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x01 not an mp4")
    with pytest.raises(DemoError, match="broken.mp4: cannot be decoded"):
        load_demo_videos(str(tmp_path / "broken.mp4"), 5, 64)
    with pytest.raises(DemoError, match="give a video file"):
        load_demo_videos([], 5, 64)
