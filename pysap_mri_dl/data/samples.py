"""Bundled real sample data, loadable without network access or ``../shared``."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from .._fourier import fftn_centered, ifftn_centered

__all__ = ["Sample", "load_sample", "sample_arrays", "SAMPLES"]

SAMPLES = {
    "brain_4coil": "brain_4coil.npz",
    "brain_slice_2d": "brain_slice_2d.npz",
    "radial_cardiac": "radial_cardiac_12coil.npz",
    "gre_raw": "gre_2coil_raw.npz",
}


@dataclass
class Sample:
    """A bundled case: fully sampled Cartesian ``kspace`` (``([coils,] ny, nx)``, complex64),
    the ``reference`` magnitude image (RSS for multi-coil) and where it comes from."""

    name: str
    kspace: np.ndarray
    reference: np.ndarray
    description: str
    licence: str

    @property
    def n_coils(self) -> int:
        return self.kspace.shape[0] if self.kspace.ndim == 3 else 1


def load_sample(name: str):
    """Load a bundled sample by name: ``'brain_4coil'`` (4-coil T2 brain, 256x256),
    ``'brain_slice_2d'`` (single-coil magnitude brain slice, 512x512) -- both as a
    :class:`Sample` of Cartesian k-space -- or ``'radial_cardiac'`` (12-coil radial raw
    k-space, 25 spokes, for a 256x256 image) as a
    :class:`~pysap_mri_dl.data.NonCartesianAcquisition`, or ``'gre_raw'`` (2-coil raw
    scanner k-space of a phantom, ``(2, 160, 320)`` with the readout 2x oversampled; its
    reference is the RSS image after removing the oversampling, 160x160)."""
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; available: {sorted(SAMPLES)}")
    path = resources.files("pysap_mri_dl.data") / "samples" / SAMPLES[name]
    with resources.as_file(path) as file, np.load(file) as archive:
        if name == "radial_cardiac":
            from .trajectory_io import noncartesian_from_archive
            return noncartesian_from_archive(archive, f"sample {name!r}")
        if name == "gre_raw":
            from ..calibration import remove_readout_oversampling
            raw = archive["kspace"].astype(np.complex64)
            images = ifftn_centered(remove_readout_oversampling(raw), 2)
            reference = np.sqrt((np.abs(images) ** 2).sum(0)).astype(np.float32)
            return Sample(name, raw, reference, str(archive["note"]), "MIT (twixtools)")
        if name == "brain_4coil":
            coil_images = archive["coil_images"]
            kspace = fftn_centered(coil_images, 2).astype(np.complex64)
            reference = np.sqrt((np.abs(coil_images) ** 2).sum(0)).astype(np.float32)
            return Sample(name, kspace, reference, str(archive["note"]),
                          "MIT (gpuNUFFT); cite Knoll et al., ISMRM 2014, p. 4297")
        image = archive["image"].astype(np.float32)
        kspace = fftn_centered(image.astype(np.complex64), 2).astype(np.complex64)
        return Sample(name, kspace, image, str(archive["note"]), "CeCILL-B (pysap-data)")


def sample_arrays(name: str) -> dict:
    """A bundled sample as the arrays ``pysap-mri-dl recon`` reads (what ``pysap-mri-dl
    sample`` writes): fully sampled Cartesian ``kspace`` and its ``reference``, or the radial
    ``kspace``, ``trajectory`` and ``shape``. The raw GRE phantom is given as fastMRI orders
    k-space: readout oversampling removed, the readout on the second-last axis and the phase
    encodes last, where ``--acceleration`` drops columns (its raw array is (coils, phase
    encodes, oversampled readout))."""
    sample = load_sample(name)
    if hasattr(sample, "trajectory"):
        return dict(kspace=sample.kspace, trajectory=sample.trajectory,
                    shape=np.asarray(sample.shape))
    if name == "gre_raw":
        from ..calibration import remove_readout_oversampling
        kspace = np.swapaxes(remove_readout_oversampling(sample.kspace), -1, -2)
        return dict(kspace=np.ascontiguousarray(kspace),
                    reference=np.ascontiguousarray(sample.reference.T))
    return dict(kspace=sample.kspace, reference=sample.reference)
