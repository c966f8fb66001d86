"""What a visual-MPC planner rolls candidate action sequences through: a learned video model or the simulator.

Both implement ``Dynamics``: ``reset`` at the start of an episode, ``observe`` after every real step,
and ``rollout(actions, steps)`` that returns, for N candidate sequences, the frames (and, for the
simulator, the object states) at the requested horizon steps. Asking for only the steps the reward
needs (e.g. just the last one) is what makes planning cheap: the video model then decodes one frame
per sequence, and the simulator renders one.

* ``VideoModelDynamics`` wraps a trained ``planners.video`` model: it keeps the last
  ``context_frames`` real frames, encodes them once per rollout call and rolls the latent forward.
* ``SimulatorDynamics`` is the oracle: a private copy of the environment, reset to the real env's
  ``get_state()`` before each candidate, stepped with the candidate's actions (physics only), and
  rendered only at the requested steps. It is the upper bound for any reward and the way to test a
  reward without a video model's errors (the DVD lesson).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "Dynamics",
    "EnsembleDynamics",
    "PredictedRollout",
    "SimulatorDynamics",
    "VideoModelDynamics",
    "frames_to_float",
]


@dataclass
class PredictedRollout:
    """Predictions for N candidate action sequences at the requested horizon steps.

    Attributes:
        steps: the horizon steps (0-based: step h is the frame after action h) that were predicted.
        frames: float32 (N, S, C, H, W) in [0, 1] for S = len(steps), or None if frames were not asked for.
        oracle_rewards: for the simulator when asked for states, float32 (N, S) task dense rewards
            (``Task.dense_reward``) computed in the candidate's own simulated scene; else None.
        members: M, the models (``EnsembleDynamics``) or latent draws (``VideoModelDynamics.sample_seeds``) whose
            predictions are stacked: the rows are then
            M blocks of N, member by member (frames (M·N, S, C, H, W)); 1 for a single model.
    """

    steps: list[int]
    frames: Tensor | None
    oracle_rewards: Tensor | None = None
    members: int = 1


@runtime_checkable
class Dynamics(Protocol):
    """A model of what candidate actions would do from the current real state."""

    #: True when ``rollout`` can score simulator states (oracle rewards need them)
    provides_states: bool

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """Start of an episode: the real env and its first observation."""

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """After a real step: the env (for its state) and the new observation."""

    def rollout(
        self, actions: Tensor, steps: Sequence[int], frames: bool = True, states: bool = False
    ) -> PredictedRollout:
        """Predict the frames (if ``frames``) and the oracle state rewards (if ``states``) at ``steps``
        for (N, H, A) action sequences; compute nothing the caller does not read."""


def frames_to_float(frames: np.ndarray | Tensor) -> Tensor:
    """uint8 (..., H, W, C) env images or (..., C, H, W) tensors → float32 (..., C, H, W) in [0, 1]."""
    if isinstance(frames, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(frames))
        t = t.movedim(-1, -3)  # HWC (env) → CHW (models)
    else:
        t = frames
    return t.float() / 255.0 if t.dtype == torch.uint8 else t.float()


def _check_actions(actions: Tensor, steps: Sequence[int]) -> list[int]:
    if actions.dim() != 3:
        raise ValueError(f"actions: expected (N, H, A) candidate sequences, got shape {tuple(actions.shape)}")
    horizon = actions.shape[1]
    steps = sorted({int(s) for s in steps})  # predictions come back in time order
    bad = [s for s in steps if not 0 <= s < horizon]
    if bad or not steps:
        raise ValueError(f"steps must be a non-empty list within the horizon 0..{horizon - 1}, got {steps}")
    return steps


class VideoModelDynamics:
    """A learned action-conditioned video model as planner dynamics.

    The model must provide ``encode(context (T, C, H, W) float, proprio (P,) or None) -> state``,
    ``rollout(state, actions (N, H, A)) -> latents`` and ``decode(latents at some steps) -> frames``,
    plus ``config.context_frames`` (see ``planners.video``). Until enough real frames have been seen
    (the first step of an episode), the first frame is repeated to fill the context. A model with
    ``config.proprio_dim`` > 0 also gets the robot's latest proprioception (``obs["proprio"]``).

    ``sample_seeds`` (stochastic models): roll every candidate out under one draw of the per-step latent from the
    prior per seed instead of the model's own setting, each the same draw at every call (candidate i always gets
    noise row i of a seed), so the optimizer compares candidates under fixed samples of the world. With several
    seeds the rollout holds one member per draw (``PredictedRollout.members``, combined as an ensemble's rewards)
    from one encoding of the context.
    """

    provides_states = False

    def __init__(self, model: Any, device: str | torch.device = "cpu", sample_seeds: Sequence[int] = ()):
        self.model = model
        self.sample_seeds = tuple(sample_seeds)
        self.device = torch.device(device)
        self.context_frames = int(getattr(model.config, "context_frames", 1))
        self.uses_proprio = bool(getattr(model.config, "proprio_dim", 0))
        self._context: list[Tensor] = []
        self._proprio: Tensor | None = None

    def _read_proprio(self, obs: dict[str, np.ndarray]) -> None:
        if not self.uses_proprio:
            return
        if "proprio" not in obs:
            raise ValueError(
                "the video model conditions on proprioception but the observations have none: "
                "add proprio to env.obs_keys"
            )
        self._proprio = torch.as_tensor(np.asarray(obs["proprio"], dtype=np.float32))

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        self._context = [frames_to_float(obs["rgb"])] * self.context_frames
        self._read_proprio(obs)

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        self._context = (self._context + [frames_to_float(obs["rgb"])])[-self.context_frames :]
        self._read_proprio(obs)

    @property
    def context(self) -> Tensor:
        """float32 (T_ctx, C, H, W) in [0, 1]: the latest real frames, oldest first."""
        if not self._context:
            raise RuntimeError("VideoModelDynamics: call reset(env, obs) before rollout()")
        return torch.stack(self._context).to(self.device)

    @torch.inference_mode()
    def rollout(
        self, actions: Tensor, steps: Sequence[int], frames: bool = True, states: bool = False
    ) -> PredictedRollout:
        steps = _check_actions(actions, steps)
        if states:
            raise ValueError("a video model predicts frames, not simulator states: plan with dynamics_model=oracle")
        state = self.model.encode(self.context, self._proprio)  # proprio None for a frames-only model
        # Only the actions up to the last scored step change what is scored: roll out no further.
        acts = actions[:, : max(steps) + 1].to(self.device)
        if not self.sample_seeds:
            latents = [self.model.rollout(state, acts)]
        else:
            latents = [
                self.model.rollout(state, acts, generator=torch.Generator(self.device).manual_seed(k), sample="sample")
                for k in self.sample_seeds
            ]
        if not frames:
            return PredictedRollout(steps, None)
        decoded = [self.model.decode(z, steps=steps) for z in latents]
        return PredictedRollout(steps, torch.cat(decoded) if len(decoded) > 1 else decoded[0], members=len(decoded))


class EnsembleDynamics:
    """Several learned models as one dynamics: each predicts every candidate, and the planner combines
    the rewards of their predictions per candidate (``VMPCConfig.ensemble``: the minimum by default).

    A sampling optimizer finds the action sequences where a model is wrong in the reward's favour (a
    smeared arm scored as a finished task). Two models trained differently rarely err the same way,
    so a plan must look good under all of them: the pessimistic-ensemble remedy of model-based RL.
    Costs M times one model.
    """

    provides_states = False

    def __init__(self, members: Sequence[Any]):
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 models, got {len(members)}")
        self.members = list(members)

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        for m in self.members:
            m.reset(env, obs)

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        for m in self.members:
            m.observe(env, obs)

    def rollout(
        self, actions: Tensor, steps: Sequence[int], frames: bool = True, states: bool = False
    ) -> PredictedRollout:
        outs = [m.rollout(actions, steps, frames=frames, states=states) for m in self.members]
        stacked = torch.cat([o.frames for o in outs]) if frames else None
        return PredictedRollout(outs[0].steps, stacked, members=len(outs))


class SimulatorDynamics:
    """The simulator itself as (oracle) dynamics: exact physics from the real env's current state.

    Candidates are rolled out in private copies of the real env (``planners.simulator_rollouts``) with no
    camera observations, so stepping costs physics alone; frames are rendered only at the requested steps.
    Each chunk of ``chunk`` consecutive candidates starts in a world rebuilt from the real env's ``get_state()``
    (~4 ms), and the chunk's further candidates restore the arrays only (``scene.set_state``): Bullet's contact
    caches carry over between them, which changes results at contact-noise level and is ~10× cheaper than a
    rebuild. ``exact=True`` rebuilds for every candidate (``chunk=1``: bit-exact, slower).

    ``rest_speed`` > 0 (m/s): the bodies at rest in the real state sleep in every candidate until the arm
    touches them (Bullet wakes them): less physics where the arm disturbs little. ``workers`` > 1 rolls the
    chunks out in that many processes. Results depend on the chunk and the rest speed, never on the number of
    workers, the machine or the run.
    """

    provides_states = True

    def __init__(self, exact: bool = False, rest_speed: float = 0.0, workers: int = 1, chunk: int = 20):
        if workers < 1:
            raise ValueError(f"workers must be ≥ 1 (processes rolling candidates out), got {workers}")
        if chunk < 1:
            raise ValueError(f"chunk must be ≥ 1 (candidates per rebuilt world), got {chunk}")
        self.exact = bool(exact)
        self.chunk = 1 if exact else int(chunk)
        self.rest_speed = 0.0 if exact else float(rest_speed)  # exact: nothing sleeps either
        self.workers = int(workers)
        self._pool: Any = None  # planners.simulator_rollouts.RolloutPool, shared by the process (workers > 1)
        self._world: Any = None  # a RolloutWorld (one process)
        self._cfg: Any = None
        self._state: Any = None

    @property
    def env(self) -> Any:
        """The private env of a one-process oracle (None before ``reset`` or with workers)."""
        return None if self._world is None else self._world.env

    def reset(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        from planners.simulator_rollouts import RolloutWorld, shared_pool

        if self.workers > 1:
            self._pool = shared_pool(self.workers)
            self._pool.owner = None  # (re)build the workers' worlds for this episode's config
        else:
            if self._world is not None:
                self._world.close()
            self._world = RolloutWorld(env.unwrapped.cfg, self.chunk, self.rest_speed)
        self._cfg = copy.deepcopy(env.unwrapped.cfg)
        self.observe(env, obs)

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        self._state = env.unwrapped.get_state()
        if self._pool is not None:
            if self._pool.owner is self:
                self._pool.observe(self._state)
            # else: the next rollout re-sends world and state
        elif self._world is not None:
            self._world.observe(self._state)

    def rollout(
        self, actions: Tensor, steps: Sequence[int], frames: bool = True, states: bool = False
    ) -> PredictedRollout:
        if self._cfg is None:
            raise RuntimeError("SimulatorDynamics: call reset(env, obs) before rollout()")
        steps = _check_actions(actions, steps)
        acts = actions.detach().cpu().numpy().astype(np.float64)
        if self._pool is not None and self._pool.closed:  # an earlier request failed: a fresh pool
            from planners.simulator_rollouts import shared_pool

            self._pool = shared_pool(self.workers)
        engine = self._pool if self._pool is not None else self._world
        if self._pool is not None and self._pool.owner is not self:  # first use, or another planner used it
            self._pool.world(self._cfg, self.chunk, self.rest_speed)
            self._pool.observe(self._state)
            self._pool.owner = self
        images, dense = engine.rollout(acts, steps, frames, states)
        out = frames_to_float(images) if images is not None else None
        return PredictedRollout(steps, out, torch.from_numpy(dense) if dense is not None else None)

    def close(self) -> None:
        if self._world is not None:
            self._world.close()
            self._world = None
        if self._pool is not None:  # the pool is the process's: leave it running for the next planner
            if self._pool.owner is self:
                self._pool.owner = None
            self._pool = None
