"""Annealed Langevin dynamics for posterior sampling (Song & Ermon 2019; Jalal et al. 2021
for MRI; Ramzi et al. 2020 for uncertainty quantification).

For noise levels ``sigma_1 > ... > sigma_L`` (log-spaced) and ``steps_per_level`` steps at
each, with the step ``alpha = eps (sigma / sigma_L)^2`` (``eps = step_scale * sigma_L^2``,
so that ``alpha = step_scale * sigma^2``)::

    x <- x + alpha / 2 (score(x, sigma) - A^H (A x - y) / (sigma_y^2 + sigma^2))
           + sqrt(alpha) z,        z complex, N(0, 1) real and imaginary parts

The likelihood term is the gradient of ``log p(y | x_sigma)`` for the image smoothed at
level ``sigma``: the smoothing noise reaches the data through ``A`` and adds ``sigma^2`` to
the data's noise variance ``sigma_y^2`` (exactly for a Cartesian single-coil ``A``, whose
rows are orthonormal). The data consistency ``A^H (A x - y)`` is the same gradient FISTA and
the unrolled networks use (``Measurement.gradient``; density-weighted for trajectories). A
last Tweedie step ``x <- D(x, sigma_L)`` removes the smoothing noise left at the last level.
All chains run as one batch.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

__all__ = ["LangevinSchedule", "annealed_langevin"]


@dataclass
class LangevinSchedule:
    """Noise levels (relative to the zero-filled image's maximum) and steps.

    The defaults (160 steps over a narrow range of levels) sample 8 chains of a 256^2
    image in about a minute on 2 CPU cores (``docs/uncertainty.rst`` measures them).
    Chains start from ``start`` (by default plug-and-play at 4x, wavelet FISTA at 8x) plus
    noise of level ``sigma_max``: at a CPU budget, chains started from the zero-filled
    image do not undo its aliasing in time, and chains started at a high level (0.05, an
    earlier default) wander from their start further than 160 steps bring them back, which
    costs their mean PSNR (``benchmarks/posterior.py`` compares the ranges)."""

    sigma_max: float = 0.01
    sigma_min: float = 0.003
    n_levels: int = 4
    steps_per_level: int = 40
    step_scale: float = 0.3

    def __post_init__(self):
        if not 0 < self.sigma_min <= self.sigma_max <= 10:
            raise ValueError(f"noise levels (relative to the image maximum) must satisfy "
                             f"0 < sigma_min <= sigma_max <= 10, received {self.sigma_min}, "
                             f"{self.sigma_max}")
        for name in ("n_levels", "steps_per_level"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                    or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, received {value!r}")
        if not 0 < self.step_scale <= 1:
            raise ValueError(f"step_scale must be in (0, 1], received {self.step_scale}")

    def sigmas(self):
        return np.geomspace(self.sigma_max, self.sigma_min, self.n_levels)

    @property
    def n_steps(self):
        return self.n_levels * self.steps_per_level

    def as_dict(self):
        return asdict(self)


def _complex_noise(shape, generator, device):
    """Drawn on the generator's device, then moved: a CPU generator gives the same chains
    on any device."""
    parts = torch.randn((2,) + tuple(shape), generator=generator, device=generator.device)
    return torch.complex(parts[0], parts[1]).to(device)


def annealed_langevin(score_model, gradient, start, *, n_samples, noise_level, schedule,
                      generator, progress=False):
    """Draw ``n_samples`` chains ``(n_samples, *start.shape)`` (complex).

    ``gradient(x)`` is the data consistency ``A^H (A x - y)`` on a batch; ``start`` the
    image the chains start from; ``noise_level`` the data's noise ``sigma_y`` (same units);
    ``generator`` a seeded ``torch.Generator``."""
    from tqdm.auto import tqdm
    shape = (n_samples,) + tuple(start.shape)
    sigmas = schedule.sigmas()
    x = start.unsqueeze(0).expand(shape) + float(sigmas[0]) * _complex_noise(
        shape, generator, start.device)
    bar = tqdm(total=schedule.n_steps, desc="Langevin", unit="step", disable=not progress)
    with torch.no_grad():
        for sigma in sigmas:
            sigma = float(sigma)
            alpha = schedule.step_scale * sigma ** 2
            weight = 1.0 / (noise_level ** 2 + sigma ** 2)
            for _ in range(schedule.steps_per_level):
                drift = score_model.score(x, sigma) - weight * gradient(x)
                x = x + 0.5 * alpha * drift + math.sqrt(alpha) * _complex_noise(
                    shape, generator, x.device)
                bar.update()
        x = score_model.denoise(x, float(sigmas[-1]))
    bar.close()
    return x
