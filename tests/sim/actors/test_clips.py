"""The actors really do what their scripts say (measured from the object states), pretending moves nothing, clips
are deterministic per seed, labels follow the clip's camera, and bad requests get one-line errors."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from sim.actors import ACTORS, BEHAVIOURS, HELDOUT_ACTOR, NON_ROBOT_ACTORS, OUTCOMES
from sim.actors.clips import ClipRequest, RenderedClip, render_clip, robot_clip_from_actions
from sim.actors.config import ActorConfig
from sim.actors.scripts import STILL
from sim.config import SuccessThresholds
from sim.tasks.catalogue import DESK_TASK_DESCRIPTIONS
from sim.tasks.templates import label_clip
from sim.video_camera import CameraDraw

TH = SuccessThresholds()
SMALL = dict(num_frames=4, image_size=16, randomize=False)


def clip(actor: str, behaviour: str, seed: int = 0, **kw) -> RenderedClip:
    return render_clip(ClipRequest(actor, behaviour, **{**SMALL, **kw}), seed)


def state(c: RenderedClip, name: str) -> np.ndarray:
    return c.object_states[:, c.object_state_names.index(name)]


@pytest.mark.parametrize("actor", NON_ROBOT_ACTORS)
def test_each_actor_really_opens_the_drawer(actor):
    c = clip(actor, "open_drawer")
    opened = state(c, "drawer")[-1] - state(c, "drawer")[0]
    assert opened >= TH.drawer, f"{actor} opened the drawer {opened:.3f} m"
    assert c.outcome == "done" and c.task == "open_drawer" and c.template == "Opening [something]"
    assert c.progress[-1] == pytest.approx(1.0) and c.progress[0] == pytest.approx(0.0)


@pytest.mark.parametrize("actor", NON_ROBOT_ACTORS)
def test_each_actor_pushes_a_mug_in_the_commanded_direction(actor):
    c = clip(actor, "move_black_mug_left", seed=0)
    dy = state(c, "black_mug.y")[-1] - state(c, "black_mug.y")[0]  # left = world -y
    dx = state(c, "black_mug.x")[-1] - state(c, "black_mug.x")[0]
    assert dy <= -TH.mug and abs(dx) < abs(dy), f"{actor} moved the mug by ({dx:.3f}, {dy:.3f}) m"
    assert c.outcome == "done" and c.task == "move_black_mug_left"
    assert c.template == "Pushing [something] from right to left"


@pytest.mark.parametrize("actor", NON_ROBOT_ACTORS)
def test_pretending_moves_nothing(actor):
    for behaviour in ("open_drawer", "move_white_mug_up", "push_button"):
        c = clip(actor, behaviour, seed=2, outcome="pretending", num_frames=12)
        change = np.abs(c.object_states - c.object_states[0]).max()
        assert change < STILL, f"{actor} pretending to {behaviour} moved an object by {change:.4f}"
        assert c.outcome == "pretending" and c.task is None and not c.info["touched_target"]
        assert c.template.startswith("Pretending"), c.template


def test_extras_the_robot_has_no_task_for():
    lift = clip("gripper", "lift_white_mug")
    assert lift.outcome == "done" and lift.template == "Picking [something] up" and lift.task is None
    assert state(lift, "white_mug.z")[-1] - state(lift, "white_mug.z")[0] > 0.03
    touch = clip("hand", "touch_white_mug", num_frames=12)
    assert touch.outcome == "done" and touch.template == "Touching (without moving) [part] of [something]"
    assert np.abs(touch.object_states - touch.object_states[0]).max() < STILL
    half = clip("stick", "push_drawer_halfway")
    pushed = state(half, "drawer")[0] - state(half, "drawer")[-1]
    assert 0.25 * TH.drawer <= pushed < TH.drawer, pushed
    assert half.template == "Pushing [something] so that it slightly moves" and half.task is None


def test_do_nothing_touches_nothing():
    c = clip("human_arm", "open_cabinet", outcome="none", num_frames=8)
    assert c.outcome == "none" and c.template == "Doing nothing" and c.task is None
    assert np.abs(c.object_states - c.object_states[0]).max() < STILL
    assert not c.progress.any()


def test_same_seed_same_frames_and_another_seed_differs():
    a = render_clip(ClipRequest("hand", "close_cabinet", num_frames=6, image_size=32), 7)
    b = render_clip(ClipRequest("hand", "close_cabinet", num_frames=6, image_size=32), 7)
    c = render_clip(ClipRequest("hand", "close_cabinet", num_frames=6, image_size=32), 8)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.object_states, b.object_states)
    assert a.info == b.info and a.template == b.template
    assert not np.array_equal(a.frames, c.frames)
    assert a.frames.shape == (6, 32, 32, 3) and a.frames.dtype == np.uint8
    assert a.object_states.dtype == np.float32 and a.progress.dtype == np.float32
    assert ((a.progress >= 0) & (a.progress <= 1)).all()


def test_labels_follow_the_clips_own_camera_and_flip_when_it_is_mirrored():
    """A world -y push (move_*_left) is labelled from the clip's randomized camera; mirroring that camera flips it."""
    for seed in (1, 2):
        c = render_clip(ClipRequest("stick", "move_white_mug_left", num_frames=2, image_size=16), seed)
        cam = CameraDraw.from_dict(c.info["camera"])
        d = np.array(
            [
                state(c, "white_mug.x")[-1] - state(c, "white_mug.x")[0],
                state(c, "white_mug.y")[-1] - state(c, "white_mug.y")[0],
            ]
        )
        own = label_clip("push", "white_mug", c.outcome, cam, displacement_xy=d)
        assert (c.template, tuple(c.placeholders), c.task) == (own.template, own.placeholders, own.task)
        assert c.outcome == "done" and c.task == "move_white_mug_left" and not cam.mirrored
        flipped = label_clip("push", "white_mug", c.outcome, dataclasses.replace(cam, mirrored=True), displacement_xy=d)
        assert flipped.task == "move_white_mug_right" and flipped.template == "Pushing [something] from left to right"


