"""Frame-quality metrics of video predictions: PSNR, SSIM, and PSNR restricted to the pixels that change.

All take float images in [0, 1] shaped (..., C, H, W) and return one value per image (shape ``...``).

* ``psnr``: 10·log10(1 / MSE) over all pixels and channels (dB; identical images give ``inf``, so
  ``psnr`` clamps the MSE at ``MIN_MSE``: at most 100 dB).
* ``ssim``: Wang et al. (2004) structural similarity with an 11×11 Gaussian window (σ = 1.5),
  K1 = 0.01, K2 = 0.03, data range 1, computed per channel over the "valid" positions (no padding:
  54 × 54 for 64 × 64 images) and averaged over positions and channels.
* ``changed_mask`` / ``masked_psnr``: PSNR over the pixels where the true frame differs from a
  reference (the last context frame) by more than ``threshold`` in any channel — the arm and the
  objects it moves, where copying the last frame is wrong and a video model earns its keep.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["SSIM_K1", "SSIM_K2", "SSIM_SIGMA", "SSIM_WINDOW", "changed_mask", "masked_psnr", "psnr", "ssim"]

SSIM_WINDOW = 11  # Gaussian window side (pixels)
SSIM_SIGMA = 1.5  # its standard deviation (pixels)
SSIM_K1, SSIM_K2 = 0.01, 0.03  # stabilising constants: C1 = (K1·L)², C2 = (K2·L)² with data range L = 1
SSIM_CHUNK = 128  # images per internal batch of ssim() (bounds its memory)
MIN_MSE = 1e-10  # floor of the MSE in PSNR: identical images give 100 dB, not inf
DEFAULT_CHANGE_THRESHOLD = 8 / 255  # a pixel "changed" when a channel moved by more than this


def _flat(x: Tensor) -> Tensor:
    return x.reshape(-1, *x.shape[-3:]).float()


def psnr(pred: Tensor, target: Tensor) -> Tensor:
    """Peak signal-to-noise ratio (dB) of each image: (..., C, H, W) → (...)."""
    mse = (pred.float() - target.float()).pow(2).flatten(-3).mean(-1)
    return 10.0 * torch.log10(1.0 / mse.clamp_min(MIN_MSE))


def _gaussian_window(device: torch.device) -> Tensor:
    x = torch.arange(SSIM_WINDOW, dtype=torch.float32, device=device) - (SSIM_WINDOW - 1) / 2
    g = torch.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    return g / g.sum()


def _valid_filter_matrix(size: int, g: Tensor) -> Tensor:
    """(size, size − len(g) + 1) matrix M with (x @ M)[j] = Σ_k g[k] x[j + k]: a "valid" 1-D filter as a matmul."""
    out = size - g.numel() + 1
    m = torch.zeros(size, out, dtype=g.dtype, device=g.device)
    for k, w in enumerate(g.tolist()):
        m[torch.arange(out) + k, torch.arange(out)] = w
    return m


def ssim(pred: Tensor, target: Tensor) -> Tensor:
    """Mean structural similarity of each image: (..., C, H, W) in [0, 1] → (...), at most 1."""
    lead = pred.shape[:-3]
    x, y = _flat(pred), _flat(target)
    n, _c, h, w = x.shape
    if min(h, w) < SSIM_WINDOW:
        raise ValueError(f"ssim: images must be at least {SSIM_WINDOW}×{SSIM_WINDOW}, got {h}×{w}")
    g = _gaussian_window(x.device)
    # the separable Gaussian filter ("valid": no padding) as two matrix products, over the 5 maps at once
    # (1-channel convolutions over thousands of maps were ~100× slower on the CPU); SSIM_CHUNK images at a
    # time bound the memory of the ~10 full-size intermediates
    rows, cols = _valid_filter_matrix(h, g), _valid_filter_matrix(w, g)
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    out = []
    for i in range(0, n, SSIM_CHUNK):
        a, b = x[i : i + SSIM_CHUNK], y[i : i + SSIM_CHUNK]
        maps = torch.stack([a, b, a * a, b * b, a * b], dim=1)  # (chunk, 5, c, h, w)
        mx, my, xx, yy, xy = (rows.T @ maps @ cols).unbind(1)  # each (chunk, c, h', w')
        vx, vy, cov = xx - mx * mx, yy - my * my, xy - mx * my
        s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        out.append(s.flatten(1).mean(1))
    return torch.cat(out).reshape(lead)


def changed_mask(target: Tensor, reference: Tensor, threshold: float = DEFAULT_CHANGE_THRESHOLD) -> Tensor:
    """Pixels where ``target`` differs from ``reference`` by more than ``threshold`` in any channel:
    (..., C, H, W) → bool (..., H, W). ``reference`` broadcasts (e.g. one last context frame per clip)."""
    return (target.float() - reference.float()).abs().amax(dim=-3) > threshold


def masked_psnr(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """PSNR (dB) of each image over the pixels of ``mask`` (..., H, W); NaN where the mask is empty."""
    err = (pred.float() - target.float()).pow(2).mean(-3)  # (..., H, W), mean over channels
    m = mask.float()
    count = m.flatten(-2).sum(-1)
    mse = (err * m).flatten(-2).sum(-1) / count.clamp_min(1)
    out = 10.0 * torch.log10(1.0 / mse.clamp_min(MIN_MSE))
    return torch.where(count > 0, out, torch.full_like(out, float("nan")))
