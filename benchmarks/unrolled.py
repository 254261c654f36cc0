"""Unrolled networks against CS and plug-and-play, shaped like the seed's table, one process.

Cases (all at 4x and 8x, random columns with fastMRI centre fractions, seed 0): held-out
Colin27 slices (index 160 of each orientation, outside every training range; 8 simulated
coils, noise 0.002; and single-coil), the real 4-coil T2 brain, the dipy T1 slice (8
simulated coils) and the pysap T2* slice (single coil). Methods: zero-filled, wavelet FISTA
(default lambda, and best of a grid), plug-and-play FISTA with the tied Learnlet (200
iterations), and each trained network (U-net, KIKI, Cascade, PDNet, XPDNet, unrolled
Learnlet). Prints PSNR / SSIM per case, a summary table per acceleration (methods against
cases), then parameters, training time (recorded in each weights file) and inference time
on the 256^2 4-coil T2 slice. ``--timing`` adds the training-step time and peak memory
of PDNet and XPDNet against the number of iterations (5, 10, 20); ``--radial`` NC-PDNet
against wavelet FISTA on 80 golden-angle spokes of the brain slice; ``--learnlet-depths N
...`` the unrolled Learnlet before training (the shipped plug-and-play Learnlet cut at N
iterations after 100 of wavelet FISTA) on the real T2 brain at 4x, and any trained
``--learnlet-weights FILE ...`` beside it.

    python benchmarks/unrolled.py [--weights-dir DIR] [--skip-pnp] [--timing] [--radial]
        [--acceleration 4 8] [--skip-table] [--networks pdnet xpdnet]
        [--learnlet-depths 8 20 40] [--learnlet-weights FILE ...] [--start pnp]
        [--deepinv benchmarks/peer_weights/deepinv_modl.pt]

``--networks`` restricts the table to some networks (every other row is deterministic, so
a retrained network's rows can be re-measured alone). ``--deepinv FILE`` adds the peer:
deepinv's MoDL trained on the same data and budget by ``benchmarks/deepinv_peer.py train``
(its weights: ``benchmarks/peer_weights/deepinv_modl.pt``). ``--start pnp`` starts the networks
that start from CS (PDNet, XPDNet, the unrolled Learnlet) from 200 iterations of
plug-and-play instead, their weights unchanged.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cases import SHARED  # noqa: E402

from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.data.simulation import radial_brain_slice, simulate_acquisition  # noqa: E402
from pysap_mri_dl.metrics import psnr, ssim  # noqa: E402
from pysap_mri_dl.recon import reconstruct_sense, reconstruct_single_coil  # noqa: E402
from pysap_mri_dl.sampling import random_column_mask  # noqa: E402

NETWORKS = ("unet", "kiki", "cascade", "pdnet", "xpdnet", "learnlet-unrolled")
LAMBDA_GRID = (0.0005, 0.001, 0.002, 0.004, 0.008)
"""The lambda factors of the 'best lambda' row (``cartesian_cs.py --acceleration-sweep``'s)."""


def _mask(shape, acceleration):
    return random_column_mask(shape, acceleration=acceleration,
                              center_fraction=0.32 / acceleration, seed=0)


def cases(accelerations=(4, 8)):
    """``{(name, acceleration): (undersampled kspace, mask, reference)}``."""
    images = {}
    brain = load_sample("brain_4coil")
    pysap = load_sample("brain_slice_2d")
    if (SHARED / "mricron_colin27_ch2.nii.gz").exists():
        import nibabel as nib

        from pysap_mri_dl.learn.data.slices import fit_to
        volume = np.asarray(nib.load(str(SHARED / "mricron_colin27_ch2.nii.gz")).dataobj,
                            np.float32)
        for axis, label in enumerate(("sagittal", "coronal", "axial")):
            image = np.take(volume, 160, axis=axis)
            images[f"Colin27 {label} 160, 8 coils"] = (fit_to(image / image.max(), (224, 224)), 8)
        images["Colin27 coronal 160, 1 coil"] = (images["Colin27 coronal 160, 8 coils"][0], 1)
    if (SHARED / "dipy_t1_coronal_slice.npy").exists():
        images["dipy T1, 8 coils"] = (np.load(SHARED / "dipy_t1_coronal_slice.npy"), 8)
    out = {}
    for acceleration in accelerations:
        for name, (image, coils) in images.items():
            acq = simulate_acquisition(image, n_coils=coils, noise=0.002, seed=2)
            mask = _mask(acq.kspace.shape[-2:], acceleration)
            out[name, acceleration] = (acq.kspace * mask, mask, acq.reference)
        mask = _mask((256, 256), acceleration)
        out["T2 brain, 4 real coils", acceleration] = (brain.kspace * mask, mask, brain.reference)
        mask = _mask((512, 512), acceleration)
        out["pysap T2*, 1 coil", acceleration] = (pysap.kspace * mask, mask, pysap.reference)
    return out


def _cs(kspace, mask, **options):
    solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
    return solve(kspace, mask, n_iter=100, **options)


START_ITERATIONS = {"wavelet": 100, "pnp": 200}


def load_networks(weights_dir, names=NETWORKS, start=None):
    """The networks, and with ``start`` ('wavelet' or 'pnp') those whose weights start from
    a classical image started from that one instead (the weights unchanged)."""
    from pysap_mri_dl.learn import load_network
    networks = {}
    for name in names:
        try:
            path = (Path(weights_dir) / name / "model.pt") if weights_dir else None
            network, meta = load_network(name, weights=path)
        except Exception as exc:  # noqa: BLE001 - a missing network is reported, not fatal
            print(f"({name}: {exc})")
            continue
        if start and network.config.get("start", "zero-filled") != "zero-filled":
            network.config.update(start=start, start_iterations=START_ITERATIONS[start])
            name = f"{name}, {start} start"
        networks[name] = (network, meta)
    return networks


def table(args, networks):
    from pysap_mri_dl.learn import learned_prior, reconstruct_network
    timings = {name: [] for name in networks}
    figures = {}  # (case, acceleration) -> {method: (psnr, ssim)}
    print(f"{'case':34s} {'R':>2s} {'method':22s} {'PSNR':>7s} {'SSIM':>6s}")
    for (name, acceleration), (kspace, mask, reference) in cases(args.acceleration).items():
        rows = []
        default = _cs(kspace, mask)
        rows.append(("zero-filled", default.zero_filled))
        rows.append(("wavelet FISTA, default", default.image))
        best = max((_cs(kspace, mask, lam_factor=f).image for f in LAMBDA_GRID),
                   key=lambda image: psnr(reference, image))
        rows.append(("wavelet FISTA, best", best))
        if not args.skip_pnp:
            pnp = (reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil)(
                kspace, mask, prior=learned_prior("learnlet"), n_iter=200)
            rows.append(("PnP Learnlet, 200 it.", pnp.image))
        for label, (network, _) in networks.items():
            result = reconstruct_network(kspace, mask, model=network)
            if kspace.ndim == 3 and kspace.shape[0] == 4:  # the 256^2 4-coil slice
                timings[label].append(result.seconds)
            rows.append((label, result.image))
        for label, image in rows:
            image = np.abs(image)
            figures.setdefault((name, acceleration), {})[label] = (psnr(reference, image),
                                                                   ssim(reference, image))
            print(f"{name:34s} {acceleration:2d} {label:22s} {psnr(reference, image):7.2f} "
                  f"{ssim(reference, image):6.3f}", flush=True)
    summary(figures)
    print(f"\n{'network':20s} {'parameters':>10s} {'training':>12s} {'steps':>6s} "
          f"{'inference, 256^2 4 coils':>25s}")
    for label, (network, meta) in networks.items():
        seconds = np.median(timings[label]) if timings[label] else float("nan")
        print(f"{label:20s} {sum(p.numel() for p in network.parameters()):10d} "
              f"{meta.get('seconds', float('nan')) / 60:9.1f} min {meta.get('steps', 0):6d} "
              f"{seconds:22.2f} s")


def summary(figures):
    """PSNR / SSIM per method (rows) and case (columns), the three held-out Colin27
    orientations averaged into one column; one table per acceleration."""
    columns = {}
    for (name, acceleration), methods in figures.items():
        column = "Colin27 held-out, 8 coils" if name.startswith("Colin27") and "8 coils" in name \
            else name
        for method, values in methods.items():
            columns.setdefault(acceleration, {}).setdefault(column, {}).setdefault(
                method, []).append(values)
    for acceleration, by_column in sorted(columns.items()):
        print(f"\n{acceleration}x: PSNR / SSIM (mean over the cases of a column)")
        names = list(by_column)
        print("| method | " + " | ".join(names) + " |")
        methods = list(next(iter(by_column.values())))
        for method in methods:
            cells = []
            for column in names:
                values = np.array(by_column[column].get(method, [(np.nan, np.nan)]))
                cells.append(f"{values[:, 0].mean():.2f} / {values[:, 1].mean():.3f}")
            print(f"| {method} | " + " | ".join(cells) + " |")


def timing(args):
    """Training-step time and peak memory against the number of unrolled iterations."""
    import torch

    from pysap_mri_dl.learn.training.reconstruction import _example_loss
    from pysap_mri_dl.learn.data.acquisitions import Example
    from pysap_mri_dl.learn.weights import build_model
    brain = load_sample("brain_4coil")
    mask = _mask((256, 256), 4)
    example = Example(brain.kspace * mask, brain.reference, (256, 256), mask=mask)
    print("\ntraining step on the 4-coil brain, 256^2 (seconds, peak resident memory of the "
          "process):")
    for name, options in (("pdnet", dict(features=16)), ("xpdnet", dict(features=8))):
        for n_iter in (5, 10, 20):
            net = build_model(name, kind="reconstruction", n_iter=n_iter, **options)
            _example_loss(net, example, "l1", "cpu").backward()  # warm-up
            start = time.perf_counter()
            for _ in range(2):
                _example_loss(net, example, "l1", "cpu").backward()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"  {name:8s} {n_iter:3d} iterations  {(time.perf_counter() - start) / 2:6.2f} s"
                  f"  {peak:8.0f} MB", flush=True)
            del net
            torch.cuda.empty_cache() if torch.cuda.is_available() else None


