"""Reward sources a visual-MPC planner maximises over predicted futures.

Each source turns a ``PredictedRollout`` (frames and/or object states at some horizon steps of N
candidate sequences) into per-step rewards (N, S); ``aggregate`` reduces them over the steps to one
return per candidate. Sources:

* ``LorelObjective``: the LOReL reward P(instruction done | s0, s_t) with s0 the episode's first real
  frame (``rewards.lorel.LorelReward.score``);
* ``GoalImageObjective``: minus the mean squared pixel distance to a goal image (Visual Foresight's
  goal-image cost), in [-1, 0];
* ``OracleStateObjective``: the task's dense oracle reward from simulator object states
  (``Task.dense_reward``); needs ``SimulatorDynamics``.

A DVD video-similarity source plugs in the same way (``needs_frames`` + ``__call__``).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from torch import Tensor

from planners.dynamics import PredictedRollout, frames_to_float

__all__ = [
    "AGGREGATIONS",
    "GoalImageObjective",
    "LorelObjective",
    "OracleStateObjective",
    "RewardSource",
    "aggregate",
    "steps_for",
]

Aggregation = Literal["last", "max", "sum", "mean"]
#: how per-step rewards become one return: the last predicted frame only (LOReL), the best frame,
#: or the sum / mean over all predicted frames (VP²: "sum works much better than mean")
AGGREGATIONS: tuple[str, ...] = ("last", "max", "sum", "mean")


@runtime_checkable
class RewardSource(Protocol):
    """Scores predicted futures; higher is better."""

    #: the source reads predicted frames (False: object states only, e.g. the oracle)
    needs_frames: bool
    #: the source reads simulator object states (only ``SimulatorDynamics`` provides them)
    needs_states: bool

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """Start of an episode (e.g. remember the first frame)."""

    def __call__(self, rollout: PredictedRollout) -> Tensor:
        """(N, S) rewards for the N candidates at the rollout's S steps."""


def steps_for(aggregation: str, horizon: int) -> list[int]:
    """The horizon steps a reward aggregated by ``aggregation`` needs: only the last for ``last``."""
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"unknown reward aggregation {aggregation!r}; choose from {list(AGGREGATIONS)}")
    return [horizon - 1] if aggregation == "last" else list(range(horizon))


def aggregate(rewards: Tensor, aggregation: str) -> Tensor:
    """(N, S) per-step rewards → (N,) returns."""
    if aggregation == "last":
        return rewards[:, -1]
    if aggregation == "max":
        return rewards.max(dim=1).values
    if aggregation == "sum":
        return rewards.sum(dim=1)
    if aggregation == "mean":
        return rewards.mean(dim=1)
    raise ValueError(f"unknown reward aggregation {aggregation!r}; choose from {list(AGGREGATIONS)}")


class LorelObjective:
    """LOReL: P(the change from the episode's first frame to the predicted frame completes ``instruction``)."""

    needs_frames = True
    needs_states = False

    def __init__(self, model: Any, instruction: str):
        if not isinstance(instruction, str) or not instruction.strip():
            raise ValueError("LorelObjective needs a non-empty instruction, e.g. 'open the drawer'")
        self.model = model
        self.instruction = instruction
        # Embedded once per episode-independent instruction: every planning call reuses it.
        self._embedding = model.encode_text([instruction])[0]
        self._s0: Tensor | None = None

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        self._s0 = frames_to_float(obs["rgb"])

    def __call__(self, rollout: PredictedRollout) -> Tensor:
        if self._s0 is None:
            raise RuntimeError("LorelObjective: call reset(env, obs) before scoring")
        if rollout.frames is None:
            raise ValueError("LorelObjective needs predicted frames; the dynamics returned none")
        return self.model.score(self._s0, rollout.frames, self._embedding).float().cpu()


class GoalImageObjective:
    """Minus the mean squared pixel distance (over C, H, W, in [0, 1] units) to a goal image."""

    needs_frames = True
    needs_states = False

    def __init__(self, goal: np.ndarray | Tensor):
        self.goal = frames_to_float(goal)
        if self.goal.dim() != 3:
            raise ValueError(f"goal image: expected one (H, W, C) image, got shape {tuple(self.goal.shape)}")

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        if tuple(frames_to_float(obs["rgb"]).shape) != tuple(self.goal.shape):
            raise ValueError(
                f"goal image shape {tuple(self.goal.shape)} (C, H, W) does not match the "
                f"observations' {tuple(frames_to_float(obs['rgb']).shape)}; render it at the env's size"
            )

    def __call__(self, rollout: PredictedRollout) -> Tensor:
        if rollout.frames is None:
            raise ValueError("GoalImageObjective needs predicted frames; the dynamics returned none")
        return -((rollout.frames - self.goal) ** 2).mean(dim=(-3, -2, -1))


class OracleStateObjective:
    """The task's dense oracle reward (``Task.dense_reward``: progress over the success threshold plus
    a reaching term), computed by ``SimulatorDynamics`` in each candidate's simulated scene."""

    needs_frames = False
    needs_states = True

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """Nothing to remember: the simulator rollout carries the task and its start state."""

    def __call__(self, rollout: PredictedRollout) -> Tensor:
        if rollout.oracle_rewards is None:
            raise ValueError("the oracle reward needs the simulator's object states: plan with dynamics_model=oracle")
        return rollout.oracle_rewards
