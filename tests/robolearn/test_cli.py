"""The ``robolearn`` command line: verb dispatch, the rollout verb, its video, and its error messages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from robolearn.cli import EXIT_OK, EXIT_USAGE, VERBS, main
from robolearn.config import compose_config
from robolearn.rollout import run_rollout
from robolearn.video import VideoWriter
from sim.tasks.desk import DESK_TASKS

REPO = Path(__file__).resolve().parents[2]
SMALL = 32  # px: video and observation size that keeps each rollout well under a second
# Short, small episodes: the env needs no more to exercise the whole rollout path.
FAST = [
    f"env.width={SMALL}",
    f"env.height={SMALL}",
    f"video.width={SMALL}",
    f"video.height={SMALL}",
    "video.font_size=8",
]


def _count_frames(path: Path) -> int:
    reader = imageio.get_reader(path)
    try:
        return reader.count_frames() if path.suffix == ".mp4" else sum(1 for _ in reader)
    finally:
        reader.close()


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected a one-line error, got:\n{err}"
    return lines[0]


def test_rollout_writes_an_mp4_with_one_frame_per_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "sub" / "run.mp4"  # the directory is created on demand
    code = main(
        [
            "rollout",
            *FAST,
            "env.max_episode_steps=4",
            "episodes=2",
            "video.hold_final_frames=2",
            f"video.path={video}",
            "progress_bar=false",
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert video.is_file() and video.stat().st_size > 0
    # Per episode: the reset frame, one per step, then the held final frame.
    assert _count_frames(video) == 2 * (1 + 4 + 2)
    assert (
        len(re.findall(r"^episode \d/2 \(seed \d\): success any-step (yes|no), final-step (yes|no)", out, re.MULTILINE))
        == 2
    )
    assert "success any-step" in out.splitlines()[-2] and "video:" in out
    assert not [p for p in video.parent.iterdir() if p.name.startswith(".")], "temporary file left behind"


def test_rollout_gif_with_the_random_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = tmp_path / "out.gif"
    code = main(
        [
            "rollout",
            *FAST,
            "env.task=close_drawer",
            "policy=random",
            "env.max_episode_steps=3",
            "video.hold_final_frames=0",
            f"video.path={video}",
        ]
    )
    assert code == EXIT_OK
    frames = imageio.mimread(video)
    assert len(frames) == 1 + 3 and frames[0].shape[:2] == (SMALL, SMALL)
    assert "close_drawer" in capsys.readouterr().out


def test_expert_succeeds_on_the_default_task() -> None:
    cfg = compose_config("rollout", [*FAST, "video.path=null"])
    (result,) = run_rollout(cfg, echo=False)
    assert result["task"] == "open_drawer" and result["policy"] == "expert"
    assert result["success_any"] and result["success_final"]
    assert result["steps"] == cfg.env.max_episode_steps and result["video"] is None and result["frames"] == 0


def test_video_writer_leaves_nothing_behind_on_error(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"previous video")
    with pytest.raises(RuntimeError, match="boom"), VideoWriter(path, fps=12) as video:
        video.append(np.zeros((SMALL, SMALL, 3), np.uint8))
        raise RuntimeError("boom")
    assert path.read_bytes() == b"previous video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_no_arguments_and_help_list_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert all(name in err for name in VERBS)
    assert main(["--help"]) == EXIT_OK
    out = capsys.readouterr().out
    for name, verb in VERBS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(verb.summary)}", out, re.MULTILINE)


def test_unknown_verb_names_the_valid_verbs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollouts"]) == EXIT_USAGE
    line = _error_line(capsys.readouterr().err)
    assert "unknown verb 'rollouts'" in line and all(name in line for name in VERBS)


@pytest.mark.parametrize("verb", [name for name, v in VERBS.items() if v.run is None])
def test_planned_verbs_say_so(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([verb]) == EXIT_USAGE
    assert "not implemented yet (planned)" in _error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("env.task=fly_away", "unknown task 'fly_away'"),
        ("env.width=8", "width=8 is out of range"),
        ("video.height=4096", "video.height=4096 is out of range; use an integer in [16, 1024]"),
        ("env.obs_keys=[rgb,smell]", "unknown observation key(s) ['smell']"),
        ("task=close_drawer", "did you mean env.task?"),
        ("env.physics.substeps=many", "substeps='many' must be a number"),
        ("policy=human", "policy='human' is not allowed; choose from expert | random"),
        ("video.path=out.avi", "must end with .mp4 or .gif"),
        ("episodes=0", "episodes=0 is out of range; use an integer ≥ 1"),
        ("env=nope", "Could not find 'env/nope'"),
        ("video.fps=0", "video.fps=0.0 is out of range; use a value > 0"),
        ("progress_bar=maybe", "progress_bar='maybe' must be true or false"),
    ],
)
def test_bad_config_gives_a_one_line_error(
    override: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["rollout", override] + ([] if override.startswith("video.path") else [f"video.path={tmp_path}/x.mp4"])
    assert main(args) == EXIT_USAGE
    line = _error_line(capsys.readouterr().err)
    assert line.startswith("robolearn rollout: error:") and expected in line
    assert not list(tmp_path.iterdir()), "a failed configuration must not write anything"


def test_unknown_task_lists_every_valid_task(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "env.task=fly_away"]) == EXIT_USAGE
    line = _error_line(capsys.readouterr().err)
    assert all(name in line for name in DESK_TASKS)


def test_cfg_prints_the_composed_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "--cfg", "env.task=push_button"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "task: push_button" in out and "path: outputs/rollout/push_button-expert.mp4" in out


def test_console_entry_point_exit_codes(tmp_path: Path) -> None:
    """The real process: exit status and stderr as a shell sees them (no traceback)."""
    # The source tree on the path too, so this also works when robolearn is not installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    bad = subprocess.run(
        [sys.executable, "-m", "robolearn.cli", "rollout", "env.height=3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert bad.returncode == EXIT_USAGE
    assert "Traceback" not in bad.stderr and "height=3 is out of range" in bad.stderr


def test_readme_task_table_matches_the_simulator() -> None:
    readme = (REPO / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", readme, re.MULTILINE))
    for name, task in DESK_TASKS.items():
        assert rows.get(name) == task.description.instruction(), f"README's task table is stale for {name}"


@pytest.mark.slow
def test_home_rollout_drives_the_nav_agent_and_shows_camera_and_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "home.gif"
    code = main(
        [
            "rollout",
            "env=home",
            "env.task=pointnav",
            "env.home=studio",
            "env.width=32",
            "env.height=32",
            "video.width=96",
            "video.height=96",
            "video.hold_final_frames=0",
            f"video.path={video}",
        ]
    )
    assert code == EXIT_OK
    out = capsys.readouterr().out
    assert "success yes" in out and "SPL" in out
    frames = imageio.mimread(video)
    steps = int(re.search(r"success yes; (\d+) steps", out).group(1))
    assert len(frames) == steps + 1 and frames[0].shape[:2] == (96, 192)  # head camera | top-down map
    top_down = frames[0][:, 96:, :3].astype(int)
    # the map panel draws the robot (blue) and the goal (red) somewhere on it
    assert ((top_down[..., 2] > 180) & (top_down[..., 0] < 90)).any()
    assert ((top_down[..., 0] > 180) & (top_down[..., 1] < 90)).any()


@pytest.mark.parametrize(
    "override, expected",
    [
        ("env.task=open_drawer", "needs the arm"),
        ("nav_agent.turn_in_place=-1", "turn_in_place"),
    ],
)
def test_home_rollout_errors_are_one_line(override: str, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "env=home", override, "video.path=null"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_home_rollout_expert_opens_the_kitchen_drawer(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "rollout",
                "env=home",
                "env.task=open_drawer",
                "env.robot=manipulator",
                "env.home=studio",
                "env.width=32",
                "env.height=32",
                "video.path=null",
            ]
        )
        == EXIT_OK
    )
    out = capsys.readouterr().out
    assert '"open the kitchen drawer" success yes' in out
