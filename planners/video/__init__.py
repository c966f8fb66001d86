"""Action-conditioned video prediction for visual MPC (``robolearn train dynamics``, ``robolearn eval``).

* ``planners.video.config``: ``VideoConfig``, the architecture (``conf/dynamics/video.yaml``);
* ``planners.video.model``: ``VideoModel`` with ``predict(context, actions)`` and the latent path a
  planner uses for speed, ``encode`` → ``rollout`` → ``decode(latents, steps=[-1])``;
* ``planners.video.checkpoint``: atomic, self-describing checkpoints (``save_checkpoint``,
  ``load_checkpoint``, ``load_model``);
* ``planners.video.metrics``: PSNR and SSIM.

Example:
    >>> from planners.video import load_model
    >>> model = load_model("runs/video/best.pt")
    >>> frames = model.predict(context, actions)   # (2, 3, 64, 64) uint8, (N, H, 4) → (N, H, 3, 64, 64) in [0, 1]
"""

from planners.video.checkpoint import load_checkpoint, load_model, save_checkpoint
from planners.video.config import VideoConfig
from planners.video.model import Latents, VideoModel, VideoState

__all__ = ["Latents", "VideoConfig", "VideoModel", "VideoState", "load_checkpoint", "load_model", "save_checkpoint"]
