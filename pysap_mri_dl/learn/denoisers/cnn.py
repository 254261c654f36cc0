"""Baseline learned denoisers conditioned on the noise level: DnCNN and a small U-Net.

Both take images ``(B, channels, H, W)`` (``channels = 2`` for complex images as real and
imaginary parts, 1 for real images) and ``sigma`` ``(B,)``, append a constant
``sigma`` map as an extra input channel, and predict the noise (residual learning): the
output is ``x - net([x, sigma])``.
"""
from __future__ import annotations

import itertools

import torch
from torch import nn

__all__ = ["DnCNN", "UNet", "apply_denoiser"]


def move_denoiser(model, device):
    """Put the denoiser's weights (or buffers) on the images' device (a no-op when already
    there)."""
    held = next(itertools.chain(model.parameters(), model.buffers()), None)
    if held is not None and held.device != device:
        model.to(device)


def apply_denoiser(model, parts, sigma):
    """Run any denoiser on ``parts`` ``(N, C, H, W)``: ``C = 2`` (real, imaginary) or ``C = 1``
    (real), ``sigma`` ``(N,)``. Two-channel models (DnCNN, U-Net) get both channels (a zero
    imaginary part for real input); single-channel models (Learnlets) see each channel as a
    separate real image. Returns ``(N, C, H, W)``."""
    n, c, h, w = parts.shape
    if getattr(model, "config", {}).get("channels", 1) == 2:
        if c == 1:
            return model(torch.cat([parts, torch.zeros_like(parts)], 1), sigma)[:, :1]
        return model(parts, sigma)
    out = model(parts.reshape(n * c, 1, h, w), sigma.repeat_interleave(c))
    return out.reshape(n, c, h, w)


def _with_sigma(x, sigma):
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)
    return torch.cat([x, sigma.expand(x.shape[0], 1, *x.shape[2:])], dim=1)


class DnCNN(nn.Module):
    """Zhang et al. (2017): ``depth`` 3x3 convolutions with ReLU (batch normalisation left
    out: it couples samples and hurts plug-and-play stability), residual output."""

    def __init__(self, channels=2, depth=12, features=32):
        super().__init__()
        self.config = dict(channels=channels, depth=depth, features=features)
        layers = [nn.Conv2d(channels + 1, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(features, features, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(features, channels, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigma):
        return x - self.net(_with_sigma(x, sigma))


def _block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """A U-Net (Ronneberger et al. 2015) with ``levels`` poolings and ``features`` channels
    at the top level (doubling at each level), residual output. Image sizes must be
    divisible by ``2**levels``."""

    def __init__(self, channels=2, levels=2, features=16):
        super().__init__()
        self.config = dict(channels=channels, levels=levels, features=features)
        widths = [features * 2 ** level for level in range(levels + 1)]
        self.down = nn.ModuleList([_block(channels + 1, widths[0])] +
                                  [_block(widths[i], widths[i + 1]) for i in range(levels)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in range(levels)])
        self.merge = nn.ModuleList([_block(2 * widths[i], widths[i]) for i in range(levels)])
        self.out = nn.Conv2d(widths[0], channels, 1)
        self.levels = levels

    def forward(self, x, sigma):
        if any(s % 2 ** self.levels for s in x.shape[2:]):
            raise ValueError(f"UNet: image sizes {tuple(x.shape[2:])} must be divisible by "
                             f"{2 ** self.levels}")
        skips, h = [], _with_sigma(x, sigma)
        for i, block in enumerate(self.down):
            h = block(h if i == 0 else nn.functional.max_pool2d(h, 2))
            skips.append(h)
        for i in reversed(range(self.levels)):
            h = self.merge[i](torch.cat([self.up[i](h), skips[i]], dim=1))
        return x - self.out(h)
