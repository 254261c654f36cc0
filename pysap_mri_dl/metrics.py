"""Image-quality metrics with fastMRI's conventions.

All metrics compare magnitudes; the data range is the maximum of the reference magnitude
(as in the fastMRI evaluation code), so PSNR values can be compared with published ones.
"""
from __future__ import annotations

import numpy as np

from ._backend import to_numpy

__all__ = ["psnr", "ssim", "nrmse", "all_metrics", "foreground", "interval_coverage",
           "uncertainty_correlation", "Z_90"]

Z_90 = 1.6448536269514722
"""Half-width of the central 90% interval of a Gaussian, in standard deviations."""


def _pair(reference, image):
    reference = np.abs(to_numpy(reference)).astype(np.float64)
    image = np.abs(to_numpy(image)).astype(np.float64)
    if reference.shape != image.shape:
        raise ValueError(
            f"image of shape {image.shape} does not match reference of shape {reference.shape}")
    for name, values in (("reference", reference), ("image", image)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be finite (it holds NaN or Inf values)")
    return reference, image


def _data_range(reference, data_range):
    """The peak: ``data_range`` if given (a finite number > 0), else the reference's
    maximum, which must then be positive (an all-zero reference has no PSNR or SSIM)."""
    if data_range is None:
        data_range = float(reference.max())
        if not data_range > 0:
            raise ValueError("the reference is zero everywhere: PSNR and SSIM, relative to "
                             "its maximum, are undefined (give data_range)")
        return data_range
    try:
        value = float(to_numpy(data_range)) if hasattr(data_range, "shape") else float(data_range)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(data_range, bool) or not 0 < value < float("inf"):
        raise ValueError(f"data_range must be a finite number > 0, received {data_range!r}")
    return value


def psnr(reference, image, *, data_range=None) -> float:
    """Peak signal-to-noise ratio in dB (peak = maximum of the reference magnitude unless ``data_range``)."""
    reference, image = _pair(reference, image)
    data_range = _data_range(reference, data_range)
    mse = np.mean((reference - image) ** 2)
    if mse == 0:
        return float("inf")
    return float(10 * np.log10(data_range ** 2 / mse))


def ssim(reference, image, *, data_range=None) -> float:
    """Structural similarity (scikit-image, 7x7 window) of the magnitudes."""
    from skimage.metrics import structural_similarity

    reference, image = _pair(reference, image)
    data_range = _data_range(reference, data_range)
    return float(structural_similarity(reference, image, data_range=data_range))


def nrmse(reference, image) -> float:
    """``||ref - image|| / ||ref||`` on magnitudes."""
    reference, image = _pair(reference, image)
    if not np.any(reference):
        raise ValueError("the reference is zero everywhere: NRMSE is undefined")
    return float(np.linalg.norm(reference - image) / np.linalg.norm(reference))


def all_metrics(reference, image) -> dict:
    return {"psnr": psnr(reference, image), "ssim": ssim(reference, image),
            "nrmse": nrmse(reference, image)}


def foreground(reference, fraction=0.1):
    """Pixels whose reference magnitude exceeds ``fraction`` of its maximum (where
    uncertainty is assessed: the background's error is mostly the reference's own noise)."""
    reference = np.abs(to_numpy(reference))
    return reference > fraction * reference.max()


def interval_coverage(reference, mean, std, *, z=Z_90, mask=None) -> float:
    """Fraction of the pixels of ``mask`` (default :func:`foreground`) whose reference lies
    within ``mean +- z std`` (magnitudes): 0.90 for calibrated 90% intervals."""
    reference, mean = _pair(reference, mean)
    std = _checked_std(std, mean.shape)
    mask = foreground(reference) if mask is None else np.asarray(mask, bool)
    return float(np.mean(np.abs(reference - mean)[mask] <= z * std[mask]))


def uncertainty_correlation(reference, mean, std, *, mask=None) -> float:
    """Spearman rank correlation between ``std`` and the absolute error ``|mean - reference|``
    over ``mask`` (default :func:`foreground`): does the uncertainty map point at the
    errors?"""
    from scipy.stats import spearmanr
    reference, mean = _pair(reference, mean)
    std = _checked_std(std, mean.shape)
    mask = foreground(reference) if mask is None else np.asarray(mask, bool)
    if np.ptp(std[mask]) == 0:  # no ranks to correlate (metrics.json records null)
        return float("nan")
    return float(spearmanr(std[mask], np.abs(reference - mean)[mask]).statistic)


def _checked_std(std, shape):
    std = np.asarray(to_numpy(std), np.float64)
    if std.shape != shape or not np.all(np.isfinite(std)) or np.any(std < 0):
        raise ValueError(f"std must be a finite non-negative array of shape {shape}, received "
                         f"shape {std.shape}")
    return std
