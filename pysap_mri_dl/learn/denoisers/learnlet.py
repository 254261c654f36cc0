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
zero-padded convolution and ``W^T`` its exact adjoint, a transposed convolution (both
computed as matrix products on image patches, the fastest form on the CPU). Since
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


def _analysis(band, weights):
    """``conv2d(band, weights)`` with zero padding (same size) for ``band`` ``(B, 1, H, W)``
    and ``weights`` ``(F, 1, k, k)``, returned as ``(B, H*W, F)`` (filters last). On the CPU
    it is one matrix product on the ``k x k`` patches, 3-5x faster than ``conv2d`` with a
    single input channel; on a GPU, ``conv2d``."""
    n_filters, _, k, _ = weights.shape
    if band.is_cuda:
        return F.conv2d(band, weights, padding=k // 2).flatten(2).transpose(1, 2)
    patches = F.unfold(band, k, padding=k // 2)  # (B, k*k, H*W)
    return F.linear(patches.transpose(1, 2), weights.reshape(n_filters, k * k))


def _synthesis(responses, weights, shape):
    """The adjoint of :func:`_analysis` (``conv_transpose2d``) for ``responses``
    ``(B, H*W, F)``: the transposed filters as one matrix product, then the ``k x k``
    contributions summed into images ``(B, 1, *shape)`` (``fold``)."""
    n_filters, _, k, _ = weights.shape
    if responses.is_cuda:
        maps = responses.transpose(1, 2).reshape(responses.shape[0], n_filters, *shape)
        return F.conv_transpose2d(maps, weights, padding=k // 2)
    columns = torch.matmul(weights.reshape(n_filters, k * k).t(), responses.transpose(1, 2))
    return F.fold(columns, shape, k, padding=k // 2)


_CHUNK_PIXELS = 2 * 256 * 256
"""Images of a batch processed together on the CPU (in pixels)."""


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
        sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1)
        sigma = sigma.expand(x.shape[0]) if sigma.numel() == 1 else sigma
        per_chunk = max(1, _CHUNK_PIXELS // (x.shape[2] * x.shape[3]))
        if x.device.type == "cpu" and x.shape[0] > per_chunk:
            # on the CPU the filter responses of a large batch leave the caches: a few
            # images at a time is up to 2.5x faster per image (batch of 16 256^2 images)
            return torch.cat([self._denoise(part, noise) for part, noise in
                              zip(x.split(per_chunk), sigma.split(per_chunk))])
        return self._denoise(x, sigma)

    def _denoise(self, x, sigma):
        sigma = sigma.reshape(-1, 1, 1)
        shape = tuple(x.shape[2:])
        details, coarse = self.starlet(x)
        out = []
        for j, band in enumerate(details):
            weights = self._normalised(self.analysis[j])
            responses = _analysis(band, weights)  # (B, H*W, n_filters)
            threshold = F.relu(self.alpha[j]).view(1, 1, -1) * sigma * self.band_noise[j]
            # the part soft thresholding removes: responses - ST(responses) = clip to [-t, t]
            removed = torch.clamp(responses, -threshold, threshold)
            if self.tied:
                gain = torch.sigmoid(self.gamma_logit[j]) / self._frame_bound(weights)
                out.append(band - gain * _synthesis(removed, weights, shape))
            elif self.exact:
                out.append(band - _synthesis(removed, self.synthesis[j], shape))
            else:
                out.append(_synthesis(responses - removed, self.synthesis[j], shape))
        return Starlet.inverse(out, coarse)
