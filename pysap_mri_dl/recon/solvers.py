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


def register_solver(name, solve):
    """Register ``solve(data, prior, *, x0, n_iter, tol, callback, track_cost)`` under ``name``."""
    if not callable(solve):
        raise TypeError(f"solver {name!r} must be callable")
    SOLVERS[name] = solve


def get_solver(algorithm):
    """A solver by registered name, or a callable passed through."""
    if callable(algorithm):
        return algorithm
    if algorithm not in SOLVERS:
        raise ValueError(f"algorithm must be one of {sorted(SOLVERS)} or a callable, "
                         f"received {algorithm!r}")
    return SOLVERS[algorithm]
