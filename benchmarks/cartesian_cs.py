"""Cartesian compressed sensing: this project vs. BART ``pics -l1`` and SigPy, one process.

Quality, on every real case of ``_cases.quality_cases`` (4x random columns, 8% centre, 100
iterations): our default (lambda rule, self-calibrated maps), our best lambda factor over a
grid, BART ``pics -l1`` with its ESPIRiT maps (``ecalib``) and its best lambda, SigPy
``L1WaveletRecon`` (its default db4 wavelet, its ESPIRiT maps) with its best lambda: PSNR
(reference maximum), SSIM, milliseconds per iteration; for BART its own reported solve time
("Total Time") and its process time (start-up and file I/O included) separately.

Speed, on the 320^2 8-coil case and the 4-coil brain: our time per iteration against BART's
solve time per iteration (``pics -l1 -r 0.005 -i 100``, best of ``--repeat`` runs each), the
per-call floor (SENSE, wavelet, soft threshold, cycle-spin shifts) and the engine overhead
(our iteration / the sum of the calls it makes).

With ``--ablations``, what each default is worth: the wavelet family and the support of the
self-calibrated maps.

``--acceleration-sweep 4 8`` instead runs wavelet FISTA (100 iterations) at each
``--factors`` on the cases of ``benchmarks/unrolled.py`` (held-out Colin27 slices, dipy, the
real T2 brain and the pysap T2* slice; random columns with fastMRI's centre fractions) at
those accelerations, with the factor that ``lam_factor='auto'`` picks there: the
measurements behind ``pysap_mri_dl.recon.regularisation.LAMBDA_FACTORS``.

    python benchmarks/cartesian_cs.py [--n-iter 100] [--repeat 3] [--skip-quality] [--ablations]
    python benchmarks/cartesian_cs.py --acceleration-sweep 4 8 [--factors 0.0005 0.001 ...]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cases import quality_cases, speed_case  # noqa: E402
from _peers import bart_tools, sigpy_l1_wavelet  # noqa: E402

from pysap_mri_dl.calibration import self_calibrated_smaps  # noqa: E402
from pysap_mri_dl.metrics import psnr, ssim  # noqa: E402
from pysap_mri_dl.operators import FFT, SENSE  # noqa: E402
from pysap_mri_dl.recon import (image_scale, lambda_factor, reconstruct_sense,  # noqa: E402
                                reconstruct_single_coil, wavelet_prior)
from pysap_mri_dl.sampling import acceleration_of  # noqa: E402

OUR_FACTORS = (0.00025, 0.0005, 0.001, 0.002, 0.004)
BART_LAMBDAS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01)
SIGPY_FACTORS = (0.00025, 0.0005, 0.001, 0.002, 0.004)  # times the data scale


def ours(kspace, mask, n_iter, lam_factor="auto"):
    solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
    return solve(kspace, mask, n_iter=n_iter, lam_factor=lam_factor)


def best(rows):
    """The row of highest PSNR (rows: (psnr, ...))."""
    return max(rows, key=lambda row: row[0])


def quality(args, bart):
    summary = []
    for name, (kspace, mask, reference) in quality_cases().items():
        multi = kspace.ndim == 3
        coils = kspace if multi else kspace[None]
        print(f"\n{name}: {kspace.shape}, zero-filled "
              f"{psnr(reference, ours(kspace, mask, 1).zero_filled):.2f} dB")
        print(f"  {'method':44s} {'PSNR':>6s} {'SSIM':>6s} {'ms/it':>7s} {'solve':>7s}"
              f" {'process':>8s}  lambda")
        default = ours(kspace, mask, args.n_iter)
        factor_used = lambda_factor(acceleration_of(mask))  # what 'auto' took
        sweep = []
        for factor in OUR_FACTORS:
            result = default if factor == factor_used else ours(
                kspace, mask, args.n_iter, factor)
            sweep.append((psnr(reference, result.image), factor, result))
        rows = [("pysap_mri_dl, default", default, f"factor {factor_used:g}")]
        top = best(sweep)
        rows.append(("pysap_mri_dl, best lambda factor", top[2], f"factor {top[1]:g}"))
        for label, result, lam in rows:
            print(f"  {label:44s} {psnr(reference, result.image):6.2f} "
                  f"{ssim(reference, result.image):6.3f} {1e3 * result.seconds_per_iter:7.2f}"
                  f" {'':7s} {'':8s}  {lam}")
        print("  lambda sweep (ours): " + ", ".join(f"{f:g}: {p:.2f}" for p, f, _ in sweep))
        scores = {"default": psnr(reference, default.image)}
        if bart is not None:
            maps = bart.ecalib(coils) if multi else np.ones_like(coils)
            runs = []
            for lam in BART_LAMBDAS:
                start = time.perf_counter()
                image, solve = bart.pics(coils, maps, lam=lam, n_iter=args.n_iter,
                                         return_time=True)
                runs.append((psnr(reference, image), lam, image, solve,
                             time.perf_counter() - start))
            value, lam, image, solve, process = best(runs)
            scores["BART"] = value
            print(f"  {'BART pics -l1, ecalib maps, best lambda':44s} {value:6.2f} "
                  f"{ssim(reference, image):6.3f} {'':7s} {1e3 * solve / args.n_iter:7.2f} "
                  f"{1e3 * process / args.n_iter:8.2f}  {lam:g}")
        try:
            import sigpy.mri.app as app
        except ImportError:
            print("  SigPy not installed: skipped (pip install sigpy)")
        else:
            maps = (app.EspiritCalib(coils, show_pbar=False).run() if multi
                    else np.ones_like(coils))
            scale = image_scale(SENSE(maps, mask=mask).adj_op(coils))
            runs = []
            for factor in SIGPY_FACTORS:
                image, seconds = sigpy_l1_wavelet(coils, mask, maps, factor * scale,
                                                  args.n_iter, wavelet="db4")
                runs.append((psnr(reference, image), factor, image, seconds))
            value, factor, image, seconds = best(runs)
            scores["SigPy"] = value
            print(f"  {'SigPy L1WaveletRecon (db4), ESPIRiT, best lam':44s} {value:6.2f} "
                  f"{ssim(reference, image):6.3f} {1e3 * seconds / args.n_iter:7.2f}"
                  f" {'':7s} {'':8s}  factor {factor:g}")
        summary.append((name, scores))
    print("\nOur default against each peer's best lambda (dB):")
    for name, scores in summary:
        gaps = ", ".join(f"vs {peer} {scores['default'] - value:+.2f}"
                         for peer, value in scores.items() if peer != "default")
        print(f"  {name:24s} default {scores['default']:.2f}  {gaps}")


def ablations(args):
    """What each default is worth: the wavelet family (each at its best lambda factor of
    0.0005 / 0.001 / 0.002) and the support of the self-calibrated maps (on and off)."""
    families = ("sym8", "db4", "db2", "haar")
    print("\nWavelet family, PSNR at its best lambda factor (0.0005 / 0.001 / 0.002):")
    print(f"  {'case':24s} " + " ".join(f"{w:>7s}" for w in families))
    cases = quality_cases()
    for name, (kspace, mask, reference) in cases.items():
        solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
        row = []
        for wavelet in families:
            row.append(max(psnr(reference, solve(kspace, mask, n_iter=args.n_iter,
                                                 lam_factor=f, wavelet=wavelet).image)
                           for f in (0.0005, 0.001, 0.002)))
        print(f"  {name:24s} " + " ".join(f"{v:7.2f}" for v in row))
    print("\nSupport of the self-calibrated maps (default lambda): PSNR / SSIM")
    for name, (kspace, mask, reference) in cases.items():
        if kspace.ndim != 3:
            continue
        line = f"  {name:24s}"
        for support in (10.0, 0.0):
            maps = self_calibrated_smaps(kspace, mask=mask, support=support)
            image = reconstruct_sense(kspace, mask, smaps=maps, n_iter=args.n_iter).image
            line += (f"  support {support:g}: {psnr(reference, image):.2f} / "
                     f"{ssim(reference, image):.3f}")
        print(line)


def speed(args, bart):
    from pysap_mri_dl.data import load_sample
    from pysap_mri_dl.sampling import random_column_mask
    brain = load_sample("brain_4coil")
    brain_mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    cases = {"320^2, 8 coils": speed_case()[:2],
             "T2 brain 256^2, 4 coils": ((brain.kspace * brain_mask).astype(np.complex64),
                                         brain_mask)}
    print("\nSpeed (ms per iteration; BART: pics -l1 -r 0.005 with our maps, its reported "
          f"solve time; best of {args.repeat})")
    for name, (kspace, mask) in cases.items():
        bare, calls = bare_calls(kspace, mask)
        iteration, back_to_back = [], []
        for _ in range(args.repeat):  # interleaved, so that machine drift hits both alike
            iteration.append(ours(kspace, mask, args.n_iter).seconds_per_iter)
            back_to_back.append(bare())
        per_iter, bare_time = min(iteration), min(back_to_back)
        line = f"  {name:26s} ours {1e3 * per_iter:6.2f}"
        if bart is not None:
            maps = self_calibrated_smaps(kspace, mask=mask)
            solve = min(bart.pics(kspace, maps, lam=0.005, n_iter=args.n_iter,
                                  return_time=True)[1] for _ in range(args.repeat))
            line += (f"  BART {1e3 * solve / args.n_iter:6.2f}  ratio "
                     f"{per_iter / (solve / args.n_iter):.2f} (target <= 0.8)")
        print(line)
        print("    per call (ms): " + " | ".join(f"{k} {1e3 * v:.2f}" for k, v in calls.items()))
        print(f"    its calls back to back {1e3 * bare_time:.2f} ms; engine overhead "
              f"{per_iter / bare_time:.2f}x (iteration / calls; target <= 1.1)")
        print("    one FFT of all coils (ms): " + " | ".join(
            f"{k} {1e3 * v:.2f}" for k, v in fft_engines(kspace).items()))


def fft_engines(kspace, repeat=20):
    """One plain 2D FFT of all coils with each CPU engine (what ``_fourier`` chose from)."""
    import ducc0
    import scipy.fft
    from pysap_mri_dl._fourier import FFT_WORKERS
    x = np.ascontiguousarray(kspace)
    engines = {f"ducc0 ({FFT_WORKERS} threads)": lambda: ducc0.fft.c2c(
                   x, axes=(-2, -1), inorm=1, nthreads=FFT_WORKERS),
               f"scipy.fft ({FFT_WORKERS} workers)": lambda: scipy.fft.fft2(
                   x, norm="ortho", workers=FFT_WORKERS),
               "numpy.fft": lambda: np.fft.fft2(x, norm="ortho")}
    times = {}
    for name, fn in engines.items():
        fn()
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        times[name] = (time.perf_counter() - start) / repeat
    return times


def bare_calls(kspace, mask, calls_per_batch=20, batches=3):
    """The calls one FISTA iteration of the default reconstruction makes. Returns a function
    timing them back to back with no algorithm around them (mean over ``calls_per_batch``
    iterations), and each call's time alone (the per-call floor; mean over a batch, best
    of ``batches``: the same statistic as the iteration time)."""
    maps = self_calibrated_smaps(kspace, mask=mask)
    sense = SENSE(maps, mask=mask)
    prior = wavelet_prior(kspace.shape[1:], 1e-3 * image_scale(sense.adj_op(kspace)))
    transform, threshold = prior.linear_op, prior.coef_prox
    fft = FFT(kspace.shape[1:], mask=mask, n_coils=kspace.shape[0])
    x = sense.adj_op(kspace)
    coeffs = transform.op(x)

    def batch_of(fn):
        def run():
            start = time.perf_counter()
            for _ in range(calls_per_batch):
                fn()
            return (time.perf_counter() - start) / calls_per_batch
        return run

    def shift(image, sign):
        return np.roll(image, (3 * sign, 5 * sign), (-2, -1))

    def bare_iteration():  # the gradient, then the cycle-spun wavelet prox
        sense._gradient(x, kspace)
        shift(transform.adj_op(threshold.prox(transform.op(shift(x, 1)), 1.0)), -1)

    single = {"FFT (all coils)": lambda: fft.op(kspace), "SENSE op": lambda: sense.op(x),
              "SENSE adj": lambda: sense.adj_op(kspace),
              "gradient A^H(Ax-y)": lambda: sense._gradient(x, kspace),
              "wavelet op": lambda: transform.op(x),
              "wavelet adj": lambda: transform.adj_op(coeffs),
              "soft threshold": lambda: threshold.prox(coeffs, 1.0),
              "2 shifts": lambda: shift(shift(x, 1), -1)}
    calls = {}
    for label, fn in single.items():
        fn()
        calls[label] = min(batch_of(fn)() for _ in range(batches))
    bare_iteration()
    return batch_of(bare_iteration), calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best of)")
    parser.add_argument("--skip-quality", action="store_true", help="speed section only")
    parser.add_argument("--ablations", action="store_true",
                        help="also the wavelet families and the support of the maps")
    parser.add_argument("--acceleration-sweep", type=int, nargs="+", default=None,
                        metavar="R", help="sweep --factors on every case at these accelerations")
    parser.add_argument("--factors", type=float, nargs="+",
                        default=[0.0005, 0.001, 0.002, 0.004, 0.008],
                        help="lambda factors of the acceleration sweep")
    args = parser.parse_args()
    if args.n_iter < 1 or args.repeat < 1:
        parser.error("--n-iter and --repeat must be >= 1")
    if args.acceleration_sweep and min(args.acceleration_sweep) < 2:
        parser.error(f"--acceleration-sweep: accelerations must be >= 2, received "
                     f"{args.acceleration_sweep}")
    if not all(0 < factor < float("inf") for factor in args.factors):
        parser.error(f"--factors: expected finite numbers > 0, received {args.factors}")
    if args.acceleration_sweep:
        from _cases import acceleration_sweep
        return acceleration_sweep(
            args.acceleration_sweep, args.factors,
            lambda solve, kspace, mask, factor: solve(kspace, mask, lam_factor=factor,
                                                      n_iter=100).image,
            lambda_factor, "wavelet FISTA, 100 iterations: PSNR (dB) against the lambda factor")
    bart = bart_tools()
    if bart is None:
        print("bart not installed: skipped (apt-get install bart)")
    if not args.skip_quality:
        quality(args, bart)
    if args.ablations:
        ablations(args)
    speed(args, bart)


if __name__ == "__main__":
    main()
