"""DVD: a video reward, P(a clip shows the same task as a demo clip), learned from many non-robot videos and a few
robot demos (Chen, Nair, Finn 2021; what changed and why: ``rewards.dvd.model`` and docs/dvd.md).

* ``rewards.dvd.config``: ``DVDConfig``, the architecture (``conf/reward/dvd.yaml``); ``DVDVocabulary``, what a
  model was trained on;
* ``rewards.dvd.model``: ``DVDReward`` (per-frame patchify CNN + temporal block; symmetric cosine head or DVD's concat
  head; progress head) with ``score(candidates, demos)`` for planners;
* ``rewards.dvd.checkpoint``: atomic, self-describing checkpoints (``format: "robolearn.dvd"``).

Example:
    >>> from rewards.dvd import load_model
    >>> reward = load_model("runs/dvd/best.pt")
    >>> r = reward.score(candidates, demos)     # (N, T, 64, 64, 3), (M, T, 64, 64, 3) uint8 → (N,) in [0, 1]
"""

from rewards.dvd.checkpoint import load_checkpoint, load_model, read_checkpoint, save_checkpoint
from rewards.dvd.config import HEADS, TEMPORAL, DVDConfig, DVDVocabulary
from rewards.dvd.model import DVDReward, VideoEncoder, frame_indices, state_problems

__all__ = [
    "HEADS",
    "TEMPORAL",
    "DVDConfig",
    "DVDReward",
    "DVDVocabulary",
    "VideoEncoder",
    "frame_indices",
    "load_checkpoint",
    "load_model",
    "read_checkpoint",
    "save_checkpoint",
    "state_problems",
]
