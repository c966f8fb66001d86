"""The options of ``robolearn eval`` (``conf/eval.yaml`` is generated from ``EvalOptions``), for both evaluations.

One file serves both: ``robolearn eval`` evaluates a reward checkpoint (``robolearn.training.eval_reward``) or a
video-model checkpoint (``robolearn.training.eval_dynamics``), told apart by the checkpoint file's format. The
top-level keys are the reward's (a video evaluation reads the shared ones: ``checkpoint``, ``data``, ``out``,
``max_episodes``, ``max_val_episodes``, ``torch_threads``, ``progress_bar``), the ``video`` node the video
model's. Each evaluation checks the keys it reads (``eval_options``) and ignores the others, as it always did.

Light: imports neither torch nor the simulator (``robolearn.conf_files`` renders the file from here).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import MISSING as MANDATORY
from omegaconf import DictConfig, MissingMandatoryValue, OmegaConf

from robolearn.conf_files import parse_options
from robolearn.config import ConfigError
from sim.plumbing.files import check_writable
from sim.plumbing.settings import check_knobs, knob

__all__ = [
    "MAX_EPISODES_WORDS",
    "REWARD_ONLY_KEYS",
    "SAMPLES",
    "EvalOptions",
    "VideoEvalOptions",
    "eval_options",
    "report_dir",
]

#: the words ``max_episodes`` takes besides a count: the split of training, or every episode
MAX_EPISODES_WORDS = ("checkpoint", "all")
#: the fewest episodes a split is made over (as ``max_episodes`` of training)
MIN_EPISODES = 2
#: how a stochastic video model predicts: its prior's mean, or a draw from the prior
SAMPLES = ("mean", "sample")
#: the top-level keys only a reward's evaluation reads (a video evaluation ignores them)
REWARD_ONLY_KEYS = (
    "instructions",
    "freeform",
    "phrasings",
    "max_negatives",
    "threshold",
    "phrasing_seed",
    "batch_size",
)


@dataclass(frozen=True)
class VideoEvalOptions:
    """The ``video`` node of ``conf/eval.yaml``: how a video-model checkpoint is evaluated."""

    horizon: int | None = knob(
        None, "predicted steps per held-out clip; null = the training horizon", lo=1, value_type=int
    )
    clips_per_episode: int = knob(1, "clips per held-out episode, each from a random start (count)", lo=1)
    change_threshold: float = knob(
        0.0314,
        'a pixel "changed" when a channel differs from the last context frame by more, on [0, 1] pixels (8/255: '
        '8 grey levels): "PSNR changed" covers those pixels',
        lo=0,
        hi=1,
        hi_open=True,
    )
    sample: str = knob(
        "mean",
        "stochastic models: mean = the prior's mean (deterministic) | sample = a draw from the prior",
        choices=SAMPLES,
    )
    seed: int = knob(0, "seed of the clip starts (and of sampled latents)", lo=0)
    batch_size: int = knob(
        64, "held-out clips per prediction batch (each clip decodes `horizon` frames; bounds memory)", lo=1
    )

    def __post_init__(self) -> None:
        check_knobs(self, "video")


@dataclass(frozen=True)
class EvalOptions:
    """The options of ``robolearn eval`` (``conf/eval.yaml`` is generated from this class)."""

    checkpoint: str = knob(
        MANDATORY,  # OmegaConf's "???": a value the user must give
        "checkpoint (.pt) to evaluate: a reward's from `robolearn train`, or a video model's from `robolearn train "
        "dynamics` (required)",
    )
    data: Path | None = knob(None, "dataset folder; null = the one the checkpoint was trained on", value_type=Path)
    out: Path | None = knob(
        None, "folder for eval_<checkpoint>.json/.csv; null = the checkpoint's folder", value_type=Path
    )
    max_episodes: int | str = knob(
        MAX_EPISODES_WORDS[0],
        "episodes the split is made over: `checkpoint` (as in training), `all`, or a count",
        any_type=True,  # a word or an integer, checked below
    )
    max_val_episodes: int | None = knob(
        None,
        "evaluate at most this many held-out episodes (the first ones); null = all (a reward needs 2: a positive "
        "and a negative)",
        lo=1,
        value_type=int,
    )
    instructions: Path | None = knob(
        None,
        "your own phrasings: a YAML/JSON mapping instruction → task name, reported as an extra column",
        value_type=Path,
    )
    freeform: str | None = knob(
        "default",
        "free-form paraphrases: `default` = conf/instructions/freeform.yaml, a file (same format), or null to skip",
        any_type=True,  # `default` or a path, checked below
    )
    phrasings: int = knob(
        3, "distinct phrasings per task and rephrasing category (seen, unseen verb, ...), scores averaged", lo=1
    )
    max_negatives: int | None = knob(
        None,
        "score at most this many random negatives per task (hard negatives always all); null = all",
        lo=1,
        value_type=int,
    )
    threshold: float = knob(
        0.5,
        'probability above which a pair counts as "instruction done" for accuracy',
        lo=0,
        hi=1,
        lo_open=True,
        hi_open=True,
    )
    phrasing_seed: int = knob(0, "seed of the drawn phrasings and the negative subsample", lo=0)
    batch_size: int = knob(512, "pairs per forward pass", lo=1)
    torch_threads: int = knob(2, "intra-op threads", lo=1)
    progress_bar: bool = knob(True, "show a progress bar over tasks (over clips for a video model)")
    video: VideoEvalOptions = knob(
        VideoEvalOptions(),
        "Video-model checkpoints (from `robolearn train dynamics`; told apart by the file's format) only. They are "
        "scored on held-out clips: PSNR and SSIM per horizon step against copying the last frame. The reward-only "
        f"keys above ({', '.join(REWARD_ONLY_KEYS)}) do not apply to them; reward checkpoints ignore this node.",
    )

    def __post_init__(self) -> None:
        check_knobs(self, "")
        me = self.max_episodes
        if not (me in MAX_EPISODES_WORDS or (isinstance(me, int) and not isinstance(me, bool) and me >= MIN_EPISODES)):
            raise ConfigError(f"max_episodes={me!r} must be `checkpoint`, `all` or an integer ≥ {MIN_EPISODES}")
        if self.freeform is not None and (not isinstance(self.freeform, str) or not self.freeform):
            raise ConfigError(f"freeform={self.freeform!r} must be `default`, a path or null")


def eval_options(cfg: DictConfig | Mapping[str, Any], ignore: Collection[str], example: str) -> EvalOptions:
    """The validated options of a composed ``eval`` config, less the keys ``ignore`` (those the evaluation does not
    read keep their defaults); every problem is a one-line ``ConfigError``.

    Args:
        cfg: the composed config (``compose_config("eval", ...)``) or an equivalent mapping.
        ignore: top-level keys this evaluation does not read (``video`` for a reward, ``REWARD_ONLY_KEYS`` for a
            video model).
        example: a checkpoint path for the message when ``checkpoint`` is missing.
    """
    required = f"checkpoint=PATH is required, e.g. checkpoint={example}"
    if isinstance(cfg, DictConfig):
        try:
            raw = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        except MissingMandatoryValue:
            raise ConfigError(required) from None
    else:
        raw = dict(cfg)
    if not isinstance(raw, dict):
        raise ConfigError(f"an eval config must be a mapping, got {raw!r}")
    options = parse_options(EvalOptions, {str(k): v for k, v in raw.items() if k not in ignore}, "eval")
    if options.checkpoint in ("", MANDATORY):
        raise ConfigError(required)
    check_writable(report_dir(options.out, Path(options.checkpoint)), "out", folder=True)  # before the model loads
    return options


def report_dir(out: Path | None, checkpoint: Path) -> Path:
    """The folder an evaluation writes its report to: ``out``, or the checkpoint's folder when it is null."""
    return out if out is not None else checkpoint.parent
