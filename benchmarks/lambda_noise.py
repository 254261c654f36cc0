"""The lambda rule on noisy data: the signal rule alone, ``lam_factor='auto'`` (the rule with
its noise floor ``lam >= kappa * sigma``), and the best weight of a sweep, one process.

On the real cases of ``_cases.fully_sampled_cases`` (the real 4-coil T2 brain, Colin27 and
dipy T1 slices with 8 simulated coils, the pysap T2* slice) with complex Gaussian noise of
0 to 0.04 of the reference maximum added to the fully sampled k-space, at 4x (8% centre)
and 8x (4% centre) random columns, and on the bundled raw 2-coil GRE phantom as acquired
(readout oversampling removed, its phase encodes undersampled; its reference keeps the
scan's noise): PSNR (dB, against the noise-free reference) of the zero-filled image, of
wavelet FISTA (100 iterations) with the signal rule alone (``lam_factor`` the acceleration's
factor), with ``'auto'``, and with ``lam = c * sigma`` for each ``c`` of the sweep
(``sigma``: the k-space noise level estimated from the corners, as the floor does); then
what each rule loses to the best weight of its row. The measurements behind
``pysap_mri_dl.recon.regularisation.NOISE_LAMBDA_FACTORS``.

    python benchmarks/lambda_noise.py [--noise 0 0.01 0.02 0.04]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cases import fully_sampled_cases  # noqa: E402

from pysap_mri_dl.calibration import kspace_noise_level  # noqa: E402
from pysap_mri_dl.data import sample_arrays  # noqa: E402
from pysap_mri_dl.metrics import psnr  # noqa: E402
from pysap_mri_dl.recon import reconstruct_sense, reconstruct_single_coil  # noqa: E402
from pysap_mri_dl.recon.regularisation import (NOISE_LAMBDA_FACTORS,  # noqa: E402
                                                lambda_factor)
from pysap_mri_dl.runtime import retain_freed_memory  # noqa: E402
from pysap_mri_dl.sampling import acceleration_of, random_column_mask  # noqa: E402

SWEEP = (0.03, 0.06, 0.12, 0.25, 0.5, 1.0, 2.0)
"""``lam / sigma`` values of the sweep."""


def add_noise(kspace, sigma, seed):
    """``kspace`` plus complex Gaussian noise of ``sigma`` per real and imaginary part."""
    rng = np.random.default_rng(seed)
    return (kspace + sigma * (rng.standard_normal(kspace.shape)
                              + 1j * rng.standard_normal(kspace.shape))).astype(np.complex64)


def row(kspace, mask, reference):
    """Zero-filled, rule alone, auto, the sweep; and ``rule lam / sigma``."""
    undersampled = (kspace * mask).astype(np.complex64)
    solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
    sigma = kspace_noise_level(undersampled, mask)
    rule = solve(undersampled, mask, n_iter=100,
                 lam_factor=lambda_factor(acceleration_of(mask)))
    auto = solve(undersampled, mask, n_iter=100)
    sweep = [psnr(reference, np.abs(solve(undersampled, mask, lam=c * sigma, n_iter=100).image))
             for c in SWEEP]
    return (psnr(reference, rule.zero_filled), psnr(reference, np.abs(rule.image)),
            psnr(reference, np.abs(auto.image)), sweep, rule.lam / sigma,
            auto.lam > rule.lam)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01, 0.02, 0.04],
                        help="noise added, relative to the reference maximum")
    args = parser.parse_args()
    if not all(0 <= level < float("inf") for level in args.noise):
        parser.error(f"--noise: expected finite numbers >= 0, received {args.noise}")
    retain_freed_memory()
    print("PSNR (dB): zero-filled, signal rule alone, 'auto' (* where its floor binds), "
          "lam = c * sigma for c in " + " ".join(f"{c:g}" for c in SWEEP))
    print(f"{'case':22s} {'noise':>5s} {'R':>2s} {'rule/sig':>8s} {'ZF':>6s} {'rule':>6s} "
          f"{'auto':>7s} " + " ".join(f"{c:>6g}" for c in SWEEP))
    losses = {"rule": [], "auto": []}
    cases = [(name, kspace, reference, level) for name, (kspace, reference)
             in fully_sampled_cases().items() for level in args.noise]
    gre = sample_arrays("gre_raw")  # as recon reads it from 'pysap-mri-dl sample gre_raw'
    cases.append(("GRE phantom, 2 coils", gre["kspace"], gre["reference"], None))
    for name, kspace, reference, level in cases:
        noisy = kspace if level is None else add_noise(
            kspace, level * reference.max(), seed=round(level * 1000))  # 10 for 0.01, ...
        for acceleration, centre in ((4, 0.08), (8, 0.04)):
            mask = random_column_mask(kspace.shape[-2:], acceleration=acceleration,
                                      center_fraction=centre, seed=0)
            zf, rule, auto, sweep, ratio, binds = row(noisy, mask, reference)
            best = max(max(sweep), rule, auto)
            losses["rule"].append(best - rule)
            losses["auto"].append(best - auto)
            added = "as is" if level is None else f"{level:5.2f}"
            print(f"{name:22s} {added:>5s} {acceleration:2d} {ratio:8.3f} {zf:6.2f} {rule:6.2f} "
                  f"{auto:6.2f}{'*' if binds else ' '} " + " ".join(f"{v:6.2f}" for v in sweep),
                  flush=True)
    for label, values in losses.items():
        print(f"{label}: below the best weight of its row by {np.mean(values):.2f} dB on "
              f"average, {np.max(values):.2f} at most ({len(values)} rows)")
    print(f"noise floor anchors (acceleration, kappa): {NOISE_LAMBDA_FACTORS}")


if __name__ == "__main__":
    main()
