"""``DVDReward``: does this clip show the same task as that demo? A video reward for visual MPC.

After Chen, Nair and Finn, "Learning Generalizable Robotic Reward Functions from 'In-The-Wild' Human Videos"
(DVD, RSS 2021), with these deliberate changes (docs/dvd.md):

* encoder: trained from scratch and small enough for a CPU planner, instead of DVD's frozen 23 M-parameter 3D CNN
  pretrained on Something-Something-V2 (no such weights can be downloaded here). ``num_frames`` frames are sampled
  evenly from a clip; each goes through a per-frame CNN (a 4×4 stride-4 "patchify" conv, then stride-2 convs,
  GroupNorm: the stride of the first layer decides the cost, anchors.md §7), then a residual 1D convolution over
  time and the time axis flattened into one embedding (order-aware: a time-reversed clip gets another embedding);
* similarity head, ``head="symmetric"`` (the default): P(same task) = sigmoid(s · cos(e1, e2) + b) of the
  L2-normalised embeddings, with a learned scale s (inverse temperature) and bias b. Swapping the two clips never
  changes the score, bit for bit: the cosine is an elementwise product (commutative in floating point) summed in the
  same order, and each clip is encoded on its own (``forward`` never batches the two together);
* ``head="concat"``: DVD's discriminator, concat(e1, e2) → MLP → 2-way softmax (same / different), kept as the
  baseline. It is not symmetric; DVD's code swapped the two inputs at random at every forward pass, test time
  included, which made its reward noisy. Here the order is fixed when scoring: (candidate, demo). (The trainer may
  swap at random while training, as DVD did; never at test time.);
* a progress head: the clip's progress in [0, 1] (how much of its task is done at its last frame), trained on the
  rendered clips' measured progress. A progress head alone is exploited by planners (Rank2Reward), so scores use it
  only as a factor of P(same task): ``score = P(same) · (1 − w + w · progress)`` with ``w = progress_weight``;
* a state head (training only): the change of each object state over the clip (the drawer's opening, a mug's
  position, ...), measured in rendered clips; it asks the embedding to say what changed in the scene whoever changed
  it, which is what carries a task from the actors' videos to the robot's;
* the encoder is in eval mode whenever it is frozen (``freeze``; DVD ran its frozen encoder in train mode), and
  ``score`` always runs in eval mode (the previous mode is restored afterwards).

Clips are (N, T, H, W, C) — time, then channel-last frames, as datasets store them — uint8 in [0, 255] or float in
[0, 1], numpy or torch; a clip of T ≠ ``num_frames`` frames is resampled (nearest frame, first and last kept).

Example:
    >>> model = DVDReward(DVDConfig(), seed=0)
    >>> logits = model(clips_a, clips_b)          # (B,) logit of P(same task); model(b, a) is identical (symmetric)
    >>> reward = model.score(candidates, demos)   # candidates (200, 20, 64, 64, 3), demos (3, 20, 64, 64, 3) → (200,)
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rewards.dvd.config import DVDConfig, DVDVocabulary
from rewards.nets import conv_padding, evaluating
from sim.plumbing.checks import state_dict_problems

__all__ = [
    "DVDReward",
    "FrameEncoder",
    "VideoEncoder",
    "frame_indices",
    "frame_major",
    "shared_frames",
    "state_problems",
]

#: uint8 pixel values are divided by this to get [0, 1]
PIXEL_MAX = 255.0
#: the symmetric head's scale is kept in [1, MAX_SCALE] (CLIP's clamp): a larger one makes training unstable
MAX_SCALE = 100.0
#: outputs of the concat head: (different, same)
PAIR_CLASSES = 2


def frame_indices(total: int, wanted: int) -> list[int]:
    """Indices of ``wanted`` frames evenly spaced over ``total`` (first and last included; nearest frame).

    Example:
        >>> frame_indices(20, 4)
        [0, 6, 13, 19]
    """
    if total < 1:
        raise ValueError(f"a clip needs at least 1 frame, got {total}")
    return [round(i * (total - 1) / max(1, wanted - 1)) for i in range(wanted)]


def shared_frames(clips: Tensor, num_frames: int) -> int:
    """How many of the frames a model samples from clips (N, T, ...) (``frame_indices``) are, from the first on, the
    same in every clip: 0 for a single clip (nothing to share)."""
    if clips.shape[0] < 2:
        return 0
    count = 0
    for i in frame_indices(clips.shape[1], num_frames):
        if not bool((clips[:, i] == clips[:1, i]).all()):
            break
        count += 1
    return count


class FrameEncoder(nn.Module):
    """Normalised frames (B, C, H, W) → features (B, frame_dim): conv → GroupNorm → ReLU per layer, the last map
    flattened (keeping *where* things are: left / right matter) and projected linearly."""

    def __init__(self, c: DVDConfig):
        super().__init__()
        # rgb_diff: each frame arrives with its difference from the clip's first frame stacked on its channels
        widths = (c.channels * (2 if c.frame_input == "rgb_diff" else 1), *c.cnn_channels)
        layers: list[nn.Module] = []
        for i, (k, s) in enumerate(zip(c.cnn_kernels, c.cnn_strides)):
            # no conv bias: the GroupNorm's shift replaces it
            layers += [
                nn.Conv2d(widths[i], widths[i + 1], k, s, padding=conv_padding(k, s), bias=False),
                nn.GroupNorm(c.norm_groups, widths[i + 1]),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        self.proj = nn.Linear(c.cnn_channels[-1] * c.feature_side**2, c.frame_dim)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.proj(self.body(x)))

    def forward_diff(self, x: Tensor, first: Tensor) -> Tensor:
        """``forward`` of each frame stacked with its difference from its clip's first frame, without building the
        stacked input: the first conv is linear, so conv([x, x − x0]) = conv_{a+b}(x) − conv_b(x0), which costs one
        3-channel conv per frame plus one per clip (a third less work than the 6-channel conv).

        Args:
            x: frames (B, F, C, H, W), normalised; fastest when frame-major in memory (``frame_major``).
            first: first frames (B, C, H, W), or (1, C, H, W) when every clip starts with the same frame.

        Returns:
            (B, F, frame_dim).
        """
        conv = self.body[0]
        assert isinstance(conv, nn.Conv2d)
        c = x.shape[2]
        w_frame, w_diff = conv.weight[:, :c], conv.weight[:, c:]
        b, f = x.shape[:2]
        y = F.conv2d(frame_major(x), w_frame + w_diff, None, conv.stride, conv.padding)
        y0 = F.conv2d(first, w_diff, None, conv.stride, conv.padding)  # (B or 1, C1, h, w)
        y = y.view(f, b, *y.shape[1:]).sub_(y0).flatten(0, 1)
        return F.relu(self.proj(self.body[1:](y))).view(f, b, -1).transpose(0, 1)

    def forward_frames(self, x: Tensor) -> Tensor:
        """``forward`` of every frame of clips (B, F, C, H, W) → (B, F, frame_dim)."""
        b, f = x.shape[:2]
        return self.forward(frame_major(x)).view(f, b, -1).transpose(0, 1)


def frame_major(x: Tensor) -> Tensor:
    """Clips (B, F, C, H, W) → their frames (F·B, C, H, W) in frame-major order (frame 0 of every clip, then frame 1,
    ...): a view, without copying, of a tensor laid out frame-major in memory, as ``DVDReward.preprocess`` makes them,
    so that ``x[:, 1:]`` (every frame but the first) is a view too."""
    return x.transpose(0, 1).reshape(-1, *x.shape[2:])


class VideoEncoder(nn.Module):
    """Normalised clips (B, F, C, H, W) → embeddings (B, embed_dim).

    Each frame is encoded by ``FrameEncoder``; with ``temporal="conv"`` residual 1D convolutions mix neighbouring
    frames and the (F, frame_dim) result is flattened and projected (order-aware), with ``"mean"`` the frame features
    are averaged (order-blind).
    """

    def __init__(self, c: DVDConfig):
        super().__init__()
        self.config = c
        self.frames = FrameEncoder(c)
        self.temporal = nn.ModuleList()
        if c.temporal == "conv":
            for _ in range(c.temporal_layers):
                self.temporal.append(
                    nn.Sequential(
                        nn.Conv1d(c.frame_dim, c.frame_dim, c.temporal_kernel, padding=c.temporal_kernel // 2),
                        nn.GroupNorm(1, c.frame_dim),
                        nn.ReLU(inplace=True),
                    )
                )
            self.out = nn.Linear(c.num_frames * c.frame_dim, c.embed_dim)
        else:
            self.out = nn.Linear(c.frame_dim, c.embed_dim)

    def frame_features(self, x: Tensor, shared: int = 0) -> Tensor:
        """(B, F, C, H, W) → (B, F, frame_dim). ``shared``: the first ``shared`` frames are the same in every clip (a
        planner's candidates all start with the episode's real frames), so they are encoded once."""
        b, f = x.shape[:2]
        k = min(int(shared), f)
        if k and b > 1:  # the shared frames once, then the others (x[:, k:] is a view: preprocess is frame-major)
            head = self.frame_features(x[:1, :k]).expand(b, k, -1)  # (B, k, D)
            if k == f:
                return head
            if self.config.frame_input == "rgb_diff":  # frame 0 is among the shared ones: every clip's first frame
                rest = self.frames.forward_diff(x[:, k:], x[:1, 0])
            else:
                rest = self.frames.forward_frames(x[:, k:])
            return torch.cat([head, rest], dim=1)
        if self.config.frame_input == "rgb_diff":  # each frame with its difference from frame 0 (zero for frame 0)
            return self.frames.forward_diff(x, x[:, 0])
        return self.frames.forward_frames(x)

    def forward(self, x: Tensor, shared: int = 0) -> Tensor:
        h = self.frame_features(x, shared)
        if self.config.temporal == "mean":
            return self.out(h.mean(1))
        h = h.transpose(1, 2)  # (B, D, F): Conv1d over time
        for block in self.temporal:
            h = h + block(h)
        return self.out(h.flatten(1))


class DVDReward(nn.Module):
    """P(two clips show the same task), a clip's progress, and a batched ``score`` for planners.

    Args:
        config: architecture (default ``DVDConfig()``).
        seed: when given, parameters are initialised from this seed without touching the global torch RNG.

    Attributes:
        vocabulary: what it was trained on (``DVDVocabulary``; set by the trainer and by ``load_checkpoint``).
        frozen: ``freeze()`` was called: no gradients, and eval mode whatever ``train()`` asks.
    """

    def __init__(self, config: DVDConfig | None = None, *, seed: int | None = None):
        super().__init__()
        self.config = c = config if config is not None else DVDConfig()
        self.vocabulary = DVDVocabulary()
        self.frozen = False
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.encoder = VideoEncoder(c)
            self.dropout = nn.Dropout(c.dropout)
            if c.head == "symmetric":
                self.log_scale = nn.Parameter(torch.tensor(math.log(c.init_scale)))
                self.bias = nn.Parameter(torch.tensor(c.init_bias))
            else:
                dims = (2 * c.embed_dim, *c.concat_dims)
                layers: list[nn.Module] = []
                for a, b in itertools.pairwise(dims):
                    layers += [nn.Linear(a, b), nn.ReLU(inplace=True), nn.Dropout(c.dropout)]
                layers.append(nn.Linear(dims[-1], PAIR_CLASSES))
                self.pair_head = nn.Sequential(*layers)
            if c.progress_head:
                self.progress_mlp = nn.Sequential(
                    nn.Linear(c.embed_dim, c.progress_dim), nn.ReLU(inplace=True), nn.Linear(c.progress_dim, 1)
                )
            if c.state_names:
                self.state_mlp = nn.Sequential(
                    nn.Linear(c.embed_dim, c.state_dim),
                    nn.ReLU(inplace=True),
                    nn.Linear(c.state_dim, len(c.state_names)),
                )
        self._demo_cache: OrderedDict[tuple[Any, ...], Tensor] = OrderedDict()

    # ------------------------------------------------------------------------------------ inspection
    @property
    def device(self) -> torch.device:
        """Device of the weights (inputs are moved there)."""
        return self.encoder.out.weight.device

    def num_parameters(self) -> dict[str, int]:
        """Parameter counts: encoder, head(s), total."""
        enc = sum(p.numel() for p in self.encoder.parameters())
        total = sum(p.numel() for p in self.parameters())
        return {"encoder": enc, "heads": total - enc, "total": total}

    def freeze(self) -> DVDReward:
        """No gradients, eval mode from now on (``train()`` keeps it in eval: a frozen encoder never runs in train
        mode, DVD's bug). Returns the model."""
        for p in self.parameters():
            p.requires_grad_(False)
        self.frozen = True
        return self.eval()

    def train(self, mode: bool = True) -> DVDReward:
        """As ``nn.Module.train``, except that a frozen model stays in eval mode."""
        return super().train(mode and not self.frozen)

    # ------------------------------------------------------------------------------------ inputs
    def preprocess(self, clips: Tensor | np.ndarray, name: str = "clips") -> Tensor:
        """(N, T, H, W, C) uint8 in [0, 255] or float in [0, 1] → normalised (N, num_frames, C, H, W) float32 on the
        model's device, frames resampled to ``num_frames``.

        Raises:
            ValueError: a wrong rank, frame size or channel count (one line naming ``name`` and the fix).
        """
        c = self.config
        x = torch.as_tensor(clips)
        if x.dim() != 5 or x.shape[2:] != (c.image_size, c.image_size, c.channels) or x.shape[1] < 1:
            raise ValueError(
                f"{name} must be (N, T, {c.image_size}, {c.image_size}, {c.channels}) frames (channel-last, as "
                f"datasets store them), got shape {tuple(x.shape)}; resize the frames to the model's image_size"
            )
        if x.dtype == torch.uint8:
            scale = 1.0 / (PIXEL_MAX * c.pixel_std)
        elif x.is_floating_point():
            scale = 1.0 / c.pixel_std
        else:
            raise ValueError(f"{name} must be uint8 in [0, 255] or float in [0, 1], got dtype {x.dtype}")
        keep = frame_indices(x.shape[1], c.num_frames)
        if x.device != self.device:  # move only the frames kept
            x, keep = x[:, keep].to(self.device), list(range(c.num_frames))
        # Memory traffic, not the convolutions, was most of score()'s time, so each kept frame is read once:
        # torch.add converts it to float32, scales and shifts it and writes it channel-first in one pass (no
        # gathered copy of the kept frames, no separate conversion), into a new tensor (never the caller's).
        # Frame-major in memory (every clip's frame 0, then frame 1, ...; ``frame_major``), returned as a
        # (N, F, C, H, W) view, so the encoder reaches a batch's frames without copying them.
        n, _, h, w, ch = x.shape
        out = torch.empty((c.num_frames, n, ch, h, w), dtype=torch.float32, device=self.device)
        shift = torch.tensor(-c.pixel_mean / c.pixel_std, dtype=torch.float32, device=self.device)
        for k, i in enumerate(keep):
            torch.add(shift, x[:, i].permute(0, 3, 1, 2), alpha=scale, out=out[k])
        return out.transpose(0, 1)

    # ------------------------------------------------------------------------------------ parts
    def embed(self, clips: Tensor | np.ndarray, shared: int = 0, name: str = "clips") -> Tensor:
        """Clips (N, T, H, W, C) → raw embeddings (N, embed_dim) (the heads normalise them as they need); ``name``
        is how an error names the input."""
        return self.encoder(self.preprocess(clips, name), shared)

    def pair_logits(self, e1: Tensor, e2: Tensor) -> Tensor:
        """Logit of P(same task) for embedding pairs (..., E), (..., E) → (...).

        Symmetric head: ``scale · cos(e1, e2) + bias``, exactly symmetric. Concat head: logit(same) − logit(different)
        of the MLP over concat(e1, e2) (a 2-way softmax's P(same) is the sigmoid of that difference), order-dependent:
        e1 is the candidate, e2 the demo.
        """
        if self.config.head == "symmetric":
            cos = (F.normalize(e1, dim=-1) * F.normalize(e2, dim=-1)).sum(-1)
            return self.scale * cos + self.bias
        out = self.pair_head(self.dropout(torch.cat([e1, e2], dim=-1)))
        return out[..., 1] - out[..., 0]

    @property
    def scale(self) -> Tensor:
        """The symmetric head's cosine scale (inverse temperature), in [1, MAX_SCALE]."""
        return self.log_scale.clamp(0.0, math.log(MAX_SCALE)).exp()

    def similarity_matrix(self, e1: Tensor, e2: Tensor) -> Tensor:
        """Symmetric head: ``scale · cos`` of every pair (A, E), (B, E) → (A, B), without the bias (InfoNCE logits)."""
        return self.scale * (F.normalize(e1, dim=-1) @ F.normalize(e2, dim=-1).T)

    def progress_logits(self, e: Tensor) -> Tensor:
        """Progress logits (N,) of clip embeddings (N, E); sigmoid → progress in [0, 1]."""
        if not self.config.progress_head:
            raise ValueError("this DVDReward has no progress head (DVDConfig.progress_head=false)")
        return self.progress_mlp(self.dropout(e)).squeeze(-1)

    def state_changes(self, e: Tensor) -> Tensor:
        """Predicted change of each ``config.state_names`` object state over the clip (N, K), in the trainer's
        normalised units (each state's change divided by its spread in the training clips), from embeddings (N, E).
        An auxiliary output: ``score`` never uses it."""
        if not self.config.state_names:
            raise ValueError("this DVDReward has no state head (DVDConfig.state_names is empty)")
        return self.state_mlp(self.dropout(e))

    def forward(self, clips1: Tensor | np.ndarray, clips2: Tensor | np.ndarray) -> Tensor:
        """Logits (B,) of P(clips1[i] and clips2[i] show the same task); each side is encoded on its own, so the
        symmetric head gives bit-identical results when the two are swapped."""
        return self.pair_logits(self.embed(clips1), self.embed(clips2))

    # ------------------------------------------------------------------------------------ planners
    def _weights_version(self) -> tuple[int, ...]:
        # parameters' in-place version counters: an optimizer step changes them, so cached demos are recomputed
        return tuple(p._version for p in self.parameters())

    def demo_embeddings(self, demos: Tensor | np.ndarray) -> Tensor:
        """Embeddings (M, E) of demo clips (M, T, H, W, C), cached by content (``DVDConfig.demo_cache`` sets)."""
        key: tuple[Any, ...] | None = None
        if self.config.demo_cache:
            arr = demos.detach().cpu().numpy() if isinstance(demos, Tensor) else np.asarray(demos)
            digest = hashlib.blake2b(np.ascontiguousarray(arr).data, digest_size=16).hexdigest()
            key = (arr.shape, str(arr.dtype), digest, self._weights_version(), str(self.device))
            hit = self._demo_cache.get(key)
            if hit is not None:
                self._demo_cache.move_to_end(key)
                return hit
        with evaluating(self), torch.no_grad():
            emb = self.embed(demos, name="demos")
        if key is not None:
            self._demo_cache[key] = emb
            while len(self._demo_cache) > self.config.demo_cache:
                self._demo_cache.popitem(last=False)
        return emb

    def score(
        self,
        candidates: Tensor | np.ndarray,
        demos: Tensor | np.ndarray,
        progress_weight: float | None = None,
        shared: int | None = None,
    ) -> Tensor:
        """The reward of each candidate clip: mean over demos of P(same task), times its progress factor.

        Args:
            candidates: (N, T, H, W, C) clips (uint8 or float in [0, 1]), e.g. a planner's predicted videos.
            demos: (M, T', H, W, C) demo clips of the task (e.g. human videos); their embeddings are cached.
            progress_weight: w in ``P(same) · (1 − w + w · progress)``; None = ``config.progress_weight``.
            shared: how many of the frames sampled from each candidate are, from the first on, the same in every
                candidate, when the caller knows it (a planner: its real frames); None = compared (``shared_frames``,
                ~10 ms for 200 clips).

        Returns:
            (N,) float32 in [0, 1] on the model's device. Computed in eval mode (the mode is restored) without
            gradients. Frames every candidate starts with alike (a planner's candidates share the episode's real
            frames so far) are encoded once (``shared_frames``).
        """
        c = self.config
        w = c.progress_weight if progress_weight is None else float(progress_weight)
        if not 0.0 <= w <= 1.0 or (w > 0 and not c.progress_head):
            raise ValueError(f"progress_weight must be in [0, 1] (and 0 without a progress head), got {w}")
        d = self.demo_embeddings(demos)
        x = torch.as_tensor(candidates)
        out = []
        with evaluating(self), torch.no_grad():
            for i in range(0, x.shape[0], c.score_chunk):
                chunk = x[i : i + c.score_chunk]
                k = shared_frames(chunk, c.num_frames) if shared is None else shared
                e = self.embed(chunk, shared=k, name="candidates")
                n, m = e.shape[0], d.shape[0]
                p = torch.sigmoid(self.pair_logits(e[:, None].expand(n, m, -1), d[None].expand(n, m, -1))).mean(1)
                if w > 0:
                    p = p * (1.0 - w + w * torch.sigmoid(self.progress_logits(e)))
                out.append(p)
        return torch.cat(out) if out else torch.zeros(0, device=self.device)

    # ------------------------------------------------------------------------------------ state dict
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        """As ``nn.Module.load_state_dict``; mismatched keys or shapes raise a one-line ``ValueError`` naming them."""
        problems = state_problems(self, state_dict)
        if strict and problems:
            raise ValueError(
                "state dict does not fit this DVDReward (built with a different config?): "
                + "; ".join(problems)
                + "; build the model from the checkpoint with rewards.dvd.load_model(path)"
            )
        self._demo_cache.clear()
        return super().load_state_dict(state_dict, strict=strict, assign=assign)


def state_problems(model: DVDReward, state: Mapping[str, Any], limit: int = 8) -> list[str]:
    """Missing/unexpected keys and shape mismatches of ``state`` against ``model`` (readable lines)."""
    return state_dict_problems(model.state_dict(), state, None, limit)
