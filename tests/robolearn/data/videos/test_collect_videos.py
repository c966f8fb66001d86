"""``robolearn collect videos`` at a tiny size: which clip is which, the dataset it writes, determinism, resuming."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robolearn.cli import main
from robolearn.data.videos import ClipReader
from robolearn.data.videos.collect import CollectVideosSettings, clip_plan
from robolearn.data.videos.collect_config import DEFAULT_ROBOT_TASKS, CollectVideosOptions, OutcomeMix
from sim.actors import HELDOUT_ACTOR

TINY = ("actor_clips=6", "robot_demos_per_task=2", "robot_tasks=[open_drawer]", "num_frames=5", "image_size=32")
QUIET = ("workers=1", "progress_bar=false")


def test_plan_puts_robot_demos_first_and_keeps_the_heldout_actor_out() -> None:
    settings = CollectVideosSettings.from_options(CollectVideosOptions(actor_clips=300, robot_demos_per_task=3))
    plan = clip_plan(settings)
    robot = [p for p in plan if p[0] == "panda"]
    assert len(plan) == 300 + 3 * len(DEFAULT_ROBOT_TASKS) and plan[: len(robot)] == robot
    assert [p[1] for p in robot] == [t for t in DEFAULT_ROBOT_TASKS for _ in range(3)]
    assert all(p[2] == "done" and p[3] == "train" for p in robot)
    actors = {p[0] for p in plan[len(robot) :]}
    assert HELDOUT_ACTOR not in actors and "panda" not in actors and len(actors) == 4
    assert not any(p[0] == "stick" and p[1].startswith("lift_") for p in plan)  # only what the actor can do
    outcomes = [p[2] for p in plan[len(robot) :]]
    assert 0.45 < outcomes.count("done") / len(outcomes) < 0.75  # the outcome mix (0.6 done)
    # a pure function of the settings: the same plan again, and more actor clips only append
    more = CollectVideosSettings.from_options(CollectVideosOptions(actor_clips=310, robot_demos_per_task=3))
    assert clip_plan(more)[: len(plan)] == plan


def test_robot_attempts_follow_each_tasks_demos_and_never_try_to_succeed() -> None:
    options = CollectVideosOptions(
        actor_clips=5, robot_demos_per_task=2, robot_attempts_per_task=30, robot_tasks=["open_drawer", "close_drawer"]
    )
    settings = CollectVideosSettings.from_options(options)
    plan = clip_plan(settings)
    assert settings.robot_clips == 64 and len(plan) == 69
    for k, task in enumerate(["open_drawer", "close_drawer"]):
        block = plan[32 * k : 32 * (k + 1)]
        assert all(p[0] == "panda" and p[1] == task for p in block)
        assert [p[2] for p in block[:2]] == ["done", "done"]
        attempts = [p[2] for p in block[2:]]
        assert "done" not in attempts and len(set(attempts)) >= 3  # drawn from the non-done outcome weights
    assert all(p[0] != "panda" for p in plan[64:])
    assert settings.meta()["clips"]["robot_attempts_per_task"] == 30
    # datasets made without attempts record nothing new (they resume unchanged)
    assert "robot_attempts_per_task" not in CollectVideosSettings.from_options(CollectVideosOptions()).meta()["clips"]
    only_done = OutcomeMix(done=1.0, partial=0.0, failed=0.0, pretending=0.0, none=0.0)
    with pytest.raises(ValueError, match="robot_attempts_per_task > 0 needs an outcome other than done"):
        CollectVideosOptions(robot_attempts_per_task=1, outcomes=only_done)


def test_evaluation_set_plan() -> None:
    options = CollectVideosOptions(
        seed=10**6,
        actor_clips=4,
        actors="heldout",
        robot_demos_per_task=1,
        robot_tasks=["open_drawer"],
        robot_variants=["new_colors", "new_viewpoint"],
    )
    plan = clip_plan(CollectVideosSettings.from_options(options))
    assert plan[:2] == [
        ("panda", "open_drawer", "done", "new_colors"),
        ("panda", "open_drawer", "done", "new_viewpoint"),
    ]
    assert {p[0] for p in plan[2:]} == {HELDOUT_ACTOR}


def test_collect_videos_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "videos"
    argv = ["collect", "videos", f"out={out}", *TINY, *QUIET]
    assert main(argv) == 0
    assert "rendered 8 clips (2 robot clips and 6 actor clips" in capsys.readouterr().out
    reader = ClipReader(out)
    infos = reader.infos()
    assert len(infos) == 8 and reader.meta["content"] == "clips" and reader.meta["seed"] == 0
    assert [i.is_robot for i in infos] == [True, True] + [False] * 6
    assert all(i.task == "open_drawer" and i.actor == "panda" for i in infos[:2])
    assert all(i.source == "rendered" and i.variant == "train" for i in infos)
    for i in infos:
        assert i.progress is not None and i.progress.shape == (5,) and 0 <= i.progress.min() <= i.progress.max() <= 1
        assert i.label == (i.task or i.template.replace("[", "").replace("]", ""))
        assert i.info is not None and i.info["seed"] == i.index  # clip i from seed + i
    frames = reader.frames(3)
    assert frames.shape == (5, 32, 32, 3) and frames.std() > 0  # a rendered scene, not a blank image
    assert reader.object_states(3).shape[0] == 5
    # the meta names every clip's object-state columns, as the clips' own info does
    names = reader.meta["object_state_names"]
    assert names and all(i.info["object_state_names"] == names for i in infos)
    assert reader.object_states(3).shape[1] == len(names)
    reference = [reader.frames(i) for i in reader.indices()]
    reader.close()

    # killed before packing: the rerun renders the missing clips again, the same bytes
    (shard,) = out.glob("shard_*.h5")
    shard.unlink()
    assert main(argv) == 0
    again = ClipReader(out)
    for i, want in enumerate(reference):
        np.testing.assert_array_equal(again.frames(i), want)
    again.close()

    # more actor clips append to the dataset (the first 8 are kept)
    assert main(["collect", "videos", f"out={out}", *TINY, *QUIET, "actor_clips=7"]) == 0
    assert "rendered 1 clips" in capsys.readouterr().out
    assert len(ClipReader(out)) == 9


def test_the_scene_randomization_is_an_option_recorded_in_the_dataset(tmp_path: Path) -> None:
    """``scene.*`` reaches the renderer (twin desks here) and the dataset's meta, so a resume with other scene
    settings is refused; a dataset made with the defaults records none (older datasets resume unchanged)."""
    out = tmp_path / "twins"
    argv = ["collect", "videos", f"out={out}", "actor_clips=3", "robot_demos_per_task=0", "num_frames=3"]
    argv += ["image_size=32", "behaviours=[open_drawer]", "outcomes.done=1", "outcomes.partial=0", "outcomes.failed=0"]
    argv += ["outcomes.pretending=0", "outcomes.none=0", "plain_scene_fraction=0", *QUIET]
    assert main([*argv, "scene.twin_probability=1"]) == 0
    reader = ClipReader(out)
    assert reader.meta["clips"]["scene"]["twin_probability"] == 1.0
    twins = [(i.info["scene"] or {}).get("twin", "") for i in reader.infos() if i.info is not None]
    reader.close()
    assert len(twins) == 3 and set(twins) <= {"drawer", ""} and "drawer" in twins  # a drawer clip keeps its drawer
    assert main([*argv, "scene.twin_probability=0.5"]) != 0  # other scene settings: not the same dataset
    plain = tmp_path / "plain"
    assert main([*argv[:2], f"out={plain}", *argv[3:]]) == 0
    reader = ClipReader(plain)
    assert "scene" not in reader.meta["clips"] and all(
        (i.info["scene"] or {}).get("twin", "") == "" for i in reader.infos() if i.info
    )
    reader.close()
