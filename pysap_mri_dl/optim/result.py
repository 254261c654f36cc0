"""The object every algorithm returns, and the shared iteration bookkeeping."""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field

from .._backend import norm

__all__ = ["OptimResult", "Monitor", "check_stopping"]


@dataclass
class OptimResult:
    """Outcome of an algorithm run.

    Attributes
    ----------
    x : array
        The final iterate (same array kind as the input).
    cost : list of float
        Objective value after each iteration (empty unless ``track_cost=True``).
    n_iter : int
        Iterations run.
    stop_reason : str
        ``'n_iter'`` (budget reached), ``'tol'`` (relative change below ``tol``) or
        ``'callback'`` (the callback returned True).
    seconds : float
        Wall time of the iterations.
    extra : dict
        Algorithm-specific final state (e.g. the dual variable of ``primal_dual``).
    """

    x: object
    cost: list = field(default_factory=list)
    n_iter: int = 0
    stop_reason: str = "n_iter"
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def check_stopping(n_iter, tol=None):
    """Raise a ValueError unless ``n_iter`` is a positive integer and ``tol`` None or a
    number >= 0 (``2.5`` or ``'3'`` iterations are errors, not silently rounded)."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer, received {n_iter!r}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, numbers.Real)
                            or not tol >= 0):
        raise ValueError(f"tol must be a number >= 0 or None, received {tol!r}")


class Monitor:
    """Tracks cost, relative change, callback and timing for one run."""

    def __init__(self, *, n_iter, tol, callback, cost_fn, track_cost):
        check_stopping(n_iter, tol)
        self.n_iter, self.tol, self.callback = int(n_iter), tol, callback
        self.cost_fn, self.track_cost = cost_fn, track_cost
        self.costs = []
        self.start = time.perf_counter()
        self.reason = "n_iter"

    def step(self, iteration, x_new, x_old, state=None) -> bool:
        """Record iteration ``iteration`` (0-based); return True to stop."""
        if self.track_cost:
            self.costs.append(float(self.cost_fn(x_new)))
        if self.tol is not None and self.tol > 0:
            change = norm(x_new - x_old) / max(norm(x_old), 1e-30)
            if change < self.tol:
                self.reason = "tol"
                return True
        if self.callback is not None:
            info = {"x": x_new, "cost": self.costs[-1] if self.costs else None}
            if state:
                info.update(state)
            if self.callback(iteration, info):
                self.reason = "callback"
                return True
        return False

    def result(self, x, iterations, **extra):
        return OptimResult(x=x, cost=self.costs, n_iter=iterations, stop_reason=self.reason,
                           seconds=time.perf_counter() - self.start, extra=extra)
