"""``LorelReward``: LOReL-style language-conditioned reward, R(s0, s_t, instruction) = P(s0 → s_t completes it).

After Nair et al., "Learning Language-Conditioned Robot Behavior from Offline Data and Crowd-Sourced
Annotation" (CoRL 2021), with these deliberate changes:

* text: a frozen sentence encoder with attention-mask mean pooling (``rewards.text``), instead of
  DistilBERT's hidden state at the last *padded* position, which made an instruction's embedding
  depend on the other sentences of its batch;
* text projection: batch-normalised, because sentence embeddings of instructions that differ in
  one word are nearly parallel (see ``RewardHead``); without it a left/right task is not learned;
* images: a small CNN (~3 M multiply-adds per 64×64 encoding instead of LOReL's ~70 M; a 4×4
  stride-4 "patchify" first layer, then two stride-2 convs, GroupNorm), so that a planner can score
  thousands of predicted frames per second on a CPU;
* head: the projected text is concatenated with the image features into an MLP, as in LOReL
  (``conditioning="concat"``, the default); FiLM (text-conditioned scale/shift of every hidden layer)
  is an option, but learned more slowly and plateaued lower on a synthetic two-object binding
  task ("move the red/blue square left/right": held-out AUC 0.83–0.96 vs 1.00 for concat, 3 seeds).

Two fusions of the frames:

* ``early`` (LOReL): s0 and s_t are stacked channel-wise (2C × H × W) and encoded together, so the
  first convolution already sees pixel differences;
* ``late``: one shared CNN φ encodes each frame and the head sees [φ(s_t) − φ(s0), φ(s_t), φ(s0)].

For planners, ``score(s0, frames, instruction)`` scores N (or N×T) predicted frames against one start
frame and one instruction, encoding the instruction once and — late fusion — s0 once; early fusion
still computes s0's share of the first convolution once (a convolution is linear in its input
channels). Images are uint8 in [0, 255] or float in [0, 1], shaped (..., C, H, W).

Example:
    >>> model = LorelReward(LorelConfig(fusion="early"))                 # s0, st: (8, 3, 64, 64) uint8
    >>> emb = model.encode_text(["open the drawer"] * 8)                 # (8, 384)
    >>> logits = model(s0, st, emb)                                       # (8,), for BCE-with-logits
    >>> p = model.score(s0[0], predicted, "open the drawer")             # predicted: (N, T, 3, 64, 64)
    >>> p.shape                                                           # (N, T), in [0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.module import _IncompatibleKeys

from rewards.lorel.config import LorelConfig
from rewards.nets import conv_output_size, conv_padding, evaluating
from rewards.text import TextEncoder
from sim.plumbing.checks import state_dict_problems

__all__ = ["TEXT_PREFIX", "ConvEncoder", "LorelReward", "RewardHead", "state_problems"]

#: uint8 pixel values are divided by this to get [0, 1]
PIXEL_MAX = 255.0
#: [0, 1] images are mapped to [-1, 1]: (x − IMAGE_MEAN) / IMAGE_STD, centred inputs for the first conv
IMAGE_MEAN = 0.5
IMAGE_STD = 0.5
#: late fusion combines three copies of the frame embedding: φ(s_t) − φ(s0), φ(s_t), φ(s0)
LATE_FUSION_TERMS = 3
#: frames stacked per early-fusion input: s0 and s_t
EARLY_FUSION_FRAMES = 2
#: seed of the fixed text-smoothing draws (LorelConfig.text_smoothing)
SMOOTHING_SEED = 0


def _weight_and_bias(layer: nn.Module) -> tuple[Tensor, Tensor]:
    """The weight and bias of a linear layer (every such layer here has a bias).

    nn.Module's attribute lookup is typed ``Tensor | Module``; this narrows both to the tensors that the
    initialisation writes and the head reads.
    """
    weight, bias = layer.weight, layer.bias
    if not isinstance(weight, Tensor) or not isinstance(bias, Tensor):
        raise TypeError(f"{type(layer).__name__} has no weight and bias")
    return weight, bias


# -------------------------------------------------------------------------------------------- image
class ConvEncoder(nn.Module):
    """Images (N, C_in, H, W) in [-1, 1] → embeddings (N, embed_dim).

    Conv → [GroupNorm] → ReLU per layer, then the last feature map is flattened (keeping *where*
    things are, which matters for "left"/"right") and projected linearly. The first convolution is
    kept apart (``stem``) so that early fusion can compute s0's share of it once per planning call.
    """

    def __init__(self, in_channels: int, config: LorelConfig):
        super().__init__()
        c = config
        use_norm = c.norm == "group"
        widths = (in_channels, *c.cnn_channels)
        convs = [
            nn.Conv2d(widths[i], widths[i + 1], k, s, padding=conv_padding(k, s), bias=not use_norm)
            for i, (k, s) in enumerate(zip(c.cnn_kernels, c.cnn_strides))
        ]  # a norm's shift replaces the bias
        self.stem = convs[0]
        body: list[nn.Module] = []
        for i, conv in enumerate(convs):
            if i:
                body.append(conv)
            if use_norm:
                body.append(nn.GroupNorm(c.norm_groups, c.cnn_channels[i]))
            body.append(nn.ReLU(inplace=True))
        body.append(nn.Flatten())
        self.body = nn.Sequential(*body)
        self.proj = nn.Linear(c.cnn_channels[-1] * c.feature_side**2, c.embed_dim)
        self._macs = self._count_macs(in_channels, c)
        #: layout of the conv inputs and weights (flatten still reads features in (C, H, W) order)
        self.memory_format = torch.channels_last if c.channels_last else torch.contiguous_format
        # torch's stubs for Module.to omit the memory_format keyword that it takes (and documents)
        self.to(memory_format=self.memory_format)  # type: ignore[call-overload]

    @staticmethod
    def _count_macs(in_channels: int, c: LorelConfig) -> int:
        side, cin, total = c.image_size, in_channels, 0
        for cout, k, s in zip(c.cnn_channels, c.cnn_kernels, c.cnn_strides):
            side = conv_output_size(side, k, s)
            total += side * side * cout * cin * k * k
            cin = cout
        return total + cin * side * side * c.embed_dim

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one forward pass of one image (convs + projection)."""
        return self._macs

    def stem_part(self, x: Tensor, start: int, with_bias: bool) -> Tensor:
        """The first convolution restricted to input channels [start, start + x.shape[1]).

        Summing the parts over a partition of the channels gives ``stem(x)`` (zero padding is per
        channel, so this is exact up to float rounding).
        """
        w = self.stem.weight[:, start : start + x.shape[1]].contiguous(memory_format=self.memory_format)
        bias = self.stem.bias if with_bias else None
        return F.conv2d(x.contiguous(memory_format=self.memory_format), w, bias, self.stem.stride, self.stem.padding)

    def from_stem(self, h: Tensor) -> Tensor:
        """The rest of the network after the first convolution's output (N, C1, H1, W1) → (N, E)."""
        return self.proj(self.body(h))

    def forward(self, x: Tensor) -> Tensor:
        return self.from_stem(self.stem(x.contiguous(memory_format=self.memory_format)))


