"""Posterior sampling on real slices never seen in training: PSNR of the posterior mean
against wavelet FISTA and Learnlet plug-and-play, coverage of the 90% intervals, rank
correlation between the std map and the error (``rho``; ``rho*``: what it would be if the
errors were distributed exactly as the map says, Gaussian and independent per pixel;
``rho/px``: with the per-pixel std, before pooling), mean std, time per sample and per
image, and the PSNR of the mean of the magnitudes (``mean|x|``, what the mean of the
complex samples replaced), on the T2 brain and the dipy slice at 4x and 8x and the pysap
slice at 4x; then, on the T2 brain at 4x and the dipy slice, the schedule's noise range
(the default
against a wide one, the previous default, and a single level), the same figures against
the number of Langevin steps per level on the T2 brain, and the time of 8 samples of a
256^2 single-coil image. One process, with ``retain_freed_memory()`` as the command line.
The calibration is fitted for the default schedule: the coverage of the other schedules'
rows is not calibrated (their PSNR and rank correlation do not depend on it).

``--start pnp`` or ``--start wavelet`` starts every chain from plug-and-play or wavelet
FISTA instead of the default ``auto`` (plug-and-play below 5.5x, wavelet FISTA from there;
the shipped calibration is fitted for the default start, so the coverage of such runs is
not calibrated). ``--sections`` picks what runs (``--cases-only``
is ``--sections cases``).

    python benchmarks/posterior.py [--samples 8] [--steps 10 20 40 80] [--weights FILE]
        [--cases T2 dipy pysap] [--cases-only] [--start auto|pnp|wavelet]
        [--sections cases schedules steps timing diagnose]

``diagnose`` compares the std map with maps that know more of the error (the error itself,
smoothed) or other things (the disagreement of the classical images, the reference's
magnitude), on the T2 brain and the dipy slice at 4x: where the map misses the error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cases import SHARED, quality_cases  # noqa: E402

from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.data.simulation import simulate_acquisition  # noqa: E402
from pysap_mri_dl.learn import learned_prior  # noqa: E402
from pysap_mri_dl.learn.score import LangevinSchedule, sample_posterior  # noqa: E402
from pysap_mri_dl.learn.score.posterior import (DEFAULT_START, START_IMAGES,  # noqa: E402
                                                pooled_std)
from pysap_mri_dl.metrics import (foreground, interval_coverage, psnr,  # noqa: E402
                                  uncertainty_correlation)
from pysap_mri_dl.recon import reconstruct_sense, reconstruct_single_coil  # noqa: E402
from pysap_mri_dl.runtime import retain_freed_memory  # noqa: E402
from pysap_mri_dl.sampling import random_column_mask  # noqa: E402


def cases(names):
    """The benchmark cases at 4x, plus the T2 brain and the dipy slice at 8x (4% centre)."""
    found = {}
    for name, case in quality_cases().items():
        if "Colin27" in name:  # the score model's training subject
            continue
        found[name + ", 4x"] = case
        if name.startswith("T2"):
            brain = load_sample("brain_4coil")
            mask = random_column_mask((256, 256), acceleration=8, center_fraction=0.04, seed=0)
            found[name + ", 8x"] = ((brain.kspace * mask).astype(np.complex64), mask,
                                    brain.reference)
        if name.startswith("dipy"):
            acq = simulate_acquisition(np.load(SHARED / "dipy_t1_coronal_slice.npy"),
                                       n_coils=8, noise=0.002, seed=2)  # as _cases's 4x
            mask = random_column_mask(acq.kspace.shape[-2:], acceleration=8,
                                      center_fraction=0.04, seed=0)
            found[name + ", 8x"] = ((acq.kspace * mask).astype(np.complex64), mask,
                                    acq.reference)
    return {k: v for k, v in found.items() if any(n in k for n in names)}


def classical(kspace, mask, prior):
    """Wavelet FISTA (100 iterations) or plug-and-play (200): the chains' starts."""
    solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
    n_iter = 100 if prior == "wavelet" else 200
    return np.abs(solve(kspace, mask, prior=prior, n_iter=n_iter).image)


def self_consistent_rho(reference, std, draws=8, seed=0):
    """The rank correlation ``rho`` would have if the errors were distributed exactly as the
    map says (independent Gaussian errors of standard deviation ``std`` on each foreground
    pixel; mean over ``draws``): what a map of this spread reaches when it is exactly right,
    below 1 because one error per pixel is a noisy draw of its spread."""
    from scipy.stats import spearmanr
    inside = foreground(reference)
    spread = std[inside]
    rng = np.random.default_rng(seed)
    return float(np.mean([spearmanr(spread, np.abs(spread * rng.standard_normal(spread.shape)))
                          .statistic for _ in range(draws)]))


