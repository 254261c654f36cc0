"""Sparsity-promoting proximity operators: (weighted) soft thresholding and group lasso."""
from __future__ import annotations

import numbers

import numpy as np

from .._backend import clamp_min, is_complex, is_torch, relu, to_numpy, xp_of
from .base import Prox

__all__ = ["SoftThreshold", "GroupLasso"]


def _check_weights(weights, name):
    if isinstance(weights, numbers.Real):
        if not np.isfinite(weights) or weights < 0:
            raise ValueError(f"{name}: weights must be finite and >= 0, received {weights}")
        return float(weights)
    if is_torch(weights):
        return weights  # learnable weights stay tensors (autograd through the threshold)
    weights = np.asarray(weights, dtype=np.float32)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"{name}: weights must be finite and >= 0")
    return weights


def _shrink_factor(magnitude, threshold):
    """``max(0, 1 - threshold / magnitude)`` with 0/0 treated as 0."""
    return relu(1 - threshold / clamp_min(magnitude, 1e-30))


class SoftThreshold(Prox):
    """``R(x) = sum_i w_i |x_i|``; complex aware: shrinks the modulus and keeps the phase.

    ``weights`` is a scalar or an array broadcastable to the coefficients (e.g. per band from
    :meth:`pysap_mri_dl.operators.Wavelet.expand`). Scalars and arrays may be torch tensors
    (the threshold is then differentiable).
    """

    def __init__(self, weights):
        super().__init__()
        self.weights = _check_weights(weights, "SoftThreshold")

    def prox(self, x, step):
        return x * _shrink_factor(abs(x), step * self._weights_like(x))

    def cost(self, x) -> float:
        value = (self._weights_like(x) * abs(x)).sum()
        return float(to_numpy(value.detach() if is_torch(value) else value))

    def __repr__(self):
        w = self.weights if isinstance(self.weights, float) else f"array{tuple(self.weights.shape)}"
        return f"SoftThreshold(weights={w})"


class GroupLasso(Prox):
    """``R(x) = w * sum_groups ||x_group||_2``, groups running along ``axis``.

    For example ``axis=-3`` on multi-coil images ``(coils, ny, nx)`` couples the coils of
    each pixel (calibrationless reconstruction), and ``axis=0`` on a finite-difference output
    gives isotropic total variation.
    """

    def __init__(self, weights, *, axis):
        super().__init__()
        self.weights = _check_weights(weights, "GroupLasso")
        self.axis = int(axis)

    def _group_norm(self, x):
        sq = (x.real ** 2 + x.imag ** 2) if is_complex(x) else x ** 2
        if is_torch(x):
            return sq.sum(self.axis, keepdim=True).sqrt()
        return xp_of(x).sqrt(sq.sum(axis=self.axis, keepdims=True))

    def prox(self, x, step):
        return x * _shrink_factor(self._group_norm(x), step * self._weights_like(x))

    def cost(self, x) -> float:
        value = (self._weights_like(x) * self._group_norm(x)).sum()
        return float(to_numpy(value.detach() if is_torch(value) else value))
