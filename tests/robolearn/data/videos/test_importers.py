"""The importers on small real videos the tests write: an SSv2 folder (as distributed and as a Hugging Face
mirror lays it out) and a folder of videos with a CSV; classes, split, limit, resuming, parallel decoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robolearn.cli import main
from robolearn.data.videos import ClipReader
from robolearn.data.videos.decode import decode_video
from robolearn.data.videos.importers import ImportOptions, import_folder, import_ssv2
from tests.robolearn.data.videos.video_files import FRAMES, RED_STEP, csv_folder, ssv2_folder, write_video

FAST = {"workers": 1, "progress_bar": False, "num_frames": 4, "image_size": 16}


def test_decode_resamples_crops_and_converts_to_rgb(tmp_path: Path) -> None:
    for suffix in (".webm", ".mp4"):
        video = decode_video(write_video(tmp_path / f"v{suffix}"), num_frames=4, image_size=16)
        assert video.frames.shape == (4, 16, 16, 3) and video.frames.dtype == np.uint8
        assert video.source_frames == FRAMES and video.source_size == (36, 48)
        # frames 0, 4, 7, 11 of 12: red = t * RED_STEP (lossy codecs: within a few levels), blue stays dark
        red = video.frames[:, 12, 8, 0].astype(int)
        np.testing.assert_allclose(red, [0, 4 * RED_STEP, 7 * RED_STEP, 11 * RED_STEP], atol=8)
        assert video.frames[:, 12, 8, 2].max() < 10


@pytest.mark.parametrize("mirror", [False, True])
def test_ssv2_import(tmp_path: Path, mirror: bool) -> None:
    src = ssv2_folder(tmp_path / "ssv2", mirror=mirror)
    summary = import_ssv2(src, tmp_path / "out", ImportOptions(**FAST))
    assert summary["made"] == 5
    reader = ClipReader(tmp_path / "out")
    infos = reader.infos()
    assert [i.label for i in infos] == [
        "Opening something",
        "Closing something",
        "Pushing something from left to right",
        "Opening something",
        "Moving something away from the camera",
    ]
    assert [i.origin for i in infos] == ["1000", "1001", "1002", "1003", "1004"]
    first = infos[0]
    assert (first.source, first.actor, first.is_robot, first.outcome, first.task, first.progress) == (
        "ssv2",
        "person",
        False,
        "done",
        None,
        None,
    )
    if not mirror:  # the distributed JSON has templates with brackets and placeholders
        assert first.template == "Opening [something]" and first.placeholders == ("drawer",)
        assert first.info is not None and first.info["text"] == "Opening drawer"
    assert reader.frames(0).shape == (4, 16, 16, 3)
    assert reader.meta["content"] == "clips" and reader.meta["clips"]["split"] == "train"


def test_ssv2_classes_by_name_and_index_split_and_limit(tmp_path: Path) -> None:
    src = ssv2_folder(tmp_path / "ssv2", split="validation")
    # "Opening [something]" (with brackets) and index 3 ("Moving something away from the camera")
    options = ImportOptions(**FAST, split="validation", classes=("Opening [something]", "3"))
    import_ssv2(src, tmp_path / "out", options)
    assert [i.origin for i in ClipReader(tmp_path / "out").infos()] == ["1000", "1003", "1004"]
    import_ssv2(src, tmp_path / "one", ImportOptions(**FAST, split="validation", limit=1))
    assert len(ClipReader(tmp_path / "one")) == 1


def test_only_the_selected_videos_need_to_exist(tmp_path: Path) -> None:
    src = ssv2_folder(tmp_path / "ssv2")
    (src / "1001.webm").unlink()  # a "Closing something" video the import does not ask for
    import_ssv2(src, tmp_path / "out", ImportOptions(**FAST, classes=("Opening something",)))
    assert len(ClipReader(tmp_path / "out")) == 2


def test_import_resumes_and_decodes_in_parallel(tmp_path: Path) -> None:
    src = ssv2_folder(tmp_path / "ssv2")
    out = tmp_path / "out"
    first = import_ssv2(src, out, ImportOptions(**{**FAST, "workers": 2, "chunk_clips": 2}))
    reference = ClipReader(out).frames(4)
    (shard,) = out.glob("shard_*.h5")
    shard.unlink()  # as if killed: the rerun makes only what is missing, the same bytes again
    again = import_ssv2(src, out, ImportOptions(**FAST))
    assert (first["made"], again["made"], again["held"]) == (5, 5, 5)
    np.testing.assert_array_equal(ClipReader(out).frames(4), reference)
    assert import_ssv2(src, out, ImportOptions(**FAST))["made"] == 0


def test_folder_import_with_csv(tmp_path: Path) -> None:
    rows = [
        {"file": "a.mp4", "label": "Opening [something]", "task": "open_drawer", "actor": "me", "outcome": "done"},
        {"file": "sub/b.webm", "label": "Closing something", "task": "", "actor": "", "outcome": "failed"},
        {"file": "c.mp4", "label": "Opening [something]", "task": "", "actor": "you", "outcome": ""},
    ]
    src = csv_folder(tmp_path / "videos", rows)
    import_folder(src, tmp_path / "out", ImportOptions(**FAST))
    infos = ClipReader(tmp_path / "out").infos()
    assert [(i.label, i.actor, i.outcome, i.origin) for i in infos] == [
        ("open_drawer", "me", "done", "a.mp4"),
        ("Closing something", "person", "failed", "sub/b.webm"),
        ("Opening something", "you", "done", "c.mp4"),
    ]
    assert all(i.source == "folder" and i.variant == "real" for i in infos)
    import_folder(src, tmp_path / "closing", ImportOptions(**FAST, classes=("Closing [something]",)))
    assert [i.origin for i in ClipReader(tmp_path / "closing").infos()] == ["sub/b.webm"]


def test_cli_import_then_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = ssv2_folder(tmp_path / "ssv2")
    out = tmp_path / "out"
    argv = ["data", "import", "ssv2", str(src), str(out), "--classes", "0", "--num-frames", "3", "--image-size", "8"]
    assert main([*argv, "--workers", "1", "--no-progress-bar"]) == 0
    assert "imported 2 clips" in capsys.readouterr().out
    assert main(["data", "info", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 clips" in printed and "Opening something" in printed and "Opening [something]" in printed
