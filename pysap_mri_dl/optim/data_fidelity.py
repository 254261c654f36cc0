"""Smooth data-consistency terms ``f(x)`` with their gradients."""
from __future__ import annotations

from .._backend import all_finite, array_kind, check_same_kind, norm

__all__ = ["LeastSquares"]


class LeastSquares:
    """``f(x) = 1/2 || A x - y ||^2`` with ``grad f(x) = A^H (A x - y)``.

    Parameters
    ----------
    operator : LinearOperator
        The forward model ``A`` (e.g. ``FFT`` with a mask, or ``SENSE``).
    kspace : array
        Measured data ``y`` of shape ``(*batch, *operator.shape_out)``; must be finite.
    """

    grad_is_fresh = True
    """``grad`` returns a new array each call (the algorithms may reuse it in place)."""

    def __init__(self, operator, kspace):
        operator._check(kspace, operator.shape_out, "kspace", "LeastSquares")
        if not all_finite(kspace):
            raise ValueError("LeastSquares: kspace contains NaN or Inf values")
        self.operator, self.kspace = operator, kspace
        self._lipschitz = None

    def residual(self, x):
        check_same_kind(self.kspace, x, name="x", reference_name="kspace")
        return self.operator._residual(x, self.kspace)

    def grad(self, x):
        check_same_kind(self.kspace, x, name="x", reference_name="kspace")
        return self.operator._gradient(x, self.kspace)

    def grad_and_cost(self, x):
        r = self.residual(x)
        return self.operator._adj_op(r), 0.5 * norm(r) ** 2

    def cost(self, x) -> float:
        return 0.5 * norm(self.residual(x)) ** 2

    def adjoint_data(self):
        """``A^H y``, the usual starting point."""
        return self.operator._adj_op(self.kspace)

    def lipschitz(self) -> float:
        """A Lipschitz constant of the gradient: the operator's closed-form bound of
        ``||A||^2`` when it has one, else ``||A||^2`` by power iteration (see
        :meth:`~pysap_mri_dl.operators.LinearOperator.lipschitz_constant`)."""
        if self._lipschitz is None:
            like = self.kspace if array_kind(self.kspace) != "numpy" else None
            self._lipschitz = self.operator.lipschitz_constant(like=like)
        return self._lipschitz
