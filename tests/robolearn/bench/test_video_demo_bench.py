"""`robolearn bench` with video-demo agents (DVD's protocol, issue 25): each episode is shown demo videos of its task
by non-robot actors rendered for it, the robot does what they show, bad agent settings are one line, and the
protocol's cells and figure (``benchmarks/dvd_protocol.py``) come from the bench's episodes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from robolearn.bench.agents import episode_demos
from robolearn.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[3]
ACTORS = ("hand", "stick", "gripper", "human_arm", "planar_arm")


def test_episode_demos_depend_only_on_task_and_seed_and_show_the_task() -> None:
    a, actors_a = episode_demos("move_white_mug_left", 3, 2, ACTORS, 70_000_000, 64)
    b, actors_b = episode_demos("move_white_mug_left", 3, 2, ACTORS, 70_000_000, 64)
    c, _ = episode_demos("move_white_mug_left", 4, 2, ACTORS, 70_000_000, 64)
    assert a.shape == (2, 20, 64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and actors_a == actors_b and set(actors_a) <= set(ACTORS)
    assert not np.array_equal(a, c)
    # a demo shows the task done: its last frame differs from its first (the actor moved the mug)
    assert all(np.abs(clip[-1].astype(int) - clip[0].astype(int)).sum() > 0 for clip in a)


def test_a_dvd_agent_does_what_the_rendered_demos_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The small bench run with a DVD agent: the shipped reward on oracle dynamics pushes the white mug left as the
    three videos of other actors show (test seed 10001, one of the episodes of docs/benchmarks.md's table; CEM with
    100 candidates per iteration instead of 200, which halves the test's time and still succeeds there)."""
    out = tmp_path / "bench"
    argv = [
        "bench",
        "agents=[vmpc_dvd_oracle]",
        "tasks=[move_white_mug_left]",
        "variants=[train]",
        "trials=1",
        "first_seed=10001",
        "workers=1",
        "progress_bar=false",
        "figure=false",
        f"out={out}",
        "+agent_specs.vmpc_dvd_oracle.plan.optimizer.population=100",
        "+agent_specs.vmpc_dvd_oracle.plan.optimizer.elites=10",
    ]
    assert main(argv) == 0
    (row,) = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert row["agent"] == "vmpc_dvd_oracle" and row["task"] == "move_white_mug_left" and row["seed"] == 10001
    assert len(row["demo_actors"]) == 3 and set(row["demo_actors"]) <= set(ACTORS)
    assert row["success"] and row["progress"] > 0.04  # the mug moved left by more than the task's threshold
    capsys.readouterr()
    assert main(argv) == 0  # rerun: resumed, nothing to run
    assert "1 already in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["agents=[vmpc_dvd_robot_only]", "agent_specs.vmpc_dvd_robot_only.plan.reward_checkpoint=/no/r.pt"],
            "no such",
        ),
        (["agents=[vmpc_dvd]", "agent_specs.vmpc_dvd.demos=0"], "demos=0 must be the number of demo videos"),
        (["agents=[vmpc_dvd]", "agent_specs.vmpc_dvd.demo_actors=[panda]"], "must name non-robot actors"),
        (["agents=[vmpc_dvd]", "+agent_specs.vmpc_dvd.plan.demo=x.mp4"], "remove plan.demo"),
        (["agents=[vmpc_dvd]", "agent_specs.vmpc_dvd.plan.objective=lorel"], "set plan.objective=dvd"),
        (["agents=[vmpc_dvd]", "agent_specs.vmpc_dvd.demo_seed=-1"], "demo_seed=-1 must be a render seed"),
    ],
)
def test_video_demo_agent_errors_are_one_line(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", f"out={tmp_path / 'o'}", "progress_bar=false", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def _protocol() -> ModuleType:
    """``benchmarks/dvd_protocol.py``, loaded from its path (benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location("dvd_protocol", REPO / "benchmarks" / "dvd_protocol.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dvd_protocol"] = module
    spec.loader.exec_module(module)
    return module


def test_protocol_cells_pool_the_groups_tasks_and_the_unseen_variants(tmp_path: Path) -> None:
    protocol = _protocol()
    groups = protocol.agent_task_groups("vmpc_dvd")
    robot, human = groups["robot tasks"], groups["human-only tasks"]
    assert set(robot) == {
        "open_drawer",
        "close_drawer",
        "move_white_mug_left",
        "move_white_mug_right",
        "turn_faucet_left",
    }
    assert "push_button" in human and not set(robot) & set(human)
    rows = [  # robot tasks: 3 of 4 in train, 1 of 4 in new_colors; a human-only task: 0 of 2 in new_viewpoint
        *({"task": "open_drawer", "variant": "train", "seed": s, "success": s < 3} for s in range(4)),
        *({"task": "close_drawer", "variant": "new_colors", "seed": s, "success": s == 0} for s in range(4)),
        *({"task": "push_button", "variant": "new_viewpoint", "seed": s, "success": False} for s in range(2)),
    ]
    (tmp_path / "episodes.jsonl").write_text(
        "".join(json.dumps({"agent": "vmpc_dvd", "instruction": "i", **r}) + "\n" for r in rows)
    )
    summary = protocol.summarise(tmp_path, ["vmpc_dvd"], {"vmpc_dvd": groups})
    cells = {(c["group"], c["variant"]): c for c in summary["cells"]}
    assert cells[("robot tasks", "train")]["success"] == 0.75 and cells[("robot tasks", "train")]["episodes"] == 4
    assert cells[("robot tasks", "unseen variants")]["success"] == 0.25
    assert cells[("human-only tasks", "unseen variants")]["episodes"] == 2
    low, high = cells[("robot tasks", "train")]["low"], cells[("robot tasks", "train")]["high"]
    assert 0.0 < low < 0.75 < high < 1.0  # a 95% interval around the rate
    per_task = {t["task"]: t for t in summary["tasks"]}
    assert per_task["open_drawer"]["train"] == [3, 4] and per_task["close_drawer"]["unseen variants"] == [1, 4]
    assert "move_white_mug_left" not in per_task  # no episode of it: no row
    protocol.write_report(tmp_path, summary)
    table = (tmp_path / "protocol.md").read_text()
    assert "| vmpc_dvd | robot tasks | train | 75% |" in table and "| push_button | 0/0 | 0/2 |" in table
    assert (tmp_path / "protocol.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
