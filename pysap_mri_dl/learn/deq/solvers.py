"""Root finders for ``g(z) = z - f(z) = 0`` on batches (the forward pass of a deep
equilibrium model): plain fixed-point iteration, Anderson acceleration and Broyden's
method with a limited-memory low-rank inverse, which is kept for SHINE's backward pass.

Every solver takes ``f`` on a tensor ``(B, ...)`` (real or complex) and a start ``z0``, and
returns a :class:`Solution` with the stop reason: ``converged`` (relative residual
``|g(z)| / |f(z)|`` below ``tol`` for every batch element), ``max_iter`` or ``diverged``
(a non-finite residual, a residual grown ``DIVERGENCE`` times above the start's, or an
iterate whose norm has grown that much: a run-away iterate can make the relative residual
small without being a fixed point); the iterate returned is always the one with the
smallest residual norm seen, never a non-finite one. Broyden and Anderson both return an
inverse-Jacobian estimate for SHINE's backward pass.
Work is done on real flat views ``(B, n)`` (a complex image is its real and imaginary
parts).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import torch

__all__ = ["Solution", "LowRankInverse", "fixed_point", "anderson", "broyden", "SOLVERS",
           "solve"]

DIVERGENCE = 1e3
"""A residual, or an iterate's norm, this many times above the start's stops the solve as
diverged."""


def flat(z):
    """``(B, ...)`` real or complex to real ``(B, n)``."""
    z = torch.view_as_real(z) if z.is_complex() else z
    return z.reshape(z.shape[0], -1)


def unflat(v, like):
    """Inverse of :func:`flat` for a tensor shaped like ``like``."""
    if like.is_complex():
        return torch.view_as_complex(v.reshape(*like.shape, 2).contiguous())
    return v.reshape(like.shape)


@dataclass
class LowRankInverse:
    """``H = I + U V^T`` per batch element (``U``, ``V``: ``(B, n, k)``): the Broyden
    estimate of the inverse Jacobian ``(dg/dz)^{-1}``; ``apply`` gives ``H x``, ``apply_t``
    gives ``H^T x`` (what SHINE applies to the loss gradient)."""

    U: torch.Tensor
    V: torch.Tensor

    @classmethod
    def identity(cls, batch, n, dtype, device):
        empty = torch.zeros(batch, n, 0, dtype=dtype, device=device)
        return cls(empty, empty.clone())

    @classmethod
    def multisecant(cls, zs, gs, memory, regularisation=1e-6):
        """The least-change inverse estimate that maps the last ``memory`` residual
        differences ``dG`` to the iterate differences ``dZ`` (``H dG = dZ``):
        ``H = I + (dZ - dG) (dG^T dG)^{-1} dG^T`` (Broyden's second method, multisecant)."""
        zs, gs = zs[-(memory + 1):], gs[-(memory + 1):]
        z = zs[-1]
        if len(zs) < 2:
            return cls.identity(z.shape[0], z.shape[1], z.dtype, z.device)
        dz = torch.stack([b - a for a, b in zip(zs[:-1], zs[1:])], 2)   # (B, n, m)
        dg = torch.stack([b - a for a, b in zip(gs[:-1], gs[1:])], 2)
        norms = dg.norm(dim=1, keepdim=True).clamp_min(1e-30)   # pairs scaled to |dg| = 1
        dz, dg = dz / norms, dg / norms
        gram = dg.transpose(1, 2) @ dg + regularisation * torch.eye(
            dg.shape[2], dtype=dg.dtype, device=dg.device)
        V = torch.linalg.solve(gram, dg.transpose(1, 2)).transpose(1, 2)  # dG (dG^T dG)^-1
        return cls(dz - dg, V)

    @property
    def rank(self):
        return self.U.shape[-1]

    def apply(self, x):
        return x + torch.einsum("bnk,bk->bn", self.U, torch.einsum("bnk,bn->bk", self.V, x))

    def apply_t(self, x):
        return x + torch.einsum("bnk,bk->bn", self.V, torch.einsum("bnk,bn->bk", self.U, x))

    def reset(self, where):
        """Back to the identity for the batch elements where ``where`` (B,) is true."""
        keep = (~where)[:, None, None].to(self.U.dtype)
        self.U, self.V = self.U * keep, self.V * keep

    def transposed(self):
        """``H^T`` as a :class:`LowRankInverse` (the start of a backward Broyden solve)."""
        return LowRankInverse(self.V.clone(), self.U.clone())

    def update(self, s, y, memory):
        """Broyden's ("good") update of the inverse from a step ``s`` and the change ``y``
        of the residual: ``H <- H + (s - H y) (s^T H) / (s^T H y)``, keeping the last
        ``memory`` rank-one terms. Batch elements with ``s^T H y`` near zero keep ``H``."""
        hy = self.apply(y)
        hts = self.apply_t(s)
        denominator = (s * hy).sum(1, keepdim=True)
        usable = denominator.abs() > 1e-12 * (s.norm(dim=1, keepdim=True)
                                              * hy.norm(dim=1, keepdim=True) + 1e-30)
        u = torch.where(usable, (s - hy) / torch.where(usable, denominator, 1.0), 0.0)
        v = torch.where(usable, hts, 0.0)
        self.U = torch.cat([self.U, u[..., None]], -1)[..., -memory:]
        self.V = torch.cat([self.V, v[..., None]], -1)[..., -memory:]


    def adjoint_update(self, f, z, direction, like, memory):
        """Outer-problem awareness: with ``sigma = H^T d`` (``d`` the outer gradient) and
        ``w = J_g^T sigma`` (one vector-Jacobian product of ``f`` at ``z``), the rank-one
        update that makes ``H^T w = sigma`` hold, as it does for the true inverse (the
        adjoint secant condition; ``a = H w`` spans the correction)."""
        sigma = self.apply_t(direction)
        with torch.enable_grad():
            point = unflat(z, like).detach().requires_grad_(True)
            vjp, = torch.autograd.grad(f(point), point, unflat(sigma, like))
        w = sigma - flat(vjp)
        a = self.apply(w)
        denominator = (a * w).sum(1, keepdim=True)
        usable = denominator.abs() > 1e-12 * (a.norm(dim=1, keepdim=True)
                                              * w.norm(dim=1, keepdim=True) + 1e-30)
        u = torch.where(usable, a / torch.where(usable, denominator, 1.0), 0.0)
        v = torch.where(usable, sigma - self.apply_t(w), 0.0)
        self.U = torch.cat([self.U, u[..., None]], -1)[..., -memory:]
        self.V = torch.cat([self.V, v[..., None]], -1)[..., -memory:]


@dataclass
class Solution:
    """What a solver returns: the fixed point ``z`` (shaped like ``z0``), ``iterations``
    (evaluations of ``f``), the relative ``residual`` per batch element, ``stop_reason``,
    the ``history`` of the largest relative residual per iteration, and (Broyden) the
    inverse-Jacobian estimate ``inverse`` for SHINE."""

    z: torch.Tensor
    iterations: int
    residual: torch.Tensor
    stop_reason: str
    history: list = field(default_factory=list)
    inverse: LowRankInverse | None = None

    @property
    def converged(self):
        return self.stop_reason == "converged"


class _Tracker:
    """The best iterate, the history and the stop decision shared by the solvers."""

    def __init__(self, z0, tol, max_iter):
        self.like, self.tol, self.max_iter = z0, tol, max_iter
        self.best, self.best_residual, self.best_norm = None, None, None
        self.history, self.start, self.start_norm = [], None, None
        self.iterations = 0

    def relative(self, z, gz, fz):
        return gz.norm(dim=1) / (fz.norm(dim=1) + 1e-30)

    def record(self, z, gz, fz):
        """Record the iterate ``z`` (flat) with residual ``gz``; returns a stop reason or
        None to go on."""
        self.iterations += 1
        residual = self.relative(z, gz, fz).detach()
        if not torch.all(torch.isfinite(residual)):
            return "diverged"
        worst = float(residual.max())
        self.history.append(worst)
        norm = z.norm(dim=1).detach()
        if self.best is None:
            self.best, self.best_residual, self.start = z.clone(), residual.clone(), worst
            self.best_norm = gz.norm(dim=1).detach()
            self.start_norm = torch.maximum(norm, fz.norm(dim=1).detach()).clamp_min(1e-12)
        else:  # best by the residual's norm (a run-away iterate shrinks the relative one)
            absolute = gz.norm(dim=1).detach()
            better = absolute < self.best_norm * (1 - 1e-4)  # not by rounding alone
            self.best = torch.where(better[:, None], z, self.best)
            self.best_residual = torch.where(better, residual, self.best_residual)
            self.best_norm = torch.where(better, absolute, self.best_norm)  # the best's own
        # converged: the iterate returned (the best one) meets the tolerance, not merely
        # the current one (a run-away iterate has a small relative residual)
        if float(self.best_residual.max()) <= self.tol:
            return "converged"
        if (worst > DIVERGENCE * max(self.start, 1e-12)
                or bool((norm > DIVERGENCE * self.start_norm).any())):
            return "diverged"
        if self.iterations >= self.max_iter:
            return "max_iter"
        return None

    def bad_steps(self, z, gz, fz, factor):
        """Batch elements whose new iterate is not finite, has run away, or has a residual
        norm above ``factor`` times the best seen (None when ``factor`` is None)."""
        if factor is None:
            return None
        absolute = gz.norm(dim=1).detach()
        return (~torch.isfinite(absolute) | (absolute > factor * self.best_norm)
                | (z.norm(dim=1) > DIVERGENCE * self.start_norm))

    def solution(self, reason, inverse=None):
        if self.best is None:
            raise FloatingPointError("the fixed-point map returned non-finite values at the "
                                     "starting point")
        return Solution(unflat(self.best, self.like), self.iterations, self.best_residual,
                        reason, self.history, inverse)


def check_solve(tol, max_iter, memory=1, *, prefix=""):
    """Named errors for a solve's settings (``prefix``: the settings' name prefix, e.g.
    ``backward_``)."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < float("inf"):
        raise ValueError(f"{prefix}tol must be a finite number > 0, received {tol!r}")
    for name, value in ((f"{prefix}max_iter", max_iter), ("memory", memory)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, received {value!r}")


def _residual_map(f, like):
    def evaluate(z):
        fz = flat(f(unflat(z, like)))
        return fz, z - fz
    return evaluate


def fixed_point(f, z0, *, tol=1e-4, max_iter=50, damping=1.0):
    """``z <- (1 - damping) z + damping f(z)``: converges when ``f`` is a contraction."""
    check_solve(tol, max_iter)
    evaluate = _residual_map(f, z0)
    tracker = _Tracker(z0, tol, max_iter)
    z = flat(z0)
    while True:
        fz, gz = evaluate(z)
        reason = tracker.record(z, gz, fz)
        if reason:
            return tracker.solution(reason)
        z = z - damping * gz


def anderson(f, z0, *, tol=1e-4, max_iter=50, memory=5, mixing=1.0, regularisation=1e-6):
    """Anderson acceleration (type II) with ``memory`` past iterates: the next iterate
    mixes the last ``f`` values with the weights that minimise the combined residual
    (a small regularised least-squares problem per batch element).

    The solution carries the multisecant inverse-Jacobian estimate of the last
    ``memory`` iterates (:meth:`LowRankInverse.multisecant`), which Anderson mixing
    implicitly uses (Fang and Saad, 2009): SHINE's backward pass can reuse it as it does
    Broyden's."""
    check_solve(tol, max_iter, memory)
    evaluate = _residual_map(f, z0)
    tracker = _Tracker(z0, tol, max_iter)
    z = flat(z0)
    zs, fs, gs = [], [], []
    while True:
        fz, gz = evaluate(z)
        reason = tracker.record(z, gz, fz)
        if reason:
            return tracker.solution(reason, LowRankInverse.multisecant(zs + [z], gs + [gz],
                                                                       memory))
        zs, fs, gs = (zs + [z])[-memory:], (fs + [fz])[-memory:], (gs + [gz])[-memory:]
        G = torch.stack(gs, 2)                                   # (B, n, m)
        gram = G.transpose(1, 2) @ G                             # (B, m, m)
        scale = gram.diagonal(dim1=1, dim2=2).mean(1).clamp_min(1e-30)[:, None, None]
        gram = gram + regularisation * scale * torch.eye(len(gs), dtype=G.dtype,
                                                         device=G.device)
        ones = torch.ones(G.shape[0], len(gs), 1, dtype=G.dtype, device=G.device)
        try:
            weights = torch.linalg.solve(gram, ones)
        except RuntimeError:  # singular even after regularisation: plain step
            weights = torch.zeros_like(ones)
            weights[:, -1] = 1.0
        weights = weights / weights.sum(1, keepdim=True)
        mixed_f = (torch.stack(fs, 2) @ weights)[..., 0]
        mixed_z = (torch.stack(zs, 2) @ weights)[..., 0]
        z = (1 - mixing) * mixed_z + mixing * mixed_f


def broyden(f, z0, *, tol=1e-4, max_iter=50, memory=30, extra_directions=None,
            extra_every=5, inverse=None, restart=2.0):
    """Broyden's method on ``g(z) = z - f(z)``: steps ``z <- z - H g(z)`` with the inverse
    Jacobian estimate ``H = I + U V^T`` (starting at the identity, the plain fixed-point
    step) updated after every step and kept for the backward pass (SHINE).

    ``extra_directions(z)`` (outer-problem awareness, OPA): every ``extra_every``
    iterations, an extra adjoint update of ``H`` (:meth:`LowRankInverse.adjoint_update`)
    along the direction it returns (the outer loss's gradient at ``z``), at the cost of one
    vector-Jacobian product of ``f``; the iterate does not move. It makes ``H^T`` accurate
    where SHINE applies it. ``inverse``: a starting
    estimate (a :class:`LowRankInverse`; SHINE's refine starts the backward solve from the
    forward's). ``restart``: a step whose residual norm exceeds ``restart`` times the
    smallest seen (or that runs away) is rejected, and the solve restarts from the best iterate with the
    identity as its estimate (a safeguard for maps that are not smooth, such as a
    denoiser with thresholds, where secant updates can send the iterate away; ``None``
    turns it off)."""
    check_solve(tol, max_iter, memory)
    evaluate = _residual_map(f, z0)
    tracker = _Tracker(z0, tol, max_iter)
    z = flat(z0)
    if inverse is None:
        inverse = LowRankInverse.identity(z.shape[0], z.shape[1], z.dtype, z.device)
    fz, gz = evaluate(z)
    reason = tracker.record(z, gz, fz)
    while not reason:
        step = -inverse.apply(gz)
        z_new = z + step
        f_new, g_new = evaluate(z_new)
        bad = tracker.bad_steps(z_new, g_new, f_new, restart)
        if bad is not None and bool(bad.any()):  # back to the best iterate, estimate reset
            tracker.iterations += 1  # the evaluation is spent
            z = torch.where(bad[:, None], tracker.best, z_new)
            fz, gz = evaluate(z)
            reason = tracker.record(z, gz, fz)
            inverse.reset(bad)
            continue
        reason = tracker.record(z_new, g_new, f_new)
        if reason == "diverged":
            break
        inverse.update(step, g_new - gz, memory)
        z, fz, gz = z_new, f_new, g_new
        if extra_directions is not None and not reason and tracker.iterations % extra_every == 0:
            inverse.adjoint_update(f, z, flat(extra_directions(unflat(z, z0))).to(z.dtype),
                                   z0, memory)
    return tracker.solution(reason, inverse)


SOLVERS = {"broyden": broyden, "anderson": anderson, "fixed-point": fixed_point}


def solve(f, z0, method="broyden", **options):
    """Dispatch to one of :data:`SOLVERS` by name."""
    if method not in SOLVERS:
        raise ValueError(f"solver must be one of {tuple(SOLVERS)}, received {method!r}")
    return SOLVERS[method](f, z0, **options)
