"""Build an optimizer from its name, its config dataclass, or a Hydra node (``conf/optimizer/*.yaml``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from planners.optimizers.base import OptimizerConfig, TrajectoryOptimizer
from planners.optimizers.cem import CEMOptimizer
from planners.optimizers.icem import ICEMOptimizer
from planners.optimizers.library import LibraryOptimizer
from planners.optimizers.mppi import MPPIOptimizer

__all__ = ["OPTIMIZERS", "make_optimizer", "optimizer_config"]

#: name → optimizer class; each class names its config dataclass in ``config_class``
OPTIMIZERS: dict[str, type[TrajectoryOptimizer]] = {
    "cem": CEMOptimizer,
    "icem": ICEMOptimizer,
    "mppi": MPPIOptimizer,
    "library": LibraryOptimizer,
}
_BY_CONFIG = {cls.config_class: cls for cls in OPTIMIZERS.values()}


def _choices() -> str:
    return ", ".join(
        f"{name} ({cls.config_class.__module__}.{cls.config_class.__name__})" for name, cls in OPTIMIZERS.items()
    )


def optimizer_config(cfg: Any) -> OptimizerConfig:
    """The validated config dataclass that ``cfg`` describes.

    Args:
        cfg: a config dataclass (returned as is); a name from ``OPTIMIZERS`` (its defaults); or a
            mapping / OmegaConf node with ``_target_`` naming a config dataclass, as the files in
            ``conf/optimizer/`` have, instantiated with ``hydra.utils.instantiate``.

    Raises:
        ValueError: an unknown name or target (the message lists the choices), or an invalid value.
    """
    if type(cfg) in _BY_CONFIG:
        return cfg
    if isinstance(cfg, str):
        if cfg not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {cfg!r}; choose one of {' | '.join(OPTIMIZERS)}")
        return OPTIMIZERS[cfg].config_class()
    from omegaconf import DictConfig  # on use: only config nodes need OmegaConf

    if not isinstance(cfg, (Mapping, DictConfig)) or "_target_" not in cfg:
        raise ValueError(
            f"an optimizer config must be a name, a config dataclass or a mapping with _target_; "
            f"got {type(cfg).__name__}. Choices: {_choices()}"
        )
    from hydra.errors import InstantiationException  # on use: only _target_ nodes need Hydra (slow to import)
    from hydra.utils import instantiate  # on use: as above

    target = cfg["_target_"]
    try:
        config = instantiate(cfg)
    except InstantiationException as e:
        cause = e.__cause__
        if isinstance(cause, ValueError):  # a config's own __post_init__ message: already one clear line
            raise cause from None
        if isinstance(cause, TypeError):  # e.g. a misspelled key: unexpected keyword argument
            raise ValueError(f"optimizer config {target}: {cause}") from None
        raise ValueError(f"unknown optimizer config _target_ {target!r}; choose one of {_choices()}") from None
    if type(config) not in _BY_CONFIG:
        raise ValueError(f"_target_ {target!r} is not an optimizer config; choose one of {_choices()}")
    return config


def make_optimizer(
    cfg: Any,
    action_low: Sequence[float] | Tensor,
    action_high: Sequence[float] | Tensor,
    horizon: int,
    *,
    seed: int | None = 0,
    device: str | torch.device = "cpu",
) -> TrajectoryOptimizer:
    """The optimizer that ``cfg`` names (see ``optimizer_config``), for these bounds and horizon.

    Example:
        >>> from omegaconf import OmegaConf
        >>> opt = make_optimizer(OmegaConf.load("conf/optimizer/icem.yaml"), [-1] * 4, [1] * 4, horizon=10)
        >>> opt = make_optimizer("mppi", [-1] * 4, [1] * 4, horizon=10, seed=3)
    """
    config = optimizer_config(cfg)
    return _BY_CONFIG[type(config)](config, action_low, action_high, horizon, seed=seed, device=device)
