"""Visual MPC: simulator dynamics, reward sources, the receding-horizon agent, and `robolearn plan`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from planners.dynamics import PredictedRollout, SimulatorDynamics, frames_to_float
from planners.objectives import GoalImageObjective, OracleStateObjective, aggregate, steps_for
from planners.optimizers.cem import CEMConfig, CEMOptimizer
from planners.vmpc import VMPCAgent, VMPCConfig, run_episode
from sim.envs.desk import DeskEnv

LOW, HIGH = [-1.0] * 4, [1.0] * 4


@pytest.fixture(scope="module")
def drawer_env():
    env = DeskEnv(task="open_drawer")
    yield env
    env.close()


def test_simulator_dynamics_predicts_what_the_env_does(drawer_env):
    """Exact oracle rollouts equal the real env stepped with the same actions from a restored state."""
    obs, _ = drawer_env.reset(seed=3)
    dyn = SimulatorDynamics(exact=True)
    dyn.reset(drawer_env, obs)
    rng = np.random.default_rng(0)
    actions = torch.from_numpy(rng.uniform(-1, 1, (2, 5, 4)).astype(np.float32))
    pred = dyn.rollout(actions, steps=[1, 4], states=True)
    assert pred.frames.shape == (2, 2, 3, 64, 64) and pred.frames.dtype == torch.float32
    assert pred.oracle_rewards.shape == (2, 2)

    state = drawer_env.get_state()
    for i in range(2):
        drawer_env.set_state(state)
        frames = []
        for h in range(5):
            o, *_ = drawer_env.step(actions[i, h].numpy())
            frames.append(o["rgb"])
        assert torch.equal(pred.frames[i, 0], frames_to_float(frames[1]))
        assert torch.equal(pred.frames[i, 1], frames_to_float(frames[4]))
    # the fast mode (arrays restored, contact caches kept) agrees to contact-level noise
    fast = SimulatorDynamics(exact=False)
    fast.reset(drawer_env, obs)
    drawer_env.set_state(state)
    fast.observe(drawer_env, obs)
    approx = fast.rollout(actions, steps=[4])
    assert (approx.frames[:, 0] - pred.frames[:, 1]).abs().mean() < 0.01
    # different actions give different futures (the rollout really uses them)
    assert (pred.frames[0] - pred.frames[1]).abs().max() > 0.05
    dyn.close()
    fast.close()


def test_aggregation_and_steps():
    r = torch.tensor([[0.1, 0.5, 0.2], [0.3, 0.3, 0.9]])
    assert torch.equal(aggregate(r, "last"), torch.tensor([0.2, 0.9]))
    assert torch.equal(aggregate(r, "max"), torch.tensor([0.5, 0.9]))
    assert torch.allclose(aggregate(r, "sum"), torch.tensor([0.8, 1.5]))
    assert steps_for("last", 10) == [9] and steps_for("sum", 3) == [0, 1, 2]
    with pytest.raises(ValueError, match="choose from"):
        steps_for("median", 3)


def test_goal_image_objective_prefers_the_goal():
    goal = np.zeros((8, 8, 3), np.uint8)
    goal[2:5, 2:5] = 255
    obj = GoalImageObjective(goal)
    near = frames_to_float(goal)[None, None]
    far = torch.zeros(1, 1, 3, 8, 8)
    r = obj(PredictedRollout([0], torch.cat([near, far])))
    assert r.shape == (2, 1) and r[0, 0] == 0 and r[1, 0] < 0
    with pytest.raises(ValueError, match="does not match"):
        obj.reset(None, {"rgb": np.zeros((16, 16, 3), np.uint8)})


def test_agent_config_errors():
    with pytest.raises(ValueError, match="replan_every"):
        VMPCConfig(horizon=4, replan_every=5)
    with pytest.raises(ValueError, match="aggregation"):
        VMPCConfig(aggregation="median")
    opt = CEMOptimizer(CEMConfig(population=8, elites=2), LOW, HIGH, horizon=5)

    class FramesOnly:
        provides_states = False

    with pytest.raises(ValueError, match="dynamics_model=oracle"):
        VMPCAgent(FramesOnly(), OracleStateObjective(), opt, VMPCConfig(horizon=5))
    with pytest.raises(ValueError, match="horizon"):
        VMPCAgent(SimulatorDynamics(), OracleStateObjective(), opt, VMPCConfig(horizon=6))


class LinearModel:
    """A stand-in learned model: every predicted frame's pixels equal weight · (the candidate's first action)."""

    provides_states = False

    def __init__(self, weight: torch.Tensor):
        self.weight, self.observed = weight, 0

    def reset(self, env, obs):
        self.observed = 0

    def observe(self, env, obs):
        self.observed += 1

    def rollout(self, actions, steps, frames=True, states=False):
        value = actions[:, 0] @ self.weight  # (N,)
        return PredictedRollout(list(steps), value[:, None, None, None, None].expand(-1, len(steps), 3, 4, 4).clone())


class MeanPixel:
    needs_frames, needs_states = True, False

    def reset(self, env, obs):
        pass

    def __call__(self, rollout):
        return rollout.frames.mean(dim=(2, 3, 4))


def test_an_ensemble_plans_for_the_worst_model():
    from planners.dynamics import EnsembleDynamics

    # model a rewards pushing action 0 up, model b punishes it; both reward action 1 up
    a, b = LinearModel(torch.tensor([1.0, 1.0, 0, 0])), LinearModel(torch.tensor([-1.0, 1.0, 0, 0]))
    ensemble = EnsembleDynamics([a, b])
    candidates = torch.tensor([[[1.0, 0, 0, 0]], [[0, 1.0, 0, 0]], [[1.0, 1.0, 0, 0]]])
    out = ensemble.rollout(candidates, [0])
    assert out.members == 2 and out.frames.shape == (6, 1, 3, 4, 4)
    opt = CEMOptimizer(CEMConfig(population=64, elites=8, iterations=4), LOW, HIGH, horizon=1, seed=0)
    pessimist = VMPCAgent(ensemble, MeanPixel(), opt, VMPCConfig(horizon=1, replan_every=1))
    torch.testing.assert_close(pessimist.objective(candidates), torch.tensor([-1.0, 1.0, 0.0]))
    averaged = VMPCAgent(ensemble, MeanPixel(), opt, VMPCConfig(horizon=1, replan_every=1, ensemble="mean"))
    torch.testing.assert_close(averaged.objective(candidates), torch.tensor([0.0, 1.0, 1.0]))
    # planning: the exploit of model a alone (action 0 up) is avoided, the action every model likes is found
    pessimist.reset(None, {})
    action = pessimist.act()
    assert action[1] > 0.5 and abs(action[0]) < 0.5, action
    pessimist.observe(None, {})
    assert a.observed == b.observed == 1, "every member sees every real step"
    with pytest.raises(ValueError, match="at least 2"):
        EnsembleDynamics([a])
    with pytest.raises(ValueError, match="ensemble"):
        VMPCConfig(ensemble="max")


class RecordingDynamics(SimulatorDynamics):
    """The simulator, noting which horizon steps each planning call asked for."""

    def __init__(self):
        super().__init__()
        self.asked: list[list[int]] = []

    def rollout(self, actions, steps, frames=True, states=False):
        self.asked.append(list(steps))
        return super().rollout(actions, steps, frames, states)


@pytest.mark.parametrize("aggregation", ["last", "sum"])
@pytest.mark.parametrize("clip", [True, False])
def test_no_frame_past_the_episode_end_is_scored(drawer_env, clip, aggregation):
    """Near the end of a 5-step episode a 4-step plan scores the final frame (final-state criterion)."""
    opt = CEMOptimizer(CEMConfig(population=4, elites=2, iterations=1), LOW, HIGH, horizon=4, seed=0)
    dyn = RecordingDynamics()
    agent = VMPCAgent(
        dyn,
        OracleStateObjective(),
        opt,
        VMPCConfig(horizon=4, replan_every=1, aggregation=aggregation, clip_to_episode=clip, record_predictions=False),
    )
    run_episode(drawer_env, agent, seed=0, max_steps=5)
    dyn.close()
    left = [5, 4, 3, 2, 1]  # steps left at each replanning
    horizons = [min(4, n) if clip else 4 for n in left]
    want = [[h - 1] if aggregation == "last" else list(range(h)) for h in horizons]
    assert dyn.asked == want


@pytest.mark.slow
@pytest.mark.parametrize("task", ["open_drawer", "turn_faucet_left"])
def test_oracle_dynamics_and_oracle_reward_solve_the_task(task):
    """The upper bound: planning with the simulator and the task's state reward succeeds."""
    env = DeskEnv(task=task)
    try:
        horizon = 6
        opt = CEMOptimizer(CEMConfig(population=24, elites=4, iterations=2), LOW, HIGH, horizon=horizon, seed=0)
        agent = VMPCAgent(
            SimulatorDynamics(),
            OracleStateObjective(),
            opt,
            VMPCConfig(horizon=horizon, replan_every=3, aggregation="last", record_predictions=False),
        )
        rec = run_episode(env, agent, seed=1)
        assert rec.success, f"{task}: progress {rec.progress:.3f}"
        assert len(rec.plans) == 7 and len(rec.frames) == 21
        # the real reward went up over the episode
        assert rec.rewards[-1] > rec.rewards[0] + 0.5
        # the summary sets the last plan's predicted value beside the real final reward
        summary = rec.summary()
        assert summary["last_plan_value"] == rec.plans[-1].value and summary["final_reward"] == rec.rewards[-1]
    finally:
        env.close()


