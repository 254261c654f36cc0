"""Plug-and-play: the shipped denoisers as the prox of FISTA on the real 4-coil T2 brain
(4x random columns, 8% centre, self-calibrated maps) against wavelet FISTA, and the
relative change per iteration over 200 iterations (stability). One process.

    python benchmarks/plug_and_play.py [--n-iter 200] [--sigmas 0.0005 0.001 0.005]
        [--models learnlet dncnn] [--ensembles 1 2]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.learn import PRETRAINED, learned_prior
from pysap_mri_dl.metrics import psnr, ssim
from pysap_mri_dl.recon import reconstruct_sense
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
    args = parser.parse_args()
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
                      f"{changes[-1]:.1e}")


if __name__ == "__main__":
    main()
