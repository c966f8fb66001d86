"""LOReL: a language-conditioned reward, R(s0, s_t, instruction) = P(going from s0 to s_t carries it out).

* ``rewards.lorel.config``: ``LorelConfig``, the architecture (``conf/reward/lorel.yaml``);
* ``rewards.lorel.model``: ``LorelReward`` (image encoder, text-conditioned head, the frozen sentence
  encoder of ``rewards.text``) with batched ``score`` / ``score_pairs`` for planners;
* ``rewards.lorel.checkpoint``: atomic, self-describing checkpoints (``save_checkpoint``,
  ``load_checkpoint``, ``load_model``; ``format: "robolearn.reward"``).

Example:
    >>> from rewards.lorel import load_model
    >>> reward = load_model("runs/lorel/best.pt")
    >>> p = reward.score(s0, predicted, "open the drawer")   # (3, 64, 64), (N, T, 3, 64, 64) → (N, T) in [0, 1]
"""

from rewards.lorel.checkpoint import load_checkpoint, load_model, read_checkpoint, save_checkpoint
from rewards.lorel.config import CONDITIONINGS, FUSIONS, NORMS, TEXT_NORMS, LorelConfig
from rewards.lorel.model import ConvEncoder, LorelReward, RewardHead, state_problems

__all__ = [
    "CONDITIONINGS",
    "FUSIONS",
    "NORMS",
    "TEXT_NORMS",
    "ConvEncoder",
    "LorelConfig",
    "LorelReward",
    "RewardHead",
    "load_checkpoint",
    "load_model",
    "read_checkpoint",
    "save_checkpoint",
    "state_problems",
]
