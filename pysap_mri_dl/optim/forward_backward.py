"""Forward-backward algorithms: ISTA, FISTA (with adaptive restart) and POGM."""
from __future__ import annotations

import math

from .._backend import add_fresh, multiply_fresh, vdot_real
from .result import Monitor, check_stopping

__all__ = ["ista", "fista", "pogm", "forward_backward_step"]


def forward_backward_step(x, *, data, prox, step):
    """One proximal-gradient step ``prox_{step R}(x - step grad f(x))``.

    The building block shared by the iterative algorithms and the unrolled networks.
    When ``data.grad`` returns a new array (``data.grad_is_fresh``, as
    :class:`~pysap_mri_dl.optim.LeastSquares` does), NumPy reuses it in place; torch
    tensors are never modified in place (autograd may need them).
    """
    grad = data.grad(x)
    if not getattr(data, "grad_is_fresh", False):
        return prox.prox(x - step * grad, step)
    return prox.prox(add_fresh(multiply_fresh(grad, -step), x), step)


def _setup(data, prox, x0, step, n_iter, tol):
    check_stopping(n_iter, tol)  # before any work
    if x0 is None:
        x0 = data.adjoint_data()
    if step is None:
        lipschitz = data.lipschitz()
        if lipschitz <= 0:
            raise ValueError("the data term has a zero Lipschitz constant (empty mask?)")
        step = 1.0 / lipschitz
    if step <= 0:
        raise ValueError(f"step must be > 0, received {step}")
    return x0, float(step)


def _objective(data, prox):
    return lambda x: data.cost(x) + (prox.cost(x) if hasattr(prox, "cost") else 0.0)


def ista(data, prox, *, x0=None, step=None, n_iter=100, tol=None, callback=None,
         track_cost=False):
    """Iterative shrinkage-thresholding: ``x <- prox_{step R}(x - step grad f(x))``.

    Parameters
    ----------
    data : object with ``grad(x)``, ``cost(x)``, ``lipschitz()``, ``adjoint_data()``
        The smooth term, e.g. :class:`LeastSquares`.
    prox : object with ``prox(x, step)`` (and optionally ``cost(x)``)
        The prior.
    x0 : array, optional
        Starting point (default ``A^H y``).
    step : float, optional
        Gradient step (default ``1 / lipschitz``).
    n_iter : int
        Maximum number of iterations.
    tol : float, optional
        Stop when ``||x_k+1 - x_k|| / ||x_k|| < tol``.
    callback : callable(iteration, state) -> bool, optional
        Called after each iteration with a dict holding ``x`` and ``cost``; returning True stops.
    track_cost : bool
        Record the objective after every iteration (one more forward operator call each).

    Returns
    -------
    OptimResult
    """
    x, step = _setup(data, prox, x0, step, n_iter, tol)
    monitor = Monitor(n_iter=n_iter, tol=tol, callback=callback,
                      cost_fn=_objective(data, prox), track_cost=track_cost)
    it = 0
    for it in range(monitor.n_iter):
        x_new = forward_backward_step(x, data=data, prox=prox, step=step)
        stop = monitor.step(it, x_new, x)
        x = x_new
        if stop:
            break
    return monitor.result(x, it + 1)


def fista(data, prox, *, x0=None, step=None, n_iter=100, tol=None, callback=None,
          track_cost=False, restart="adaptive"):
    """FISTA (Beck & Teboulle) with optional gradient-based adaptive restart.

    ``restart='adaptive'`` resets the momentum whenever it points against the proximal
    gradient (O'Donoghue & Candes), which keeps the iterates monotone in practice;
    ``restart=None`` gives plain FISTA. Other arguments as in :func:`ista`.
    """
    if restart not in ("adaptive", None):
        raise ValueError(f"restart must be 'adaptive' or None, received {restart!r}")
    x, step = _setup(data, prox, x0, step, n_iter, tol)
    monitor = Monitor(n_iter=n_iter, tol=tol, callback=callback,
                      cost_fn=_objective(data, prox), track_cost=track_cost)
    z, t = x, 1.0
    it = 0
    for it in range(monitor.n_iter):
        x_new = forward_backward_step(z, data=data, prox=prox, step=step)
        move = x_new - x
        if restart == "adaptive" and vdot_real(z - x_new, move) > 0:
            t = 1.0  # momentum opposes the descent direction: restart
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        z = add_fresh(multiply_fresh(move, (t - 1.0) / t_new), x_new)
        stop = monitor.step(it, x_new, x, {"momentum": t})
        x, t = x_new, t_new
        if stop:
            break
    return monitor.result(x, it + 1)


def pogm(data, prox, *, x0=None, step=None, n_iter=100, tol=None, callback=None,
         track_cost=False, restart=True, sigma_bar=1.0):
    """Proximal optimised gradient method (Kim & Fessler 2018, with restart and decreasing
    gamma), typically faster than FISTA. Other arguments as in :func:`ista`.

    ``restart=True`` resets the momentum when the composite gradient opposes the last
    move; ``sigma_bar`` in [0, 1] shrinks the secondary momentum when successive composite
    gradients disagree (1 keeps it).
    """
    if not 0 <= sigma_bar <= 1:
        raise ValueError(f"sigma_bar must be in [0, 1], received {sigma_bar}")
    x, step = _setup(data, prox, x0, step, n_iter, tol)
    monitor = Monitor(n_iter=n_iter, tol=tol, callback=callback,
                      cost_fn=_objective(data, prox), track_cost=track_cost)
    u_old, y_old, z = x, x, x
    g_old = 0 * x
    t, sigma, xi = 1.0, 1.0, 1.0
    it = 0
    for it in range(monitor.n_iter):
        grad = data.grad(x)
        u = x - step * grad
        t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        momentum = (t - 1.0) / t_new
        over = sigma * t / t_new
        z = u + momentum * (u - u_old) + over * (u - x) - (momentum * step / xi) * (x - z)
        xi = step * (1.0 + momentum + over)
        x_new = prox.prox(z, xi)
        g = grad + (z - x_new) / xi
        y = x - step * g
        if restart and vdot_real(g, y - y_old) > 0:
            t_new, sigma = 1.0, 1.0
        elif vdot_real(g, g_old) < 0:
            sigma *= sigma_bar
        stop = monitor.step(it, x_new, x, {"momentum": t})
        x, t, u_old, y_old, g_old = x_new, t_new, u, y, g
        if stop:
            break
    return monitor.result(x, it + 1)
