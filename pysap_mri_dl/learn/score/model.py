"""The score of the noise-smoothed prior from a noise-conditional denoiser (Tweedie).

For an image ``x`` and Gaussian noise of standard deviation ``sigma`` per real and imaginary
part, the minimum-mean-square-error denoiser ``D`` satisfies
``D(x, sigma) = x + sigma^2 grad log p_sigma(x)``, so a denoiser trained on noisy images
gives the score ``(D(x, sigma) - x) / sigma^2`` of the prior smoothed at that level.
:class:`ScoreModel` wraps any of the package's denoisers (complex images as real and
imaginary channels at the network's boundary) with the noise range it was trained on and the
calibration of its posterior intervals.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..denoisers.cnn import apply_denoiser, move_denoiser

__all__ = ["ScoreModel", "load_score_model", "calibration_features", "FEATURES"]

FEATURES = ("log_acceleration", "log_coils", "log_noise")
"""What the factor is regressed on: the mask's effective acceleration, the number of coils
and the data's noise level relative to the zero-filled image's maximum (logarithms)."""

NOISE_FLOOR = 1e-5
"""Noise levels below this (noise-free simulated data) count as this in the regression."""


def calibration_features(acceleration, coils, noise):
    """The regression's features (:data:`FEATURES`) of one acquisition."""
    return np.log([float(acceleration), float(coils), max(float(noise), NOISE_FLOOR)])


@dataclass
class ScoreModel:
    """``denoiser`` (``denoiser(x, sigma)`` on ``(N, C, H, W)``), the ``sigma_range`` it was
    trained on (relative to the image maximum), ``calibration`` (the factor fitted on
    training slices that makes posterior 90% intervals cover 90%; 1.0 when not fitted) and
    the weights' metadata; ``per_acceleration``: ``(acceleration, factor)`` pairs fitted per
    acceleration (empty when not fitted: ``calibration`` everywhere); ``regression``: the
    factor's regression on :data:`FEATURES` (:func:`.calibration.fit_calibration`; None
    when not fitted)."""

    denoiser: torch.nn.Module
    sigma_range: tuple = (0.0, 0.1)
    calibration: float = 1.0
    meta: dict | None = None
    per_acceleration: tuple = ()
    regression: dict | None = None

    def calibration_at(self, acceleration=None, coils=None, relative_noise=None):
        """The calibration factor of an acquisition. With its ``acceleration``, ``coils``
        and ``relative_noise`` (:attr:`.posterior.Posterior.acquisition`) and a fitted
        regression: the regression's factor, each feature clipped to the range it was
        fitted on. Otherwise, at ``acceleration``
        (Cartesian; None: the overall factor): linear in the logarithm of the acceleration
        between the factors fitted per acceleration, constant beyond them."""
        if self.regression and None not in (acceleration, coils, relative_noise):
            features = calibration_features(acceleration, coils, relative_noise)
            low, high = np.asarray(self.regression["ranges"], dtype=np.float64).T
            intercept, *slopes = self.regression["coefficients"]
            return float(np.exp(intercept + np.dot(slopes, np.clip(features, low, high))))
        if acceleration is None or not self.per_acceleration:
            return self.calibration
        points = np.log([a for a, _ in self.per_acceleration])
        return float(np.interp(np.log(acceleration), points,
                               [f for _, f in self.per_acceleration]))

    def denoise(self, x, sigma):
        """Denoise complex images ``x`` ``(B, H, W)`` at noise level ``sigma`` (a float)."""
        parts = torch.stack([x.real, x.imag], 1).to(torch.float32)
        move_denoiser(self.denoiser, x.device)
        noise = torch.full((x.shape[0],), float(sigma), device=x.device)
        out = apply_denoiser(self.denoiser, parts, noise)
        return torch.complex(out[:, 0], out[:, 1])

    def score(self, x, sigma):
        """``grad log p_sigma(x) = (D(x, sigma) - x) / sigma^2`` for complex ``(B, H, W)``."""
        return (self.denoise(x, sigma) - x) / sigma ** 2


def load_score_model(weights=None):
    """The shipped score model (``weights=None``), a shipped denoiser by name
    (``'learnlet'``, ``'learnlet-untied'``, ..., as :func:`~..denoisers.learned_prior`
    takes them) or the denoiser file ``weights``: any denoiser trained by this package is
    a score model over the noise levels it saw (a file trained by ``train --model score``
    also carries its calibration)."""
    from ..weights import PRETRAINED, load_denoiser, pretrained_path
    if weights is None or (isinstance(weights, str) and weights in PRETRAINED):
        path = pretrained_path("score" if weights is None else weights)
    else:
        path = weights
    denoiser, meta = load_denoiser(path)
    for parameter in denoiser.parameters():
        parameter.requires_grad_(False)
    low, high = meta.get("sigma_range", (0.0, 0.1))
    calibration = meta.get("calibration", {})
    return ScoreModel(denoiser, (float(low), float(high)), float(calibration.get("scale", 1.0)),
                      meta, tuple((float(a), float(f))
                                  for a, f in calibration.get("per_acceleration", ())),
                      calibration.get("regression"))
