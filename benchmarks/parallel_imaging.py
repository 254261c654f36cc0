"""Parallel imaging on the real 4-coil brain: GRAPPA (ours and pygrappa), SENSE-CS with
self-calibrated and ESPIRiT maps, calibrationless group lasso and OWL, BART ecalib + pics;
all on the same masks (every R-th column plus 24 central columns, R = 2 and 3), reference =
RSS of the fully sampled coil images. One process; prints PSNR, SSIM and seconds.

    python benchmarks/parallel_imaging.py [--n-iter 100]
"""
from __future__ import annotations

import argparse
import time
from importlib.util import find_spec

import numpy as np

from pysap_mri_dl.operators import ifftn_centered
from pysap_mri_dl.calibration import espirit, rss
from pysap_mri_dl.data import load_sample
from pysap_mri_dl.metrics import psnr, ssim
from pysap_mri_dl.recon import (grappa, reconstruct_calibrationless, reconstruct_sense,
                                zero_filled)


def column_mask(acceleration, n=256, centre=24):
    columns = np.zeros(n, bool)
    columns[::acceleration] = True
    columns[n // 2 - centre // 2: n // 2 + centre // 2] = True
    return np.broadcast_to(columns[None, :], (n, n))


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=100)
    args = parser.parse_args()
    sample = load_sample("brain_4coil")
    ref = sample.reference
    print(f"{'R':>2s} {'method':44s} {'PSNR':>6s} {'SSIM':>6s} {'seconds':>8s}")
    for acceleration in (2, 3):
        mask = column_mask(acceleration)
        kspace = sample.kspace * mask
        rows = [("zero-filled", zero_filled(kspace), 0.0)]
        result, seconds = timed(lambda: grappa(kspace, mask, kernel=(5, 5)))
        rows.append(("GRAPPA, ours (5x5)", result.image, seconds))
        if find_spec("pygrappa"):
            from pygrappa import mdgrappa
            calib = kspace[:, :, 116:140]
            filled, seconds = timed(lambda: mdgrappa(kspace, calib, kernel_size=(5, 5),
                                                     coil_axis=0))
            rows.append(("GRAPPA, pygrappa mdgrappa (5x5)", rss(ifftn_centered(filled, 2)),
                         seconds))
        result = reconstruct_sense(kspace, mask, n_iter=args.n_iter)
        rows.append(("SENSE-CS, self-calibrated maps", result.image, result.seconds))
        (maps, map_seconds) = timed(lambda: espirit(kspace, mask=mask))
        result = reconstruct_sense(kspace, mask, smaps=maps, n_iter=args.n_iter)
        rows.append(("SENSE-CS, ESPIRiT maps", result.image, result.seconds + map_seconds))
        for coupling in ("group-lasso", "owl"):
            result = reconstruct_calibrationless(kspace, mask, coupling=coupling,
                                                 n_iter=args.n_iter)
            rows.append((f"calibrationless, {coupling}", result.image, result.seconds))
        try:
            from pysap_mri_dl_bart import Bart, bart_available
            if bart_available():
                bart = Bart()
                best = None
                for lam in (2e-4, 5e-4, 1e-3, 3e-3):
                    image, seconds = timed(lambda: bart.pics(kspace, bart.ecalib(kspace),
                                                             lam=lam, n_iter=args.n_iter))
                    if best is None or psnr(ref, np.abs(image)) > psnr(ref, np.abs(best[1])):
                        best = (lam, image, seconds)
                rows.append((f"BART ecalib + pics -l1 (best lam {best[0]:g})", best[1], best[2]))
        except ImportError:
            pass
        for label, image, seconds in rows:
            image = np.abs(image)
            print(f"{acceleration:2d} {label:44s} {psnr(ref, image):6.2f} {ssim(ref, image):6.3f} "
                  f"{seconds:8.2f}")
        print()


if __name__ == "__main__":
    main()
