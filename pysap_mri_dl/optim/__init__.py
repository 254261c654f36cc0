"""Optimisation algorithms, as plain functions returning an :class:`OptimResult`."""
from .conjugate_gradient import conjugate_gradient
from .data_fidelity import LeastSquares
from .forward_backward import fista, forward_backward_step, ista, pogm
from .primal_dual import primal_dual
from .result import OptimResult

__all__ = ["ista", "fista", "pogm", "primal_dual", "conjugate_gradient", "LeastSquares",
           "OptimResult", "forward_backward_step"]
