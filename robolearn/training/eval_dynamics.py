"""``robolearn eval`` of a video-model checkpoint: held-out PSNR / SSIM per horizon step vs copying the last frame.

Protocol:

* episodes: the validation split of training (``split_episodes`` with the checkpoint's ``val_fraction``
  and ``seed``, over the same ``max_episodes``), never seen by the optimizer;
* clips: ``video.clips_per_episode`` clips per held-out episode of ``context_frames + horizon`` frames,
  each from a random start (seeded by ``video.seed``); the model predicts ``horizon`` frames from the
  context under the clip's real actions (a stochastic model with the prior's mean unless
  ``video.sample=sample``);
* metrics per predicted frame, averaged per horizon step over the clips: PSNR (dB), SSIM (11×11
  Gaussian window, σ 1.5), and PSNR over the *changed* pixels only (pixels where the true frame differs
  from the last context frame by more than ``video.change_threshold`` in a channel: the arm and moved
  objects; frames where nothing changed are left out of that mean). The baseline predicts the last
  context frame for every step; on the changed pixels it is exactly what a model must beat.

Outputs: a rich table on stdout, ``eval_<checkpoint stem>.json`` (everything) and ``eval_<checkpoint
stem>.csv`` (one row per horizon step) next to the checkpoint or in ``out``.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import torch
from omegaconf import DictConfig
from rich.console import Console
from rich.table import Table
from torch import Tensor
from tqdm import tqdm

from planners.video.checkpoint import load_checkpoint, read_checkpoint
from planners.video.metrics import changed_mask, masked_psnr, psnr, ssim
from planners.video.model import to_unit_float
from robolearn.config import ConfigError
from robolearn.data.loader import ClipDataset, SampleKey
from robolearn.data.metadata import DatasetError
from robolearn.training.datasets import held_out_episodes, needs_proprio
from robolearn.training.eval_options import REWARD_ONLY_KEYS, eval_options, report_dir
from sim.plumbing.files import atomic_open, output_keys, write_json_atomic

if TYPE_CHECKING:  # pragma: no cover
    from planners.video.model import VideoModel

__all__ = ["METRICS", "VideoEvalSettings", "clip_metrics", "evaluate_clips", "print_video_report", "run_video_eval"]

#: per-frame metrics, each for the model and for the copy-last-frame baseline (prefix ``copy_``)
METRICS = ("psnr", "ssim", "psnr_changed")
CLIP_STREAM = 0xC11  # SampleKey epoch base of the evaluation clips: epoch = CLIP_STREAM + clip round
MIN_TABLE_WIDTH = 100  # columns


# ------------------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class VideoEvalSettings:
    """A validated ``conf/eval.yaml`` for a video-model checkpoint: the options (``EvalOptions``, whose knobs
    document every field) it reads, the keys of the ``video`` node here flat (``batch_size`` is
    ``video.batch_size``: the top-level one is the reward's), the checkpoint as a ``Path``."""

    checkpoint: Path
    data: Path | None
    out: Path | None
    max_episodes: int | str
    max_val_episodes: int | None
    batch_size: int
    torch_threads: int
    progress_bar: bool
    horizon: int | None
    clips_per_episode: int
    change_threshold: float
    sample: str
    seed: int

    @classmethod
    def from_config(cls, cfg: DictConfig | Mapping[str, Any]) -> VideoEvalSettings:
        """Validate a composed ``eval`` config (reward-only keys are not read); one-line ``ConfigError``s."""
        options = eval_options(cfg, REWARD_ONLY_KEYS, "runs/video/best.pt")
        video = dataclasses.asdict(options.video)
        top = {f.name: getattr(options, f.name) for f in dataclasses.fields(cls) if f.name not in video}
        return cls(**{**top, **video, "checkpoint": Path(options.checkpoint)})


# ------------------------------------------------------------------------------------------- metrics
def clip_metrics(pred: Tensor, target: Tensor, last: Tensor, threshold: float) -> dict[str, Tensor]:
    """Per-frame metrics of predictions and of the copy-last-frame baseline.

    Args:
        pred, target: float (B, H, C, H, W) in [0, 1]. last: float (B, C, H, W), the last context frame.
        threshold: change threshold of ``psnr_changed``.

    Returns:
        (B, H) tensors: ``psnr``, ``ssim``, ``psnr_changed`` (NaN where nothing changed) and the same with
        prefix ``copy_``, plus ``changed_fraction`` (share of changed pixels).
    """
    base = last[:, None].expand_as(target)
    changed = changed_mask(target, base, threshold)
    out = {}
    for prefix, x in (("", pred), ("copy_", base)):
        out[f"{prefix}psnr"] = psnr(x, target)
        out[f"{prefix}ssim"] = ssim(x, target)
        out[f"{prefix}psnr_changed"] = masked_psnr(x, target, changed)
    out["changed_fraction"] = changed.float().flatten(-2).mean(-1)
    return out


class ClipPrediction(NamedTuple):
    """``evaluate_clips``' result: pred and target float (B, H, C, H, W), last (B, C, H, W), in [0, 1];
    proprio: the predicted proprioception (B, H, P) in the data's units (None for a frames-only model)."""

    pred: Tensor
    target: Tensor
    last: Tensor
    proprio: Tensor | None


def evaluate_clips(
    model: VideoModel,
    frames: Tensor,
    actions: Tensor,
    horizon: int,
    sample: str = "mean",
    generator: torch.Generator | None = None,
    proprio: Tensor | None = None,
) -> ClipPrediction:
    """Predict ``horizon`` frames of clips from their context under their actions (one encode, rollout and decode).

    Args:
        frames: uint8 (B, k, C, H, W) clips with k ≥ context_frames + horizon.
        actions: (B, k − 1, A): ``ClipDataset`` actions (action j leads from frame j to j + 1).
        proprio: (B, k, P) the clips' proprioception, for a model that conditions on it (else None).
    """
    t = model.config.context_frames
    state = model.encode(frames[:, :t], None if proprio is None else proprio[:, t - 1])
    latents = model.rollout(state, actions[:, t - 1 : t - 1 + horizon], generator=generator, sample=sample)
    return ClipPrediction(
        model.decode(latents),
        to_unit_float(frames[:, t : t + horizon]),
        to_unit_float(frames[:, t - 1]),
        latents.proprio,
    )


def _nanmean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    count = (~np.isnan(x)).sum(axis)
    total = np.nansum(x, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _num(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def summarize(per_clip: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """(clips, H) metric arrays → per-step means and an all-steps mean, as plain JSON-able numbers."""
    steps = next(iter(per_clip.values())).shape[1]
    per_step = {k: [_num(v) for v in _nanmean(a, 0)] for k, a in per_clip.items()}
    overall = {k: _num(float(np.nanmean(a))) if not np.isnan(a).all() else None for k, a in per_clip.items()}
    return {"steps": steps, "per_step": per_step, "mean": overall}


# ------------------------------------------------------------------------------------------- running
def run_video_eval(s: VideoEvalSettings, echo: bool = True, model: VideoModel | None = None) -> dict[str, Any]:
    """Evaluate the video-model checkpoint of ``s``; returns the report (also written as JSON and CSV).

    Raises:
        ConfigError: no held-out episodes, episodes too short. FileNotFoundError / CheckpointError: bad
        checkpoint. DatasetError: bad data folder.
    """

    torch.set_num_threads(s.torch_threads)
    if model is None:
        model, state = load_checkpoint(s.checkpoint)
    else:
        state = read_checkpoint(s.checkpoint)
    model.eval()
    data, reader, val_eps, train_cfg, split = held_out_episodes(
        state, s.checkpoint, s.data, s.max_episodes, s.max_val_episodes
    )
    horizon = s.horizon or int(train_cfg.get("horizon", 10))
    k = model.config.context_frames + horizon
    use_proprio = needs_proprio(model.config, reader, data, checkpoint=s.checkpoint)  # says what the data lacks
    try:
        ds = ClipDataset(reader, val_eps, k=k, seed=s.seed, proprio=use_proprio)
    except (ConfigError, DatasetError):  # a damaged dataset says so; only "too short" is answered below
        raise
    except ValueError:
        raise ConfigError(
            f"{data}: no held-out episode has {k} frames (context_frames "
            f"{model.config.context_frames} + horizon {horizon}); lower video.horizon"
        ) from None
    if len(ds) < 1:
        raise ConfigError(f"{data}: no held-out episodes (val_fraction={split['val_fraction']}, seed={split['seed']})")
    keys = [SampleKey(s.seed, CLIP_STREAM + r, i) for r in range(s.clips_per_episode) for i in range(len(ds))]
    gen = torch.Generator().manual_seed(s.seed)
    per_clip: dict[str, list[np.ndarray]] = {}
    # on a terminal only (disable=None): on a redirected stderr a bar would sit in front of an error message
    bar = tqdm(
        total=len(keys), desc="clips", unit="clip", disable=None if s.progress_bar and echo else True, leave=False
    )
    for i in range(0, len(keys), s.batch_size):
        items = [ds[key] for key in keys[i : i + s.batch_size]]
        frames = torch.stack([it["frames"] for it in items])
        actions = torch.stack([it["actions"] for it in items])
        proprio = torch.stack([it["proprio"] for it in items]) if ds.proprio else None
        pred, target, last, _ = evaluate_clips(model, frames, actions, horizon, s.sample, gen, proprio)
        for name, v in clip_metrics(pred, target, last, s.change_threshold).items():
            per_clip.setdefault(name, []).append(v.numpy())
        bar.update(len(items))
    bar.close()
    arrays = {name: np.concatenate(v) for name, v in per_clip.items()}
    report: dict[str, Any] = {
        "checkpoint": str(s.checkpoint),
        "step": state.get("step"),
        "data": str(data),
        "split": split,
        "val_episodes": len(ds),
        "clips": len(keys),
        "horizon": horizon,
        "context_frames": model.config.context_frames,
        "stochastic": model.config.stochastic,
        "sample": s.sample,
        "change_threshold": s.change_threshold,
        **summarize(arrays),
    }
    out_dir = report_dir(s.out, s.checkpoint)
    stem = f"eval_{s.checkpoint.stem}"
    json_path, csv_path = out_dir / f"{stem}.json", out_dir / f"{stem}.csv"
    report["files"] = {"json": str(json_path), "csv": str(csv_path)}
    with output_keys({"out": out_dir}):
        write_json_atomic(json_path, report)
        _write_csv(csv_path, report, horizon)
    if echo:
        print_video_report(report)
    return report


def _write_csv(csv_path: Path, report: dict[str, Any], horizon: int) -> None:
    """One row per horizon step: the model's and the copy baseline's metrics."""
    columns = [*METRICS, *(f"copy_{m}" for m in METRICS), "changed_fraction"]
    with atomic_open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", *columns])
        for h in range(horizon):
            w.writerow(
                [
                    h + 1,
                    *("" if report["per_step"][c][h] is None else f"{report['per_step'][c][h]:.6g}" for c in columns),
                ]
            )


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def print_video_report(report: Mapping[str, Any]) -> None:
    """The per-step table: model vs copy-last-frame, PSNR, SSIM and PSNR on changed pixels."""
    console = Console(highlight=False, width=max(MIN_TABLE_WIDTH, Console().width))
    t = Table(
        title=f"Held-out clips: {report['clips']} from {report['val_episodes']} episodes, context "
        f"{report['context_frames']}, step {report['step']} (model vs copy-last-frame)"
    )
    for col in ("step", "PSNR", "copy", "SSIM", "copy", "PSNR changed", "copy", "changed px"):
        t.add_column(col, justify="right")
    p, m = report["per_step"], report["mean"]

    def row(get: Any, label: str, bold: bool = False) -> None:
        cells = [
            _fmt(get("psnr")),
            _fmt(get("copy_psnr")),
            _fmt(get("ssim"), 3),
            _fmt(get("copy_ssim"), 3),
            _fmt(get("psnr_changed")),
            _fmt(get("copy_psnr_changed")),
            _fmt(100 * get("changed_fraction") if get("changed_fraction") is not None else None, 1) + "%",
        ]
        t.add_row(f"[bold]{label}[/bold]" if bold else label, *(f"[bold]{c}[/bold]" if bold else c for c in cells))

    for h in range(report["horizon"]):
        row(lambda k, h=h: p[k][h], str(h + 1))
    row(lambda k: m[k], "mean", bold=True)
    console.print(t)
    console.print(f"written: {report['files']['json']}, {report['files']['csv']}")
