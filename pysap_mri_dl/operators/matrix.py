"""Explicit operators: a dense matrix (small problems, tests) and a diagonal (weights)."""
from __future__ import annotations

import numpy as np

from .._backend import KindCache, array_kind, is_torch
from .._fourier import precision_of
from .base import LinearOperator

__all__ = ["MatrixOperator", "Diagonal"]


class MatrixOperator(LinearOperator):
    """``y = M x`` for a 2D matrix ``M`` of shape ``(m, n)``, batched over leading axes."""

    def __init__(self, matrix):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"MatrixOperator: matrix must be 2D, received shape {matrix.shape}")
        super().__init__((matrix.shape[1],), (matrix.shape[0],),
                         dtype=np.result_type(matrix.dtype, np.complex64))
        self.matrix = matrix.astype(self.dtype)
        self._consts = KindCache()

    def _constant(self, name, value, like):
        value = self._consts.get(name, value, like)
        return value.to(like.dtype) if is_torch(like) and value.dtype != like.dtype else value

    def _op(self, x):
        return x @ self._constant("m", self.matrix.T, x)

    def _adj_op(self, y):
        return y @ self._constant("mh", self.matrix.conj(), y)


class Diagonal(LinearOperator):
    """``y = w * x`` elementwise, for weights ``w`` of shape ``shape`` (e.g. the square root
    of density-compensation weights applied to k-space)."""

    def __init__(self, weights):
        weights = np.asarray(weights)
        if not np.all(np.isfinite(weights)):
            raise ValueError("Diagonal: weights contain NaN or Inf values")
        super().__init__(weights.shape, weights.shape,
                         dtype=np.result_type(weights.dtype, np.complex64))
        self.weights = weights
        self._consts = KindCache()

    def _op(self, x):
        return x * self._weights_like("w", self.weights, x)

    def _adj_op(self, y):
        return y * self._weights_like("wh", self.weights.conj(), y)

    def _weights_like(self, name, weights, x):
        """``weights`` at ``x``'s precision (double weights would promote single-precision
        data) and of its array kind."""
        if precision_of(x) == "complex64" and array_kind(weights) == "numpy":
            single = self.__dict__.setdefault("_single", {})  # cast once per name
            if name not in single:
                single[name] = weights.astype(
                    np.complex64 if weights.dtype.kind == "c" else np.float32, copy=False)
            weights = single[name]
        return self._consts.get((name, weights.dtype.str), weights, x)

    def lipschitz_bound(self):
        return float(np.max(np.abs(self.weights)) ** 2) if self.weights.size else 0.0
