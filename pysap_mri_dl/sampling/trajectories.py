"""Non-Cartesian trajectories in cycles per pixel, range [-0.5, 0.5), shape (n_samples, ndim).

Column ``d`` of a trajectory is the k-space coordinate along image axis ``d``; samples are
ordered shot after shot (spoke after spoke, interleave after interleave), so that
``kspace.reshape(n_coils, n_shots, n_samples_per_shot)`` recovers the acquisition order.
The 3D stacks put the partition (slice-encoding) axis first.
"""
from __future__ import annotations

import numpy as np

__all__ = ["radial", "spiral", "kooshball", "stack_of_stars", "stack_of_spirals",
           "GOLDEN_ANGLE", "GOLDEN_MEANS"]

GOLDEN_ANGLE = np.pi * (np.sqrt(5) - 1) / 2  # 111.246 degrees, in radians
GOLDEN_MEANS = (0.4656, 0.6823)  # 2D golden means (Chan et al., MRM 2009) for 3D radial
_EDGE = 0.5 - 1e-7  # keep +0.5 out of the half-open range


def _readout(n_samples):
    return (np.arange(n_samples) - n_samples / 2) / n_samples


def _check_counts(name, **counts):
    for key, value in counts.items():
        if int(value) != value or value < (2 if key == "n_samples" else 1):
            low = 2 if key == "n_samples" else 1
            raise ValueError(f"{name}: {key} must be an integer >= {low}, received {value}")


def radial(n_spokes, n_samples, *, golden=False):
    """2D radial spokes through the centre: uniform angles over [0, pi), or golden-angle
    increments (``golden=True``). Returns ``(n_spokes * n_samples, 2)``, spoke after spoke."""
    _check_counts("radial", n_spokes=n_spokes, n_samples=n_samples)
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
    _check_counts("spiral", n_interleaves=n_interleaves, n_samples=n_samples)
    if not density_power > 0 or not n_turns > 0:
        raise ValueError(f"spiral: n_turns and density_power must be > 0, received {n_turns}, "
                         f"{density_power}")
    t = np.arange(n_samples) / n_samples
    radius = 0.5 * t ** density_power
    phase = 2 * np.pi * n_turns * t
    shifts = 2 * np.pi * np.arange(n_interleaves) / n_interleaves
    angle = phase[None, :] + shifts[:, None]
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], -1)
    return np.clip(points.reshape(-1, 2), -0.5, _EDGE)


def kooshball(n_spokes, n_samples):
    """3D radial ("kooshball") diameters through the centre, directions from the 2D golden
    means: spoke ``m`` has polar cosine ``frac(m g1)`` and azimuth ``2 pi frac(m g2)``, which
    covers the sphere near uniformly for any number of spokes and any contiguous subset
    (suited to retrospective binning). Returns ``(n_spokes * n_samples, 3)``."""
    _check_counts("kooshball", n_spokes=n_spokes, n_samples=n_samples)
    m = np.arange(n_spokes)
    cos_polar = (m * GOLDEN_MEANS[0]) % 1.0
    azimuth = 2 * np.pi * ((m * GOLDEN_MEANS[1]) % 1.0)
    sin_polar = np.sqrt(1 - cos_polar ** 2)
    direction = np.stack([cos_polar, sin_polar * np.sin(azimuth), sin_polar * np.cos(azimuth)], -1)
    points = _readout(n_samples)[None, :, None] * direction[:, None, :]
    return np.clip(points.reshape(-1, 3), -0.5, _EDGE)


def _stack(planar, n_partitions):
    _check_counts("stack", n_partitions=n_partitions)
    kz = (np.arange(n_partitions) - n_partitions // 2) / n_partitions
    stacked = np.concatenate([np.repeat(kz, len(planar))[:, None],
                              np.tile(planar, (n_partitions, 1))], axis=1)
    return np.clip(stacked, -0.5, _EDGE)


def stack_of_stars(n_spokes, n_samples, n_partitions, *, golden=False):
    """Radial spokes in-plane (axes 1, 2) repeated on ``n_partitions`` Cartesian partitions
    along axis 0. Returns ``(n_partitions * n_spokes * n_samples, 3)``, partition-major."""
    return _stack(radial(n_spokes, n_samples, golden=golden), n_partitions)


def stack_of_spirals(n_interleaves, n_samples, n_partitions, *, n_turns=8, density_power=1.0):
    """Spiral interleaves in-plane (axes 1, 2) repeated on ``n_partitions`` Cartesian
    partitions along axis 0. Returns ``(n_partitions * n_interleaves * n_samples, 3)``."""
    planar = spiral(n_interleaves, n_samples, n_turns=n_turns, density_power=density_power)
    return _stack(planar, n_partitions)
