"""Settings every trainer shares, validated into one-line ``ConfigError``s.

* ``LoopSettings``: the fields every trainer has (split, schedule, loop, checkpoints, resources), checked by
  ``check_loop_settings``; trainers subclass it with their model's config and their own fields;
* ``check_setting``: one numeric setting (``key=value must be ...``): ``sim.plumbing.checks.check_setting``,
  whose ``ValueError`` becomes a ``ConfigError`` here, the one place the trainers' settings are checked;
* ``settings_dict``: a composed config → checked plain dict; ``model_config``: a Hydra group node → a
  validated model config dataclass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from robolearn.config import ConfigError, one_line
from sim.plumbing import checks

__all__ = ["LoopSettings", "check_loop_settings", "check_setting", "model_config", "settings_dict"]

C = TypeVar("C", bound=checks.PlainConfig)
V = TypeVar("V")


def check_setting(
    name: str,
    value: V,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
) -> V:
    """``value`` checked as a number in a range, else a one-line ``ConfigError`` naming ``name``.

    The check is ``sim.plumbing.checks.check_setting`` (where every validator lives); trainers report bad
    settings as ``ConfigError`` (the CLI prints those as one line without a traceback), hence the wrap.
    """
    try:
        return checks.check_setting(name, value, lo, hi, integer, lo_open, hi_open)
    except ValueError as e:
        raise ConfigError(str(e)) from None


@dataclass(frozen=True, kw_only=True)
class LoopSettings:
    """The settings every trainer has (its YAML documents them); trainers subclass it with their model's
    config and their own fields (keyword-only, so a subclass may override any default)."""

    data: Path
    out: Path
    max_episodes: int | None = None
    val_fraction: float = 0.1
    seed: int = 0
    steps: int = 20000
    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    min_lr_fraction: float = 0.05
    grad_clip: float | None = 1.0
    eval_every: int = 500
    checkpoint_every: int = 1000
    num_workers: int = 2
    torch_threads: int = 2
    max_minutes: float | None = None
    progress_bar: bool = True
    extra_data: tuple[Path, ...] = ()  # other datasets mixed into every batch (``robolearn.training.mixing``)
    extra_fraction: float = 0.5
    raw: Mapping[str, Any] = field(default_factory=dict)  # the resolved config, recorded in checkpoints

    def __post_init__(self) -> None:
        check_loop_settings(self)


def check_loop_settings(s: LoopSettings) -> None:
    """The checks of the settings every trainer shares (split, schedule, loop, checkpoints, resources)."""
    n = check_setting
    if s.max_episodes is not None:
        n("max_episodes", s.max_episodes, 2, integer=True)
    n("val_fraction", s.val_fraction, 0, 1, lo_open=True, hi_open=True)
    n("seed", s.seed, 0, integer=True)
    n("steps", s.steps, 1, integer=True)
    n("batch_size", s.batch_size, 2, integer=True)
    n("lr", s.lr, 0, lo_open=True)
    n("weight_decay", s.weight_decay, 0)
    n("warmup_steps", s.warmup_steps, 0, integer=True)
    n("min_lr_fraction", s.min_lr_fraction, 0, 1)
    if s.grad_clip is not None:
        n("grad_clip", s.grad_clip, 0, lo_open=True)
    n("eval_every", s.eval_every, 1, integer=True)
    n("checkpoint_every", s.checkpoint_every, 1, integer=True)
    n("num_workers", s.num_workers, 0, integer=True)
    n("torch_threads", s.torch_threads, 1, integer=True)
    if s.max_minutes is not None:
        n("max_minutes", s.max_minutes, 0, lo_open=True)
    n("extra_fraction", s.extra_fraction, 0, 1, lo_open=True, hi_open=True)
    if s.data in s.extra_data or len(set(s.extra_data)) != len(s.extra_data):
        raise ConfigError(f"extra_data={[str(p) for p in s.extra_data]} lists a folder twice or repeats data={s.data}")


def settings_dict(cfg: DictConfig | Mapping[str, Any], cls: type, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A composed trainer config → (resolved raw dict, mutable copy), after refusing keys ``cls`` lacks
    and checking that ``data`` and ``out`` are folder paths (one-line ``ConfigError``s naming ``what``)."""
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    data: dict[str, Any] = {str(k): v for k, v in raw.items()}  # type: ignore[union-attr]
    known = {f for f in cls.__dataclass_fields__ if f != "raw"}  # type: ignore[attr-defined]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}")
    for key in ("data", "out"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(f"{key}={data.get(key)!r} must be a folder path")
    return raw, data  # type: ignore[return-value]


def model_config(node: DictConfig | Mapping[str, Any] | None, cls: type[C], group: str, default: str) -> C:
    """A config group's node → a validated ``cls`` instance (via its Hydra ``_target_`` when present).

    Args:
        node: the composed node (DictConfig or mapping), None when the group is missing.
        cls: the config dataclass (with ``from_dict``).
        group: the group's key (``reward``, ``dynamics``), used in messages.
        default: the group's default option, for the missing-group hint.

    Raises:
        ConfigError: a missing group, an unknown field or an invalid value (the dataclass' message).
    """
    if node is None:
        raise ConfigError(f"{group}: missing config group; add `- {group}: {default}` to the defaults list")
    container = cast(
        "dict[str, Any]", OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    )
    try:
        if "_target_" in container:
            cfg = instantiate(container, _convert_="all")
        else:
            cfg = cls.from_dict(container)
    except Exception as e:
        cause = e.__cause__ or e
        raise ConfigError(f"{group}: {one_line(str(cause))}") from None
    if not isinstance(cfg, cls):
        raise ConfigError(f"{group}: _target_ must build a {cls.__module__}.{cls.__name__}, got {type(cfg).__name__}")
    return cfg
