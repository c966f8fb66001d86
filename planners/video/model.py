"""``VideoModel``: action-conditioned video prediction, built for CPU planning speed.

Design (sizes for the defaults, 64×64 RGB, ``VideoConfig`` has the knobs):

* **encoder**: three 4×4 stride-2 convs (3 → 16 → 32 → 64 channels; 64 → 32 → 16 → 8 pixels), leaky
  ReLU, then a 3×3 conv and tanh to the latent: a spatial state of 32 channels × 8 × 8 cells per frame. The
  ``context_frames`` real frames are encoded; the initial state is the last frame's latent plus a
  learned (zero-initialised) correction from all of them (``fuse``), which is where velocity enters.
* **transition** (one per predicted step, the part a planner runs N × H times): gated block(s)
  h = LeakyReLU(FiLM_a(W₁ ∗ z)), a 3×3 conv to 64 hidden channels whose channels are scaled and
  shifted by the action (FiLM: γ(a), β(a) from a small MLP on the action), then a 1×1 conv to a
  gate g and a candidate c: z ← z + σ(g)·(2σ(c) − 1 − z) (ConvGRU-like: the state stays in [-1, 1]
  over any horizon; the gate starts nearly closed, "nothing moves"). One block (default): ~1.4 M
  multiply-adds per sequence and step.
* **stochastic variant**: before each step a latent u_t (4 channels × 8 × 8) is drawn and
  concatenated to the first block's input. A learned prior p(u_t | z_t) (3×3 conv) is used to
  predict — its mean (``sample=mean``, deterministic) or a sample (``sample=sample``); training
  draws from a posterior q(u_t | z_t, enc(x_{t+1})) that sees the next frame, and adds
  KL(q ‖ p) (``kl`` in ``forward``'s output, weighted by training's ``kl_weight``).
* **decoder**: 4×4 stride-2 transposed convs (8 → 16 → 32 pixels) with the last context frame's
  encoder features added at 16×16 and 32×32 (U-Net skips through a 1×1 projection, computed once
  per context and shared by the N sequences), a 3×3 conv to the output maps at 32×32 (colours through
  a sigmoid, weights through a softmax), upsampled bilinearly to 64×64: per pixel a flow (pixels) and
  three weights that mix the last
  context frame, that frame warped by the flow, and generated RGB (CDNA/SV2P-like). The weights
  start favouring the unwarped frame, so an untrained model predicts "copy the last frame" and
  training only has to learn what moves; static background stays sharp. ~4.3 M multiply-adds per
  decoded frame. (``flow=false``: one sigmoid mask blends generated RGB with the last frame.)

* **proprioception** (``proprio_dim`` > 0): one camera leaves the hand's height ambiguous, so a
  frames-only model guesses contacts (on the desk it showed the drawer shutting as the hand passed
  above it). The model then also takes the robot's proprioceptive vector at the last context frame,
  normalised by the training data's mean and standard deviation (buffers saved with the weights). A
  residual MLP predicts it step by step, p_{t+1} = p_t + f(p_t, a_t), and the transition's FiLM sees
  [a_t, p_t, p_{t+1}] instead of a_t alone: the hand's exact position before and after the step.
* **object-state head** (``object_state_dim`` > 0, training only): a small head reads every predicted
  latent state and predicts how far each object has moved since the last context frame (the simulator's
  object state: mug positions, drawer, door, faucet, button), normalised by the training data's spread of
  those changes. A handle moving a few pixels is a small share of the pixel loss; this loss makes the
  latent state carry whether the hand really moved it. Planning never runs the head.

Decoding is separate from the latent rollout, so a planner that scores only the last frame decodes
N frames, not N × H (``decode(latents, steps=[-1])``). Frames are uint8 in [0, 255] or float in
[0, 1]; predictions are float32 in [0, 1].

Example:
    >>> model = VideoModel(VideoConfig(), seed=0).eval()
    >>> frames = model.predict(context, actions)         # context (2, 3, 64, 64) uint8; actions (200, 10, 4)
    >>> frames.shape                                     # (200, 10, 3, 64, 64) float in [0, 1]
    >>> state = model.encode(context)                    # the same, decoding only the last frame:
    >>> last = model.decode(model.rollout(state, actions), steps=[-1])   # (200, 1, 3, 64, 64)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from planners.video.config import VideoConfig
from sim.plumbing.checks import state_dict_problems

__all__ = ["Latents", "VideoModel", "VideoState", "to_unit_float"]

#: uint8 pixel values are divided by this to get [0, 1]
PIXEL_MAX = 255.0
#: encoder inputs are (x − 0.5) / 0.5: centred, in [-1, 1]
IMAGE_MEAN = 0.5
IMAGE_STD = 0.5
#: initial bias of the mask logit: sigmoid(−2) ≈ 0.12, an untrained model mostly copies the last frame (a
#: lower bias copies more exactly but scales the first gradients of the generated pixels down as much)
MASK_BIAS_INIT = -2.0
#: negative slope of every activation (as cheap as a ReLU; units cannot "die" and freeze the output)
LEAK = 0.1
#: initial bias of the transition's gates: σ(−3) ≈ 0.05, an untrained transition nearly keeps the state
GATE_BIAS_INIT = -3.0
#: with flow, the output mixes three sources per pixel (softmax weights): the last context frame, that frame
#: warped by the predicted flow, and generated pixels (CDNA-like; static pixels can copy exactly)
FLOW_SOURCES = 3
#: initial logit of the "copy" source (the others start at 0): softmax weight e²/(e²+2) ≈ 0.79
COPY_LOGIT_INIT = 2.0
#: channels of the object-state head's 1×1 conv before it flattens the latent grid (keeps the linear layer small:
#: 16 × 8 × 8 inputs at the default latent side)
OBJECT_HEAD_CHANNELS = 16
#: kernel and stride of the encoder's downsampling convs and the decoder's transposed convs
DOWN_KERNEL, DOWN_STRIDE, DOWN_PAD = 4, 2, 1


def to_unit_float(frames: Tensor) -> Tensor:
    """uint8 [0, 255] or float [0, 1] images → float32 [0, 1] (floats are passed through)."""
    if frames.dtype == torch.uint8:
        return frames.float().div_(PIXEL_MAX)
    if not frames.is_floating_point():
        raise TypeError(f"frames must be uint8 or float, got {frames.dtype}")
    return frames.float()


def _weight_and_bias(layer: nn.Module) -> tuple[Tensor, Tensor]:
    """The weight and bias of a linear or conv layer (every such layer here has a bias).

    nn.Module's attribute lookup is typed ``Tensor | Module`` and a layer's bias ``Tensor | None``;
    this narrows both to the tensors the initialisation writes.
    """
    weight, bias = layer.weight, layer.bias
    if not isinstance(weight, Tensor) or not isinstance(bias, Tensor):
        raise TypeError(f"{type(layer).__name__} has no weight and bias to initialise")
    return weight, bias


# ------------------------------------------------------------------------------------------ results
@dataclass
class VideoState:
    """An encoded context: everything ``rollout`` and ``decode`` need from the real frames.

    Batch dimension B is 1 for a context shared by all sequences (broadcast), else N.

    Attributes:
        z: float32 (B, C_z, S, S), the latent state at the last context frame.
        skips: per decoder level (coarse to fine), the projected skip features (B, D, s, s) of the
            last context frame (empty without ``skip``).
        last: float32 (B, C, H, W) in [0, 1], the last context frame (the mask blends with it).
        proprio: float32 (B, P), the normalised proprioception at the last context frame (None for a
            frames-only model).
    """

    z: Tensor
    skips: tuple[Tensor, ...]
    last: Tensor
    proprio: Tensor | None = None

    @property
    def batch(self) -> int:
        """1 (shared context) or N."""
        return self.z.shape[0]

    def rows(self, start: int, stop: int) -> VideoState:
        """Rows [start, stop) of a per-sequence state; a shared state is returned as is."""
        if self.batch == 1:
            return self
        return VideoState(
            self.z[start:stop],
            tuple(s[start:stop] for s in self.skips),
            self.last[start:stop],
            None if self.proprio is None else self.proprio[start:stop],
        )


@dataclass
class Latents:
    """Predicted latent states of N sequences, with the context they need for decoding.

    Attributes:
        z: float32 (N, H, C_z, S, S): z[:, h] is the state after action h.
        state: the encoded context the rollout started from.
        proprio: float32 (N, H, P), the predicted proprioception after each action, in the data's units
            (None for a frames-only model).
    """

    z: Tensor
    state: VideoState
    proprio: Tensor | None = None

    @property
    def shape(self) -> torch.Size:
        return self.z.shape

    def __len__(self) -> int:
        return self.z.shape[0]


# ------------------------------------------------------------------------------------------- layers
class Encoder(nn.Module):
    """Frames (B, C, H, W) in [0, 1] → latent (B, C_z, S, S) and the features of every level."""

    def __init__(self, c: VideoConfig):
        super().__init__()
        widths = (c.channels, *c.encoder_channels)
        self.downs = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], DOWN_KERNEL, DOWN_STRIDE, DOWN_PAD) for i in range(c.levels)
        )
        self.to_latent = nn.Conv2d(widths[-1], c.latent_channels, 3, padding=1)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        h = (x - IMAGE_MEAN) / IMAGE_STD
        feats = []
        for conv in self.downs:
            h = F.leaky_relu(conv(h), LEAK, inplace=True)
            feats.append(h)
        return self.to_latent(h), feats


class Transition(nn.Module):
    """One latent step z_t, FiLM parameters of a_t [, u_t] → z_{t+1}: gated conv blocks (ConvGRU-like).

    Block: h = LeakyReLU(FiLM_a(W₁ ∗ x)) (3×3 conv, x = z or [z, u]), then a 1×1 conv gives a gate g
    and a candidate c, and z ← z + σ(g) · (2σ(c) − 1 − z) (2σ(c) − 1 = tanh(c/2), computed with the
    gate's sigmoid in one call: tanh is ~6× slower than sigmoid on this CPU). The state stays in
    [-1, 1] however long the rollout (plain residual blocks z + f(z) compounded: |z| grew ~10⁵× over
    3 steps early in training).
    """

    def __init__(self, c: VideoConfig):
        super().__init__()
        extra = c.stoch_channels if c.stochastic else 0
        self.hidden, self.latent = c.transition_hidden, c.latent_channels
        self.convs = nn.ModuleList(
            nn.Conv2d(c.latent_channels + (extra if i == 0 else 0), c.transition_hidden, 3, padding=1)
            for i in range(c.transition_blocks)
        )
        self.outs = nn.ModuleList(
            nn.Conv2d(c.transition_hidden, 2 * c.latent_channels, 1) for _ in range(c.transition_blocks)
        )
        for conv in self.outs:  # start nearly as the identity: a closed gate
            weight, bias = _weight_and_bias(conv)
            nn.init.zeros_(weight)
            nn.init.zeros_(bias)
            with torch.no_grad():
                bias[: c.latent_channels] = GATE_BIAS_INIT
        # FiLM input: the action, and with proprioception the robot's state before and after it
        self.action = nn.Sequential(
            nn.Linear(c.action_dim + 2 * c.proprio_dim, c.action_embed),
            nn.LeakyReLU(LEAK, inplace=True),
            nn.Linear(c.action_embed, 2 * c.transition_hidden * c.transition_blocks),
        )
        film_weight, film_bias = _weight_and_bias(self.action[-1])
        nn.init.zeros_(film_weight)  # FiLM starts at γ = 0 (scale 1), β = 0
        nn.init.zeros_(film_bias)

    def film(self, actions: Tensor) -> Tensor:
        """Actions (..., A) (with proprioception [a, p_t, p_{t+1}] (..., A + 2P)) → FiLM parameters
        (..., blocks, 2, hidden): [:, :, 0] = 1 + γ, [:, :, 1] = β."""
        p = self.action(actions).unflatten(-1, (len(self.convs), 2, self.hidden))
        return p + torch.tensor([1.0, 0.0], device=p.device, dtype=p.dtype)[:, None]

    def forward(self, z: Tensor, film: Tensor, u: Tensor | None = None) -> Tensor:
        """z (B, C_z, S, S) in [-1, 1], film (B, blocks, 2, hidden), u (B, C_u, S, S) or None → z_{t+1}."""
        x = z if u is None else torch.cat([z, u], dim=1)
        for i, (conv, out) in enumerate(zip(self.convs, self.outs)):
            h = torch.addcmul(film[:, i, 1, :, None, None], conv(x), film[:, i, 0, :, None, None])
            # one sigmoid gives the gate σ(g) and the candidate 2σ(c) − 1 (= tanh(c/2); tanh is ~6× slower here)
            gate, cand = torch.sigmoid(out(F.leaky_relu(h, LEAK, inplace=True))).split(self.latent, dim=1)
            z = torch.addcmul(z, gate, cand.mul(2.0).sub_(1.0 + z))
            x = z
        return z


class Decoder(nn.Module):
    """Latents (B, C_z, S, S) + the context's skips and last frame → frames (B, C, H, W) in [0, 1].

    Output channels of the last up-conv: RGB, then mask logits, then (``flow``) a 2-D flow in pixels.
    Without flow, one sigmoid mask m blends: m · RGB + (1 − m) · last context frame. With flow, three
    softmax weights per pixel mix the last context frame, that frame warped by the flow (bilinear,
    border padding) and the generated RGB.
    """

    grid: Tensor  # buffer (register_buffer): typed here, as nn.Module's attribute lookup is Tensor | Module

    def __init__(self, c: VideoConfig):
        super().__init__()
        self.channels, self.mask, self.flow = c.channels, c.mask, c.flow
        self.masks = (FLOW_SOURCES if c.flow else 1) if c.mask else 0  # mask logits: 3-way softmax or 1 sigmoid
        out_channels = c.channels + self.masks + (2 if c.flow else 0)
        # up-conv i doubles the resolution up to the encoder's first level (H/2); a 3×3 conv there gives
        # the output maps, upsampled bilinearly to H (flow and weights are smooth; a transposed conv to
        # full resolution cost ~2.5× more time on the 2-core CPU: it is memory-bound there)
        widths = (c.latent_channels, *reversed(c.encoder_channels[:-1]))
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(widths[i], widths[i + 1], DOWN_KERNEL, DOWN_STRIDE, DOWN_PAD)
            for i in range(len(widths) - 1)
        )
        self.head = nn.Conv2d(widths[-1], out_channels, 3, padding=1)
        # 1×1 projections of the context's encoder features, added after each up-conv
        self.skips = nn.ModuleList(nn.Conv2d(o, o, 1) for o in widths[1:]) if c.skip else nn.ModuleList()
        with torch.no_grad():
            head_weight, head_bias = _weight_and_bias(self.head)
            if c.flow:  # start with no motion, mostly copying the last frame
                head_weight[-2:].zero_()
                head_bias[-2:].zero_()
                head_bias[c.channels] = COPY_LOGIT_INIT
            elif c.mask:
                head_bias[c.channels] = MASK_BIAS_INIT
        side = c.image_size
        # identity sampling grid in grid_sample's normalised coordinates (align_corners=True): (1, H, W, 2) as (x, y)
        lin = torch.linspace(-1.0, 1.0, side)
        self.register_buffer(
            "grid", torch.stack(torch.meshgrid(lin, lin, indexing="xy"), dim=-1)[None], persistent=False
        )
        self.pixel_to_grid = 2.0 / (side - 1)

    def project_skips(self, feats: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Encoder features of the last context frame (fine to coarse) → per decoder level skip terms."""
        coarse_first = list(reversed(feats[:-1]))  # resolutions 2S, 4S, ..., H/2
        return tuple(proj(f) for proj, f in zip(self.skips, coarse_first))

    def forward(self, z: Tensor, per_context: int, skips: Sequence[Tensor], last: Tensor) -> Tensor:
        """Decode z (B·k, C_z, S, S) where rows come in groups of ``per_context`` sharing a context.

        ``skips[i]`` and ``last`` have B rows (or 1 for a context shared by every row).
        """
        h = z
        n = z.shape[0] // per_context
        for i, up_conv in enumerate(self.ups):
            h = up_conv(h)
            if self.skips:
                h = (h.unflatten(0, (n, per_context)) + skips[i][:, None]).flatten(0, 1)
            h = F.leaky_relu(h, LEAK, inplace=True)
        h = self.head(h)  # (B·k, maps, H/2, W/2)
        c = self.channels
        # the nonlinearities run at half resolution, then everything is upsampled once (4× fewer pixels;
        # bilinear interpolation keeps colours in [0, 1] and mixing weights convex)
        up = lambda x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # noqa: E731
        if not self.mask:
            return up(torch.sigmoid(h))
        if self.flow:  # split, not slices: a slice's backward allocates and zero-fills a full-size gradient
            rgb, logits, flow = h.split([c, FLOW_SOURCES, 2], dim=1)
            maps = up(torch.cat([torch.sigmoid(rgb), torch.softmax(logits, dim=1), flow], dim=1))
            rgb, w_copy, w_warp, w_gen, flow = maps.split([c, 1, 1, 1, 2], dim=1)
            src = last[:, None].expand(n, per_context, *last.shape[1:]).flatten(0, 1)  # last has n rows (1 if shared)
            grid = self.grid + flow.permute(0, 2, 3, 1) * self.pixel_to_grid  # (B·k, H, W, 2)
            warped = F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=True)
            return torch.addcmul(torch.addcmul(w_copy * src, w_warp, warped), w_gen, rgb)
        rgb, m = up(torch.sigmoid(h)).split([c, 1], dim=1)
        base = last[:, None]  # (B|1, 1, C, H, W)
        out = base + m.unflatten(0, (n, per_context)) * (rgb.unflatten(0, (n, per_context)) - base)
        return out.flatten(0, 1)


