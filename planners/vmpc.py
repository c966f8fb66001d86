"""Visual model-predictive control: replan every k steps, maximising a reward over predicted futures.

``VMPCAgent`` puts three pluggable pieces together:

* dynamics (``planners.dynamics``): a learned video model, or the simulator itself (oracle);
* a reward source (``planners.objectives``): LOReL, a goal image, or the oracle state reward;
* a trajectory optimizer (``planners.optimizers``): CEM, iCEM or MPPI over (H, A) action sequences.

Receding horizon: at every ``replan_every``-th step the optimizer searches H-step action sequences,
warm-started from the previous plan shifted by the steps executed since (``optimizer.advance``); the
agent executes the first ``replan_every`` actions of the result, then replans from the new real
observation. LOReL planned once per episode and executed open-loop (``replan_every = H`` with one
plan, which this agent also reproduces); replanning is what lets a planner recover from a model's
mistakes.

Example:
    >>> agent = VMPCAgent(SimulatorDynamics(), OracleStateObjective(), optimizer, VMPCConfig(horizon=8))
    >>> record = run_episode(env, agent, seed=0)
    >>> record.success, record.success_any
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import Tensor

from planners.dynamics import Dynamics, PredictedRollout, frames_to_float
from planners.objectives import AGGREGATIONS, ClipRewardSource, RewardSource, aggregate, steps_for
from sim.plumbing.settings import knob

__all__ = ["ENSEMBLE_COMBINES", "EpisodeRecord", "PlanRecord", "VMPCAgent", "VMPCConfig", "run_episode"]

#: the longest planning horizon (env steps): every candidate's rollout is this long, and episodes are far shorter
MAX_HORIZON = 1000
#: how the rewards of one candidate under several video models combine (``VMPCConfig.ensemble``)
ENSEMBLE_COMBINES = ("min", "mean")


@dataclass
class VMPCConfig:
    """Receding-horizon settings (``conf/plan.yaml``, key ``agent``, is generated from these knobs)."""

    horizon: int = knob(
        20,
        "planning horizon H (env steps predicted per candidate sequence); a whole desk episode: the tasks take the "
        "expert 10-14 steps, and with 10 no first plan can finish one",
        lo=1,
        hi=MAX_HORIZON,
    )
    replan_every: int = knob(
        2,
        "replan every k executed steps (1 = every step; = horizon: execute each plan to its end)",
        lo=1,
        hi=MAX_HORIZON,
    )
    aggregation: str = knob(
        "last", "reward over the predicted frames: last (LOReL) | max | sum | mean", choices=AGGREGATIONS
    )
    warm_start: bool = knob(
        True, "start each optimisation from the previous plan shifted in time (false: from zero actions)"
    )
    record_predictions: bool = knob(
        True,
        "keep the chosen plan's predicted frames for the video (one extra rollout per plan; skipped when "
        "video.path is null)",
    )
    # False: always the H-step window (a plan may then "finish" after the episode's end); max / sum / mean
    # score only the frames up to the end.
    clip_to_episode: bool = knob(
        True,
        "score no predicted frame past the episode's end: with fewer than horizon steps left, `last` scores the "
        "final frame (the final-state criterion)",
    )
    # How the rewards of one candidate under several video models (``EnsembleDynamics``) combine.
    ensemble: str = knob(
        "min",
        "with several video models: a candidate's reward is the min over the models' predictions (pessimistic: "
        "the optimizer cannot exploit one model's mistake) | mean",
        choices=ENSEMBLE_COMBINES,
    )

    def __post_init__(self) -> None:
        for name in ("horizon", "replan_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_HORIZON:
                raise ValueError(f"VMPCConfig.{name} must be an integer in [1, {MAX_HORIZON}], got {v!r}")
        if self.replan_every > self.horizon:
            raise ValueError(
                f"VMPCConfig.replan_every ({self.replan_every}) cannot exceed the horizon "
                f"({self.horizon}): the plan would run out; raise horizon or lower replan_every"
            )
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"VMPCConfig.aggregation must be one of {list(AGGREGATIONS)}, got {self.aggregation!r}")
        if self.ensemble not in ENSEMBLE_COMBINES:
            raise ValueError(f"VMPCConfig.ensemble must be one of {list(ENSEMBLE_COMBINES)}, got {self.ensemble!r}")
        for name in ("warm_start", "record_predictions", "clip_to_episode"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"VMPCConfig.{name} must be true or false, got {getattr(self, name)!r}")


@dataclass
class PlanRecord:
    """One replanning: when, what was chosen, what it was expected to do.

    Attributes:
        step: the env step at which the plan was made.
        actions: float32 (H, A) the chosen plan.
        value: its aggregated predicted reward.
        frames: float32 (H, C, H_img, W_img) in [0, 1], the plan's predicted frames (None if not recorded).
        seconds: wall time of the optimisation (s).
        evaluations: candidate sequences evaluated.
    """

    step: int
    actions: np.ndarray
    value: float
    frames: np.ndarray | None
    seconds: float
    evaluations: int


@dataclass
class EpisodeRecord:
    """A closed-loop episode: real frames, plans, rewards and success."""

    frames: list[np.ndarray] = field(default_factory=list)  # uint8 (H, W, C) real frames, T+1 of them
    actions: list[np.ndarray] = field(default_factory=list)  # float32 (A,) executed actions, T of them
    rewards: list[float] = field(default_factory=list)  # the reward source on each real frame (T+1)
    plans: list[PlanRecord] = field(default_factory=list)
    success: bool = False  # final-state criterion (the task is achieved at the last step)
    success_any: bool = False  # achieved at any step (LOReL's lenient criterion)
    progress: float = 0.0  # the task's signed progress at the end (m or rad)
    seconds: float = 0.0  # wall time of the episode (s)

    def summary(self) -> dict[str, Any]:
        plan_s = [p.seconds for p in self.plans]
        # The last plan's predicted value beside the real final reward tells a model error (the plan
        # looked done, the real frame is not) from a search that found nothing it rated done.
        return {
            "success": self.success,
            "success_any": self.success_any,
            "progress": self.progress,
            "steps": len(self.actions),
            "plans": len(self.plans),
            "seconds": self.seconds,
            "mean_plan_seconds": float(np.mean(plan_s)) if plan_s else 0.0,
            "final_reward": self.rewards[-1] if self.rewards else None,
            "last_plan_value": self.plans[-1].value if self.plans else None,
        }


class VMPCAgent:
    """Receding-horizon planner over a dynamics model and a reward source (see the module docstring)."""

    def __init__(self, dynamics: Dynamics, reward: RewardSource, optimizer: Any, config: VMPCConfig | None = None):
        self.config = config or VMPCConfig()
        if reward.needs_states and not dynamics.provides_states:
            raise ValueError(
                f"{type(reward).__name__} scores simulator states, which {type(dynamics).__name__} "
                "cannot predict: use the simulator as dynamics (dynamics_model=oracle) or a frame-based reward"
            )
        if optimizer.horizon != self.config.horizon:
            raise ValueError(
                f"the optimizer plans {optimizer.horizon} steps but the agent's horizon is "
                f"{self.config.horizon}; build the optimizer with horizon={self.config.horizon}"
            )
        self.dynamics, self.reward, self.optimizer = dynamics, reward, optimizer
        self._steps = steps_for(self.config.aggregation, self.config.horizon)
        self._predicted = self._steps  # the steps each rollout predicts: the scored ones, or what their clips read
        self._episode_steps: int | None = None
        self._plan: Tensor | None = None
        self._executed = 0  # actions of the current plan already executed
        self._t = 0
        self.plans: list[PlanRecord] = []

    # ------------------------------------------------------------------ episode
    def reset(self, env: Any, obs: dict[str, np.ndarray], episode_steps: int | None = None) -> None:
        """Start an episode: reset the dynamics, the reward and every piece of optimizer state.

        ``episode_steps``: the episode's length in steps, if known (``clip_to_episode`` uses it).
        """
        if episode_steps is not None and (isinstance(episode_steps, bool) or int(episode_steps) < 1):
            raise ValueError(f"episode_steps must be a positive number of steps, got {episode_steps!r}")
        self.dynamics.reset(env, obs)
        self.reward.reset(env, obs)
        self.optimizer.reset()
        self._episode_steps = int(episode_steps) if episode_steps is not None else None
        self._steps = self.scored_steps(0)
        self._predicted = self.predicted_steps(self._steps)
        self._plan, self._executed, self._t = None, 0, 0
        self.plans = []

    def scored_steps(self, t: int) -> list[int]:
        """The horizon steps (0-based) whose predicted frames are scored when planning at step ``t``."""
        cfg = self.config
        horizon = cfg.horizon
        if cfg.clip_to_episode and self._episode_steps is not None:
            horizon = max(1, min(horizon, self._episode_steps - t))
        return steps_for(cfg.aggregation, horizon)

    def predicted_steps(self, scored: list[int]) -> list[int]:
        """The horizon steps each rollout predicts to score ``scored``: those steps, or for a reward of clips the
        frames its clips sample (which need not include every scored step's neighbours, nor only them)."""
        return self.reward.steps_needed(scored) if isinstance(self.reward, ClipRewardSource) else scored

    def observe(self, env: Any, obs: dict[str, np.ndarray]) -> None:
        """After a real step: give the dynamics (and a reward of clips) the new observation and state."""
        self.dynamics.observe(env, obs)
        if isinstance(self.reward, ClipRewardSource):
            self.reward.observe(env, obs)

    def objective(self, actions: Tensor) -> Tensor:
        """(N, H, A) candidate sequences → (N,) aggregated predicted rewards."""
        rollout = self.dynamics.rollout(
            actions, self._predicted, frames=self.reward.needs_frames, states=self.reward.needs_states
        )
        # (M·N, S): M models' blocks of N candidates
        if isinstance(self.reward, ClipRewardSource):
            rewards = self.reward.score_steps(rollout, self._steps)
        else:
            rewards = self.reward(rollout)
        if rollout.members > 1:
            per_model = rewards.unflatten(0, (rollout.members, -1))
            rewards = per_model.amin(0) if self.config.ensemble == "min" else per_model.mean(0)
        return aggregate(rewards, self.config.aggregation)

    def act(self) -> np.ndarray:
        """The next action, float32 (A,); replans first when due."""
        cfg = self.config
        if self._plan is None or self._executed >= cfg.replan_every:
            self._replan()
        assert self._plan is not None, "_replan() sets the plan"
        action = self._plan[self._executed]
        self._executed += 1
        self._t += 1
        return action.cpu().numpy().astype(np.float32)

    def _replan(self) -> None:
        cfg = self.config
        x0 = None  # the optimizer's own start: the bounds' centre after reset, else its shifted warm start
        if self._plan is not None:
            if cfg.warm_start:
                self.optimizer.advance(self._executed)
            else:
                low, high = self.optimizer.action_low, self.optimizer.action_high
                x0 = ((low + high) / 2).expand(cfg.horizon, -1).clone()
        self._steps = self.scored_steps(self._t)
        self._predicted = self.predicted_steps(self._steps)
        start = time.perf_counter()
        result = self.optimizer.optimize(self.objective, x0)
        seconds = time.perf_counter() - start
        plan = result.actions.detach().float()
        frames = None
        if cfg.record_predictions:
            rollout = self.dynamics.rollout(plan.unsqueeze(0), list(range(cfg.horizon)), frames=True)
            frames = rollout.frames[0].cpu().numpy() if rollout.frames is not None else None
        self.plans.append(
            PlanRecord(self._t, plan.cpu().numpy(), float(result.value), frames, seconds, int(result.evaluations))
        )
        self._plan, self._executed = plan, 0

    def real_reward(self, env: Any, obs: dict[str, np.ndarray]) -> float:
        """The reward source applied to the real current frame / state (for the reward-over-time plot); a reward of
        clips scores the real episode so far."""
        if isinstance(self.reward, ClipRewardSource):
            return self.reward.real_value()
        if self.reward.needs_states:
            e = env.unwrapped
            return float(e.task.dense_reward(e.scene, e.object_states, e.initial_object_states, e.cfg.thresholds))
        frame = frames_to_float(obs["rgb"])[None, None]
        return float(self.reward(PredictedRollout([0], frame)).reshape(-1)[0])


def run_episode(
    env: Any,
    agent: VMPCAgent,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    max_steps: int | None = None,
    recorder: Any = None,
) -> EpisodeRecord:
    """Run one closed-loop episode of ``agent`` in ``env`` (until truncation or ``max_steps``).

    Success is judged by the env's task: ``success`` is the final-state criterion, ``success_any``
    LOReL's any-step one. ``recorder``, if given, is told ``start(env, obs)`` after the reset and
    ``step(env, obs, action)`` after every step (e.g. ``robolearn.data.recorder.EpisodeRecorder``, to
    keep the planner's own episodes as training data).
    """
    start = time.perf_counter()
    obs, info = env.reset(seed=seed, options=options)
    steps = max_steps if max_steps is not None else env.unwrapped.cfg.max_episode_steps
    agent.reset(env, obs, episode_steps=steps)
    if recorder is not None:
        recorder.start(env, obs)
    rec = EpisodeRecord(frames=[obs["rgb"]], rewards=[agent.real_reward(env, obs)])
    for _ in range(steps):
        action = agent.act()
        obs, _, terminated, truncated, info = env.step(action)
        agent.observe(env, obs)
        if recorder is not None:
            recorder.step(env, obs, action)
        rec.frames.append(obs["rgb"])
        rec.actions.append(action)
        rec.rewards.append(agent.real_reward(env, obs))
        if terminated or truncated:
            break
    rec.plans = list(agent.plans)
    rec.success, rec.success_any = bool(info["success"]), bool(info["success_any"])
    rec.progress = float(info["progress"])
    rec.seconds = time.perf_counter() - start
    return rec
