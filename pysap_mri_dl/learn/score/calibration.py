"""Calibrating the uncertainty maps: a factor on the samples' standard deviation, fitted on
simulated acquisitions of *training* slices, that makes the 90% intervals
``mean +- 1.645 scale std`` cover 90% of the foreground pixels there.

Why a factor is needed: a few chains estimate the standard deviation from few samples, the
Langevin chains are short (they start near a classical image and have not fully
mixed), and the posterior misses errors its model does not know of (the score model's prior
is not the truth). The factor is fitted once, stored in the weights' metadata
(``calibration``) and applied at inference (``sample_posterior(calibrate=True)``); it holds
for the sampler settings it was fitted with (``LangevinSchedule()``, 8 samples and std maps
pooled over ``STD_SMOOTHING`` pixels by default), and the docs report the coverage it gives
on real slices never seen in training.

One factor does not fit every acceleration: the chains' spread grows more slowly than the
error when data are removed (the shipped model's single factor covered 93% at 4x and 76%
at 8x on the real T2 brain). The factor is therefore also fitted per acceleration (the
calibration examples alternate 4x and 8x) and interpolated in the logarithm of the
acceleration at inference (:meth:`~.model.ScoreModel.calibration_at`).

Nor does one factor per acceleration fit every coil count and noise level: the chains'
spread follows the sampler's last noise level more than the case, while the error falls
as coils are added and rises with the data's noise (the shipped model's 4x factor gave
99% coverage on an 8-coil slice). So the factor each example needs (the 90% quantile of
its ``|error| / std`` over 1.645) is also regressed, in logarithms, on the acquisition's
acceleration, coil count and noise level (:data:`FEATURES`, all known at inference), the
intercept then set so that the pooled intervals cover 90% of the examples' pixels; at
inference each feature is clipped to the range the examples spanned.
"""
from __future__ import annotations

import numpy as np

from ...metrics import Z_90, foreground
from ..data.acquisitions import AcquisitionConfig, simulate_example
from .model import FEATURES, calibration_features
from .posterior import DEFAULT_START, STD_SMOOTHING, sample_posterior

__all__ = ["fit_calibration", "calibration_examples", "calibration_features", "FEATURES"]

ACCELERATIONS = (4, 8)


def _regression(features, needed, ratios):
    """Least squares of ``log(needed)`` on ``[1, features]``, the intercept shifted so that
    the pooled ``ratios / predicted factor`` have their 90% quantile at 1.645; None when
    the examples do not determine it (fewer than twice as many examples as coefficients, or
    a feature that does not vary)."""
    features = np.asarray(features, dtype=np.float64)
    design = np.column_stack([np.ones(len(features)), features])
    if len(features) < 2 * design.shape[1] or np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    coefficients = np.linalg.lstsq(design, np.log(needed), rcond=None)[0]
    predicted = np.exp(design @ coefficients)
    shift = np.quantile(np.concatenate([r / f for r, f in zip(ratios, predicted)]), 0.9) / Z_90
    coefficients[0] += np.log(shift)
    return {"features": list(FEATURES), "coefficients": [float(c) for c in coefficients],
            "ranges": [[float(lo), float(hi)]
                       for lo, hi in zip(features.min(0), features.max(0))]}


def calibration_examples(slices, count, *, seed=0, shape=(224, 224)):
    """``count`` simulated Cartesian acquisitions of ``slices`` (1-12 coils, noise
    0.001-0.005, random or equispaced columns: the variety met at inference), alternating
    4x and 8x."""
    return [simulate_example(slices, AcquisitionConfig(
                shape=tuple(shape), coils=(1, 12),
                accelerations=(ACCELERATIONS[i % len(ACCELERATIONS)],)),
                np.random.default_rng([seed, 7, i]))
            for i in range(count)]


def fit_calibration(model, examples, *, n_samples=8, schedule=None, seed=0,
                    std_smoothing=STD_SMOOTHING, start=DEFAULT_START, progress=False):
    """Fit the factor on ``examples`` (:class:`~..data.acquisitions.Example`); returns
    ``{"scale", "per_acceleration", "regression", "per_example", "coverage_raw", "examples",
    "n_samples", "schedule", "std_smoothing", "start"}``
    (``per_acceleration``: ``[acceleration, scale]`` pairs, the examples grouped by their
    rounded effective acceleration; ``regression``: the factor's regression on
    :data:`FEATURES` (None when the examples do not determine it); ``per_example``:
    ``[acceleration, coils, relative noise, factor needed]`` of each example;
    ``coverage_raw``: the coverage of the uncalibrated intervals; ``std_smoothing`` and
    ``start``: the pooling of the std maps and the chains' start it was fitted with)."""
    ratios, raw, groups, table = [], [], {}, []
    used = None
    for i, example in enumerate(examples):
        posterior = sample_posterior(example.kspace, example.mask, n_samples=n_samples,
                                     weights=model, schedule=schedule, calibrate=False,
                                     seed=seed + i, std_smoothing=std_smoothing,
                                     start=start, progress=progress)
        used = posterior.schedule
        inside = foreground(example.reference)
        error = np.abs(posterior.mean - example.reference)[inside]
        std = np.maximum(posterior.std[inside], 1e-12)
        ratios.append(error / std)
        raw.append(np.mean(error <= Z_90 * std))
        acq = posterior.acquisition
        groups.setdefault(round(acq["acceleration"]), []).append(ratios[-1])
        table.append([float(acq["acceleration"]), int(acq["coils"]), acq["relative_noise"],
                      float(np.quantile(ratios[-1], 0.9) / Z_90)])
    if not ratios:
        raise ValueError("fit_calibration needs at least one example")
    scale = float(np.quantile(np.concatenate(ratios), 0.9) / Z_90)
    per_acceleration = [[float(a), float(np.quantile(np.concatenate(r), 0.9) / Z_90)]
                        for a, r in sorted(groups.items())]
    regression = _regression([calibration_features(*row[:3]) for row in table],
                             [row[3] for row in table], ratios)
    return {"scale": scale, "per_acceleration": per_acceleration, "regression": regression,
            "per_example": table,
            "coverage_raw": float(np.mean(raw)), "examples": len(ratios),
            "n_samples": n_samples, "schedule": used, "std_smoothing": float(std_smoothing),
            "start": start}