class ProprioDynamics(nn.Module):
    """Normalised proprioception p_t (B, P) and action a_t (B, A) → p_{t+1} = p_t + f(p_t, a_t).

    A residual MLP (two hidden layers); the last layer starts at zero, so an untrained model predicts
    "the robot stays where it is".
    """

    def __init__(self, c: VideoConfig):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(c.proprio_dim + c.action_dim, c.proprio_hidden),
            nn.LeakyReLU(LEAK),
            nn.Linear(c.proprio_hidden, c.proprio_hidden),
            nn.LeakyReLU(LEAK),
            nn.Linear(c.proprio_hidden, c.proprio_dim),
        )
        last_weight, last_bias = _weight_and_bias(self.net[-1])
        nn.init.zeros_(last_weight)
        nn.init.zeros_(last_bias)

    def forward(self, p: Tensor, a: Tensor) -> Tensor:
        return p + self.net(torch.cat([p, a], dim=-1))


class ObjectStateHead(nn.Module):
    """Latent states (N, C_z, S, S) → predicted object-state changes (N, D), normalised (training only).

    A 1×1 conv to ``OBJECT_HEAD_CHANNELS``, the grid flattened (where an object is matters), then an MLP.
    """

    def __init__(self, c: VideoConfig):
        super().__init__()
        self.reduce = nn.Conv2d(c.latent_channels, OBJECT_HEAD_CHANNELS, 1)
        self.mlp = nn.Sequential(
            nn.Linear(OBJECT_HEAD_CHANNELS * c.latent_side**2, c.object_state_hidden),
            nn.LeakyReLU(LEAK),
            nn.Linear(c.object_state_hidden, c.object_state_dim),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.mlp(F.leaky_relu(self.reduce(z), LEAK).flatten(1))


class LatentPrior(nn.Module):
    """Gaussian over the per-step latent u_t: N(μ, σ) from a 3×3 conv (σ = softplus + min_std)."""

    def __init__(self, in_channels: int, c: VideoConfig):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 2 * c.stoch_channels, 3, padding=1)
        self.min_std = c.min_std

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mean, raw = self.conv(x).chunk(2, dim=1)
        return mean, F.softplus(raw) + self.min_std


