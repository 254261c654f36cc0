"""pysap-mri's ``mri.operators.fourier.utils`` (and the Fourier part of
``mri.operators.utils``): sample locations <-> masks, location scaling,
gridding and density compensation (locations in cycles per pixel, [-0.5, 0.5), column
``d`` along image axis ``d``: the same convention as pysap_mri_dl's trajectories)."""
import warnings

import numpy as np

from pysap_mri_dl.operators import ifftn_centered

from ....errors import UnsupportedOptionError, reject_unknown

__all__ = ["convert_mask_to_locations", "convert_locations_to_mask",
           "normalize_frequency_locations", "discard_frequency_outliers",
           "gridded_inverse_fourier_transform_nd", "estimate_density_compensation",
           "check_if_fourier_op_uses_sense"]


def convert_mask_to_locations(mask):
    """Locations ``(M, d)`` of the ones of ``mask``: index ``i`` of an axis of size ``n``
    becomes ``i / n - 0.5`` (row-major order of the sampled points)."""
    mask = np.asarray(mask)
    indices = np.nonzero(mask == 1)
    return np.stack([idx / n - 0.5 for idx, n in zip(indices, mask.shape)], axis=-1)


def convert_locations_to_mask(samples_locations, img_shape):
    """Mask of shape ``img_shape`` with ones at the grid points nearest below the
    locations (``floor((k + 0.5) * n)``, clipped to the grid), so that it inverts
    :func:`convert_mask_to_locations`. pysap-mri floors without a tolerance, which can
    move a point one index down when ``(i / n - 0.5 + 0.5) * n`` rounds below ``i``; here
    a tolerance of 1e-6 of a grid step keeps the round trip exact."""
    locations = np.asarray(samples_locations, dtype=float)
    img_shape = tuple(int(s) for s in img_shape)
    if locations.ndim != 2 or locations.shape[-1] != len(img_shape):
        raise ValueError(f"convert_locations_to_mask: samples_locations must have shape (M, "
                         f"{len(img_shape)}) for img_shape {img_shape}, received "
                         f"{locations.shape}")
    scaled = np.clip(locations + 0.5, 0, 0.999) * np.asarray(img_shape)
    index = np.minimum(np.floor(scaled + 1e-6), np.asarray(img_shape) - 1).astype(int)
    mask = np.zeros(img_shape, dtype=int)
    mask[tuple(index.T)] = 1
    return mask


def normalize_frequency_locations(samples, Kmax=None):
    """``samples / (2 Kmax)`` per axis (``Kmax`` default: the largest |sample| per axis),
    warning when a result reaches 0.5."""
    scaled = np.array(samples, dtype=float)
    kmax = np.abs(scaled).max(axis=0) if Kmax is None else np.broadcast_to(
        np.asarray(Kmax, dtype=float), (scaled.shape[-1],))
    scaled /= 2 * kmax
    if np.abs(scaled).max() >= 0.5:
        warnings.warn("Frequencies outside the 0.5 limit.")
    return scaled


def discard_frequency_outliers(kspace_loc, kspace_data):
    """Drop the samples outside [-0.5, 0.5) on any axis; ``kspace_data`` is
    ``(n_coils, M)``."""
    kspace_loc = np.asarray(kspace_loc)
    keep = np.all((kspace_loc >= -0.5) & (kspace_loc < 0.5), axis=-1)
    return (np.ascontiguousarray(kspace_loc[keep]),
            np.ascontiguousarray(np.asarray(kspace_data)[:, keep]))


def gridded_inverse_fourier_transform_nd(kspace_loc, kspace_data, grid, method):
    """Interpolate the samples onto ``grid`` (a ``numpy.meshgrid`` tuple, 'xy' indexing as
    in pysap-mri's examples) with ``scipy.interpolate.griddata`` (``method`` 'linear',
    'nearest' or 'cubic', zero outside the samples' hull) and inverse FFT. The scaling is
    pysap-mri's: unnormalised inverse FFT (``1/N``), i.e. ours divided by ``sqrt(N)``."""
    from scipy.interpolate import griddata
    gridded = griddata(kspace_loc, kspace_data, grid, method=method, fill_value=0)
    image = ifftn_centered(np.asarray(gridded, dtype=np.complex64), gridded.ndim)
    return np.swapaxes(image / np.sqrt(gridded.size), 1, 0)


def estimate_density_compensation(kspace_loc, volume_shape, implementation="pipe", **kwargs):
    """Density compensation weights ``(M,)``: ``'voronoi'`` or ``'pipe'`` (Pipe-Menon,
    ``num_iterations`` iterations), computed by :mod:`pysap_mri_dl.calibration`.

    ``'voronoi'`` is scaled as mri-nufft scales its Voronoi weights (the cell areas times
    the sum of their inverses), so that a script's fixed regularisation weight means what
    it meant on pysap-mri; the cells of the outermost samples are closed differently (a
    ring of guard points here, a polynomial extrapolation there), so those weights differ.
    ``'pipe'`` (gpuNUFFT's in pysap-mri, GPU only there) keeps pysap_mri_dl's scaling: unit
    gain of ``A^H D A`` with the engine's NUFFT normalisation."""
    from pysap_mri_dl.calibration import pipe_density, voronoi_density
    if implementation == "pipe":
        n_iter = int(kwargs.pop("num_iterations", 10))
        reject_unknown("estimate_density_compensation", kwargs)
        return pipe_density(kspace_loc, volume_shape, n_iter=n_iter)
    if implementation == "voronoi":
        reject_unknown("estimate_density_compensation", kwargs)
        areas = voronoi_density(kspace_loc, volume_shape).astype(np.float64)
        return areas * np.sum(1.0 / areas)
    raise UnsupportedOptionError("estimate_density_compensation",
                                 f"implementation={implementation!r}",
                                 supported="'pipe', 'voronoi'")


def check_if_fourier_op_uses_sense(fourier_op):
    """True for a ``NonCartesianFFT`` built with ``smaps``."""
    return bool(getattr(fourier_op, "uses_sense", False))
