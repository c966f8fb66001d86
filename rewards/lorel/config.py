"""``LorelConfig``: the architecture of a LOReL reward (``LorelReward``), and the conv geometry it implies.

Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/reward/lorel.yaml`` is generated from
it (``python -m robolearn.conf_files --write``; its ``_target_`` is ``rewards.lorel.LorelConfig``). Every field is validated on construction; a bad value is a one-line
``ValueError`` naming ``LorelConfig.<field>``, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rewards.nets import conv_output_size, conv_padding, conv_stack_side
from rewards.text import DEFAULT_TEXT_MODEL
from sim.plumbing.checks import PlainConfig, int_tuple
from sim.plumbing.settings import check_knobs, knob

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


@dataclass
class LorelConfig(PlainConfig):
    """Architecture of a ``LorelReward``; validated on construction (``ValueError`` naming the field).

    Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/reward/lorel.yaml`` is generated
    from it (``python -m robolearn.conf_files --write``).
    """

    fusion: str = knob(
        "early",
        "early = s0 and s_t stacked channel-wise (2C×H×W) into one CNN, as LOReL; late = one shared CNN per frame, "
        "head sees [φ(s_t)−φ(s0), φ(s_t), φ(s0)]",
        choices=FUSIONS,
    )
    conditioning: str = knob(
        "concat",
        "how the instruction enters the head: concat = projected text appended to the head input (as LOReL); "
        "film = per-feature scale/shift γ, β of every hidden layer",
        choices=CONDITIONINGS,
    )
    cnn_channels: tuple[int, ...] = knob(
        (32, 64, 128), "output channels of each conv layer (one entry per layer)", lo=1
    )
    cnn_kernels: tuple[int, ...] = knob(
        (4, 3, 3),
        "square kernel side of each conv layer (pixels); padding max(0, (kernel−stride+1)//2); the first is a 4×4 "
        "patchify conv (no padding)",
        lo=1,
    )
    cnn_strides: tuple[int, ...] = knob(
        (4, 2, 2), "stride of each conv layer; the product is the downsampling (64×64 → 4×4)", lo=1
    )
    norm: str = knob(
        "group",
        "after each conv: group = GroupNorm (per sample: scores never depend on the batch) | none",
        choices=NORMS,
    )
    norm_groups: int = knob(8, "GroupNorm groups (count); must divide every entry of cnn_channels", lo=1)
    embed_dim: int = knob(
        128,
        "size of the image embedding (flattened conv map → linear) and of the projected text (features)",
        lo=1,
    )
    text_norm: str = knob(
        "batch",
        "projected text normalisation: batch = BatchNorm (running statistics at eval; separates instructions whose "
        "sentence embeddings are nearly parallel, e.g. left/right) | none",
        choices=TEXT_NORMS,
    )
    head_dims: tuple[int, ...] = knob((256, 256), "hidden layer widths of the head MLP (features)", lo=1)
    dropout: float = knob(
        0.1, "dropout probability after each hidden head layer, training only", lo=0.0, hi=1.0, hi_open=True
    )
    text_model: str = knob(
        DEFAULT_TEXT_MODEL,
        "sentence encoder: all-MiniLM-L6-v2 (packaged offline copy, 384-d), a Hugging Face id, or a local folder",
    )
    finetune_text: bool = knob(
        False, "true = fine-tune the sentence encoder too; false = frozen, embeddings cached per instruction"
    )
    text_noise: float = knob(
        1.0,
        "norm of the Gaussian noise on the unit-norm instruction embedding: a fresh draw per training item, and the "
        "neighbourhood scores are averaged over at inference (0 = none; LOReL used U(±0.1) per component)",
        lo=0.0,
    )
    text_smoothing: int = knob(
        16,
        "inference: average the probability over this many fixed noisy copies of the instruction embedding (head "
        "passes per score; the CNN runs once); 0 = the clean embedding only",
        lo=0,
    )
    image_size: int = knob(64, "image side (pixels); inputs must be image_size × image_size", lo=1)
    channels: int = knob(3, "image channels (3 = RGB)", lo=1)
    score_chunk: int = knob(
        512, "frames per CNN call inside score() / score_pairs() (count; bounds their memory)", lo=1
    )
    channels_last: bool = knob(
        False,
        "run the CNN in channels-last (NHWC) memory layout (same results up to float rounding); faster convs but "
        "slower GroupNorm on CPU: helps only with norm=none",
    )

    def __post_init__(self) -> None:
        self.cnn_channels = int_tuple(self, "cnn_channels", self.cnn_channels, 1)
        self.cnn_kernels = int_tuple(self, "cnn_kernels", self.cnn_kernels, 1)
        self.cnn_strides = int_tuple(self, "cnn_strides", self.cnn_strides, 1)
        self.head_dims = int_tuple(self, "head_dims", self.head_dims, 1)
        check_knobs(self, "LorelConfig")
        self.text_noise = float(self.text_noise)
        self.dropout = float(self.dropout)
        n = len(self.cnn_channels)
        if len(self.cnn_kernels) != n or len(self.cnn_strides) != n:
            raise ValueError(
                f"LorelConfig.cnn_channels, cnn_kernels and cnn_strides need one entry per conv "
                f"layer; got lengths {n}, {len(self.cnn_kernels)}, {len(self.cnn_strides)}"
            )
        if self.norm == "group" and any(c % self.norm_groups for c in self.cnn_channels):
            raise ValueError(
                f"LorelConfig.norm_groups={self.norm_groups} must divide every entry of "
                f"cnn_channels={list(self.cnn_channels)} (or set norm=none)"
            )
        if not self.text_model:
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
        return conv_stack_side(self.image_size, self.cnn_kernels, self.cnn_strides)
