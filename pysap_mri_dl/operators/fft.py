"""Cartesian Fourier operator: centred, orthonormal, optionally masked, 1D/2D/3D."""
from __future__ import annotations

import numpy as np

from .._backend import KindCache, fftn_centered, ifftn_centered
from .base import LinearOperator

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
        shape = tuple(int(s) for s in shape)
        if not 1 <= len(shape) <= 3 or any(s < 1 for s in shape):
            raise ValueError(f"FFT: shape must have 1 to 3 positive sizes, received {shape}")
        if n_coils is not None and int(n_coils) < 1:
            raise ValueError(f"FFT: n_coils must be a positive integer, received {n_coils}")
        self.ndim = len(shape)
        self.shape = shape
        self.n_coils = n_coils
        full = shape if n_coils is None else (int(n_coils),) + shape
        super().__init__(full, full, dtype=dtype)
        self.mask = None if mask is None else self._validate_mask(mask, shape)
        self._consts = KindCache()

    @staticmethod
    def _validate_mask(mask, shape):
        mask = np.asarray(mask)
        if mask.dtype == bool:
            mask = mask.astype(np.float32)
        if not np.issubdtype(mask.dtype, np.number) or np.iscomplexobj(mask):
            raise TypeError(f"FFT: mask must be boolean or real, received dtype {mask.dtype}")
        if not np.all(np.isfinite(mask)) or np.any(mask < 0):
            raise ValueError("FFT: mask must hold finite non-negative values")
        try:
            np.broadcast_shapes(mask.shape, shape)
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

    def _mask_like(self, x):
        return self._consts.get("mask", self.mask, x)

    def _op(self, x):
        y = fftn_centered(x, self.ndim)
        if self.mask is not None:
            y = y * self._mask_like(y)
        return y

    def _adj_op(self, y):
        if self.mask is not None:
            y = y * self._mask_like(y)
        return ifftn_centered(y, self.ndim)

    def normal(self):
        if self.mask is None:
            from .base import Identity
            return Identity(self.shape_in, dtype=self.dtype)
        return super().normal()

    def lipschitz(self, **kwargs) -> float:
        """Exact: ``max(mask)**2`` (1 when fully sampled)."""
        return 1.0 if self.mask is None else float(np.max(self.mask)) ** 2
