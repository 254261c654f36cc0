"""Tuning compressed-sensing hyperparameters by bilevel optimisation, the hypergradient by
SHINE, implicit differentiation or Jacobian-free: SHINE's second application.

Inner problem, per example (smooth, solved by L-BFGS from a warm start)::

    F(x; theta) = 1/2 |A x - y|^2 + lam sum_l 2^-l exp(theta_l) sum_{i in level l} h(|(W x)_i|)

``W``: the undecimated (shift-invariant) Haar transform, 4 levels, normalised as a Parseval
frame; ``theta_l`` one log-weight per detail level (coarse to fine), ``lam`` the package's
default lambda rule, ``h`` the Huber function of width ``delta`` (a smooth l1). The factor
``2^-l`` (``l = 1`` the finest level) makes the penalty the average over all shifts of the
decimated Haar l1 that the default reconstructor approximates by cycle spinning, so that
``theta = 0`` is the default reconstruction (a decimated transform without shifts is not:
its l1 reconstructions are 1.5 dB worse than cycle-spun ones, and weights tuned for it do
not transfer). Outer loss: the squared error of the magnitude relative to the squared
maximum of the reference, ``mean(|x*| - ref)^2 / max(ref)^2`` (``10^(-PSNR/10)``), mean
over the training examples.

The hypergradient is ``dL/dtheta = -(d_theta grad_x F)^T v`` with ``v`` solving
``H v = grad_x L`` (``H``: the Hessian of ``F`` at ``x*``), obtained by

* ``implicit``: conjugate gradient with exact Hessian-vector products (to ``cg_tol``);
* ``shine``: ``v = B grad_x L`` with the inverse-Hessian estimate ``B`` the inner L-BFGS
  built (two-loop recursion): no second solve; ``opa=True`` adds L-BFGS pairs along the
  outer gradient's direction during the inner solve (outer-problem awareness);
* ``jacobian-free``: ``v = grad_x L``.

The tuned weights ``exp(theta)`` multiply the default lambda per level in
:class:`TunedWaveletPrior` (the same undecimated Haar l1, solved by the reconstructors'
FISTA), which ``reconstruct_sense`` / ``reconstruct_single_coil`` take as ``prior=``.
"""
from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from .._backend import vdot_real
from ..operators import FFT, SENSE, Wavelet
from ..optim import conjugate_gradient
from ..prox import SoftThreshold

__all__ = ["HYPERGRADIENTS", "SmoothWaveletProblem", "lbfgs", "tune_wavelet_weights",
           "TunedWaveletPrior", "TuningResult"]

HYPERGRADIENTS = ("shine", "implicit", "jacobian-free")
LEVELS = 4
DEFAULT_DELTA = 2e-4
"""Huber width, relative to the zero-filled image's maximum (about a quarter of the default
lambda there): small enough that the smooth problem's solution is the l1 one."""


def level_factors(wavelet):
    """Per band of an undecimated Parseval ``wavelet``: ``2^-level`` on detail bands (the
    shift average of the decimated l1, see the module docstring), 0 on the coarse band."""
    return [0.0 if b.name == "approx" else 2.0 ** -b.level for b in wavelet.bands]


