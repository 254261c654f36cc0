"""The real Cartesian cases the benchmarks share (4x random columns, 8% centre, seed 0).

* ``T2 brain, 4 coils``: the bundled real 4-coil T2 brain (measured coils and noise).
* ``Colin27 T1, 8 coils``: axial slice 90 of Colin27 (``../shared/data``), zero-padded to
  224x192, 8 simulated coils, smooth phase, noise 0.002 (``data.simulation``).
* ``dipy T1, 8 coils``: the skull-stripped dipy T1 coronal slice (``../shared/data``), same
  simulation.
* ``pysap T2*, 1 coil``: the bundled 512x512 pysap slice, single coil, as acquired.
* ``320^2, 8 coils`` (speed): the pysap slice resampled to 320^2, 8 simulated coils, 26
  centre columns.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.data.simulation import simulate_acquisition
from pysap_mri_dl.sampling import random_column_mask

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


def _pad(image, shape):
    out = np.zeros(shape, image.dtype)
    top, left = ((a - b) // 2 for a, b in zip(shape, image.shape))
    out[top:top + image.shape[0], left:left + image.shape[1]] = image
    return out


def _undersample(kspace, reference, center_fraction=0.08):
    mask = random_column_mask(kspace.shape[-2:], acceleration=4,
                              center_fraction=center_fraction, seed=0)
    return (kspace * mask).astype(np.complex64), mask, reference


def fully_sampled_cases():
    """``{name: (fully sampled kspace, reference)}`` for every case present here."""
    cases = {}
    brain = load_sample("brain_4coil")
    cases["T2 brain, 4 coils"] = (brain.kspace, brain.reference)
    if (SHARED / "mricron_colin27_ch2.nii.gz").exists():
        import nibabel as nib
        volume = np.asarray(nib.load(str(SHARED / "mricron_colin27_ch2.nii.gz")).dataobj,
                            np.float32)
        image = _pad(np.rot90(volume[:, :, 90]), (224, 192))
        acq = simulate_acquisition(image, n_coils=8, noise=0.002, seed=1)
        cases["Colin27 T1, 8 coils"] = (acq.kspace, acq.reference)
    if (SHARED / "dipy_t1_coronal_slice.npy").exists():
        acq = simulate_acquisition(np.load(SHARED / "dipy_t1_coronal_slice.npy"), n_coils=8,
                                   noise=0.002, seed=2)
        cases["dipy T1, 8 coils"] = (acq.kspace, acq.reference)
    pysap = load_sample("brain_slice_2d")
    cases["pysap T2*, 1 coil"] = (pysap.kspace, pysap.reference)
    return cases


def quality_cases():
    """``{name: (undersampled kspace, mask, reference)}`` for every case present here."""
    return {name: _undersample(kspace, reference)
            for name, (kspace, reference) in fully_sampled_cases().items()}


def speed_case(n=320, n_coils=8):
    """The 320^2, 8-coil case (26 centre columns at 4x)."""
    from skimage.transform import resize
    image = resize(load_sample("brain_slice_2d").reference, (n, n), anti_aliasing=True)
    acq = simulate_acquisition(image, n_coils=n_coils, noise=0.002, seed=3)
    return _undersample(acq.kspace, acq.reference, center_fraction=26 / n)


def acceleration_sweep(accelerations, values, reconstruct, auto, title):
    """Print PSNR (dB) of ``reconstruct(kspace, mask, value)`` for each of ``values`` on the
    cases of ``benchmarks/unrolled.py`` at each acceleration, beside the default wavelet
    FISTA (100 iterations) and the value ``auto(effective acceleration)`` picks there: the
    measurements behind the acceleration-dependent defaults (wavelet lambda factor,
    plug-and-play noise level)."""
    from unrolled import cases

    from pysap_mri_dl.metrics import psnr
    from pysap_mri_dl.recon import reconstruct_sense, reconstruct_single_coil
    from pysap_mri_dl.sampling import acceleration_of
    print(title)
    print(f"{'case':34s} {'R':>2s} {'eff.':>5s} {'auto':>7s} {'wavelet':>8s} "
          + " ".join(f"{value:>8g}" for value in values))
    for (name, acceleration), (kspace, mask, reference) in cases(accelerations).items():
        solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
        effective = acceleration_of(mask)
        wavelet = psnr(reference, np.abs(solve(kspace, mask, n_iter=100).image))
        figures = [psnr(reference, np.abs(reconstruct(solve, kspace, mask, value)))
                   for value in values]
        print(f"{name:34s} {acceleration:2d} {effective:5.2f} {auto(effective):7.5f} "
              f"{wavelet:8.2f} " + " ".join(f"{f:8.2f}" for f in figures), flush=True)
