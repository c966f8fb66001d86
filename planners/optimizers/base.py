"""The interface every sampling trajectory optimizer implements, and what they share.

A trajectory optimizer searches action sequences ``(H, A)`` (horizon H, action dimension A) inside
box bounds for one that maximises a black-box ``Objective``, which scores a whole batch of
sequences ``(N, H, A) → (N,)`` in one call (a video model rolls all N futures out together and a
reward model scores them). Higher returns are better: planners maximise reward.

State and episodes: an optimizer keeps a *warm start* between calls (the sampling mean of the last
call, moved forward in time by ``advance()`` as the agent executes actions; iCEM also keeps elites).
``reset()`` clears all of it and reseeds the random generator from ``seed``, so every episode
starts exactly like a fresh optimizer — mbrl-lib's iCEM kept elites across episodes, a bug that
made results depend on the previous episode.

Bounds: samples are *clipped* to ``[action_low, action_high]``, not resampled. Rejection sampling of
a truncated normal costs unbounded time when the mean sits at a bound (half of every batch is
rejected there, and the mean sits there whenever the optimum does, e.g. full-speed moves), whereas
clipping costs one ``clamp`` and puts probability mass exactly on the bound, so a plan can reach an
optimum on the bound exactly. Means and elites are averages of clipped samples, so they stay in
bounds too.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import torch
from torch import Tensor

__all__ = [
    "FILLS",
    "Objective",
    "OptimizerResult",
    "TrajectoryOptimizer",
    "shift_sequences",
]

#: (N, H, A) action sequences → (N,) returns; higher is better
Objective = Callable[[Tensor], Tensor]

#: how ``advance()`` fills the freed tail of the warm start: the centre of the bounds, or the last action repeated
FILLS = ("center", "last")


# ----------------------------------------------------------------------------------- config checks
# The config dataclasses validate with sim.plumbing.checks: one-line ValueErrors naming the field,
# the bad value and what to use instead. Their knobs share these upper bounds: beyond them a plan's candidates
# ((samples, horizon, action) tensors and as many model rollouts) would not fit in memory or time.
#: the most action sequences sampled per iteration (population, elites, samples)
MAX_SAMPLES = 100_000
#: the most sample-and-refit rounds per optimize() call
MAX_ITERATIONS = 100
#: the largest std, as a fraction of the bounds' half-range (10: the samples are clipped to the bounds anyway)
MAX_STD = 10.0


# ------------------------------------------------------------------------------------------ result
@dataclass
class OptimizerResult:
    """What one ``optimize()`` call found.

    ``value`` and ``history`` are statistics of the returns the objective gave during the call; the
    returned plan is *not* scored again (that would cost an extra objective call). So ``value`` is the
    plan's own return only when the plan is a sample that was evaluated (CEM/iCEM with
    ``return_mean_of_elites=false``: the best sample); otherwise it is the mean return of the last
    iteration's elites (CEM/iCEM, whose plan is their mean) or the softmax-weighted mean return of
    the last iteration's samples (MPPI, whose plan is their weighted mean).
    """

    #: (H, A) the plan to execute, inside the bounds
    actions: Tensor
    #: estimate of the plan's return from this call's evaluations (see the class docstring)
    value: float
    #: (H, A) the best sample evaluated in this call
    best_actions: Tensor
    #: its return
    best_value: float
    #: per iteration, the statistic ``value`` reports (elite mean return, or MPPI's weighted mean)
    history: list[float] = field(default_factory=list)
    #: action sequences passed to the objective in this call (sum of the batch sizes)
    evaluations: int = 0


# ----------------------------------------------------------------------------------------- helpers
def shift_sequences(seq: Tensor, steps: int, fill: str, center: Tensor) -> Tensor:
    """Sequences ``(..., H, A)`` moved ``steps`` forward in time: step t becomes step t − steps.

    The freed last ``min(steps, H)`` steps get ``fill``: ``center`` (the bounds' centre, ``(A,)``) or
    ``last`` (each sequence's old last action, repeated).
    """
    horizon = seq.shape[-2]
    if steps <= 0:
        return seq.clone()
    keep = seq[..., steps:, :] if steps < horizon else seq[..., :0, :]
    if fill == "last":
        tail = seq[..., -1:, :]
    else:
        tail = center.to(seq).expand(*seq.shape[:-2], 1, seq.shape[-1])
    tail = tail.expand(*seq.shape[:-2], horizon - keep.shape[-2], seq.shape[-1])
    return torch.cat([keep, tail], dim=-2)


def _bounds(
    low: Sequence[float] | Tensor, high: Sequence[float] | Tensor, device: torch.device, owner: str
) -> tuple[Tensor, Tensor]:
    """The action bounds as float32 (A,) tensors, checked: 1-D, same shape, finite, low < high."""
    lo = torch.as_tensor(low, dtype=torch.float32, device=device).detach().clone()
    hi = torch.as_tensor(high, dtype=torch.float32, device=device).detach().clone()
    if lo.ndim != 1 or lo.shape != hi.shape or lo.numel() == 0:
        raise ValueError(
            f"{owner}: action_low and action_high must be 1-D with one entry per action dimension, "
            f"got shapes {tuple(lo.shape)} and {tuple(hi.shape)}"
        )
    if not (torch.isfinite(lo).all() and torch.isfinite(hi).all()):
        raise ValueError(f"{owner}: action bounds must be finite, got low={lo.tolist()} high={hi.tolist()}")
    bad = (lo >= hi).nonzero().flatten().tolist()
    if bad:
        raise ValueError(
            f"{owner}: action_low must be < action_high in every dimension; not so at index(es) {bad} "
            f"(low={lo.tolist()}, high={hi.tolist()})"
        )
    return lo, hi


# --------------------------------------------------------------------------------------- interface
class OptimizerConfig(Protocol):
    """What the base class reads of every optimizer's config dataclass (``config_class``)."""

    #: what advance() puts in the freed tail of the warm start: center | last
    shift_fill: str


class TrajectoryOptimizer(abc.ABC):
    """Maximises an ``Objective`` over action sequences ``(H, A)`` inside box bounds, by sampling.

    Args:
        config: the optimizer's config dataclass (``config_class``), validated on construction.
        action_low: (A,) lower bound of every action dimension.
        action_high: (A,) upper bound, > ``action_low`` everywhere.
        horizon: H, the number of time steps of a plan (≥ 1).
        seed: seeds the optimizer's own ``torch.Generator``: the same seed gives bit-identical plans
            (the global RNG is never touched). ``None`` draws a seed once from the OS; it is kept in
            ``self.seed`` so a run can be reproduced, and ``reset()`` reuses it.
        device: where samples are drawn and passed to the objective.

    Subclasses implement ``_optimize`` (and ``_clear_state`` / ``_advance_state`` for extra state).
    """

    #: the config dataclass this optimizer takes (exactly this type)
    config_class: ClassVar[type[OptimizerConfig]]

    def __init__(
        self,
        config: OptimizerConfig,
        action_low: Sequence[float] | Tensor,
        action_high: Sequence[float] | Tensor,
        horizon: int,
        *,
        seed: int | None = 0,
        device: str | torch.device = "cpu",
    ):
        name = type(self).__name__
        if type(config) is not self.config_class:
            raise TypeError(
                f"{name} needs a {self.config_class.__name__}, got {type(config).__name__}; "
                "make_optimizer(config, ...) builds the optimizer that a config names"
            )
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ValueError(f"{name}: horizon must be an integer ≥ 1 (time steps), got {horizon!r}")
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little") >> 1  # < 2**63: fits manual_seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"{name}: seed must be an integer ≥ 0 or None, got {seed!r}")
        self.config = config
        self.device = torch.device(device)
        self.action_low, self.action_high = _bounds(action_low, action_high, self.device, name)
        self.horizon = horizon
        self.action_dim = int(self.action_low.numel())
        self.seed = seed
        #: (A,) the centre of the bounds: the default initial mean
        self.center = (self.action_low + self.action_high) / 2
        #: (A,) half the width of the bounds: the unit of the configs' std fractions
        self.half_range = (self.action_high - self.action_low) / 2
        self._generator = torch.Generator(device=self.device)
        self._mean: Tensor | None = None
        self._evaluations = 0
        self._warm = True
        self.reset()

    # ---------------------------------------------------------------------------------- public
    def reset(self) -> None:
        """Forget everything from previous calls: the warm start, any kept elites and noise state,
        and reseed the generator from ``seed``. The next episode then runs exactly like one of a
        fresh optimizer built with the same arguments."""
        self._generator.manual_seed(self.seed)
        self._mean = None
        self._clear_state()

    def optimize(self, objective: Objective, x0: Tensor | None = None) -> OptimizerResult:
        """Search for the action sequence with the highest return.

        Args:
            objective: (N, H, A) sequences → (N,) finite returns, higher is better. It is called
                once per iteration with that iteration's whole batch, under ``torch.no_grad()``.
            x0: (H, A) initial sampling mean (clipped into the bounds); the call then uses no state of
                earlier calls (neither their warm start nor iCEM's carried elites). ``None``: the warm
                start kept from the last call (moved by ``advance()``), or the centre of the bounds if
                there is none.

        Returns:
            The plan and statistics of the search (``OptimizerResult``).

        Raises:
            ValueError: ``x0`` has the wrong shape or non-finite entries; the objective returned the
                wrong shape or non-finite values.
        """
        if x0 is None:
            mean = self._mean.clone() if self._mean is not None else self.center.expand(self.horizon, -1).clone()
        else:
            x0 = torch.as_tensor(x0)
            if tuple(x0.shape) != (self.horizon, self.action_dim):
                raise ValueError(
                    f"{type(self).__name__}: x0 must have shape (horizon, action_dim) = "
                    f"({self.horizon}, {self.action_dim}), got {tuple(x0.shape)}"
                )
            if not torch.isfinite(x0).all():
                raise ValueError(f"{type(self).__name__}: x0 has non-finite entries")
            mean = self._clip(x0.detach().to(self.device, torch.float32))
        self._evaluations = 0
        self._warm = x0 is None  # whether this call may use what earlier calls left (iCEM's elites)
        with torch.no_grad():
            result = self._optimize(objective, mean)
        result.evaluations = self._evaluations
        return result

    def advance(self, steps: int = 1) -> None:
        """The agent executed the first ``steps`` actions of the last plan: move the warm start (and
        any kept elites) ``steps`` forward in time, filling the freed tail with ``config.shift_fill``."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"{type(self).__name__}.advance: steps must be an integer ≥ 0, got {steps!r}")
        if self._mean is not None:
            self._mean = self._shift(self._mean, steps)
        self._advance_state(steps)

    @property
    def warm_start(self) -> Tensor | None:
        """(H, A) copy of the mean the next ``optimize(objective)`` starts from, or ``None`` (centre)."""
        return None if self._mean is None else self._mean.clone()

    # --------------------------------------------------------------------------------- for subclasses
    @abc.abstractmethod
    def _optimize(self, objective: Objective, mean: Tensor) -> OptimizerResult:
        """Run the iterations from the (H, A) mean; set ``self._mean`` to the warm start to keep."""

    def _clear_state(self) -> None:
        """Clear subclass state (called by ``reset()``)."""

    def _advance_state(self, steps: int) -> None:
        """Shift subclass state in time (called by ``advance()``)."""

    def _shift(self, seq: Tensor, steps: int) -> Tensor:
        return shift_sequences(seq, steps, self.config.shift_fill, self.center)

    def _clip(self, x: Tensor) -> Tensor:
        return torch.maximum(torch.minimum(x, self.action_high), self.action_low)

    def _randn(self, n: int) -> Tensor:
        """(n, H, A) standard normal noise from the optimizer's generator."""
        return torch.randn((n, self.horizon, self.action_dim), generator=self._generator, device=self.device)

    def _evaluate(self, objective: Objective, samples: Tensor) -> Tensor:
        """The objective's (N,) returns for (N, H, A) samples, checked, as float64 (N,).

        float64 so that bookkeeping (MPPI's exponentials, elite means of huge returns) loses nothing.
        """
        n = samples.shape[0]
        returns = objective(samples)
        name = type(self).__name__
        if not isinstance(returns, Tensor):
            try:
                returns = torch.as_tensor(returns)
            except (TypeError, ValueError, RuntimeError):
                raise ValueError(
                    f"{name}: the objective must return a tensor of shape ({n},), got {type(returns).__name__}"
                ) from None
        if tuple(returns.shape) != (n,):
            raise ValueError(
                f"{name}: the objective returned shape {tuple(returns.shape)} for {n} action "
                f"sequences of shape {tuple(samples.shape[1:])}; it must return one value per "
                f"sequence, shape ({n},)"
            )
        returns = returns.detach().to(self.device, torch.float64)
        if not torch.isfinite(returns).all():
            bad = int((~torch.isfinite(returns)).sum())
            raise ValueError(
                f"{name}: the objective returned {bad} non-finite value(s) (NaN/inf) among shape "
                f"({n},); return a large finite penalty for infeasible sequences instead"
            )
        self._evaluations += n
        return returns
