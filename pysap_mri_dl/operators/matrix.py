"""A dense matrix as a LinearOperator (small problems, tests, explicit models)."""
from __future__ import annotations

import numpy as np

from .._backend import KindCache
from .base import LinearOperator

__all__ = ["MatrixOperator"]


class MatrixOperator(LinearOperator):
    """``y = M x`` for a 2D matrix ``M`` of shape ``(m, n)``, batched over leading axes."""

    def __init__(self, matrix):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"MatrixOperator: matrix must be 2D, received shape {matrix.shape}")
        super().__init__((matrix.shape[1],), (matrix.shape[0],),
                         dtype=np.result_type(matrix.dtype, np.complex64))
        self.matrix = matrix
        self._consts = KindCache()

    def _op(self, x):
        return x @ self._consts.get("m", self.matrix.T, x)

    def _adj_op(self, y):
        return y @ self._consts.get("mh", self.matrix.conj(), y)
