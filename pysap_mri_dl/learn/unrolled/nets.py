"""The per-iteration networks of the unrolled models: plain convolution blocks and a small
U-Net, in 2D or 3D, on real channels (complex values are two channels at their boundary,
:func:`~pysap_mri_dl.learn.unrolled.physics.to_channels`)."""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBlock", "UNetBlock"]


def _conv(ndim):
    return {2: nn.Conv2d, 3: nn.Conv3d}[ndim]


class ConvBlock(nn.Module):
    """``depth`` 3x3 (3x3x3) convolutions with ReLU between them and a linear last layer:
    ``(B, in_channels, *spatial) -> (B, out_channels, *spatial)``. The last layer starts at
    zero, so an untrained block adds nothing (an unrolled network starts as its algorithm)."""

    def __init__(self, in_channels, out_channels, *, features=32, depth=3, ndim=2):
        super().__init__()
        conv = _conv(ndim)
        layers, width = [], in_channels
        for _ in range(depth - 1):
            layers += [conv(width, features, 3, padding=1), nn.ReLU(inplace=True)]
            width = features
        last = conv(width, out_channels, 3, padding=1)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)

    def forward(self, x):
        return self.net(x)


class UNetBlock(nn.Module):
    """A U-Net with ``levels`` poolings, ``features`` channels at the top (doubling at each
    level), 2D or 3D; zero-initialised output layer (see :class:`ConvBlock`). Spatial sizes
    that are not multiples of ``2**levels`` are padded and cropped back."""

    def __init__(self, in_channels, out_channels, *, features=16, levels=2, ndim=2):
        super().__init__()
        conv = _conv(ndim)
        up = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[ndim]
        widths = [features * 2 ** level for level in range(levels + 1)]

        def double(cin, cout):
            return nn.Sequential(conv(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
                                 conv(cout, cout, 3, padding=1), nn.ReLU(inplace=True))

        self.down = nn.ModuleList([double(in_channels, widths[0])] +
                                  [double(widths[i], widths[i + 1]) for i in range(levels)])
        self.up = nn.ModuleList([up(widths[i + 1], widths[i], 2, stride=2)
                                 for i in range(levels)])
        self.merge = nn.ModuleList([double(2 * widths[i], widths[i]) for i in range(levels)])
        self.out = conv(widths[0], out_channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.levels, self.ndim = levels, ndim
        self.pool = {2: nn.functional.max_pool2d, 3: nn.functional.max_pool3d}[ndim]

    def forward(self, x):
        size = x.shape[2:]
        multiple = 2 ** self.levels
        pad = []
        for n in reversed(size):
            pad += [0, (-n) % multiple]
        h = nn.functional.pad(x, pad) if any(pad) else x
        skips = []
        for i, block in enumerate(self.down):
            h = block(h if i == 0 else self.pool(h, 2))
            skips.append(h)
        for i in reversed(range(self.levels)):
            h = self.merge[i](torch.cat([self.up[i](h), skips[i]], dim=1))
        out = self.out(h)
        return out[(...,) + tuple(slice(0, n) for n in size)]
