"""Training examples for reconstruction networks: simulated acquisitions from real magnitude
slices, and real k-space from fastMRI files.

:func:`simulate_example` draws, from a generator, everything an acquisition varies in: the
slice and its augmentation, a smooth image phase, the number of coils and their maps,
the noise level, and the sampling (a fresh Cartesian mask, or a radial trajectory). The
network then sees the example as the reconstructors do at inference:
:func:`~pysap_mri_dl.learn.unrolled.physics.cartesian_measurement` with self-calibrated
maps, or :func:`~pysap_mri_dl.learn.unrolled.physics.noncartesian_measurement`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...data.simulation import simulate_acquisition
from ...sampling import cartesian_mask, radial
from .slices import augment, fit_to

__all__ = ["AcquisitionConfig", "Example", "simulate_example", "TrajectoryPool"]


@dataclass
class AcquisitionConfig:
    """What the simulated acquisitions vary in (every range is drawn uniformly)."""

    shape: tuple = (224, 224)          # image canvas: slices are padded / cropped to it
    coils: tuple = (4, 12)             # coil counts; (1, 1) for single-coil data
    noise: tuple = (0.001, 0.005)      # k-space noise std, relative to the image maximum
    accelerations: tuple = (4, 8)      # Cartesian: one is drawn per example
    mask_kinds: tuple = ("random", "equispaced")
    invert_prob: float = 0.3           # T2-like contrast inversion
    intensity_range: tuple = (0.5, 1.0)
    trajectory: str | None = None      # 'radial' for non-Cartesian examples
    spokes: tuple = (60, 100)          # radial spoke counts drawn from (a pool, see below)

    def center_fraction(self, acceleration):
        """fastMRI's centre fractions: 8% at 4x, 4% at 8x (0.32 / acceleration)."""
        return 0.32 / acceleration


@dataclass
class Example:
    """One acquisition: k-space, its sampling (``mask`` or ``trajectory`` with its
    ``density``), the image shape and the RSS reference magnitude."""

    kspace: np.ndarray
    reference: np.ndarray
    shape: tuple
    mask: np.ndarray | None = None
    trajectory: np.ndarray | None = None
    density: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


class TrajectoryPool:
    """Radial trajectories (golden angle) with their Voronoi densities, computed once per
    spoke count: the density costs more than a training step, so examples draw from a pool
    of ``size`` spoke counts spread over ``spokes``."""

    def __init__(self, shape, spokes, size=6):
        from ...calibration import voronoi_density
        counts = np.unique(np.linspace(spokes[0], spokes[1], size).round().astype(int))
        self.entries = []
        for count in counts:
            trajectory = radial(int(count), shape[0], golden=True)
            self.entries.append((trajectory, voronoi_density(trajectory, shape)))

    def draw(self, rng):
        return self.entries[int(rng.integers(len(self.entries)))]


def simulate_example(slices, config, rng, *, pool=None):
    """One simulated :class:`Example` from a random slice of ``slices`` (a list of 2D
    magnitude images scaled to maximum 1), drawn from ``rng``."""
    image = slices[int(rng.integers(len(slices)))]
    image = augment(image, rng, invert_prob=config.invert_prob,
                    intensity_range=config.intensity_range)
    image = fit_to(np.ascontiguousarray(image), tuple(config.shape), rng)
    n_coils = int(rng.integers(config.coils[0], config.coils[1] + 1))
    noise = float(rng.uniform(*config.noise))
    acq = simulate_acquisition(image, n_coils=n_coils, noise=noise, seed=rng)
    meta = {"coils": n_coils, "noise": noise}
    if config.trajectory is None:
        acceleration = int(config.accelerations[int(rng.integers(len(config.accelerations)))])
        kind = config.mask_kinds[int(rng.integers(len(config.mask_kinds)))]
        mask = cartesian_mask(kind, acq.kspace.shape[-2:], acceleration=acceleration,
                              center_fraction=config.center_fraction(acceleration), seed=rng)
        meta.update(acceleration=acceleration, mask_kind=kind)
        return Example((acq.kspace * mask).astype(np.complex64), acq.reference,
                       tuple(config.shape), mask=mask, meta=meta)
    if config.trajectory != "radial":
        raise ValueError(f"trajectory must be None or 'radial', received {config.trajectory!r}")
    from ...operators import NUFFT, ifftn_centered
    trajectory, density = pool.draw(rng)
    coil_images = ifftn_centered(acq.kspace, 2)  # back to the (noisy) coil images
    samples = NUFFT(trajectory, tuple(config.shape),
                    n_coils=n_coils).op(coil_images.astype(np.complex64))
    meta.update(spokes=len(trajectory) // config.shape[0])
    return Example(samples.astype(np.complex64), acq.reference, tuple(config.shape),
                   trajectory=trajectory, density=density, meta=meta)
