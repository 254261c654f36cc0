"""GRAPPA (Griswold et al., MRM 2002) for any 2D Cartesian sampling pattern.

Every missing k-space location is synthesised, coil by coil, as a linear combination of the
acquired samples of all coils within a ``kernel`` window around it. Locations are grouped
by the pattern of acquired samples in their window; for each pattern the weights are fitted
by Tikhonov-regularised least squares on every window of the fully sampled calibration
region (where all "acquired" and "missing" samples are known). Works for 1D (line) and 2D
undersampling alike, since the patterns come from the mask itself.
"""
from __future__ import annotations

import time

import numpy as np

from .._backend import same_kind, to_numpy
from ..calibration import calibration_region, rss
from ..sampling import as_binary_mask

__all__ = ["grappa", "GrappaResult"]


class GrappaResult:
    """``kspace`` (filled, acquired samples untouched), ``image`` (RSS of the coil images),
    ``n_patterns`` (kernel geometries fitted) and ``seconds``."""

    def __init__(self, kspace, n_patterns, seconds):
        from .._fourier import ifftn_centered
        self.kspace, self.n_patterns, self.seconds = kspace, n_patterns, seconds
        self.coil_images = ifftn_centered(kspace, 2)
        self.image = rss(self.coil_images)


def _windows(array, kernel):
    """All ``kernel`` windows of ``array`` ``(..., ny, nx)`` zero-padded to keep the size:
    shape ``(..., ny, nx, ky, kx)`` (a view)."""
    pad = [(0, 0)] * (array.ndim - 2) + [(k // 2, k - 1 - k // 2) for k in kernel]
    return np.lib.stride_tricks.sliding_window_view(np.pad(array, pad), kernel, axis=(-2, -1))


def grappa(kspace, mask=None, *, kernel=(5, 5), lamda=1e-3, calib=None):
    """Fill the missing samples of multi-coil Cartesian k-space by GRAPPA.

    Parameters
    ----------
    kspace : ndarray ``(n_coils, ny, nx)``
        Centred k-space with zeros where not acquired.
    mask : ndarray ``(ny, nx)``, optional
        Acquired locations (default: the non-zero pattern of the first coil). It must
        contain a fully sampled block around the centre (the calibration region).
    kernel : int or (int, int)
        Window size (odd sizes centre the target).
    lamda : float
        Tikhonov weight, relative to the largest eigenvalue of each normal matrix (1e-3
        was best on the 4-coil brain at R = 2 and 3, both directions).
    calib : int, optional
        Largest calibration size used along each axis (default: the whole fully sampled
        block).

    Returns
    -------
    GrappaResult
        Its arrays have the kind and device of ``kspace`` (the kernels are fitted and
        applied in NumPy: one pass, small linear systems).
    """
    start = time.perf_counter()
    like, kspace = kspace, to_numpy(kspace)  # kernel fitting runs in NumPy (small systems)
    if kspace.ndim != 3:
        raise ValueError(f"grappa: kspace must have shape (n_coils, ny, nx), received "
                         f"{kspace.shape}")
    if not np.all(np.isfinite(kspace)):
        raise ValueError("grappa: kspace contains NaN or Inf values")
    n_coils = kspace.shape[0]
    mask = as_binary_mask((np.abs(kspace[0]) > 0) if mask is None else mask, kspace.shape[1:])
    kernel = (kernel, kernel) if np.ndim(kernel) == 0 else kernel  # one size: a square
    kernel = tuple(int(k) for k in kernel)
    if len(kernel) != 2 or min(kernel) < 1:
        raise ValueError(f"grappa: kernel must be two sizes >= 1, received {kernel}")
    if lamda < 0:
        raise ValueError(f"grappa: lamda must be >= 0, received {lamda}")
    region = calibration_region(mask, max_size=calib, needs="use SENSE with maps")
    acs = kspace[(slice(None),) + region]
    if any(k > s for k, s in zip(kernel, acs.shape[1:])):
        raise ValueError(f"grappa: kernel {kernel} is larger than the fully sampled "
                         f"calibration region {acs.shape[1:]}; use a smaller kernel or more "
                         "calibration lines")
    data = (kspace * mask).astype(np.complex64)
    # training windows: every full window inside the calibration region
    train = np.lib.stride_tricks.sliding_window_view(acs, kernel, axis=(-2, -1))
    train = np.moveaxis(train, 0, -3).reshape(-1, n_coils, kernel[0] * kernel[1])
    centre = (kernel[0] // 2) * kernel[1] + kernel[1] // 2
    targets_train = train[:, :, centre]                      # (n_train, coils)
    # group the missing locations by the acquired pattern in their window
    missing = np.argwhere(~mask)
    if len(missing) == 0:
        return GrappaResult(same_kind(data, like), 0, time.perf_counter() - start)
    patterns = _windows(mask, kernel)[missing[:, 0], missing[:, 1]].reshape(len(missing), -1)
    keys, inverse = np.unique(patterns, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    windows = _windows(data, kernel)                          # (coils, ny, nx, ky, kx)
    filled = data.copy()
    for index, pattern in enumerate(keys):
        sources = np.flatnonzero(pattern)
        if sources.size == 0:
            continue  # nothing acquired nearby: left at zero
        a = train[:, :, sources].reshape(len(train), -1)     # (n_train, coils * n_src)
        normal = a.conj().T @ a
        reg = lamda * np.linalg.norm(normal, 2)
        weights = np.linalg.solve(normal + reg * np.eye(normal.shape[0]),
                                  a.conj().T @ targets_train)  # (coils * n_src, coils)
        where = missing[inverse == index]
        src = windows[:, where[:, 0], where[:, 1]].reshape(n_coils, len(where), -1)
        src = src[:, :, sources].transpose(1, 0, 2).reshape(len(where), -1)
        filled[:, where[:, 0], where[:, 1]] = (src @ weights).T
    return GrappaResult(same_kind(filled, like), len(keys), time.perf_counter() - start)
