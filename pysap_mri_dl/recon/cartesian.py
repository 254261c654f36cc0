"""Cartesian reconstructors: single-coil and SENSE, synthesis or analysis formulation."""
from __future__ import annotations

import time

import numpy as np

from .._backend import all_finite, array_kind, same_kind, to_numpy
from .._fourier import ifftn_centered
from ..calibration import rss, self_calibrated_smaps
from ..operators import FFT, SENSE, MapSets
from ..data.validation import check_cartesian_axes
from ..sampling import as_binary_mask

from .core import Reconstruction, solve
from .priors import DEFAULT_WAVELET

__all__ = ["Reconstruction", "reconstruct_single_coil", "reconstruct_sense", "zero_filled"]


def zero_filled(kspace, ndim=2):
    """RSS (or magnitude, single coil) of the inverse FFT of zero-filled k-space."""
    images = to_numpy(ifftn_centered(kspace, ndim))
    return rss(images) if images.ndim > ndim else np.abs(images)


def _check_kspace_mask(kspace, mask, n_spatial=2):
    if array_kind(kspace) == "numpy" and not np.iscomplexobj(kspace) and not np.issubdtype(
            np.asarray(kspace).dtype, np.floating):
        raise TypeError(f"kspace must be complex, received dtype {kspace.dtype}")
    if kspace.ndim < n_spatial:
        raise ValueError(f"kspace must have at least {n_spatial} axes, received shape {tuple(kspace.shape)}")
    if not all_finite(kspace):
        raise ValueError("kspace contains NaN or Inf values")
    shape = tuple(kspace.shape[-n_spatial:])
    if n_spatial == 2 and kspace.ndim <= 3:
        check_cartesian_axes(kspace.shape)
    if mask is None:
        mask = np.abs(to_numpy(kspace)).reshape((-1,) + shape).max(0) > 0
    mask = as_binary_mask(mask, shape)  # NumPy or any kind: a sampling pattern, converted
    if not mask.any():
        raise ValueError("mask samples no k-space location")
    return shape, mask


def _common(kspace, mask, n_spatial=2):
    shape, mask = _check_kspace_mask(kspace, mask, n_spatial)
    return shape, mask, kspace * same_kind(mask, kspace)


def reconstruct_single_coil(kspace, mask=None, *, prior="wavelet", lam=None,
                            lam_factor="auto", wavelet=DEFAULT_WAVELET, levels=4,
                            undecimated=False, cycle_spin=True, formulation="analysis",
                            algorithm="fista", n_iter=100, tol=None, callback=None,
                            track_cost=False, progress=False, seed=0):
    """Compressed-sensing reconstruction of single-coil Cartesian k-space.

    Solves ``argmin_x 1/2 ||M F x - y||^2 + lam ||W x||_1`` (analysis) or its synthesis
    counterpart over wavelet coefficients.

    Parameters
    ----------
    kspace : array ``(ny, nx)`` complex
        Centred k-space, zeros (or anything: it is masked) at unsampled locations.
    mask : array ``(ny, nx)`` bool, optional
        Sampling mask; default: where ``kspace`` is non-zero.
    prior : 'wavelet', a SparsePrior, or any object with ``prox(x, step)``
        The regulariser; a learned prox plugs in here.
    lam : float, optional
        Regularisation weight; default: the data-driven rule of
        :mod:`pysap_mri_dl.recon.regularisation` with ``lam_factor``.
    lam_factor : 'auto' or float
        Factor of that rule; 'auto' (default) takes it from the mask's effective
        acceleration (:func:`~pysap_mri_dl.recon.regularisation.lambda_factor`: 0.001 at
        4x, 0.004 at 8x).
    wavelet, levels, undecimated, cycle_spin : wavelet prior options (errors with another
        prior, except ``cycle_spin``: random shifts at each prox call, analysis formulation
        only; the synthesis formulation has none).
    formulation : 'analysis' or 'synthesis'.
    algorithm : 'fista', 'pogm', 'ista', 'primal-dual' or a callable solver.
    n_iter, tol, callback, track_cost : passed to the algorithm.
    progress : bool
        Show a progress bar on the iterations.

    Returns
    -------
    Reconstruction
    """
    start = time.perf_counter()
    options = dict(prior=prior, lam=lam, lam_factor=lam_factor, wavelet=wavelet, levels=levels,
                   undecimated=undecimated, cycle_spin=cycle_spin, formulation=formulation,
                   algorithm=algorithm, n_iter=n_iter, tol=tol, callback=callback,
                   track_cost=track_cost, progress=progress, seed=seed)
    shape, mask, masked = _common(kspace, mask)
    if kspace.ndim != 2:
        raise ValueError(f"kspace must have shape (ny, nx) for a single coil, received {tuple(kspace.shape)}")
    operator = FFT(shape, mask=mask)
    image, lam, algo, prior_name, result = solve(operator, masked, shape, **options)
    return Reconstruction(image, zero_filled(masked), lam, algo, prior_name, result,
                          time.perf_counter() - start)


