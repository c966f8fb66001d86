"""Planning from demo videos (``robolearn plan objective=dvd demo=...``, ``robolearn demo video=...``): the task comes
from the demos' labels or is recognised, the shipped reward scores the episode, and videos that show no task or an
unsupported one get an answer instead of an episode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from robolearn.cli import main
from robolearn.demo_videos import (
    NOTHING,
    UnrecognizedDemoError,
    recognize_task,
    reference_clips,
    shipped_demos,
)
from robolearn.paths import SHIPPED_DIR
from robolearn.video import VideoWriter
from sim.actors.clips import ClipRequest, render_clip

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: a planner small enough for a test: what is checked is the plumbing, not the planner's success
TINY = (
    "dynamics_model=oracle",
    "optimizer=cem",
    "optimizer.population=12",
    "optimizer.elites=3",
    "optimizer.iterations=1",
    "agent.horizon=3",
    "env.max_episode_steps=3",
    "oracle_workers=1",
    "video.path=null",
)
#: far from the seeds the shipped reward was trained, chosen or shipped on
SEED = 9_300_000


def _write(path: Path, frames: np.ndarray) -> Path:
    with VideoWriter(path, fps=8) as video:
        for frame in frames:
            video.append(frame)
    return path


def test_the_shipped_demo_videos_are_described_by_their_manifest() -> None:
    import hashlib

    demos = shipped_demos()
    tasks = {e["task"] for e in demos.values() if e["task"]}
    assert len(tasks) == 15 and sum(e["shows"] == NOTHING for e in demos.values()) >= 4
    for name, entry in demos.items():
        data = (SHIPPED_DIR / "demos" / str(entry["file"])).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name


def test_plan_imitates_a_shipped_demo_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "plan.json"
    argv = ["plan", "objective=dvd", "demo=close_drawer_hand", *TINY, f"results={results}"]
    assert main(argv) == 0
    assert "→ task close_drawer (their label)" in capsys.readouterr().out
    episode = json.loads(results.read_text())["episodes"][0]
    assert episode["task"] == "close_drawer" and episode["demo"] == ["close_drawer_hand"] and episode["steps"] == 3
    assert 0.0 <= episode["final_reward"] <= 1.0  # the DVD score of the real episode


def _recognised(model: object, frames: np.ndarray, references: dict[str, np.ndarray]) -> str:
    try:
        return recognize_task(model, frames[None], references, 0.5).task  # type: ignore[arg-type]
    except UnrecognizedDemoError:
        return NOTHING


def test_an_unlabelled_video_file_gets_its_task_recognised_or_an_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Recognition is no classifier one can trust blindly (docs/benchmarks.md: ~60% top-1 over the 15 tasks), but it
    tells a video of a task at the robot's desk from one of somebody doing nothing."""
    from rewards.dvd import load_model

    model = load_model(SHIPPED_DIR / "dvd_reward.pt")
    references = reference_clips(20, 64)
    tasks = ("open_drawer", "close_drawer", "move_white_mug_left", "move_white_mug_right", "turn_faucet_left")
    shown = [
        render_clip(ClipRequest("stick", t, randomize=False), SEED + 100 + 10 * i + 1).frames
        for i, t in enumerate(tasks)
    ]
    right = sum(_recognised(model, f, references) == t for f, t in zip(shown, tasks, strict=True))
    assert right >= 4, f"{right} of 5 videos of a task recognised as it"  # measured: 5
    idle_actors = (
        ("gripper", "close_cabinet"),
        ("hand", "open_drawer"),
        ("stick", "move_white_mug_left"),
        ("human_arm", "turn_faucet_left"),
        ("hand", "push_button"),
        ("stick", "close_drawer"),
    )
    idle = [
        render_clip(ClipRequest(a, t, outcome="none"), SEED + 10 + i).frames for i, (a, t) in enumerate(idle_actors)
    ]
    answered = sum(_recognised(model, f, references) == NOTHING for f in idle)
    assert answered >= 3, f"{answered} of 6 videos of an actor doing nothing answered"  # measured: 4
    still = np.repeat(shown[0][:1], 20, axis=0)  # a photo, not a video of anything
    with pytest.raises(UnrecognizedDemoError, match="doing nothing"):
        recognize_task(model, still[None], references, 0.5)
    # end to end: the command answers (exit 2) instead of planning a random episode
    path = _write(tmp_path / "still.mp4", still)
    assert main(["plan", "objective=dvd", f"demo={path}", *TINY]) == 2
    assert "shows no task the video reward recognises" in capsys.readouterr().err


def test_bad_demo_options_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = tmp_path / "clip.mp4"
    _write(clip, render_clip(ClipRequest("hand", "open_drawer", num_frames=6), SEED + 2).frames)
    cases = [
        ([f"demo={clip}"], "add objective=dvd"),
        (["objective=dvd"], "give demo=VIDEO.mp4"),
        (["objective=dvd", "demo=open_drawer_nobody"], "no such video file, folder, DATASET:ids or shipped demo"),
        (["objective=dvd", f"demo={clip}", "env=counter"], "plans at the desk"),
        (["objective=dvd", "demo=[close_drawer_hand,open_drawer_hand]"], "different tasks"),
    ]
    for extra, message in cases:
        assert main(["plan", *TINY, *extra]) == 2, extra
        assert message in capsys.readouterr().err, extra


def test_demo_video_answers_for_a_task_the_shipped_reward_was_not_benchmarked_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "video=push_button_hand", *TINY]) == 2
    err = capsys.readouterr().err
    assert "the video shows 'push the button' (push_button)" in err and "robot imitates videos of" in err
    assert main(["demo", "video=open_drawer_hand", "open", "the", "drawer"]) == 2
    assert "give an instruction or a video, not both" in capsys.readouterr().err


def test_demo_video_plans_the_labelled_task_and_prints_its_benchmarked_rate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "video=move_white_mug_left_hand", *TINY]) == 0
    out = capsys.readouterr().out
    assert "→ task move_white_mug_left (their label)" in out and "episode 1/1" in out
    assert "succeed on 70% of 10 benchmark episodes of move_white_mug_left" in out  # the manifest's dvd.success
