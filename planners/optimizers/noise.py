"""Temporally correlated Gaussian noise for sampling action sequences.

White noise makes action sequences that jitter from step to step; their displacement (the sum of
the actions) then grows only like √H, so a white-noise sampler rarely proposes the long, smooth
moves that manipulation needs. Two correlated alternatives, both with unit variance at every time
step (so a std in the configs keeps its meaning whatever the correlation):

* ``colored_noise``: power spectral density ∝ 1/f^β along time (iCEM, Pinneri et al. 2020):
  β = 0 is white, β = 1 pink, β = 2 red/brown (random-walk-like); higher β, smoother sequences;
* ``autoregressive_noise``: a first-order autoregressive filter ε_t = ρ ε_{t−1} + √(1 − ρ²) w_t
  (MPPI's smoothed perturbations, as VP² used).

The time axis is the *last* axis of ``colored_noise``'s output and axis −2 of
``autoregressive_noise``'s; callers arrange them as (N, H, A).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["autoregressive_noise", "colored_noise"]


def colored_noise(
    size: tuple[int, ...],
    beta: float,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Gaussian noise with power spectral density ∝ 1/f^β along the last axis, unit variance per element.

    Made in the frequency domain: for each frequency f_k = k / T (k = 0 … T//2, T = ``size[-1]``) a
    complex coefficient with independent N(0, 1) real and imaginary parts is scaled by
    f_k^(−β/2) (so its power is f_k^(−β)) and ``torch.fft.irfft`` turns the spectrum into T real
    samples. The zero frequency has no finite 1/f^β; it gets as much variance as the slowest
    oscillation (frequency 1/T), so the sequence's constant offset — the direction that moves a
    robot consistently — varies as much as its slowest swing (β = 0: every coefficient equal, white).
    The output is a stationary circular process: every time step has the same variance, which is
    computed exactly from the amplitudes and divided out.

    Args:
        size: output shape; the last entry T (≥ 1) is the time axis, the others are independent draws.
        beta: spectral exponent β ≥ 0.
        generator: torch random generator (reproducible draws); ``None`` = the global one.
        device: where to draw.
        dtype: floating dtype of the output.

    Returns:
        Tensor of ``size``: mean 0, variance 1 at every position, PSD ∝ f^−β along the last axis.
    """
    if not size or size[-1] < 1:
        raise ValueError(f"colored_noise: size must end with a time length ≥ 1, got {tuple(size)}")
    if not math.isfinite(beta) or beta < 0:
        raise ValueError(f"colored_noise: beta must be a finite number ≥ 0, got {beta!r}")
    steps = size[-1]
    freqs = torch.fft.rfftfreq(steps, device=device, dtype=torch.float64)  # (K,) k / T, K = T//2 + 1
    amplitude = torch.ones_like(freqs)
    if steps > 1:
        amplitude[1:] = freqs[1:].pow(-beta / 2)
        # The constant component gets the variance of the slowest oscillation (the pair ±1/T, which
        # contributes 4·amp² below, hence 2·amp): with an amplitude of its own 1/f^β would make it infinite.
        amplitude[0] = 2 * amplitude[1]
    lead = tuple(size[:-1])
    real = torch.randn((*lead, freqs.numel()), generator=generator, device=device, dtype=dtype)
    imag = torch.randn((*lead, freqs.numel()), generator=generator, device=device, dtype=dtype)
    # irfft drops the imaginary part of the zero frequency (and of the Nyquist one, for even T): zero
    # them here so that the variance computed below is the variance of what comes out.
    imag[..., 0] = 0
    if steps % 2 == 0:
        imag[..., -1] = 0
    spectrum = torch.complex(real, imag) * amplitude.to(dtype)
    signal = torch.fft.irfft(spectrum, n=steps, dim=-1)
    # irfft (norm="backward") gives x_t = (1/T) Σ_k X_k e^{2πikt/T} over the Hermitian-completed
    # spectrum: a frequency strictly between 0 and Nyquist appears with its conjugate, contributing
    # 2·amp·(a cos − b sin), i.e. variance 4·amp²; zero and Nyquist contribute amp² each.
    weight = torch.full_like(amplitude, 4.0)
    weight[0] = 1.0
    if steps % 2 == 0:
        weight[-1] = 1.0
    variance = (weight * amplitude.square()).sum() / steps**2
    return signal / variance.sqrt().to(dtype)


def autoregressive_noise(
    size: tuple[int, ...],
    correlation: float,
    *,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Stationary AR(1) Gaussian noise along axis −2 (time), unit variance per element.

    ε_0 = w_0 and ε_t = ρ ε_{t−1} + √(1 − ρ²) w_t with w iid N(0, 1): every step has variance 1 and
    steps k apart have correlation ρ^k. ρ = 0 is white noise (exactly the draws ``torch.randn``
    gives), ρ → 1 a nearly constant sequence.

    Args:
        size: output shape (..., T, D); axis −2 is time.
        correlation: ρ in [0, 1).
        generator: torch random generator; ``None`` = the global one.
        device: where to draw.
        dtype: floating dtype of the output.

    Returns:
        Tensor of ``size``.
    """
    if len(size) < 2:
        raise ValueError(f"autoregressive_noise: size must be (..., time, dim), got {tuple(size)}")
    if not math.isfinite(correlation) or not 0 <= correlation < 1:
        raise ValueError(f"autoregressive_noise: correlation must be in [0, 1), got {correlation!r}")
    white = torch.randn(size, generator=generator, device=device, dtype=dtype)
    if correlation == 0:
        return white
    innovation = math.sqrt(1 - correlation**2)
    steps = list(white.unbind(dim=-2))
    for t in range(1, len(steps)):  # T is a planning horizon (tens of steps): a Python loop is fine
        steps[t] = correlation * steps[t - 1] + innovation * steps[t]
    return torch.stack(steps, dim=-2)