def gaussian_kl(mq: Tensor, sq: Tensor, mp: Tensor, sp: Tensor) -> Tensor:
    """KL(N(mq, sq) ‖ N(mp, sp)) per element."""
    return torch.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5


# -------------------------------------------------------------------------------------------- model
class VideoModel(nn.Module):
    """Action-conditioned video prediction: context frames + N action sequences → N predicted videos.

    Args:
        config: architecture (default ``VideoConfig()``).
        seed: when given, parameters are initialised from this seed without touching the global torch
            RNG (same seed → same initial weights).

    Shapes: context (T_ctx, C, H, W) shared by all sequences or (N, T_ctx, C, H, W); actions (N, H, A)
    in the env's bounds [-1, 1]; predictions (N, H, C, H, W) float32 in [0, 1].

    ``encode`` / ``rollout`` / ``decode`` / ``predict`` are inference APIs: they run under
    ``torch.inference_mode`` (no gradients) and chunk the N sequences (``config.chunk``); training uses
    ``forward`` on clips. The model has no dropout or batch statistics: train and eval mode compute the same.
    """

    # buffers of models with proprioception (register_buffer): typed here, as nn.Module's attribute
    # lookup is Tensor | Module
    proprio_mean: Tensor
    proprio_std: Tensor
    object_state_scale: Tensor

    def __init__(self, config: VideoConfig | None = None, *, seed: int | None = None):
        super().__init__()
        self.config = c = config if config is not None else VideoConfig()
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.encoder = Encoder(c)
            self.fuse = (
                nn.Conv2d(c.context_frames * c.latent_channels, c.latent_channels, 3, padding=1)
                if c.context_frames > 1
                else None
            )
            if self.fuse is not None:  # start from the last frame's latent alone
                fuse_weight, fuse_bias = _weight_and_bias(self.fuse)
                nn.init.zeros_(fuse_weight)
                nn.init.zeros_(fuse_bias)
            self.transition = Transition(c)
            self.decoder = Decoder(c)
            self.prior: LatentPrior | None = None
            self.posterior: LatentPrior | None = None
            if c.stochastic:
                self.prior = LatentPrior(c.latent_channels, c)
                self.posterior = LatentPrior(2 * c.latent_channels, c)
            self.proprio = ProprioDynamics(c) if c.proprio_dim else None
            # created last, so a model without it draws the same initial weights as before it existed
            self.object_head = ObjectStateHead(c) if c.object_state_dim else None
        # normalisation of the proprioceptive vector (the training data's mean and standard deviation, set
        # by training before the first step: ``set_proprio_stats``); saved with the weights
        # (frames-only models have none, so their checkpoints keep their keys)
        if c.proprio_dim:
            self.register_buffer("proprio_mean", torch.zeros(c.proprio_dim))
            self.register_buffer("proprio_std", torch.ones(c.proprio_dim))
        # the spread (root mean square, per dimension) of the training data's object-state changes over a
        # clip, which normalises the head's targets (``set_object_state_scale``)
        if c.object_state_dim:
            self.register_buffer("object_state_scale", torch.ones(c.object_state_dim))
        self.memory_format = torch.channels_last if c.channels_last else torch.contiguous_format
        # torch's stubs for Module.to omit the memory_format keyword that it takes (and documents)
        self.to(memory_format=self.memory_format)  # type: ignore[call-overload]

    # ------------------------------------------------------------------------------------ inspection
    @property
    def device(self) -> torch.device:
        """Device of the weights (inputs are moved there)."""
        return self.encoder.to_latent.weight.device

    def num_parameters(self) -> dict[str, int]:
        """Parameter counts per part and in total."""

        def count(module: nn.Module | None) -> int:
            return sum(p.numel() for p in module.parameters()) if module is not None else 0

        parts = {
            "encoder": count(self.encoder) + count(self.fuse),
            "transition": count(self.transition),
            "decoder": count(self.decoder),
            "latent": count(self.prior) + count(self.posterior),
            "proprio": count(self.proprio),
            "object_state": count(self.object_head),
        }
        return {**parts, "total": sum(p.numel() for p in self.parameters())}

    def macs(self) -> dict[str, int]:
        """Multiply-accumulates per sequence and step (``transition``, with the prior when stochastic),
        per decoded frame (``decode``), and per context frame encoded (``encode``)."""
        c = self.config
        s = c.latent_side
        enc, side, cin = 0, c.image_size, c.channels
        for cout in c.encoder_channels:
            side //= 2
            enc += side * side * cout * cin * DOWN_KERNEL**2
            cin = cout
        enc += s * s * cin * c.latent_channels * 9
        trans = 0
        for i in range(c.transition_blocks):
            cin = c.latent_channels + (c.stoch_channels if c.stochastic and i == 0 else 0)
            trans += s * s * c.transition_hidden * (cin * 9 + 2 * c.latent_channels)
        if c.stochastic:
            trans += s * s * c.latent_channels * 2 * c.stoch_channels * 9
        if self.proprio is not None:
            trans += sum(m.in_features * m.out_features for m in self.proprio.net if isinstance(m, nn.Linear))
        dec, side = 0, s
        for up in cast("list[nn.ConvTranspose2d]", self.decoder.ups):  # the ModuleList's layers
            dec += side * side * up.in_channels * up.out_channels * DOWN_KERNEL**2
            side *= 2
        head = self.decoder.head
        dec += side * side * head.in_channels * head.out_channels * 9
        return {"encode": enc, "transition": trans, "decode": dec}

    # ------------------------------------------------------------------------------------------ input
    def _frames(self, x: Tensor, name: str, dims: tuple[int, ...]) -> Tensor:
        c = self.config
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        want = (c.channels, c.image_size, c.image_size)
        if x.dim() not in dims or tuple(x.shape[-3:]) != want:
            shapes = " or ".join({4: "(T, C, H, W)", 5: "(N, T, C, H, W)"}[d] for d in dims)
            raise ValueError(f"{name}: expected {shapes} with (C, H, W) = {want}, got {tuple(x.shape)}")
        return to_unit_float(x.to(self.device))

    def _actions(self, actions: Tensor, n: int | None = None) -> Tensor:
        c = self.config
        if not isinstance(actions, Tensor) or actions.dim() != 3 or actions.shape[-1] != c.action_dim:
            shape = tuple(actions.shape) if isinstance(actions, Tensor) else type(actions).__name__
            raise ValueError(f"actions: expected (N, H, {c.action_dim}) action sequences, got {shape}")
        if n is not None and n != 1 and actions.shape[0] != n:
            raise ValueError(
                f"actions: {actions.shape[0]} sequences but the context has {n}; give one context "
                "(T, C, H, W) shared by all, or one per sequence (N, T, C, H, W)"
            )
        return actions.to(self.device, torch.float32)

    def _proprio(self, proprio: Tensor | None, dims: tuple[int, ...], n: int | None = None) -> Tensor | None:
        """Raw proprioception (..., P) → normalised float32 on the model's device (None for a frames-only model)."""
        p_dim = self.config.proprio_dim
        if not p_dim:
            if proprio is not None:
                raise ValueError("proprio: this model was trained on frames only (proprio_dim=0); pass proprio=None")
            return None
        if proprio is None:
            raise ValueError(
                f"proprio: this model conditions on the robot's {p_dim}-D proprioception; pass it "
                "(observations need env.obs_keys with proprio)"
            )
        proprio = torch.as_tensor(proprio)
        if proprio.dim() not in dims or proprio.shape[-1] != p_dim or (n is not None and proprio.shape[0] != n):
            raise ValueError(
                f"proprio: expected a {dims[0]}-D tensor of {p_dim}-D vectors, one per frame row, "
                f"got shape {tuple(proprio.shape)}"
            )
        return (proprio.to(self.device, torch.float32) - self.proprio_mean) / self.proprio_std

    def set_proprio_stats(self, mean: Tensor, std: Tensor) -> None:
        """Normalisation of the proprioceptive vector: the training data's per-dimension mean and std (P,)."""
        p_dim = self.config.proprio_dim
        if not p_dim:
            raise ValueError("proprio stats: this model has no proprioception input (proprio_dim=0)")
        mean, std = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
        if mean.shape != (p_dim,) or std.shape != (p_dim,) or not bool((std > 0).all()):
            raise ValueError(
                f"proprio stats: need mean and std of shape ({p_dim},) with std > 0, got "
                f"{tuple(mean.shape)} and {tuple(std.shape)}"
            )
        self.proprio_mean.copy_(mean)
        self.proprio_std.copy_(std)

    def set_object_state_scale(self, scale: Tensor) -> None:
        """Normalisation of the object-state head's targets: the spread (D,) of the training data's changes."""
        d = self.config.object_state_dim
        if not d or tuple(scale.shape) != (d,) or not bool((scale > 0).all()):
            raise ValueError(
                f"object-state scale: need shape ({d},) with every value > 0 for a model with object_state_dim="
                f"{d} (> 0), got shape {tuple(scale.shape)}"
            )
        self.object_state_scale.copy_(scale)

    def _object_targets(self, states: Tensor | None, n: int, t: int, horizon: int) -> Tensor | None:
        """Object states (B, T_ctx + H', D) → normalised changes since frame ``t`` − 1, (B, H, D) (None without)."""
        d = self.config.object_state_dim
        if not d or states is None:
            return None
        states = torch.as_tensor(states)
        if states.dim() != 3 or states.shape[0] != n or states.shape[-1] != d or states.shape[1] < t + horizon:
            raise ValueError(
                f"object_states: expected (B={n}, ≥ {t + horizon} frames, {d}), got shape {tuple(states.shape)}"
            )
        states = states.to(self.device, torch.float32)
        return (states[:, t : t + horizon] - states[:, t - 1 : t]) / self.object_state_scale

    def _chunk(self, chunk: int | None) -> int:
        chunk = self.config.chunk if chunk is None else chunk
        if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
            raise ValueError(f"chunk must be an integer ≥ 1, got {chunk!r}")
        return chunk

    def _mode(self, sample: str | None) -> str:
        mode = self.config.sample if sample is None else sample
        if mode not in ("mean", "sample"):
            raise ValueError(f"sample must be 'mean' or 'sample', got {mode!r}")
        return mode

    # ----------------------------------------------------------------------------------------- parts
    def _encode_frames(self, frames: Tensor, feature_frame: int = -1) -> tuple[Tensor, list[Tensor]]:
        """float (B, T, C, H, W) → latents (B, T, C_z, S, S) and frame ``feature_frame``'s features per level."""
        b, t = frames.shape[:2]
        x = frames.flatten(0, 1).contiguous(memory_format=self.memory_format)
        lat, feats = self.encoder(x)
        return lat.unflatten(0, (b, t)), [f.unflatten(0, (b, t))[:, feature_frame] for f in feats]

    def _state(self, frames: Tensor, proprio: Tensor | None = None) -> VideoState:
        """Context frames float (B, T_ctx, C, H, W) [+ normalised proprio (B, P)] → the state to roll out from."""
        lat, feats = self._encode_frames(frames)
        return self._state_from(lat, feats, frames[:, -1], proprio)

    def _state_from(self, lat: Tensor, feats: list[Tensor], last: Tensor, proprio: Tensor | None = None) -> VideoState:
        """Encoder latents (B, T, C_z, S, S) of the context (pre-activation) → the bounded initial state."""
        z = lat[:, -1]
        if self.fuse is not None:
            z = z + self.fuse(torch.tanh(lat).flatten(1, 2))
        z = torch.tanh(z)
        skips = self.decoder.project_skips(feats) if self.config.skip else ()
        return VideoState(z.contiguous(memory_format=self.memory_format), skips, last, proprio)

    def _noise(self, n: int, horizon: int, generator: torch.Generator | None) -> Tensor:
        """Standard normal noise (N, H, C_u, S, S), drawn in one piece so chunking cannot change it."""
        c = self.config
        shape = (n, horizon, c.stoch_channels, c.latent_side, c.latent_side)
        return torch.randn(shape, generator=generator, device=self.device if generator is None else generator.device)

    def _steps(
        self,
        state: VideoState,
        actions: Tensor,
        noise: Tensor | None,
        mode: str,
        posterior_targets: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Roll ``state`` through actions (B, H, A) → latents (B, H, C_z, S, S), KL (B, H) or None, and the
        normalised predicted proprioception (B, H, P) or None.

        ``posterior_targets`` (training): encoder latents of the next frames (B, H, C_z, S, S); u_t is
        then drawn from the posterior and the KL to the prior is returned.
        """
        b, horizon = actions.shape[:2]
        proprio = None
        if self.proprio is not None:  # the robot's own state first (cheap), then every FiLM in one batch
            assert state.proprio is not None, "a model with proprioception encodes it into every state"
            p = state.proprio.expand(b, -1) if state.proprio.shape[0] == 1 else state.proprio
            ps = [p]
            for h in range(horizon):
                ps.append(self.proprio(ps[-1], actions[:, h]))
            seq = torch.stack(ps, dim=1)  # (B, H + 1, P)
            proprio = seq[:, 1:]
            film = self.transition.film(torch.cat([actions, seq[:, :-1], proprio], dim=-1))
        else:
            film = self.transition.film(actions)  # (B, H, blocks, 2, hidden)
        z = state.z.expand(b, *state.z.shape[1:]) if state.batch == 1 else state.z
        out, kls = [], []
        for h in range(horizon):
            u = None
            if self.prior is not None:
                mp, sp = self.prior(z)
                if posterior_targets is not None:
                    assert self.posterior is not None and noise is not None, "training samples the posterior"
                    mq, sq = self.posterior(torch.cat([z, posterior_targets[:, h]], dim=1))
                    u = mq + sq * noise[:, h]
                    kls.append(gaussian_kl(mq, sq, mp, sp).flatten(1).sum(1))
                elif mode == "mean":
                    u = mp
                else:
                    assert noise is not None, "sampling draws noise for every step"
                    u = mp + sp * noise[:, h]
            z = self.transition(z, film[:, h], u)
            out.append(z)
        return torch.stack(out, dim=1), (torch.stack(kls, dim=1) if kls else None), proprio

    def _decode(self, z: Tensor, state: VideoState) -> Tensor:
        """Latents (B, k, C_z, S, S) of B sequences (with B-row or shared ``state``) → (B, k, C, H, W)."""
        b, k = z.shape[:2]
        x = z.flatten(0, 1).contiguous(memory_format=self.memory_format)
        if state.batch == 1:  # shared context: every row is its own group of one
            frames = self.decoder(x, b * k, state.skips, state.last)
        else:
            frames = self.decoder(x, k, state.skips, state.last)
        return frames.unflatten(0, (b, k))

    # ------------------------------------------------------------------------------------------- API
    def encode(self, context: Tensor, proprio: Tensor | None = None) -> VideoState:
        """Encode the real frames a prediction starts from (once per planning call).

        Args:
            context: (T_ctx, C, H, W), shared by every sequence, or (N, T_ctx, C, H, W); uint8 in
                [0, 255] or float in [0, 1]; T_ctx = ``config.context_frames``, oldest first.
            proprio: the robot's proprioception at the last context frame, (P,) or (N, P) to match the
                context, in the data's units; required when ``config.proprio_dim`` > 0, else None.
        """
        x = self._frames(context, "context", (4, 5))
        p = self._proprio(proprio, (1,) if x.dim() == 4 else (2,), None if x.dim() == 4 else x.shape[0])
        if x.dim() == 4:
            x = x[None]
            p = None if p is None else p[None]
        if x.shape[1] != self.config.context_frames:
            raise ValueError(
                f"context: {x.shape[1]} frames but the model takes context_frames="
                f"{self.config.context_frames} (repeat the first frame at an episode's start)"
            )
        with torch.inference_mode():
            return self._state(x, p)

    def rollout(
        self,
        state: VideoState,
        actions: Tensor,
        generator: torch.Generator | None = None,
        sample: str | None = None,
        chunk: int | None = None,
    ) -> Latents:
        """Latent states after each action of N sequences (no decoding).

        Args:
            state: from ``encode``: shared (one context) or one per sequence.
            actions: (N, H, A) float in [-1, 1].
            generator: randomness of ``sample="sample"`` (stochastic models); same generator state →
                same samples, whatever ``chunk``.
            sample: ``mean`` | ``sample`` (default ``config.sample``); ignored by deterministic models.
            chunk: sequences per internal batch (default ``config.chunk``).

        Returns:
            ``Latents`` with z (N, H, C_z, S, S); ``decode`` turns (some of) them into frames.
        """
        acts = self._actions(actions, state.batch)
        mode, step = self._mode(sample), self._chunk(chunk)
        n, horizon = acts.shape[:2]
        noise = self._noise(n, horizon, generator) if self.prior is not None and mode == "sample" else None
        parts, props = [], []
        with torch.inference_mode():
            for i in range(0, n, step):
                j = min(i + step, n)
                z, _, p = self._steps(state.rows(i, j), acts[i:j], None if noise is None else noise[i:j], mode)
                parts.append(z)
                props.append(p)
        cat = lambda xs: torch.cat(xs) if len(xs) > 1 else xs[0]  # noqa: E731
        proprio = None if props[0] is None else cat(props) * self.proprio_std + self.proprio_mean
        return Latents(cat(parts), state, proprio)

    def decode(
        self,
        latents: Latents | Tensor,
        steps: Sequence[int] | int | None = None,
        state: VideoState | None = None,
        chunk: int | None = None,
    ) -> Tensor:
        """Frames of (some of) the predicted latents.

        Args:
            latents: from ``rollout`` (or a (N, k, C_z, S, S) tensor with its ``state``).
            steps: the horizon steps to decode (0-based, negative from the end; e.g. ``[-1]``: only the
                last frame, what a planner scoring the final frame needs); None = all.
            state: the context state, for a plain tensor of latents.
            chunk: frames per internal decoder batch (default ``config.chunk``; at least one sequence).

        Returns:
            float32 (N, len(steps), C, H, W) in [0, 1].
        """
        if isinstance(latents, Latents):
            z, state = latents.z, latents.state
        elif state is None:
            raise ValueError("decode: pass Latents from rollout(), or a latent tensor together with state=")
        else:
            z = latents
        if z.dim() != 5:
            raise ValueError(f"decode: expected latents (N, H, C_z, S, S), got {tuple(z.shape)}")
        if steps is not None:
            idx = [steps] if isinstance(steps, int) else list(steps)
            horizon = z.shape[1]
            bad = [s for s in idx if not -horizon <= int(s) < horizon]
            if bad or not idx:
                raise ValueError(f"decode: steps must be a non-empty list within ±{horizon}, got {idx}")
            z = z[:, [int(s) % horizon for s in idx]]
        step = max(1, self._chunk(chunk) // z.shape[1])  # chunk bounds the frames per decoder batch
        n = z.shape[0]
        parts = []
        with torch.inference_mode():
            for i in range(0, n, step):
                j = min(i + step, n)
                parts.append(self._decode(z[i:j], state.rows(i, j)))
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    def predict(
        self,
        context: Tensor,
        actions: Tensor,
        steps: Sequence[int] | int | None = None,
        generator: torch.Generator | None = None,
        sample: str | None = None,
        chunk: int | None = None,
        proprio: Tensor | None = None,
    ) -> Tensor:
        """Predicted frames of N action sequences from a context: ``decode(rollout(encode(context)))``.

        Args:
            context: (T_ctx, C, H, W) shared by all sequences, or (N, T_ctx, C, H, W); uint8 or float [0, 1].
            actions: (N, H, A) float in [-1, 1].
            steps: decode only these horizon steps (see ``decode``); None = all H.
            generator, sample: randomness and mode of a stochastic model (see ``rollout``).
            chunk: sequences per internal batch (default ``config.chunk``); results do not depend on it.
            proprio: proprioception at the last context frame, (P,) or (N, P) like the context (see ``encode``).

        Returns:
            float32 (N, H, C, H, W) (or (N, len(steps), ...)) in [0, 1]; frame h follows action h.
        """
        step = self._chunk(chunk)
        ctx = self._frames(context, "context", (4, 5))
        acts = self._actions(actions, ctx.shape[0] if ctx.dim() == 5 else 1)
        n = acts.shape[0]
        mode = self._mode(sample)
        noise = self._noise(n, acts.shape[1], generator) if self.prior is not None and mode == "sample" else None
        parts = []
        with torch.inference_mode():
            shared = self.encode(ctx, proprio) if ctx.dim() == 4 else None
            for i in range(0, n, step):
                j = min(i + step, n)
                state = (
                    shared
                    if shared is not None
                    else self.encode(ctx[i:j], None if proprio is None else torch.as_tensor(proprio)[i:j])
                )
                z, _, _ = self._steps(state, acts[i:j], None if noise is None else noise[i:j], mode)
                parts.append(self.decode(Latents(z, state), steps, chunk=chunk))
        return torch.cat(parts) if len(parts) > 1 else parts[0]

    # -------------------------------------------------------------------------------------- training
    def forward(
        self,
        frames: Tensor,
        actions: Tensor,
        generator: torch.Generator | None = None,
        horizon: int | None = None,
        proprio: Tensor | None = None,
        object_states: Tensor | None = None,
    ) -> dict[str, Tensor | None]:
        """Training pass on clips: roll out from the first ``context_frames`` frames, decode every step.

        Args:
            frames: (B, T_ctx + H, C, H, W) uint8 or float [0, 1] clips.
            actions: (B, H', A) with H' ≥ H: action h leads from frame T_ctx − 1 + h to the next one
                (``ClipDataset`` actions with the first T_ctx − 1 dropped).
            generator: noise of the stochastic posterior samples (reparameterised).
            horizon: predict only the first ``horizon`` steps (default: every target frame).
            proprio: (B, T_ctx + H', P) the clip's proprioception, frame by frame (required when
                ``config.proprio_dim`` > 0): the last context frame's starts the rollout, the later
                ones are the targets of the proprioception MLP.
            object_states: (B, T_ctx + H', D) the simulator's object state, frame by frame (models with
                ``config.object_state_dim`` > 0; None skips the head's outputs).

        Returns:
            ``pred``: float32 (B, H, C, H, W) in [0, 1]; ``target``: the true frames (B, H, C, H, W) in [0, 1];
            ``kl``: (B, H) KL(q ‖ p) summed over the latent variable's elements (None when deterministic);
            ``proprio_pred`` and ``proprio_target``: normalised (B, H, P) (None for a frames-only model);
            ``object_pred`` and ``object_target``: the objects' changes since the last context frame,
            normalised by ``object_state_scale``, (B, H, D) (None without a head or without ``object_states``).
        """
        c = self.config
        x = self._frames(frames, "frames", (5,))
        t = c.context_frames
        available = x.shape[1] - t
        horizon = available if horizon is None else horizon
        if not 1 <= horizon <= available:
            raise ValueError(
                f"frames: {x.shape[1]} frames give {available} targets after {t} context frames; "
                f"horizon {horizon} is out of range"
            )
        acts = self._actions(actions, x.shape[0])
        if acts.shape[1] < horizon:
            raise ValueError(f"actions: {acts.shape[1]} steps for a horizon of {horizon}")
        acts = acts[:, :horizon]
        p = self._proprio(proprio, (3,), x.shape[0])
        if p is not None and p.shape[1] < t + horizon:
            raise ValueError(f"proprio: {p.shape[1]} frames for {t} context frames and a horizon of {horizon}")
        p0 = None if p is None else p[:, t - 1]
        if self.prior is not None:  # the posterior sees the next frames: encode the clip in one pass
            lat, feats = self._encode_frames(x[:, : t + horizon], feature_frame=t - 1)
            state = self._state_from(lat[:, :t], feats, x[:, t - 1], p0)
            noise = self._noise(x.shape[0], horizon, generator)
            z, kl, pp = self._steps(state, acts, noise, "sample", posterior_targets=torch.tanh(lat[:, t:]))
        else:
            state = self._state(x[:, :t], p0)
            z, kl, pp = self._steps(state, acts, None, "mean")
        obj_target = self._object_targets(object_states, x.shape[0], t, horizon)
        obj_pred = None
        if obj_target is not None:
            assert self.object_head is not None, "targets exist only for a model with the head"
            obj_pred = self.object_head(z.flatten(0, 1)).unflatten(0, z.shape[:2])
        return {
            "pred": self._decode(z, state),
            "target": x[:, t : t + horizon],
            "kl": kl,
            "proprio_pred": pp,
            "proprio_target": None if p is None else p[:, t : t + horizon],
            "object_pred": obj_pred,
            "object_target": obj_target,
        }

    # ------------------------------------------------------------------------------------ state dict
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """As ``nn.Module.load_state_dict``, but mismatched keys or shapes raise a ``ValueError`` naming them."""
        problems = state_dict_problems(self.state_dict(), state_dict)
        if strict and problems:
            raise ValueError(
                "state dict does not fit this VideoModel (built with a different config?): "
                + "; ".join(problems)
                + "; fix: build the model with the config the weights were "
                "trained with; for a checkpoint file, planners.video.load_model(path) does that"
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def trainable_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters an optimizer should update (all of them)."""
        return (p for p in self.parameters() if p.requires_grad)