def row(label, reference, posterior, n_samples):
    inside = foreground(reference)
    per_pixel = pooled_std(np.abs(posterior.samples), 0)
    return (f"{label:34s} {psnr(reference, posterior.mean):6.2f} "
            f"{interval_coverage(reference, posterior.mean, posterior.std):6.3f} "
            f"{uncertainty_correlation(reference, posterior.mean, posterior.std):6.3f} "
            f"{self_consistent_rho(reference, posterior.std):6.3f} "
            f"{uncertainty_correlation(reference, posterior.mean, per_pixel):6.3f} "
            f"{posterior.std[inside].mean() / reference.max():8.4f} "
            f"{posterior.seconds / n_samples:7.1f} {posterior.seconds:7.1f} "
            f"{psnr(reference, np.abs(posterior.samples).mean(0)):9.2f}")


HEADER = (f"{'':34s} {'PSNR':>6s} {'cov90':>6s} {'rho':>6s} {'rho*':>6s} {'rho/px':>6s} "
          f"{'std/max':>8s} "
          f"{'s/samp':>7s} {'s/img':>7s} {'mean|x|':>9s}")


SCHEDULES = {
    "default, 0.01 -> 0.003, 4 x 40": LangevinSchedule(),
    "wide, 0.05 -> 0.002, 8 x 20": LangevinSchedule(sigma_max=0.05, sigma_min=0.002,
                                                    n_levels=8, steps_per_level=20),
    "one level, 0.005, 1 x 160": LangevinSchedule(sigma_max=0.005, sigma_min=0.005,
                                                  n_levels=1, steps_per_level=160)}
