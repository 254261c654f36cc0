"""Priors the reconstructors understand: a sparsifying transform with a coefficient prox,
or any ready-made prox (a learned denoiser, a user's own)."""
from __future__ import annotations

from dataclasses import dataclass

from ..operators import Identity, Wavelet
from ..prox import Analysis, CycleSpin, SoftThreshold

__all__ = ["SparsePrior", "wavelet_prior", "identity_prior", "DEFAULT_WAVELET"]

DEFAULT_WAVELET = "haar"
"""The wavelet of every reconstructor's default prior (with random shifts at each prox call);
chosen on four real cases against sym8, db2-db4 and BART's defaults
(``docs/regularisation.rst``, ``benchmarks/cartesian_cs.py``)."""


@dataclass
class SparsePrior:
    """``R(x) = h(W x)``: a linear transform ``W`` and the prox of ``h`` on its coefficients.

    ``as_prox()`` gives the prox used by forward-backward algorithms (exact for orthonormal
    ``W``, shrinkage for a tight frame such as a padded decimated transform; with
    ``cycle_spin`` a random circular shift each call); primal-dual uses
    ``linear_op`` and ``coef_prox`` directly.
    """

    linear_op: object
    coef_prox: object
    cycle_spin: int = 0
    seed: int | None = 0
    name: str = "sparse"

    def as_prox(self):
        prox = Analysis(self.linear_op, self.coef_prox)
        if self.cycle_spin:
            prox = CycleSpin(prox, ndim=len(self.linear_op.shape_in), max_shift=self.cycle_spin,
                             seed=self.seed)
        return prox


def wavelet_prior(shape, lam, *, wavelet=DEFAULT_WAVELET, levels=4, undecimated=False,
                  cycle_spin=True, threshold_approx=False, seed=0):
    """Wavelet l1 prior ``lam * sum |W x|`` on detail bands (the coarse band is left
    unthresholded unless ``threshold_approx``). ``cycle_spin`` (decimated only) shifts the
    image randomly by up to ``2**levels`` pixels at each prox call."""
    transform = Wavelet(shape, wavelet=wavelet, levels=levels, undecimated=undecimated)
    weights = transform.detail_weights(1.0, approx=1.0 if threshold_approx else 0.0)
    prox = SoftThreshold(lam * weights)
    spin = 2 ** levels if (cycle_spin and not undecimated) else 0
    label = f"wavelet-{wavelet}-{levels}{'-undecimated' if undecimated else ''}"
    return SparsePrior(transform, prox, cycle_spin=spin, seed=seed, name=label)


def identity_prior(shape, prox, *, name="custom"):
    """Wrap a ready-made image-domain prox as a prior (no transform)."""
    return SparsePrior(Identity(shape), prox, name=name)

