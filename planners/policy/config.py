"""``PolicyConfig``: the architecture of a language-conditioned policy (``LanguagePolicyNet``, LCBC).

``conf/policy_model/lcbc.yaml`` mirrors these fields and defaults for Hydra (``tests/test_policy.py`` keeps the
two in sync). A bad value is a one-line ``ValueError`` naming ``PolicyConfig.<field>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewards.text import DEFAULT_TEXT_MODEL
from sim.plumbing.checks import PlainConfig, check_int, int_tuple

__all__ = ["PolicyConfig"]


@dataclass
class PolicyConfig(PlainConfig):
    """Architecture of a ``LanguagePolicyNet`` (see ``planners.policy.model``)."""

    #: output channels of the image encoder's 4×4 stride-2 convs (64 px → 4 × 4 cells with four)
    conv_channels: tuple[int, ...] = (32, 64, 128, 128)
    #: width of the instruction projection, the FiLM layer and the MLP head
    hidden: int = 256
    #: sentence encoder of the instruction (frozen; its embeddings are the policy's language input)
    text_model: str = DEFAULT_TEXT_MODEL
    #: the sentence encoder's embedding size (384 for all-MiniLM-L6-v2)
    text_dim: int = 384
    #: proprioception the policy also reads (0 = the image only; 14 on the desk)
    proprio_dim: int = 0
    #: action dimensions (4 on the desk: TCP dx, dy, dz as a fraction of the max step, gripper)
    action_dim: int = 4
    #: image side (pixels) and channels
    image_size: int = 64
    channels: int = 3

    def __post_init__(self) -> None:
        self.conv_channels = int_tuple(self, "conv_channels", self.conv_channels, 1)
        for name in ("hidden", "text_dim", "action_dim", "image_size", "channels"):
            check_int(self, name, getattr(self, name), 1)
        check_int(self, "proprio_dim", self.proprio_dim, 0)
        if not isinstance(self.text_model, str) or not self.text_model:
            raise ValueError(f"PolicyConfig.text_model must be a model name or folder, got {self.text_model!r}")
        if self.image_size % 2 ** len(self.conv_channels):
            raise ValueError(
                f"PolicyConfig.image_size={self.image_size} must be divisible by 2^{len(self.conv_channels)}"
                f" (one halving per conv_channels entry)"
            )
