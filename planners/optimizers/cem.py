"""The cross-entropy method (CEM) over action sequences, as in Visual Foresight (Ebert et al. 2018).

Each iteration draws ``population`` sequences from a diagonal Gaussian over (H, A), clips them to the
bounds, scores them in one objective call, and refits the Gaussian's mean and std to the ``elites``
best (optionally smoothed with the previous ones by ``alpha``). The plan is the mean of the last
iteration's elites by default: the single best sample is the one whose return the model
overestimates most, and executing it overfits the model's errors (mbrl-lib PR 70 switched to the
elite mean for that reason). ``return_mean_of_elites=false`` returns the best sample instead.

Example:
    >>> opt = CEMOptimizer(CEMConfig(), action_low=[-1] * 4, action_high=[1] * 4, horizon=10, seed=0)
    >>> result = opt.optimize(lambda x: -(x - 0.3).square().sum(dim=(1, 2)))   # x: (N, 10, 4) → (N,)
    >>> result.actions.shape                                                    # (10, 4), all ≈ 0.3
    >>> opt.advance(1)                   # executed one action: the warm start moves one step forward
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from planners.optimizers.base import (
    FILLS,
    MAX_ITERATIONS,
    MAX_SAMPLES,
    MAX_STD,
    Objective,
    OptimizerResult,
    TrajectoryOptimizer,
)
from sim.plumbing.settings import check_knobs, knob

__all__ = ["CEMConfig", "CEMOptimizer"]


@dataclass
class CEMConfig:
    """Settings of a ``CEMOptimizer``; validated on construction (``ValueError`` naming the field).

    Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/optimizer/cem.yaml`` is generated
    from it (``python -m robolearn.conf_files --write``). Stds are fractions of the bounds' half-range
    (high − low) / 2, per action dimension.
    """

    population: int = knob(
        200, "action sequences sampled per iteration, Visual Foresight: 200 (count)", lo=1, hi=MAX_SAMPLES
    )
    elites: int = knob(
        20, "best sequences the Gaussian is refitted to each iteration (count, ≤ population)", lo=1, hi=MAX_SAMPLES
    )
    iterations: int = knob(
        3,
        "sample-and-refit rounds per optimize() call; one objective call each (Visual Foresight: 3)",
        lo=1,
        hi=MAX_ITERATIONS,
    )
    init_std: float = knob(
        0.5, "initial std of every action, fraction of the half-range", lo=0.0, hi=MAX_STD, lo_open=True
    )
    min_std: float = knob(
        0.01,
        "floor of the std after each refit, fraction of the half-range (stops the sampling collapsing)",
        lo=0.0,
        hi=MAX_STD,
    )
    alpha: float = knob(
        0.0,
        "refit momentum: new = alpha·old + (1 − alpha)·elite mean/std (0 = none)",
        lo=0.0,
        hi=1.0,
        hi_open=True,
    )
    return_mean_of_elites: bool = knob(
        True,
        "plan = mean of the last iteration's elites (true; the best sample overfits the model) | best sample (false)",
    )
    shift_fill: str = knob(
        "center",
        "what advance() puts in the freed tail of the warm start: center (of the bounds) | last (repeat the last "
        "action)",
        choices=FILLS,
    )

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_knobs(self, owner)
        if self.elites > self.population:
            raise ValueError(
                f"{owner}.elites={self.elites} must be ≤ population={self.population}; lower elites or raise population"
            )
        self.init_std = float(self.init_std)
        self.min_std = float(self.min_std)
        self.alpha = float(self.alpha)


class CEMOptimizer(TrajectoryOptimizer):
    """Cross-entropy method with a diagonal Gaussian; see the module docstring and ``TrajectoryOptimizer``.

    The warm start kept for the next call is the final sampling mean (the last elites' mean, smoothed
    by ``alpha``). The std restarts from ``init_std`` at every call.
    """

    config_class = CEMConfig
    config: CEMConfig

    def _optimize(self, objective: Objective, mean: Tensor) -> OptimizerResult:
        c = self.config
        std = (c.init_std * self.half_range).expand(self.horizon, -1).clone()  # (H, A)
        min_std = c.min_std * self.half_range  # (A,)
        best_value, best_actions = -torch.inf, mean
        history: list[float] = []
        elites = mean.unsqueeze(0)  # (E, H, A); set by every iteration (there is at least one)
        for i in range(c.iterations):
            samples = self._clip(mean + std * self._noise(self._population(i)))  # (N_i, H, A)
            extra = self._extra_samples(i, mean)
            if extra is not None:
                samples = torch.cat([samples, extra])
            returns = self._evaluate(objective, samples)  # (N,) float64
            elite_returns, idx = returns.topk(c.elites)  # sorted, best first
            elites = samples[idx]  # (E, H, A)
            self._remember_elites(elites)
            if elite_returns[0] > best_value:
                best_value, best_actions = float(elite_returns[0]), elites[0]
            mean = c.alpha * mean + (1 - c.alpha) * elites.mean(dim=0)
            std = torch.maximum(c.alpha * std + (1 - c.alpha) * elites.std(dim=0, correction=0), min_std)
            history.append(float(elite_returns.mean()))
        self._mean = mean
        if c.return_mean_of_elites:
            actions, value = elites.mean(dim=0), history[-1]
        else:
            actions, value = best_actions, best_value
        return OptimizerResult(
            actions=actions.clone(),
            value=value,
            best_actions=best_actions.clone(),
            best_value=best_value,
            history=history,
        )

    # Hooks that iCEM overrides; plain CEM: a constant population of white noise and nothing extra.
    def _population(self, iteration: int) -> int:
        """Fresh samples drawn at ``iteration`` (0-based)."""
        return self.config.population

    def _noise(self, n: int) -> Tensor:
        """(n, H, A) standard-normal-marginal noise that the samples are mean + std · noise of."""
        return self._randn(n)

    def _extra_samples(self, iteration: int, mean: Tensor) -> Tensor | None:
        """(k, H, A) in-bounds sequences evaluated along with the fresh samples, or None."""
        return None

    def _remember_elites(self, elites: Tensor) -> None:
        """Called with each iteration's (E, H, A) elites, best first."""
