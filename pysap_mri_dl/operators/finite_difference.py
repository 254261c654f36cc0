"""Finite-difference (discrete gradient) operator, the analysis operator of total variation."""
from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .base import LinearOperator, image_shape

__all__ = ["FiniteDifference"]


def _concat(xp, parts, axis):
    return xp.cat(parts, axis) if xp.__name__ == "torch" else xp.concatenate(parts, axis=axis)


def _take(x, axis, sl):
    index = [slice(None)] * x.ndim
    index[axis] = sl
    return x[tuple(index)]


class FiniteDifference(LinearOperator):
    """Forward differences along each spatial axis: ``(*batch, *shape) -> (*batch, ndim, *shape)``.

    ``boundary='neumann'`` (default) sets the difference across the last sample to zero;
    ``boundary='periodic'`` wraps around. ``||D x||_{2,1}`` over the first output axis is
    isotropic total variation.
    """

    def __init__(self, shape, *, boundary="neumann"):
        shape = image_shape(shape, "FiniteDifference: shape", minimum=2)
        if boundary not in ("neumann", "periodic"):
            raise ValueError(
                f"FiniteDifference: boundary must be 'neumann' or 'periodic', received {boundary!r}")
        self.shape, self.ndim, self.boundary = shape, len(shape), boundary
        super().__init__(shape, (len(shape),) + shape, dtype=np.complex64)

    def _op(self, x):
        xp = xp_of(x)
        grads = []
        for d in range(self.ndim):
            axis = x.ndim - self.ndim + d
            if self.boundary == "periodic":
                grads.append(xp.roll(x, -1, axis) - x)
            else:
                diff = _take(x, axis, slice(1, None)) - _take(x, axis, slice(None, -1))
                grads.append(_concat(xp, [diff, 0 * _take(x, axis, slice(0, 1))], axis))
        return xp.stack(grads, x.ndim - self.ndim)

    def lipschitz_bound(self):
        """``||D||^2`` exactly: ``D^H D`` is a sum of one-axis Laplacians whose largest
        eigenvalues are ``4 sin^2(pi (n - 1) / (2 n))`` (Neumann: a path of ``n`` samples)
        and ``4 sin^2(pi floor(n / 2) / n)`` (periodic: a cycle)."""
        if self.boundary == "periodic":
            return float(sum(4 * np.sin(np.pi * (n // 2) / n) ** 2 for n in self.shape))
        return float(sum(4 * np.sin(np.pi * (n - 1) / (2 * n)) ** 2 for n in self.shape))

    def _adj_op(self, y):
        xp = xp_of(y)
        stack_axis = y.ndim - self.ndim - 1
        out = 0
        for d in range(self.ndim):
            g = _take(y, stack_axis, d)
            axis = g.ndim - self.ndim + d
            if self.boundary == "periodic":
                out = out + (xp.roll(g, 1, axis) - g)
            else:
                parts = [-_take(g, axis, slice(0, 1))]
                if g.shape[axis] > 2:
                    parts.append(_take(g, axis, slice(0, -2)) - _take(g, axis, slice(1, -1)))
                parts.append(_take(g, axis, slice(-2, -1)))
                out = out + _concat(xp, parts, axis)
        return out
