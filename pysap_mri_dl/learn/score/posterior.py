"""Posterior sampling in one call, beside ``reconstruct_sense`` and ``reconstruct_network``:
samples of ``p(x | y)`` for any of the package's forward models, their mean and a standard
deviation map (the uncertainty map, pooled over one pixel by default)."""
from __future__ import annotations

import time
from numbers import Real
from dataclasses import dataclass, field

import numpy as np
import torch

from ..._backend import check_same_kind, to_numpy
from ...recon.cartesian import zero_filled as cartesian_zero_filled
from ..unrolled.models import START_IMAGES, start_image
from ..unrolled.physics import (cartesian_measurement, check_sampling_arguments,
                                noncartesian_measurement)
from .langevin import LangevinSchedule, annealed_langevin
from .model import ScoreModel, load_score_model

__all__ = ["Posterior", "sample_posterior", "pooled_std", "posterior_start", "START_IMAGES",
           "STD_SMOOTHING"]

DEFAULT_START = "auto"
"""Where the chains start by default (:func:`sample_posterior`'s ``start``):
:func:`posterior_start` at the mask's acceleration."""

WAVELET_START_FROM = 5.5
"""Effective acceleration from which ``start='auto'`` is wavelet FISTA instead of
plug-and-play (the geometric middle of the 4x and 8x anchors of the two defaults)."""

START_ITERATIONS = {"zero-filled": 1, "wavelet": 100, "pnp": 200}
"""Iterations of the algorithm the chains start from (wavelet or plug-and-play FISTA)."""

STD_SMOOTHING = 1.0
"""Width (pixels) of the Gaussian window over which the samples' variance is pooled."""


@dataclass
class Posterior:
    """What :func:`sample_posterior` returns, in the units of the data (NumPy).

    ``mean``: the magnitude of the posterior mean of the complex image (the
    reconstruction; the mean of the magnitudes would carry the Rician bias of the samples'
    residual noise; ``benchmarks/posterior.py`` prints both); ``std``: the standard
    deviation of the magnitude over the samples, pooled over ``std_smoothing`` pixels
    (:func:`pooled_std`), times ``calibration``;
    ``samples``: the complex samples ``(K, *shape)``; ``zero_filled``; ``noise_level``: the
    data's noise standard deviation used (estimated unless given); ``seconds``;
    ``acquisition``: what the calibration is a function of (``acceleration``, None for
    trajectories; ``coils``; ``relative_noise``, the noise level over the zero-filled
    maximum); ``start``: the image the chains started from (``'auto'`` resolved)."""

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray
    zero_filled: np.ndarray
    noise_level: float
    calibration: float
    seconds: float
    schedule: dict = field(default_factory=dict)
    sampling_seconds: float = 0.0  # the chains alone (not the start or the model's loading)
    std_smoothing: float = STD_SMOOTHING
    acquisition: dict = field(default_factory=dict)
    start: str = DEFAULT_START

    @property
    def image(self):
        """The posterior mean (the reconstruction's name across the package)."""
        return self.mean


