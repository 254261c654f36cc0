"""Cartesian Fourier operator: centred, orthonormal, optionally masked, 1D/2D/3D."""
from __future__ import annotations

import numpy as np

from .._backend import KindCache, subtract_fresh, to_numpy
from .._fourier import apply_factors, centring_phases, fftn_plain, precision_of
from .base import LinearOperator, image_shape

__all__ = ["FFT"]


class FFT(LinearOperator):
    """Masked, centred, orthonormal Fourier transform ``y = M F x``.

    Convention: ``F x = fftshift(fftn(ifftshift(x), norm="ortho"))`` over the last
    ``len(shape)`` axes, so ``FFT`` without a mask is unitary and ``FFT.H`` is its inverse.
    Images have shape ``(*batch, [n_coils,] *shape)`` and k-space the same shape (unsampled
    locations hold zeros).

    Parameters
    ----------
    shape : tuple of int
        Spatial shape (1 to 3 axes).
    mask : array, optional
        Sampling mask (boolean or non-negative weights) broadcastable to ``shape``, e.g.
        ``(ny, nx)`` or ``(1, nx)`` for a column mask. ``None`` means fully sampled.
    n_coils : int, optional
        If given, ``shape_in`` is ``(n_coils, *shape)``; otherwise leading axes are batch axes.
    """

    def __init__(self, shape, *, mask=None, n_coils=None, dtype=np.complex64):
        shape = image_shape(shape, "FFT: shape", minimum=1)
        if n_coils is not None and int(n_coils) < 1:
            raise ValueError(f"FFT: n_coils must be a positive integer, received {n_coils}")
        self.ndim = len(shape)
        self.shape = shape
        self.n_coils = n_coils
        full = shape if n_coils is None else (int(n_coils),) + shape
        super().__init__(full, full, dtype=dtype)
        self.mask = None if mask is None else self._validate_mask(mask, shape)
        self._consts = KindCache()
        self._folded = {}

    @staticmethod
    def _validate_mask(mask, shape):
        mask = np.asarray(to_numpy(mask))  # a CuPy or torch mask too
        if mask.dtype == bool:
            mask = mask.astype(np.float32)
        if not np.issubdtype(mask.dtype, np.number) or np.iscomplexobj(mask):
            raise TypeError(f"FFT: mask must be boolean or real, received dtype {mask.dtype}")
        if not np.all(np.isfinite(mask)) or np.any(mask < 0):
            raise ValueError("FFT: mask must hold finite non-negative values")
        try:
            if np.broadcast_shapes(mask.shape, shape) != tuple(shape):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"FFT: mask of shape {mask.shape} does not broadcast to the image shape {shape}"
            ) from None
        if mask.ndim > len(shape):
            raise ValueError(
                f"FFT: mask must have at most {len(shape)} axes (the spatial ones), "
                f"received shape {mask.shape}"
            )
        return mask.astype(np.float32)

    # ---- folded constants -------------------------------------------------------
    # The centred transform is p_out * fft(p_in * x) (see pysap_mri_dl._fourier): p_out is
    # folded into the mask once, so a call costs one plain FFT and two multiplications;
    # SENSE also folds p_in into its coil maps (the *_premodulated methods). Each constant
    # is a tuple of factors (one array, or per-axis factors for large 3D shapes).
    def _numpy_constant(self, name, precision):
        key = (name, precision)
        if key not in self._folded:
            p_in, p_out = centring_phases(self.shape, np.complex128)
            if self.mask is not None and len(p_out) == 1:
                p_out = (self.mask * p_out[0],)
            elif self.mask is not None:  # separable phases: the mask stays a factor
                p_out = (self.mask,) + p_out
            values = {"in": p_in, "in_conj": tuple(f.conj() for f in p_in), "out": p_out,
                      "out_conj": tuple(f.conj() for f in p_out)}[name]
            self._folded[key] = tuple(np.asarray(f, precision) for f in values)
        return self._folded[key]

    def _constant(self, name, x):
        precision = precision_of(x)
        return [self._consts.get(f"{name}-{precision}-{i}", factor, x)
                for i, factor in enumerate(self._numpy_constant(name, precision))]

    def input_phase(self, like):
        """``p_in`` as the kind, device and precision of ``like`` (a tuple of factors): the
        input modulation that :class:`SENSE` folds into its maps before calling
        :meth:`_op_premodulated`."""
        return self._constant("in", like)

    def _op_premodulated(self, x, *, overwrite=False):
        """``_op`` of ``x`` already multiplied by :meth:`input_phase`; ``overwrite`` lets a
        NumPy ``x`` (a temporary of the caller) be reused for the output."""
        y = fftn_plain(x, self.ndim, overwrite=overwrite)
        return apply_factors(y, self._constant("out", y), fresh=True)

    def _adj_op_premodulated(self, y, *, overwrite=False):
        """``_adj_op(y)`` except the final multiplication by ``conj(input_phase)``; returns
        a fresh array (or, with ``overwrite``, a NumPy ``y`` reused)."""
        y = apply_factors(y, self._constant("out_conj", y), fresh=overwrite)
        return fftn_plain(y, self.ndim, inverse=True, overwrite=True)

    def _op(self, x):
        return self._op_premodulated(apply_factors(x, self._constant("in", x)), overwrite=True)

    def _residual(self, x, y):
        return subtract_fresh(self._op(x), y)  # _op returns a fresh array

    def _gradient(self, x, y):
        x = self._adj_op_premodulated(self._residual(x, y), overwrite=True)
        return apply_factors(x, self._constant("in_conj", x), fresh=True)

    def _adj_op(self, y):
        x = self._adj_op_premodulated(y)
        return apply_factors(x, self._constant("in_conj", x), fresh=True)

    def normal(self):
        if self.mask is None:
            from .base import Identity
            return Identity(self.shape_in, dtype=self.dtype)
        return super().normal()

    def lipschitz(self, **kwargs) -> float:
        """Exact: ``max(mask)**2`` (1 when fully sampled)."""
        return 1.0 if self.mask is None else float(np.max(self.mask)) ** 2

    def lipschitz_bound(self):
        return self.lipschitz()
