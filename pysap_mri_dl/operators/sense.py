"""SENSE: coil sensitivity maps folded into a Fourier operator."""
from __future__ import annotations

import numpy as np

from .._backend import check_same_kind
from .base import LinearOperator
from .fft import FFT

__all__ = ["SENSE", "MapSets"]


class SENSE(LinearOperator):
    """Multi-coil forward model ``y_c = F (S_c x)`` and its adjoint ``sum_c conj(S_c) F^H y_c``.

    Parameters
    ----------
    smaps : array of shape ``(n_coils, *shape)``
        Coil sensitivity maps (complex). Kept as given (NumPy, CuPy or torch); arrays passed
        to the operator must be the same array kind and device, else a TypeError names both.
    fourier : LinearOperator, optional
        Per-coil Fourier operator whose ``shape_in`` is ``(n_coils, *shape)`` or ``shape``
        (batched over coils), e.g. ``FFT(shape, mask=mask)`` or a ``NUFFT``.
        Default: a fully sampled ``FFT``.
    mask : array, optional
        Shortcut for ``fourier=FFT(shape, mask=mask)``.
    """

    def __init__(self, smaps, *, fourier=None, mask=None):
        if smaps.ndim < 2:
            raise ValueError(
                f"SENSE: smaps must have shape (n_coils, *spatial), received {tuple(smaps.shape)}"
            )
        self.smaps = smaps
        n_coils, shape = int(smaps.shape[0]), tuple(int(s) for s in smaps.shape[1:])
        if fourier is not None and mask is not None:
            raise ValueError("SENSE: give either fourier or mask, not both")
        if fourier is None:
            fourier = FFT(shape, mask=mask, dtype=np.complex64)
        if fourier.shape_in not in (shape, (n_coils,) + shape):
            raise ValueError(
                f"SENSE: the Fourier operator takes images of shape {fourier.shape_in} but the "
                f"smaps are {n_coils} coils of shape {shape}"
            )
        self.fourier = fourier
        self.n_coils = n_coils
        self.shape = shape
        if fourier.shape_in == shape:  # coils travel as a batch axis
            out = (n_coils,) + fourier.shape_out
        else:
            out = fourier.shape_out
        super().__init__(shape, out, dtype=np.complex64)

    def _smaps_like(self, x):
        check_same_kind(x, self.smaps, name="smaps", reference_name="the input")
        return self.smaps

    def _op(self, x):
        smaps = self._smaps_like(x)
        nd = len(self.shape)
        coil_images = smaps * x[(..., None) + (slice(None),) * nd]
        return self.fourier._op(coil_images)

    def _adj_op(self, y):
        smaps = self._smaps_like(y)
        coil_images = self.fourier._adj_op(y)
        nd = len(self.shape)
        prod = smaps.conj() * coil_images
        return prod.sum(-(nd + 1))


class MapSets(LinearOperator):
    """Soft-SENSE coil model with several sets of maps (ESPIRiT ``n_maps > 1``): images
    ``(n_sets, *shape)`` to coil images ``(n_coils, *shape)``, ``c_k = sum_m S_{m,k} x_m``.
    Compose with a multi-coil Fourier operator: ``FFT(shape, mask=mask, n_coils=K) @
    MapSets(maps)``."""

    def __init__(self, maps):
        if maps.ndim < 4:
            raise ValueError(f"MapSets: maps must have shape (n_sets, n_coils, *spatial), "
                             f"received {tuple(maps.shape)}")
        self.maps = maps
        n_sets, n_coils, *shape = (int(s) for s in maps.shape)
        super().__init__((n_sets,) + tuple(shape), (n_coils,) + tuple(shape), dtype=np.complex64)
        self.nd = len(shape)

    def _op(self, x):
        check_same_kind(x, self.maps, name="maps", reference_name="the input")
        return (self.maps * x[(..., slice(None), None) + (slice(None),) * self.nd]).sum(
            -(self.nd + 2))

    def _adj_op(self, y):
        check_same_kind(y, self.maps, name="maps", reference_name="the input")
        return (self.maps.conj() * y[(..., None) + (slice(None),) * (self.nd + 1)]).sum(
            -(self.nd + 1))
