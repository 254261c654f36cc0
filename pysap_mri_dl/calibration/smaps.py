"""Self-calibrated coil sensitivity maps from the centre of k-space (Cartesian or not)."""
from __future__ import annotations

import numpy as np

from .._backend import computed_on_numpy, xp_of
from .._fourier import ifftn_centered

__all__ = ["calibration_region", "self_calibrated_smaps", "noncartesian_smaps", "rss"]


def rss(coil_images, *, axis=0):
    """Root sum of squares over the coil axis (any array kind)."""
    xp = xp_of(coil_images)
    return xp.sqrt(xp.sum(xp.abs(coil_images) ** 2, axis=axis))


def _centred_run(line):
    """Half-open [start, stop) of the run of True values containing the centre of ``line``."""
    n = line.size
    c = n // 2
    if not line[c]:
        return c, c
    start = c
    while start > 0 and line[start - 1]:
        start -= 1
    stop = c + 1
    while stop < n and line[stop]:
        stop += 1
    return start, stop


def calibration_region(mask, *, max_size=None, name="calib", needs="give smaps"):
    """The fully sampled block around the k-space centre, as a tuple of slices.

    Found by growing a run along each axis through the centre and shrinking the block until
    every location in it is sampled; with ``max_size`` (a cap: an axis shorter than it keeps
    its whole block), each side is then trimmed to at most ``max_size`` samples centred on
    the k-space centre. Raises a ValueError when the centre is not sampled (suggesting
    ``needs``) or ``max_size`` (the caller's option ``name``) is not an integer >= 1.
    """
    mask = np.asarray(mask, dtype=bool)
    if max_size is not None and (isinstance(max_size, bool) or int(max_size) != max_size
                                 or max_size < 1):
        raise ValueError(f"{name}={max_size!r} must be an integer >= 1")
    region = _fully_sampled_block(mask, needs)
    if max_size is None:
        return region
    trimmed = []
    for sl, n in zip(region, mask.shape):
        width = min(sl.stop - sl.start, max_size)
        start = max(sl.start, n // 2 - width // 2)
        trimmed.append(slice(start, min(sl.stop, start + width)))
    return tuple(trimmed)


def _fully_sampled_block(mask, needs="give smaps"):
    mask = np.asarray(mask, dtype=bool)
    centre = tuple(n // 2 for n in mask.shape)
    runs = []
    for axis in range(mask.ndim):
        index = list(centre)
        index[axis] = slice(None)
        runs.append(list(_centred_run(mask[tuple(index)])))
    while True:
        if any(stop - start < 1 for start, stop in runs):
            raise ValueError(
                "mask: no fully sampled k-space centre was found; self-calibration needs one "
                f"(use a mask with a centre fraction, or {needs})")
        block = tuple(slice(a, b) for a, b in runs)
        if mask[block].all():
            return block
        widest = max(range(mask.ndim), key=lambda d: runs[d][1] - runs[d][0])
        runs[widest] = [runs[widest][0] + 1, runs[widest][1] - 1]


@computed_on_numpy
def self_calibrated_smaps(kspace, *, mask=None, max_calib=32, window="hann", support=10.0):
    """Low-resolution sensitivity maps from the k-space centre (a la SENSE calibration).

    Parameters
    ----------
    kspace : ndarray, shape ``(n_coils, *shape)``
        Multi-coil Cartesian k-space (zeros where not sampled).
    mask : ndarray, optional
        Sampling mask; default: the non-zero pattern of the first coil.
    max_calib : int
        Largest calibration size used along any axis (keeps the maps smooth).
    window : 'hann' or None
        Apodisation of the calibration data (reduces ringing in the maps).
    support : float
        The maps are set to zero where the low-resolution RSS image is below ``support``
        times the RSS its noise alone would have (the noise level estimated by
        :func:`~pysap_mri_dl.calibration.kspace_noise_level`): outside the object. Like the
        crop of ESPIRiT maps, this is a support constraint (the data term no longer reaches
        those pixels and the prior sets them to zero), and it depends on the noise, not on
        the image intensity, so faint tissue is kept. Data whose k-space corners hold
        neither noise nor signal (smooth noise-free simulations) keep every pixel; sharp
        noise-free phantoms, whose corners hold signal, are cropped as if it were noise.
        0 disables it. See ``docs/regularisation.rst`` for what it is worth.

    Returns
    -------
    smaps : ndarray ``(n_coils, *shape)`` complex64, normalised so that their RSS is 1
        inside the support and 0 outside.
    """
    from .coils import kspace_noise_level
    kspace = np.asarray(kspace)
    if kspace.ndim < 3:
        raise ValueError(
            f"kspace must have shape (n_coils, *spatial), received {kspace.shape}")
    if not np.all(np.isfinite(kspace)):
        raise ValueError("self_calibrated_smaps: kspace contains NaN or Inf values")
    if not support >= 0:
        raise ValueError(f"support must be >= 0 (a multiple of the noise level), received "
                         f"{support}")
    if mask is None:
        mask = np.abs(kspace[0]) > 0
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), kspace.shape[1:])
    region = calibration_region(mask, max_size=max_calib, name="max_calib")
    low = np.zeros_like(kspace, dtype=np.complex64)
    block = kspace[(slice(None),) + region]
    if not np.any(block):
        raise ValueError("self_calibrated_smaps: kspace is zero in the calibration region "
                         "(no signal to estimate sensitivity maps from)")
    gain = 1.0  # noise amplitude of a low-resolution pixel relative to a k-space sample
    if window == "hann":
        for axis, sl in enumerate(region):
            w = np.hanning(sl.stop - sl.start + 2)[1:-1]
            shape = [1] * block.ndim
            shape[axis + 1] = w.size
            block = block * w.reshape(shape)
            gain *= np.sum(w ** 2)
    elif window is not None:
        raise ValueError(f"window must be 'hann' or None, received {window!r}")
    else:
        gain = float(np.prod([sl.stop - sl.start for sl in region]))
    low[(slice(None),) + region] = block
    coil_images = ifftn_centered(low, kspace.ndim - 1)
    floor = 0.0
    if support > 0:
        # per pixel and coil, noise of std sigma sqrt(gain / N) per part; RSS of n_coils of it
        sigma = kspace_noise_level(kspace, mask, ndim=kspace.ndim - 1)
        if sigma > 1e-6 * np.abs(kspace).max():  # below that: single-precision rounding
            floor = support * sigma * np.sqrt(gain / mask.size) * np.sqrt(2 * kspace.shape[0])
    return _normalise_by_rss(coil_images, floor=floor)


