"""Data-driven choice of the regularisation weight.

Rule (the same data scaling as BART's ``pics``): take the magnitude of the adjoint
reconstruction ``|A^H y|``, its median ``m``, 90th percentile ``p90`` and maximum ``M``;
the image scale is ``p90`` when the histogram is not dominated by a few bright outliers
(``M - p90 < 2 (p90 - m)``) and ``M`` otherwise. The weight is ``lam = factor * scale``.
Since both the data term and the sparsity term then scale with the data, the same
``factor`` works across scanners, intensity units and matrix sizes. It does not work across
accelerations: fewer data leave more aliasing for the prior to remove, and the best factor
grows with the acceleration (``benchmarks/cartesian_cs.py --acceleration-sweep``). The
default, ``'auto'``, therefore takes it from :data:`LAMBDA_FACTORS` at the effective
acceleration of the Cartesian mask; trajectories (whose acceleration is not a mask's) get
:data:`DEFAULT_LAMBDA_FACTOR`, the 4x value, chosen on the bundled 4-coil brain and checked
on other real images (see the docs).

That rule follows the signal, and the aliasing it leaves; it does not see the noise. On
noisy data (a low-SNR scan, few coils) its weight falls far below what the noise needs and
the reconstruction can end below the zero-filled image. ``'auto'`` therefore also keeps
``lam`` at least :data:`NOISE_LAMBDA_FACTORS` times the k-space noise level estimated from
the corners of the sampled k-space (:func:`noise_lambda`): a floor that binds only on
noisy data (``benchmarks/lambda_noise.py``; see the docs).
"""
from __future__ import annotations

from numbers import Real

import numpy as np

from .._backend import to_numpy
from ..sampling import acceleration_of, by_acceleration

__all__ = ["image_scale", "default_lambda", "data_lambda", "lambda_factor",
           "resolve_lambda_factor", "operator_acceleration", "noise_lambda",
           "DEFAULT_LAMBDA_FACTOR", "LAMBDA_FACTORS", "NOISE_LAMBDA_FACTORS"]

DEFAULT_LAMBDA_FACTOR = 0.001
"""The factor at 4x and wherever the acceleration is unknown (trajectories)."""

LAMBDA_FACTORS = ((4.3, DEFAULT_LAMBDA_FACTOR), (7.0, 0.004))
"""``(effective acceleration, factor)`` anchors of ``lam_factor='auto'``: 0.001 up to 4.3,
0.004 from 7.0, geometric in between. At 8x, 0.004 is within 0.31 dB of the best of
0.0005-0.008 on the seven cases of ``benchmarks/unrolled.py`` (held-out Colin27 slices,
dipy, the real T2 brain, the pysap T2* slice) and 0.5-3.5 dB above 0.001 (the real T2
brain: 27.04 -> 28.86 dB); at 4x, 0.001 is within 1.15 dB of the best on all seven (within
0.56 dB except on one Colin27 slice). The anchors are those of the plug-and-play noise
level: on the benchmarks' images (224^2 and larger) fastMRI-style 4x column masks reach
4.0-4.3, 8x masks 7.0-8.3; smaller images get coarser masks (a 160^2 8x mask with 4%
centre samples 1/6.4 of k-space) and an interpolated factor."""


NOISE_LAMBDA_FACTORS = ((4.3, 0.10), (7.0, 0.15))
"""``(effective acceleration, kappa)`` anchors of the noise floor ``lam >= kappa * sigma`` of
``lam_factor='auto'`` (``sigma``: the k-space noise level per real and imaginary part):
0.10 up to 4.3, 0.15 from 7.0, geometric in between. Measured with
``benchmarks/lambda_noise.py`` (the four real cases of the benchmarks at 4x and 8x with
complex noise of 0 to 0.04 of the image maximum added, and the bundled raw GRE phantom):
the best ``lam / sigma`` lies between 0.03 and 2 and grows with the noise, while the signal
rule's falls to 0.015-0.068 at the largest noise (0.04); over the 34 rows (noise 0-0.04 and
the GRE phantom) the default with the floor is below the best weight of the sweep by 0.53
dB on average (3.88 at most) instead of 2.18 (12.62). The floor does not apply to an
explicit factor, to ``TunedWaveletPrior`` (its weights were tuned without it) or to
trajectories (no Cartesian mask to estimate the noise from). The
floor does not bind on the benchmarks' cases at 4x and 8x as acquired (the smallest
margin: the real T2 brain at 4x, whose rule is 1.07 times the floor), so their figures
are the rule's."""


