"""``robolearn train dynamics``: train an action-conditioned video-prediction model, resumably.

What one run does (``DynamicsTrainOptions`` declares every option, with its default, doc and range;
``conf/train_dynamics.yaml`` is generated from it):

1. split the dataset's episodes into train / validation by episode hash (``split_episodes``);
2. draw clips of ``context_frames + horizon`` frames and their actions (``ClipDataset``), batch ``s``
   keyed by (seed, s) (``StepSampler``); with ``extra_data``, a share ``extra_fraction`` of the clips
   comes from other datasets, e.g. the planner's own recorded episodes (``robolearn.training.mixing``);
3. roll the model out ``horizon`` steps from each clip's context under the clip's actions (multi-step:
   the model sees its own predictions, as when planning), decode every step, and minimise the L1 or
   L2 pixel error — weighted up on the pixels that change w.r.t. the last context frame — plus, for a
   stochastic model, ``kl_weight`` · KL(posterior ‖ prior), for a model that reads proprioception its
   prediction error, and for a model with an object-state head (``dynamics.object_state_dim``) the error of
   the objects' predicted changes (``object_state_weight``); AdamW, linear warm-up, cosine decay;
   optionally the horizon itself is warmed up (``horizon_warmup_steps``);
4. every ``eval_every`` steps, predict a fixed set of held-out clips as a planner would (prior mean):
   loss, PSNR, SSIM, PSNR on changed pixels, and the same for copying the last frame; TensorBoard
   scalars go to ``out/tb``;
5. write ``out/last.pt`` every ``checkpoint_every`` steps and at the end, and ``out/best.pt`` whenever
   the validation loss improves. Checkpoints are atomic and record the model config, the training
   config, the dataset identity, the step, the optimizer and the RNG state.

Rerunning the same command resumes from ``out/last.pt``; a run whose model settings, horizon or data
split differ from the checkpoint's is refused (``ConfigError``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from omegaconf import DictConfig
from rich.console import Console
from torch import Tensor
from torch.utils.data import Dataset

from planners.video.checkpoint import load_checkpoint, save_checkpoint
from planners.video.config import RUNTIME_FIELDS, VideoConfig
from planners.video.metrics import changed_mask
from planners.video.model import VideoModel, to_unit_float
from robolearn.config import ConfigError
from robolearn.data.loader import OBJECT_STATES, PROPRIO, ClipDataset, SampleKey
from robolearn.data.metadata import DatasetError
from robolearn.training.datasets import needs_proprio
from robolearn.training.eval_dynamics import clip_metrics, evaluate_clips
from robolearn.training.loop import BEST, LAST, SUMMARY, TrainLoop, start_run, step_loader
from robolearn.training.mixing import draw_source, extra_report, mix_differences, mix_validation, open_extra
from robolearn.training.randomness import keyed_generator
from robolearn.training.resume import init_weights, refuse_resume, split_differences
from robolearn.training.settings import RESUME_NOTE, LoopSettings, model_config, trainer_settings
from sim.plumbing.checks import config_differences
from sim.plumbing.files import output_keys, write_json_atomic
from sim.plumbing.settings import knob

if TYPE_CHECKING:  # pragma: no cover
    from planners.video.config import VideoConfig
    from planners.video.model import VideoModel
    from robolearn.data.loader import ClipDataset, SampleKey
    from robolearn.data.reader import DatasetReader

__all__ = [
    "LOSSES",
    "DynamicsTrainOptions",
    "DynamicsTrainSettings",
    "dynamics_config",
    "horizon_at",
    "pixel_loss",
    "run_train_dynamics",
]

LOSSES = ("l1", "l2")
# Training keys besides the split and the data mix that a resumed run must share: the clip length
# decides what was learned.
RESUME_KEYS = ("horizon",)
VAL_EPOCH = 2**31 - 1  # SampleKey epoch of the fixed validation clips (training steps never reach it)
NOISE_STREAM = 0x5EED  # rng stream of the stochastic model's posterior noise: generator from (seed, stream, step)
VAL_BATCH = 64  # validation clips per forward pass (bounds memory)
PROPRIO_STATS_EPISODES = 2000  # training episodes whose proprioception sets the model's normalisation (evenly spaced)
PROPRIO_STD_FLOOR = 1e-3  # floor of a proprioception dimension's std (a constant joint must not divide by ~0)
# floor of an object-state dimension's spread of changes (metres or joint units: an object no episode of the
# statistics moved must not divide by ~0)
OBJECT_SCALE_FLOOR = 1e-3


# ------------------------------------------------------------------------------------------ settings
@dataclass(frozen=True, kw_only=True)
class DynamicsTrainOptions(LoopSettings):
    """The options of ``robolearn train dynamics`` (``conf/train_dynamics.yaml`` is generated from this class):
    the trainers' shared ones (``LoopSettings``) with this trainer's defaults, the clips and the loss."""

    KNOB_DOCS: ClassVar[Mapping[str, str]] = {
        "out": "run folder: last.pt, best.pt (by validation loss), tb/ (TensorBoard), summary.json",
        "seed": "seed of the split, the model initialisation, the clips drawn and the latent noise",
        "init_from": "start a new run from this video-model checkpoint's weights and normalisation (fine-tuning; "
        "same dynamics.* settings); ignored when out/last.pt exists",
        "extra_fraction": "with extra_data: share of each batch's clips drawn from it; also the weight of its "
        "held-out loss in the validation loss that picks best.pt",
        "batch_size": "clips per step (count)",
        "eval_every": "validation (loss, PSNR vs copy-last-frame on fixed held-out clips) every this many steps",
        "num_workers": "DataLoader worker processes (0 = load in the training process); one keeps up on 2 cores",
        "progress_bar": "show a tqdm progress bar with loss and PSNR",
    }

    out: Path = Path("runs/video")
    steps: int = 6000
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.0
    eval_every: int = 500
    checkpoint_every: int = 500
    num_workers: int = 1
    val_clips: int = knob(256, "validation clips, fixed: drawn once from the held-out episodes", lo=1)
    horizon: int = knob(
        10,
        "predicted steps per training clip (clips of context_frames + horizon frames; episodes must be that long)",
        lo=1,
        section="Clips: the model rolls out `horizon` steps from a clip's context_frames under the clip's actions "
        "and is scored on every predicted frame.",
    )
    horizon_warmup_steps: int = knob(
        0,
        "grow the trained horizon linearly from 1 to `horizon` over this many steps (0 = full horizon from the start)",
        lo=0,
    )
    loss: str = knob(
        "l2",
        "per-pixel error: l2 = squared | l1 = absolute (on [0, 1] pixels); l2 optimises PSNR and learned far better "
        "on the tests' moving-square task (held-out +3.4 dB over copy-last vs below it with l1)",
        choices=LOSSES,
        section="The loss: pixel error of every predicted frame (+ KL for a stochastic model, + the proprioception "
        "error for a model that reads it).",
    )
    changed_weight: float = knob(
        4.0,
        "extra loss weight of pixels that differ from the last context frame (the arm, moved objects): weight "
        "1 + changed_weight there",
        lo=0,
    )
    change_threshold: float = knob(
        0.0314,
        'a pixel "changed" when a channel differs from the last context frame by more than this, on [0, 1] '
        "pixels (8/255: 8 grey levels)",
        lo=0,
        hi=1,
        hi_open=True,
    )
    proprio_weight: float = knob(
        1.0,
        "models with dynamics.proprio_dim > 0: weight of the proprioception MLP's mean squared error (in std units "
        "of the data, over every predicted step)",
        lo=0,
    )
    kl_weight: float = knob(
        1.0,
        "stochastic only: weight of KL(posterior ‖ prior), in nats summed over the latent variable per pixel value "
        "(C·H·W) of a frame",
        lo=0,
    )
    object_state_weight: float = knob(
        0.01,
        "models with dynamics.object_state_dim > 0: weight of the object-state head's mean squared error (changes "
        "since the last context frame in units of the data's spread of them, over every predicted step; 1 when "
        "predicting no change). 0.01 keeps it below the pixel loss (~0.009 for the shipped model), so the frames "
        "stay the objective and the head shapes the latent",
        lo=0,
    )


@dataclass(frozen=True, kw_only=True)
class DynamicsTrainSettings(DynamicsTrainOptions):
    """A validated ``conf/train_dynamics.yaml``: its options (``DynamicsTrainOptions``, whose knobs document every
    field), the ``dynamics`` group's model config and the resolved config (``raw``, recorded in checkpoints)."""

    dynamics: VideoConfig
    raw: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> DynamicsTrainSettings:
        """Validate a composed ``train_dynamics`` config; every problem is a one-line ``ConfigError``."""
        return trainer_settings(cls, DynamicsTrainOptions, cfg, "train dynamics", "dynamics", dynamics_config)


