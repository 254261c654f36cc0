"""2D training slices from magnitude volumes, and the augmentations every model shares.

Real MRI volumes (NIfTI, e.g. Colin27) are cut into slices along one or all three axes,
each scaled to maximum 1, nearly empty slices dropped; held-out slice ranges validate.
The augmentations turn one T1 subject into more varied training images: flips, a T2-like
inverted contrast, a random gamma and intensity scale.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_slices", "invert_contrast", "augment", "fit_to"]


def _read_volume(path):
    import nibabel as nib
    try:
        volume = np.asarray(nib.load(str(path)).dataobj, dtype=np.float32)
    except Exception as exc:
        raise ValueError(f"{path}: cannot be read as a NIfTI volume ({exc})") from None
    if volume.ndim != 3:
        raise ValueError(f"{path}: expected a 3D volume, received shape {volume.shape}")
    if not np.all(np.isfinite(volume)):
        raise ValueError(f"{path}: the volume holds NaN or Inf values")
    if not np.any(volume > 0):
        raise ValueError(f"{path}: the volume has no positive value (all zero?)")
    return volume


def load_slices(paths, axis, first, stop, *, stack=True):
    """Slices ``[first, stop)`` along ``axis`` (0, 1, 2, or ``'all'``: the same range of
    each axis, clipped to its length) of the NIfTI volumes, each scaled to maximum 1;
    nearly empty slices are dropped. ``(n, H, W)`` float32 for one axis (``stack``), else a
    list of 2D arrays (the three orientations have different shapes)."""
    axes = (0, 1, 2) if axis == "all" else (axis,)
    out = []
    for path in paths:
        volume = _read_volume(path)
        for ax in axes:
            stop_ax = min(stop, volume.shape[ax]) if axis == "all" else stop
            if not 0 <= first < stop_ax <= volume.shape[ax]:
                raise ValueError(f"{path}: slice range [{first}, {stop}) outside "
                                 f"0..{volume.shape[ax]}")
            for index in range(first, stop_ax):
                image = np.take(volume, index, axis=ax)
                if image.max() > 0 and np.mean(image > 0.1 * image.max()) > 0.05:
                    out.append((image / image.max()).astype(np.float32))
    if not out:
        raise ValueError(f"no usable slices in [{first}, {stop}) of "
                         f"{', '.join(Path(p).name for p in paths)} (a slice is kept when "
                         f"more than 5% of it is above a tenth of its maximum)")
    return np.stack(out) if stack and len(axes) == 1 else out


def invert_contrast(image, floor=0.1):
    """A T2-like contrast from a T1 image: inside the head (above ``floor``, with a linear ramp
    below it) intensities are flipped, so dark CSF becomes bright and white matter dark."""
    inside = np.clip(image / floor, 0, 1)
    return np.clip(inside * (1 + floor - image), 0, 1).astype(image.dtype)


def augment(image, rng, *, invert_prob=0.0, intensity_range=(0.4, 1.0), gamma=(0.6, 1.6)):
    """Random flips, a T2-like inversion with probability ``invert_prob``, a random gamma
    and intensity scale (draws from ``rng`` in a fixed order)."""
    if rng.random() < 0.5:
        image = image[:, ::-1]
    if rng.random() < 0.5:
        image = image[::-1]
    if rng.random() < invert_prob:
        image = invert_contrast(image)
    return rng.uniform(*intensity_range) * image ** rng.uniform(*gamma)


def fit_to(image, shape, rng=None):
    """``image`` zero-padded (centred) or cropped (at a random offset when ``rng`` is given,
    else centred) to ``shape``."""
    out = np.zeros(shape, image.dtype)
    src, dst = [], []
    for n, m in zip(image.shape, shape):
        if n <= m:
            start = (m - n) // 2
            src.append(slice(0, n))
            dst.append(slice(start, start + n))
        else:
            start = int(rng.integers(0, n - m + 1)) if rng is not None else (n - m) // 2
            src.append(slice(start, start + m))
            dst.append(slice(0, m))
    out[tuple(dst)] = image[tuple(src)]
    return out
