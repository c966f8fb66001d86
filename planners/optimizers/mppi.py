"""Model-predictive path integral control (MPPI) as a sampling trajectory optimizer.

Each iteration perturbs the current plan U (H, A) with Gaussian noise, clips the samples to the
bounds, scores them in one objective call and moves U to the return-weighted average of the samples:

    w_k = exp((S_k − max_j S_j) / λ) / Σ_i exp((S_i − max_j S_j) / λ)
    U ← clip(U + Σ_k w_k ε_k),   ε_k = x_k − U (the perturbation after clipping)

* λ (``temperature``) is in the units of the returns: returns are divided by λ, so samples whose
  return is λ below the best get e^−1 of its weight. Small λ follows the best sample, large λ
  averages everything. VP² (Tian et al. 2023) used λ = 0.05 on its cost scale.
* Subtracting the best return before exponentiating makes the largest exponent exactly 0: no overflow
  whatever the returns' scale (1e6 is fine) and no underflow of every weight (the best keeps weight
  ≥ 1 / N), so the weights never become NaN or inf. Weights are computed in float64.
* Using the clipped perturbation makes U + Σ w ε = Σ w x a convex combination of in-bounds samples,
  so the update itself stays in bounds (the final clip only removes rounding).
* ``noise_correlation`` ρ smooths the perturbations along time with a unit-variance AR(1) filter,
  ε_t = ρ ε_{t−1} + √(1 − ρ²) w_t (``noise.autoregressive_noise``). VP²'s β = 0.5 is the same kind of
  filter; this one is rescaled so that ``noise_std`` stays the per-step std for every ρ.

This is the sampling update of MPPI as planners for learned models use it (no control-cost term
from the path-integral derivation). The std does not adapt; several ``iterations`` refine U with
the same noise level. The warm start kept for the next call is the final U.
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
from planners.optimizers.noise import autoregressive_noise
from sim.plumbing.settings import check_knobs, knob

__all__ = ["MPPIConfig", "MPPIOptimizer", "mppi_weights"]


@dataclass
class MPPIConfig:
    """Settings of an ``MPPIOptimizer``; validated on construction (``ValueError`` naming the field).

    Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/optimizer/mppi.yaml`` is generated
    from it (``python -m robolearn.conf_files --write``). The defaults are VP²'s (Tian et al. 2023).
    """

    samples: int = knob(200, "perturbed action sequences per iteration, VP²: 200 (count)", lo=1, hi=MAX_SAMPLES)
    iterations: int = knob(
        1,
        "weighted-average updates of the plan per optimize() call; one objective call each (VP²: 1)",
        lo=1,
        hi=MAX_ITERATIONS,
    )
    temperature: float = knob(
        0.05,
        "λ, in the units of the objective's returns: weights ∝ exp((S − max S)/λ) (VP²: 0.05)",
        lo=0.0,
        lo_open=True,
    )
    noise_std: float = knob(
        0.5, "std of the perturbations, fraction of the half-range", lo=0.0, hi=MAX_STD, lo_open=True
    )
    noise_correlation: float = knob(
        0.5,
        "AR(1) correlation ρ of the perturbations along time, rescaled to unit variance per step (0 = white; "
        "VP²'s β 0.5)",
        lo=0.0,
        hi=1.0,
        hi_open=True,
    )
    shift_fill: str = knob(
        "center",
        "what advance() puts in the freed tail of the warm start: center (of the bounds) | last (repeat the last "
        "action)",
        choices=FILLS,
    )

    def __post_init__(self) -> None:
        check_knobs(self, type(self).__name__)
        self.temperature = float(self.temperature)
        self.noise_std = float(self.noise_std)
        self.noise_correlation = float(self.noise_correlation)


def mppi_weights(returns: Tensor, temperature: float) -> Tensor:
    """Softmax weights (N,) of returns (N,): exp((S − max S) / λ), normalised; finite for any finite S."""
    scaled = (returns - returns.max()) / temperature  # ≤ 0, exactly 0 at the best
    weights = scaled.exp()
    return weights / weights.sum()  # the sum is ≥ 1 (the best's exp(0)), never 0


class MPPIOptimizer(TrajectoryOptimizer):
    """MPPI; see the module docstring and ``TrajectoryOptimizer``."""

    config_class = MPPIConfig
    config: MPPIConfig

    def _optimize(self, objective: Objective, mean: Tensor) -> OptimizerResult:
        c = self.config
        std = c.noise_std * self.half_range  # (A,)
        best_value, best_actions = -torch.inf, mean
        history: list[float] = []
        for _ in range(c.iterations):
            noise = autoregressive_noise(
                (c.samples, self.horizon, self.action_dim),
                c.noise_correlation,
                generator=self._generator,
                device=self.device,
            )
            samples = self._clip(mean + std * noise)  # (N, H, A)
            returns = self._evaluate(objective, samples)  # (N,) float64
            weights = mppi_weights(returns, c.temperature)
            best = int(returns.argmax())
            if returns[best] > best_value:
                best_value, best_actions = float(returns[best]), samples[best]
            step = torch.einsum("n,nha->ha", weights.to(samples.dtype), samples - mean)
            mean = self._clip(mean + step)
            history.append(float((weights * returns).sum()))
        self._mean = mean
        return OptimizerResult(
            actions=mean.clone(),
            value=history[-1],
            best_actions=best_actions.clone(),
            best_value=best_value,
            history=history,
        )
