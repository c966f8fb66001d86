"""Train a reward on the frames a planner will show it: video-model predictions of the data's futures.

A planner scores *predicted* frames, and a reward trained on real frames only has never seen their
blur: on the desk, CEM found arm motions whose blurry predictions LOReL scored 0.99 for "open the
drawer" while the real drawer never moved. Here a share of the training (and validation) items have
their ``s_t`` replaced by the video model's prediction of that very frame, made the way the planner
makes it (from the real frames at a start k up to ``max_horizon`` steps earlier, through the episode's
own actions). The label stays the real frame's: a prediction that shows the change is a positive, a
blurry arm that changed nothing a negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from planners.video.checkpoint import load_model
from robolearn.training.randomness import keyed_generator
from sim.plumbing.settings import check_knobs, knob

if TYPE_CHECKING:  # pragma: no cover
    from planners.video.model import VideoModel

__all__ = ["PredictedFrameSettings", "predict_targets", "prediction_mask"]

MASK_STREAM = 0x9F3  # keyed stream of which items of a step get predicted frames
PIXEL_MAX = 255.0


@dataclass(frozen=True)
class PredictedFrameSettings:
    """``predicted_frames`` of ``conf/train.yaml``, whose comments are these knobs' docs."""

    video_checkpoint: Path | None = knob(
        None,
        "video model (.pt from `robolearn train dynamics`) whose predictions are mixed in; null = real frames only",
        value_type=Path,
    )
    fraction: float = knob(0.5, "share of the items (whose s_t follows s0) that get a predicted s_t", lo=0, hi=1)
    max_horizon: int = knob(20, "predictions start 1 to this many steps before s_t (steps; the planning horizon)", lo=1)

    def __post_init__(self) -> None:
        check_knobs(self, "predicted_frames")

    @property
    def enabled(self) -> bool:
        return self.video_checkpoint is not None and self.fraction > 0

    def load_model(self) -> VideoModel:
        """The frozen video model (``planners.video.load_model``; its errors name the problem)."""
        assert self.video_checkpoint is not None, "load_model is called only when predicted frames are enabled"
        model = load_model(self.video_checkpoint)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return model


def prediction_mask(pred_steps: Tensor, fraction: float, seed: int, step: int) -> Tensor:
    """bool (B,): the items of training step ``step`` whose ``s_t`` is replaced (keyed: resume-safe)."""
    u = torch.rand(pred_steps.shape[0], generator=keyed_generator(seed, MASK_STREAM, step))
    return (u < fraction) & (pred_steps > 0)


def predict_targets(
    model: VideoModel, context: Tensor, actions: Tensor, pred_steps: Tensor, proprio: Tensor | None = None
) -> Tensor:
    """The video model's prediction of each item's ``s_t``.

    Args:
        model: a ``planners.video.VideoModel``.
        context: uint8 (N, T_ctx, C, H, W) real frames ending at each item's start k.
        actions: float32 (N, H_max, A) the actions from k on (zero-padded).
        pred_steps: int (N,) ≥ 1: steps from k to the item's frame t.
        proprio: float32 (N, P) the proprioception at k, for a model that conditions on it (else None).

    Returns:
        uint8 (N, C, H, W): frame ``pred_steps − 1`` of each predicted sequence.
    """
    n = int(pred_steps.shape[0])
    if n == 0:
        return torch.empty(0, *context.shape[-3:], dtype=torch.uint8)
    steps = pred_steps.long()
    state = model.encode(context, proprio)
    latents = model.rollout(state, actions[:, : int(steps.max())])
    z = latents.z[torch.arange(n), steps - 1].unsqueeze(1)  # (N, 1, C_z, S, S): each item's own step
    frames = model.decode(z, state=latents.state)[:, 0]
    return (frames * PIXEL_MAX).round_().clamp_(0, PIXEL_MAX).to(torch.uint8)
