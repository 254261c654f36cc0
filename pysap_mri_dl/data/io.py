"""Readers and writers: fastMRI HDF5 and NumPy ``.npz`` inputs (Cartesian here, non-Cartesian
in :mod:`.trajectory_io`), NIfTI/PNG/JSON outputs.

Readers validate everything they return (shapes, dtypes, finite values) and raise a
:class:`DataError` that names the file and the dataset; writers never leave a half-written
file behind (they write to a temporary file in the same folder, then rename).
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .trajectory_io import noncartesian_from_archive
from .validation import DataError, check_cartesian_axes, check_finite, open_npz, read_member

__all__ = ["DataError", "Acquisition", "read_acquisition", "write_nifti", "write_json",
           "atomic_path"]


@dataclass
class Acquisition:
    """One 2D Cartesian slice: ``kspace`` ``([coils,] ny, nx)`` complex64, optional
    ``mask`` ``(ny, nx)`` bool, ``smaps`` ``(coils, ny, nx)`` and ``reference`` ``(ny, nx)``.
    A singleton coil axis is dropped (single-coil data)."""

    kspace: np.ndarray
    mask: np.ndarray | None = None
    smaps: np.ndarray | None = None
    reference: np.ndarray | None = None
    source: str = ""

    @property
    def n_coils(self):
        return self.kspace.shape[0] if self.kspace.ndim == 3 else 1

    @property
    def shape(self):
        return tuple(self.kspace.shape[-2:])


def _validate(acq: Acquisition) -> Acquisition:
    from ..sampling import as_binary_mask
    src = acq.source
    k = np.asarray(acq.kspace)
    if k.ndim not in (2, 3) or not np.issubdtype(k.dtype, np.number):
        raise DataError(f"{src}: kspace must be a numeric array of shape ([coils,] ny, nx), "
                        f"received shape {k.shape} dtype {k.dtype}")
    if not np.iscomplexobj(k):
        raise DataError(f"{src}: kspace is real ({k.dtype}, shape {k.shape}); MR k-space is "
                        f"complex: combine real and imaginary parts stored on an axis "
                        f"(k[..., 0] + 1j * k[..., 1]) first")
    if k.size == 0:
        raise DataError(f"{src}: kspace is empty (shape {k.shape})")
    try:
        check_cartesian_axes(k.shape, f"{src}: kspace", strict=True)
    except ValueError as exc:
        raise DataError(str(exc)) from None
    check_finite(k, f"{src}: kspace")
    if k.ndim == 3 and k.shape[0] == 1:  # a singleton coil axis is single-coil data
        k = k[0]
        acq.smaps = None
    acq.kspace = k.astype(np.complex64)
    check_finite(acq.kspace, f"{src}: kspace (beyond single precision)")
    shape = acq.kspace.shape[-2:]
    if acq.mask is not None:
        try:
            acq.mask = as_binary_mask(acq.mask, shape)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{src}: {exc}") from None
    if acq.smaps is not None:
        s = np.asarray(acq.smaps)
        if s.shape != (acq.n_coils,) + tuple(shape) or acq.kspace.ndim != 3:
            raise DataError(f"{src}: smaps must have shape {(acq.n_coils,) + tuple(shape)} "
                            f"(coils, ny, nx) matching kspace {acq.kspace.shape}, received {s.shape}")
        check_finite(s, f"{src}: smaps")
        acq.smaps = s.astype(np.complex64)
    if acq.reference is not None:
        # fastMRI references may be a centre crop (e.g. 320x320); metrics use the same crop
        r = np.asarray(acq.reference)
        if r.ndim != 2 or any(a > b for a, b in zip(r.shape, shape)):
            raise DataError(f"{src}: reference must be 2D and at most the image shape "
                            f"{tuple(shape)}, received {r.shape}")
        check_finite(r, f"{src}: reference")
        acq.reference = np.abs(r).astype(np.float32)
    return acq


def _read_npz(path):
    with open_npz(path) as archive:
        if "kspace" not in archive.files:
            raise DataError(f"{path}: no dataset 'kspace' (found {sorted(archive.files)})")
        if "trajectory" in archive.files:
            return noncartesian_from_archive(archive, str(path))
        get = lambda key: read_member(archive, key, str(path))  # noqa: E731
        return Acquisition(get("kspace"), get("mask"), get("smaps"), get("reference"),
                           source=str(path))


def open_h5(path):
    """An open fastMRI file; a DataError naming it when it is not HDF5."""
    import h5py
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path}: cannot be read as an HDF5 file ({exc})") from exc


def h5_kspace(handle, path):
    """The ``kspace`` dataset of an open fastMRI file, checked: (slices, [coils,] ky, kx)
    with at least one slice."""
    import h5py
    if "kspace" not in handle:
        raise DataError(f"{path}: no dataset 'kspace' (found {sorted(handle.keys())})")
    dataset = handle["kspace"]
    if not isinstance(dataset, h5py.Dataset) or dataset.ndim not in (3, 4):
        raise DataError(f"{path}: dataset 'kspace' must have shape (slices, [coils,] ky, kx), "
                        f"received {getattr(dataset, 'shape', 'a group')}")
    if dataset.shape[0] < 1:
        raise DataError(f"{path}: dataset 'kspace' holds no slices (shape {dataset.shape})")
    return dataset


def _read_h5(path, slice_index):
    handle = open_h5(path)
    with handle:
        dataset = h5_kspace(handle, path)
        n_slices = dataset.shape[0]
        if slice_index is None:
            slice_index = n_slices // 2
        if not 0 <= slice_index < n_slices:
            raise DataError(f"--slice {slice_index} is out of range: {path} has {n_slices} slices")
        try:
            kspace = dataset[slice_index]
            mask = handle["mask"][()] if "mask" in handle else None
            reference = None
            if "reconstruction_rss" in handle:
                reference = handle["reconstruction_rss"][slice_index]
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise DataError(f"{path}: cannot read slice {slice_index} ({exc})") from None
        return Acquisition(kspace, mask, None, reference, source=f"{path}[slice {slice_index}]")


def read_acquisition(path, *, slice_index=None):
    """Read one slice from a fastMRI ``.h5`` file or a ``.npz`` archive and validate it.

    Returns an :class:`Acquisition` (Cartesian), or a
    :class:`~pysap_mri_dl.data.trajectory_io.NonCartesianAcquisition` when the archive holds
    a ``trajectory``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"INPUT {path} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        acq = _read_h5(path, slice_index)
    elif suffix == ".npz":
        acq = _read_npz(path)
        if slice_index not in (None, 0):
            raise DataError(f"--slice {slice_index}: {path} holds a single slice")
        if not isinstance(acq, Acquisition):
            return acq  # non-Cartesian: validated by its reader
    else:
        raise DataError(f"INPUT {path}: expected a .h5/.hdf5 (fastMRI) or .npz file")
    return _validate(acq)


