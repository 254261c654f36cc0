"""Ordered weighted l1 (OWL) across groups, e.g. across coils for calibrationless imaging."""
from __future__ import annotations

import numpy as np

from .._backend import KindCache, astype_like, clamp_min, is_torch, relu, same_kind, to_numpy, xp_of
from .base import Prox

__all__ = ["OWL", "isotonic_decreasing"]


def isotonic_decreasing(z):
    """Least-squares projection of each row of ``z`` ``(G, n)`` onto non-increasing
    sequences: ``x_i = min_{j <= i} max_{k >= i} mean(z[j..k])`` (exact, O(n^3) per row,
    vectorised over rows; meant for small ``n`` such as a coil count). Any array kind."""
    xp = xp_of(z)
    g, n = z.shape
    cumulative = xp.concatenate([z[:, :1] * 0, xp.cumsum(z, axis=1)], axis=1)
    j, k = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    count = same_kind(np.maximum(k - j + 1, 1).astype(str(z.dtype).split(".")[-1]), z)
    means = (cumulative[:, same_kind(k + 1, z)] - cumulative[:, same_kind(j, z)]) / count
    means = xp.where(same_kind(k >= j, z), means, -np.inf)
    return xp.stack([xp.amin(xp.amax(means[:, : i + 1, i:], axis=2), axis=1)
                     for i in range(n)], axis=1)


class OWL(Prox):
    """``R(v) = sum_i w_i |v|_(i)`` on each group of ``n`` values along ``axis``, where
    ``|v|_(1) >= |v|_(2) >= ...`` are the sorted moduli and ``w`` is non-increasing and
    non-negative (Zeng & Figueiredo 2014). ``w`` constant is the l1 norm; ``w = (1, 0, ...)``
    the l-infinity norm; in between, it promotes coefficients that are large in several
    coils together (pysap-mri's calibrationless OWL). Any array kind.
    """

    def __init__(self, weights, *, axis):
        super().__init__()
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 1 or np.any(weights < 0) or np.any(np.diff(weights) > 0) or \
                not np.all(np.isfinite(weights)):
            raise ValueError("OWL: weights must be a finite, non-negative, non-increasing 1D "
                             f"array, received {weights}")
        self.weights, self.axis = weights, int(axis)
        self._consts = KindCache()

    def prox(self, x, step):
        xp = xp_of(x)
        moved = xp.moveaxis(x, self.axis, -1)
        if moved.shape[-1] != self.weights.size:
            raise ValueError(f"OWL: groups along axis {self.axis} have {moved.shape[-1]} values "
                             f"but {self.weights.size} weights were given")
        flat = moved.reshape(-1, moved.shape[-1])
        modulus = xp.abs(flat)
        take = xp.take_along_dim if is_torch(x) else xp.take_along_axis
        order = xp.argsort(-modulus, axis=1)
        ranked = take(modulus, order, axis=1) - step * self._consts.get("w", self.weights, modulus)
        shrunk = relu(isotonic_decreasing(ranked))
        new = take(shrunk, xp.argsort(order, axis=1), axis=1)  # undo the sort
        scale = xp.where(modulus > 0, new / clamp_min(modulus, 1e-30), 0 * new)
        out = xp.moveaxis((flat * scale).reshape(moved.shape), -1, self.axis)
        return astype_like(out, x)

    def cost(self, x) -> float:
        moved = np.abs(np.moveaxis(to_numpy(x), self.axis, -1))
        ranked = -np.sort(-moved, axis=-1)
        return float((ranked * self.weights).sum())