def _normalise_by_rss(coil_images, floor=0.0):
    """Coil images divided by their RSS (floored at 1e-3 of its maximum), complex64; zero
    where the RSS is below ``floor``."""
    norm = rss(coil_images)
    maps = coil_images / np.maximum(norm, 1e-3 * norm.max())
    if floor > 0:
        inside = norm >= floor
        if not inside.any():
            raise ValueError("support: no pixel of the low-resolution image is above the "
                             "noise floor it sets; lower support (0 keeps every pixel)")
        maps = maps * inside
    return maps.astype(np.complex64)


def noncartesian_smaps(kspace, trajectory, shape, *, density=None, calib_width=32,
                       backend=None):
    """Self-calibrated sensitivity maps from the centre of a non-Cartesian acquisition.

    The samples within ``calib_width / 2`` Nyquist samples of the k-space centre (an
    ellipse in ``(k_d N_d)`` units) are density-compensated, tapered by a radial Hann
    window and gridded by the NUFFT adjoint into low-resolution coil images, which are
    divided by their RSS.

    Parameters
    ----------
    kspace : ndarray ``(n_coils, n_samples)``
    trajectory : ndarray ``(n_samples, ndim)`` in cycles per pixel
    shape : image shape (2 or 3 sizes)
    density : ndarray ``(n_samples,)``, optional
        Density compensation; default: :func:`~pysap_mri_dl.calibration.pipe_density` of
        the calibration samples.
    calib_width : int
        Diameter of the calibration region in Nyquist samples (keeps the maps smooth).

    Returns
    -------
    smaps : ``(n_coils, *shape)`` complex64 of the k-space's array kind, RSS 1 where there
    is signal.
    """
    from .._backend import same_kind, to_numpy
    from ..data.validation import check_density
    from ..operators import NUFFT
    from ..operators.nufft import check_image_shape, check_trajectory
    from .density import pipe_density
    shape = check_image_shape(shape)
    trajectory = check_trajectory(trajectory, len(shape))
    like, kspace = kspace, np.asarray(to_numpy(kspace))
    if kspace.ndim != 2 or kspace.shape[1] != len(trajectory):
        raise ValueError(f"kspace must have shape (n_coils, {len(trajectory)}) to match the "
                         f"trajectory, received {kspace.shape}")
    if not calib_width >= 2:
        raise ValueError(f"calib_width must be >= 2 Nyquist samples, received {calib_width}")
    radius = np.linalg.norm(trajectory * np.asarray(shape), axis=1) / (calib_width / 2)
    inside = radius < 1
    if np.count_nonzero(inside) < 4 * len(shape):
        raise ValueError(f"only {np.count_nonzero(inside)} samples lie within calib_width="
                         f"{calib_width} of the k-space centre; increase calib_width")
    centre = trajectory[inside]
    weights = (pipe_density(centre, shape, backend=backend) if density is None
               else check_density(density, len(trajectory))[inside])
    weights = weights * 0.5 * (1 + np.cos(np.pi * radius[inside]))
    op = NUFFT(centre, shape, n_coils=kspace.shape[0], backend=backend, eps=1e-4)
    maps = _normalise_by_rss(op.adj_op((kspace[:, inside] * weights).astype(np.complex64)))
    return maps if isinstance(like, np.ndarray) else same_kind(maps, like)
