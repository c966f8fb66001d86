"""A language-conditioned policy: frame (+ proprioception) and instruction embedding → action (LCBC).

``LanguagePolicyNet`` encodes the current camera frame with a small conv stack whose last features are
modulated (FiLM) by the instruction's sentence embedding, then an MLP maps [image features, instruction,
proprioception] to an action in [-1, 1]. ``LanguagePolicy`` wraps a trained net with its frozen sentence
encoder for acting in an env: ``reset(instruction)`` then ``act(obs)`` each step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from planners.policy.config import PolicyConfig

__all__ = ["LanguagePolicy", "LanguagePolicyNet"]


class LanguagePolicyNet(nn.Module):
    """frames uint8 (B, C, H, W), text embeddings (B, D) [, proprio (B, P)] → actions (B, A) in [-1, 1]."""

    # buffers (register_buffer): typed here, since nn.Module's attribute lookup is typed Tensor | Module
    proprio_mean: Tensor
    proprio_std: Tensor

    def __init__(self, config: PolicyConfig | None = None, seed: int | None = None):
        super().__init__()
        c = self.config = config or PolicyConfig()
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            layers: list[nn.Module] = []
            cin = c.channels
            for cout in c.conv_channels:
                layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.GroupNorm(min(8, cout), cout), nn.ReLU(inplace=True)]
                cin = cout
            self.encoder = nn.Sequential(*layers)
            cells = (c.image_size // 2 ** len(c.conv_channels)) ** 2
            self.film = nn.Linear(c.text_dim, 2 * cin)  # per-channel scale and shift from the instruction
            self.image_proj = nn.Linear(cin * cells, c.hidden)
            self.text_proj = nn.Linear(c.text_dim, c.hidden)
            self.head = nn.Sequential(
                nn.Linear(2 * c.hidden + c.proprio_dim, c.hidden),
                nn.ReLU(inplace=True),
                nn.Linear(c.hidden, c.hidden),
                nn.ReLU(inplace=True),
                nn.Linear(c.hidden, c.action_dim),
            )
        # normalisation of the proprioception (set from the training data, saved with the weights)
        self.register_buffer("proprio_mean", torch.zeros(c.proprio_dim))
        self.register_buffer("proprio_std", torch.ones(c.proprio_dim))

    def set_proprio_stats(self, mean: Tensor, std: Tensor) -> None:
        """Normalise proprioception by the training data's per-dimension mean and std (P,)."""
        self.proprio_mean.copy_(mean)
        self.proprio_std.copy_(std)

    def forward(self, frames: Tensor, text: Tensor, proprio: Tensor | None = None) -> Tensor:
        c = self.config
        x = self.encoder(frames.float() / 255.0 if frames.dtype == torch.uint8 else frames)
        scale, shift = self.film(text).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        x = x * (1 + scale) + shift
        parts = [torch.relu(self.image_proj(x.flatten(1))), torch.relu(self.text_proj(text))]
        if c.proprio_dim:
            if proprio is None:
                raise ValueError(
                    f"this policy reads {c.proprio_dim}-D proprioception; pass proprio (B, {c.proprio_dim})"
                )
            parts.append((proprio - self.proprio_mean) / self.proprio_std)
        return torch.tanh(self.head(torch.cat(parts, dim=-1)))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class LanguagePolicy:
    """A trained ``LanguagePolicyNet`` with its sentence encoder, acting in a desk env.

    Example:
        >>> policy = load_policy("runs/lcbc/best.pt")
        >>> policy.reset("open the drawer"); action = policy.act(obs)
    """

    def __init__(self, net: LanguagePolicyNet, text_encoder: Any | None = None):
        from rewards.text import TextEncoder  # on use: loads transformers (seconds), only when acting

        self.net = net.eval()
        self.text = text_encoder if text_encoder is not None else TextEncoder(net.config.text_model)
        self._embedding: Tensor | None = None

    def reset(self, instruction: str) -> None:
        """Start an episode told ``instruction``."""
        with torch.inference_mode():
            self._embedding = self.text.encode([instruction]).float()

    def act(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """float32 (A,) action for an observation with ``rgb`` (H, W, C) uint8 [and ``proprio``]."""
        if self._embedding is None:
            raise RuntimeError("call reset(instruction) before act(obs)")
        c = self.net.config
        if obs["rgb"].shape != (c.image_size, c.image_size, c.channels):
            raise ValueError(
                f"this policy was trained on {c.image_size}×{c.image_size}×{c.channels} frames, the env "
                f"gives {tuple(obs['rgb'].shape)}: set env.width=env.height={c.image_size}"
            )
        frame = torch.from_numpy(np.ascontiguousarray(obs["rgb"])).permute(2, 0, 1).unsqueeze(0)
        proprio = None
        if self.net.config.proprio_dim:
            if "proprio" not in obs:
                raise ValueError("this policy reads proprioception: build the env with obs_keys including proprio")
            proprio = torch.from_numpy(np.asarray(obs["proprio"], np.float32)).unsqueeze(0)
        with torch.inference_mode():
            return self.net(frame, self._embedding, proprio)[0].numpy().astype(np.float32)
