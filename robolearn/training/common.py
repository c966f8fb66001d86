"""Pieces shared by the trainers (``train_reward``, ``train_dynamics``) and their evaluations.

* settings: ``LoopSettings`` (the fields every trainer has, validated by ``check_loop_settings``),
  ``settings_dict`` (a composed config → checked plain dict), ``check_number`` (one-line
  ``ConfigError``), ``model_config`` (a Hydra group node → a validated model config dataclass),
  ``lr_at`` (warm-up + cosine schedule);
* data: ``open_split`` (reader + the by-episode train/validation split), ``check_frame_shape``,
  ``dataset_identity``, ``needs_proprio`` (a video model that reads proprioception, and data that has
  it); ``held_out_episodes`` (an evaluation's view of a checkpoint's split);
* resume: ``split_differences`` and ``refuse_resume`` (refuse a resumed run with other settings),
  ``restore_rng``;
* randomness keyed by (seed, stream, step): ``keyed_generator``, so a resumed run draws what an
  uninterrupted one would.

The loop itself is ``robolearn.training.loop``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from robolearn.config import ConfigError, one_line

if TYPE_CHECKING:  # pragma: no cover
    from robolearn.data.reader import DatasetReader

__all__ = [
    "SPLIT_KEYS",
    "LoopSettings",
    "check_frame_shape",
    "check_loop_settings",
    "check_number",
    "dataset_identity",
    "held_out_episodes",
    "keyed_generator",
    "lr_at",
    "model_config",
    "needs_proprio",
    "open_split",
    "refuse_resume",
    "restore_rng",
    "settings_dict",
    "split_differences",
]

# Keys of a train config that define which episodes are held out: changing them on resume would put
# validation episodes into training (and make validation numbers meaningless), so a resume refuses.
SPLIT_KEYS = ("max_episodes", "val_fraction", "seed")
SECONDS_PER_MINUTE = 60.0


def check_number(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
    lo_open: bool = False,
    hi_open: bool = False,
) -> Any:
    """``value`` checked as a number in a range, else a one-line ``ConfigError`` naming ``name``."""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or (not integer and not math.isfinite(value)):
        raise ConfigError(f"{name}={value!r} must be {'an integer' if integer else 'a number'}")
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise ConfigError(f"{name}={value!r} must be {'>' if lo_open else '>='} {lo}")
    if hi is not None and (value >= hi if hi_open else value > hi):
        raise ConfigError(f"{name}={value!r} must be {'<' if hi_open else '<='} {hi}")
    return value


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


def check_loop_settings(s: Any) -> None:
    """The checks of the settings every trainer shares (split, schedule, loop, checkpoints, resources)."""
    n = check_number
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


def settings_dict(cfg: Any, cls: type, what: str) -> tuple[dict[str, Any], dict[str, Any]]:
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


def held_out_episodes(
    state: Mapping[str, Any], checkpoint: Path, data: Path | None, max_episodes: int | str, max_val_episodes: int | None
) -> tuple[Path, DatasetReader, list[int], dict[str, Any], dict[str, Any]]:
    """The validation split a checkpoint was trained with, for its evaluation.

    Args:
        state: the loaded checkpoint info (its ``extra.config`` is the training config).
        checkpoint: its path (for messages).
        data: the dataset folder, or None for the one the checkpoint was trained on.
        max_episodes: ``checkpoint`` (as in training), ``all``, or a count: the episodes the split is made over.
        max_val_episodes: keep at most this many held-out episodes (the first ones), None = all.

    Returns:
        (data folder, reader, held-out episode indices, training config, split) where split holds the
        ``max_episodes``, ``val_fraction`` and ``seed`` the split was made with.
    """
    from robolearn.data.loader import split_episodes
    from robolearn.data.reader import DatasetReader

    train_cfg = dict((state.get("extra") or {}).get("config") or {})
    if data is None and not train_cfg.get("data"):
        raise ConfigError(f"{checkpoint} does not record its training data; pass data=FOLDER")
    folder = data if data is not None else Path(train_cfg["data"])
    val_fraction, split_seed = float(train_cfg.get("val_fraction", 0.1)), int(train_cfg.get("seed", 0))
    limit = (
        train_cfg.get("max_episodes")
        if max_episodes == "checkpoint"
        else (None if max_episodes == "all" else max_episodes)
    )
    reader = DatasetReader(folder)
    _, val_eps = split_episodes(reader.indices()[:limit], val_fraction, split_seed)
    split = {"max_episodes": limit, "val_fraction": val_fraction, "seed": split_seed}
    return folder, reader, val_eps[:max_val_episodes], train_cfg, split


def model_config(node: Any, cls: type, group: str, default: str) -> Any:
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
    container = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    try:
        if "_target_" in container:
            from hydra.utils import instantiate

            cfg = instantiate(container, _convert_="all")
        else:
            cfg = cls.from_dict(container)
    except Exception as e:
        cause = e.__cause__ or e
        raise ConfigError(f"{group}: {one_line(str(cause))}") from None
    if not isinstance(cfg, cls):
        raise ConfigError(f"{group}: _target_ must build a {cls.__module__}.{cls.__name__}, got {type(cfg).__name__}")
    return cfg


def lr_at(step: int, s: Any) -> float:
    """Learning rate of optimizer step ``step`` (0-based): linear warm-up over ``s.warmup_steps``, then
    cosine decay to ``s.lr · s.min_lr_fraction`` at ``s.steps``."""
    if step < s.warmup_steps:
        return s.lr * (step + 1) / s.warmup_steps
    progress = min(1.0, (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps))
    floor = s.lr * s.min_lr_fraction
    return floor + (s.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def keyed_generator(seed: int, stream: int, step: int) -> torch.Generator:
    """A torch generator that depends only on (seed, stream, step): resume-safe per-step randomness."""
    g = torch.Generator()
    g.manual_seed(int(np.random.SeedSequence([seed, stream, step]).generate_state(1, np.uint64)[0] >> 1))
    return g


def init_weights(model: Any, path: Path, load: Any) -> Any:
    """``model`` with the weights (and buffers) of the checkpoint at ``path`` (``init_from``: fine-tuning).

    ``load(path, model=model)`` is the model kind's ``load_checkpoint``; a missing file or a checkpoint of
    another configuration is a one-line ``ConfigError`` naming ``init_from``.
    """
    from rewards.checkpoint import CheckpointError

    try:
        load(path, model=model)
    except (FileNotFoundError, CheckpointError) as e:
        raise ConfigError(f"init_from={path}: {one_line(str(e))}") from None
    return model


def open_split(
    data: Path, max_episodes: int | None, val_fraction: float, seed: int
) -> tuple[DatasetReader, list[int], list[int], list[int]]:
    """Open a dataset and split its first ``max_episodes`` episodes by episode hash.

    Returns:
        (reader, episodes, train, val).

    Raises:
        ConfigError: either split is empty. DatasetError: not a dataset.
    """
    from robolearn.data.loader import split_episodes
    from robolearn.data.reader import DatasetReader

    reader = DatasetReader(data)
    episodes = reader.indices()[:max_episodes]
    train_eps, val_eps = split_episodes(episodes, val_fraction, seed)
    if not train_eps or not val_eps:
        raise ConfigError(
            f"{data}: {len(episodes)} episodes give {len(train_eps)} training and {len(val_eps)} "
            f"validation episodes at val_fraction={val_fraction}; both must be non-empty"
        )
    return reader, episodes, train_eps, val_eps


def check_frame_shape(
    reader: DatasetReader, episode: int, image_size: int, channels: int, data: Path, fix_key: str
) -> None:
    """Refuse a dataset whose frames are not image_size × image_size × channels (``fix_key``: the setting
    to change)."""
    frame = reader.frames(episode, "rgb", 0)  # (H, W, C)
    want = (image_size, image_size, channels)
    if tuple(frame.shape) != want:
        raise ConfigError(
            f"{data} has {frame.shape[1]}×{frame.shape[0]}×{frame.shape[2]} frames but the model "
            f"expects {want[1]}×{want[0]}×{want[2]}; set {fix_key}={frame.shape[0]}"
        )


def dataset_identity(reader: DatasetReader) -> dict[str, Any]:
    """What identifies a dataset across moves/renames of its folder: its creation time and seed."""
    return {"created": reader.meta.get("created"), "seed": reader.meta.get("seed")}


def split_differences(
    state: Mapping[str, Any], raw: Mapping[str, Any], identity: Mapping[str, Any], keys: Sequence[str] = SPLIT_KEYS
) -> list[str]:
    """How a checkpoint's data split differs from this run's: ``key: saved != now`` lines.

    Args:
        state: the loaded checkpoint info (its ``extra`` holds ``config`` and ``dataset``).
        raw: this run's resolved config.
        identity: this run's ``dataset_identity``.
        keys: the config keys that define the split.
    """
    extra = state.get("extra") or {}
    saved = dict(extra.get("config") or {})
    out = [f"{k}: {saved.get(k)!r} != {raw.get(k)!r}" for k in keys if saved.get(k) != raw.get(k)]
    old_identity = extra.get("dataset")
    if old_identity is not None and old_identity != dict(identity):
        out.append(f"dataset: {old_identity} != {dict(identity)}")
    return out


def refuse_resume(path: Path, model_diffs: Sequence[str], split_diffs: Sequence[str]) -> None:
    """Raise a one-line ``ConfigError`` when a resumed run's model settings or data split differ from
    the checkpoint at ``path`` (``model_diffs`` / ``split_diffs``: ``key: saved != now`` lines)."""
    fix = f"use a new out= folder, or rerun with the settings stored in {path}"
    if model_diffs:
        raise ConfigError(
            f"{path} was trained with other model settings ({'; '.join(model_diffs)}) (checkpoint != this run); {fix}"
        )
    if split_diffs:
        raise ConfigError(
            f"{path} was trained on another data split ({'; '.join(split_diffs)}) "
            f"(checkpoint != this run); resuming would train on its validation episodes; {fix}"
        )


def restore_rng(extra: Mapping[str, Any]) -> None:
    """Restore the global torch RNG state saved in a checkpoint's ``extra`` (if any)."""
    if extra.get("torch_rng_state") is not None:
        torch.set_rng_state(torch.as_tensor(extra["torch_rng_state"], dtype=torch.uint8))


def needs_proprio(config: Any, reader: Any, data: Any, key: str = "dynamics.proprio_dim") -> bool:
    """Whether a model with ``config`` reads proprioception; raises ``ConfigError`` if the dataset lacks it.

    ``key`` is the config key of the model's ``proprio_dim`` named in the fix (``policy.proprio_dim``, ...).
    """
    if not config.proprio_dim:
        return False
    spec = (reader.meta.get("observations") or {}).get("proprio")
    if spec is None:
        raise ConfigError(
            f"{data} has no proprioception but the model conditions on it ({key}="
            f"{config.proprio_dim}); collect with env.obs_keys=[rgb,proprio], or set {key}=0"
        )
    size = int(spec["shape"][-1])
    if size != config.proprio_dim:
        raise ConfigError(
            f"{data} has {size}-D proprioception but the model expects {config.proprio_dim}; set {key}={size}"
        )
    return True
