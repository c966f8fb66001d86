"""Bad video inputs: unreadable videos, malformed SSv2 JSON and label CSVs, unknown templates and classes, bad
options; each gets one line naming the file (and the entry or line), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robolearn.data.metadata import DatasetError, create_dataset
from robolearn.data.videos import ClipReader, load_clips
from sim.actors import HELDOUT_ACTOR
from tests.bad_inputs.conftest import BadApi, BadCli
from tests.robolearn.data.dataset_helpers import META
from tests.robolearn.data.videos.video_files import csv_folder, ssv2_folder, write_video

FAST = ("--workers", "1", "--no-progress-bar", "--num-frames", "3", "--image-size", "8")
GOOD_ROW = {"file": "a.mp4", "label": "Opening [something]"}


@pytest.fixture
def ssv2(tmp_path: Path) -> Path:
    return ssv2_folder(tmp_path / "ssv2")


def ssv2_cli(src: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["data", "import", "ssv2", str(src), str(tmp_path / "out"), *FAST, *extra]


def folder_cli(src: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["data", "import", "folder", str(src), str(tmp_path / "out"), *FAST, *extra]


def test_an_unreadable_video_is_named(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    (ssv2 / "1002.webm").write_bytes(b"not a video" * 50)
    bad_cli(ssv2_cli(ssv2, tmp_path), "robolearn data import: error:", "1002.webm", "cannot be decoded")
    # the clips decoded before it are kept: fixing the file and rerunning resumes
    (ssv2 / "1002.webm").unlink()
    write_video(ssv2 / "1002.webm")
    from robolearn.cli import main

    assert main(ssv2_cli(ssv2, tmp_path)) == 0
    assert len(ClipReader(tmp_path / "out")) == 5


def test_an_unreadable_video_in_a_worker_is_named(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    (ssv2 / "1004.webm").write_bytes(b"")
    argv = ["data", "import", "ssv2", str(ssv2), str(tmp_path / "out"), "--workers", "2", "--chunk-clips", "1"]
    bad_cli([*argv, "--no-progress-bar"], "1004.webm", "cannot be decoded")


def test_malformed_ssv2_json_is_named_with_its_line(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    (ssv2 / "something-something-v2-labels.json").write_text('{"Opening something": "0",\n "Closing')
    bad_cli(ssv2_cli(ssv2, tmp_path), "something-something-v2-labels.json", "not valid JSON", "line 2")
    (ssv2 / "something-something-v2-labels.json").write_text('["Opening something"]')
    bad_cli(ssv2_cli(ssv2, tmp_path), "something-something-v2-labels.json", "not a JSON object")
    (ssv2 / "something-something-v2-labels.json").write_text('{"Opening something": "zero"}')
    bad_cli(ssv2_cli(ssv2, tmp_path), "something-something-v2-labels.json", "'Opening something'", "not an integer")


def test_bad_ssv2_entries_are_named(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    split = ssv2 / "something-something-v2-train.json"
    entries = json.loads(split.read_text())

    def write(n: int, **changes: object) -> None:
        items = [dict(e) for e in entries]
        items[n].update(changes)
        items[n] = {k: v for k, v in items[n].items() if v is not None}
        split.write_text(json.dumps(items))

    write(2, template="Juggling [something]")
    bad_cli(
        ssv2_cli(ssv2, tmp_path),
        "something-something-v2-train.json: entry 2 (id 1002)",
        "'Juggling [something]'",
        "not a class",
    )
    write(1, template=None, label=99)
    bad_cli(ssv2_cli(ssv2, tmp_path), "entry 1 (id 1001)", "class index 99")
    write(3, id=None)
    bad_cli(ssv2_cli(ssv2, tmp_path), "entry 3", "no video id")
    write(0, template=None, label="opening a drawer")
    bad_cli(ssv2_cli(ssv2, tmp_path), "entry 0 (id 1000)", "has no class")
    split.write_text('{"id": "1"}')
    bad_cli(ssv2_cli(ssv2, tmp_path), "something-something-v2-train.json", "not a JSON list")


def test_missing_ssv2_files_and_videos_are_named(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    (ssv2 / "1003.webm").unlink()
    bad_cli(ssv2_cli(ssv2, tmp_path), "entry 3 (id 1003)", "video '1003' not found", "1003.webm")
    bad_cli(ssv2_cli(ssv2, tmp_path, "--split", "validation"), "no SSv2 validation split found")
    bad_cli(ssv2_cli(tmp_path / "nowhere", tmp_path), "nowhere: no such folder")


def test_unknown_classes_are_named(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    bad_cli(
        ssv2_cli(ssv2, tmp_path, "--classes", "Openning something"),
        "'Openning something'",
        "did you mean 'Opening something'",
    )
    bad_cli(ssv2_cli(ssv2, tmp_path, "--classes", "42"), "index 42 is not a class")
    src = csv_folder(tmp_path / "videos", [GOOD_ROW])
    bad_cli(folder_cli(src, tmp_path, "--classes", "Closing something"), "'Closing something'", "labels.csv")


def test_bad_options_name_the_flag(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    bad_cli(ssv2_cli(ssv2, tmp_path, "--num-frames", "1"), "--num-frames 1 is out of range")
    bad_cli(ssv2_cli(ssv2, tmp_path, "--split", "test"), "invalid choice: 'test'")


@pytest.mark.parametrize(
    ("rows", "header", "needles"),
    [
        ([{"file": "a.mp4"}], ["file"], ["line 1 (the header)", "lacks the column(s) label"]),
        ([{**GOOD_ROW, "taks": "open_drawer"}], None, ["has unknown column(s) 'taks'"]),
        ([GOOD_ROW, {"file": "b.mp4", "label": ""}], None, ["labels.csv: line 3", "empty label"]),
        ([{**GOOD_ROW, "task": "open_door"}], None, ["line 2", "task 'open_door' is not a desk task"]),
        ([{**GOOD_ROW, "outcome": "great"}], None, ["line 2", "outcome 'great'"]),
        ([GOOD_ROW, {"file": "", "label": "x"}], None, ["line 3", "empty file"]),
    ],
)
def test_bad_label_csvs_are_named_with_their_line(
    tmp_path: Path, bad_cli: BadCli, rows: list[dict[str, str]], header: list[str] | None, needles: list[str]
) -> None:
    src = csv_folder(tmp_path / "videos", rows, header)
    bad_cli(folder_cli(src, tmp_path), "labels.csv", *needles)


def test_csv_files_that_are_missing_unreadable_or_empty(tmp_path: Path, bad_cli: BadCli) -> None:
    src = csv_folder(tmp_path / "videos", [GOOD_ROW])
    (src / "labels.csv").write_text("file,label\nmissing.mp4,Opening something\n")
    bad_cli(folder_cli(src, tmp_path), "labels.csv: line 2", "video 'missing.mp4' not found")
    (src / "labels.csv").write_bytes(b"file,label\n\xff\xfe.mp4,x\n")
    bad_cli(folder_cli(src, tmp_path), "labels.csv", "not UTF-8")
    (src / "labels.csv").write_text("")
    bad_cli(folder_cli(src, tmp_path), "labels.csv: empty")
    (src / "labels.csv").write_text("file,label\n")
    bad_cli(folder_cli(src, tmp_path), "labels.csv: lists no video")
    bad_cli(folder_cli(src, tmp_path, "--csv", "mine.csv"), "mine.csv: no such CSV", "--csv")
    (src / "labels.csv").write_text("file,label\na.mp4,Opening something\n")
    (src / "a.mp4").write_bytes(b"\x00" * 100)
    bad_cli(folder_cli(src, tmp_path), "a.mp4", "cannot be decoded")


def test_resuming_with_other_settings_is_refused(ssv2: Path, tmp_path: Path, bad_cli: BadCli) -> None:
    from robolearn.cli import main

    assert main(ssv2_cli(ssv2, tmp_path, "--limit", "1")) == 0
    bad_cli(ssv2_cli(ssv2, tmp_path, "--limit", "1", "--image-size", "16"), "clips.image_size", "use a new out= folder")


def test_clip_api_on_an_interaction_dataset(tmp_path: Path, bad_api: BadApi) -> None:
    create_dataset(tmp_path / "ds", META)
    bad_api(lambda: ClipReader(tmp_path / "ds"), DatasetError, "not a clip dataset", "robolearn collect videos")
    bad_api(lambda: load_clips([tmp_path / "ds"], 4, 8), DatasetError, "not a clip dataset")
    bad_api(lambda: load_clips([tmp_path / "nowhere"], 4, 8), DatasetError, "nowhere: no such dataset folder")


@pytest.mark.parametrize(
    ("overrides", "needles"),
    [
        (["actors=[hand,elephant]"], ["actors: unknown name 'elephant'"]),
        (["actors=[panda]"], ["'panda' is the robot", "robot_demos_per_task"]),
        ([f"actors=[{HELDOUT_ACTOR}]"], [f"'{HELDOUT_ACTOR}' is heldout_actor", "actors=heldout"]),
        (["actors=heldout", "heldout_actor=null"], ["actors=heldout needs a heldout_actor"]),
        (["actors=[stick]", "behaviours=[lift_white_mug]"], ["none of the actors ['stick'] can do 'lift_white_mug'"]),
        (["robot_variants=[new_colours]"], ["robot_variants: unknown name 'new_colours'"]),
        (["robot_tasks=[open_door]"], ["robot_tasks: unknown name 'open_door'"]),
        (["outcomes.done=0.9"], ["outcomes.", "must sum to 1"]),
        (["num_frames=1"], ["num_frames=1 is out of range"]),
        (["heldout_actor=panda"], ["heldout_actor=", "panda"]),
        (["frames=20"], ["frames"]),
    ],
)
def test_collect_videos_bad_settings(tmp_path: Path, bad_cli: BadCli, overrides: list[str], needles: list[str]) -> None:
    out = tmp_path / "videos"
    bad_cli(["collect", "videos", f"out={out}", *overrides], "robolearn collect: error:", *needles)
    assert not out.exists()  # refused before anything is written


def test_collect_videos_refuses_other_settings_on_resume(tmp_path: Path, bad_cli: BadCli) -> None:
    from robolearn.cli import main

    argv = ["collect", "videos", f"out={tmp_path / 'v'}", "actor_clips=1", "robot_demos_per_task=0", "workers=1"]
    assert main([*argv, "num_frames=3", "image_size=16", "progress_bar=false"]) == 0
    bad_cli([*argv, "num_frames=4", "image_size=16"], "clips.num_frames", "use a new out= folder")
