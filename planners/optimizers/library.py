"""Planning inside the data's support: candidates drawn from a library of recorded action sequences.

A sampling optimizer over a learned model finds the action sequences where the model is wrong in the
objective's favour (model exploitation); Gaussian or colored noise reaches sequences no training episode
resembles, where a video model's predictions are least trustworthy. This optimizer draws its candidates from
the action sequences of the offline data itself (the library the model was trained on), so every candidate is
one the model has seen the like of, as trajectory-library and behaviour-prior planners do (e.g. MBOP, Argenson
and Dulac-Arnold 2021, with a learned prior; here the data's own sequences):

* iteration 0 draws ``population`` windows of the library: episode e, steps t .. t + H − 1, where t is the
  agent's step in its episode (counted by ``advance()`` since ``reset()``) when ``align_time`` is on, so a
  candidate continues the data's episodes from the same point of an episode; steps past a recorded episode's
  end are the centre of the bounds (a planner scores nothing past its own episode's end either);
* the last call's best plan, moved forward by ``advance()``, joins iteration 0 (the plan is kept unless
  something better is found);
* each later iteration evaluates the ``elites`` best so far perturbed by small Gaussian noise
  (``refine_std``: a local search around sequences of the data, to fit this episode's start state) and
  ``fresh_fraction`` of new library windows;
* the plan is the best sequence evaluated (a mean of different recorded sequences would be none of them).

The library is a ``.npz`` file with ``actions`` (N, T, A) float32 and ``lengths`` (N,) int (steps recorded per
sequence), written by ``robolearn data export-actions DATA OUT.npz`` from a dataset.

Example:
    >>> opt = make_optimizer({"_target_": "planners.optimizers.library.LibraryConfig", "library": "actions.npz"},
    ...                      action_low=[-1] * 4, action_high=[1] * 4, horizon=20, seed=0)
"""

from __future__ import annotations

import functools
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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

__all__ = ["ActionLibrary", "LibraryConfig", "LibraryOptimizer", "load_action_library"]

#: how to make a library file, for the error messages
MAKE_LIBRARY = "write one from a dataset with `robolearn data export-actions DATA OUT.npz`"


@dataclass
class LibraryConfig:
    """Settings of a ``LibraryOptimizer``; validated on construction (``ValueError`` naming the field).

    Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/optimizer/library.yaml`` is generated
    from it (``python -m robolearn.conf_files --write``).
    """

    library: Any = knob(
        None,
        "the action library: a .npz of recorded action sequences (`robolearn data export-actions DATA OUT.npz`); "
        "required",
        any_type=True,  # a path (str or PathLike) or null; checked below
    )
    population: int = knob(200, "library windows drawn at the first iteration (count)", lo=1, hi=MAX_SAMPLES)
    elites: int = knob(
        20, "best sequences kept and refined after each iteration (count, ≤ population)", lo=1, hi=MAX_SAMPLES
    )
    iterations: int = knob(3, "rounds per optimize() call; one objective call each", lo=1, hi=MAX_ITERATIONS)
    refine_samples: int = knob(
        200,
        "sequences evaluated at each later iteration: perturbed elites and fresh windows (count)",
        lo=1,
        hi=MAX_SAMPLES,
    )
    refine_std: float = knob(
        0.1,
        "std of the Gaussian perturbation of the elites, fraction of the half-range (small: stay near the data)",
        lo=0.0,
        hi=MAX_STD,
    )
    fresh_fraction: float = knob(
        0.25, "share of each later iteration's sequences drawn fresh from the library", lo=0.0, hi=1.0
    )
    align_time: bool = knob(
        True,
        "draw windows that start at the agent's step in its episode (true) | at any step of a recorded sequence "
        "(false)",
    )
    shift_fill: str = knob(
        "center",
        "what advance() puts in the freed tail of the kept plan: center (of the bounds) | last (repeat the last action)",
        choices=FILLS,
    )

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_knobs(self, owner)
        if self.library is not None and not isinstance(self.library, (str, os.PathLike)):
            raise ValueError(f"{owner}.library must be a path to a .npz action library, got {self.library!r}")
        if self.elites > self.population:
            raise ValueError(
                f"{owner}.elites={self.elites} must be ≤ population={self.population}; lower elites or raise population"
            )
        self.refine_std = float(self.refine_std)
        self.fresh_fraction = float(self.fresh_fraction)


@dataclass(frozen=True)
class ActionLibrary:
    """Recorded action sequences: ``actions`` (N, T, A) float32, ``lengths`` (N,) int64 (valid steps of each)."""

    actions: Tensor
    lengths: Tensor