class SmoothWaveletProblem:
    """The inner problem of one example: Cartesian ``kspace`` ``([coils,] ny, nx)`` with its
    ``mask`` and ``reference`` (magnitude), maps self-calibrated for multi-coil data. The
    data are scaled so that the zero-filled image has maximum 1 (``scale``)."""

    def __init__(self, kspace, mask, reference, *, delta=DEFAULT_DELTA, smaps=None):
        from ..calibration import self_calibrated_smaps
        from .regularisation import default_lambda
        kspace = np.asarray(kspace, np.complex128) * mask
        if kspace.ndim == 3:
            maps = self_calibrated_smaps(kspace.astype(np.complex64), mask=mask) \
                if smaps is None else smaps
            self.operator = SENSE(np.asarray(maps, np.complex128), mask=mask)
        else:
            self.operator = FFT(kspace.shape, mask=mask)
        adjoint = self.operator.adj_op(kspace)
        self.scale = float(np.abs(adjoint).max())
        self.kspace = kspace / self.scale
        self.reference = np.asarray(reference, np.float64) / self.scale
        self.shape = adjoint.shape
        self.wavelet = Wavelet(self.shape, wavelet="haar", levels=LEVELS, undecimated=True)
        levels = np.array([b.level for b in self.wavelet.bands])
        detail = np.array([b.name != "approx" for b in self.wavelet.bands])
        # per coefficient: its detail level index (0 = coarsest) or -1 on the coarse band
        per_band = np.where(detail, LEVELS - levels, -1)
        self.level_of = per_band[self.wavelet.band_index]
        self.lam = default_lambda(self.operator.adj_op(self.kspace))
        self.base = self.lam * self.wavelet.expand(level_factors(self.wavelet))
        self.delta = delta
        self.start = self.operator.adj_op(self.kspace)

    def weights(self, theta):
        w = np.zeros(self.level_of.shape)
        detail = self.level_of >= 0
        w[detail] = self.base[detail] * np.exp(np.asarray(theta)[self.level_of[detail]])
        return w

    def _shrink(self, c):
        return c / np.maximum(np.abs(c), self.delta)

    def value_and_grad(self, x, theta):
        residual = self.operator.op(x) - self.kspace
        c = self.wavelet.op(x)
        r = np.abs(c)
        huber = np.where(r <= self.delta, r ** 2 / (2 * self.delta), r - self.delta / 2)
        w = self.weights(theta)
        value = 0.5 * vdot_real(residual, residual) + float(np.sum(w * huber))
        grad = self.operator.adj_op(residual) + self.wavelet.adj_op(w * self._shrink(c))
        return value, grad

    def hessian_vector(self, x, theta, v):
        """Exact ``H v`` (the Huber term's Hessian is piecewise closed-form)."""
        c, u = self.wavelet.op(x), self.wavelet.op(v)
        inside = np.abs(c) <= self.delta
        r = np.maximum(np.abs(c), self.delta)  # the outside formula, used outside only
        outside = u / r - c * np.real(np.conj(c) * u) / r ** 3
        curvature = np.where(inside, u / self.delta, outside)
        return (self.operator.adj_op(self.operator.op(v))
                + self.wavelet.adj_op(self.weights(theta) * curvature))

    def theta_gradient(self, x, theta, v):
        """``(d_theta grad_x F)^T v`` per level: ``w_l Re<shrink(W x), W v>`` over level l."""
        terms = self.weights(theta) * np.real(np.conj(self._shrink(self.wavelet.op(x)))
                                              * self.wavelet.op(v))
        detail = self.level_of >= 0
        return np.bincount(self.level_of[detail], terms[detail], minlength=LEVELS)

    def outer(self, x):
        """Outer loss and its gradient in ``x``: the squared error of ``|x|`` relative to
        the squared maximum of the reference (``10^(-PSNR/10)``)."""
        magnitude = np.abs(x)
        difference = magnitude - self.reference
        norm = self.reference.size * float(self.reference.max()) ** 2
        grad = 2 * difference * x / np.maximum(magnitude, 1e-12) / norm
        return vdot_real(difference, difference) / norm, grad


@dataclass
class LBFGSMemory:
    """The L-BFGS pairs ``(s, y)``; :meth:`inverse` applies the inverse-Hessian estimate."""

    size: int = 10
    pairs: list = field(default_factory=list)

    def add(self, s, y):
        if vdot_real(s, y) > 1e-12 * np.sqrt(vdot_real(s, s) * vdot_real(y, y)):  # curvature condition
            self.pairs = (self.pairs + [(s, y)])[-self.size:]

    def inverse(self, g):
        """Two-loop recursion: ``B g`` with ``B`` the L-BFGS inverse Hessian (identity
        scaled by ``s.y / y.y`` of the last pair as its start)."""
        q, alphas = g.copy(), []
        for s, y in reversed(self.pairs):
            alpha = vdot_real(s, q) / vdot_real(y, s)
            q = q - alpha * y
            alphas.append(alpha)
        if self.pairs:
            s, y = self.pairs[-1]
            q = q * (vdot_real(s, y) / vdot_real(y, y))
        for (s, y), alpha in zip(self.pairs, reversed(alphas)):
            beta = vdot_real(y, q) / vdot_real(y, s)
            q = q + (alpha - beta) * s
        return q


