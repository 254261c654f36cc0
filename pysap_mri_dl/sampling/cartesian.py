"""Seeded Cartesian undersampling masks (fastMRI-style column masks, 2D variable density).

Masks are boolean arrays of the full k-space shape ``(ny, nx)``; column masks sample whole
columns along the last axis (the phase-encoding direction of fastMRI data).
"""
from __future__ import annotations

from numbers import Real

import numpy as np

__all__ = ["random_column_mask", "equispaced_column_mask", "variable_density_mask",
           "cartesian_mask", "MASK_KINDS", "acceleration_of",
           "by_acceleration", "check_acceleration", "center_block", "as_binary_mask"]


def _rng(seed):
    """``seed``: an int (the same mask every call), None (fresh randomness) or a NumPy
    Generator (advanced by each call)."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check(shape, acceleration, center_fraction, *, center_area=False):
    sizes = tuple(shape) if hasattr(shape, "__len__") else (shape,)
    if len(sizes) != 2 or any(isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer))
                              or s < 2 for s in sizes):
        raise ValueError(f"shape must be 2 integer sizes >= 2, received {shape!r}")
    shape = tuple(int(s) for s in sizes)
    acceleration = check_acceleration(acceleration)
    if acceleration < 1:
        raise ValueError(f"acceleration must be >= 1, received {acceleration}")
    if isinstance(center_fraction, (bool, np.bool_)) or not isinstance(center_fraction, Real) \
            or not 0 <= center_fraction < 1:
        raise ValueError(f"center_fraction must be a number in [0, 1), received "
                         f"{center_fraction!r}")
    # the share of k-space the centre alone takes: a band of columns, or (2D) a square
    share = center_fraction ** 2 if center_area else center_fraction
    if share * acceleration > 1:
        raise ValueError(
            f"center_fraction={center_fraction} alone samples more than 1/acceleration="
            f"{1 / acceleration:.3f} of k-space")
    return shape


def _center_lines(n, center_fraction):
    n_low = int(round(n * center_fraction))
    start = (n - n_low + 1) // 2
    return start, n_low


def random_column_mask(shape, *, acceleration, center_fraction, seed=None):
    """fastMRI random mask: a fully sampled centre of ``round(nx * center_fraction)`` columns
    plus columns drawn at random with the probability that gives ``acceleration`` on average."""
    ny, nx = _check(shape, acceleration, center_fraction)
    start, n_low = _center_lines(nx, center_fraction)
    prob = (nx / acceleration - n_low) / max(nx - n_low, 1)
    columns = _rng(seed).uniform(size=nx) < prob
    columns[start:start + n_low] = True
    return np.broadcast_to(columns, (ny, nx)).copy()


def equispaced_column_mask(shape, *, acceleration, center_fraction, seed=None):
    """fastMRI equispaced mask: the centre plus every k-th column from a random offset, with
    k chosen so that the total matches ``acceleration``."""
    ny, nx = _check(shape, acceleration, center_fraction)
    start, n_low = _center_lines(nx, center_fraction)
    # spacing k such that n_low + (nx - n_low) / k = nx / acceleration
    spacing = nx if n_low >= nx / acceleration else (nx - n_low) / (nx / acceleration - n_low)
    offset = _rng(seed).integers(0, max(int(round(spacing)), 1))
    columns = np.zeros(nx, dtype=bool)
    positions = np.around(np.arange(offset, nx, spacing)).astype(int)
    columns[positions[positions < nx]] = True
    columns[start:start + n_low] = True
    return np.broadcast_to(columns, (ny, nx)).copy()


def variable_density_mask(shape, *, acceleration, center_fraction=0.04, decay=3.0, seed=None):
    """2D variable-density random mask: sampling probability ``(1 - r)^decay`` (``r`` the
    normalised k-space radius), scaled so the expected acceleration is ``acceleration``, plus a
    fully sampled central square of side ``center_fraction * size``."""
    ny, nx = _check(shape, acceleration, center_fraction, center_area=True)
    if isinstance(decay, (bool, np.bool_)) or not isinstance(decay, Real) \
            or not 0 <= decay < float("inf"):
        raise ValueError(f"decay must be a finite number >= 0 (the density's power of "
                         f"1 - radius), received {decay!r}")
    ky = (np.arange(ny) - ny // 2) / (ny / 2)
    kx = (np.arange(nx) - nx // 2) / (nx / 2)
    radius = np.minimum(np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2) / np.sqrt(2), 1.0)
    density = (1 - radius) ** decay
    center = center_block((ny, nx), center_fraction)
    target = ny * nx / acceleration - center.sum()
    if target <= 0:
        return center
    free = ~center
    lo, hi = 0.0, 1e6  # scale so that sum(min(1, scale * density)) over free = target
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if np.minimum(1.0, mid * density[free]).sum() < target:
            lo = mid
        else:
            hi = mid
    prob = np.minimum(1.0, hi * density)
    mask = _rng(seed).uniform(size=(ny, nx)) < prob
    return mask | center


def center_block(shape, center_fraction):
    """Boolean array that is True on a central block of ``round(size * center_fraction)``
    samples per axis (at least one)."""
    mask = np.zeros(shape, dtype=bool)
    index = []
    for n in shape:
        n_low = max(int(round(n * center_fraction)), 1)
        start = (n - n_low + 1) // 2
        index.append(slice(start, start + n_low))
    mask[tuple(index)] = True
    return mask


MASK_KINDS = {
    "random": random_column_mask,
    "equispaced": equispaced_column_mask,
    "variable-density": variable_density_mask,
}


def cartesian_mask(kind, shape, *, acceleration, center_fraction, seed=None):
    """Mask by name: one of ``MASK_KINDS`` (``random``, ``equispaced``, ``variable-density``)."""
    if kind not in MASK_KINDS:
        raise ValueError(f"mask kind must be one of {sorted(MASK_KINDS)}, received {kind!r}")
    return MASK_KINDS[kind](shape, acceleration=acceleration, center_fraction=center_fraction,
                            seed=seed)


def as_binary_mask(mask, shape, *, name="mask"):
    """``mask`` as a boolean array of ``shape`` (broadcast), or a named error.

    A sampling mask says which k-space locations were measured: it must be boolean or hold
    only the values 0 and 1 (of any numeric dtype, any array kind: it is converted to NumPy).
    Anything else (0.5, 2, NaN, strings) would otherwise be read as "sampled" and silently
    reconstruct fully sampled data, so it raises. Sampling *weights* belong to the operators
    (``FFT(mask=weights)``), not to the reconstructors."""
    from .._backend import to_numpy
    try:
        values = np.asarray(to_numpy(mask) if hasattr(mask, "shape") else mask)
    except TypeError as exc:
        raise TypeError(f"{name} must be an array, received {type(mask).__name__}") from exc
    if values.dtype != bool:
        if not np.issubdtype(values.dtype, np.number):
            raise TypeError(f"{name} must be boolean or hold only 0 and 1, received dtype "
                            f"{values.dtype}")
        bad = ~((values == 0) | (values == 1))  # complex 0/1 (BART's patterns) pass
        if bad.any():
            hint = (" (a 0/255 image? use mask > 0)" if values.max() == 255 else "")
            raise ValueError(f"{name} must be boolean or hold only 0 and 1, received values "
                             f"such as {values[bad].ravel()[:3].tolist()}{hint}")
        values = values != 0
    shape = tuple(int(s) for s in shape)
    try:
        return np.broadcast_to(values, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {values.shape} does not match the k-space shape "
                         f"{shape}") from None


def acceleration_of(mask) -> float:
    """Achieved acceleration: number of k-space locations / number sampled (``mask``
    boolean or 0/1, any array kind)."""
    from .._backend import to_numpy
    raw = np.asarray(to_numpy(mask))
    mask = as_binary_mask(raw, raw.shape)
    n = np.count_nonzero(mask)
    if n == 0:
        raise ValueError("mask samples nothing")
    return mask.size / n


def check_acceleration(acceleration):
    """``acceleration`` as a float, or a named error unless it is a finite number > 0."""
    if isinstance(acceleration, (bool, np.bool_)) or not isinstance(acceleration, Real) \
            or not 0 < acceleration < float("inf"):
        raise ValueError(f"acceleration must be a finite number > 0 (k-space locations over "
                         f"sampled ones), received {acceleration!r}")
    return float(acceleration)


def by_acceleration(anchors, acceleration):
    """A default that depends on the acceleration: ``anchors`` ``((a0, v0), (a1, v1))``
    with ``a0 < a1`` give ``v0`` up to ``a0``, ``v1`` from ``a1`` and the geometric
    interpolation between (linear in ``log a``); ``v0`` when ``acceleration`` is None
    (unknown: trajectories, fully sampled data). Used for the wavelet lambda factor
    (:data:`~pysap_mri_dl.recon.regularisation.LAMBDA_FACTORS`) and the plug-and-play noise
    level (:data:`~pysap_mri_dl.learn.denoisers.prox.PNP_SIGMAS`)."""
    (a0, v0), (a1, v1) = anchors
    if acceleration is None:
        return v0
    t = np.log(check_acceleration(acceleration) / a0) / np.log(a1 / a0)
    if not 0 < t < 1:
        return v0 if t <= 0 else v1
    return float(v0 * (v1 / v0) ** t)
