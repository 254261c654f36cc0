"""What every reader shares: the error type, finiteness checks and safe ``.npz`` access.

A ``.npz`` archive is read lazily by NumPy: a corrupt member only fails when it is read, with
a ``zipfile.BadZipFile`` or a format error. Readers go through :func:`open_npz` and
:func:`read_member`, which turn every such failure into a :class:`DataError` naming the file
and the dataset.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

__all__ = ["DataError", "check_finite", "open_npz", "read_member", "check_cartesian_axes",
           "check_density"]


class DataError(ValueError):
    """Bad input data: a missing dataset, a wrong shape or dtype, non-finite values, a
    corrupt file."""


def check_finite(array, what):
    if not np.all(np.isfinite(array)):
        raise DataError(f"{what} contains NaN or Inf values")


def open_npz(path):
    """``numpy.load`` of a ``.npz`` archive without pickles, or a DataError."""
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: cannot be read (permission denied)")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not a .npz archive (a .npz file is a zip archive of .npy "
                        "arrays, as written by numpy.savez)")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as exc:  # zip or format errors
        raise DataError(f"{path}: cannot be read as a .npz archive ({exc})") from exc


def read_member(archive, key, source):
    """The array ``key`` of an open archive (None when absent), or a DataError when the
    member is corrupt (bad CRC, truncated) or holds objects (pickles are refused)."""
    if key not in archive.files:
        return None
    try:
        return archive[key]
    except Exception as exc:  # BadZipFile, ValueError (pickled objects), OSError, EOFError
        raise DataError(f"{source}: dataset {key!r} cannot be read ({type(exc).__name__}: "
                        f"{exc})") from None


def check_cartesian_axes(shape, what="kspace", *, strict=False):
    """Raise a ValueError when a Cartesian array's axes do not look like ``([coils,] ny,
    nx)``: a spatial size below 8 (too small for any reconstruction here), or, with
    ``strict`` (files, whose axis order is a convention), far more coils than pixels along
    an axis, the signature of ``(ny, nx, coils)`` data. The message says how to fix it."""
    shape = tuple(int(s) for s in shape)
    spatial = shape[-2:]
    coils = shape[0] if len(shape) == 3 else 1
    hint = ("expected ([coils,] ny, nx) with the coil axis first (for (ny, nx, coils) data "
            "use numpy.moveaxis(kspace, -1, 0))")
    if min(spatial) < 8:
        raise ValueError(f"{what} of shape {shape}: a spatial size is below 8 pixels; if "
                         f"the axes are in the wrong order, {hint}")
    if strict and coils > 64 and coils >= 4 * min(spatial):
        raise ValueError(f"{what} of shape {shape}: {coils} coils for {spatial} pixels, the "
                         f"axes look wrong; {hint}")


def check_density(density, n_samples, what="density"):
    """A density-compensation array: one finite value >= 0 per sample, not all zero (any
    array kind; returned as NumPy float32), or a ValueError naming ``what``."""
    from .._backend import to_numpy
    values = np.asarray(to_numpy(density) if hasattr(density, "shape") else density)
    if values.shape != (n_samples,):
        raise ValueError(f"{what} must have one value per sample, shape ({n_samples},), "
                         f"received {values.shape}")
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise TypeError(f"{what} must be real, received dtype {values.dtype}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{what} must hold finite values >= 0 (sampling density weights)")
    if not np.any(values > 0):
        raise ValueError(f"{what} is zero everywhere")
    return values.astype(np.float32)
