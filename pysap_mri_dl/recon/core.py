"""The pipeline every reconstructor shares: choose lambda, build the prior, run a solver
(analysis or synthesis formulation) with a progress bar, and package the result."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..optim import LeastSquares, OptimResult

from .priors import DEFAULT_WAVELET, SparsePrior, identity_prior, wavelet_prior
from .regularisation import data_lambda
from .solvers import get_solver

__all__ = ["Reconstruction", "solve", "OTHER_STEPS"]

OTHER_STEPS = ("pogm", "primal-dual")
"""Built-in solvers whose prox steps are not the fixed 1/L of ISTA/FISTA: a prior built for
that step (``forward_backward_step``, e.g. a learned denoiser, whose noise level follows the
step) is refused under them."""


@dataclass
class Reconstruction:
    """What a reconstructor returns."""

    image: object                 # complex image (same array kind as the k-space)
    zero_filled: np.ndarray       # magnitude of the zero-filled (Cartesian) or density-
                                  # compensated adjoint (non-Cartesian) image, RSS over coils
    lam: float
    algorithm: str
    prior: str
    optim: OptimResult
    seconds: float                # total, calibration included
    smaps: object = None

    @property
    def cost(self):
        return self.optim.cost

    @property
    def n_iter(self):
        return self.optim.n_iter

    @property
    def seconds_per_iter(self):
        return self.optim.seconds / max(self.optim.n_iter, 1)


def _make_prior(prior, shape, lam, wavelet, levels, undecimated, cycle_spin, seed):
    if prior is None or prior == "wavelet":
        return wavelet_prior(shape, lam, wavelet=wavelet, levels=levels,
                             undecimated=undecimated, cycle_spin=cycle_spin, seed=seed)
    if isinstance(prior, SparsePrior):
        return prior
    if hasattr(prior, "prox"):
        return identity_prior(shape, prior, name=getattr(prior, "name", None)
                              or type(prior).__name__)
    raise ValueError(f"prior must be 'wavelet', a SparsePrior, an object with prox(x, step) "
                     f"or with build(operator, kspace) (e.g. learn.learned_prior), received "
                     f"{prior!r}")


def solve(operator, kspace, shape, *, prior, lam, lam_factor, wavelet, levels, undecimated,
           cycle_spin, formulation, algorithm, n_iter, tol, callback, track_cost, progress,
           seed):
    if formulation not in ("analysis", "synthesis"):
        raise ValueError(f"formulation must be 'analysis' or 'synthesis', received {formulation!r}")
    solve = get_solver(algorithm)
    name = algorithm if isinstance(algorithm, str) else getattr(algorithm, "__name__", "custom")
    default_prior = prior is None or (isinstance(prior, str) and prior == "wavelet")
    if lam is not None and not 0 <= lam < float("inf"):
        raise ValueError(f"lam must be a finite number >= 0, received {lam}")
    if default_prior and lam is not None and lam_factor not in (None, "auto"):
        raise ValueError("lam and lam_factor are exclusive: lam_factor scales the data-driven "
                         "rule that lam replaces")
    if isinstance(prior, SparsePrior):  # thresholds set by the caller, who may label them
        lam = float("nan") if lam is None else lam
    elif not default_prior:
        # lambda is the default wavelet prior's: another prior carries its own strength
        if lam is not None or lam_factor not in (None, "auto"):
            given = "lam" if lam is not None else "lam_factor"
            raise ValueError(f"{given} applies to the default wavelet prior; this prior "
                             f"({type(prior).__name__}) sets its own strength (a learned "
                             "prior: its sigma; TunedWaveletPrior: its lam_factor)")
        given = [name for name, value, default in (("wavelet", wavelet, DEFAULT_WAVELET),
                                                   ("levels", levels, 4),
                                                   ("undecimated", undecimated, False))
                 if value is not None and value != default]
        if given:
            raise ValueError(f"{', '.join(given)} set the default wavelet prior; this prior "
                             f"({type(prior).__name__}) has its own transform")
        required = getattr(prior, "formulation", None)
        if required is not None and formulation != required:
            raise ValueError(f"formulation={formulation!r}: this prior "
                             f"({type(prior).__name__}) is the {required} problem it was "
                             "tuned in")
        if hasattr(prior, "build"):  # a prior built from the data (e.g. a learned prox)
            prior = prior.build(operator, kspace)
        if getattr(prior, "forward_backward_step", None) is not None \
                and any(solve is get_solver(other) for other in OTHER_STEPS):
            raise ValueError(f"algorithm {name!r}: this prior ({type(prior).__name__}) runs "
                             f"at the step 1/L that ista and fista take (a learned "
                             "denoiser's noise level follows the step), not at the steps "
                             f"{name} takes")
        lam = float(getattr(prior, "lam", float("nan")))
    elif lam is None:
        lam = data_lambda(operator, kspace, lam_factor)
    spin = cycle_spin and formulation == "analysis"
    sparse = _make_prior(prior, shape, lam, wavelet, levels, undecimated, spin, seed)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n_iter, desc=f"{name}", unit="it", leave=False)

    def monitor(iteration, state):
        if bar is not None:
            bar.update(1)
        return bool(callback(iteration, state)) if callback is not None else False

    try:
        if formulation == "analysis":
            data = LeastSquares(operator, kspace)
            result = solve(data, sparse, n_iter=n_iter, tol=tol, callback=monitor,
                           track_cost=track_cost)
            image = result.x
        else:
            transform = sparse.linear_op
            synthesis = operator @ transform.H
            data = LeastSquares(synthesis, kspace)
            coef_prior = identity_prior(transform.shape_out, sparse.coef_prox, name=sparse.name)
            result = solve(data, coef_prior, n_iter=n_iter, tol=tol, callback=monitor,
                           track_cost=track_cost)
            image = transform._adj_op(result.x)
    finally:
        if bar is not None:
            bar.close()
    return image, lam, name, sparse.name, result