def lbfgs(fun, x0, *, memory=10, tol=1e-6, max_iter=300, extra_direction=None, extra_every=5):
    """Minimise ``fun(x) -> (value, grad)`` from ``x0`` (real or complex arrays, real inner
    product) with L-BFGS and a backtracking (Armijo) line search; stops when ``|grad|``
    falls below ``tol`` times its starting norm, or when the line search finds no decrease
    (the objective's floating-point floor). Returns ``(x, LBFGSMemory, iterations)``.
    ``extra_direction(x)`` (OPA): every ``extra_every`` iterations, one more pair along the
    direction it returns, from a gradient difference (the iterate does not move)."""
    x = x0.copy()
    value, grad = fun(x)
    first = np.sqrt(vdot_real(grad, grad))
    history = LBFGSMemory(memory)
    iterations = 0
    while iterations < max_iter and np.sqrt(vdot_real(grad, grad)) > tol * first:
        direction = -history.inverse(grad)
        slope = vdot_real(direction, grad)
        if slope >= 0:  # not a descent direction: restart from the gradient
            history.pairs.clear()
            direction, slope = -grad, -vdot_real(grad, grad)
        step = 1.0 if history.pairs else 1.0 / max(np.sqrt(vdot_real(grad, grad)), 1e-12)
        for _ in range(30):
            candidate = x + step * direction
            new_value, new_grad = fun(candidate)
            if new_value <= value + 1e-4 * step * slope:
                break
            step *= 0.5
        else:  # no decrease found: at the accuracy floor of the objective
            break
        history.add(candidate - x, new_grad - grad)
        x, value, grad = candidate, new_value, new_grad
        iterations += 1
        if extra_direction is not None and iterations % extra_every == 0:
            d = extra_direction(x)
            length = np.sqrt(vdot_real(step * direction, step * direction) / max(vdot_real(d, d), 1e-300))
            s = length * d
            history.add(s, fun(x + s)[1] - grad)
    return x, history, iterations


@dataclass
class TuningResult:
    """Tuned log-weights ``theta`` (per detail level, coarse to fine) and the trace: per
    outer step, ``seconds`` (cumulative, tuning only), the training ``loss`` at the weights
    the step started from (the point its hypergradient was taken at), ``theta`` after the
    step's update, the ``held_out`` loss at that updated ``theta`` (when held-out examples
    were given) and ``backward_seconds``."""

    theta: np.ndarray
    method: str
    trace: list = field(default_factory=list)

    @property
    def weights(self):
        return np.exp(self.theta)


def _hypergradient(problem, x, theta, history, method, cg_tol):
    loss, grad_x = problem.outer(x)
    if method == "jacobian-free":
        v = grad_x
    elif method == "shine":
        v = history.inverse(grad_x)
    else:
        v = conjugate_gradient(lambda u: problem.hessian_vector(x, theta, u), grad_x,
                               n_iter=200, tol=cg_tol).x
    return loss, -problem.theta_gradient(x, theta, v)


