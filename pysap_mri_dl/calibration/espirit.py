"""ESPIRiT sensitivity maps (Uecker et al., MRM 2014) on NumPy/SciPy.

From the fully sampled k-space centre: the calibration matrix of all ``kernel x kernel``
multi-coil patches is decomposed by SVD; its dominant right singular vectors span the
signal patches. Each of them, seen as a small k-space filter per coil, has an image-space
response ``a_j(x)`` (one value per coil). At every pixel the matrix
``G(x) = 1/k^2 sum_j a_j(x) a_j(x)^H`` has eigenvalue 1 with the coil sensitivities as
eigenvector where there is signal (and eigenvalues well below 1 elsewhere): the maps are
its leading eigenvectors, kept where the eigenvalue exceeds ``crop``.
"""
from __future__ import annotations

import numpy as np

from .._backend import computed_on_numpy
from .smaps import calibration_region

__all__ = ["espirit"]


@computed_on_numpy
def espirit(kspace, *, mask=None, calib=24, kernel=6, threshold=0.02, crop=0.8, n_maps=1):
    """ESPIRiT coil sensitivity maps from multi-coil 2D Cartesian k-space.

    Parameters
    ----------
    kspace : ndarray ``(n_coils, ny, nx)``
        Centred k-space, zeros where not sampled.
    mask : ndarray ``(ny, nx)``, optional
        Sampling mask (default: the non-zero pattern of the first coil).
    calib : int
        Largest calibration width used along each axis (the fully sampled centre may be
        smaller: then all of it is used).
    kernel : int
        Kernel width (``kernel x kernel`` patches); must fit inside the calibration region.
    threshold : float
        Singular values below ``threshold * s_max`` are treated as noise.
    crop : float
        Maps are set to zero where their eigenvalue is below ``crop`` (outside the object).
    n_maps : int
        Number of map sets (eigenvectors) returned; more than one models the signal as a
        sum of images (soft-SENSE, for a field of view smaller than the object).

    Returns
    -------
    maps : ndarray ``(n_coils, ny, nx)`` complex64, or ``(n_maps, n_coils, ny, nx)`` when
        ``n_maps > 1``. Each map set has unit root sum of squares where it is not cropped;
        its phase is relative to the first coil.
    """
    kspace = np.asarray(kspace)
    if kspace.ndim != 3:
        raise ValueError(f"espirit: kspace must have shape (n_coils, ny, nx), received "
                         f"{kspace.shape}")
    if not np.all(np.isfinite(kspace)):
        raise ValueError("espirit: kspace contains NaN or Inf values")
    n_coils, ny, nx = kspace.shape
    if not 1 <= n_maps <= n_coils:
        raise ValueError(f"espirit: n_maps must be in [1, {n_coils}], received {n_maps}")
    if not 0 < threshold < 1 or not 0 <= crop < 1:
        raise ValueError(f"espirit: threshold must be in (0, 1) and crop in [0, 1), received "
                         f"{threshold}, {crop}")
    if mask is None:
        mask = np.abs(kspace[0]) > 0
    region = calibration_region(np.broadcast_to(np.asarray(mask, dtype=bool), (ny, nx)),
                                max_size=calib)
    block = kspace[(slice(None),) + region]
    if not np.any(block):
        raise ValueError("espirit: kspace is zero in the calibration region (no signal to "
                         "estimate maps from)")
    if kernel < 1 or any(kernel > s for s in block.shape[1:]):
        raise ValueError(f"espirit: kernel={kernel} does not fit in the fully sampled "
                         f"calibration region of size {block.shape[1:]}; use a smaller kernel "
                         "or a mask with a larger centre")
    patches = np.lib.stride_tricks.sliding_window_view(block, (n_coils, kernel, kernel))
    matrix = patches.reshape(-1, n_coils * kernel * kernel)
    _, singular, vh = np.linalg.svd(matrix, full_matrices=False)
    kept = vh[singular >= threshold * singular[0]].conj()  # (n_kept, coils * k * k)
    filters = kept.reshape(-1, n_coils, kernel, kernel)
    padded = np.zeros(filters.shape[:2] + (ny, nx), dtype=np.complex64)
    padded[..., :kernel, :kernel] = filters
    responses = np.fft.fftshift(np.fft.fft2(padded), axes=(-2, -1))  # (n_kept, coils, ny, nx)
    gram = np.einsum("jcyx,jdyx->yxcd", responses, responses.conj()) / kernel ** 2
    values, vectors = np.linalg.eigh(gram)  # ascending
    values = values[..., ::-1][..., :n_maps]
    # the filters act on k-space by correlation, so G's eigenvectors are the conjugate maps
    vectors = vectors[..., ::-1][..., :n_maps].conj()  # (ny, nx, coils, n_maps)
    reference = vectors[..., :1, :]
    phase = np.exp(-1j * np.angle(reference))
    maps = vectors * phase * (values[..., None, :] > crop)
    maps = np.moveaxis(maps, (-1, -2), (0, 1)).astype(np.complex64)  # (n_maps, coils, ny, nx)
    return maps[0] if n_maps == 1 else maps
