"""Non-Cartesian compressed sensing: this project vs. BART ``pics -l1 -t``, one process.

The real brain slice (bundled, resampled to 256^2) sampled on 80 golden-angle radial spokes
(3.2x fewer samples than pixels) and on a variable-density spiral (24 interleaves, 4.7x),
noise-free. The default prior (Haar wavelets), 100 iterations. BART gets its best lambda over a grid; ours runs
with its default data-driven lambda and density weighting. Prints PSNR/SSIM, seconds per
iteration and the gaps.

    python benchmarks/noncartesian_cs.py [--n-iter 100]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from skimage.transform import resize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import bart_tools, timed  # noqa: E402

from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.metrics import psnr, ssim  # noqa: E402
from pysap_mri_dl.operators import NUFFT  # noqa: E402
from pysap_mri_dl.recon import gridding, reconstruct_noncartesian  # noqa: E402
from pysap_mri_dl.sampling import radial, spiral  # noqa: E402

CASES = {
    "radial, 80 golden-angle spokes": radial(80, 256, golden=True),
    "spiral, 24 interleaves (vd)": spiral(24, 582, n_turns=2, density_power=2),
}
BART_LAMBDAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=100)
    args = parser.parse_args()
    image = resize(load_sample("brain_slice_2d").reference, (256, 256), anti_aliasing=True)
    ref = (image / image.max()).astype(np.float32)
    shape = ref.shape
    bart = bart_tools()
    print(f"{'case':34s} {'method':34s} {'PSNR':>7s} {'SSIM':>6s} {'s/iter':>8s}")
    for case, trajectory in CASES.items():
        kspace = NUFFT(trajectory, shape).op(ref.astype(np.complex64))
        rows = [("gridding (Voronoi)", gridding(kspace, trajectory, shape).image, None)]
        for weighting in (0.5, 0.0):
            result = reconstruct_noncartesian(kspace, trajectory, shape, n_iter=args.n_iter,
                                              density_weighting=weighting)
            label = f"ours, default lam, weighting {weighting}"
            rows.append((label, result.image, result.optim.seconds / result.n_iter))
        if bart is not None:
            best = None
            for lam in BART_LAMBDAS:
                out, seconds = timed(lambda: bart.pics(
                    kspace, np.ones((1,) + shape, np.complex64), lam=lam, n_iter=args.n_iter,
                    trajectory=trajectory))
                if best is None or psnr(ref, out) > psnr(ref, best[1]):
                    best = (lam, out, seconds / args.n_iter)
            rows.append((f"BART pics -l1 -t, best lam {best[0]:g}", best[1], best[2]))
        scores = []
        for label, out, per_iter in rows:
            value = psnr(ref, np.abs(out))
            scores.append(value)
            timing = f"{per_iter * 1e3:7.1f}ms" if per_iter else "       -"
            print(f"{case:34s} {label:34s} {value:7.2f} {ssim(ref, np.abs(out)):6.3f} {timing}")
        gap = scores[1] - scores[0]
        line = f"{case}: ours - gridding = {gap:+.2f} dB"
        if bart is not None:
            line += (f", ours - BART best = {scores[1] - scores[-1]:+.2f} dB, time per "
                     f"iteration ours/BART = {rows[1][2] / rows[-1][2]:.2f}x")
        print(line + "\n")


if __name__ == "__main__":
    main()
