"""The DVD reward shipped with the package (``robolearn/checkpoints/dvd_reward.pt``) tells tasks apart across
embodiments on clips it never saw: robot demos rendered at test seeds score higher against "human" (actor) videos of
their own task than against actor videos of another task."""

from __future__ import annotations

import numpy as np
import pytest

from rewards.dvd import load_model
from robolearn.paths import SHIPPED_DIR
from sim.actors.clips import ClipRequest, render_clip

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: far from every seed the shipped reward was trained or chosen on (training 0+ and 6,000,000+, validation 1e6+, 2e6+)
SEED = 9_000_000
TASKS = ("open_drawer", "turn_faucet_left", "move_white_mug_right")


def test_the_shipped_dvd_reward_matches_robot_clips_to_human_videos_of_their_task() -> None:
    model = load_model(SHIPPED_DIR / "dvd_reward.pt")
    demos = {
        task: np.stack(
            [
                render_clip(ClipRequest(actor, task), SEED + 10 * k + i).frames
                for i, actor in enumerate(("hand", "stick"))
            ]
        )
        for k, task in enumerate(TASKS)
    }
    correct = 0
    for k, task in enumerate(TASKS):
        robot = np.stack([render_clip(ClipRequest("panda", task), SEED + 100 + 10 * k + i).frames for i in range(2)])
        scores = {other: model.score(robot, demos[other]).numpy() for other in TASKS}
        for i in range(len(robot)):
            best = max(TASKS, key=lambda o: scores[o][i])
            correct += best == task
    assert correct >= 5, f"{correct} of 6 robot clips matched to their own task's human videos"