def test_robot_clip_is_the_panda_expert_in_a_variant():
    c = render_clip(ClipRequest("panda", "open_drawer", variant="new_colors", num_frames=5, image_size=16), 0)
    assert c.outcome == "done" and c.task == "open_drawer" and c.actor == "panda" and c.variant == "new_colors"
    assert c.frames.shape == (5, 16, 16, 3) and c.progress[-1] == pytest.approx(1.0)
    p = render_clip(ClipRequest("panda", "open_drawer", outcome="pretending", num_frames=5, image_size=16), 0)
    assert p.outcome == "pretending" and np.abs(p.object_states - p.object_states[0]).max() < STILL


def test_a_robot_clip_of_given_actions_is_labelled_by_what_they_did():
    """A planner's plan executed by the Panda: the expert's actions open the drawer (done, the task's label); doing
    nothing is a failed attempt of the task (a negative for its label); a wrong shape is a one-line error."""
    from sim.envs.desk import DeskEnv

    env = DeskEnv(task="open_drawer")
    env.reset(seed=3)
    expert = env.make_expert()
    actions = []
    for _ in range(20):
        actions.append(env.expert_action(expert))
        env.step(actions[-1])
    env.close()
    done = robot_clip_from_actions("open_drawer", 3, np.array(actions), num_frames=6, image_size=16)
    assert done.outcome == "done" and done.task == "open_drawer" and done.progress[-1] == pytest.approx(1.0)
    assert done.frames.shape == (6, 16, 16, 3) and state(done, "drawer")[-1] - state(done, "drawer")[0] > TH.drawer
    idle = robot_clip_from_actions("open_drawer", 3, np.zeros((20, 4), np.float32), num_frames=6, image_size=16)
    assert idle.outcome == "failed" and idle.task == "open_drawer" and idle.progress[-1] == 0.0
    assert "Pretending" in idle.template
    with pytest.raises(ValueError, match=r"actions must be \(T >= 1, 4\)"):
        robot_clip_from_actions("open_drawer", 3, np.zeros((20, 3), np.float32))


@pytest.mark.parametrize(
    "request_kw, message",
    [
        (dict(actor="octopus", behaviour="open_drawer"), "unknown actor 'octopus'"),
        (dict(actor="hand", behaviour="juggle"), "unknown behaviour 'juggle'"),
        (dict(actor="stick", behaviour="lift_white_mug"), "'stick' cannot grasp"),
        (dict(actor="panda", behaviour="touch_faucet"), "desk tasks only"),
        (dict(actor="hand", behaviour="open_drawer", outcome="maybe"), "unknown outcome 'maybe'"),
        (dict(actor="hand", behaviour="open_drawer", variant="new_colors"), "for robot clips"),
        (dict(actor="hand", behaviour="open_drawer", num_frames=1), "num_frames=1 is out of range"),
    ],
)
def test_bad_requests_are_one_line_errors(request_kw, message):
    with pytest.raises(ValueError, match=message) as e:
        render_clip(ClipRequest(**request_kw), 0)
    assert "\n" not in str(e.value)


def test_registries_and_config():
    assert len(NON_ROBOT_ACTORS) >= 5 and HELDOUT_ACTOR in NON_ROBOT_ACTORS and "panda" in ACTORS
    assert set(DESK_TASK_DESCRIPTIONS) <= set(BEHAVIOURS)
    assert len(ActorConfig().outcome_mix) == len(OUTCOMES)
    with pytest.raises(ValueError, match="outcome_mix has 2 weights"):
        ActorConfig(outcome_mix=(1.0, 2.0))
    with pytest.raises(ValueError, match="actors.speed"):
        ActorConfig(speed=(2.0, 1.0))


def test_registries_and_config_import_no_simulator():
    code = "import sys, sim.actors, sim.actors.config; assert 'pybullet' not in sys.modules, 'pybullet loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)
