"""The deep equilibrium layer: solve ``z* = f(z*)`` without gradients, then differentiate
through the fixed point with one of the selectable backward passes.

By the implicit function theorem, the gradient of a loss ``L(z*)`` with respect to the
parameters of ``f`` is ``u^T df/dtheta`` at ``z*``, where ``u`` solves the linear system
``u = J_f^T u + grad L`` (``J_f``: the Jacobian of ``f`` in ``z`` at ``z*``). The layer
re-applies ``f`` once at ``z*`` with gradients, and a hook on its output replaces the
incoming ``grad L`` with ``u`` from:

* ``implicit``: Broyden's method on the linear system, to ``backward_tol`` (the exact
  gradient, one iterative solve with vector-Jacobian products per step);
* ``shine`` (Ramzi et al., 2022): ``u = H^T grad L`` with the inverse estimate ``H`` the
  forward solve already built (Broyden's low-rank inverse, or Anderson's multisecant
  estimate; no second solve). ``fallback``: when ``|u|`` exceeds
  ``fallback_bound`` times ``|grad L|`` (or is not finite) the estimate is not trusted and
  the identity is used. ``refine=k``: ``k`` backward Broyden iterations started from the
  SHINE estimate and from ``H^T``. With ``opa=True`` the forward solve adds extra updates of
  ``H`` along the outer loss's gradient (needs ``outer_gradient``);
* ``jacobian-free`` (Fung et al., 2022): ``u = grad L`` (``J_f`` ignored).

Each call records what it did in ``info`` (forward iterations, stop reason, backward
seconds, fallback).
"""
from __future__ import annotations

import time

import torch

from .solvers import SOLVERS, LowRankInverse, broyden, flat, solve, unflat

__all__ = ["BACKWARDS", "equilibrium", "check_options"]

BACKWARDS = ("shine", "implicit", "jacobian-free")


def check_options(solver, backward, refine=0, opa=False):
    """Named errors for a solver / backward combination that cannot work."""
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {tuple(SOLVERS)}, received {solver!r}")
    if backward not in BACKWARDS:
        raise ValueError(f"backward must be one of {BACKWARDS}, received {backward!r}")
    if isinstance(refine, bool) or int(refine) != refine or refine < 0:
        raise ValueError(f"refine must be an integer >= 0, received {refine!r}")
    if (refine or opa) and backward != "shine":
        raise ValueError(f"refine and opa are options of the SHINE backward, received "
                         f"backward={backward!r}")
    if backward == "shine" and solver == "fixed-point":
        raise ValueError("the SHINE backward reuses the forward solver's inverse estimate: "
                         "it needs solver='broyden' or 'anderson', received 'fixed-point'")
    if opa and solver != "broyden":
        raise ValueError(f"opa updates Broyden's inverse estimate: it needs "
                         f"solver='broyden', received {solver!r}")


def equilibrium(f, z0, *, solver="broyden", backward="shine", tol=1e-4, max_iter=50,
                memory=30, refine=0, opa=False, outer_gradient=None, fallback_bound=1.8,
                backward_tol=1e-5, backward_max_iter=50, info=None):
    """The fixed point of ``f`` from ``z0``, differentiable with the chosen ``backward``.

    ``f(z)`` maps a batch ``(B, ...)`` to the same shape and carries the parameters to train;
    ``solver`` 'broyden', 'anderson' (both give SHINE its estimate) or 'fixed-point' with ``tol``,
    ``max_iter`` (the forward cap) and ``memory``. ``outer_gradient(z)``: the outer loss's
    gradient at ``z`` (for ``opa``). ``info`` (a dict) receives ``forward_iterations``,
    ``stop_reason``, ``residual`` and, after the backward pass, ``backward_seconds`` and
    ``fallback`` (how many batch elements fell back to the identity)."""
    check_options(solver, backward, refine, opa)
    if opa and outer_gradient is None:
        raise ValueError("opa needs outer_gradient (the outer loss's gradient at z)")
    info = {} if info is None else info
    options = dict(tol=tol, max_iter=max_iter)
    if solver != "fixed-point":
        options["memory"] = memory
    if opa:
        options["extra_directions"] = outer_gradient
    with torch.no_grad():
        solution = solve(f, z0, solver, **options)
    info.update(forward_iterations=solution.iterations, stop_reason=solution.stop_reason,
                residual=float(solution.residual.max()))
    z_star = solution.z.detach()
    if not torch.is_grad_enabled():
        return f(z_star), solution
    z_star.requires_grad_(True)
    out = f(z_star)
    if not out.requires_grad:
        return out, solution

    def transpose_product(u):
        """``J_f^T u`` at ``z*`` (flat), by one vector-Jacobian product."""
        vjp, = torch.autograd.grad(out, z_star, unflat(u, out), retain_graph=True)
        return flat(vjp)

    inside = []  # the vector-Jacobian products below pass through ``out`` again

    def hook(grad):
        if inside:
            return grad
        inside.append(True)
        try:
            return _backward(grad)
        finally:
            inside.clear()

    def _backward(grad):
        began = time.perf_counter()
        g = flat(grad)
        fallback = 0
        if backward == "jacobian-free":
            u = g
        elif backward == "implicit":
            u = _linear_solve(transpose_product, g, g, None, backward_tol, backward_max_iter)
        else:
            u = solution.inverse.apply_t(g)
            info["amplification"] = float((u.norm(dim=1) / g.norm(dim=1).clamp_min(1e-30)).max())
            if fallback_bound is not None:
                bad = ~torch.isfinite(u).all(1) | (
                    u.norm(dim=1) > fallback_bound * g.norm(dim=1))
                fallback = int(bad.sum())
                u = torch.where(bad[:, None], g, u)
            if refine:  # from the estimate's inverse, unless it was not trusted
                start = None if fallback else solution.inverse.transposed()
                u = _linear_solve(transpose_product, g, u, start, backward_tol, refine + 1)
        info.update(backward_seconds=time.perf_counter() - began, fallback=fallback)
        return unflat(u, grad)

    out.register_hook(hook)
    return out, solution


def _linear_solve(transpose_product, g, start, inverse, tol, max_iter):
    """``u = J^T u + g`` by Broyden from ``start`` (and the inverse estimate ``inverse``)."""
    like = g.reshape(g.shape[0], -1)
    if inverse is None:
        inverse = LowRankInverse.identity(g.shape[0], g.shape[1], g.dtype, g.device)
    solution = broyden(lambda u: transpose_product(u) + g, start.reshape_as(like), tol=tol,
                       max_iter=max_iter, memory=max(max_iter, 1) + inverse.rank,
                       inverse=inverse)
    return solution.z
