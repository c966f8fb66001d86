"""``robolearn collect planner-clips``: the DVD planner's own plans, executed and stored as robot clips labelled by
what they did (the negatives of reward aggregation for a video reward); resumable like every collection."""

from __future__ import annotations

from pathlib import Path

import pytest

from robolearn.cli import main
from robolearn.data.videos import ClipReader
from robolearn.training.dvd_data import NEGATIVE_OUTCOMES

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = (
    "clips=2",
    "tasks=[open_drawer,turn_faucet_left]",
    "optimizer.population=8",
    "optimizer.elites=2",
    "optimizer.iterations=1",
    "horizon=4",
    "num_frames=4",
    "demos_per_plan=1",
    "oracle_workers=1",
    "progress_bar=false",
)


def test_planner_clips_are_robot_clips_labelled_by_what_the_plan_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "planner"
    assert main(["collect", "planner-clips", f"out={out}", *TINY]) == 0
    assert "holds 2 planner clips" in capsys.readouterr().out
    with ClipReader(out) as reader:
        infos = reader.infos()
        assert [i.behaviour for i in infos] == ["open_drawer", "turn_faucet_left"]  # clip i plans tasks[i mod 2]
        assert all(i.is_robot and i.actor == "panda" and i.source == "rendered" for i in infos)
        # 4 random-ish steps from one CEM iteration do not do a task: an attempt that failed, a negative for its label
        assert all(i.outcome in NEGATIVE_OUTCOMES or i.outcome == "done" for i in infos)
        assert all(i.info is not None and len(i.info["plan_actions"]) == 4 for i in infos)
        assert reader.frames(0).shape == (4, 64, 64, 3) and reader.frames(0).std() > 0
        first = reader.frames(1)
    # a rerun makes nothing new; other settings are refused rather than mixed in
    assert main(["collect", "planner-clips", f"out={out}", *TINY]) == 0
    with ClipReader(out) as reader:
        assert len(reader) == 2 and (reader.frames(1) == first).all()
    assert main(["collect", "planner-clips", f"out={out}", *TINY, "horizon=5"]) == 2
    assert "settings" in capsys.readouterr().err


def test_bad_planner_clips_options_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "planner-clips", f"out={tmp_path}/x", "tasks=[open_the_fridge]"]) == 2
    assert "open_the_fridge" in capsys.readouterr().err
    assert main(["collect", "planner-clips", f"out={tmp_path}/x", f"checkpoint={tmp_path}/none.pt"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_planner_clip_never_becomes_robot_data_of_a_task_kept_free_of_it() -> None:
    from robolearn.planner_clips import relabel

    tasks = ("move_white_mug_left", "open_drawer")
    # a push meant to the left that moved the mug towards the camera: a failed attempt, not a demo of another task
    assert relabel("move_white_mug_down", "done", "move_white_mug_left", tasks) == ("move_white_mug_left", "failed")
    assert relabel("move_white_mug_left", "done", "move_white_mug_left", tasks) == ("move_white_mug_left", "done")
    assert relabel("open_drawer", "failed", "open_drawer", tasks) == ("open_drawer", "failed")
    assert relabel(None, "pretending", "open_drawer", tasks) == (None, "pretending")
