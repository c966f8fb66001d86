"""``VideoConfig``: the architecture of an action-conditioned video-prediction model (``VideoModel``).

Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/dynamics/video.yaml`` is generated
from it (``python -m robolearn.conf_files --write``; a test checks it is current). Every field is validated on
construction; a bad value is a one-line ``ValueError`` naming ``VideoConfig.<field>``, the value and what is
allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.plumbing.checks import PlainConfig, int_tuple
from sim.plumbing.settings import FIGURES, check_knobs, knob

__all__ = ["RUNTIME_FIELDS", "SAMPLE_MODES", "VideoConfig"]

#: how a stochastic model draws its per-step latent when predicting: the prior's mean (deterministic)
#: or a sample from the prior
SAMPLE_MODES = ("mean", "sample")
#: fields that change neither the weights nor what was trained: a model may differ from its checkpoint
#: in these (they keep the model's values)
RUNTIME_FIELDS = ("sample", "chunk", "channels_last")


@dataclass
class VideoConfig(PlainConfig):
    """Architecture of a ``VideoModel`` (see ``planners.video.model`` for the design)."""

    context_frames: int = knob(
        2,
        "real frames a prediction starts from (count, oldest first); 2 lets the model see the arm's velocity",
        lo=1,
    )
    stochastic: bool = knob(
        False,
        "false = deterministic latent dynamics; true = a per-step latent variable (learned prior; posterior from "
        "the next frame in training, KL weighted by kl_weight)",
    )
    encoder_channels: tuple[int, ...] = knob(
        (16, 32, 64),
        "channels of the encoder's 4×4 stride-2 convs; n entries give a latent side of image_size / 2^n (64 → 8 "
        "with three); the decoder mirrors them",
        lo=1,
    )
    latent_channels: int = knob(32, "channels of the spatial latent state (per latent cell)", lo=1)
    transition_blocks: int = knob(
        1,
        "gated blocks per predicted step, each 3×3 conv → action FiLM → leaky ReLU → 1×1 conv → gate and "
        f"candidate (count; 0 = nothing moves; cost per block: {FIGURES})",
        lo=0,
    )
    transition_hidden: int = knob(64, "hidden channels inside a transition block", lo=1)
    action_embed: int = knob(64, "width of the action MLP that gives every block its FiLM scale and shift", lo=1)
    skip: bool = knob(
        True,
        "add the last context frame's encoder features to the decoder at each resolution (computed once per context)",
    )
    mask: bool = knob(
        True, "predict a mask m; frame = m · generated + (1 − m) · last context frame (sharp static background)"
    )
    flow: bool = knob(
        True,
        "(needs mask) also predict a per-pixel flow (pixels) and blend with the last context frame warped by it "
        "(moved things keep their pixels)",
    )
    stoch_channels: int = knob(4, "stochastic only: channels of the per-step latent variable (per latent cell)", lo=1)
    min_std: float = knob(
        0.1, "stochastic only: floor of the prior and posterior standard deviations", lo=0.0, lo_open=True
    )
    sample: str = knob(
        "mean",
        "stochastic only, when predicting: mean = the prior's mean (deterministic) | sample = a draw from the prior",
        choices=SAMPLE_MODES,
    )
    proprio_dim: int = knob(
        0,
        "size of the proprioceptive vector the model also conditions on (0 = frames only; 14 on the desk: TCP "
        "position, velocity, finger opening, joint angles; the data must be collected with "
        "env.obs_keys=[rgb,proprio]); resolves the hand's height that one camera leaves ambiguous",
        lo=0,
    )
    proprio_hidden: int = knob(
        128,
        "hidden width of the MLP that predicts the next proprioception from the current one and the action",
        lo=1,
    )
    object_state_dim: int = knob(
        0,
        "size of the simulator's object-state vector that a training-only head predicts from every predicted latent "
        "(0 = no head; 10 on the desk: both mugs' positions, drawer, cabinet door, faucet, button, the dataset's "
        "object_state_names): supervision on what the hand really moved, which the pixels of a small object carry "
        "weakly; planning never reads it",
        lo=0,
    )
    object_state_hidden: int = knob(
        64, "object_state_dim > 0: hidden width of the head that reads a latent state (after a 1×1 conv to 16)", lo=1
    )
    action_dim: int = knob(
        4, "action dimensions (4 on the desk: TCP dx, dy, dz as a fraction of the max step, gripper)", lo=1
    )
    image_size: int = knob(64, "image side (pixels); frames must be image_size × image_size", lo=1)
    channels: int = knob(3, "image channels (3 = RGB)", lo=1)
    chunk: int = knob(
        256,
        "sequences per internal batch of predict / rollout, frames per decoder batch of decode (count; bounds "
        "their memory, results do not depend on it)",
        lo=1,
    )
    channels_last: bool = knob(
        True,
        "run the convolutions in channels-last (NHWC) memory layout (same results up to float rounding; "
        f"faster planning calls: {FIGURES})",
    )

    def __post_init__(self) -> None:
        self.encoder_channels = int_tuple(self, "encoder_channels", self.encoder_channels, 1)
        check_knobs(self, "VideoConfig")
        self.min_std = float(self.min_std)
        if self.flow and not self.mask:
            raise ValueError("VideoConfig.flow=True needs mask=True (the warped frame is blended through the mask)")
        side = self.image_size / 2 ** len(self.encoder_channels)
        if side != int(side) or side < 2:
            raise ValueError(
                f"VideoConfig.image_size={self.image_size} must be divisible by "
                f"2^{len(self.encoder_channels)} (one halving per encoder_channels entry) with a latent "
                "side ≥ 2; use fewer encoder_channels or another image_size"
            )

    @property
    def latent_side(self) -> int:
        """Side of the spatial latent (cells; 8 for 64×64 frames and three encoder levels)."""
        return self.image_size >> len(self.encoder_channels)

    @property
    def levels(self) -> int:
        """Encoder/decoder resolution levels (halvings between the image and the latent)."""
        return len(self.encoder_channels)

    def latent_shape(self) -> tuple[int, int, int]:
        """Shape (channels, side, side) of one latent state."""
        return (self.latent_channels, self.latent_side, self.latent_side)
