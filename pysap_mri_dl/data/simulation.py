"""Simulated multi-coil acquisitions from real magnitude images.

Real multi-coil k-space is scarce; a real magnitude image (a T1 slice, the pysap slice) is
turned into a multi-coil Cartesian acquisition with smooth coil sensitivities, a smooth
image phase and complex Gaussian noise. The reference is the root sum of squares of the
noise-free coil images, as for measured data (fastMRI's ``reconstruction_rss``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._fourier import fftn_centered

__all__ = ["simulated_smaps", "smooth_phase", "SimulatedAcquisition", "simulate_acquisition",
           "radial_brain_slice"]


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _grid(shape):
    """Coordinates in [-1, 1] along each axis (``(ndim, *shape)``)."""
    return np.stack(np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij"))


def simulated_smaps(shape, n_coils=8, *, width=0.9, distance=1.3, seed=0):
    """Smooth complex sensitivities of ``n_coils`` surface coils spread evenly on a ring of
    radius ``distance`` (in half fields of view) around a 2D field of view ``shape``.

    Each coil's magnitude is a Gaussian of the distance to the coil (``width`` in half fields
    of view), its phase a smooth ramp pointing at the coil plus a random offset; the maps are
    scaled so that their root sum of squares peaks at 1 (not 1 everywhere: the RSS shading
    is part of the simulated data, as with real coils). Returns ``(n_coils, *shape)``
    complex64.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or min(shape) < 2:
        raise ValueError(f"shape must be two sizes >= 2, received {shape}")
    if int(n_coils) < 1:
        raise ValueError(f"n_coils must be >= 1, received {n_coils}")
    if not width > 0 or not distance >= 0:
        raise ValueError(f"width must be > 0 and distance >= 0, received {width}, {distance}")
    rng = _rng(seed)
    y, x = _grid(shape)
    start = rng.uniform(0, 2 * np.pi)
    maps = []
    for c in range(int(n_coils)):
        angle = start + 2 * np.pi * c / n_coils
        cy, cx = distance * np.sin(angle), distance * np.cos(angle)
        magnitude = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * width ** 2))
        phase = rng.uniform(-np.pi, np.pi) + 0.5 * np.pi * (x * np.cos(angle) + y * np.sin(angle))
        maps.append(magnitude * np.exp(1j * phase))
    maps = np.stack(maps)
    return (maps / np.sqrt((np.abs(maps) ** 2).sum(0)).max()).astype(np.complex64)


def smooth_phase(shape, *, strength=1.0, seed=0):
    """A smooth random image phase (constant + linear + quadratic terms, ``strength``
    radians at the edge of the field of view), as ``exp(1j * phase)`` complex64."""
    rng = _rng(seed)
    coords = _grid(tuple(int(s) for s in shape))
    phase = np.full(coords.shape[1:], rng.uniform(-np.pi, np.pi))
    for axis in range(len(coords)):
        phase += strength * (rng.normal(0, 0.5) * coords[axis] + rng.normal(0, 0.3) * coords[axis] ** 2)
    return np.exp(1j * phase).astype(np.complex64)


@dataclass
class SimulatedAcquisition:
    """Fully sampled simulated k-space ``(n_coils, *shape)``, the maps and phase used, and
    the RSS reference of the noise-free coil images."""

    kspace: np.ndarray
    smaps: np.ndarray
    reference: np.ndarray
    noise: float


def simulate_acquisition(image, *, n_coils=8, noise=0.002, phase=1.0, seed=0):
    """Multi-coil Cartesian k-space of a real magnitude ``image`` (2D).

    ``image`` is scaled to maximum 1, given :func:`smooth_phase` (``phase`` radians; 0 for a
    real image) and the :func:`simulated_smaps`, Fourier transformed (centred, orthonormal)
    and given complex Gaussian noise of standard deviation ``noise`` per real and imaginary
    part, relative to the image maximum (k-space and image noise are equal: the FFT is
    unitary). ``n_coils=1`` gives single-coil k-space ``(ny, nx)`` with no coil shading.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or not np.all(np.isfinite(image)) or not image.max() > 0:
        raise ValueError(f"image must be a finite 2D magnitude image with a positive maximum, "
                         f"received shape {image.shape}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, received {noise}")
    rng = _rng(seed)
    image = np.abs(image) / np.abs(image).max()
    complex_image = image * (smooth_phase(image.shape, strength=phase, seed=rng) if phase else 1)
    if n_coils == 1:
        smaps = np.ones((1,) + image.shape, np.complex64)
    else:
        smaps = simulated_smaps(image.shape, n_coils, seed=rng)
    coil_images = (smaps * complex_image).astype(np.complex64)
    kspace = fftn_centered(coil_images, 2)
    kspace = kspace + noise * (rng.standard_normal(kspace.shape)
                               + 1j * rng.standard_normal(kspace.shape))
    reference = np.sqrt((np.abs(coil_images) ** 2).sum(0)).astype(np.float32)
    kspace = kspace.astype(np.complex64)
    return SimulatedAcquisition(kspace[0] if n_coils == 1 else kspace, smaps, reference,
                                float(noise))


def radial_brain_slice(n_spokes=80, size=256):
    """The radial case the non-Cartesian figures of the docs are measured on: the bundled
    pysap brain slice resampled to ``size^2`` (anti-aliased, maximum 1), sampled noise-free
    on ``n_spokes`` golden-angle spokes of ``size`` samples (single coil, real image).
    Returns ``(kspace, trajectory, reference)``."""
    from skimage.transform import resize

    from ..operators import NUFFT
    from ..sampling import radial
    from .samples import load_sample
    image = resize(load_sample("brain_slice_2d").reference, (size, size), anti_aliasing=True)
    reference = (image / image.max()).astype(np.float32)
    trajectory = radial(n_spokes, size, golden=True)
    kspace = NUFFT(trajectory, (size, size)).op(reference.astype(np.complex64))
    return np.asarray(kspace), trajectory, reference
