"""Oracle rollouts: private simulator worlds, sleeping bodies at rest, and the worker pool."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
import torch

from planners.dynamics import SimulatorDynamics
from planners.simulator_rollouts import RolloutPool, RolloutWorld, resolve_workers, usable_cores
from sim.envs.desk import DeskEnv


def _expert_episode(task: str, seed: int, steps: int) -> tuple[DeskEnv, object, np.ndarray, np.ndarray]:
    """The env, its state after reset, the expert's actions (steps, 4) and the object states they led to."""
    env = DeskEnv(task=task)
    env.reset(seed=seed)
    start = env.get_state()
    expert = env.make_expert()
    actions = []
    for _ in range(steps):
        a = env.expert_action(expert)
        actions.append(a)
        env.step(a)
    return env, start, np.array(actions, dtype=np.float64), env.scene.object_states().vector()


def test_sleeping_bodies_wake_when_the_arm_pushes_them() -> None:
    """With every body but the arm asleep (rest speed above any speed), the expert still pushes the mug and
    opens nothing else: Bullet wakes what the arm touches, so the outcome matches the real env."""
    env, start, actions, real_final = _expert_episode("move_white_mug_right", seed=2, steps=14)
    init_mug = env.initial_object_states.mugs["white_mug"]
    world = RolloutWorld(env.cfg, chunk=20, rest_speed=1e9)
    world.observe(start)
    world.rollout(actions[None], [len(actions) - 1], frames=False, states=False)
    assert set(world._resting or []) == {
        env.scene.drawer.uid,
        env.scene.cabinet.uid,
        env.scene.faucet.uid,
        env.scene.button.uid,
    } | {o.uid for o in env.scene.movable.values()}
    final = world.env.scene.object_states()
    moved = np.linalg.norm(final.mugs["white_mug"][:2] - init_mug[:2])
    assert moved > 0.03, "the sleeping mug did not wake when the arm pushed it"
    assert np.abs(final.vector() - real_final).max() < 0.01  # within contact noise of the real env (m, rad)
    world.close()
    env.close()


def test_resting_bodies_are_the_still_ones() -> None:
    env = DeskEnv(task="open_drawer")
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.zeros(4))
    scene, state = env.scene, env.get_state()
    i = scene.bodies.index(scene.mugs["black_mug"].uid)
    state.sim.base[i, 7] = 0.5  # the black mug slides
    resting = scene.resting_bodies(state.sim, 0.1)
    assert scene.mugs["black_mug"].uid not in resting and scene.arm.uid not in resting
    assert not set(resting) & set(scene.static_bodies)
    assert scene.drawer.uid in resting and scene.mugs["white_mug"].uid in resting
    assert scene.resting_bodies(state.sim, 0.0) == []
    with pytest.raises(ValueError, match="rest_speed"):
        RolloutWorld(env.cfg, rest_speed=-1.0)
    with pytest.raises(ValueError, match="chunk"):
        RolloutWorld(env.cfg, chunk=0)
    env.close()


def test_pool_results_do_not_depend_on_the_workers() -> None:
    """Chunks are rolled out in rebuilt worlds, so two workers give bit for bit what one world gives; a chunk's
    later candidates carry contact caches over (differences at contact-noise level from rebuilding each)."""
    env = DeskEnv(task="open_drawer")
    env.reset(seed=4)
    for _ in range(2):
        env.step(np.array([0.3, -0.2, -0.5, 1.0]))
    state = env.get_state()
    actions = np.random.default_rng(0).uniform(-1, 1, (7, 5, 4))
    pool = RolloutPool(2)
    try:
        pool.world(env.cfg, 3, 0.005)
        pool.observe(state)
        frames, dense = pool.rollout(actions, [1, 4], frames=True, states=True)
        assert frames is not None and frames.shape == (7, 2, 64, 64, 3) and dense is not None and dense.shape == (7, 2)
        one = RolloutWorld(env.cfg, chunk=3, rest_speed=0.005)
        one.observe(state)
        f, d = one.rollout(actions, [1, 4], frames=True, states=True)
        assert np.array_equal(f, frames) and np.array_equal(d, dense)
        exact = RolloutWorld(env.cfg, chunk=1)
        exact.observe(state)
        fe, de = exact.rollout(actions, [1, 4], frames=True, states=True)
        assert np.array_equal(fe[0], f[0]) and np.array_equal(fe[3], f[3])  # first of a chunk: a rebuilt world
        assert np.abs(fe.astype(float) - f).mean() < 2.0 and np.abs(de - d).max() < 0.05
        assert np.abs(d[:, 1] - d[:, 1].mean()).max() > 0.005  # the candidates really differ
        one.close()
        exact.close()
        # a worker's error comes back as an error naming the worker, with its traceback, and closes the pool:
        # the other worker's reply is never read as the answer to a later request
        with pytest.raises(RuntimeError, match="oracle rollout worker 0 failed"):
            pool.rollout(actions[:, :, :2], [4], frames=False, states=True)
        assert pool.closed
        with pytest.raises(RuntimeError, match="closed"):
            pool.observe(state)
    finally:
        pool.close()
        env.close()


def test_simulator_dynamics_results_are_the_same_with_workers() -> None:
    env = DeskEnv(task="open_drawer")
    obs, _ = env.reset(seed=1)
    actions = torch.from_numpy(np.random.default_rng(1).uniform(-1, 1, (6, 4, 4)).astype(np.float32))
    one, two = SimulatorDynamics(chunk=2, rest_speed=0.005), SimulatorDynamics(chunk=2, rest_speed=0.005, workers=2)
    out = []
    for dyn in (one, two):
        dyn.reset(env, obs)
        out.append(dyn.rollout(actions, [3], frames=False, states=True).oracle_rewards)
        dyn.close()
    assert torch.equal(out[0], out[1])
    # a failed request closes the shared pool; the next rollout starts a new one and answers right
    two.reset(env, obs)
    with pytest.raises(RuntimeError, match="failed"):
        two.rollout(actions[:, :, :2], [3], frames=False, states=True)
    again = two.rollout(actions, [3], frames=False, states=True).oracle_rewards
    assert torch.equal(again, out[1])
    two.close()
    for bad in ({"workers": 0}, {"chunk": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SimulatorDynamics(**bad)
    env.close()


def _child_workers(q: mp.Queue) -> None:
    q.put(resolve_workers(0))


def test_resolve_workers() -> None:
    assert resolve_workers(0) == usable_cores() and resolve_workers(3) == 3
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_child_workers, args=(q,))
    proc.start()
    assert q.get(timeout=60) == 1  # a worker process does not start its own workers
    proc.join()
    with pytest.raises(ValueError, match="≥ 0"):
        resolve_workers(-1)