# --------------------------------------------------------------------------------------------- head
class RewardHead(nn.Module):
    """(image features (N, F), instruction condition) → logits (N,).

    ``condition(text_emb)`` turns (U, D) text embeddings into a tuple of per-instruction tensors,
    each (U, ·); ``forward`` accepts them with U = N, or U = 1 broadcast to every row, so a planner
    computes the condition once per instruction.

    Concat (default): the projected text t(l) is appended to the image features, MLP on [f, t(l)].
    FiLM (Perez et al. 2018): hidden layer i computes ReLU(W_i f · (1 + γ_i(l)) + β_i(l)), γ/β layers
    zero-initialised (training starts from the unconditioned MLP).

    Text projection: Linear → [BatchNorm] → ReLU. Sentence embeddings of instructions that differ
    in one word are nearly parallel (cosine 0.97 for "move the square left" / "... right" with
    all-MiniLM-L6-v2): the part that tells them apart is ~0.2 of the norm, buried under a shared
    component. Standardising the projected text over the batch removes the shared part and scales
    the differences to unit variance; without it the synthetic left/right task of the tests stays
    at chance on the instruction for thousands of steps, with it it is learned in ~200. Eval mode
    (and a training batch of a single row) uses the running statistics, so scores never depend
    on the batch. Train on batches that mix instructions (they otherwise carry no variance).
    """

    def __init__(self, in_dim: int, text_dim: int, config: LorelConfig):
        super().__init__()
        c = config
        self.film = c.conditioning == "film"
        self.text_proj = nn.Linear(text_dim, c.embed_dim)
        self.text_norm = nn.BatchNorm1d(c.embed_dim) if c.text_norm == "batch" else None
        dims = (in_dim + (0 if self.film else c.embed_dim), *c.head_dims)
        self.layers = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(len(c.head_dims)))
        self.films = nn.ModuleList()
        if self.film:
            self.films = nn.ModuleList(nn.Linear(c.embed_dim, 2 * h) for h in c.head_dims)
            for lin in self.films:  # identity modulation at init: γ = β = 0
                weight, bias = _weight_and_bias(lin)
                nn.init.zeros_(weight)
                nn.init.zeros_(bias)
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.head_dims[-1], 1)
        self.macs = sum(lin.in_features * lin.out_features for lin in (*self.layers, self.out))

    def condition(self, text_emb: Tensor) -> tuple[Tensor, ...]:
        """Per-instruction conditioning tensors from (U, D) embeddings: (t,) or (γ_1, β_1, γ_2, ...)."""
        t = self.text_proj(text_emb)  # (U, E)
        if self.text_norm is not None:
            bn = self.text_norm
            # batch statistics only with ≥ 2 rows: one row (a broadcast instruction) has no variance
            batch_stats = self.training and t.shape[0] > 1
            assert bn.momentum is not None, "the text norm is built with the default momentum (0.1)"
            t = F.batch_norm(
                t,
                bn.running_mean,
                bn.running_var,
                bn.weight,
                bn.bias,
                training=batch_stats,
                momentum=bn.momentum,
                eps=bn.eps,
            )
        t = F.relu(t)
        if not self.film:
            return (t,)
        return tuple(part for lin in self.films for part in lin(t).chunk(2, dim=-1))

    def forward_many(self, feats: Tensor, conds: Sequence[Sequence[Tensor]]) -> Tensor:
        """Logits (K, N) of the same features (N, F) under K conditionings (smoothing draws).

        With concat conditioning the first layer is linear in [feats, text], so its feature half is
        computed once and only the text half per draw: K draws cost K passes of the later layers only.
        """
        if self.film or self.training:
            return torch.stack([self(feats, cond) for cond in conds])
        first_weight, first_bias = _weight_and_bias(self.layers[0])
        f_dim = feats.shape[-1]
        h_feats = F.linear(feats, first_weight[:, :f_dim])  # (N, H1)
        text = torch.stack([cond[0].expand(feats.shape[0], -1) for cond in conds])  # (K, N, E)
        h = F.relu(h_feats + F.linear(text, first_weight[:, f_dim:], first_bias))  # (K, N, H1)
        for lin in self.layers[1:]:
            h = F.relu(lin(h))
        return self.out(h).squeeze(-1)

    def forward(self, feats: Tensor, cond: Sequence[Tensor]) -> Tensor:
        h = feats
        if not self.film:
            h = torch.cat([h, cond[0].expand(h.shape[0], -1)], dim=-1)
        for i, lin in enumerate(self.layers):
            h = lin(h)
            if self.film:
                h = h * (1.0 + cond[2 * i]) + cond[2 * i + 1]
            h = self.dropout(F.relu(h))
        return self.out(h).squeeze(-1)


