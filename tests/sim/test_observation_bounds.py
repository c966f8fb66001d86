"""Every observation of every env stays in its declared observation space over long, seeded random runs.

Random actions (with the gripper opened and closed in bursts and the hand pressed down, which is what pushes the
fingers past their soft limits) on every observation key; episodes are short, so a run also covers many resets.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.envs.counter import CounterEnv
from sim.envs.desk import FINGER_OPENING_LOW, DeskEnv, proprio_bounds
from sim.envs.home import HomeEnv


def random_actions(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """(n, dim) actions in [-1, 1]; an arm's gripper (the last entry) held open or closed in bursts of 5 steps and
    its hand pressed down (the z entry) every other step."""
    a = rng.uniform(-1.0, 1.0, (n, dim)).astype(np.float32)
    if dim >= 4:
        burst = np.where((np.arange(n) // 5) % 2 == 0, 1.0, -1.0)
        a[:, -1] = np.where(np.arange(n) % 3 > 0, burst, a[:, -1])
        a[1::2, -2] = -1.0  # z (dz for the desk, dup for the mobile arm)
    return a


def run_in_space(env, steps: int, seed: int) -> dict[str, np.ndarray]:
    """Step ``env`` randomly; fail on the first observation outside the space. Returns each key's smallest values
    (element-wise over the run)."""
    space = env.observation_space
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    lowest = {k: np.asarray(v).copy() for k, v in obs.items()}
    for i, action in enumerate(random_actions(steps, env.action_space.shape[0], rng)):
        obs, _, terminated, truncated, _ = env.step(action)
        for key, value in obs.items():
            sub = space[key]
            if not sub.contains(value):
                low, high = np.broadcast_to(sub.low, value.shape), np.broadcast_to(sub.high, value.shape)
                where = np.argwhere((value < low) | (value > high))[:3].tolist()
                pytest.fail(f"step {i}: {key} leaves its space at {where}: {value[tuple(where[0])]!r}")
            lowest[key] = np.minimum(lowest[key], value)
        if terminated or truncated:
            env.reset(seed=seed + i + 1)
    return lowest


@pytest.mark.slow
def test_desk_observations_stay_in_their_space():
    env = DeskEnv(obs_keys=("rgb", "depth", "segmentation", "proprio"), width=16, height=16)
    try:
        lowest = run_in_space(env, 3000, seed=1)
    finally:
        env.close()
    # the run pressed a finger past its soft limit: the declared range is the simulated one, not [0, 8 cm]
    assert FINGER_OPENING_LOW < lowest["proprio"][6] < 0.0


@pytest.mark.slow
@pytest.mark.parametrize("robot", ["base", "manipulator"])
def test_home_observations_stay_in_their_space(robot):
    keys = ("rgb", "depth", "segmentation", "scan", "local_map", "proprio", "goal")
    env = HomeEnv(robot=robot, config={"obs_keys": keys, "width": 16, "height": 16, "home": "studio"})
    try:
        run_in_space(env, 800, seed=2)
    finally:
        env.close()


@pytest.mark.slow
def test_counter_observations_stay_in_their_space():
    config = {"obs_keys": ("rgb", "depth", "segmentation", "proprio"), "width": 16, "height": 16, "home": "studio"}
    env = CounterEnv(config=config)
    try:
        run_in_space(env, 800, seed=3)
    finally:
        env.close()


def test_the_finger_opening_bound_is_below_zero():
    """The desk's proprio bound on the finger opening (index 6) admits the simulated negative readings."""
    low, high = proprio_bounds()
    assert low[6] == np.float32(FINGER_OPENING_LOW) < 0.0 < 0.08 < high[6]
