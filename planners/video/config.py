"""``VideoConfig``: the architecture of an action-conditioned video-prediction model (``VideoModel``).

``conf/dynamics/video.yaml`` mirrors these fields and defaults for Hydra (``tests/test_video_model.py``
keeps the two in sync). Every field is validated on construction; a bad value is a one-line
``ValueError`` naming ``VideoConfig.<field>``, the value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.plumbing.checks import PlainConfig, check_bool, check_choice, check_int, check_number, int_tuple

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

    #: real frames the prediction starts from (oldest first); 2 lets the model see the arm's velocity
    context_frames: int = 2
    #: False: deterministic latent dynamics; True: a per-step latent variable with a learned prior
    #: (and, in training, a posterior that sees the next frame; KL weight ``kl_weight`` of training)
    stochastic: bool = False
    #: output channels of the encoder's 4×4 stride-2 convs; their number n sets the latent side
    #: image_size / 2^n (64 → 8 with three), the decoder mirrors them
    encoder_channels: tuple[int, ...] = (16, 32, 64)
    #: channels of the spatial latent state (per latent cell)
    latent_channels: int = 32
    #: gated blocks of the transition per step, each: 3×3 conv → action FiLM → leaky ReLU → 1×1 conv →
    #: gate, candidate (one block: a 200 × 10 rollout takes ~50 ms on the 2 cores, two: ~85 ms)
    transition_blocks: int = 1
    #: hidden channels inside a transition block
    transition_hidden: int = 64
    #: size of the action embedding (MLP on the action) that produces every block's FiLM scale/shift
    action_embed: int = 64
    #: add the last context frame's encoder features to the decoder at each resolution (U-Net skips;
    #: computed once per context, shared by all N sequences)
    skip: bool = True
    #: predict a mask m and output m·generated + (1−m)·last context frame (sharp static background)
    mask: bool = True
    #: (with mask) also predict a per-pixel flow and blend with the last context frame warped by it
    #: instead of the frame itself (CDNA/SV2P-style: moved things keep their pixels)
    flow: bool = True
    #: stochastic only: channels of the per-step latent variable (per latent cell)
    stoch_channels: int = 4
    #: stochastic only: floor of the prior/posterior standard deviations
    min_std: float = 0.1
    #: stochastic only, at prediction time: mean = use the prior's mean (deterministic); sample = draw
    #: from the prior (pass a torch.Generator for reproducible samples)
    sample: str = "mean"
    #: size of the robot's proprioceptive vector the model also conditions on (0 = frames only; 14 on the
    #: desk: TCP position, TCP velocity, finger opening, 7 joint angles). A single camera leaves the hand's
    #: height ambiguous; with proprioception the model predicts the robot's state step by step (a small
    #: MLP) and every transition step sees the state before and after its action
    proprio_dim: int = 0
    #: hidden width of the proprioception MLP (two hidden layers)
    proprio_hidden: int = 128
    #: action dimensions (4 on the desk: TCP dx, dy, dz as a fraction of the max step, gripper)
    action_dim: int = 4
    #: image side (pixels); inputs must be image_size × image_size
    image_size: int = 64
    #: image channels (3 for RGB)
    channels: int = 3
    #: sequences per internal batch of predict()/rollout(), frames per decoder batch of decode() (bounds
    #: their memory; results do not depend on it)
    chunk: int = 256
    #: run the convolutions in channels-last (NHWC) memory layout (same results up to float rounding;
    #: ~10% faster planning calls on the 2-core CPU)
    channels_last: bool = True

    def __post_init__(self) -> None:
        self.encoder_channels = int_tuple(self, "encoder_channels", self.encoder_channels, 1)
        for name in (
            "context_frames",
            "latent_channels",
            "transition_hidden",
            "action_embed",
            "stoch_channels",
            "action_dim",
            "proprio_hidden",
            "image_size",
            "channels",
            "chunk",
        ):
            check_int(self, name, getattr(self, name), 1)
        check_int(self, "transition_blocks", self.transition_blocks, 0)
        check_int(self, "proprio_dim", self.proprio_dim, 0)
        for name in ("stochastic", "skip", "mask", "flow", "channels_last"):
            check_bool(self, name, getattr(self, name))
        check_choice(self, "sample", self.sample, SAMPLE_MODES)
        self.min_std = check_number(self, "min_std", self.min_std, 0, lo_open=True)
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