def _cartesian_mask(operator):
    """The mask of ``operator``'s Cartesian Fourier part (see :func:`operator_acceleration`),
    or None."""
    mask = getattr(getattr(operator, "fourier", operator), "mask", None)
    if mask is None:
        for part in (getattr(operator, "outer", None), getattr(operator, "inner", None)):
            found = None if part is None else _cartesian_mask(part)
            if found is not None:
                return found
        return None
    mask = to_numpy(mask)
    return mask if np.any(mask) else None


def operator_acceleration(operator):
    """The effective acceleration of the Cartesian mask of ``operator`` (``FFT``, ``SENSE``
    over one, or a composition with one, such as soft-SENSE's ``FFT @ MapSets``), or None
    (trajectories, no mask, an empty mask)."""
    mask = _cartesian_mask(operator)  # sampling weights count where they are non-zero
    return None if mask is None else acceleration_of(np.asarray(to_numpy(mask)) > 0)


def lambda_factor(acceleration=None) -> float:
    """The default factor at ``acceleration`` (k-space locations over sampled ones; None:
    unknown): :data:`LAMBDA_FACTORS` through :func:`~pysap_mri_dl.sampling.by_acceleration`."""
    return by_acceleration(LAMBDA_FACTORS, acceleration)


def resolve_lambda_factor(factor, operator):
    """``factor``, or for ``'auto'`` (or None) :func:`lambda_factor` at ``operator``'s mask."""
    if factor is None:
        factor = "auto"
    if isinstance(factor, str):
        if factor != "auto":
            raise ValueError(f"lam_factor must be 'auto' or a number > 0, received {factor!r}")
        return lambda_factor(operator_acceleration(operator))
    if isinstance(factor, (bool, np.bool_)) or not isinstance(factor, Real) \
            or not 0 < factor < float("inf"):
        raise ValueError(f"lam_factor must be 'auto' or a finite number > 0, received {factor!r}")
    return float(factor)


def image_scale(adjoint_image) -> float:
    """BART-style robust scale of an image (see module docstring)."""
    magnitude = np.abs(to_numpy(adjoint_image)).ravel()
    median, p90, peak = np.percentile(magnitude, [50, 90, 100])
    scale = p90 if (peak - p90) < 2 * (p90 - median) else peak
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError("cannot scale the regularisation: the adjoint image is zero or not finite")
    return float(scale)


def default_lambda(adjoint_image, *, factor=DEFAULT_LAMBDA_FACTOR) -> float:
    """``factor * image_scale(adjoint_image)``."""
    return factor * image_scale(adjoint_image)


def noise_lambda(operator, kspace) -> float:
    """The noise floor of ``lam_factor='auto'``: kappa (:data:`NOISE_LAMBDA_FACTORS`, at the
    mask's acceleration) times the noise level of ``kspace`` estimated from the corners of
    the sampled k-space (:func:`~pysap_mri_dl.calibration.kspace_noise_level`); 0.0 without
    a Cartesian mask (trajectories) or without noise there (noise-free simulations)."""
    from ..calibration import kspace_noise_level
    mask = _cartesian_mask(operator)
    if mask is None:
        return 0.0
    sigma = kspace_noise_level(to_numpy(kspace), mask, ndim=mask.ndim)
    return by_acceleration(NOISE_LAMBDA_FACTORS, operator_acceleration(operator)) * sigma


def data_lambda(operator, kspace, factor="auto", *, noise_floor=True) -> float:
    """The rule's weight for the data ``kspace`` of ``operator``: ``factor`` (``'auto'``:
    by the operator's mask, :func:`resolve_lambda_factor`) times the scale of ``A^H y``;
    with ``'auto'`` (or None) and ``noise_floor``, at least :func:`noise_lambda`."""
    rule = default_lambda(operator._adj_op(kspace),
                          factor=resolve_lambda_factor(factor, operator))
    if noise_floor and (factor is None or isinstance(factor, str)):
        return max(rule, noise_lambda(operator, kspace))
    return rule