def radial_case(args):
    """NC-PDNet on 80 golden-angle spokes of the brain slice (256^2, noise-free)."""
    from pysap_mri_dl.learn import load_network, reconstruct_network
    from pysap_mri_dl.recon import gridding, reconstruct_noncartesian
    kspace, trajectory, reference = radial_brain_slice(80, 256)
    path = (Path(args.weights_dir) / "ncpdnet" / "model.pt") if args.weights_dir else None
    network, _ = load_network("ncpdnet", weights=path)
    rows = {"gridding": gridding(kspace, trajectory, (256, 256)).image,
            "wavelet FISTA": reconstruct_noncartesian(kspace, trajectory, (256, 256),
                                                      n_iter=100).image,
            "NC-PDNet": reconstruct_network(kspace, model=network, trajectory=trajectory,
                                            shape=(256, 256)).image}
    print("\nradial, 80 golden-angle spokes, brain slice 256^2:")
    for label, out in rows.items():
        print(f"  {label:14s} {psnr(reference, np.abs(out)):7.2f} dB  "
              f"SSIM {ssim(reference, np.abs(out)):.3f}")


def learnlet_depths(depths, weights):
    """The unrolled Learnlet on the real T2 brain at 4x: untrained at each depth (the
    shipped plug-and-play Learnlet, unit steps, started from 100 iterations of wavelet
    FISTA), then the shipped weights and each of ``weights``."""
    from pysap_mri_dl.learn import load_network
    from pysap_mri_dl.learn.training.reconstruction import (ReconstructionConfig, _real_brain,
                                                            evaluate, initial_network)
    brain = _real_brain(4)
    print("\nunrolled Learnlet on the real T2 brain, 4x (PSNR / SSIM, inference seconds):")
    rows = []
    for n_iter in depths:
        config = dict(n_iter=n_iter, start="wavelet", start_iterations=100)
        net = initial_network(ReconstructionConfig(model="learnlet-unrolled",
                                                   model_config=config, init="shipped"))
        rows.append((f"untrained, {n_iter} iterations", net))
    for path in [None, *weights]:
        net, meta = load_network("learnlet-unrolled", weights=path)
        rows.append((f"{'shipped' if path is None else path}, {net.config['n_iter']} "
                     f"iterations, {meta.get('steps', '?')} steps", net))
    for label, net in rows:
        start = time.perf_counter()
        figures = evaluate(net.eval(), [brain])
        print(f"  {label:60s} {figures['psnr']:6.2f} / {figures['ssim']:.3f}  "
              f"{time.perf_counter() - start:5.1f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with NAME/model.pt per network (default: shipped weights)")
    parser.add_argument("--skip-pnp", action="store_true", help="leave out plug-and-play")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--radial", action="store_true")
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--acceleration", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--networks", nargs="*", choices=NETWORKS, default=list(NETWORKS),
                        help="the networks of the table (none: the CS and plug-and-play rows)")
    parser.add_argument("--learnlet-depths", type=int, nargs="*", default=[])
    parser.add_argument("--learnlet-weights", type=Path, nargs="*", default=[])
    parser.add_argument("--start", choices=sorted(START_ITERATIONS), default=None,
                        help="start the networks that start from CS from this image instead "
                             "(wavelet: 100 iterations, pnp: 200), their weights unchanged")
    parser.add_argument("--deepinv", type=Path, default=None,
                        help="weights of deepinv's MoDL (deepinv_peer.py train): its rows too")
    args = parser.parse_args()
    if args.deepinv is not None and not args.deepinv.is_file():
        parser.error(f"--deepinv: {args.deepinv} does not exist")
    if args.deepinv is not None and args.skip_table:
        parser.error("--deepinv adds rows to the table: it cannot go with --skip-table")
    if not args.skip_table:
        networks = load_networks(args.weights_dir, args.networks, args.start)
        if args.deepinv is not None:
            from deepinv_peer import load_peer

            from pysap_mri_dl.learn import WeightsError
            try:
                networks["deepinv MoDL"] = load_peer(args.deepinv)
            except WeightsError as exc:
                parser.error(f"--deepinv: {exc}")
        table(args, networks)
    if args.radial:
        radial_case(args)
    if args.timing:
        timing(args)
    if args.learnlet_depths or args.learnlet_weights:
        learnlet_depths(args.learnlet_depths, args.learnlet_weights)


if __name__ == "__main__":
    main()
