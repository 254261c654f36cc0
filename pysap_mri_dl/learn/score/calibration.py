"""Calibrating the uncertainty maps: a factor on the samples' standard deviation, fitted on
simulated acquisitions of *training* slices, that makes the 90% intervals
``mean +- 1.645 scale std`` cover 90% of the foreground pixels there.

Why a factor is needed: a few chains estimate the standard deviation from few samples, the
Langevin chains are short (they start near the wavelet reconstruction and have not fully
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
"""
from __future__ import annotations

import numpy as np

from ...metrics import Z_90, foreground
from ...sampling import acceleration_of
from ..data.acquisitions import AcquisitionConfig, simulate_example
from .posterior import STD_SMOOTHING, sample_posterior

__all__ = ["fit_calibration", "calibration_examples"]

ACCELERATIONS = (4, 8)


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
                    std_smoothing=STD_SMOOTHING, progress=False):
    """Fit the factor on ``examples`` (:class:`~..data.acquisitions.Example`); returns
    ``{"scale", "per_acceleration", "coverage_raw", "examples", "n_samples", "schedule",
    "std_smoothing"}``
    (``per_acceleration``: ``[acceleration, scale]`` pairs, the examples grouped by their
    rounded effective acceleration; ``coverage_raw``: the coverage of the uncalibrated
    intervals; ``std_smoothing``: the pooling of the std maps it was fitted on)."""
    ratios, raw, groups = [], [], {}
    used = None
    for i, example in enumerate(examples):
        posterior = sample_posterior(example.kspace, example.mask, n_samples=n_samples,
                                     weights=model, schedule=schedule, calibrate=False,
                                     seed=seed + i, std_smoothing=std_smoothing,
                                     progress=progress)
        used = posterior.schedule
        inside = foreground(example.reference)
        error = np.abs(posterior.mean - example.reference)[inside]
        std = np.maximum(posterior.std[inside], 1e-12)
        ratios.append(error / std)
        raw.append(np.mean(error <= Z_90 * std))
        groups.setdefault(round(acceleration_of(example.mask)), []).append(ratios[-1])
    if not ratios:
        raise ValueError("fit_calibration needs at least one example")
    scale = float(np.quantile(np.concatenate(ratios), 0.9) / Z_90)
    per_acceleration = [[float(a), float(np.quantile(np.concatenate(r), 0.9) / Z_90)]
                        for a, r in sorted(groups.items())]
    return {"scale": scale, "per_acceleration": per_acceleration,
            "coverage_raw": float(np.mean(raw)), "examples": len(ratios),
            "n_samples": n_samples, "schedule": used, "std_smoothing": float(std_smoothing)}
