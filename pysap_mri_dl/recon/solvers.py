"""Registry of algorithms by name, with one calling convention for the reconstructors."""
from __future__ import annotations

from ..optim import fista, ista, pogm, primal_dual

__all__ = ["SOLVERS", "register_solver", "get_solver"]


def _forward_backward(algorithm):
    def solve(data, prior, **options):
        return algorithm(data, prior.as_prox(), **options)
    solve.__name__ = algorithm.__name__
    return solve


def _primal_dual(data, prior, **options):
    return primal_dual(data, prior.coef_prox, prior.linear_op, **options)


SOLVERS = {
    "fista": _forward_backward(fista),
    "pogm": _forward_backward(pogm),
    "ista": _forward_backward(ista),
    "primal-dual": _primal_dual,
}


BUILT_IN = frozenset(SOLVERS)


def register_solver(name, solve, *, replace=False):
    """Register ``solve(data, prior, *, n_iter, tol, callback, track_cost)`` under ``name``
    (``--algorithm NAME``). ``data`` is the data term (``LeastSquares``: ``gradient``,
    ``cost``, ``lipschitz``); ``prior`` a :class:`~pysap_mri_dl.recon.SparsePrior`:
    ``prior.as_prox()`` is the proximity operator a forward-backward method takes,
    ``prior.coef_prox`` and ``prior.linear_op`` what a primal-dual method takes. Returns an
    :class:`~pysap_mri_dl.optim.OptimResult`. A built-in name is replaced only with
    ``replace=True``."""
    if not callable(solve):
        raise TypeError(f"solver {name!r} must be callable")
    if name in BUILT_IN and not replace:
        raise ValueError(f"solver {name!r} is built in; pass replace=True to replace it")
    SOLVERS[name] = solve


def get_solver(algorithm):
    """A solver by registered name, or a callable passed through."""
    if callable(algorithm):
        return algorithm
    if algorithm not in SOLVERS:
        raise ValueError(f"algorithm must be one of {sorted(SOLVERS)} or a callable, "
                         f"received {algorithm!r}")
    return SOLVERS[algorithm]
