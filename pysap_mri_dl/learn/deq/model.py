"""The deep equilibrium reconstruction: plug-and-play proximal gradient with the tied
Learnlet, run to its fixed point and trained end to end through it.

One step of the model is the unrolled Learnlet's step (:class:`~..unrolled.models.
UnrolledLearnlet`) without momentum and with one learned step and noise level shared by all
iterations::

    f(z) = D_sigma(z - eta / L * A^H (A z - y))        (``forward_backward_step``)

and the output is its fixed point ``z* = f(z*)`` (:func:`~.backward.equilibrium`). With
``eta = 1`` and the shipped Learnlet at ``sigma = 0.0005`` the fixed point is that of the
shipped plug-and-play reconstruction at 4x, where 0.0005 is its default noise level (FISTA
and proximal gradient share their fixed points), so an untrained DEQ starts where
plug-and-play ends, at any depth. The solve
starts from ``start_iterations`` of wavelet FISTA (a warm start near the fixed point).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...optim import forward_backward_step
from ..denoisers.learnlet import Learnlet
from ..unrolled.models import SCHEDULE_GAIN, _check_start, _ScaledDenoiser
from .backward import check_options, equilibrium
from .solvers import check_solve

__all__ = ["DEQLearnlet"]


class DEQLearnlet(nn.Module):
    """Deep equilibrium plug-and-play Learnlet (``--model deq``).

    ``solver`` ('broyden', 'anderson', 'fixed-point'), ``max_iter`` (the forward cap) and
    ``tol`` run the forward; ``backward`` ('shine', 'implicit', 'jacobian-free') with
    ``refine`` and ``opa`` (SHINE options) differentiates through it. ``info`` holds what
    the last call did (forward iterations, stop reason, backward seconds, fallbacks).
    ``backward_max_iter`` and ``backward_tol`` bound the implicit (and refine) backward
    solve: the plug-and-play step contracts slowly, and the implicit gradient needs about
    200 iterations to come within 10% of finite differences (docs/deq.rst);
    ``fallback_bound`` is SHINE's trust bound (``None``: never fall back)."""

    def __init__(self, sigma=0.0005, learnlet=None, solver="anderson", backward="implicit",
                 max_iter=100, tol=1e-5, refine=0, opa=False, memory=30, start_iterations=30,
                 backward_max_iter=200, backward_tol=1e-7, fallback_bound=1.8):
        super().__init__()
        check_options(solver, backward, refine, opa)
        check_solve(tol, max_iter, memory)  # the forward solve's settings, then the backward's
        check_solve(backward_tol, backward_max_iter, prefix="backward_")
        _check_start("wavelet", start_iterations)  # it starts from wavelet FISTA
        _check_numbers(sigma=sigma, fallback_bound=fallback_bound)
        learnlet = dict(learnlet or {})
        self.config = dict(sigma=sigma, learnlet=learnlet, solver=solver, backward=backward,
                           max_iter=max_iter, tol=tol, refine=refine, opa=opa, memory=memory,
                           start_iterations=start_iterations,
                           backward_max_iter=backward_max_iter, backward_tol=backward_tol,
                           fallback_bound=fallback_bound)
        self.denoiser = Learnlet(**learnlet)
        self.log_step = nn.Parameter(torch.zeros(()))
        self.log_sigma = nn.Parameter(torch.zeros(()))
        self.info = {}
        self.outer_loss = None  # set by the trainer for OPA: image -> loss

    @property
    def step_length(self):
        """The learned step in units of ``1 / L``."""
        return (SCHEDULE_GAIN * self.log_step).exp()

    @property
    def sigma(self):
        return self.config["sigma"] * (SCHEDULE_GAIN * self.log_sigma).exp()

    def step(self, z, m):
        """One plug-and-play proximal-gradient step on a batch ``(1, *shape)``."""
        prox = _ScaledDenoiser(self.denoiser, self.sigma)
        return forward_backward_step(z[0], data=m.data, prox=prox,
                                     step=self.step_length / m.data.lipschitz())[None]

    def forward(self, m):
        c = self.config
        start = m.wavelet_reconstruction(c["start_iterations"])[None]
        training = self.training and torch.is_grad_enabled()
        backward = c["backward"] if training else "jacobian-free"
        opa = bool(c["opa"]) and training and self.outer_loss is not None
        outer_gradient = None
        if opa:
            def outer_gradient(z):
                with torch.enable_grad():
                    point = z.detach().requires_grad_(True)
                    grad, = torch.autograd.grad(self.outer_loss(point[0]), point)
                return grad
        self.info = {}
        z, _ = equilibrium(lambda z: self.step(z, m), start, solver=c["solver"],
                           backward=backward, tol=c["tol"], max_iter=c["max_iter"],
                           memory=c["memory"], refine=c["refine"] if training else 0,
                           opa=opa, outer_gradient=outer_gradient, info=self.info,
                           backward_tol=c["backward_tol"],
                           backward_max_iter=c["backward_max_iter"],
                           fallback_bound=c["fallback_bound"])
        return z[0]


def _check_numbers(*, sigma, fallback_bound):
    """Named errors for the DEQ's own numeric settings (the solves' are
    :func:`~.solvers.check_solve`'s, the start's the unrolled networks'), before a forward
    pass meets them."""
    def number(value):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value)

    if not number(sigma) or sigma <= 0:
        raise ValueError(f"DEQLearnlet: sigma must be a finite number > 0, received {sigma!r}")
    if fallback_bound is not None and (not number(fallback_bound) or fallback_bound <= 0):
        raise ValueError(f"DEQLearnlet: fallback_bound must be None or a number > 0, "
                         f"received {fallback_bound!r}")