def _check_samples(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or n_samples < 2:
        raise ValueError(f"n_samples (--posterior-samples) must be an integer >= 2 (a standard "
                         f"deviation needs two samples), received {n_samples!r}")


MAX_STD_SMOOTHING = 64
"""The widest pooling window (pixels): a Gaussian that wide averages a whole slice."""


def _check_smoothing(std_smoothing):
    if isinstance(std_smoothing, bool) or not isinstance(std_smoothing, Real) \
            or not 0 <= std_smoothing <= MAX_STD_SMOOTHING:
        raise ValueError(f"std_smoothing must be a number of pixels in [0, "
                         f"{MAX_STD_SMOOTHING}] (wider is a constant map), received "
                         f"{std_smoothing!r}")


def pooled_std(magnitudes, std_smoothing=STD_SMOOTHING):
    """The standard deviation over the first axis of ``magnitudes`` ``(K, *shape)``, its
    variance averaged over a Gaussian window of ``std_smoothing`` pixels (0: per pixel).

    With K = 8 chains a per-pixel variance has 7 degrees of freedom (a relative error of
    about 27% on the std), which scatters the map's ranks; pooling each pixel's variance
    with its neighbours' (where the posterior's spread varies slowly) lowers that noise.
    One pixel raised the rank correlation between std and error by 0.04-0.05 on every real
    case of ``benchmarks/posterior.py`` (``docs/uncertainty.rst``)."""
    from scipy.ndimage import gaussian_filter
    _check_smoothing(std_smoothing)
    magnitudes = to_numpy(magnitudes)
    if magnitudes.ndim < 2 or magnitudes.shape[0] < 2:
        raise ValueError(f"pooled_std needs magnitudes (K, *shape) of K >= 2 samples, "
                         f"received shape {magnitudes.shape}")
    variance = np.var(magnitudes, axis=0, ddof=1)
    if std_smoothing:
        variance = gaussian_filter(variance, float(std_smoothing), mode="nearest")
    return np.sqrt(np.maximum(variance, 0))


def posterior_start(acceleration):
    """The start of ``start='auto'``: the classical reconstruction that is better at
    ``acceleration`` (None: trajectories). Plug-and-play with the Learnlet below
    :data:`WAVELET_START_FROM` (at 4x it is above wavelet FISTA on every real case), wavelet
    FISTA from there (at 8x, with its 8x lambda factor, wavelet FISTA is above plug-and-play
    at its default noise level on all seven cases of the sweeps in
    ``docs/learned_priors.rst``, and the chains started
    from it end above those started from plug-and-play on the real T2 brain, with a std map
    that follows the error better: ``docs/uncertainty.rst``)."""
    from ...sampling import check_acceleration
    if acceleration is not None and check_acceleration(acceleration) >= WAVELET_START_FROM:
        return "wavelet"
    return "pnp"


def _measurement(data, mask, smaps, trajectory, shape, density):
    from ...calibration import kspace_noise_level, trajectory_noise_level
    check_sampling_arguments(trajectory, mask, shape, density)
    if trajectory is None:
        if mask is None:
            mask = np.abs(data).reshape((-1,) + data.shape[-2:]).max(0) > 0
        m = cartesian_measurement(data, to_numpy(mask), smaps=smaps)
        noise = kspace_noise_level(data * m.mask, m.mask, ndim=2)
        return m, noise, cartesian_zero_filled(data * m.mask)
    if shape is None:
        raise ValueError("shape is needed with a trajectory")
    if len(tuple(shape)) != 2:
        raise ValueError(f"posterior sampling needs 2D images (the score model is 2D), "
                         f"received shape {tuple(shape)}")
    trajectory = to_numpy(trajectory)
    m = noncartesian_measurement(data, trajectory, shape, smaps=smaps, density=density)
    noise = trajectory_noise_level(data, trajectory)
    return m, noise, np.abs(m.zero_filled().cpu().numpy()) * m.scale


def sample_posterior(kspace, mask=None, *, n_samples=8, weights=None, smaps="auto",
                     trajectory=None, shape=None, density="auto", noise_level=None,
                     schedule=None, start=DEFAULT_START, calibrate=True, seed=0,
                     std_smoothing=STD_SMOOTHING, progress=False):
    """Draw ``n_samples`` samples of the posterior of the image given k-space by annealed
    Langevin dynamics (:mod:`.langevin`) with the shipped score model (or the denoiser file
    ``weights``, or a :class:`~.model.ScoreModel`); returns a :class:`Posterior`.

    The data: Cartesian ``kspace`` ``([coils,] ny, nx)`` with ``mask`` (default: the
    non-zero samples) and maps self-calibrated (``smaps='auto'``) or given, or
    non-Cartesian ``kspace`` ``([coils,] n_samples)`` on ``trajectory`` with ``shape``
    (2D) and ``density``; NumPy or torch. ``noise_level``: the standard deviation of the
    k-space noise (per real and imaginary part, in the data's units); estimated from the
    outer k-space when None. ``schedule``: a :class:`~.langevin.LangevinSchedule`.
    ``start``: 'auto' (the default, :func:`posterior_start`: 'pnp' below 5.5x, 'wavelet'
    from there), 'pnp' (chains start from 200 iterations of plug-and-play FISTA with the
    shipped Learnlet at its default noise level), 'wavelet' (100 iterations of the default
    wavelet FISTA) or 'zero-filled'. ``calibrate``: scale ``std`` by the model's fitted
    calibration (for Cartesian data at the mask's acceleration, the coil count and the
    data's noise level, :meth:`~.model.ScoreModel.calibration_at`; fitted for the default
    ``start``, ``schedule`` and ``std_smoothing``). ``std_smoothing``: the width in
    pixels over which the samples' variance is pooled (:func:`pooled_std`; 0: per pixel).
    Seeded: the same ``seed`` gives the same samples.
    """
    began = time.perf_counter()
    _check_samples(n_samples)
    _check_smoothing(std_smoothing)
    if start != "auto" and start not in START_IMAGES:
        raise ValueError(f"start must be 'auto' or one of {START_IMAGES}, received {start!r}")
    schedule = LangevinSchedule() if schedule is None else schedule
    if not isinstance(schedule, LangevinSchedule):
        raise TypeError(f"schedule must be a LangevinSchedule (e.g. LangevinSchedule("
                        f"n_levels=2)), received a {type(schedule).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0 (the chains are seeded), received "
                         f"{seed!r}")
    model = weights if isinstance(weights, ScoreModel) else load_score_model(weights)
    if not isinstance(smaps, str):
        check_same_kind(kspace, smaps, name="smaps", reference_name="kspace")
    data = to_numpy(kspace)
    if not np.all(np.isfinite(data)):
        raise ValueError("kspace contains NaN or Inf values")
    smaps = smaps if isinstance(smaps, str) else to_numpy(smaps)
    m, estimated, zero_filled = _measurement(data, mask, smaps, trajectory, shape, density)
    if noise_level is None:
        noise_level = estimated
    elif isinstance(noise_level, bool) or not isinstance(noise_level, Real) \
            or not 0 <= noise_level < float("inf"):
        raise ValueError(f"noise_level must be a finite number >= 0 (the k-space noise's "
                         f"standard deviation) or None, received {noise_level!r}")
    acceleration = None
    if trajectory is None:
        from ...sampling import acceleration_of
        acceleration = acceleration_of(to_numpy(m.mask))
    if start == "auto":
        start = posterior_start(acceleration)
    generator = torch.Generator().manual_seed(int(seed))
    first = start_image(m, {"start": start, "start_iterations": START_ITERATIONS[start]})
    chains_began = time.perf_counter()
    samples = annealed_langevin(model, m.gradient, first, n_samples=n_samples,
                                noise_level=float(noise_level) / m.scale, schedule=schedule,
                                generator=generator, progress=progress)
    sampling_seconds = time.perf_counter() - chains_began
    samples = samples.cpu().numpy() * m.scale
    if not np.all(np.isfinite(samples)):
        raise ValueError(f"the Langevin chains diverged (non-finite samples) with the "
                                 f"schedule {schedule.as_dict()}: lower sigma_max or "
                                 f"step_scale")
    magnitudes = np.abs(samples)
    acquisition = {"acceleration": acceleration,
                   "coils": data.shape[0] if data.ndim == (3 if trajectory is None else 2) else 1,
                   "relative_noise": float(noise_level) / float(np.max(zero_filled))}
    scale = model.calibration_at(**acquisition) if calibrate else 1.0
    return Posterior(mean=np.abs(samples.mean(0)),
                     std=scale * pooled_std(magnitudes, std_smoothing),
                     samples=samples, zero_filled=zero_filled, noise_level=float(noise_level),
                     calibration=scale, seconds=time.perf_counter() - began,
                     sampling_seconds=sampling_seconds,
                     schedule=schedule.as_dict(), std_smoothing=float(std_smoothing),
                     acquisition=acquisition, start=start)

