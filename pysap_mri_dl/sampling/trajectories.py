"""Non-Cartesian trajectories in cycles per pixel, range [-0.5, 0.5), shape (n_samples, ndim)."""
from __future__ import annotations

import numpy as np

__all__ = ["radial", "spiral", "GOLDEN_ANGLE"]

GOLDEN_ANGLE = np.pi * (np.sqrt(5) - 1) / 2  # 111.246 degrees, in radians
_EDGE = 0.5 - 1e-7  # keep +0.5 out of the half-open range


def _readout(n_samples):
    return (np.arange(n_samples) - n_samples / 2) / n_samples


def radial(n_spokes, n_samples, *, golden=False):
    """2D radial spokes through the centre: uniform angles over [0, pi), or golden-angle
    increments (``golden=True``). Returns ``(n_spokes * n_samples, 2)``, spoke after spoke."""
    if n_spokes < 1 or n_samples < 2:
        raise ValueError(f"radial needs n_spokes >= 1 and n_samples >= 2, received {n_spokes}, {n_samples}")
    if golden:
        angles = (np.arange(n_spokes) * GOLDEN_ANGLE) % (2 * np.pi)
    else:
        angles = np.arange(n_spokes) * np.pi / n_spokes
    r = _readout(n_samples)
    points = np.stack([r[None, :] * np.cos(angles)[:, None], r[None, :] * np.sin(angles)[:, None]], -1)
    return np.clip(points.reshape(-1, 2), -0.5, _EDGE)


def spiral(n_interleaves, n_samples, *, n_turns=8, density_power=1.0):
    """2D Archimedean spiral interleaves, ``k(t) = 0.5 t^p (cos, sin)(2 pi n_turns t + phi_i)``
    for ``t`` in [0, 1); ``density_power`` p > 1 samples the centre more densely (variable
    density). Returns ``(n_interleaves * n_samples, 2)``."""
    if n_interleaves < 1 or n_samples < 2 or density_power <= 0:
        raise ValueError("spiral needs n_interleaves >= 1, n_samples >= 2 and density_power > 0")
    t = np.arange(n_samples) / n_samples
    radius = 0.5 * t ** density_power
    phase = 2 * np.pi * n_turns * t
    shifts = 2 * np.pi * np.arange(n_interleaves) / n_interleaves
    angle = phase[None, :] + shifts[:, None]
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], -1)
    return np.clip(points.reshape(-1, 2), -0.5, _EDGE)
