"""``DVDConfig``: the architecture of a DVD video reward (``DVDReward``), and what it was trained on (``DVDVocabulary``).

Each field of ``DVDConfig`` is declared once, with ``sim.plumbing.settings.knob``; ``conf/reward/dvd.yaml`` is
generated from it (``python -m robolearn.conf_files --write``; its ``_target_`` is ``rewards.dvd.DVDConfig``). Every
field is validated on construction; a bad value is a one-line ``ValueError`` naming ``DVDConfig.<field>``, the value
and what is allowed.

Light: imports neither torch nor the simulator (configs never do; ``tests/sim/test_light_imports.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewards.nets import conv_output_size, conv_padding, conv_stack_side
from sim.plumbing.checks import PlainConfig, int_tuple
from sim.plumbing.settings import check_knobs, knob

__all__ = [
    "DESK_STATE_NAMES",
    "HEADS",
    "RUNTIME_FIELDS",
    "TEMPORAL",
    "DVDConfig",
    "DVDVocabulary",
    "conv_output_size",
    "conv_padding",
]

#: the similarity heads: symmetric = cosine of L2-normalised embeddings (swap-invariant by construction);
#: concat = DVD's concat(e1, e2) → MLP → same / different (the baseline; order-dependent)
HEADS = ("symmetric", "concat")
#: how the per-frame features are combined over time: conv = 1D temporal convolutions then the time axis
#: flattened (order-aware: a reversed clip differs); mean = averaged over time (order-blind; for comparison)
TEMPORAL = ("conv", "mean")
#: what a frame's CNN sees (``DVDConfig.frame_input``)
FRAME_INPUTS = ("rgb", "rgb_diff")
#: the desk scene's object states (``sim.scenes.desk``): each mug's position (m), then the drawer's opening (m), the
#: cabinet door's angle (rad), the faucet lever's angle (rad) and the button's depression (m)
DESK_STATE_NAMES = (
    "black_mug.x",
    "black_mug.y",
    "black_mug.z",
    "white_mug.x",
    "white_mug.y",
    "white_mug.z",
    "drawer",
    "cabinet_door",
    "faucet",
    "button",
)
#: config fields that do not change the weights: a model may differ from its checkpoint in these
RUNTIME_FIELDS = ("dropout", "progress_weight", "score_chunk", "demo_cache")


@dataclass
class DVDConfig(PlainConfig):
    """Architecture of a ``DVDReward``; validated on construction (``ValueError`` naming the field).

    Each field is declared once, with ``sim.plumbing.settings.knob``; ``conf/reward/dvd.yaml`` is generated from it
    (``python -m robolearn.conf_files --write``).
    """

    head: str = knob(
        "symmetric",
        "symmetric = P(same task) = sigmoid(scale · cos(e1, e2) + bias) of L2-normalised clip embeddings (swapping the "
        "two clips never changes it) | concat = DVD's baseline, concat(e1, e2) → MLP → 2-way softmax (order matters; "
        "scored as (candidate, demo), never swapped at random)",
        choices=HEADS,
    )
    num_frames: int = knob(
        6,
        "frames encoded per clip (count), evenly spaced over the clip, first and last included; a clip of another "
        "length is resampled (nearest frame)",
        lo=2,
    )
    image_size: int = knob(64, "frame side (pixels); clips must be image_size × image_size", lo=8)
    channels: int = knob(3, "frame channels (3 = RGB)", lo=1)
    frame_input: str = knob(
        "rgb_diff",
        "what each frame's CNN sees: rgb = the frame | rgb_diff = the frame and its difference from the clip's first "
        "frame (6 channels): what changed stands out whatever the scene looks like, which is what carries a task "
        "across embodiments and scenes",
        choices=FRAME_INPUTS,
    )
    pixel_mean: float = knob(0.5, "pixels in [0, 1] are normalised to (x − pixel_mean) / pixel_std", lo=0, hi=1)
    pixel_std: float = knob(0.5, "see pixel_mean", lo=0, lo_open=True)
    cnn_channels: tuple[int, ...] = knob(
        (32, 64, 128),
        "output channels of each per-frame conv layer (one entry per layer); 16-32-64 scores 200 clips in about 40% "
        "less time, 0.01-0.02 lower on every held-out split (docs/benchmarks.md)",
        lo=1,
    )
    cnn_kernels: tuple[int, ...] = knob(
        (4, 3, 3), "square kernel side of each conv layer (pixels); the first is a 4×4 patchify conv", lo=1
    )
    cnn_strides: tuple[int, ...] = knob(
        (4, 2, 2), "stride of each conv layer; the product is the downsampling (64×64 → 4×4)", lo=1
    )
    norm_groups: int = knob(8, "GroupNorm groups after each conv (count); must divide every cnn_channels entry", lo=1)
    frame_dim: int = knob(128, "per-frame feature size (flattened conv map → linear) (features)", lo=1)
    temporal: str = knob(
        "conv",
        "conv = temporal_layers residual 1D convolutions over the frame features, then the time axis flattened "
        "(order-aware) | mean = average over time (order-blind)",
        choices=TEMPORAL,
    )
    temporal_layers: int = knob(1, "residual 1D temporal conv layers (kernel temporal_kernel) with temporal=conv", lo=0)
    temporal_kernel: int = knob(3, "temporal conv kernel (frames; odd)", lo=1)
    embed_dim: int = knob(128, "clip embedding size (features)", lo=1)
    init_scale: float = knob(
        10.0, "symmetric head: initial cosine scale (inverse temperature; learned, kept in [1, 100])", lo=1, hi=100
    )
    init_bias: float = knob(-5.0, "symmetric head: initial logit bias (learned)")
    concat_dims: tuple[int, ...] = knob(
        (256, 128), "concat head: hidden widths of the MLP over concat(e1, e2) (features)", lo=1
    )
    progress_head: bool = knob(
        True,
        "a progress head: the clip's progress in [0, 1] (fraction of its task done at its last frame), trained on "
        "rendered clips; scores use it only multiplied with P(same task) (progress_weight), never alone",
    )
    progress_dim: int = knob(64, "progress head hidden width (features)", lo=1)
    progress_weight: float = knob(
        0.5,
        "score = P(same task) · (1 − w + w · progress(candidate)); 0 = P(same task) alone (needs progress_head for > 0)",
        lo=0,
        hi=1,
    )
    state_names: tuple[str, ...] = knob(
        DESK_STATE_NAMES,
        "object states (``object_state_names`` of rendered clips) whose change from a clip's first frame to its last "
        "a state head predicts from the clip's embedding, trained on the rendered clips that record all of them (the "
        "others, e.g. imported videos, are left out): it makes the embedding say what changed in the scene, whoever "
        "changed it (not used by score()); default: the desk's 10 (validation: held-out actor +0.01, new_arrangement "
        "+0.01, human-only tasks +0.01, docs/benchmarks.md); [] = no state head",
    )
    state_dim: int = knob(64, "state head hidden width (features)", lo=1)
    dropout: float = knob(0.1, "dropout before each head layer, training only", lo=0.0, hi=1.0, hi_open=True)
    score_chunk: int = knob(256, "clips per encoder call inside score() (count; bounds memory)", lo=1)
    demo_cache: int = knob(8, "demo sets whose embeddings score() keeps (count; keyed by content)", lo=0)

    def __post_init__(self) -> None:
        self.cnn_channels = int_tuple(self, "cnn_channels", self.cnn_channels, 1)
        self.cnn_kernels = int_tuple(self, "cnn_kernels", self.cnn_kernels, 1)
        self.cnn_strides = int_tuple(self, "cnn_strides", self.cnn_strides, 1)
        self.concat_dims = int_tuple(self, "concat_dims", self.concat_dims, 1)
        if isinstance(self.state_names, str) or not all(isinstance(n, str) and n for n in self.state_names):
            raise ValueError(
                f"DVDConfig.state_names must be a list of object state names (e.g. [drawer, button]), got "
                f"{self.state_names!r}"
            )
        self.state_names = tuple(self.state_names)
        if len(set(self.state_names)) != len(self.state_names):
            raise ValueError(f"DVDConfig.state_names lists a name twice: {list(self.state_names)}")
        check_knobs(self, "DVDConfig")
        for name in ("pixel_mean", "pixel_std", "init_scale", "init_bias", "progress_weight", "dropout"):
            setattr(self, name, float(getattr(self, name)))
        n = len(self.cnn_channels)
        if len(self.cnn_kernels) != n or len(self.cnn_strides) != n:
            raise ValueError(
                f"DVDConfig.cnn_channels, cnn_kernels and cnn_strides need one entry per conv layer; got lengths "
                f"{n}, {len(self.cnn_kernels)}, {len(self.cnn_strides)}"
            )
        if any(c % self.norm_groups for c in self.cnn_channels):
            raise ValueError(
                f"DVDConfig.norm_groups={self.norm_groups} must divide every entry of cnn_channels="
                f"{list(self.cnn_channels)}"
            )
        if self.temporal_kernel % 2 == 0:
            raise ValueError(
                f"DVDConfig.temporal_kernel={self.temporal_kernel} must be odd (same-length padding); use e.g. 3"
            )
        if self.progress_weight > 0 and not self.progress_head:
            raise ValueError(
                f"DVDConfig.progress_weight={self.progress_weight} needs progress_head=true (or set progress_weight=0)"
            )
        downsampling = math.prod(self.cnn_strides)
        if self.image_size < downsampling:
            raise ValueError(
                f"DVDConfig.image_size={self.image_size} is too small for cnn_strides={list(self.cnn_strides)} (total "
                f"downsampling {downsampling}); use fewer layers or smaller strides"
            )

    @property
    def feature_side(self) -> int:
        """Side of the last per-frame conv feature map (pixels; 4 for 64×64 and strides 4, 2, 2)."""
        return conv_stack_side(self.image_size, self.cnn_kernels, self.cnn_strides)


@dataclass(frozen=True)
class DVDVocabulary:
    """What a DVD reward was trained on, saved in its checkpoint (the evaluation's splits are defined by it).

    Attributes:
        labels: every "same task" label of the training clips (``ClipInfo.label``), sorted.
        robot_labels: the labels that had robot clips in training (the rest were seen only in human videos).
        actors: the non-robot actors of the training clips (an actor not listed is held out).
        variants: the variants of the training robot clips (robot clips in other variants are held out).
    """

    labels: tuple[str, ...] = ()
    robot_labels: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()

    @property
    def human_only_labels(self) -> tuple[str, ...]:
        """Labels trained on only in human videos (no robot clip of them in training), sorted."""
        robot = set(self.robot_labels)
        return tuple(label for label in self.labels if label not in robot)

    def to_dict(self) -> dict[str, list[str]]:
        """Plain dict (lists) for a checkpoint's ``extra``."""
        return {k: list(getattr(self, k)) for k in ("labels", "robot_labels", "actors", "variants")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DVDVocabulary:
        """Inverse of ``to_dict`` (missing keys: empty); a malformed entry is a one-line ``ValueError``."""
        data = dict(data or {})
        out: dict[str, tuple[str, ...]] = {}
        for key in ("labels", "robot_labels", "actors", "variants"):
            value = data.get(key, ())
            if not isinstance(value, Sequence) or isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"DVDVocabulary.{key} must be a list of strings, got {value!r}")
            out[key] = tuple(sorted(set(value)))
        return cls(**out)
