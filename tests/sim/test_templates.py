"""SSv2 labels from the clip's own camera: mirrored frames flip left/right, a camera on the other side flips
towards/away, and the desk task is the one that looks like the clip from the robot's camera."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS
from sim.tasks.templates import TEMPLATES, faucet_motion, label_clip, mug_motion, template_class
from sim.video_camera import CameraDraw

DEFAULT = CameraDraw()  # the robot's training camera: far side of the desk, looking back along -x
MIRRORED = dataclasses.replace(DEFAULT, mirrored=True)
# the camera on the robot's side of the desk, looking along +x
OTHER_SIDE = CameraDraw(eye=(-0.6, 0.0, 1.5), target=(0.5, 0.0, 0.8))


def push(cam: CameraDraw, d: tuple[float, float], outcome: str = "done"):
    return label_clip("push", "white_mug", outcome, cam, displacement_xy=np.array(d), intended_xy=np.array(d))


def test_default_camera_matches_the_desk_tasks_own_directions():
    # sim.tasks.desk.DIRECTIONS: right = +y, left = -y, up = -x (toward the robot), down = +x
    assert push(DEFAULT, (0.0, 0.06)) == push(DEFAULT, (0.0, 0.06))
    assert push(DEFAULT, (0.0, 0.06)).task == "move_white_mug_right"
    assert push(DEFAULT, (0.0, 0.06)).template == "Pushing [something] from left to right"
    assert push(DEFAULT, (0.0, -0.06)).task == "move_white_mug_left"
    assert push(DEFAULT, (-0.06, 0.0)).template == "Moving [something] away from the camera"
    assert push(DEFAULT, (-0.06, 0.0)).task == "move_white_mug_up"
    assert push(DEFAULT, (0.06, 0.0)).task == "move_white_mug_down"
    assert push(DEFAULT, (0.06, 0.0)).template == "Moving [something] towards the camera"
    for turn, task in ((0.5, "turn_faucet_left"), (-0.5, "turn_faucet_right")):
        assert label_clip("turn", "faucet", "done", DEFAULT, turn=turn).task == task


def test_mirrored_camera_flips_left_and_right_in_template_and_task():
    lab = push(MIRRORED, (0.0, 0.06))  # a world +y push appears right-to-left in a mirrored frame
    assert lab.template == "Pushing [something] from right to left"
    assert lab.task == "move_white_mug_left"
    assert push(MIRRORED, (0.0, -0.06)).task == "move_white_mug_right"
    assert push(MIRRORED, (-0.06, 0.0)).task == "move_white_mug_up"  # depth is not mirrored
    assert label_clip("turn", "faucet", "done", MIRRORED, turn=0.5).task == "turn_faucet_right"
    assert mug_motion(np.array([0.0, 0.05]), MIRRORED) == "left"


def test_camera_on_the_other_side_flips_towards_and_away_and_left_right():
    assert mug_motion(np.array([-0.06, 0.0]), OTHER_SIDE) == "towards"
    assert push(OTHER_SIDE, (-0.06, 0.0)).task == "move_white_mug_down"
    assert push(OTHER_SIDE, (0.06, 0.0)).template == "Moving [something] away from the camera"
    assert push(OTHER_SIDE, (0.0, 0.06)).task == "move_white_mug_left"  # seen from behind: +y is image left
    # still above the desk: a counter-clockwise turn still looks counter-clockwise
    assert faucet_motion(0.5, OTHER_SIDE) == "left"


def test_outcomes_pick_the_pretending_and_partial_templates():
    assert label_clip("open", "drawer", "pretending", DEFAULT).template == (
        "Pretending to open [something] without actually opening it"
    )
    assert label_clip("open", "drawer", "pretending", DEFAULT).task is None
    assert label_clip("open", "drawer", "failed", DEFAULT).task == "open_drawer"  # a failed attempt at the task
    assert label_clip("close", "cabinet_door", "partial", DEFAULT).template == "Closing [something]"
    assert label_clip("touch", "white_mug", "done", DEFAULT).placeholders == ("rim", "white mug")
    assert label_clip("lift", "black_mug", "done", DEFAULT).template == "Picking [something] up"
    assert label_clip("press", "button", "none", DEFAULT).template == "Doing nothing"
    assert push(DEFAULT, (0.0, 0.0), "pretending").task is None
    # a failed push that barely moved names the intended direction's task
    lab = label_clip(
        "push", "white_mug", "failed", DEFAULT, displacement_xy=np.zeros(2), intended_xy=np.array([0.0, -1.0])
    )
    assert lab.task == "move_white_mug_left"


def test_templates_have_ssv2_brackets_and_every_desk_task_is_reachable():
    for key, t in TEMPLATES.items():
        if key != "nothing":
            assert "[something]" in t, t
            assert "[" not in template_class(t)
    tasks = set()
    for d in DESK_TASK_DESCRIPTIONS.values():
        kind = {"move": "push", "press": "press", "turn": "turn"}.get(d.change, d.change)
        kw = {}
        if kind == "push":
            vec = {"up": (-0.06, 0.0), "down": (0.06, 0.0), "left": (0.0, -0.06), "right": (0.0, 0.06)}[d.direction]
            kw = dict(displacement_xy=np.array(vec))
        if kind == "turn":
            kw = dict(turn=0.5 if d.direction == "left" else -0.5)
        tasks.add(label_clip(kind, d.object, "done", DEFAULT, **kw).task)
    assert tasks == set(DESK_TASK_DESCRIPTIONS)


def test_unknown_kind_is_a_one_line_error():
    with pytest.raises(ValueError, match="no label for behaviour kind 'juggle'"):
        label_clip("juggle", "drawer", "done", DEFAULT)
