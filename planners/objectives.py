"""Reward sources a visual-MPC planner maximises over predicted futures.

Each source turns a ``PredictedRollout`` (frames and/or object states at some horizon steps of N
candidate sequences) into per-step rewards (N, S); ``aggregate`` reduces them over the steps to one
return per candidate. Sources:

* ``LorelObjective``: the LOReL reward P(instruction done | s0, s_t) with s0 the episode's first real
  frame (``rewards.lorel.LorelReward.score``);
* ``GoalImageObjective``: minus the mean squared pixel distance to a goal image (Visual Foresight's
  goal-image cost), in [-1, 0];
* ``OracleStateObjective``: the task's dense oracle reward from simulator object states
  (``Task.dense_reward``); needs ``SimulatorDynamics``;
* ``DVDObjective``: DVD's video reward, P(the episode so far followed by a candidate's predicted frames shows the
  same task as demo videos) (``rewards.dvd.DVDReward.score``). It scores clips, not frames: it is a
  ``ClipRewardSource``, which also sees every real frame (``observe``) and tells the planner which predicted
  frames a clip needs (``steps_needed``), so only those are predicted or rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from planners.dynamics import PredictedRollout, frames_to_float
from rewards.dvd.model import DVDReward, frame_indices

__all__ = [
    "AGGREGATIONS",
    "ClipRewardSource",
    "DVDObjective",
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


@runtime_checkable
class ClipRewardSource(RewardSource, Protocol):
    """A reward of whole clips: the episode's real frames so far followed by a candidate's predicted frames.

    The planner tells it every real frame (``observe``), asks which predicted frames scoring some horizon steps
    needs (``steps_needed``), predicts only those, and scores with ``score_steps``.
    """

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """After a real step: remember the new real frame."""

    def steps_needed(self, scored: Sequence[int]) -> list[int]:
        """The horizon steps whose predicted frames the clips ending at each of ``scored`` read (sorted)."""

    def score_steps(self, rollout: PredictedRollout, scored: Sequence[int]) -> Tensor:
        """(N, len(scored)) rewards of the clips ending at each scored step; ``rollout`` holds ``steps_needed``."""

    def real_value(self) -> float:
        """The reward of the real episode so far (the clip of the real frames alone)."""


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


class DVDObjective:
    """DVD: the mean over demo videos of P(same task) of the clip made of the episode's real frames so far and a
    candidate's predicted frames up to the scored step, times DVD's progress factor (``DVDReward.score``).

    A clip starts at the episode's first real frame, as the robot clips DVD was trained on start where the robot
    starts, and the model samples ``num_frames`` frames evenly over it; so a candidate's clip needs only the predicted
    frames that fall on those samples (``steps_needed``), and only those are predicted or rendered.

    Args:
        model: a trained ``DVDReward`` (``rewards.dvd.load_model``).
        demos: uint8 (M, T, H, W, C) demo clips of the task, at the model's ``image_size``.
        progress_weight: w of ``P(same) · (1 − w + w · progress)``; None = the model's ``config.progress_weight``.
    """

    needs_frames = True
    needs_states = False

    def __init__(self, model: DVDReward, demos: np.ndarray, progress_weight: float | None = None):
        c = model.config
        demos = np.asarray(demos)
        if demos.ndim != 5 or demos.shape[0] < 1 or demos.shape[2:] != (c.image_size, c.image_size, c.channels):
            raise ValueError(
                f"demos must be (M, T, {c.image_size}, {c.image_size}, {c.channels}) uint8 clips at the DVD model's "
                f"image size, got shape {demos.shape}; decode the videos with image_size={c.image_size}"
            )
        if demos.dtype != np.uint8:
            raise ValueError(f"demos must be uint8 frames in [0, 255], got dtype {demos.dtype}")
        self.model = model
        self.demos = demos
        self.progress_weight = progress_weight
        self.num_frames = c.num_frames
        self._history: list[Tensor] = []  # the real frames so far, float32 (H, W, C) in [0, 1]
        model.demo_embeddings(demos)  # encoded once now: every scoring call finds them in the model's cache

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        self._history = []
        self.observe(env, obs)

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        frame = np.asarray(obs["rgb"])
        if frame.shape != self.demos.shape[2:]:
            raise ValueError(
                f"the env renders {frame.shape} frames but the DVD model takes {self.demos.shape[2:]}: set "
                f"env.width and env.height to {self.demos.shape[2]}"
            )
        self._history.append(torch.from_numpy(np.ascontiguousarray(frame)).float().div_(255.0))

    def _layout(self, step: int) -> list[int]:
        """Positions (in the clip of the real frames and predicted steps 0..step) the model samples."""
        if not self._history:
            raise RuntimeError("DVDObjective: call reset(env, obs) before scoring")
        return frame_indices(len(self._history) + step + 1, self.num_frames)

    def steps_needed(self, scored: Sequence[int]) -> list[int]:
        n = len(self._history)
        return sorted({i - n for s in scored for i in self._layout(int(s)) if i >= n})

    def score_steps(self, rollout: PredictedRollout, scored: Sequence[int]) -> Tensor:
        if rollout.frames is None:
            raise ValueError("DVDObjective needs predicted frames; the dynamics returned none")
        where = {int(step): k for k, step in enumerate(rollout.steps)}
        n_real, rows = len(self._history), rollout.frames.shape[0]
        chunk = self.model.config.score_chunk
        columns = []
        for s in scored:
            layout = self._layout(int(s))
            missing = [i - n_real for i in layout if i >= n_real and i - n_real not in where]
            if missing:
                raise ValueError(f"DVDObjective: the rollout lacks the predicted steps {missing} (steps_needed)")
            scores = []
            for lo in range(0, rows, chunk):
                hi = min(rows, lo + chunk)
                frames = [
                    self._history[i].expand(hi - lo, -1, -1, -1)
                    if i < n_real
                    else rollout.frames[lo:hi, where[i - n_real]].permute(0, 2, 3, 1)  # (n, C, H, W) → (n, H, W, C)
                    for i in layout
                ]
                clips = torch.stack(frames, dim=1)  # (n, num_frames, H, W, C) float in [0, 1]
                # the samples on real frames lead the clip and are alike in every candidate: encoded once
                real = sum(i < n_real for i in layout)
                scores.append(self.model.score(clips, self.demos, self.progress_weight, shared=real).float().cpu())
            columns.append(torch.cat(scores))
        return torch.stack(columns, dim=1)

    def __call__(self, rollout: PredictedRollout) -> Tensor:
        """(N, S) rewards of the clips ending at each of the rollout's steps (each needs its ``steps_needed``)."""
        return self.score_steps(rollout, rollout.steps)

    def real_value(self) -> float:
        if not self._history:
            raise RuntimeError("DVDObjective: call reset(env, obs) before scoring")
        clip = torch.stack([self._history[i] for i in frame_indices(len(self._history), self.num_frames)])
        return float(self.model.score(clip[None], self.demos, self.progress_weight)[0])
