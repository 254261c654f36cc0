"""Condat-Vu primal-dual splitting for ``f(x) + g(x) + h(L x)``."""
from __future__ import annotations

from .._backend import array_kind
from .result import Monitor

__all__ = ["primal_dual"]


def _prox_conjugate(prox, v, sigma):
    """``prox_{sigma h*}(v) = v - sigma prox_{h/sigma}(v / sigma)`` (Moreau identity)."""
    return v - sigma * prox.prox(v / sigma, 1.0 / sigma)


def primal_dual(data, prox_dual, linear_op, *, prox_primal=None, x0=None, u0=None,
                tau=None, sigma=None, relaxation=1.0, n_iter=100, tol=None, callback=None,
                track_cost=False):
    """Condat-Vu algorithm for ``min_x f(x) + g(x) + h(L x)``.

    Handles analysis priors with a redundant ``L`` (undecimated wavelets, finite
    differences) exactly, without needing the prox of ``h(L .)``.

    Parameters
    ----------
    data : object
        Smooth term ``f`` (see :class:`LeastSquares`).
    prox_dual : object
        Prox of ``h`` (applied through the Moreau identity to the dual variable).
    linear_op : LinearOperator
        ``L``.
    prox_primal : object, optional
        Prox of ``g`` (default: none).
    tau, sigma : float, optional
        Primal and dual steps. Defaults: ``sigma = 0.1`` and (99% of) the largest ``tau``
        with ``1/tau - sigma ||L||^2 >= lipschitz(f) / 2`` (convergence condition).
    relaxation : float in (0, 2)
        Over-relaxation of both variables.
    x0, u0, n_iter, tol, callback, track_cost
        As in :func:`pysap_mri_dl.optim.ista` (``u0`` default: zeros).

    Returns
    -------
    OptimResult
        With the dual variable in ``extra['u']``.
    """
    from ..prox import Identity
    prox_primal = prox_primal or Identity()
    x = data.adjoint_data() if x0 is None else x0
    u = 0 * linear_op._op(x) if u0 is None else u0
    lip_f = data.lipschitz()
    norm_l = linear_op.lipschitz_constant(like=None if array_kind(x) == "numpy" else x)
    sigma = 0.1 if sigma is None else float(sigma)
    if tau is None:
        tau = 1.0 / (lip_f / 2.0 + sigma * norm_l) * 0.99
    if not 0 < relaxation < 2:
        raise ValueError(f"relaxation must be in (0, 2), received {relaxation}")
    if 1.0 / tau - sigma * norm_l < lip_f / 2.0 * (1 - 1e-6):
        raise ValueError(
            f"tau={tau} and sigma={sigma} break the convergence condition "
            f"1/tau - sigma*||L||^2 >= lipschitz/2 ({1 / tau - sigma * norm_l} < {lip_f / 2})")

    def objective(z):
        return data.cost(z) + prox_primal.cost(z) + (
            prox_dual.cost(linear_op._op(z)) if hasattr(prox_dual, "cost") else 0.0)

    monitor = Monitor(n_iter=n_iter, tol=tol, callback=callback, cost_fn=objective,
                      track_cost=track_cost)
    it = 0
    for it in range(monitor.n_iter):
        x_tmp = prox_primal.prox(x - tau * (data.grad(x) + linear_op._adj_op(u)), tau)
        u_tmp = _prox_conjugate(prox_dual, u + sigma * linear_op._op(2 * x_tmp - x), sigma)
        x_new = relaxation * x_tmp + (1 - relaxation) * x
        u = relaxation * u_tmp + (1 - relaxation) * u
        stop = monitor.step(it, x_new, x, {"u": u})
        x = x_new
        if stop:
            break
    return monitor.result(x, it + 1, u=u)

