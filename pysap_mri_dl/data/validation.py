"""What every reader shares: the error type, finiteness checks and safe ``.npz`` access.

A ``.npz`` archive is read lazily by NumPy: a corrupt member only fails when it is read, with
a ``zipfile.BadZipFile`` or a format error. Readers go through :func:`open_npz` and
:func:`read_member`, which turn every such failure into a :class:`DataError` naming the file
and the dataset.
"""
from __future__ import annotations

import zipfile

import numpy as np

__all__ = ["DataError", "check_finite", "open_npz", "read_member", "check_cartesian_axes"]


class DataError(ValueError):
    """Bad input data: a missing dataset, a wrong shape or dtype, non-finite values, a
    corrupt file."""


def check_finite(array, what):
    if not np.all(np.isfinite(array)):
        raise DataError(f"{what} contains NaN or Inf values")


def open_npz(path):
    """``numpy.load`` of a ``.npz`` archive without pickles, or a DataError."""
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


def check_cartesian_axes(shape, what="kspace"):
    """Raise a ValueError when a Cartesian array's axes do not look like ``([coils,] ny,
    nx)``: a spatial size below 8, or far more coils than pixels along an axis (the
    signature of ``(ny, nx, coils)`` data), with the fix in the message."""
    shape = tuple(int(s) for s in shape)
    spatial = shape[-2:]
    coils = shape[0] if len(shape) == 3 else 1
    if min(spatial) < 8 or (coils > 64 and coils >= 4 * min(spatial)):
        raise ValueError(
            f"{what} of shape {shape}: the axes look wrong; expected ([coils,] ny, nx) with "
            "the coil axis first (for (ny, nx, coils) data use numpy.moveaxis(kspace, -1, 0))")
