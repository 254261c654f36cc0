"""Conjugate gradient for Hermitian positive (semi-)definite systems such as CG-SENSE."""
from __future__ import annotations

from .._backend import norm, vdot_real
from .result import Monitor

__all__ = ["conjugate_gradient"]


def conjugate_gradient(normal, rhs, *, x0=None, damping=0.0, n_iter=50, tol=1e-6,
                       callback=None):
    """Solve ``(N + damping I) x = rhs`` by conjugate gradient.

    Parameters
    ----------
    normal : LinearOperator or callable
        Hermitian positive semi-definite ``N`` (e.g. ``A.normal()``).
    rhs : array
        Right-hand side (e.g. ``A^H y``).
    damping : float
        Tikhonov weight (>= 0).
    tol : float
        Stop when the residual norm falls below ``tol * ||rhs||``.

    Returns
    -------
    OptimResult (``cost`` holds the relative residual norms).
    """
    if damping < 0:
        raise ValueError(f"damping must be >= 0, received {damping}")
    apply = normal.op if hasattr(normal, "op") else normal

    def system(v):
        return apply(v) + damping * v if damping else apply(v)

    x = 0 * rhs if x0 is None else x0
    r = rhs - system(x) if x0 is not None else rhs
    p = r
    rs = vdot_real(r, r)
    rhs_norm = max(norm(rhs), 1e-30)
    monitor = Monitor(n_iter=n_iter, tol=None, callback=callback, cost_fn=None, track_cost=False)
    iterations = 0
    while iterations < monitor.n_iter:
        if rs ** 0.5 <= tol * rhs_norm:
            monitor.reason = "tol"
            break
        q = system(p)
        alpha = rs / vdot_real(p, q)
        x_new = x + alpha * p
        r = r - alpha * q
        rs_new = vdot_real(r, r)
        monitor.costs.append(rs_new ** 0.5 / rhs_norm)
        p = r + (rs_new / rs) * p
        rs = rs_new
        stop = monitor.step(iterations, x_new, x)
        x = x_new
        iterations += 1
        if stop:
            break
    return monitor.result(x, iterations)