def reconstruct_sense(kspace, mask=None, *, smaps="auto", prior="wavelet", lam=None,
                      lam_factor="auto", wavelet=DEFAULT_WAVELET, levels=4,
                      undecimated=False, cycle_spin=True, formulation="analysis",
                      algorithm="fista", n_iter=100, tol=None, callback=None, track_cost=False,
                      progress=False, seed=0):
    """SENSE compressed-sensing reconstruction of multi-coil Cartesian k-space.

    ``kspace`` has shape ``(n_coils, ny, nx)``. ``smaps`` is ``'auto'`` (self-calibrated
    from the fully sampled centre of the mask) or an array ``(n_coils, ny, nx)`` of the same
    array kind as ``kspace``, or several map sets ``(n_sets, n_coils, ny, nx)`` (soft-SENSE,
    e.g. ``espirit(..., n_maps=2)``): then one image per set is reconstructed (in
    ``optim.x``) and ``image`` is their root sum of squares. Other parameters as in
    :func:`reconstruct_single_coil`.
    """
    start = time.perf_counter()
    options = dict(prior=prior, lam=lam, lam_factor=lam_factor, wavelet=wavelet, levels=levels,
                   undecimated=undecimated, cycle_spin=cycle_spin, formulation=formulation,
                   algorithm=algorithm, n_iter=n_iter, tol=tol, callback=callback,
                   track_cost=track_cost, progress=progress, seed=seed)
    if kspace.ndim != 3:
        raise ValueError(f"kspace must have shape (n_coils, ny, nx), received {tuple(kspace.shape)}")
    shape, mask, masked = _common(kspace, mask)
    n_coils = kspace.shape[0]
    if isinstance(smaps, str):
        if smaps != "auto":
            raise ValueError(f"smaps must be 'auto' or an array, received {smaps!r}")
        maps = same_kind(self_calibrated_smaps(to_numpy(masked), mask=mask), kspace)
    else:
        maps = smaps
        lead = 1 if maps.ndim == 4 else 0  # soft-SENSE: (n_sets, n_coils, ny, nx)
        if tuple(maps.shape[lead:]) != (n_coils,) + shape:
            raise ValueError(f"smaps must have shape {(n_coils,) + shape} (or (n_sets, "
                             f"{n_coils}, *{shape}) for several map sets) to match kspace "
                             f"{tuple(kspace.shape)}, received {tuple(maps.shape)}")
        if not all_finite(maps):
            raise ValueError("smaps contains NaN or Inf values")
    if maps.ndim == 4:
        operator = FFT(shape, mask=mask, n_coils=n_coils) @ MapSets(maps)
        # the prior acts on each set's image (its transforms batch over the set axis)
        sets, lam, algo, prior_name, result = solve(operator, masked, shape, **options)
        image = (abs(sets) ** 2).sum(0) ** 0.5  # root sum of squares over the map sets
    else:
        operator = SENSE(maps, mask=mask)
        image, lam, algo, prior_name, result = solve(operator, masked, shape, **options)
    return Reconstruction(image, zero_filled(masked), lam, algo, prior_name, result,
                          time.perf_counter() - start, smaps=maps)



