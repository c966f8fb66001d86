"""``PolicyConfig``: the architecture of a language-conditioned policy (``LanguagePolicyNet``, LCBC).

Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/policy_model/lcbc.yaml`` is generated
from it (``python -m robolearn.conf_files --write``; a test checks it is current). A bad value is a one-line
``ValueError`` naming ``PolicyConfig.<field>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewards.text import DEFAULT_TEXT_MODEL
from sim.plumbing.checks import PlainConfig, int_tuple
from sim.plumbing.settings import check_knobs, knob

__all__ = ["PolicyConfig"]


@dataclass
class PolicyConfig(PlainConfig):
    """Architecture of a ``LanguagePolicyNet`` (see ``planners.policy.model``)."""

    conv_channels: tuple[int, ...] = knob(
        (32, 64, 128, 128),
        "channels of the image encoder's 4×4 stride-2 convs (64 px → 4 × 4 cells with four)",
        lo=1,
    )
    hidden: int = knob(256, "width of the instruction projection, the FiLM layer and the MLP head", lo=1)
    text_model: str = knob(
        DEFAULT_TEXT_MODEL,
        "sentence encoder of the instruction (frozen): the packaged offline copy, a Hugging Face id, or a local folder",
    )
    text_dim: int = knob(384, "the sentence encoder's embedding size (384 for all-MiniLM-L6-v2)", lo=1)
    proprio_dim: int = knob(
        0,
        "proprioception the policy also reads (0 = the image only; 14 on the desk, data collected with "
        "env.obs_keys=[rgb,proprio])",
        lo=0,
    )
    action_dim: int = knob(
        4, "action dimensions (4 on the desk: TCP dx, dy, dz as a fraction of the max step, gripper)", lo=1
    )
    image_size: int = knob(64, "image side (pixels); frames must be image_size × image_size", lo=1)
    channels: int = knob(3, "image channels (3 = RGB)", lo=1)

    def __post_init__(self) -> None:
        self.conv_channels = int_tuple(self, "conv_channels", self.conv_channels, 1)
        check_knobs(self, "PolicyConfig")
        if not self.text_model:
            raise ValueError(f"PolicyConfig.text_model must be a model name or folder, got {self.text_model!r}")
        if self.image_size % 2 ** len(self.conv_channels):
            raise ValueError(
                f"PolicyConfig.image_size={self.image_size} must be divisible by 2^{len(self.conv_channels)}"
                f" (one halving per conv_channels entry)"
            )
