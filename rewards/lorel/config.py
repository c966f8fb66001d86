"""``LorelConfig``: the architecture of a LOReL reward (``LorelReward``), and the conv geometry it implies.

``conf/reward/lorel.yaml`` mirrors these fields and defaults for Hydra (its ``_target_`` is
``rewards.lorel.LorelConfig``). Every field is validated on construction; a bad value is a one-line
``ValueError`` naming ``LorelConfig.<field>``, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rewards.text import DEFAULT_TEXT_MODEL
from sim.plumbing.checks import PlainConfig, check_bool, check_choice, check_int, int_tuple

__all__ = [
    "CONDITIONINGS",
    "FUSIONS",
    "NORMS",
    "RUNTIME_FIELDS",
    "TEXT_NORMS",
    "LorelConfig",
    "conv_output_size",
    "conv_padding",
]

FUSIONS = ("early", "late")
CONDITIONINGS = ("concat", "film")
NORMS = ("group", "none")
TEXT_NORMS = ("batch", "none")
#: config fields that do not change the weights: a model may differ from its checkpoint in these
RUNTIME_FIELDS = ("dropout", "score_chunk", "channels_last")


def conv_padding(kernel: int, stride: int) -> int:
    """Zero padding per side (pixels) that makes a conv output ⌈size / stride⌉ wide for the usual
    kernels (3/s1, 3/s2, 4/s2, 5/s2, ...) and none for a patchify conv (kernel == stride), so that
    every input pixel is covered and patches are aligned with the image."""
    return max(0, (kernel - stride + 1) // 2)


def conv_output_size(size: int, kernel: int, stride: int) -> int:
    """Side of a conv output with ``conv_padding`` (pixels)."""
    return (size + 2 * conv_padding(kernel, stride) - kernel) // stride + 1


@dataclass
class LorelConfig(PlainConfig):
    """Architecture of a ``LorelReward``; validated on construction (``ValueError`` naming the field).

    ``conf/reward/lorel.yaml`` mirrors these fields and defaults for Hydra.
    """

    #: how frames meet: early = s0 ⊕ s_t channels into one CNN (LOReL); late = shared CNN per frame
    fusion: str = "early"
    #: how the instruction enters the head: concat = projected text appended to the head input (as
    #: LOReL); film = text-conditioned scale/shift γ, β of every hidden layer
    conditioning: str = "concat"
    #: output channels of each conv layer (one entry per layer)
    cnn_channels: tuple[int, ...] = (32, 64, 128)
    #: square kernel side of each conv layer (pixels); padding max(0, (kernel − stride + 1) // 2). The default
    #: first layer is a 4×4 "patchify" conv with stride 4 (non-overlapping 4×4 patches)
    cnn_kernels: tuple[int, ...] = (4, 3, 3)
    #: stride of each conv layer; their product is the total downsampling (64 → 4 by default)
    cnn_strides: tuple[int, ...] = (4, 2, 2)
    #: normalisation after each conv: group (GroupNorm, per sample, so scores never depend on the
    #: batch) or none
    norm: str = "group"
    #: groups of each GroupNorm; must divide every entry of cnn_channels
    norm_groups: int = 8
    #: size of the image embedding (flattened conv features → linear) and of the projected text
    embed_dim: int = 128
    #: normalisation of the projected text: batch (BatchNorm, running statistics at eval; separates
    #: near-parallel sentence embeddings, see RewardHead) or none
    text_norm: str = "batch"
    #: hidden layer widths of the head MLP
    head_dims: tuple[int, ...] = (256, 256)
    #: dropout probability after each hidden head layer (training only)
    dropout: float = 0.1
    #: sentence encoder: all-MiniLM-L6-v2 (packaged offline copy), a Hub id or a local folder
    text_model: str = DEFAULT_TEXT_MODEL
    #: fine-tune the sentence encoder with the reward (False: frozen, embeddings cached)
    finetune_text: bool = False
    #: norm of the isotropic Gaussian noise on the (unit-norm) instruction embedding: added in training
    #: (a fresh draw per item), and the neighbourhood scores are averaged over at inference
    #: (``text_smoothing``). It makes the reward accept a neighbourhood of each training sentence, i.e.
    #: unseen synonyms (LOReL added U(±0.1) per component). 0 = none
    text_noise: float = 1.0
    #: inference: average the probability over this many fixed noisy copies of the instruction
    #: embedding (norm ``text_noise``): the classifier's expectation over the noise it was trained
    #: with, which generalises to unseen nouns better than the clean embedding (measured in
    #: docs/benchmarks.md). Costs this many head passes per score (the CNN runs once). 0 = off
    text_smoothing: int = 16
    #: image side (pixels); inputs must be image_size × image_size
    image_size: int = 64
    #: image channels (3 for RGB)
    channels: int = 3
    #: frames per forward pass inside score()/score_pairs() (bounds their memory)
    score_chunk: int = 512
    #: run the CNN in channels-last (NHWC) memory layout; results are the same up to float rounding.
    #: Off by default: on the 2-core EPYC it sped up the convs but slowed GroupNorm and the early-fusion
    #: input interleave, a net loss (it helps with norm=none)
    channels_last: bool = False

    def __post_init__(self) -> None:
        check_choice(self, "fusion", self.fusion, FUSIONS)
        check_choice(self, "conditioning", self.conditioning, CONDITIONINGS)
        check_choice(self, "norm", self.norm, NORMS)
        check_choice(self, "text_norm", self.text_norm, TEXT_NORMS)
        self.cnn_channels = int_tuple(self, "cnn_channels", self.cnn_channels, 1)
        self.cnn_kernels = int_tuple(self, "cnn_kernels", self.cnn_kernels, 1)
        self.cnn_strides = int_tuple(self, "cnn_strides", self.cnn_strides, 1)
        self.head_dims = int_tuple(self, "head_dims", self.head_dims, 1)
        n = len(self.cnn_channels)
        if len(self.cnn_kernels) != n or len(self.cnn_strides) != n:
            raise ValueError(
                f"LorelConfig.cnn_channels, cnn_kernels and cnn_strides need one entry per conv "
                f"layer; got lengths {n}, {len(self.cnn_kernels)}, {len(self.cnn_strides)}"
            )
        for name in ("norm_groups", "embed_dim", "image_size", "channels", "score_chunk"):
            check_int(self, name, getattr(self, name), 1)
        check_int(self, "text_smoothing", self.text_smoothing, 0)
        if isinstance(self.text_noise, bool) or not isinstance(self.text_noise, (int, float)) or self.text_noise < 0:
            raise ValueError(f"LorelConfig.text_noise must be a number ≥ 0 (a norm), got {self.text_noise!r}")
        self.text_noise = float(self.text_noise)
        if self.norm == "group" and any(c % self.norm_groups for c in self.cnn_channels):
            raise ValueError(
                f"LorelConfig.norm_groups={self.norm_groups} must divide every entry of "
                f"cnn_channels={list(self.cnn_channels)} (or set norm=none)"
            )
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"LorelConfig.dropout must be a probability in [0, 1), got {self.dropout!r}")
        self.dropout = float(self.dropout)
        for name in ("finetune_text", "channels_last"):
            check_bool(self, name, getattr(self, name))
        if not isinstance(self.text_model, str) or not self.text_model:
            raise ValueError(f"LorelConfig.text_model must be a model name or folder, got {self.text_model!r}")
        downsampling = math.prod(self.cnn_strides)
        if self.image_size < downsampling:
            raise ValueError(
                f"LorelConfig.image_size={self.image_size} is too small for cnn_strides="
                f"{list(self.cnn_strides)} (total downsampling {downsampling}): the last layers would "
                "see a 1×1 map of mostly padding; use fewer layers or smaller strides"
            )

    @property
    def feature_side(self) -> int:
        """Side of the last conv feature map (pixels; 4 for 64×64 inputs and the default strides 4, 2, 2)."""
        side = self.image_size
        for k, s in zip(self.cnn_kernels, self.cnn_strides):
            side = conv_output_size(side, k, s)
        return side
