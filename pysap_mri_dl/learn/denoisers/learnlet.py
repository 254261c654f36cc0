"""Learnlets (Ramzi, Starck, Moreau, Ciuciu: "Wavelets in the deep learning era", 2020-2023).

A denoiser with the structure of wavelet shrinkage, every part of it learned except the
multi-scale split: the starlet transform splits the image into detail bands; on each band a
bank of learned analysis filters (unit norm) is applied, the responses are soft-thresholded
with a threshold that is a learned multiple of the noise level ``sigma`` (an input, scaled
by the band's noise level), and learned synthesis filters bring them back. The coarse band
is kept. The exact-reconstruction variant computes each band as
``d - S(W d - ST(W d))``: with ``sigma = 0`` it is the identity whatever the filters.

``tied=True`` (default) ties the synthesis to the analysis, ``S = gamma W^T / ||W||^2``
with ``gamma`` in (0, 1) learned per band and ``||W||^2`` the largest eigenvalue of
``W^T W`` (computed from the filters' spectra at every call). The analysis is a
zero-padded convolution and ``W^T`` its exact adjoint, a transposed convolution. Since
``W d - ST(W d)`` is the clipping of ``W d`` to ``[-t, t]``, the band map is then
``d - gamma / ||W||^2 * grad H(d)`` for the convex Huber penalty ``H(d) = sum huber_t(W d)``:
a gradient step of length below ``1 / Lip(grad H)``, hence non-expansive. This is what
keeps plug-and-play iterations stable (untied filters add a little structure at every call,
which accumulates in the unsampled part of k-space until the iterations diverge).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .starlet import Starlet

__all__ = ["Learnlet"]


class Learnlet(torch.nn.Module):
    """``forward(x, sigma)`` for real images ``x`` ``(B, 1, H, W)`` and ``sigma`` ``(B,)``
    (noise standard deviation, same units as ``x``).

    Parameters
    ----------
    n_scales : int
        Starlet scales (detail bands).
    n_filters : int
        Analysis/synthesis filters per band.
    kernel_size : int
        Filter size (odd).
    exact : bool
        Exact-reconstruction variant (module docstring).
    """

    def __init__(self, n_scales=4, n_filters=32, kernel_size=5, exact=True, tied=True):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, received {kernel_size}")
        if tied and not exact:
            raise ValueError("Learnlet: tied=True needs exact=True")
        self.config = dict(n_scales=n_scales, n_filters=n_filters, kernel_size=kernel_size,
                           exact=exact, tied=tied)
        self.tied = tied
        self.starlet = Starlet(n_scales)
        self.exact = exact
        shape = (n_filters, 1, kernel_size, kernel_size)
        generator = torch.Generator().manual_seed(0)
        self.analysis = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(shape, generator=generator) / kernel_size)
             for _ in range(n_scales)])
        # synthesis filters are applied as a transposed convolution (the adjoint of the
        # analysis convolution when equal to it); they start as the normalised analysis
        # bank / n_filters
        self.synthesis = torch.nn.ParameterList(
            [torch.nn.Parameter(self._normalised(w).detach() / n_filters)
             for w in self.analysis])
        # thresholds = alpha * sigma * band noise level, alpha learned per filter (start at 3)
        self.alpha = torch.nn.Parameter(torch.full((n_scales, n_filters), 3.0))
        self.gamma_logit = torch.nn.Parameter(torch.full((n_scales,), 2.0))  # gamma ~ 0.88
        self.register_buffer("band_noise", self.starlet.noise_levels())

    @staticmethod
    def _normalised(weights):
        return weights / weights.flatten(1).norm(dim=1).clamp_min(1e-8).view(-1, 1, 1, 1)

    @staticmethod
    def _frame_bound(weights, size=64):
        """Largest eigenvalue of ``W^T W`` for the filter bank (max over frequencies of the
        summed squared filter spectra)."""
        spectra = torch.fft.rfft2(weights[:, 0], s=(size, size))
        return (spectra.real ** 2 + spectra.imag ** 2).sum(0).max()

    def forward(self, x, sigma):
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(f"Learnlet: x must have shape (B, 1, H, W), received {tuple(x.shape)}")
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
        details, coarse = self.starlet(x)
        pad = self.config["kernel_size"] // 2
        out = []
        for j, band in enumerate(details):
            weights = self._normalised(self.analysis[j])
            responses = F.conv2d(band, weights, padding=pad)
            threshold = F.relu(self.alpha[j]).view(1, -1, 1, 1) * sigma * self.band_noise[j]
            # the part soft thresholding removes: responses - ST(responses) = clip to [-t, t]
            removed = torch.clamp(responses, -threshold, threshold)
            if self.tied:
                gain = torch.sigmoid(self.gamma_logit[j]) / self._frame_bound(weights)
                out.append(band - gain * F.conv_transpose2d(removed, weights, padding=pad))
            elif self.exact:
                out.append(band - F.conv_transpose2d(removed, self.synthesis[j], padding=pad))
            else:
                out.append(F.conv_transpose2d(responses - removed, self.synthesis[j],
                                              padding=pad))
        return Starlet.inverse(out, coarse)