def dynamics_config(node: DictConfig | Mapping[str, Any] | None) -> VideoConfig:
    """The dynamics group's node → a validated ``VideoConfig`` (via its Hydra ``_target_`` when present)."""
    return model_config(node, VideoConfig, "dynamics", "video")


def horizon_at(step: int, s: DynamicsTrainSettings) -> int:
    """Predicted steps trained at optimizer step ``step``: 1 → ``horizon`` linearly over ``horizon_warmup_steps``."""
    if step >= s.horizon_warmup_steps:
        return s.horizon
    return min(s.horizon, 1 + (s.horizon * step) // s.horizon_warmup_steps)


# -------------------------------------------------------------------------------------------- loss
def pixel_loss(pred: Tensor, target: Tensor, last: Tensor, s: DynamicsTrainSettings) -> Tensor:
    """Weighted mean pixel error of predictions (B, H, C, H, W) against targets, all in [0, 1].

    Pixels whose true value differs from the last context frame ``last`` (B, C, H, W) by more than
    ``change_threshold`` (any channel) weigh ``1 + changed_weight``, the others 1; the weighted mean
    is normalised by the mean weight, so the loss stays on the scale of a plain mean error.
    """
    diff = pred - target
    err = diff.abs() if s.loss == "l1" else diff.pow(2)
    if not s.changed_weight:
        return err.mean()
    weight = 1.0 + s.changed_weight * changed_mask(target, last[:, None], s.change_threshold).unsqueeze(-3).float()
    return (err * weight).mean() / weight.mean()


def kl_per_pixel(kl: Tensor, c: VideoConfig) -> Tensor:
    """KL (B, H) in nats per frame → mean per pixel value of a frame (the scale of the pixel loss)."""
    return kl.mean() / (c.channels * c.image_size**2)


def head_loss(pred: Tensor | None, target: Tensor | None) -> Tensor | None:
    """Mean squared error of a normalised side prediction (B, H, ·): the proprioception or the object-state
    changes (None for a model without that part)."""
    if pred is None:
        return None
    assert target is not None, "a model predicts a side output only where it is given its targets"
    return (pred - target).pow(2).mean()


def needs_object_states(c: VideoConfig, reader: DatasetReader, data: Path) -> bool:
    """Whether the model has an object-state head; raises ``ConfigError`` if the dataset's object states differ."""
    if not c.object_state_dim:
        return False
    names = list(reader.meta.get("object_state_names") or [])
    if len(names) != c.object_state_dim:
        raise ConfigError(
            f"{data} has {len(names)} object-state values per frame ({', '.join(names) or 'none'}) but the model's "
            f"head predicts {c.object_state_dim}; set dynamics.object_state_dim={len(names)}"
        )
    return True


def object_state_scale(reader: DatasetReader, episodes: Sequence[int] | np.ndarray, horizon: int) -> Tensor:
    """Per-dimension root mean square (D,) of the object-state changes over 1..``horizon`` steps, from every
    start frame of (up to ``PROPRIO_STATS_EPISODES``) episodes: the head's targets are divided by it."""
    idx = np.asarray(episodes)
    idx = idx[np.linspace(0, len(idx) - 1, min(len(idx), PROPRIO_STATS_EPISODES)).astype(int)]
    changes = []
    for e in idx:
        states = reader.read(int(e), OBJECT_STATES).astype(np.float64)  # (T + 1, D)
        changes += [states[h:] - states[:-h] for h in range(1, min(horizon, len(states) - 1) + 1)]
    rms = np.sqrt(np.mean(np.concatenate(changes) ** 2, axis=0))
    return torch.from_numpy(np.maximum(rms, OBJECT_SCALE_FLOOR)).float()


def proprio_stats(reader: DatasetReader, episodes: Sequence[int] | np.ndarray) -> tuple[Tensor, Tensor]:
    """Per-dimension mean and std (P,) of the proprioception of (up to ``PROPRIO_STATS_EPISODES``) episodes."""
    idx = np.asarray(episodes)
    idx = idx[np.linspace(0, len(idx) - 1, min(len(idx), PROPRIO_STATS_EPISODES)).astype(int)]
    rows = np.concatenate([reader.read(int(e), PROPRIO) for e in idx]).astype(np.float64)
    return (
        torch.from_numpy(rows.mean(0)).float(),
        torch.from_numpy(np.maximum(rows.std(0), PROPRIO_STD_FLOOR)).float(),
    )


# -------------------------------------------------------------------------------------------- data
class StepClips(Dataset[dict[str, Any]]):
    """Training clips for ``StepSampler`` keys (seed, step, j): a random episode of the split per key.

    ``ClipDataset`` reads ``key.i`` as the episode's position, and a step's keys have i = j < batch_size;
    this draws the position from (seed, step, j) instead (then ``ClipDataset`` draws the clip's start), so
    every step sees batch_size random episodes of the whole split.

    With ``extra`` clip datasets (``extra_data``), each key first draws its source: the extra data with
    probability ``extra_fraction`` (then one of its episodes, uniformly over all extra episodes), else
    the main data (``mixing.draw_source``: keyed, so a resumed run sees the same batches).
    """

    def __init__(self, clips: ClipDataset, extra: list[ClipDataset] | None = None, extra_fraction: float = 0.0):
        self.sources = [clips, *(extra or [])]
        self.sizes = [len(c) for c in self.sources]
        self.extra_fraction = extra_fraction

    def __len__(self) -> int:
        return sum(self.sizes)

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        source, i = draw_source(key, self.sizes, self.extra_fraction)
        return self.sources[source][SampleKey(key.seed, key.epoch, i)]


# ---------------------------------------------------------------------------------------- validation
@dataclass
class ValClips:
    """Fixed validation clips, materialised once: frames uint8 (V, k, C, H, W), actions (V, k − 1, A) and,
    for a model that reads them, proprioception (V, k, P) and object states (V, k, D)."""

    frames: Tensor
    actions: Tensor
    proprio: Tensor | None = None
    object_states: Tensor | None = None

    @classmethod
    def draw(cls, ds: ClipDataset, n: int, seed: int) -> ValClips:
        m = len(ds)  # more clips than episodes: further rounds take other random starts
        items = [ds[SampleKey(seed, VAL_EPOCH - j // m, j % m)] for j in range(n)]
        return cls(
            torch.stack([it["frames"] for it in items]),
            torch.stack([it["actions"] for it in items]),
            torch.stack([it["proprio"] for it in items]) if "proprio" in items[0] else None,
            torch.stack([it["object_states"] for it in items]) if "object_states" in items[0] else None,
        )


def validate(model: VideoModel, val: ValClips, s: DynamicsTrainSettings) -> dict[str, float]:
    """Loss and frame metrics of planning-mode predictions (prior mean) on ``val``, with the copy-last baseline."""
    losses: list[float] = []
    sums: dict[str, list[np.ndarray]] = {}
    proprio_se: list[Tensor] = []
    object_se: list[Tensor] = []
    object_still: list[Tensor] = []  # the error of predicting that nothing moved
    for i in range(0, val.frames.shape[0], VAL_BATCH):
        rows = slice(i, i + VAL_BATCH)
        proprio = None if val.proprio is None else val.proprio[rows]
        pred, target, last, proprio_pred = evaluate_clips(
            model, val.frames[rows], val.actions[rows], s.horizon, "mean", proprio=proprio
        )
        if proprio_pred is not None:  # the proprioception MLP's error over the horizon, in std units of the data
            t = model.config.context_frames
            assert proprio is not None, "a model predicts proprioception only from given proprioception"
            proprio_se.append(((proprio_pred - proprio[:, t : t + s.horizon]) / model.proprio_std).pow(2).mean())
        if val.object_states is not None:  # the head's error (training only: a pass of its own)
            t = model.config.context_frames
            with torch.no_grad():
                out = model(
                    val.frames[rows, : t + s.horizon],
                    val.actions[rows, t - 1 :],
                    horizon=s.horizon,
                    proprio=proprio,
                    object_states=val.object_states[rows],
                )
            se = head_loss(out["object_pred"], out["object_target"])
            assert se is not None and out["object_target"] is not None, "a model with the head predicts given states"
            object_se.append(se)
            object_still.append(out["object_target"].pow(2).mean())
        losses.append(float(pixel_loss(pred, target, last, s)) * pred.shape[0])
        for name, v in clip_metrics(pred, target, last, s.change_threshold).items():
            sums.setdefault(name, []).append(v.numpy())
    out = {"loss": sum(losses) / val.frames.shape[0]}
    if proprio_se:
        out["proprio_rmse"] = float(torch.stack(proprio_se).mean().sqrt())
    if object_se:
        out["object_rmse"] = float(torch.stack(object_se).mean().sqrt())
        out["object_rmse_still"] = float(torch.stack(object_still).mean().sqrt())
    for name, parts in sums.items():
        a = np.concatenate(parts)
        out[name] = float(np.nanmean(a)) if not np.isnan(a).all() else math.nan
    return out


# ---------------------------------------------------------------------------------------- checkpoints
def _check_resume(
    state: Mapping[str, Any], model: VideoModel, s: DynamicsTrainSettings, identity: dict[str, Any], path: Path
) -> None:
    """Refuse to resume a checkpoint trained with other model settings, another horizon or another data split."""
    diffs = [f"dynamics.{d}" for d in config_differences(model.config, s.dynamics, ignore=RUNTIME_FIELDS)]
    diffs += mix_differences(dict((state.get("extra") or {}).get("config") or {}), s.raw, RESUME_KEYS)
    refuse_resume(path, diffs, split_differences(state, s.raw, identity))


# ------------------------------------------------------------------------------------------ training
def fresh_model(s: DynamicsTrainSettings) -> VideoModel:
    """A new model, or with ``init_from`` one starting from that checkpoint's weights and normalisation
    (fine-tuning, e.g. on the planner's own episodes; its ``dynamics.*`` settings must match)."""
    model = VideoModel(s.dynamics, seed=s.seed)
    return model if s.init_from is None else init_weights(model, s.init_from, load_checkpoint, "dynamics.")


def extra_clips(
    path: Path, s: DynamicsTrainSettings, k: int, action_dim: int, proprio: bool, objects: bool
) -> tuple[ClipDataset, ClipDataset | None]:
    """(training, validation or None) clip datasets of an ``extra_data`` folder, split by episode hash as
    the main data is; refused in one line when its frames, actions or proprioception do not fit the model."""
    c = s.dynamics
    x = open_extra(path, s.val_fraction, s.seed, c.image_size, c.channels, "dynamics.image_size", s.data, action_dim)
    if proprio:
        needs_proprio(c, x.reader, path)  # refuses data without (or with other) proprioception
    if objects:
        needs_object_states(c, x.reader, path)
    try:
        train = ClipDataset(x.reader, x.train, k=k, seed=s.seed, proprio=proprio, object_states=objects)
        val = ClipDataset(x.reader, x.val, k=k, seed=s.seed, proprio=proprio, object_states=objects) if x.val else None
    except (ConfigError, DatasetError):  # a damaged dataset says so; only "too short" is answered below
        raise
    except ValueError:
        raise ConfigError(f"extra_data {path}: episodes are too short for clips of {k} frames; lower horizon") from None
    return train, val


def run_train_dynamics(s: DynamicsTrainSettings, echo: bool = True) -> dict[str, Any]:
    """Train (or resume) the video model described by ``s``; returns the summary (also ``out/summary.json``).

    Raises:
        ConfigError: the data does not fit the model, or ``out/last.pt`` was made with other settings.
        robolearn.data.metadata.DatasetError: the data folder is not a dataset.
        sim.plumbing.files.OutputError: the run folder cannot be written (a full disk...): one line naming the
            file and ``out=``; the checkpoints written so far are kept.
    """
    with output_keys({"out": s.out}, RESUME_NOTE):
        return _run_train_dynamics(s, echo)


def _run_train_dynamics(s: DynamicsTrainSettings, echo: bool) -> dict[str, Any]:
    t_setup = time.monotonic()
    c = s.dynamics
    run = start_run(
        s,
        c,
        "dynamics.image_size",
        load_checkpoint,
        lambda state, model, identity: _check_resume(state, model, s, identity, s.out / LAST),
        lambda: fresh_model(s),
        "loss",
        False,
        echo,
    )
    reader, episodes = run.reader, run.episodes
    action_dim = reader.read(episodes[0], "actions").shape[-1]
    if action_dim != c.action_dim:
        raise ConfigError(
            f"{s.data} has {action_dim}-D actions but the model expects {c.action_dim}; "
            f"set dynamics.action_dim={action_dim}"
        )
    k = c.context_frames + s.horizon
    use_proprio = needs_proprio(c, reader, s.data)
    use_objects = needs_object_states(c, reader, s.data)
    try:
        train_ds = ClipDataset(reader, run.train_eps, k=k, seed=s.seed, proprio=use_proprio, object_states=use_objects)
        val_ds = ClipDataset(reader, run.val_eps, k=k, seed=s.seed, proprio=use_proprio, object_states=use_objects)
    except (ConfigError, DatasetError):  # a damaged dataset says so; only "too short" is answered below
        raise
    except ValueError:
        longest = max(int(reader.length(e)) for e in episodes) + 1
        raise ConfigError(
            f"{s.data}: episodes are too short for clips of context_frames + horizon = {k} frames "
            f"(the longest has {longest}); lower horizon"
        ) from None
    extra = [extra_clips(path, s, k, action_dim, use_proprio, use_objects) for path in s.extra_data]
    if run.optimizer is None:
        return run.summary
    model, optimizer, r, say, summary, identity = (
        run.model,
        run.optimizer,
        run.resumed,
        run.say,
        run.summary,
        run.identity,
    )
    if use_proprio and r.start == 0 and s.init_from is None:
        # a fresh model: normalise by its training data (a resumed or fine-tuned one keeps its own)
        model.set_proprio_stats(*proprio_stats(reader, run.train_eps))
    if use_objects and r.start == 0 and s.init_from is None:
        model.set_object_state_scale(object_state_scale(reader, run.train_eps, s.horizon))
    val = ValClips.draw(val_ds, s.val_clips, s.seed)
    extra_val = [ValClips.draw(v, s.val_clips, s.seed) for _, v in extra if v is not None]
    if extra:
        summary["extra_data"], message = extra_report(
            s.extra_data, [(len(t), len(v) if v is not None else 0) for t, v in extra], s.extra_fraction
        )
        say(message)
    params, macs = model.num_parameters()["total"], model.macs()
    say(
        f"data {s.data}: {len(train_ds)} training / {len(val_ds)} validation episodes, clips of {k} frames; model "
        f"{params:,} parameters ({'stochastic' if c.stochastic else 'deterministic'}, latent "
        f"{c.latent_channels}×{c.latent_side}×{c.latent_side}, {macs['transition'] / 1e6:.1f} M MACs per step, "
        f"{macs['decode'] / 1e6:.1f} M per decoded frame); setup {time.monotonic() - t_setup:.1f} s"
    )
    loop = TrainLoop(
        s,
        model,
        optimizer,
        r,
        "loss",
        False,
        save_checkpoint,
        echo=echo,
        extra=lambda: {
            "config": dict(s.raw),
            "dynamics": model.config.to_dict(),
            "dataset": identity,
            "parameters": params,
        },
    )
    t_ctx = c.context_frames

    def train_step(batch: Mapping[str, Any], step: int) -> tuple[Tensor, dict[str, float]]:
        h = horizon_at(step, s)
        frames = batch["frames"][:, : t_ctx + h]
        out = model(
            frames,
            batch["actions"][:, t_ctx - 1 :],
            generator=keyed_generator(s.seed, NOISE_STREAM, step),
            horizon=h,
            proprio=batch["proprio"][:, : t_ctx + h] if use_proprio else None,
            object_states=batch["object_states"][:, : t_ctx + h] if use_objects else None,
        )
        rec = pixel_loss(out["pred"], out["target"], to_unit_float(frames[:, t_ctx - 1]), s)
        scalars = {"loss": rec.item()}
        total = rec
        if out["kl"] is not None:
            kl = kl_per_pixel(out["kl"], c)
            scalars["kl_per_pixel"] = kl.item()
            total = total + s.kl_weight * kl
        prop = head_loss(out["proprio_pred"], out["proprio_target"])
        if prop is not None:
            scalars["proprio_mse"] = prop.item()
            total = total + s.proprio_weight * prop
        obj = head_loss(out["object_pred"], out["object_target"])
        if obj is not None:
            scalars["object_mse"] = obj.item()
            total = total + s.object_state_weight * obj
        return total, scalars

    def validation() -> dict[str, Any]:
        model.eval()
        try:
            # the loss the best checkpoint is chosen by mixes the sources as the batches do
            return mix_validation(
                validate(model, val, s), [validate(model, v, s) for v in extra_val], "loss", s.extra_fraction
            )
        finally:
            model.train()

    def describe(v: Mapping[str, Any]) -> str:
        return (
            f"step {loop.step}: val loss {v.get('main_loss', v['loss']):.5f}, PSNR {v['psnr']:.2f} dB "
            f"(copy-last {v['copy_psnr']:.2f}),"
            f" changed-pixel PSNR {v['psnr_changed']:.2f} (copy-last {v['copy_psnr_changed']:.2f}), SSIM "
            f"{v['ssim']:.4f} (copy-last {v['copy_ssim']:.4f})"
            + (f", proprioception RMSE {v['proprio_rmse']:.3f} std" if "proprio_rmse" in v else "")
            + (
                f", object-state RMSE {v['object_rmse']:.3f} (nothing moved: {v['object_rmse_still']:.3f}; spread units)"
                if "object_rmse" in v
                else ""
            )
            + (
                f"; extra data: loss {v['extra']['loss']:.5f}, PSNR {v['extra']['psnr']:.2f} dB (copy-last "
                f"{v['extra']['copy_psnr']:.2f}), changed-pixel PSNR {v['extra']['psnr_changed']:.2f}; mixed loss "
                f"{v['loss']:.5f}"
                if "extra" in v
                else ""
            )
            + f"; best loss {loop.best:.5f} at {loop.best_step}"
        )

    clips = StepClips(train_ds, [t for t, _ in extra], s.extra_fraction)
    done = loop.run(step_loader(clips, s, r.start), train_step, validation, describe)
    elapsed = done.pop("elapsed")
    summary.update(
        **{key: v for key, v in done.items() if key != "steps_done"},
        clips_per_second=round(done["steps_done"] * s.batch_size / elapsed, 1) if elapsed > 0 else None,
        train_loss_ema=loop.ema.get("loss"),
        val=loop.last_val,
        best_val_loss=loop.best,
        best_step=loop.best_step,
        parameters=params,
        checkpoints={"last": str(s.out / LAST), "best": str(s.out / BEST)},
        episodes={"train": len(train_ds), "val": len(val_ds)},
    )
    write_json_atomic(s.out / SUMMARY, summary, default=_json_default)
    if echo:
        print_summary(summary)
    return summary


def _json_default(x: object) -> str | None:
    return None if isinstance(x, float) and math.isnan(x) else str(x)


def print_summary(summary: Mapping[str, Any]) -> None:
    """A short rich report of a finished (or stopped) run."""
    con = Console(highlight=False, soft_wrap=True)
    val = summary.get("val") or {}
    con.print(
        f"[bold]trained[/bold] steps {summary['start_step']} → {summary['step']} of {summary['steps']} "
        f"({summary['stopped']}), {summary['wall_seconds']:.0f} s, {summary['clips_per_second']:.1f} clips/s"
    )
    if summary.get("train_loss_ema") is not None:
        con.print(f"train loss {summary['train_loss_ema']:.5f} (smoothed)")
    if val:
        con.print(
            f"validation: loss [bold]{val['loss']:.5f}[/bold]; PSNR {val['psnr']:.2f} dB vs copy-last "
            f"{val['copy_psnr']:.2f}; changed pixels {val['psnr_changed']:.2f} vs {val['copy_psnr_changed']:.2f};"
            f" SSIM {val['ssim']:.4f} vs {val['copy_ssim']:.4f}"
        )
    con.print(
        f"best val loss {summary['best_val_loss']:.5f} at step {summary['best_step']}; "
        f"checkpoints {summary['checkpoints']['last']}, {summary['checkpoints']['best']}"
    )
