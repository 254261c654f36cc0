"""Calibrationless multi-coil reconstruction: no sensitivity maps, the coil images are
reconstructed jointly with a prior that couples them (group lasso or OWL across coils on
their wavelet coefficients), then combined by root sum of squares."""
from __future__ import annotations

import time

import numpy as np

from .._backend import is_torch
from ..calibration import rss
from ..operators import FFT, Wavelet
from ..prox import OWL, GroupLasso

from .cartesian import _common, zero_filled
from .core import Reconstruction, solve
from .priors import DEFAULT_WAVELET, SparsePrior
from .regularisation import data_lambda

__all__ = ["reconstruct_calibrationless", "COUPLINGS"]

COUPLINGS = ("group-lasso", "owl")


def _coupled_prior(coupling, shape, n_coils, lam, wavelet, levels, owl_slope, seed):
    transform = Wavelet(shape, wavelet=wavelet, levels=levels)
    band = transform.detail_weights(1.0, approx=0.0)  # (n_coeffs,): coarse band free
    if coupling == "group-lasso":
        coef_prox = GroupLasso(lam * band, axis=-2)  # coefficients (coils, n_coeffs)
    elif coupling == "owl":
        if not 0 <= owl_slope <= 1:
            raise ValueError(f"owl_slope must be in [0, 1], received {owl_slope}")
        ranks = np.linspace(1.0, 1.0 - owl_slope, n_coils)
        coef_prox = _BandMaskedOWL(lam * ranks, band)
    else:
        raise ValueError(f"coupling must be one of {COUPLINGS}, received {coupling!r}")
    return SparsePrior(transform, coef_prox, cycle_spin=2 ** levels, seed=seed,
                       name=f"{coupling}-{wavelet}-{levels}")


class _BandMaskedOWL(OWL):
    """OWL across coils on the detail coefficients, identity on the coarse band."""

    def __init__(self, weights, band):
        super().__init__(weights, axis=-2)
        self.band = band > 0

    def prox(self, x, step):
        band = self._consts.get("band", self.band, x)
        out = x.clone() if is_torch(x) else x.copy()
        out[..., band] = super().prox(x[..., band], step)
        return out

    def cost(self, x) -> float:
        return super().cost(x[..., self.band])


def reconstruct_calibrationless(kspace, mask=None, *, coupling="group-lasso", lam=None,
                                lam_factor="auto", wavelet=DEFAULT_WAVELET, levels=4,
                                owl_slope=0.5, algorithm="fista", n_iter=100, tol=None,
                                callback=None, track_cost=False, progress=False, seed=0):
    """Joint reconstruction of the coil images of ``kspace`` ``(n_coils, ny, nx)``.

    Solves ``argmin_X 1/2 sum_c ||M F x_c - y_c||^2 + lam R(W X)`` where ``R`` is the sum over
    wavelet coefficients of the l2 norm across coils (``coupling='group-lasso'``) or the
    ordered weighted l1 norm across coils (``'owl'``, weights decreasing linearly from 1 to
    ``1 - owl_slope``). The image is the RSS of the coil images (``Reconstruction.image``, the
    kind of ``kspace``); the coil images are in ``Reconstruction.optim.x``.
    """
    start = time.perf_counter()
    if kspace.ndim != 3:
        raise ValueError(f"kspace must have shape (n_coils, ny, nx), received {tuple(kspace.shape)}")
    shape, mask, masked = _common(kspace, mask)
    n_coils = kspace.shape[0]
    operator = FFT(shape, mask=mask, n_coils=n_coils)
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {COUPLINGS}, received {coupling!r}")
    if lam is None:
        # no noise floor: measured for the map-based and single-coil reconstructions (one
        # image), not for the coupled coil images
        lam = data_lambda(operator, masked, lam_factor, noise_floor=False)
    prior = _coupled_prior(coupling, shape, n_coils, lam, wavelet, levels, owl_slope, seed)
    coils, lam, algo, prior_name, result = solve(
        operator, masked, (n_coils,) + shape, prior=prior, lam=lam, lam_factor=lam_factor,
        wavelet=wavelet, levels=levels, undecimated=False, cycle_spin=True,
        formulation="analysis", algorithm=algorithm, n_iter=n_iter, tol=tol, callback=callback,
        track_cost=track_cost, progress=progress, seed=seed)
    image = rss(coils)
    return Reconstruction(image, zero_filled(masked), lam, algo, prior_name, result,
                          time.perf_counter() - start)
