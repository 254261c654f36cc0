"""3D radial ("kooshball") reconstruction of a 128^3 head: time and peak memory.

The Colin27 T1 volume (``../shared/data/images``) resampled to 128^3 is sampled on a
golden-means kooshball (``--spokes`` diameters of 256 samples, noise-free), then
reconstructed by the density-compensated adjoint (Pipe weights) and by wavelet FISTA
(the default Haar wavelets, 3 levels, ``--n-iter`` iterations). Prints PSNR, wall time of each stage and the
peak resident memory of the process.

    python benchmarks/kooshball_3d.py [--spokes 8000] [--n-iter 30]
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from pysap_mri_dl.calibration import pipe_density
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.operators import NUFFT
from pysap_mri_dl.recon import gridding, reconstruct_noncartesian
from pysap_mri_dl.sampling import kooshball

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


def peak_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20  # kB on Linux


def main():
    import nibabel as nib
    from skimage.transform import resize
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=8000)
    parser.add_argument("--n-iter", type=int, default=30)
    args = parser.parse_args()
    path = SHARED / "mricron_colin27_ch2.nii.gz"
    if not path.exists():
        raise SystemExit(f"{path} not found (this benchmark needs ../shared/data)")
    volume = np.asarray(nib.load(path).dataobj, dtype=np.float32)
    volume = resize(volume, (128, 128, 128), anti_aliasing=True).astype(np.float32)
    volume /= volume.max()
    shape = volume.shape
    trajectory = kooshball(args.spokes, 256)
    nyquist_spokes = int(np.pi / 2 * 128 ** 2)
    print(f"128^3 volume, {args.spokes} spokes x 256 samples = {len(trajectory) / 1e6:.2f}M "
          f"points ({nyquist_spokes / args.spokes:.1f}x below the {nyquist_spokes} Nyquist spokes)")
    start = time.perf_counter()
    kspace = NUFFT(trajectory, shape).op(volume.astype(np.complex64))
    print(f"simulate            {time.perf_counter() - start:7.1f} s")
    start = time.perf_counter()
    density = pipe_density(trajectory, shape)
    print(f"Pipe density        {time.perf_counter() - start:7.1f} s")
    grid = gridding(kspace, trajectory, shape, density=density)
    print(f"gridding            {grid.seconds:7.1f} s   PSNR {psnr(volume, grid.image):6.2f} dB")
    result = reconstruct_noncartesian(kspace, trajectory, shape, density=density,
                                      n_iter=args.n_iter, levels=3, progress=True)
    print(f"wavelet FISTA       {result.seconds:7.1f} s   PSNR "
          f"{psnr(volume, np.abs(result.image)):6.2f} dB  ({result.n_iter} iterations, "
          f"{result.seconds_per_iter:.2f} s/iteration)")
    print(f"peak memory         {peak_gib():7.2f} GiB")


if __name__ == "__main__":
    main()
