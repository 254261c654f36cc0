"""Self-calibrated coil sensitivity maps from the fully sampled centre of k-space."""
from __future__ import annotations

import numpy as np

from .._backend import ifftn_centered

__all__ = ["calibration_region", "self_calibrated_smaps", "rss"]


def rss(coil_images, *, axis=0):
    """Root sum of squares over the coil axis."""
    return np.sqrt(np.sum(np.abs(coil_images) ** 2, axis=axis))


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


def calibration_region(mask):
    """The fully sampled block around the k-space centre, as a tuple of slices.

    Found by growing a run along each axis through the centre and shrinking the block until
    every location in it is sampled. Raises a ValueError when the centre is not sampled.
    """
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
                "(use a mask with a centre fraction, or give smaps)")
        block = tuple(slice(a, b) for a, b in runs)
        if mask[block].all():
            return block
        widest = max(range(mask.ndim), key=lambda d: runs[d][1] - runs[d][0])
        runs[widest] = [runs[widest][0] + 1, runs[widest][1] - 1]


def self_calibrated_smaps(kspace, *, mask=None, max_calib=32, window="hann"):
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

    Returns
    -------
    smaps : ndarray ``(n_coils, *shape)`` complex64, normalised so that their RSS is 1
        where there is signal.
    """
    kspace = np.asarray(kspace)
    if kspace.ndim < 3:
        raise ValueError(
            f"kspace must have shape (n_coils, *spatial), received {kspace.shape}")
    if mask is None:
        mask = np.abs(kspace[0]) > 0
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), kspace.shape[1:])
    region = calibration_region(mask)
    trimmed = []
    for sl, n in zip(region, kspace.shape[1:]):
        width = min(sl.stop - sl.start, max_calib)
        centre = n // 2
        start = max(sl.start, centre - width // 2)
        trimmed.append(slice(start, min(sl.stop, start + width)))
    region = tuple(trimmed)
    low = np.zeros_like(kspace, dtype=np.complex64)
    block = kspace[(slice(None),) + region]
    if window == "hann":
        for axis, sl in enumerate(region):
            w = np.hanning(sl.stop - sl.start + 2)[1:-1]
            shape = [1] * block.ndim
            shape[axis + 1] = w.size
            block = block * w.reshape(shape)
    elif window is not None:
        raise ValueError(f"window must be 'hann' or None, received {window!r}")
    low[(slice(None),) + region] = block
    coil_images = ifftn_centered(low, kspace.ndim - 1)
    norm = rss(coil_images)
    norm = np.maximum(norm, 1e-3 * norm.max())
    return (coil_images / norm).astype(np.complex64)
