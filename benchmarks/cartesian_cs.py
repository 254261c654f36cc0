"""Cartesian compressed sensing: this project vs. BART ``pics -l1`` and SigPy, one process.

Real 4-coil brain (bundled), 4x random column mask with 8% centre, sym8 wavelets (4 levels
for ours), 100 iterations. Peers get their best lambda over a grid; ours runs with its
default data-driven rule. Also times our FFT, SENSE and Wavelet calls and compares a FISTA
iteration with the sum of the operator calls it makes.

    python benchmarks/cartesian_cs.py [--n-iter 100] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import bart_tools, sigpy_l1_wavelet, timed  # noqa: E402

from pysap_mri_dl.calibration import self_calibrated_smaps  # noqa: E402
from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.metrics import psnr, ssim  # noqa: E402
from pysap_mri_dl.operators import SENSE, Wavelet  # noqa: E402
from pysap_mri_dl.recon import reconstruct_sense  # noqa: E402
from pysap_mri_dl.sampling import random_column_mask  # noqa: E402


def best_over_grid(run, grid, reference):
    best = None
    for lam in grid:
        image, seconds = run(lam)
        value = psnr(reference, image)
        if best is None or value > best[0]:
            best = (value, lam, image, seconds)
    return best


def per_call(fn, arg, repeat=20):
    fn(arg)
    start = time.perf_counter()
    for _ in range(repeat):
        fn(arg)
    return (time.perf_counter() - start) / repeat


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=100)
    args = parser.parse_args()
    sample = load_sample("brain_4coil")
    mask = random_column_mask(sample.kspace.shape[1:], acceleration=4, center_fraction=0.08, seed=0)
    kspace = (sample.kspace * mask).astype(np.complex64)
    ref = sample.reference
    rows = []

    result = reconstruct_sense(kspace, mask, n_iter=args.n_iter)
    rows.append(("pysap_mri_dl (default lam)", psnr(ref, result.image), ssim(ref, result.image),
                 result.optim.seconds / result.n_iter, f"rule: {result.lam:.3g}"))
    zero_filled = psnr(ref, result.zero_filled)

    smaps = self_calibrated_smaps(kspace, mask=mask)
    try:
        import sigpy  # noqa: F401
        value, lam, image, seconds = best_over_grid(
            lambda lam: sigpy_l1_wavelet(kspace, mask, smaps, lam, args.n_iter),
            [1e-7, 3e-7, 1e-6, 3e-6], ref)
        rows.append(("SigPy L1WaveletRecon (best lam)", value, ssim(ref, image),
                     seconds / args.n_iter, f"{lam:g}"))
    except ImportError:
        print("SigPy not installed: skipped")

    bart = bart_tools()
    if bart is not None:
        bart_maps = bart.ecalib(kspace)
        value, lam, image, seconds = best_over_grid(
            lambda lam: timed(lambda: bart.pics(kspace, bart_maps, lam=lam, n_iter=args.n_iter)),
            [0.0005, 0.001, 0.002, 0.005, 0.01], ref)
        rows.append(("BART pics -l1 (best lam, ESPIRiT)", value, ssim(ref, image),
                     seconds / args.n_iter, f"{lam:g}"))
    else:
        print("bart not installed: skipped (apt-get install bart)")

    print(f"\nReal 4-coil brain 256x256, 4x random columns, 8% centre, {args.n_iter} iterations")
    print(f"zero-filled PSNR {zero_filled:.2f} dB\n")
    fastest_peer = min((r[3] for r in rows[1:]), default=None)
    print(f"{'method':38s} {'PSNR':>7s} {'SSIM':>6s} {'ms/iter':>8s} {'ratio':>6s}  lambda")
    for name, value, s, sec, lam in rows:
        ratio = f"{sec / fastest_peer:6.2f}" if fastest_peer else "   n/a"
        print(f"{name:38s} {value:7.2f} {s:6.3f} {1000 * sec:8.2f} {ratio}  {lam}")
    print("(ratio = time per iteration / fastest peer's; BART's includes process start-up and file I/O)")

    sense = SENSE(smaps, mask=mask)
    wavelet = Wavelet((256, 256), wavelet="sym8", levels=4)
    x = sense.adj_op(kspace)
    coeffs = wavelet.op(x)
    t_fwd, t_adj = per_call(sense.op, x), per_call(sense.adj_op, kspace)
    t_wfwd, t_wadj = per_call(wavelet.op, x), per_call(wavelet.adj_op, coeffs)
    from pysap_mri_dl.operators import FFT
    fft = FFT((256, 256), mask=mask, n_coils=4)
    t_fft = per_call(fft.op, np.ascontiguousarray(kspace))
    total = t_fwd + t_adj + t_wfwd + t_wadj
    print("\nper call (ms): "
          f"FFT 4 coils {1000 * t_fft:.2f} | SENSE op {1000 * t_fwd:.2f} | SENSE adj {1000 * t_adj:.2f}"
          f" | Wavelet op {1000 * t_wfwd:.2f} | Wavelet adj {1000 * t_wadj:.2f}")
    per_iter = rows[0][3]
    print(f"FISTA iteration {1000 * per_iter:.2f} ms = {per_iter / total:.2f}x the sum of its "
          f"operator calls ({1000 * total:.2f} ms)")


if __name__ == "__main__":
    main()
