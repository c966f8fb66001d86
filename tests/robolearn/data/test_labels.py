"""Hindsight labels: every rule and its threshold boundary, compound and do-nothing labels, the
button's spring-back, agreement with task success, and the labels of real expert episodes."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import sim  # noqa: F401  (registers robolearn/Desk-v1)
from robolearn.data.labels import (
    DO_NOTHING,
    LOREL_THRESHOLDS,
    hindsight_labels,
    label_to_task,
    label_vocabulary,
    labels_at,
)
from sim.config import SuccessThresholds
from sim.scenes.desk import ObjectStates
from sim.tasks.desk import DESK_TASKS

TH = SuccessThresholds()


def states(n_blocks: int = 0, **values: float) -> ObjectStates:
    """Object states with everything at 0 except ``values`` (e.g. ``white_mug_x=0.04, drawer=0.1``)."""
    free = {name: np.zeros(3) for name in ("white_mug", "black_mug")}
    blocks = {f"block_{i}": np.zeros(3) for i in range(n_blocks)}
    s = ObjectStates(mugs=free, blocks=blocks, drawer=0.0, door=0.0, faucet=0.0, button=0.0)
    for key, v in values.items():
        obj, _, axis = key.rpartition("_")
        if obj in s.mugs or obj in s.blocks:
            (s.mugs if obj in s.mugs else s.blocks)[obj]["xyz".index(axis)] = v
        else:
            setattr(s, {"cabinet_door": "door"}.get(key, key), v)
    return s


NAMES = states().names()


def labels(first: ObjectStates, last: ObjectStates, th: SuccessThresholds = TH, **kw) -> list:
    return hindsight_labels(first.names(), first.vector(), last.vector(), th, **kw)


# ------------------------------------------------------------------------------------ rules
RULES = [  # (state changed, sign of the change, threshold field, expected label)
    ("white_mug_x", -1, "mug", ("white_mug", "move", "up")),
    ("white_mug_x", +1, "mug", ("white_mug", "move", "down")),
    ("white_mug_y", -1, "mug", ("white_mug", "move", "left")),
    ("white_mug_y", +1, "mug", ("white_mug", "move", "right")),
    ("black_mug_x", -1, "mug", ("black_mug", "move", "up")),
    ("black_mug_y", +1, "mug", ("black_mug", "move", "right")),
    ("drawer", +1, "drawer", ("drawer", "open", None)),
    ("drawer", -1, "drawer", ("drawer", "close", None)),
    ("cabinet_door", +1, "door", ("cabinet_door", "open", None)),
    ("cabinet_door", -1, "door", ("cabinet_door", "close", None)),
    ("faucet", +1, "faucet", ("faucet", "turn", "left")),
    ("faucet", -1, "faucet", ("faucet", "turn", "right")),
    ("button", +1, "button", ("button", "press", None)),
]


@pytest.mark.parametrize("key,sign,field,expected", RULES)
def test_each_rule_fires_exactly_at_its_threshold(key, sign, field, expected):
    th = getattr(TH, field)
    zero = states()
    # From 0 to ±th the difference is exactly ±th in floating point: the boundary itself counts (>=).
    assert labels(zero, states(**{key: sign * th})) == [expected]
    assert labels(zero, states(**{key: sign * np.nextafter(th, 0.0)})) == [DO_NOTHING]
    # The same change read backwards is the opposite label (or nothing, for the button).
    reverse = labels(states(**{key: sign * th}), zero)
    assert expected not in reverse


def test_button_has_no_negative_label():
    assert labels(states(button=0.01), states()) == [DO_NOTHING]


def test_thresholds_are_taken_from_the_given_success_thresholds():
    zero = states()
    assert labels(zero, states(drawer=0.03)) == [DO_NOTHING]  # below our 4 cm
    assert labels(zero, states(drawer=0.03), LOREL_THRESHOLDS) == [("drawer", "open", None)]  # above LOReL's 2 cm
    assert labels(zero, states(faucet=math.pi / 10), LOREL_THRESHOLDS) == [("faucet", "turn", "left")]
    assert LOREL_THRESHOLDS.mug == 0.02 and LOREL_THRESHOLDS.drawer == 0.02
    assert LOREL_THRESHOLDS.faucet == pytest.approx(math.pi / 10)


def test_blocks_are_labelled_like_mugs_with_the_mug_threshold():
    zero = states(n_blocks=2)
    assert labels(zero, states(n_blocks=2, block_1_y=-TH.mug)) == [("block_1", "move", "left")]
    assert labels(zero, states(n_blocks=2, block_0_x=TH.mug / 2)) == [DO_NOTHING]


def test_compound_labels_come_in_canonical_order():
    first = states()
    last = states(faucet=-0.5, white_mug_x=-0.05, white_mug_y=-0.05, drawer=0.1, black_mug_y=0.06)
    got = labels(first, last)
    assert got == [
        ("black_mug", "move", "right"),
        ("white_mug", "move", "up"),
        ("white_mug", "move", "left"),
        ("drawer", "open", None),
        ("faucet", "turn", "right"),
    ]
    vocab = label_vocabulary(NAMES)
    assert got == sorted(got, key=vocab.index)


def test_nothing_changed_enough_is_do_nothing():
    zero = states()
    assert labels(zero, zero) == [DO_NOTHING]
    small = states(white_mug_x=0.01, black_mug_y=-0.02, drawer=0.02, cabinet_door=-0.1, faucet=0.1, button=0.002)
    assert labels(zero, small) == [DO_NOTHING]
    assert labels(zero, states(white_mug_z=0.3)) == [DO_NOTHING]  # lifting or tipping is not a move


def test_button_counts_its_deepest_press_when_the_trajectory_is_given():
    frames = [states(), states(button=0.004), states(button=0.009), states(button=0.001)]
    traj = np.stack([f.vector() for f in frames])
    # It sprang back: the last frame alone shows nothing, the trajectory shows the press.
    assert hindsight_labels(NAMES, traj[0], traj[-1], TH) == [DO_NOTHING]
    assert hindsight_labels(NAMES, traj[0], traj[-1], TH, trajectory=traj) == [("button", "press", None)]
    # Exactly at the threshold counts, just below does not.
    at = np.stack([states().vector(), states(button=TH.button).vector(), states().vector()])
    assert hindsight_labels(NAMES, at[0], at[-1], TH, trajectory=at) == [("button", "press", None)]
    at[1, NAMES.index("button")] = np.nextafter(TH.button, 0.0)
    assert hindsight_labels(NAMES, at[0], at[-1], TH, trajectory=at) == [DO_NOTHING]


def test_labels_at_intermediate_frames():
    frames = [states(), states(drawer=0.05), states(drawer=0.05, button=0.01), states(drawer=0.0, button=0.0)]
    traj = np.stack([f.vector() for f in frames])
    assert labels_at(NAMES, traj, 0, TH) == [DO_NOTHING]
    assert labels_at(NAMES, traj, 1, TH) == [("drawer", "open", None)]
    assert labels_at(NAMES, traj, 2, TH) == [("drawer", "open", None), ("button", "press", None)]
    # At the end the drawer is back, but the button was pressed on the way.
    assert labels_at(NAMES, traj, 3, TH) == [("button", "press", None)]
    assert labels_at(NAMES, traj, -1, TH) == labels_at(NAMES, traj, 3, TH)
    with pytest.raises(IndexError, match="out of range"):
        labels_at(NAMES, traj, 4, TH)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: hindsight_labels(NAMES, np.zeros(3), np.zeros(len(NAMES)), TH), "shape"),
        (lambda: hindsight_labels(NAMES + ["lamp"], np.zeros(len(NAMES) + 1), np.zeros(len(NAMES) + 1), TH), "lamp"),
        (lambda: hindsight_labels(["cup.x", "cup.y"], np.zeros(2), np.zeros(2), TH), "x, y or z"),
        (lambda: hindsight_labels(NAMES, np.zeros(len(NAMES)), np.full(len(NAMES), np.nan), TH), "non-finite"),
        (
            # refused where it is defined: a threshold of 0 (every change a success) fails when it is built
            lambda: hindsight_labels(NAMES, np.zeros(len(NAMES)), np.zeros(len(NAMES)), SuccessThresholds(drawer=0.0)),
            "thresholds.drawer=0.0 is out of range",
        ),
        (
            lambda: hindsight_labels(
                NAMES, np.zeros(len(NAMES)), np.zeros(len(NAMES)), TH, trajectory=np.zeros((3, 2))
            ),
            "trajectory",
        ),
    ],
)
def test_bad_inputs_are_explained(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------ vocabulary and tasks
def test_vocabulary_covers_every_task_in_canonical_order():
    vocab = label_vocabulary(NAMES)
    assert vocab[-1] == DO_NOTHING
    assert len(vocab) == len(set(vocab)) == 8 + 2 + 2 + 2 + 1 + 1
    assert vocab[:4] == [("black_mug", "move", d) for d in ("up", "down", "left", "right")]
    task_labels = {(t.description.object, t.description.change, t.description.direction) for t in DESK_TASKS.values()}
    assert task_labels <= set(vocab)
    with_blocks = label_vocabulary(states(n_blocks=3).names())
    assert ("block_2", "move", "down") in with_blocks and len(with_blocks) == len(vocab) + 12


def test_label_to_task_matches_task_descriptions():
    for name, task in DESK_TASKS.items():
        d = task.description
        assert label_to_task((d.object, d.change, d.direction)) == name
    assert label_to_task(("drawer", "open", None)) == "open_drawer"
    assert label_to_task(("cabinet_door", "close", None)) == "close_cabinet"
    assert label_to_task(("black_mug", "move", "right")) == "move_black_mug_right"
    assert label_to_task(("block_0", "move", "up")) is None
    assert label_to_task(DO_NOTHING) is None


def test_labels_agree_with_task_success_checks():
    """A task label is produced exactly when that task's success check passes (same thresholds)."""
    rng = np.random.default_rng(0)
    scale = {"mug": TH.mug, "drawer": TH.drawer, "door": TH.door, "faucet": TH.faucet, "button": TH.button}
    for _ in range(300):
        init, now = states(), states()
        # Changes spread around ±threshold so that both outcomes occur for every task.
        for s in (init, now):
            for m in s.mugs.values():
                m[:] = rng.uniform(-1.5, 1.5, 3) * scale["mug"]
            s.drawer, s.door, s.faucet, s.button = (
                float(rng.uniform(-1.5, 1.5) * scale[k]) for k in ("drawer", "door", "faucet", "button")
            )
        got = set(hindsight_labels(NAMES, init.vector(), now.vector(), TH))
        for task in DESK_TASKS.values():
            d = task.description
            assert ((d.object, d.change, d.direction) in got) == task.succeeded(now, init, TH), task.name