def test_random_actions_do_not_solve_it_by_chance():
    """Guards the test above: the same episode with random actions fails."""
    env = DeskEnv(task="open_drawer")
    try:
        env.reset(seed=1)
        rng = np.random.default_rng(0)
        for _ in range(20):
            *_, info = env.step(rng.uniform(-1, 1, 4))
        assert not info["success"]
    finally:
        env.close()


def test_same_seed_same_episode():
    env = DeskEnv(task="open_drawer")
    try:

        def once():
            opt = CEMOptimizer(CEMConfig(population=8, elites=2, iterations=1), LOW, HIGH, horizon=4, seed=5)
            agent = VMPCAgent(
                SimulatorDynamics(),
                OracleStateObjective(),
                opt,
                VMPCConfig(horizon=4, replan_every=2, record_predictions=False),
            )
            return run_episode(env, agent, seed=2, max_steps=6)

        a, b = once(), once()
        assert np.array_equal(np.stack(a.actions), np.stack(b.actions))
        assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames))
    finally:
        env.close()


@pytest.mark.slow
def test_plan_cli_oracle_end_to_end(tmp_path, capsys):
    from robolearn.cli import main

    video, results = tmp_path / "plan.gif", tmp_path / "plan.json"
    code = main(
        [
            "plan",
            "instruction=open the drawer",
            "objective=oracle",
            "dynamics_model=oracle",
            "optimizer=cem",
            "agent.horizon=6",
            "agent.replan_every=3",
            "optimizer.population=24",
            "optimizer.elites=4",
            "optimizer.iterations=2",
            "seed=1",
            "video.panel=64",
            f"video.path={video}",
            f"results={results}",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "task open_drawer" in out and "SUCCESS" in out
    assert video.stat().st_size > 0
    data = json.loads(results.read_text())
    assert data["episodes"][0]["success"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (["objective=oracle", "dynamics_model=runs/none.pt"], "no such checkpoint"),
        (["objective=lorel"], "reward_checkpoint"),
        (["objective=magic"], "choose from"),
        (
            ["objective=goal_image", "dynamics_model=[oracle,runs/a.pt]"],
            "an ensemble is a list of at least 2 video-model",
        ),
        (["objective=goal_image", "dynamics_model=[README.md,README.md]"], "lists a checkpoint twice"),
        (["objective=goal_image", "dynamics_model=[README.md,runs/none.pt]"], "runs/none.pt'"),
        (["objective=oracle", "agent.ensemble=max"], "agent.ensemble"),
        (["objective=oracle", "dynamics_samples=2"], "dynamics_samples=2 draws samples of one stochastic video model"),
        (
            ["objective=goal_image", "dynamics_model=[README.md,pyproject.toml]", "dynamics_samples=3"],
            "give dynamics_model=PATH (one checkpoint",
        ),
        (["objective=oracle", "dynamics_samples=0"], "dynamics_samples"),
        (["instruction=bake a chocolate cake", "objective=oracle"], "The robot can"),
    ],
)
def test_plan_cli_errors(args, message, capsys):
    from robolearn.cli import main

    code = main(["plan", "video.path=null", *args])
    err = capsys.readouterr().err
    assert code != 0 and message in err
    assert "Traceback" not in err