@functools.lru_cache(maxsize=4)
def load_action_library(path: str) -> ActionLibrary:
    """The library in ``path`` (read once per process: a bench worker plans many episodes with it).

    Raises:
        ValueError: the file is missing, unreadable, or its arrays have the wrong shapes or values.
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"action library {p}: no such file; {MAKE_LIBRARY}")
    try:
        with np.load(p, allow_pickle=False) as z:
            actions, lengths = np.asarray(z["actions"]), np.asarray(z["lengths"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(
            f"action library {p}: not a readable .npz with `actions` and `lengths` ({e}); {MAKE_LIBRARY}"
        ) from None
    if actions.ndim != 3 or lengths.shape != actions.shape[:1] or actions.shape[0] == 0:
        raise ValueError(
            f"action library {p}: `actions` must be (N, T, A) and `lengths` (N,) with N ≥ 1, got shapes "
            f"{actions.shape} and {lengths.shape}; {MAKE_LIBRARY}"
        )
    if not np.isfinite(actions).all() or (lengths < 1).any() or (lengths > actions.shape[1]).any():
        raise ValueError(f"action library {p}: non-finite actions or lengths outside 1..T; {MAKE_LIBRARY}")
    return ActionLibrary(torch.from_numpy(actions.astype(np.float32)), torch.from_numpy(lengths.astype(np.int64)))


class LibraryOptimizer(TrajectoryOptimizer):
    """Candidates from recorded action sequences, refined locally; see the module docstring."""

    config_class = LibraryConfig
    config: LibraryConfig

    def __init__(self, config: LibraryConfig, *args: Any, **kwargs: Any):
        if isinstance(config, LibraryConfig) and config.library is None:
            raise ValueError(
                f"LibraryOptimizer needs optimizer.library=FILE.npz (a library of action sequences); {MAKE_LIBRARY}"
            )
        self._step = 0  # the agent's step in its episode: advance() counts it
        super().__init__(config, *args, **kwargs)
        library = load_action_library(str(config.library))
        if library.actions.shape[-1] != self.action_dim:
            raise ValueError(
                f"action library {config.library}: its actions have {library.actions.shape[-1]} dimensions, the "
                f"planner's {self.action_dim}; export it from a dataset of this env"
            )
        self.library = library

    def _clear_state(self) -> None:
        self._step = 0

    def _advance_state(self, steps: int) -> None:
        self._step += steps  # the warm start (the last plan) is shifted by the base class

    def _windows(self, n: int) -> Tensor:
        """(n, H, A) library windows (clipped to the bounds), from the agent's step or a random one."""
        lib, h = self.library, self.horizon
        # drawn with the optimizer's generator (on its device); the library is indexed on the CPU, where it lives
        episodes = torch.randint(lib.actions.shape[0], (n,), generator=self._generator, device=self.device).cpu()
        lengths = lib.lengths[episodes]
        if self.config.align_time:
            starts = torch.full((n,), self._step, dtype=torch.int64)
        else:
            starts = (torch.rand(n, generator=self._generator, device=self.device).cpu() * lengths).long()
        steps = starts[:, None] + torch.arange(h)[None, :]  # (n, H)
        valid = steps < lengths[:, None]
        taken = lib.actions[episodes[:, None], steps.clamp(max=lib.actions.shape[1] - 1)]  # (n, H, A)
        windows = torch.where(valid[..., None], taken.to(self.device), self.center)
        return self._clip(windows)

    def _optimize(self, objective: Objective, mean: Tensor) -> OptimizerResult:
        c = self.config
        samples = self._windows(c.population)
        if not self._warm or self._mean is not None:  # the last plan (shifted by advance()) or an explicit x0
            samples = torch.cat([samples, mean.unsqueeze(0)])
        pool, pool_returns = samples[:0], torch.empty(0, dtype=torch.float64, device=self.device)
        history: list[float] = []
        for i in range(c.iterations):
            if i > 0:
                fresh = round(c.fresh_fraction * c.refine_samples)
                pick = torch.randint(
                    pool.shape[0], (c.refine_samples - fresh,), generator=self._generator, device=self.device
                )
                parents = pool[pick]
                noise = self._randn(parents.shape[0]) * (c.refine_std * self.half_range)
                samples = torch.cat([self._clip(parents + noise), self._windows(fresh)])
            returns = self._evaluate(objective, samples)
            pool = torch.cat([pool, samples])
            pool_returns = torch.cat([pool_returns, returns])
            top = pool_returns.topk(min(c.elites, pool.shape[0])).indices  # the best so far, best first
            pool, pool_returns = pool[top], pool_returns[top]
            history.append(float(pool_returns.mean()))
        best, value = pool[0].clone(), float(pool_returns[0])
        self._mean = best.clone()  # the warm start: kept as a candidate of the next call
        return OptimizerResult(actions=best, value=value, best_actions=best.clone(), best_value=value, history=history)