# ------------------------------------------------------------------------ simulator
@pytest.mark.parametrize(
    "task",
    [
        "open_drawer",
        "close_drawer",
        "turn_faucet_left",
        "turn_faucet_right",
        "move_white_mug_down",
        "move_black_mug_right",
        "push_button",
        "open_cabinet",
    ],
)
def test_expert_episodes_get_their_tasks_label(task):
    env = gym.make("robolearn/Desk-v1", task=task, obs_keys=("proprio",)).unwrapped
    try:
        env.reset(seed=1)
        expert = env.task.make_expert()
        trajectory = [env.initial_object_states.vector()]
        info = {}
        for _ in range(env.task.expert_horizon):
            *_, info = env.step(env.expert_action(expert))
            trajectory.append(env.object_states.vector())
        traj = np.stack(trajectory)
        names = env.object_states.names()
        got = hindsight_labels(names, traj[0], traj[-1], env.cfg.thresholds, trajectory=traj)
        d = env.task.description
        assert (d.object, d.change, d.direction) in got
        assert label_to_task((d.object, d.change, d.direction)) == task
        # The label is the task's own success check: it holds at the last frame exactly when success does.
        final = hindsight_labels(names, traj[0], traj[-1], env.cfg.thresholds)
        assert ((d.object, d.change, d.direction) in final) == info["success"]
        assert labels_at(names, traj, -1, env.cfg.thresholds) == got
    finally:
        env.close()
