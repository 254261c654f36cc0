"""Image-quality metrics with fastMRI's conventions.

All metrics compare magnitudes; the data range is the maximum of the reference magnitude
(as in the fastMRI evaluation code), so PSNR values can be compared with published ones.
"""
from __future__ import annotations

import numpy as np

from ._backend import to_numpy

__all__ = ["psnr", "ssim", "nrmse", "all_metrics"]


def _pair(reference, image):
    reference = np.abs(to_numpy(reference)).astype(np.float64)
    image = np.abs(to_numpy(image)).astype(np.float64)
    if reference.shape != image.shape:
        raise ValueError(
            f"image of shape {image.shape} does not match reference of shape {reference.shape}")
    if not (np.all(np.isfinite(reference)) and np.all(np.isfinite(image))):
        raise ValueError("reference and image must be finite")
    return reference, image


def psnr(reference, image, *, data_range=None) -> float:
    """Peak signal-to-noise ratio in dB (peak = maximum of the reference magnitude unless ``data_range``)."""
    reference, image = _pair(reference, image)
    data_range = reference.max() if data_range is None else data_range
    mse = np.mean((reference - image) ** 2)
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range ** 2 / mse))


def ssim(reference, image, *, data_range=None) -> float:
    """Structural similarity (scikit-image, 7x7 window) of the magnitudes."""
    from skimage.metrics import structural_similarity

    reference, image = _pair(reference, image)
    data_range = reference.max() if data_range is None else data_range
    return float(structural_similarity(reference, image, data_range=data_range))


def nrmse(reference, image) -> float:
    """``||ref - image|| / ||ref||`` on magnitudes."""
    reference, image = _pair(reference, image)
    return float(np.linalg.norm(reference - image) / np.linalg.norm(reference))


def all_metrics(reference, image) -> dict:
    return {"psnr": psnr(reference, image), "ssim": ssim(reference, image),
            "nrmse": nrmse(reference, image)}