"""The noise ranges compared (160 steps each); the wide one was the default before."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 40, 80],
                        help="Langevin steps per noise level for the sweep on the T2 brain")
    parser.add_argument("--weights", default=None, help="score model (default: shipped)")
    parser.add_argument("--cases", nargs="+", default=["T2", "dipy", "pysap"])
    parser.add_argument("--cases-only", action="store_true",
                        help="skip the sweeps over schedules and steps and the timing")
    parser.add_argument("--start", default=DEFAULT_START, choices=("auto",) + START_IMAGES,
                        help="where the chains start")
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    args = parser.parse_args()
    retain_freed_memory()
    sections = ["cases"] if args.cases_only else args.sections
    K, start = args.samples, args.start
    print(f"{K} samples, default schedule {LangevinSchedule().as_dict()}, chains start: "
          f"{start}")
    if "cases" in sections:
        run_cases(args, K, start)
    if "schedules" in sections:
        for name, (kspace, mask, reference) in cases(["T2 brain, 4 coils, 4x", "dipy"]).items():
            print(f"{name} against the schedule's noise levels:")
            for label, schedule in SCHEDULES.items():
                posterior = sample_posterior(kspace, mask, n_samples=K, weights=args.weights,
                                             schedule=schedule, start=start)
                print(row(f"  {label}", reference, posterior, K), flush=True)
    if "steps" in sections:
        kspace, mask, reference = cases(["T2 brain, 4 coils, 4x"])["T2 brain, 4 coils, 4x"]
        levels = LangevinSchedule().n_levels
        print(f"T2 brain 4x against the steps per level ({levels} levels):")
        for steps in args.steps:
            posterior = sample_posterior(kspace, mask, n_samples=K, weights=args.weights,
                                         schedule=LangevinSchedule(steps_per_level=steps),
                                         start=start)
            print(row(f"  {steps} steps/level ({levels * steps} steps)", reference, posterior,
                      K), flush=True)
    if "timing" in sections:
        timing(args, start)
    if "diagnose" in sections:
        diagnose(args, K, start)


SECTIONS = ("cases", "schedules", "steps", "timing", "diagnose")


def diagnose(args, K, start):
    """Where the std map and the error differ, on the T2 brain and the dipy slice at 4x:
    the rank correlation with the error of the std map (``rho``); of the error's own
    neighbourhood, each pixel's error averaged over the foreground pixels around it with
    a Gaussian weight of 1 and 2 pixels that leaves the pixel itself out (what a smooth map
    that knew every error but the pixel's own would reach: how much of the error a map can
    predict from where it is); of the disagreement between the two classical images
    (``|wavelet - PnP|`` smoothed over one pixel, alone: a map of model uncertainty); and
    of the reference magnitude; and the rank correlation of the std map with the reference
    magnitude and with the reference's gradient magnitude (where the edges are). Then the
    dipy slice again with the simulation's own coil maps, to see whether the self-calibrated
    maps are where the map misses."""
    from scipy.ndimage import gaussian_filter
    from scipy.stats import spearmanr
    print("\nrank correlations with |error| over the foreground (std map, the error's "
          "neighbourhood over 1 / 2 px without the pixel, |wavelet - PnP|, |reference|, "
          "its gradient; "
          "std against |reference| and against its gradient):")
    for name, (kspace, mask, reference) in cases(["T2 brain, 4 coils, 4x",
                                                  "dipy T1, 8 coils, 4x"]).items():
        posterior = sample_posterior(kspace, mask, n_samples=K, weights=args.weights,
                                     start=start)
        inside = foreground(reference)
        error = np.abs(posterior.mean - reference)
        magnitude = np.abs(reference)
        edges = np.hypot(*np.gradient(magnitude))
        disagreement = gaussian_filter(np.abs(classical(kspace, mask, "wavelet")
                                              - classical(kspace, mask, learned_prior())), 1)

        def rho(a, b=error):
            return spearmanr(a[inside], b[inside]).statistic
        print(f"  {name:28s} std {rho(posterior.std):6.3f}  neighbourhood 1 px "
              f"{rho(neighbourhood(error, inside, 1)):6.3f}  2 px "
              f"{rho(neighbourhood(error, inside, 2)):6.3f}  |wavelet - PnP| "
              f"{rho(disagreement):6.3f}  |reference| {rho(magnitude):6.3f}  its gradient "
              f"{rho(edges):6.3f};  std vs "
              f"|reference| {rho(posterior.std, magnitude):6.3f}, vs its gradient "
              f"{rho(posterior.std, edges):6.3f}", flush=True)
    acq = simulate_acquisition(np.load(SHARED / "dipy_t1_coronal_slice.npy"), n_coils=8,
                               noise=0.002, seed=2)  # the dipy case, with its true maps
    kspace, mask, reference = cases(["dipy T1, 8 coils, 4x"])["dipy T1, 8 coils, 4x"]
    maps = acq.smaps / np.sqrt((np.abs(acq.smaps) ** 2).sum(0))
    posterior = sample_posterior(kspace, mask, n_samples=K, weights=args.weights,
                                 start=start, smaps=maps)
    print(f"  dipy T1 4x with the simulation's own maps instead of self-calibrated ones: "
          f"PSNR {psnr(reference, posterior.mean):.2f}, coverage "
          f"{interval_coverage(reference, posterior.mean, posterior.std):.3f}, rho "
          f"{uncertainty_correlation(reference, posterior.mean, posterior.std):.3f}",
          flush=True)


def neighbourhood(values, inside, width):
    """Each pixel's ``values`` averaged over the ``inside`` pixels around it with a
    Gaussian weight of ``width`` pixels, the pixel itself left out."""
    from scipy.ndimage import convolve
    radius = int(4 * width)
    y, x = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    kernel = np.exp(-(x ** 2 + y ** 2) / (2.0 * width ** 2))
    kernel[radius, radius] = 0.0
    weight = convolve(inside.astype(float), kernel, mode="constant")
    return convolve(np.where(inside, values, 0.0), kernel, mode="constant") / np.maximum(
        weight, 1e-12)


def run_cases(args, K, start):
    """The table of real cases: PSNR against wavelet FISTA and plug-and-play, coverage,
    rank correlations, mean std, time."""
    print(HEADER)
    stds = {}
    for name, (kspace, mask, reference) in cases(args.cases).items():
        print(f"{name}: wavelet FISTA {psnr(reference, classical(kspace, mask, 'wavelet')):.2f}"
              f", Learnlet PnP {psnr(reference, classical(kspace, mask, learned_prior())):.2f}")
        posterior = sample_posterior(kspace, mask, n_samples=K, weights=args.weights,
                                     start=start)
        print(f"  chains start: {posterior.start}; calibration factor for this acquisition: "
              f"{posterior.calibration:.2f}")
        stds[name] = posterior.std[foreground(reference)].mean()
        print(row("  posterior mean", reference, posterior, K), flush=True)
    for four, eight in [(n, n.replace("4x", "8x")) for n in stds if n.endswith("4x")]:
        if eight in stds:
            print(f"{four[:-4]}: mean std 8x / 4x = {stds[eight] / stds[four]:.2f}")


def timing(args, start):
    """Seconds for 8 samples of a 256^2 single-coil image."""
    from skimage.transform import resize
    image = resize(load_sample("brain_slice_2d").reference, (256, 256), anti_aliasing=True)
    acq = simulate_acquisition(image, n_coils=1, noise=0.002, seed=4)
    mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    posterior = sample_posterior((acq.kspace * mask).astype(np.complex64), mask, n_samples=8,
                                 weights=args.weights, start=start)
    print(f"8 samples of a 256^2 single-coil image (pysap slice resampled, 4x): "
          f"{posterior.seconds:.0f} s ({posterior.seconds / 60:.1f} min)")


if __name__ == "__main__":
    main()