def tune_wavelet_weights(examples, *, method="shine", opa=False, steps=20, lr=0.1,
                         held_out=(), inner_tol=1e-5, inner_max_iter=300, cg_tol=1e-6,
                         theta0=None, delta=DEFAULT_DELTA, max_seconds=None):
    """Tune the per-level weights on ``examples`` (``(kspace, mask, reference)`` triples) by
    ``steps`` of Adam (learning rate ``lr`` on the log-weights) with the hypergradient of
    ``method``; ``held_out`` examples are evaluated after each step (not timed).
    ``max_seconds``: stop after the step that exceeds this tuning time (a time budget
    instead of a step count, for comparing hypergradients at equal time)."""
    if method not in HYPERGRADIENTS:
        raise ValueError(f"method must be one of {HYPERGRADIENTS}, received {method!r}")
    if opa and method != "shine":
        raise ValueError("opa is an option of the SHINE hypergradient")
    if max_seconds is not None and not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, received {max_seconds}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, received {steps!r}")
    for name, value in (("lr", lr), ("delta", delta)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not 0 < value < float("inf"):
            raise ValueError(f"{name} must be a finite number > 0, received {value!r}")
    if theta0 is not None and (np.shape(theta0) != (LEVELS,)
                               or not np.all(np.isfinite(theta0))):
        raise ValueError(f"theta0 must be {LEVELS} finite log-weights (coarse to fine), "
                         f"received {theta0!r}")
    problems = [SmoothWaveletProblem(*e, delta=delta) for e in examples]
    checks = [SmoothWaveletProblem(*e, delta=delta) for e in held_out]
    if not problems:
        raise ValueError("tune_wavelet_weights needs at least one example")
    theta = np.zeros(LEVELS) if theta0 is None else np.asarray(theta0, np.float64).copy()
    starts = [p.start for p in problems]
    check_starts = [p.start for p in checks]
    moment, second = np.zeros(LEVELS), np.zeros(LEVELS)
    result = TuningResult(theta, method)
    elapsed = 0.0
    for step in range(1, steps + 1):
        began = time.perf_counter()
        losses, gradient, backward = [], np.zeros(LEVELS), 0.0
        for i, problem in enumerate(problems):
            outer = (lambda x, p=problem: p.outer(x)[1]) if opa else None
            x, history, _ = lbfgs(lambda x, p=problem: p.value_and_grad(x, theta), starts[i],
                                  tol=inner_tol, max_iter=inner_max_iter,
                                  extra_direction=outer)
            starts[i] = x
            tick = time.perf_counter()
            loss, g = _hypergradient(problem, x, theta, history, method, cg_tol)
            backward += time.perf_counter() - tick
            losses.append(loss)
            gradient += g / len(problems)
        moment = 0.9 * moment + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient ** 2
        theta = theta - lr * (moment / (1 - 0.9 ** step)) / (
            np.sqrt(second / (1 - 0.999 ** step)) + 1e-12)
        if not np.all(np.isfinite(np.exp(theta))):
            raise ValueError(f"the tuning diverged at step {step} (weights exp(theta) = "
                             f"{np.exp(theta).tolist()}): lower the learning rate lr "
                             f"({lr})")
        elapsed += time.perf_counter() - began
        row = {"step": step, "seconds": elapsed, "loss": float(np.mean(losses)),
               "backward_seconds": backward, "theta": theta.tolist()}
        if checks:
            values = []
            for i, problem in enumerate(checks):
                x, _, _ = lbfgs(lambda x, p=problem: p.value_and_grad(x, theta),
                                check_starts[i], tol=inner_tol, max_iter=inner_max_iter)
                check_starts[i] = x
                values.append(problem.outer(x)[0])
            row["held_out"] = float(np.mean(values))
        result.trace.append(row)
        if max_seconds is not None and elapsed >= max_seconds:
            break
    result.theta = theta
    return result


class TunedWaveletPrior:
    """The tuned problem's prior for the reconstructors:
    ``prior=TunedWaveletPrior(result.weights)`` in ``reconstruct_sense`` is the l1 of the
    undecimated Haar transform (4 levels) with the default lambda times ``2^-level`` times
    the level's weight (coarse to fine), as in :class:`SmoothWaveletProblem`;
    ``TunedWaveletPrior([1, 1, 1, 1])`` is the default rule at 4x on that transform (its
    factor stays 0.001, the one the weights are tuned with, at every acceleration). Image
    sizes must be multiples of 16."""

    formulation = "analysis"
    """The formulation the weights were tuned in (the reconstructors refuse another)."""

    def __init__(self, weights, *, lam_factor=None):
        if isinstance(lam_factor, str) and lam_factor == "auto":
            lam_factor = None  # the factor the weights were tuned with
        if lam_factor is not None and (isinstance(lam_factor, (bool, str))
                                       or not 0 < lam_factor < float("inf")):
            raise ValueError(f"lam_factor must be None, 'auto' or a finite number > 0, "
                             f"received {lam_factor!r}")
        weights = np.asarray(weights, np.float64)
        if weights.shape != (LEVELS,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(f"weights must be {LEVELS} finite non-negative numbers (one per "
                             f"detail level, coarse to fine), received {weights!r}")
        self.weights, self.lam_factor = weights, lam_factor

    def build(self, operator, kspace):
        from .priors import wavelet_prior
        from .regularisation import DEFAULT_LAMBDA_FACTOR, default_lambda
        factor = DEFAULT_LAMBDA_FACTOR if self.lam_factor is None else self.lam_factor
        lam = default_lambda(operator._adj_op(kspace), factor=factor)
        shape = tuple(operator.shape_in)
        if any(n % 2 ** LEVELS for n in shape):
            raise ValueError(f"TunedWaveletPrior: the undecimated transform needs image sizes "
                             f"that are multiples of {2 ** LEVELS}, received {shape}")
        prior = wavelet_prior(shape, lam, wavelet="haar", levels=LEVELS, undecimated=True)
        transform = prior.linear_op
        per_band = [f * (self.weights[LEVELS - b.level] if f else 0.0)
                    for f, b in zip(level_factors(transform), transform.bands)]
        prior.coef_prox = SoftThreshold(lam * transform.expand(per_band))
        prior.lam = lam
        prior.name = prior.name + "-tuned"  # what ran: the level weights are recorded too
        prior.level_weights = self.weights.tolist()
        return prior
