"""Non-Cartesian acquisitions in ``.npz`` archives: ``kspace`` ``([coils,] samples)``,
``trajectory`` ``(samples, ndim)`` in cycles per pixel, optional ``density`` ``(samples,)``,
``smaps`` ``(coils, *shape)``, ``reference`` ``shape`` and ``shape`` (needed unless a
reference gives it)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import DataError, check_density, check_finite, read_member

__all__ = ["NonCartesianAcquisition", "noncartesian_from_archive"]


@dataclass
class NonCartesianAcquisition:
    """One 2D or 3D non-Cartesian acquisition (validated by :func:`noncartesian_from_archive`)."""

    kspace: np.ndarray                # ([coils,] n_samples) complex64
    trajectory: np.ndarray            # (n_samples, ndim) float64, in [-0.5, 0.5)
    shape: tuple
    density: np.ndarray | None = None
    smaps: np.ndarray | None = None
    reference: np.ndarray | None = None
    source: str = ""

    @property
    def n_coils(self):
        return self.kspace.shape[0] if self.kspace.ndim == 2 else 1


def noncartesian_from_archive(archive, source):
    """Read and validate the datasets of an open ``.npz`` archive that holds a trajectory."""
    from ..operators.nufft import check_trajectory

    get = lambda key: read_member(archive, key, source)  # noqa: E731
    kspace, reference, shape = np.asarray(get("kspace")), get("reference"), get("shape")
    try:
        trajectory = check_trajectory(get("trajectory"))
    except ValueError as exc:
        raise DataError(f"{source}: dataset 'trajectory': {exc}") from None
    n_samples, ndim = trajectory.shape
    if kspace.ndim not in (1, 2) or kspace.shape[-1] != n_samples or not np.issubdtype(
            kspace.dtype, np.number):
        raise DataError(f"{source}: kspace must be numeric of shape ([coils,] {n_samples}) to "
                        f"match the trajectory's {n_samples} samples, received {kspace.shape}")
    if not np.iscomplexobj(kspace):
        raise DataError(f"{source}: kspace is real ({kspace.dtype}); MR k-space is complex")
    check_finite(kspace, f"{source}: kspace")
    if shape is None:
        if reference is None:
            raise DataError(f"{source}: the image shape is unknown; add a dataset 'shape' "
                            f"({ndim} integers) or a 'reference' image")
        shape = np.shape(reference)
    values = np.ravel(shape)
    if not np.issubdtype(values.dtype, np.number) or not np.all(np.isfinite(values)) \
            or np.any(values != np.round(values)):
        raise DataError(f"{source}: shape must hold {ndim} integers, received "
                        f"{values.tolist()}")
    shape = tuple(int(s) for s in values)
    if len(shape) != ndim or any(s < 2 for s in shape):
        raise DataError(f"{source}: shape {shape} must have {ndim} sizes >= 2 (the trajectory "
                        f"has {ndim} columns)")
    smaps = get("smaps")
    if kspace.ndim == 2 and kspace.shape[0] == 1:  # a singleton coil axis: single-coil data
        kspace, smaps = kspace[0], None
    acq = NonCartesianAcquisition(kspace.astype(np.complex64), trajectory, shape, source=source)
    density = get("density")
    if density is not None:
        try:
            acq.density = check_density(density, n_samples, f"{source}: density")
        except (TypeError, ValueError) as exc:
            raise DataError(str(exc)) from None
    if smaps is not None:
        if kspace.ndim != 2 or np.shape(smaps) != (acq.n_coils,) + shape:
            raise DataError(f"{source}: smaps must have shape {(acq.n_coils,) + shape} "
                            f"(coils, *shape) to match kspace {kspace.shape}, received "
                            f"{np.shape(smaps)}")
        check_finite(smaps, f"{source}: smaps")
        acq.smaps = np.asarray(smaps).astype(np.complex64)
    if reference is not None:
        if np.shape(reference) != shape:
            raise DataError(f"{source}: reference must have the image shape {shape}, received "
                            f"{np.shape(reference)}")
        check_finite(reference, f"{source}: reference")
        acq.reference = np.abs(reference).astype(np.float32)
    return acq
