"""``DVDObjective``: the clip a candidate is scored by is the episode's real frames followed by its predicted ones, the
planner predicts only the frames that clip samples, and the score is exactly ``DVDReward.score`` of that clip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor

from planners.dynamics import PredictedRollout
from planners.objectives import ClipRewardSource, DVDObjective
from planners.optimizers.cem import CEMConfig, CEMOptimizer
from planners.vmpc import VMPCAgent, VMPCConfig
from rewards.dvd import DVDConfig, DVDReward, frame_indices

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIDE = 64


def _frames(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, SIDE, SIDE, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def model() -> DVDReward:
    return DVDReward(DVDConfig(cnn_channels=(8, 8, 8), frame_dim=16, embed_dim=16, state_names=()), seed=0).eval()


def test_a_candidate_is_scored_as_the_clip_of_the_real_frames_then_its_predicted_ones(model: DVDReward) -> None:
    rng = np.random.default_rng(0)
    real, demos = _frames(rng, 3), _frames(rng, 2 * 10).reshape(2, 10, SIDE, SIDE, 3)
    objective = DVDObjective(model, demos)
    assert isinstance(objective, ClipRewardSource)
    objective.reset(None, {"rgb": real[0]})
    for frame in real[1:]:
        objective.observe(None, {"rgb": frame})
    # 3 real frames + predicted steps 0..5: 9 frames, of which the model samples 6: real 0 and 2, predicted 0, 2, 3, 5
    assert frame_indices(9, 6) == [0, 2, 3, 5, 6, 8]
    assert objective.steps_needed([5]) == [0, 2, 3, 5]
    assert objective.steps_needed([1, 5]) == [0, 1, 2, 3, 5]
    predicted = _frames(rng, 4 * 6).reshape(4, 6, SIDE, SIDE, 3)  # 4 candidates, horizon steps 0..5
    needed = objective.steps_needed([5])
    as_model_frames = torch.from_numpy(predicted[:, needed]).permute(0, 1, 4, 2, 3).float() / 255
    got = objective.score_steps(PredictedRollout(needed, as_model_frames), [5])
    whole = np.concatenate([np.broadcast_to(real, (4, *real.shape)), predicted], axis=1)  # (4, 9, H, W, C)
    want = model.score(torch.from_numpy(whole).float() / 255, demos)
    assert got.shape == (4, 1)
    torch.testing.assert_close(got[:, 0], want, rtol=1e-5, atol=1e-6)
    # the real episode alone: the clip of the 3 real frames
    torch.testing.assert_close(
        torch.tensor(objective.real_value()), model.score(real[None], demos)[0], rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match=r"lacks the predicted steps \[3, 5\]"):
        objective.score_steps(PredictedRollout([0, 2], as_model_frames[:, :2]), [5])


def test_bad_demos_and_frames_are_named(model: DVDReward) -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match=r"demos must be \(M, T, 64, 64, 3\)"):
        DVDObjective(model, rng.integers(0, 255, (2, 5, 32, 32, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        DVDObjective(model, rng.random((2, 5, SIDE, SIDE, 3)))
    objective = DVDObjective(model, _frames(rng, 5)[None])
    with pytest.raises(RuntimeError, match="reset"):
        objective.real_value()
    with pytest.raises(ValueError, match="set env.width and env.height to 64"):
        objective.reset(None, {"rgb": np.zeros((32, 32, 3), np.uint8)})


class _Recording:
    """Dynamics whose frame at step h is candidate-dependent: what the agent asks for is recorded."""

    provides_states = False

    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        pass

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        pass

    def rollout(
        self, actions: Tensor, steps: Sequence[int], frames: bool = True, states: bool = False
    ) -> PredictedRollout:
        self.asked.append(list(steps))
        # a frame brightens with the sum of the candidate's first action: the reward sees the actions through it
        level = (actions[:, :1, :1].sum(-1, keepdim=True) + 1) / 2  # (N, 1, 1) in [0, 1]
        out = level[:, :, :, None, None].expand(-1, len(steps), 3, SIDE, SIDE).clamp(0, 1)
        return PredictedRollout(list(steps), out.contiguous())


def test_the_agent_predicts_only_the_frames_the_clip_samples_and_tracks_real_frames(model: DVDReward) -> None:
    rng = np.random.default_rng(2)
    objective = DVDObjective(model, _frames(rng, 8)[None])
    dynamics = _Recording()
    low, high = -torch.ones(2), torch.ones(2)
    optimizer = CEMOptimizer(CEMConfig(population=8, elites=2, iterations=1), low, high, horizon=6, seed=0)
    agent = VMPCAgent(dynamics, objective, optimizer, VMPCConfig(horizon=6, replan_every=2, record_predictions=False))
    obs = {"rgb": _frames(rng, 1)[0]}
    agent.reset(None, obs, episode_steps=20)
    agent.act()
    # 1 real frame + steps 0..5: 7 frames sampled at [0, 1, 2, 4, 5, 6] → predicted steps 0, 1, 3, 4, 5
    assert dynamics.asked[0] == [0, 1, 3, 4, 5]
    agent.observe(None, obs)
    agent.act()
    agent.observe(None, obs)
    agent.act()  # replans with 3 real frames: 9 frames sampled at [0, 2, 3, 5, 6, 8] → steps 0, 2, 3, 5
    assert dynamics.asked[-1] == [0, 2, 3, 5]
    assert len(objective._history) == 3
