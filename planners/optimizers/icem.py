"""Improved CEM (iCEM; Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time Planning", 2020).

CEM plus five changes, each behind its own config field so that they can be ablated one by one:

* **colored noise** (``noise_beta``): samples are mean + std · noise with noise whose power spectrum
  falls as 1/f^β along time (``noise.colored_noise``): smooth sequences that move consistently,
  where white noise (β = 0) jitters and cancels out;
* **population decay** (``population_decay`` γ): iteration i draws max(min(P, 2E), ⌊P · γ^−i⌋)
  fresh samples, since later iterations search a narrower region;
* **elite reuse** (``keep_elites_fraction`` ξ): the best round(ξ · E) elites of the previous
  iteration are evaluated again with the fresh samples (they may no longer be elites, and a
  stochastic objective scores them anew);
* **elite shifting** (``shift_elites``): the same number of the last call's final elites, moved
  forward in time by ``advance()`` like the warm start, join the first iteration of the next call
  (one that starts from the warm start, ``x0=None``);
* **mean at the last iteration** (``add_mean_at_last_iteration``): the current sampling mean is
  evaluated too, so a good mean found by smoothing is never lost to sampling noise;

and momentum ``alpha`` 0.1 by default. Kept and added sequences come on top of the fresh samples
(they count in ``OptimizerResult.evaluations``). With every switch off (β = 0, γ = 1, ξ = 0,
``shift_elites`` and ``add_mean_at_last_iteration`` false) iCEM draws exactly the random numbers CEM
draws and returns bit-identical plans for the same seed and settings.

Where it helps and where it does not (tests/test_optimizers.py, 2-D point mass, H = 30): reaching a
far goal, iCEM needs 245 evaluations where CEM needs 2000. Colored noise has little power at high
frequencies, though, so on objectives that reward each step separately (a quadratic around an
arbitrary, non-smooth (H=10, A=4) target) iCEM with β = 2 is far less precise than CEM (max-abs
error 0.47 vs 0.04 after 20 iterations); use β = 0–1 there. iCEM is also meant for a few
iterations: after ~8 the decayed population is 2 · elites and selection is weak.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from planners.optimizers.cem import CEMConfig, CEMOptimizer
from planners.optimizers.noise import colored_noise
from sim.plumbing.settings import knob

__all__ = ["ICEMConfig", "ICEMOptimizer"]


@dataclass
class ICEMConfig(CEMConfig):
    """Settings of an ``ICEMOptimizer``: those of ``CEMConfig`` (same meaning) plus iCEM's switches.

    Each field is declared once, with ``sim.plumbing.settings.knob``; the base's fields keep their bounds, with
    iCEM's wording in ``KNOB_DOCS`` and iCEM's default where it differs; ``conf/optimizer/icem.yaml`` is generated
    from it (``python -m robolearn.conf_files --write``).
    """

    #: the base's knobs (bounds and meaning as in CEMConfig) as iCEM's docs word them
    KNOB_DOCS: ClassVar[Mapping[str, str]] = {
        "population": "fresh action sequences sampled at the first iteration (count; later ones decay, see "
        "population_decay)",
        "iterations": "sample-and-refit rounds per optimize() call; one objective call each",
        "min_std": "floor of the std after each refit, fraction of the half-range",
        "alpha": "refit momentum: new = alpha·old + (1 − alpha)·elite mean/std (iCEM paper: 0.1)",
        "return_mean_of_elites": "plan = mean of the last iteration's elites (true) | best sample of the call (false)",
        "shift_fill": "what advance() puts in the freed tail of the warm start and kept elites: center (of the "
        "bounds) | last (repeat the last action)",
    }

    alpha: float = 0.1  # the iCEM paper's momentum (CEM's default is none)
    noise_beta: float = knob(
        2.0,
        "colored-noise exponent β: power spectrum ∝ 1/f^β along time (0 = white, CEM's sampling; paper: 2–3; "
        "beyond 10 every sample is the same slow wave, and from ~100 the noise is NaN)",
        lo=0.0,
        hi=10.0,
    )
    population_decay: float = knob(
        1.25,
        "γ: iteration i samples max(min(population, 2·elites), ⌊population·γ^−i⌋) (1 = off)",
        lo=1.0,
        hi=10.0,
    )
    keep_elites_fraction: float = knob(
        0.3,
        "fraction of the previous iteration's elites evaluated again with the new samples (0 = off)",
        lo=0.0,
        hi=1.0,
    )
    shift_elites: bool = knob(
        True,
        "also carry that many of the last call's elites, shifted by advance(), into the next call's first iteration",
    )
    add_mean_at_last_iteration: bool = knob(True, "evaluate the sampling mean along with the last iteration's samples")

    def __post_init__(self) -> None:
        super().__post_init__()
        self.noise_beta = float(self.noise_beta)
        self.population_decay = float(self.population_decay)
        self.keep_elites_fraction = float(self.keep_elites_fraction)

    @property
    def kept_elite_count(self) -> int:
        """Elites re-evaluated per iteration (and shifted across calls): round(keep_elites_fraction · elites)."""
        return round(self.keep_elites_fraction * self.elites)

    def population_at(self, iteration: int) -> int:
        """Fresh samples drawn at ``iteration`` (0-based), with population decay."""
        decayed = math.floor(self.population * self.population_decay**-iteration)
        return max(min(self.population, 2 * self.elites), decayed)


class ICEMOptimizer(CEMOptimizer):
    """iCEM; see the module docstring and ``TrajectoryOptimizer``.

    State beyond CEM's warm start: the latest elites (E, H, A), best first. ``advance()`` shifts them
    with the warm start and ``reset()`` drops them. A call given an explicit ``x0`` does not use them.
    """

    config_class = ICEMConfig
    config: ICEMConfig

    @property
    def kept_elites(self) -> Tensor | None:
        """(K, H, A) copy of the elites that the next iteration or call re-evaluates, or None.

        K = ``config.kept_elite_count``.
        """
        k = self.config.kept_elite_count
        return None if self._elites is None or k == 0 else self._elites[:k].clone()

    def _clear_state(self) -> None:
        self._elites: Tensor | None = None

    def _advance_state(self, steps: int) -> None:
        if self._elites is not None:
            self._elites = self._shift(self._elites, steps)

    def _population(self, iteration: int) -> int:
        return self.config.population_at(iteration)

    def _noise(self, n: int) -> Tensor:
        beta = self.config.noise_beta
        if beta == 0:  # white noise: exactly CEM's draws (not just the same distribution)
            return self._randn(n)
        noise = colored_noise((n, self.action_dim, self.horizon), beta, generator=self._generator, device=self.device)
        return noise.transpose(1, 2)  # (n, H, A): correlated along H, independent across actions

    def _extra_samples(self, iteration: int, mean: Tensor) -> Tensor | None:
        c = self.config
        extra = []
        # Kept elites come from the previous iteration, or at iteration 0 from the last call (shifted;
        # not when the caller gave x0, i.e. asked for a start independent of earlier calls).
        if self._elites is not None and c.kept_elite_count and (iteration > 0 or (c.shift_elites and self._warm)):
            extra.append(self._elites[: c.kept_elite_count])
        if c.add_mean_at_last_iteration and iteration == c.iterations - 1:
            extra.append(mean.unsqueeze(0))
        return torch.cat(extra) if extra else None

    def _remember_elites(self, elites: Tensor) -> None:
        self._elites = elites
