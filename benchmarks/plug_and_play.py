"""Plug-and-play: the shipped denoisers as the prox of FISTA on the real 4-coil T2 brain
(4x random columns, 8% centre, self-calibrated maps) against wavelet FISTA, and the
relative change per iteration over 200 iterations (stability); then the cost of one
iteration against wavelet FISTA's, with glibc's default allocator settings and after
``pysap_mri_dl.runtime.retain_freed_memory()`` (what the command line runs with). One
process.

``--acceleration-sweep 4 8`` instead runs the tied Learnlet at each ``--sigmas`` on the
cases of ``benchmarks/unrolled.py`` (held-out Colin27 slices, dipy, the real T2 brain and
pysap T2* slice; random columns with fastMRI's centre fractions) at those accelerations,
with the sigma that ``sigma='auto'`` picks there: the measurements behind
``pysap_mri_dl.learn.denoisers.prox.PNP_SIGMAS``.

    python benchmarks/plug_and_play.py [--n-iter 200] [--sigmas 0.0005 0.001 0.005]
        [--models learnlet dncnn] [--ensembles 1 2] [--timing-iter 40]
    python benchmarks/plug_and_play.py --acceleration-sweep 4 8 --sigmas 0.0005 0.001 0.002
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.learn import PRETRAINED, learned_prior
from pysap_mri_dl.metrics import psnr, ssim
from pysap_mri_dl.recon import reconstruct_sense
from pysap_mri_dl.runtime import retain_freed_memory
from pysap_mri_dl.sampling import random_column_mask


def run(kspace, mask, prior, n_iter):
    changes, previous = [], []

    def track(iteration, state):
        x = np.asarray(state["x"])
        if previous:
            changes.append(float(np.linalg.norm(x - previous[0]) / np.linalg.norm(previous[0])))
        previous[:] = [x.copy()]
        return False
    return reconstruct_sense(kspace, mask, prior=prior, n_iter=n_iter, callback=track), changes


def _change(changes, iteration):
    return f"{changes[iteration - 1]:.1e}" if len(changes) >= iteration else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=200)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.0005, 0.001, 0.005])
    parser.add_argument("--models", nargs="+", default=["learnlet", "learnlet-untied", "dncnn",
                                                        "unet"])
    parser.add_argument("--ensembles", type=int, nargs="+", default=[1],
                        help="self-ensemble sizes tried for each model (1, 2, 4, 8)")
    parser.add_argument("--weights-dir", type=Path, default=None)
    parser.add_argument("--timing-iter", type=int, default=40,
                        help="iterations timed per prior in the cost section (0: skip it)")
    parser.add_argument("--acceleration-sweep", type=int, nargs="+", default=None,
                        metavar="R", help="sweep --sigmas on every case at these accelerations")
    args = parser.parse_args()
    if args.acceleration_sweep and min(args.acceleration_sweep) < 2:
        parser.error(f"--acceleration-sweep: accelerations must be >= 2, received "
                     f"{args.acceleration_sweep}")
    if not all(0 < sigma < 1 for sigma in args.sigmas):
        parser.error(f"--sigmas: expected numbers in (0, 1), received {args.sigmas}")
    if args.acceleration_sweep:
        retain_freed_memory()
        return sweep(args.acceleration_sweep, args.sigmas, args.n_iter)
    sample = load_sample("brain_4coil")
    mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    kspace = sample.kspace * mask
    ref = sample.reference
    result, _ = run(kspace, mask, "wavelet", 100)
    print(f"{'prior':28s} {'PSNR':>7s} {'SSIM':>6s} {'ms/it':>7s}")
    print(f"{'wavelet (default lambda), 100':28s} {psnr(ref, result.image):7.2f} "
          f"{ssim(ref, result.image):6.3f} {1e3 * result.seconds_per_iter:7.1f}")
    for name in args.models:
        weights = (args.weights_dir / PRETRAINED[name][1]) if args.weights_dir else None
        for ensemble in args.ensembles:
            for sigma in args.sigmas:
                prior = learned_prior(name, weights=weights, sigma=sigma, ensemble=ensemble)
                result, changes = run(kspace, mask, prior, args.n_iter)
                image = np.abs(result.image)
                label = f"{name}, sigma {sigma:g}" + (f", x{ensemble}" if ensemble > 1 else "")
                print(f"{label:28s} {psnr(ref, image):7.2f} {ssim(ref, image):6.3f} "
                      f"{1e3 * result.seconds_per_iter:7.1f}   relative change it. "
                      f"10/100/last: {_change(changes, 10)} {_change(changes, 100)} "
                      f"{changes[-1] if changes else float('nan'):.1e}")
    if args.timing_iter:
        cost(kspace, mask, args.models[0], args.sigmas[0], args.timing_iter)


def sweep(accelerations, sigmas, n_iter):
    """PSNR of plug-and-play with the tied Learnlet at each sigma, per case and
    acceleration, beside wavelet FISTA (100 iterations) and the sigma 'auto' picks."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _cases import acceleration_sweep
    from pysap_mri_dl.learn.denoisers.prox import pnp_sigma
    priors = {sigma: learned_prior("learnlet", sigma=sigma) for sigma in sigmas}
    acceleration_sweep(
        accelerations, sigmas,
        lambda solve, kspace, mask, sigma: solve(kspace, mask, prior=priors[sigma],
                                                 n_iter=n_iter).image,
        pnp_sigma, f"plug-and-play, tied Learnlet, {n_iter} iterations: PSNR (dB) against sigma")


def cost(kspace, mask, name, sigma, n_iter, repeats=3):
    """Milliseconds per iteration (best of ``repeats`` runs of ``n_iter``) of wavelet FISTA
    and of plug-and-play with ``name``, under the default allocator, then retained memory."""
    prior = learned_prior(name, sigma=sigma)

    def best(which):
        return 1e3 * min(reconstruct_sense(kspace, mask, prior=which, n_iter=n_iter)
                         .seconds_per_iter for _ in range(repeats))
    print(f"\ncost of one iteration (ms, best of {repeats} runs of {n_iter} iterations)")
    print(f"{'allocator':34s} {'wavelet':>8s} {name:>9s} {'ratio':>6s}")
    for label in ("glibc defaults", "retain_freed_memory()"):
        if label != "glibc defaults" and not retain_freed_memory():
            print(f"{label:34s} not applied (not glibc, or MALLOC_* set in the environment)")
            break
        wavelet, learned = best("wavelet"), best(prior)
        print(f"{label:34s} {wavelet:8.1f} {learned:9.1f} {learned / wavelet:6.1f}")


if __name__ == "__main__":
    main()
