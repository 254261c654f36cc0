"""Ordered weighted l1 (OWL) across groups, e.g. across coils for calibrationless imaging."""
from __future__ import annotations

import numpy as np

from .._backend import array_kind, to_numpy
from .base import Prox

__all__ = ["OWL", "isotonic_decreasing"]


def isotonic_decreasing(z):
    """Least-squares projection of each row of ``z`` ``(G, n)`` onto non-increasing
    sequences: ``x_i = min_{j <= i} max_{k >= i} mean(z[j..k])`` (exact, O(n^3) per row,
    vectorised over rows; meant for small ``n`` such as a coil count)."""
    g, n = z.shape
    cumulative = np.concatenate([np.zeros((g, 1), z.dtype), np.cumsum(z, axis=1)], axis=1)
    j, k = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    valid = k >= j
    means = (cumulative[:, k + 1] - cumulative[:, j]) / np.maximum(k - j + 1, 1)
    means = np.where(valid, means, -np.inf)
    out = np.empty_like(z)
    for i in range(n):
        out[:, i] = means[:, : i + 1, i:].max(axis=2).min(axis=1)
    return out


class OWL(Prox):
    """``R(v) = sum_i w_i |v|_(i)`` on each group of ``n`` values along ``axis``, where
    ``|v|_(1) >= |v|_(2) >= ...`` are the sorted moduli and ``w`` is non-increasing and
    non-negative (Zeng & Figueiredo 2014). ``w`` constant is the l1 norm; ``w = (1, 0, ...)``
    the l-infinity norm; in between, it promotes coefficients that are large in several
    coils together (pysap-mri's calibrationless OWL). NumPy arrays only.
    """

    def __init__(self, weights, *, axis):
        super().__init__()
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1 or np.any(weights < 0) or np.any(np.diff(weights) > 0) or \
                not np.all(np.isfinite(weights)):
            raise ValueError("OWL: weights must be a finite, non-negative, non-increasing 1D "
                             f"array, received {weights}")
        self.weights, self.axis = weights, int(axis)

    def prox(self, x, step):
        if array_kind(x) != "numpy":
            raise TypeError(f"OWL: NumPy arrays only, received {array_kind(x)}")
        moved = np.moveaxis(x, self.axis, -1)
        if moved.shape[-1] != self.weights.size:
            raise ValueError(f"OWL: groups along axis {self.axis} have {moved.shape[-1]} values "
                             f"but {self.weights.size} weights were given")
        flat = moved.reshape(-1, moved.shape[-1])
        modulus = np.abs(flat)
        order = np.argsort(-modulus, axis=1)
        ranked = np.take_along_axis(modulus, order, axis=1) - step * self.weights
        shrunk = np.maximum(isotonic_decreasing(ranked), 0)
        new = np.empty_like(modulus)
        np.put_along_axis(new, order, shrunk, axis=1)
        scale = np.where(modulus > 0, new / np.maximum(modulus, 1e-30), 0)
        return np.moveaxis((flat * scale).reshape(moved.shape), -1, self.axis).astype(x.dtype)

    def cost(self, x) -> float:
        moved = np.abs(np.moveaxis(to_numpy(x), self.axis, -1))
        ranked = -np.sort(-moved, axis=-1)
        return float((ranked * self.weights).sum())
