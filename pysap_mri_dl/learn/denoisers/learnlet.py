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
zero-padded convolution and ``W^T`` its exact adjoint, a transposed convolution (on the
CPU :class:`_Convolution` both ways, with the clipping's backward written out,
:class:`_Clip`: the same values as ``conv2d``, ``conv_transpose2d`` and ``clamp``, faster,
as ``benchmarks/learnlet.py`` measures). Since
``W d - ST(W d)`` is the clipping of ``W d`` to ``[-t, t]``, the band map is then
``d - gamma / ||W||^2 * grad H(d)`` for the convex Huber penalty ``H(d) = sum huber_t(W d)``:
a gradient step of length below ``1 / Lip(grad H)``, hence non-expansive. This is what
keeps plug-and-play iterations stable (untied filters add a little structure at every call,
which accumulates in the unsampled part of k-space until the iterations diverge).
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F

from .starlet import Starlet

__all__ = ["Learnlet", "plain_operations"]

_PLAIN = [False]


@contextlib.contextmanager
def plain_operations():
    """Within it, Learnlets run on torch's ``conv2d``, ``conv_transpose2d`` and ``clamp`` on
    every device: the operations the CPU path replaces, kept as the reference its tests and
    ``benchmarks/learnlet.py`` compare with."""
    _PLAIN[0] = True
    try:
        yield
    finally:
        _PLAIN[0] = False


