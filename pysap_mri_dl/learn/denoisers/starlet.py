"""The starlet (isotropic undecimated wavelet, "a trous" B3-spline) transform in torch.

``c_0 = x``, ``c_j = h_j * c_{j-1}`` with the B3-spline filter ``[1, 4, 6, 4, 1] / 16``
dilated by ``2^(j-1)`` (separable, reflect padding), details ``d_j = c_{j-1} - c_j``; the
inverse is the plain sum ``x = c_J + sum_j d_j`` (exact).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["Starlet"]

_B3 = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


class Starlet(torch.nn.Module):
    def __init__(self, n_scales=4):
        super().__init__()
        if n_scales < 1:
            raise ValueError(f"n_scales must be >= 1, received {n_scales}")
        self.n_scales = int(n_scales)
        self.register_buffer("kernel", _B3.clone(), persistent=False)

    def _smooth(self, image, dilation):
        """The dilated B3-spline filter along the columns then the rows, as five shifted,
        weighted copies of the reflect-padded image (faster than a one-channel ``conv2d`` on
        the CPU)."""
        pad = 2 * dilation
        k = self.kernel.to(image.dtype).tolist()
        height, width = image.shape[-2:]
        out = F.pad(image, (pad, pad, 0, 0), mode="reflect")
        out = sum(k[i] * out[..., i * dilation:i * dilation + width] for i in range(5))
        out = F.pad(out, (0, 0, pad, pad), mode="reflect")
        return sum(k[i] * out[..., i * dilation:i * dilation + height, :] for i in range(5))

    def forward(self, image):
        """``image`` ``(B, 1, H, W)`` -> (list of details ``d_1..d_J``, coarse ``c_J``)."""
        if min(image.shape[-2:]) <= 2 ** self.n_scales:  # the reflect padding of the last scale
            raise ValueError(f"a Learnlet (starlet) of {self.n_scales} scales needs images "
                             f"larger than {2 ** self.n_scales} pixels on each side, received "
                             f"{tuple(image.shape[-2:])}")
        details, coarse = [], image
        for j in range(self.n_scales):
            smooth = self._smooth(coarse, 2 ** j)
            details.append(coarse - smooth)
            coarse = smooth
        return details, coarse

    @staticmethod
    def inverse(details, coarse):
        return coarse + sum(details)

    def noise_levels(self, size=256):
        """Standard deviation of each detail band for unit white noise (measured once)."""
        generator = torch.Generator().manual_seed(0)
        noise = torch.randn(4, 1, size, size, generator=generator, dtype=self.kernel.dtype)
        details, _ = self.forward(noise.to(self.kernel.device))
        return torch.stack([d.std() for d in details])
