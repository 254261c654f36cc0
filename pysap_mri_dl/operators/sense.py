"""SENSE: coil sensitivity maps folded into a Fourier operator."""
from __future__ import annotations

import numpy as np

from .._backend import (all_finite, check_same_kind, is_torch, multiply_fresh,
                        outside_inference_mode, subtract_fresh, to_numpy)
from .._fourier import apply_factors, precision_of
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
        With a Cartesian FFT the operator caches the maps times the FFT's centring phase at
        the first call: build a new operator for new maps (in-place changes of torch maps
        are followed, those of NumPy maps are not; maps that require grad are never
        cached).
    fourier : LinearOperator, optional
        Per-coil Fourier operator whose ``shape_in`` is ``(n_coils, *shape)`` or ``shape``
        (batched over coils), e.g. ``FFT(shape, mask=mask)`` or a ``NUFFT``.
        Default: a fully sampled ``FFT``.
    mask : array, optional
        Shortcut for ``fourier=FFT(shape, mask=mask)``.
    """

    def __init__(self, smaps, *, fourier=None, mask=None):
        if isinstance(smaps, (list, tuple)):
            smaps = np.asarray(smaps)
        if smaps.ndim < 2:
            raise ValueError(
                f"SENSE: smaps must have shape (n_coils, *spatial), received {tuple(smaps.shape)}"
            )
        if not all_finite(smaps):
            raise ValueError("SENSE: smaps contain NaN or Inf values")
        self.smaps = smaps
        n_coils, shape = int(smaps.shape[0]), tuple(int(s) for s in smaps.shape[1:])
        if fourier is not None and mask is not None:
            raise ValueError("SENSE: give either fourier or mask, not both")
        if fourier is None:
            mask_shape = np.shape(mask)
            if mask is not None and (len(mask_shape) > len(shape) or any(
                    m not in (1, s) for m, s in zip(mask_shape[::-1], shape[::-1]))):
                raise ValueError(f"SENSE: smaps of spatial shape {shape} do not match the mask "
                                 f"of shape {mask_shape} (the k-space shape)")
            fourier = FFT(shape, mask=mask, dtype=np.complex64)
        if fourier.shape_in not in (shape, (n_coils,) + shape):
            raise ValueError(
                f"SENSE: the Fourier operator takes images of shape {fourier.shape_in} but the "
                f"smaps are {n_coils} coils of shape {shape}"
            )
        self.fourier = fourier
        self._folded = {}
        # the folded fast path needs the Cartesian FFT as it is (not a subclass' override)
        self._fast = (isinstance(fourier, FFT) and type(fourier)._op is FFT._op
                      and type(fourier)._adj_op is FFT._adj_op)
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

    def _folded_smaps(self, x):
        """``(maps, conj(maps))`` with the Cartesian FFT's input phase folded in (so the
        loop runs plain FFTs), at ``x``'s precision; cached unless the maps are being
        trained (torch autograd). The cache follows in-place changes of torch maps
        (their version counter); NumPy maps are read as they are at the first call."""
        smaps = self._smaps_like(x)
        if not self._fast:
            return smaps, None
        if getattr(smaps, "requires_grad", False):
            folded = apply_factors(smaps, self.fourier.input_phase(x))
            return folded, folded.conj()
        key = (str(getattr(smaps, "device", "cpu")), precision_of(x), _version(smaps))
        if key not in self._folded:
            with outside_inference_mode(smaps):
                folded = apply_factors(smaps, self.fourier.input_phase(x))
                conj = folded.conj()
                self._folded = {key: (folded, conj.resolve_conj() if is_torch(conj) else conj)}
        return self._folded[key]

    def _op(self, x):
        smaps, _ = self._folded_smaps(x)
        coil_images = smaps * x[(..., None) + (slice(None),) * len(self.shape)]
        if self._fast:
            return self.fourier._op_premodulated(coil_images, overwrite=True)
        return self.fourier._op(coil_images)

    def _residual(self, x, y):
        return subtract_fresh(self._op(x), y)  # _op returns a fresh array

    def _adjoint(self, y, overwrite):
        smaps, smaps_conj = self._folded_smaps(y)
        if self._fast:  # a fresh array: multiplied in place
            coil_images = multiply_fresh(
                self.fourier._adj_op_premodulated(y, overwrite=overwrite), smaps_conj)
        else:
            coil_images = self.fourier._adj_op(y) * smaps.conj()
        return coil_images.sum(-(len(self.shape) + 1))

    def _adj_op(self, y):
        return self._adjoint(y, overwrite=False)

    def _gradient(self, x, y):
        return self._adjoint(self._residual(x, y), overwrite=self._fast)

    def lipschitz_bound(self):
        """``lipschitz_bound(fourier) * max_pixel sum_c |S_c|^2`` (1 for maps of unit RSS and
        a 0/1 mask), an upper bound of ``||A||^2``; None when the Fourier operator has none."""
        inner = self.fourier.lipschitz_bound()
        if inner is None:
            return None
        power = (abs(to_numpy(self.smaps)) ** 2).sum(0)
        return float(inner * power.max())


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

    def lipschitz_bound(self):
        """Exact: the largest squared singular value of the per-pixel (coils x sets) map
        matrix, over the pixels."""
        maps = to_numpy(self.maps)
        per_pixel = np.moveaxis(maps.reshape(maps.shape[:2] + (-1,)), -1, 0)  # (P, sets, coils)
        return float(np.linalg.norm(per_pixel, ord=2, axis=(1, 2)).max() ** 2)


def _version(smaps):
    """The in-place version counter of torch maps (0 for NumPy/CuPy maps and for inference
    tensors, which cannot change in place outside inference mode and have no counter)."""
    if getattr(smaps, "is_inference", lambda: True)():
        return 0
    return smaps._version
