"""Settings every trainer shares, declared once as knobs, and how a trainer's settings are built from its config.

* ``LoopSettings``: the options every trainer has (data and split, data aggregation, optimisation,
  validation, checkpoints, resources), each declared with ``sim.plumbing.settings.knob``: its default, doc
  and allowed values. A trainer's options class subclasses it (``TrainOptions``, ``DynamicsTrainOptions``,
  ``PolicyTrainOptions``; its ``conf/*.yaml`` is generated from it by ``robolearn.conf_files``), gives the
  defaults that differ between trainers (declared here without one) and rewords the docs that say more in
  it (``KNOB_DOCS``); its settings class adds the model group's config and the resolved ``raw`` config;
* ``trainer_settings``: a composed config → a trainer's validated settings (the model group through
  ``model_config``, the options through ``robolearn.conf_files.parse_options``), every problem a one-line
  ``ConfigError`` that names the key as it is typed (``steps=0 is out of range; use an integer ≥ 1``);
* ``model_config``: a Hydra group node → a validated model config dataclass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar, cast

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from robolearn.conf_files import parse_options
from robolearn.config import ConfigError, one_line
from sim.plumbing import checks
from sim.plumbing.files import check_writable
from sim.plumbing.settings import check_knobs, knob

__all__ = ["RESUME_NOTE", "LoopSettings", "model_config", "trainer_settings"]

#: what an error writing the run folder adds: the checkpoints written so far are kept
RESUME_NOTE = "the checkpoints written so far are kept: rerun the same command to resume from out/last.pt"

C = TypeVar("C", bound=checks.PlainConfig)
S = TypeVar("S", bound="LoopSettings")


@dataclass(frozen=True, kw_only=True)
class LoopSettings:
    """The options every trainer has; a trainer's options class subclasses it.

    Knobs declared with ``MISSING`` differ between trainers: each trainer's class gives its own default (a
    plain redeclaration, which keeps the knob). Keyword-only, so a subclass may add fields with or without
    defaults in any order.
    """

    data: Path = knob(Path("data/desk"), "dataset folder written by `robolearn collect`")
    out: Path = knob(
        MISSING, "run folder: last.pt, best.pt (by the validation metric), tb/ (TensorBoard), summary.json"
    )
    max_episodes: int | None = knob(
        None, "use only the first N episodes of the dataset (by index); null = all", lo=2, value_type=int
    )
    val_fraction: float = knob(
        0.1,
        "expected share of episodes held out for validation, split by episode hash",
        lo=0,
        hi=1,
        lo_open=True,
        hi_open=True,
    )
    seed: int = knob(0, "seed of the split, the model initialisation and the batches drawn", lo=0)
    init_from: Path | None = knob(
        None,
        "start a new run from this checkpoint's weights (fine-tuning; same model settings); ignored when "
        "out/last.pt exists",
        value_type=Path,
    )
    extra_data: tuple[Path, ...] = knob(
        (),
        "dataset folders, e.g. [runs/planned]; [] = the main data only",
        value_type=Path,
        section="Data aggregation: other datasets in the collect format (e.g. the planner's own episodes kept by "
        "`robolearn plan record=DIR`), split by episode hash like `data` and mixed into every batch "
        "(robolearn/training/mixing.py). Their held-out episodes are validated too.",
    )
    extra_fraction: float = knob(
        0.5,
        "share of each batch drawn from the extra data (ignored without extra_data); also the weight of its "
        "held-out metric in the validation that picks best.pt",
        lo=0,
        hi=1,
        lo_open=True,
        hi_open=True,
    )

    steps: int = knob(
        MISSING,
        "optimizer steps in total (a resumed run continues up to this number)",
        lo=1,
        section="Optimisation: AdamW with a linear learning-rate warm-up, then cosine decay to lr * min_lr_fraction "
        "at `steps`.",
    )
    batch_size: int = knob(MISSING, "items per step (count)", lo=2)
    lr: float = knob(MISSING, "AdamW peak learning rate", lo=0, lo_open=True)
    weight_decay: float = knob(MISSING, "AdamW decoupled weight decay", lo=0)
    warmup_steps: int = knob(
        200, "linear learning-rate warm-up (steps), then cosine decay to lr * min_lr_fraction at `steps`", lo=0
    )
    min_lr_fraction: float = knob(0.05, "final learning rate as a fraction of lr", lo=0, hi=1)
    grad_clip: float | None = knob(
        1.0, "clip the global gradient norm to this (null = no clipping)", lo=0, lo_open=True, nullable=True
    )

    eval_every: int = knob(
        MISSING,
        "validation every this many steps",
        lo=1,
        section="Validation, checkpoints and resources.",
    )
    checkpoint_every: int = knob(MISSING, "write out/last.pt every this many steps (and at the end)", lo=1)
    num_workers: int = knob(MISSING, "DataLoader worker processes (0 = load in the training process)", lo=0)
    torch_threads: int = knob(2, "intra-op threads of the training process (the machine's cores)", lo=1)
    max_minutes: float | None = knob(
        None,
        "stop after this much wall time (minutes), validate and checkpoint; null = no limit",
        lo=0,
        lo_open=True,
        value_type=float,
    )
    progress_bar: bool = knob(True, "show a tqdm progress bar with the loss")

    def __post_init__(self) -> None:
        check_knobs(self, "")
        if self.data in self.extra_data or len(set(self.extra_data)) != len(self.extra_data):
            raise ConfigError(
                f"extra_data={[str(p) for p in self.extra_data]} lists a folder twice or repeats data={self.data}"
            )


def trainer_settings(
    cls: type[S],
    options: type[LoopSettings],
    cfg: DictConfig | Mapping[str, Any],
    verb: str,
    group: str,
    model: Callable[[Any], Any],
) -> S:
    """A trainer's validated settings from its composed config; every problem is a one-line ``ConfigError``.

    Args:
        cls: the settings class: ``options`` plus the field ``group`` (the model's config) and ``raw``.
        options: the trainer's options class (its YAML's keys besides the group).
        cfg: the composed config (``compose_config("train", ...)``) or an equivalent mapping.
        verb: the command, as the unknown-key message names it (``train dynamics``).
        group: the model group's key (``reward``, ``dynamics``, ``policy``).
        model: the group's node → its validated model config (``model_config``).
    """
    raw = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    if not isinstance(raw, dict):
        raise ConfigError(f"a {verb} config must be a mapping, got {raw!r}")
    data: dict[str, Any] = {str(k): v for k, v in raw.items()}
    model_cfg = model(data.pop(group, None))  # checked first: its group's message names the group
    parsed = parse_options(options, data, verb)
    values: dict[str, Any] = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
    values["out"] = check_writable(values["out"], "out", folder=True)  # now, not at the first checkpoint
    return cls(**values, **{group: model_cfg, "raw": raw})


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