def _analysis(band, weights):
    """``conv2d(band, weights)`` with zero padding (same size) for ``band`` ``(B, 1, H, W)``
    and ``weights`` ``(F, 1, k, k)``: the filter responses ``(B, F, H, W)``. On the CPU,
    :class:`_Convolution` (the same forward, a faster backward)."""
    if band.is_cuda or _PLAIN[0]:
        return F.conv2d(band, weights, padding=weights.shape[-1] // 2)
    return _Convolution.apply(band, weights, False)


def _synthesis(responses, weights):
    """The adjoint of :func:`_analysis` (``conv_transpose2d``) for ``responses``
    ``(B, F, H, W)``: images ``(B, 1, H, W)``. On the CPU, :class:`_Convolution`."""
    if responses.is_cuda or _PLAIN[0]:
        return F.conv_transpose2d(responses, weights, padding=weights.shape[-1] // 2)
    return _Convolution.apply(responses, weights, True)


# On the CPU a convolution with one input channel (the analysis) is fast and one with one
# output channel (``conv_transpose2d``, the synthesis) runs far below the machine's speed,
# in either direction of autograd. The functions below compute every product in its
# fast form: the synthesis as a matrix product giving each pixel's ``k x k`` contributions,
# added at their shifts (:func:`_adjoint_convolution`), the analysis as ``conv2d``, each
# used as the other's backward; the filters' gradient is a matrix product with ``F.unfold``
# patches. Autograd's own backward of the matrix product also hands its gradient over
# transposed, which slows every element-wise operation before it.

def _convolution(images, weights):
    return F.conv2d(images, weights, padding=weights.shape[-1] // 2)


def _adjoint_convolution(responses, weights):
    """``conv_transpose2d(responses, weights)`` as a matrix product and ``k^2`` shifted
    additions (``F.fold``'s sums, faster than ``F.fold``)."""
    batch, n_filters, height, width = responses.shape
    k = weights.shape[-1]
    pad = k // 2
    # contiguous: matmul takes a much slower path for a transposed matrix that requires
    # grad, even with gradients off
    matrix = weights.reshape(n_filters, k * k).t().contiguous()
    columns = torch.matmul(matrix, responses.reshape(batch, n_filters, height * width))
    columns = columns.reshape(batch, k, k, height, width)
    out = responses.new_zeros(batch, height + 2 * pad, width + 2 * pad)
    for dy in range(k):
        for dx in range(k):
            out[:, dy:dy + height, dx:dx + width] += columns[:, dy, dx]
    return out[:, None, pad:pad + height, pad:pad + width]


def _filter_gradient(responses, images, k):
    """The gradient of ``<responses, conv2d(images, w)>`` in the filters ``w``."""
    batch, n_filters = responses.shape[:2]
    patches = F.unfold(images, k, padding=k // 2)  # (B, k*k, H*W)
    grad = torch.matmul(responses.reshape(batch, n_filters, -1), patches.transpose(1, 2))
    return grad.sum(0).reshape(n_filters, 1, k, k)


class _Convolution(torch.autograd.Function):
    """``conv2d(x, w)`` (``adjoint=False``: images to responses) or its adjoint
    ``conv_transpose2d(x, w)`` (``adjoint=True``), each the other's backward."""

    @staticmethod
    def forward(ctx, x, weights, adjoint):
        ctx.save_for_backward(x, weights)
        ctx.adjoint = adjoint
        return (_adjoint_convolution if adjoint else _convolution)(x, weights)

    @staticmethod
    def backward(ctx, grad):
        x, weights = ctx.saved_tensors
        grad = grad.contiguous()
        k = weights.shape[-1]
        grad_x = grad_weights = None
        if ctx.needs_input_grad[0]:
            grad_x = (_convolution if ctx.adjoint else _adjoint_convolution)(grad, weights)
        if ctx.needs_input_grad[1]:  # (responses, images) for the filters' gradient
            grad_weights = (_filter_gradient(x, grad, k) if ctx.adjoint else
                            _filter_gradient(grad, x, k))
        return grad_x, grad_weights, None


class _Clip(torch.autograd.Function):
    """``clamp(x, -t, t)`` for responses ``x`` ``(B, F, H, W)`` and positive thresholds
    ``t`` broadcast over the pixels (``(B or 1, F, 1, 1)``), with a backward written for
    this case (``clamp``'s own with tensor bounds builds three masked copies, a large part
    of a Learnlet's training step): ``dx = g`` where ``x`` passed unclipped, and, per channel,
    ``dt = sum(g sign(x))`` over the clipped pixels ``= (<g, y> - <dx, x>) / t``."""

    @staticmethod
    def forward(ctx, x, t):
        y = torch.clamp(x, -t, t)
        ctx.save_for_backward(x, y, t)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y, t = ctx.saved_tensors
        grad = grad.contiguous()
        grad_x = grad * (x == y)
        grad_t = None
        if ctx.needs_input_grad[1]:
            flat = (*x.shape[:2], -1)
            dot = (torch.linalg.vecdot(grad.reshape(flat), y.reshape(flat)) -
                   torch.linalg.vecdot(grad_x.reshape(flat), x.reshape(flat)))
            per_channel = t.expand(*x.shape[:2], 1, 1)[..., 0, 0]
            grad_t = torch.where(per_channel > 0, dot / per_channel.clamp_min(1e-30), 0.0)
            grad_t = grad_t[..., None, None].sum_to_size(t.shape)
        return grad_x if ctx.needs_input_grad[0] else None, grad_t


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
        if torch.is_autocast_enabled(x.device.type):
            # a few thousand weights and custom kernels: it runs in single precision even in
            # a network trained under autocast (--amp)
            with torch.autocast(x.device.type, enabled=False):
                return self.forward(x.float() if x.dtype in (torch.float16, torch.bfloat16)
                                    else x, sigma)
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
        sigma = sigma.reshape(-1, 1, 1, 1)
        details, coarse = self.starlet(x)
        out = []
        for j, band in enumerate(details):
            weights = self._normalised(self.analysis[j])
            responses = _analysis(band, weights)  # (B, n_filters, H, W)
            threshold = F.relu(self.alpha[j]).view(1, -1, 1, 1) * sigma * self.band_noise[j]
            # the part soft thresholding removes: responses - ST(responses) = clip to [-t, t]
            removed = (torch.clamp(responses, -threshold, threshold) if _PLAIN[0] else
                       _Clip.apply(responses, threshold))
            if self.tied:
                gain = torch.sigmoid(self.gamma_logit[j]) / self._frame_bound(weights)
                out.append(band - gain * _synthesis(removed, weights))
            elif self.exact:
                out.append(band - _synthesis(removed, self.synthesis[j]))
            else:
                out.append(_synthesis(responses - removed, self.synthesis[j]))
        return Starlet.inverse(out, coarse)
