"""Synthetic episodes and a small dataset for the storage tests (test_metadata, test_writer, test_reader)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from robolearn.data.episode import Episode
from robolearn.data.writer import DatasetWriter

T = 5  # steps per synthetic episode
SIZE = 16  # image side, pixels
N_EPISODES = 6
DEAD_PID = 99_999_999  # above Linux's pid_max (2^22): never a live process
META = {
    "seed": 100,
    "env": {"width": SIZE, "height": SIZE, "task": "open_drawer"},
    "obs": {"rgb": [SIZE, SIZE, 3]},
    "object_state_names": ["a.x", "a.y", "drawer"],
    "label_vocabulary": ["drawer"],
}


def make_episode(index: int, steps: int = T, depth: bool = True) -> Episode:
    """Frame t of episode i: red = t, green = i, blue = noise; action t = (t, i, ·, ·)."""
    rng = np.random.default_rng(index)
    rgb = np.empty((steps + 1, SIZE, SIZE, 3), np.uint8)
    rgb[..., 0] = np.arange(steps + 1)[:, None, None]
    rgb[..., 1] = index
    rgb[..., 2] = rng.integers(0, 256, (steps + 1, SIZE, SIZE))
    obs = {"rgb": rgb}
    if depth:
        obs["depth"] = rng.uniform(0.2, 3.0, (steps + 1, SIZE, SIZE)).astype(np.float32)
    actions = np.zeros((steps, 4), np.float32)
    actions[:, 0] = np.arange(steps)
    actions[:, 1] = index
    actions[:, 2:] = rng.uniform(-1, 1, (steps, 2))
    return Episode(
        index=index,
        seed=META["seed"] + index,
        task="open_drawer",
        exploration="uniform",
        obs=obs,
        actions=actions,
        expert=np.arange(steps) % 2 == 0,
        states=rng.normal(size=(steps + 1, 7)),
        object_states=rng.normal(size=(steps + 1, 3)).astype(np.float32),
        labels=[("drawer", "open", None), ("white_mug", "move", "left")],
        instructions=[f"open the drawer {index}", f"pull drawer {index}"],
        heldout_instructions=[f"slide out drawer {index}"],
        scene_params={"light": np.array([0.1, 0.2, 0.3]), "index": np.int64(index)},
    )


def assert_same(got: Episode, want: Episode) -> None:
    """Every array (in its schema dtype) and every attribute equal."""
    assert (got.index, got.seed, got.task, got.exploration) == (want.index, want.seed, want.task, want.exploration)
    assert sorted(got.obs) == sorted(want.obs)
    np.testing.assert_array_equal(got.obs["rgb"], want.obs["rgb"])
    assert got.obs["rgb"].dtype == np.uint8
    if "depth" in want.obs:
        assert got.obs["depth"].dtype == np.float16
        np.testing.assert_array_equal(got.obs["depth"], want.obs["depth"].astype(np.float16))
    np.testing.assert_array_equal(got.actions, want.actions)
    assert got.actions.dtype == np.float32
    np.testing.assert_array_equal(got.expert, want.expert)
    assert got.expert.dtype == bool
    np.testing.assert_array_equal(got.states, want.states)
    assert got.states.dtype == np.float64
    np.testing.assert_array_equal(got.object_states, want.object_states)
    assert got.labels == want.labels
    assert got.instructions == want.instructions
    assert got.heldout_instructions == want.heldout_instructions
    assert got.scene_params == json.loads(json.dumps({"light": [0.1, 0.2, 0.3], "index": want.index}))


def write_all(root: Path, indices=range(N_EPISODES)) -> DatasetWriter:
    writer = DatasetWriter(root)
    for i in indices:
        writer.write_episode(make_episode(i))
    return writer
