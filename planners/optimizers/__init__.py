"""Sampling trajectory optimizers for visual MPC: CEM, iCEM and MPPI behind one interface.

All maximise an ``Objective`` (N, H, A) action sequences → (N,) returns, called once per iteration
with the whole batch, keep a warm start between calls that ``advance(steps)`` moves forward in time,
and forget everything on ``reset()``. Build one from a Hydra config in ``conf/optimizer/`` with
``make_optimizer``.

Modules:
  - ``base``: ``TrajectoryOptimizer`` (the interface), ``OptimizerResult``, ``Objective``;
  - ``cem``: ``CEMConfig``, ``CEMOptimizer`` (returns the mean of the last elites by default);
  - ``icem``: ``ICEMConfig``, ``ICEMOptimizer`` (colored noise, population decay, elite reuse and
    shifting, mean at the last iteration; each switchable);
  - ``library``: ``LibraryConfig``, ``LibraryOptimizer`` (candidates from recorded action sequences, refined
    locally: planning inside the data's support);
  - ``mppi``: ``MPPIConfig``, ``MPPIOptimizer`` (softmax weights with the best return subtracted);
  - ``noise``: ``colored_noise`` (PSD ∝ 1/f^β) and ``autoregressive_noise`` (AR(1)), unit variance per step;
  - ``factory``: ``make_optimizer``, ``optimizer_config``, ``OPTIMIZERS``.

Example:
    >>> opt = make_optimizer("icem", action_low=[-1] * 4, action_high=[1] * 4, horizon=10, seed=0)
    >>> plan = opt.optimize(objective).actions      # (10, 4); execute plan[0]
    >>> opt.advance(1)                              # then replan from the shifted warm start
    >>> opt.reset()                                 # between episodes
"""

from planners.optimizers.base import FILLS, Objective, OptimizerResult, TrajectoryOptimizer, shift_sequences
from planners.optimizers.cem import CEMConfig, CEMOptimizer
from planners.optimizers.factory import OPTIMIZERS, make_optimizer, optimizer_config
from planners.optimizers.icem import ICEMConfig, ICEMOptimizer
from planners.optimizers.library import ActionLibrary, LibraryConfig, LibraryOptimizer, load_action_library
from planners.optimizers.mppi import MPPIConfig, MPPIOptimizer, mppi_weights
from planners.optimizers.noise import autoregressive_noise, colored_noise

__all__ = [
    "FILLS",
    "OPTIMIZERS",
    "ActionLibrary",
    "CEMConfig",
    "CEMOptimizer",
    "ICEMConfig",
    "ICEMOptimizer",
    "LibraryConfig",
    "LibraryOptimizer",
    "MPPIConfig",
    "MPPIOptimizer",
    "Objective",
    "OptimizerResult",
    "TrajectoryOptimizer",
    "autoregressive_noise",
    "colored_noise",
    "load_action_library",
    "make_optimizer",
    "mppi_weights",
    "optimizer_config",
    "shift_sequences",
]