def _read_umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _read_umask()  # read once, at import: os.umask changes it for the whole process


def _default_mode():
    """The permissions a newly created file gets here (0666 minus the umask)."""
    return 0o666 & ~_UMASK


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` only on success. The
    file gets the usual permissions of a new file (not the 0600 of a temporary file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def nifti_affine(shape, voxel_size=None):
    """The affine that shows an array of image rows and columns as NumPy and ``recon.png``
    do in NIfTI viewers (RAS world, radiological display: the patient's right on the
    screen's left): the second-last axis (rows, row 0 at the top) runs from anterior to
    posterior (-y), the last (columns, column 0 on the left) from right to left (-x), the
    first axis of a 3D array (slices, or samples) along +z. ``voxel_size``: one size per
    array axis, in mm (default 1). A 4D array (a volume's samples) gets the identity."""
    ndim = len(shape)
    if ndim not in (2, 3):  # a 4D stack (a volume's posterior samples): NumPy's axes as they are
        return np.eye(4)
    sizes = np.ones(ndim) if voxel_size is None else np.asarray(voxel_size, dtype=np.float64)
    if sizes.shape != (ndim,) or not np.all(sizes > 0):
        raise ValueError(f"voxel_size must hold {ndim} positive sizes (one per array axis), "
                         f"received {voxel_size!r}")
    affine = np.zeros((4, 4))
    affine[3, 3] = 1.0
    rows, cols = ndim - 2, ndim - 1
    affine[0, cols] = -sizes[cols]
    affine[0, 3] = sizes[cols] * (shape[cols] - 1)
    affine[1, rows] = -sizes[rows]
    affine[1, 3] = sizes[rows] * (shape[rows] - 1)
    if ndim == 3:
        affine[2, 0] = sizes[0]
    else:
        affine[2, 2] = 1.0
    return affine


def write_nifti(path, image, *, voxel_size=None):
    """Write a 2D/3D magnitude image as NIfTI (float32, millimetres), atomically, with the
    orientation of :func:`nifti_affine` (the array as NumPy holds it, upright in viewers)."""
    import nibabel as nib
    data = np.abs(np.asarray(image)).astype(np.float32)
    nifti = nib.Nifti1Image(data, nifti_affine(data.shape, voxel_size))
    nifti.header.set_xyzt_units("mm")
    with atomic_path(path) as tmp:
        written = str(tmp) + ".nii.gz"
        try:
            nib.save(nifti, written)
            os.replace(written, tmp)
        finally:
            if os.path.exists(written):
                os.remove(written)


def write_json(path, payload):
    """JSON, atomically; non-finite numbers (a PSNR of an exact reconstruction, ...) are
    written as null, since JSON has no Infinity or NaN."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_finite(payload), indent=2, sort_keys=True,
                                  allow_nan=False) + "\n")


def _finite(value):
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
