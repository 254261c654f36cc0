"""Coil and raw-data processing: noise prewhitening, coil compression (SVD, geometric),
readout oversampling removal and coil combination.

Multi-coil arrays here have the coil axis first: ``(n_coils, ...)``.
"""
from __future__ import annotations

import numpy as np

from .._fourier import fftn_centered, ifftn_centered

__all__ = ["kspace_noise_level", "noise_covariance", "prewhiten", "svd_compress", "geometric_compress",
           "remove_readout_oversampling", "combine_coils"]


def _coil_matrix(data, name):
    data = np.asarray(data)
    if data.ndim < 2:
        raise ValueError(f"{name} must have shape (n_coils, ...), received {data.shape}")
    return data.reshape(data.shape[0], -1)


def kspace_noise_level(kspace, mask=None, *, ndim=2, band=0.1):
    """Standard deviation of the k-space noise (per real and imaginary part), estimated
    from the sampled locations in the corners of Cartesian k-space: where every one of the
    last ``ndim`` frequencies lies in the outer ``band`` of its axis (the fraction nearest
    its edges), where in most scans the signal is far below the noise.

    ``kspace`` is ``(..., *shape)``; ``mask`` (default: where any leading entry is non-zero)
    is broadcast to ``shape``. Robust to the signal that remains there: the median modulus
    of complex Gaussian noise of standard deviation ``s`` is ``s sqrt(2 ln 2)``. Samples that
    are exactly zero (zero-filled or zero-padded k-space) are ignored; returns 0.0 when none
    is left (noise-free simulated data).
    """
    kspace = np.asarray(kspace)
    if not 0 < band < 0.5:
        raise ValueError(f"band must be in (0, 0.5), received {band}")
    shape = kspace.shape[kspace.ndim - ndim:]
    if mask is None:
        sampled = np.abs(kspace).reshape((-1,) + shape).max(0) > 0
    else:
        sampled = np.broadcast_to(np.asarray(mask, dtype=bool), shape)
    distance = np.ones(shape)  # the smallest distance to the centre over the axes
    for axis, n in enumerate(shape):
        view = [1] * ndim
        view[axis] = n
        distance = np.minimum(distance, (np.abs(np.arange(n) - n // 2) / n).reshape(view))
    values = np.abs(kspace[..., sampled & (distance >= 0.5 - band)]).ravel()
    values = values[values > 0]
    if values.size == 0:
        return 0.0
    return float(np.median(values) / np.sqrt(2 * np.log(2)))


def trajectory_noise_level(kspace, trajectory, *, band=0.1):
    """:func:`kspace_noise_level` for non-Cartesian k-space ``(..., n_samples)``: from the
    samples of ``trajectory`` ``(n_samples, ndim)`` (cycles per pixel) whose radius is in
    the outer ``band`` of [0, 0.5]."""
    kspace, trajectory = np.asarray(kspace), np.asarray(trajectory)
    if not 0 < band < 0.5:
        raise ValueError(f"band must be in (0, 0.5), received {band}")
    if trajectory.ndim != 2 or trajectory.shape[0] != kspace.shape[-1]:
        raise ValueError(f"trajectory must have shape ({kspace.shape[-1]}, ndim), received "
                         f"{trajectory.shape}")
    outer = np.linalg.norm(trajectory, axis=1) >= 0.5 - band
    values = np.abs(kspace[..., outer]).ravel()
    values = values[values > 0]
    if values.size == 0:
        return 0.0
    return float(np.median(values) / np.sqrt(2 * np.log(2)))


def noise_covariance(noise):
    """Coil noise covariance ``Psi = N N^H / n`` from noise samples ``(n_coils, ...)`` (a
    noise scan, or k-space/image samples of a signal-free background region)."""
    samples = _coil_matrix(noise, "noise")
    if samples.shape[1] < samples.shape[0]:
        raise ValueError(f"noise: {samples.shape[1]} samples per coil cannot estimate a "
                         f"{samples.shape[0]}x{samples.shape[0]} covariance; give more")
    samples = samples - samples.mean(axis=1, keepdims=True)
    return (samples @ samples.conj().T) / samples.shape[1]


def prewhiten(data, noise=None, *, covariance=None):
    """Decorrelate and equalise the coil noise: ``L^-1 data`` with ``Psi = L L^H`` (Cholesky).

    Give ``noise`` samples ``(n_coils, ...)`` or a ``covariance`` ``(n_coils, n_coils)``.
    After whitening, the noise covariance is the identity, so a least-squares data term is
    the maximum-likelihood one. Returns data of the same shape (complex64).
    """
    data = np.asarray(data)
    if covariance is None:
        if noise is None:
            raise ValueError("prewhiten needs noise samples or a covariance")
        covariance = noise_covariance(noise)
    covariance = np.asarray(covariance)
    if covariance.shape != (data.shape[0],) * 2:
        raise ValueError(f"covariance must be ({data.shape[0]}, {data.shape[0]}) for "
                         f"{data.shape[0]} coils, received {covariance.shape}")
    try:
        lower = np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        raise ValueError("covariance is not positive definite (dead or duplicated coil?)") from None
    white = np.linalg.solve(lower, _coil_matrix(data, "data"))
    return white.reshape(data.shape).astype(np.complex64)


def svd_compress(kspace, n_virtual):
    """Compress ``(n_coils, ...)`` data to ``n_virtual`` virtual coils by SVD of the coil
    matrix. Returns ``(compressed, matrix, energy)``: the compressed data, the
    ``(n_virtual, n_coils)`` compression matrix and the fraction of signal energy kept."""
    matrix_data = _coil_matrix(kspace, "kspace")
    n_coils = matrix_data.shape[0]
    if not 1 <= n_virtual <= n_coils:
        raise ValueError(f"n_virtual must be in [1, {n_coils}], received {n_virtual}")
    u, s, _ = np.linalg.svd(matrix_data, full_matrices=False)
    matrix = u[:, :n_virtual].conj().T
    energy = float((s[:n_virtual] ** 2).sum() / (s ** 2).sum())
    compressed = (matrix @ matrix_data).reshape((n_virtual,) + np.shape(kspace)[1:])
    return compressed.astype(np.complex64), matrix, energy


def geometric_compress(kspace, n_virtual, *, calib=24, readout_axis=-2):
    """Geometric coil compression (Zhang et al., MRM 2013) of 2D Cartesian k-space
    ``(n_coils, ny, nx)`` fully sampled along the readout (``readout_axis``: -2, the
    package's and fastMRI's layout, whose last axis holds the phase encodes, or -1): one
    compression matrix per readout position (after an inverse FFT along the readout), from
    the ``calib`` central phase-encoding lines (which must be sampled), aligned from one
    position to the next so that the virtual coils vary smoothly. Returns
    ``(compressed, energy)`` with ``energy`` the fraction of the whole data's energy kept.
    """
    kspace = np.asarray(kspace)
    if kspace.ndim != 3:
        raise ValueError(f"kspace must have shape (n_coils, ny, nx), received {kspace.shape}")
    if readout_axis not in (-1, -2, 1, 2):
        raise ValueError(f"readout_axis must be -2 or -1 (an axis of the image), received "
                         f"{readout_axis!r}")
    swap = readout_axis in (-2, 1)  # the loop below works with the readout last
    if swap:
        kspace = np.swapaxes(kspace, 1, 2)
    n_coils, ny, nx = kspace.shape
    if not 1 <= n_virtual <= n_coils:
        raise ValueError(f"n_virtual must be in [1, {n_coils}], received {n_virtual}")
    if not 1 <= calib <= ny:
        raise ValueError(f"calib={calib} must be between 1 and the {ny} phase-encoding lines")
    lines = slice(ny // 2 - calib // 2, ny // 2 - calib // 2 + calib)
    block = np.abs(kspace[:, lines]).max(axis=0) > 0  # (calib lines, readout positions)
    # every calibration line sampled, and most of the readout (a partial echo leaves part
    # of it zero; an undersampled axis taken for the readout leaves most of it)
    if not block.any(axis=1).all() or block.mean() < 0.5:
        raise ValueError(f"geometric_compress: the {calib} central phase-encoding lines are "
                         f"not sampled along the readout (readout_axis={readout_axis}: is "
                         f"that the fully sampled axis?)")
    hybrid = ifftn_centered(kspace, 1)  # image space along the readout
    out = np.empty((n_virtual, ny, nx), dtype=np.complex64)
    previous = None
    for x in range(nx):
        u = np.linalg.svd(hybrid[:, lines, x], full_matrices=False)[0]
        matrix = u[:, :n_virtual].conj().T  # (n_virtual, n_coils)
        if previous is not None:  # rotate within the subspace to match the previous position
            left, _, right = np.linalg.svd(matrix @ previous.conj().T)
            matrix = (left @ right).conj().T @ matrix
        previous = matrix
        out[:, :, x] = matrix @ hybrid[:, :, x]
    energy = float(np.sum(np.abs(out) ** 2) / np.sum(np.abs(hybrid) ** 2))
    compressed = fftn_centered(out, 1).astype(np.complex64)
    return (np.ascontiguousarray(np.swapaxes(compressed, 1, 2)) if swap else compressed), energy


def remove_readout_oversampling(kspace, factor=2, *, axis=-1):
    """Drop the readout oversampling of raw Cartesian k-space: inverse FFT along the readout,
    keep the central ``1 / factor`` of the field of view, FFT back. The readout axis
    shrinks from ``n`` to ``n // factor`` samples (orthonormal scaling kept)."""
    kspace = np.asarray(kspace)
    n = kspace.shape[axis]
    if factor < 1 or n % factor:
        raise ValueError(f"factor={factor} must be >= 1 and divide the readout length {n}")
    line = ifftn_centered(np.moveaxis(kspace, axis, -1), 1)
    keep = n // factor
    line = line[..., n // 2 - keep // 2: n // 2 - keep // 2 + keep]
    return np.moveaxis(fftn_centered(line, 1), -1, axis).astype(np.complex64)


def combine_coils(coil_images, method="rss", *, smaps=None, window=7):
    """Combine coil images ``(n_coils, ...)`` into one image.

    ``'rss'``: root sum of squares (magnitude). ``'adaptive'``: Walsh et al. (MRM 2000), at
    each pixel the dominant eigenvector of the coil covariance over a ``window``-wide
    neighbourhood weights the coils (complex, near-optimal SNR). ``'smaps'``: matched
    filter ``sum_c conj(s_c) x_c / sum_c |s_c|^2`` with given maps (e.g. ESPIRiT).
    """
    from scipy.ndimage import uniform_filter
    images = np.asarray(coil_images)
    if images.ndim < 2:
        raise ValueError(f"coil_images must have shape (n_coils, ...), received {images.shape}")
    if method == "rss":
        return np.sqrt(np.sum(np.abs(images) ** 2, axis=0)).astype(np.float32)
    if method == "smaps":
        if smaps is None or np.shape(smaps) != images.shape:
            raise ValueError(f"method='smaps' needs smaps of shape {images.shape}")
        weight = np.sum(np.abs(smaps) ** 2, axis=0)
        combined = np.sum(np.conj(smaps) * images, axis=0) / np.maximum(weight, 1e-12)
        return combined.astype(np.complex64)
    if method != "adaptive":
        raise ValueError(f"method must be 'rss', 'adaptive' or 'smaps', received {method!r}")
    n_coils = images.shape[0]
    outer = images[:, None] * images[None].conj()  # (coils, coils, ...)
    size = (1, 1) + (window,) * (images.ndim - 1)
    covariance = uniform_filter(outer.real, size) + 1j * uniform_filter(outer.imag, size)
    covariance = np.moveaxis(covariance.reshape(n_coils, n_coils, -1), -1, 0)
    vectors = np.linalg.eigh(covariance)[1][..., -1]  # (pixels, coils) dominant
    vectors = vectors * np.exp(-1j * np.angle(vectors[:, :1]))  # phase of coil 0 as reference
    combined = np.sum(vectors.conj().T.reshape(images.shape) * images, axis=0)
    return combined.astype(np.complex64)