# -------------------------------------------------------------------------------------------- model
class LorelReward(nn.Module):
    """R(s0, s_t, l): logit that going from frame s0 to frame s_t carries out instruction l.

    Args:
        config: architecture (default ``LorelConfig()``).
        text_encoder: an already loaded ``TextEncoder`` to use (e.g. shared by several models in a
            test); it must match ``config.text_model`` and ``config.finetune_text``.
        seed: when given, parameters are initialised from this seed without touching the global
            torch RNG (same seed → same initial weights).

    Shapes: images (B, C, H, W) uint8 in [0, 255] or float in [0, 1]; text embeddings (B, D).
    """

    # fixed text-smoothing draws (register_buffer): typed here, as nn.Module's attribute lookup is
    # Tensor | Module
    smoothing_noise: Tensor

    def __init__(
        self, config: LorelConfig | None = None, *, text_encoder: TextEncoder | None = None, seed: int | None = None
    ):
        super().__init__()
        self.config = c = config if config is not None else LorelConfig()
        if text_encoder is None:
            text_encoder = TextEncoder(c.text_model, frozen=not c.finetune_text)
        elif text_encoder.name != c.text_model or text_encoder.frozen == c.finetune_text:
            raise ValueError(
                f"text_encoder ({text_encoder.name!r}, frozen={text_encoder.frozen}) does not match "
                f"the config (text_model={c.text_model!r}, finetune_text={c.finetune_text})"
            )
        self.text = text_encoder
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            frames = EARLY_FUSION_FRAMES if c.fusion == "early" else 1
            self.encoder = ConvEncoder(frames * c.channels, c)
            fused = c.embed_dim * (1 if c.fusion == "early" else LATE_FUSION_TERMS)
            self.head = RewardHead(fused, self.text.dim, c)
        # Fixed draws (from a constant seed, not saved: a function of the config) so scores are deterministic.
        draws = torch.randn((c.text_smoothing, self.text.dim), generator=torch.Generator().manual_seed(SMOOTHING_SEED))
        self.register_buffer("smoothing_noise", draws * (c.text_noise / math.sqrt(self.text.dim)), persistent=False)

    # ------------------------------------------------------------------------------------ inspection
    @property
    def device(self) -> torch.device:
        """Device of the reward's weights (inputs are moved there)."""
        return self.head.out.weight.device

    def trainable_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters an optimizer should update (the frozen text encoder excluded)."""
        return (p for p in self.parameters() if p.requires_grad)

    def num_parameters(self) -> dict[str, int]:
        """Parameter counts: image encoder, head, text encoder, trainable total."""

        def count(module: nn.Module) -> int:
            return sum(p.numel() for p in module.parameters())

        return {
            "image_encoder": count(self.encoder),
            "head": count(self.head),
            "text_encoder": count(self.text),
            "trainable": sum(p.numel() for p in self.trainable_parameters()),
        }

    def macs(self) -> dict[str, int]:
        """Multiply-accumulates: per CNN pass, per head pass, and per score of each API.

        ``score`` is per scored frame once s0 and the instruction are encoded; ``score_pairs`` per
        (s0, s_t) pair (late fusion encodes both frames; early fusion one stacked pair).
        """
        enc, head = self.encoder.macs, self.head.macs
        if self.config.fusion == "late":
            per_frame, per_pair = enc + head, 2 * enc + head
        else:  # score(): s0's half of the stem is computed once
            c = self.config
            stem_side = conv_output_size(c.image_size, c.cnn_kernels[0], c.cnn_strides[0])
            s0_share = stem_side**2 * c.cnn_channels[0] * c.channels * c.cnn_kernels[0] ** 2
            per_frame, per_pair = enc - s0_share + head, enc + head
        return {"cnn_pass": enc, "head_pass": head, "score_per_frame": per_frame, "score_pairs_per_pair": per_pair}

    # ---------------------------------------------------------------------------------------- pieces
    def _check_images(self, x: Tensor, name: str) -> None:
        c = self.config
        if x.dim() != 4 or tuple(x.shape[1:]) != (c.channels, c.image_size, c.image_size):
            raise ValueError(
                f"{name}: expected shape (N, {c.channels}, {c.image_size}, {c.image_size}), got {tuple(x.shape)}"
            )
        if x.dtype != torch.uint8 and not x.is_floating_point():
            raise ValueError(f"{name}: expected uint8 or float images, got dtype {x.dtype}")

    def _input_buffer(self, n: int, channels: int) -> Tensor:
        side = self.config.image_size
        return torch.empty(n, channels, side, side, device=self.device, memory_format=self.encoder.memory_format)

    @staticmethod
    def _normalize_into(out: Tensor, x: Tensor) -> None:
        """Write images ``x`` into ``out`` (same shape, float32, any layout) mapped to [-1, 1].

        copy (dtype, device and layout conversion in one pass), then two in-place passes; no
        temporaries, the caller's tensor is never modified, and gradients flow back to a float ``x``
        (e.g. for planners that differentiate the reward through predicted frames).
        """
        scale = 1.0 / (PIXEL_MAX * IMAGE_STD) if x.dtype == torch.uint8 else 1.0 / IMAGE_STD
        out.copy_(x).mul_(scale).sub_(IMAGE_MEAN / IMAGE_STD)

    def preprocess(self, x: Tensor, name: str = "images") -> Tensor:
        """uint8 [0, 255] or float [0, 1] images (N, C, H, W) → float32 in [-1, 1] on the model's
        device, in the CNN's memory layout."""
        self._check_images(x, name)
        out = self._input_buffer(x.shape[0], x.shape[1])
        self._normalize_into(out, x)
        return out

    def encode_text(self, instructions: Sequence[str]) -> Tensor:
        """(B,) instruction strings → (B, D) embeddings (cached when the text encoder is frozen)."""
        return self.text.encode(instructions)

    def _fuse_late(self, f0: Tensor, ft: Tensor) -> Tensor:
        return torch.cat([ft - f0, ft, f0.expand_as(ft)], dim=-1)

    def image_features(self, s0: Tensor, st: Tensor) -> Tensor:
        """Fused features of (B, C, H, W) frame pairs → (B, F), F = embed_dim (early) or 3·embed_dim (late)."""
        self._check_images(s0, "s0")
        self._check_images(st, "st")
        n, c = s0.shape[0], self.config.channels
        if st.shape[0] != n:
            raise ValueError(f"s0 and st need the same batch size, got {n} and {st.shape[0]}")
        # Both frames are written straight into one input buffer (no torch.cat copy).
        if self.config.fusion == "early":
            x = self._input_buffer(n, EARLY_FUSION_FRAMES * c)  # (B, 2C, H, W): s0 channels, then st
            self._normalize_into(x[:, :c], s0)
            self._normalize_into(x[:, c:], st)
            return self.encoder(x)
        x = self._input_buffer(2 * n, c)  # (2B, C, H, W): one CNN call for both frames
        self._normalize_into(x[:n], s0)
        self._normalize_into(x[n:], st)
        f0, ft = self.encoder(x).chunk(2)
        return self._fuse_late(f0, ft)

    def forward(self, s0: Tensor, st: Tensor, text_emb: Tensor) -> Tensor:
        """Logits (B,) of P(s0 → st completes the instruction); train with BCE-with-logits.

        Args:
            s0: (B, C, H, W) start frames, uint8 or float in [0, 1].
            st: (B, C, H, W) later frames, same format.
            text_emb: (B, D) instruction embeddings (``encode_text``), or (D,) / (1, D) for one
                instruction shared by the batch.
        """
        if text_emb.dim() == 1:
            text_emb = text_emb.unsqueeze(0)
        feats = self.image_features(s0, st)
        if text_emb.shape[0] not in (1, feats.shape[0]):
            raise ValueError(f"text_emb: expected {feats.shape[0]} or 1 rows, got {text_emb.shape[0]}")
        return self.head(feats, self.head.condition(text_emb.to(self.device)))

    # --------------------------------------------------------------------------------------- scoring
    def noisy_text(self, text_emb: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Training-time text noise: ``text_emb`` (B, D) plus isotropic Gaussian noise of norm ≈ ``text_noise``."""
        if not self.config.text_noise:
            return text_emb
        noise = torch.randn(text_emb.shape, generator=generator) * (
            self.config.text_noise / math.sqrt(text_emb.shape[-1])
        )
        return text_emb + noise.to(text_emb.device)

    def conditions(self, text_emb: Tensor) -> list[tuple[Tensor, ...]]:
        """Inference conditioning of U instructions (U, D): one tuple per smoothing draw (just the clean
        embedding when ``text_smoothing`` is 0), each holding (U, ...) tensors for ``head``."""
        k = self.smoothing_noise.shape[0]
        if k == 0 or not self.config.text_noise:
            return [self.head.condition(text_emb)]
        u, d = text_emb.shape
        noisy = (text_emb[:, None, :] + self.smoothing_noise[None]).reshape(u * k, d)
        cond = self.head.condition(noisy)
        return [tuple(t.reshape(u, k, -1)[:, j] for t in cond) for j in range(k)]

    def head_probabilities(
        self, feats: Tensor, conds: Sequence[tuple[Tensor, ...]], index: Tensor | None = None
    ) -> Tensor:
        """Probabilities (N,) from fused image features (N, F) and ``conditions`` (averaged over the
        smoothing draws); ``index`` (N,) picks each row's instruction, else the one instruction is shared."""
        picked = [cond if index is None else tuple(t[index] for t in cond) for cond in conds]
        return torch.sigmoid(self.head.forward_many(feats, picked)).mean(dim=0)

    def _instruction_embedding(self, instruction: str | Tensor) -> Tensor:
        if isinstance(instruction, str):
            return self.encode_text([instruction])
        emb = instruction.to(self.device)
        return emb.unsqueeze(0) if emb.dim() == 1 else emb

    def score(self, s0: Tensor, frames: Tensor, instruction: str | Tensor, chunk_size: int | None = None) -> Tensor:
        """Probabilities that going from ``s0`` to each frame carries out ``instruction``.

        The instruction is embedded once, and s0 encoded once (late fusion) or its share of the first
        convolution computed once (early fusion); frames go through the CNN ``chunk_size`` at a time
        (default ``config.score_chunk``), in eval mode under ``torch.inference_mode``.

        Args:
            s0: (C, H, W) start frame (uint8, or float in [0, 1]).
            frames: (N, C, H, W) candidate frames, or (N, T, C, H, W) predicted sequences.
            instruction: the instruction string, or its (D,) embedding.
            chunk_size: frames per CNN call.

        Returns:
            float32 probabilities in [0, 1], shape (N,) or (N, T), on the model's device.
        """
        if s0.dim() != 3:
            raise ValueError(f"s0: expected one frame (C, H, W), got shape {tuple(s0.shape)}")
        if frames.dim() not in (4, 5):
            raise ValueError(f"frames: expected (N, C, H, W) or (N, T, C, H, W), got shape {tuple(frames.shape)}")
        lead = frames.shape[:-3]
        flat = frames.reshape(-1, *frames.shape[-3:])
        chunk = self._chunk(chunk_size)
        out = torch.empty(flat.shape[0], device=self.device)
        with evaluating(self), torch.inference_mode():
            conds = self.conditions(self._instruction_embedding(instruction))
            start = self._start_features(s0.unsqueeze(0))
            for i in range(0, flat.shape[0], chunk):
                j = min(i + chunk, flat.shape[0])
                out[i:j] = self.head_probabilities(self._features_from_start(start, flat[i:j]), conds)
        return out.reshape(lead)

    def _start_features(self, s0: Tensor) -> Tensor:
        """What scoring many frames against one start frame (1, C, H, W) reuses: φ(s0) (1, E) for late
        fusion; for early fusion s0's share of the first convolution, bias included, (1, C1, H1, W1)."""
        x0 = self.preprocess(s0, "s0")
        if self.config.fusion == "late":
            return self.encoder(x0)
        return self.encoder.stem_part(x0, 0, with_bias=True)

    def _features_from_start(self, start: Tensor, st: Tensor) -> Tensor:
        """Fused features (N, F) of frames st (N, C, H, W) against ``_start_features`` of one s0."""
        xt = self.preprocess(st, "frames")
        if self.config.fusion == "late":
            return self._fuse_late(start, self.encoder(xt))
        return self.encoder.from_stem(start + self.encoder.stem_part(xt, self.config.channels, with_bias=False))

    def score_pairs(
        self, s0: Tensor, st: Tensor, instructions: Sequence[str] | Tensor, chunk_size: int | None = None
    ) -> Tensor:
        """Probabilities (B,) for B independent (s0, s_t, instruction) triples.

        Each distinct instruction is embedded and conditioned once. An ``s0`` that is one frame
        expanded over the batch (``frame.expand(B, -1, -1, -1)``: batch stride 0) is encoded once, as
        in ``score``. Eval mode, inference mode, ``chunk_size`` pairs per CNN call (default
        ``config.score_chunk``).

        Args:
            s0: (B, C, H, W) start frames; st: (B, C, H, W) later frames (uint8, or float in [0, 1]).
            instructions: B strings, or a (B, D) tensor of embeddings.
        """
        if s0.dim() != 4 or s0.shape != st.shape:
            raise ValueError(
                f"s0 and st: expected two (B, C, H, W) batches of the same shape, "
                f"got {tuple(s0.shape)} and {tuple(st.shape)}"
            )
        n = s0.shape[0]
        if len(instructions) != n:
            raise ValueError(f"instructions: expected {n} (one per pair), got {len(instructions)}")
        chunk = self._chunk(chunk_size)
        out = torch.empty(n, device=self.device)
        with evaluating(self), torch.inference_mode():
            if isinstance(instructions, Tensor):
                conds, index = self.conditions(instructions.to(self.device)), torch.arange(n, device=self.device)
            else:
                distinct = list(dict.fromkeys(instructions))
                position = {s: i for i, s in enumerate(distinct)}
                conds = self.conditions(self.encode_text(distinct))
                index = torch.tensor([position[s] for s in instructions], device=self.device)
            # one start frame for every pair (an expanded tensor): reuse its features
            start = self._start_features(s0[:1]) if n > 1 and s0.stride(0) == 0 else None
            for i in range(0, n, chunk):
                j = min(i + chunk, n)
                feats = (
                    self.image_features(s0[i:j], st[i:j])
                    if start is None
                    else self._features_from_start(start, st[i:j])
                )
                out[i:j] = self.head_probabilities(feats, conds, index[i:j])
        return out

    def _chunk(self, chunk_size: int | None) -> int:
        chunk = self.config.score_chunk if chunk_size is None else chunk_size
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ValueError(f"chunk_size must be an integer ≥ 1, got {chunk!r}")
        return chunk

    # ------------------------------------------------------------------------------------ state dict
    def checkpoint_state_dict(self) -> dict[str, Tensor]:
        """``state_dict`` without the frozen text encoder's weights (they are reloaded by name)."""
        state = self.state_dict()
        if self.text.frozen:
            state = {k: v for k, v in state.items() if not k.startswith(TEXT_PREFIX)}
        return state

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """As ``nn.Module.load_state_dict``, but a frozen text encoder's weights may be absent, and
        mismatched keys or shapes raise a ``ValueError`` naming them (and the likely cause)."""
        problems = state_problems(self, state_dict)
        if strict and problems:
            raise ValueError(
                "state dict does not fit this LorelReward (built with a different config?): "
                + "; ".join(problems)
                + "; fix: build the model with the config the weights were "
                "trained with; for a checkpoint file, rewards.lorel.load_model(path) does that"
            )
        return super().load_state_dict(state_dict, strict=False, assign=assign)


#: prefix of the text encoder's transformer weights in a LorelReward state dict
TEXT_PREFIX = "text.model."


def state_problems(model: LorelReward, state: Mapping[str, Any], limit: int = 8) -> list[str]:
    """Missing/unexpected keys and shape mismatches of ``state`` against ``model`` (readable lines).

    A frozen text encoder's weights may be missing from ``state`` (checkpoints leave them out).
    """
    return state_dict_problems(model.state_dict(), state, TEXT_PREFIX if model.text.frozen else None, limit)
