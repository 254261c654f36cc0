"""Deep equilibrium against unrolled: training memory and time per step against depth, and
the backward passes side by side, on the real 4-coil T2 brain (4x random columns), one
process.

0. The forward solve on the real T2 brain: residual against iterations for Anderson and
   Broyden (with and without its restart), the untrained model's PSNR against ``tol``.
1. One training step (forward, L1 loss, backward) of the unrolled Learnlet with N = 5, 10,
   20, 40 iterations and of the DEQ Learnlet with a forward cap of 10, 20, 40 iterations:
   the bytes autograd saves for the backward (``saved_for_backward``; allocator-independent)
   and, on CUDA, the allocator's peak; seconds per step.
2. Each backward pass of the DEQ (implicit, SHINE, SHINE + refine 5, SHINE + OPA,
   Jacobian-free) from the same state: the time of the backward linear solve, the whole
   step's time, and the cosine of the gradient with the implicit one.
3. ``--train-minutes M``: each backward trains the DEQ for M minutes from the shipped
   Learnlet on simulated Colin27 acquisitions (``../shared/data``) at a constant rate, then
   its validation PSNR (the trainer's simulated acquisitions of held-out Colin27 slices, in
   distribution) and its PSNR on the real T2 brain (out of distribution), after equal
   training time.
4. ``--tuning STEPS``: the per-level wavelet weights tuned on simulated Colin27 acquisitions with
   each hypergradient (``pysap-mri-dl tune``'s defaults; ``--tuning-equal-time``: the methods
   after implicit tune for as long as implicit did): held-out loss against tuning time,
   then wavelet FISTA with the tuned weights against the default lambda rule on the real
   slices of ``benchmarks/_cases.py`` (never seen in tuning).

    python benchmarks/deq.py [--size 256] [--device cpu] [--train-minutes 0] [--train-lr 1e-3]
        [--train-backwards implicit shine jacobian-free]
        [--tuning STEPS] [--tuning-delta D] [--tuning-lr LR] [--tuning-equal-time]
        [--skip-solvers] [--skip-depth] [--skip-backward]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from pysap_mri_dl.learn.deq.memory import saved_for_backward
from pysap_mri_dl.learn.training.reconstruction import (ReconstructionConfig, _example_loss,
                                                        _real_brain, evaluate, initial_network)
from pysap_mri_dl.learn.weights import load_model

BACKWARD_OPTIONS = {"implicit": dict(backward="implicit"), "shine": dict(backward="shine"),
                    "shine, no fallback": dict(backward="shine", fallback_bound=None),
                    "shine, refine 5": dict(backward="shine", refine=5),
                    "shine, Broyden": dict(backward="shine", solver="broyden"),
                    "shine, Broyden+OPA": dict(backward="shine", solver="broyden", opa=True),
                    "jacobian-free": dict(backward="jacobian-free")}
"""The forward solve is the model's default (Anderson, tol 1e-5, cap 100) except where
Broyden is named (OPA updates Broyden's estimate)."""


def _model(name, device, **config):
    """``name`` with ``config``, started from the shipped Learnlet as ``train --init shipped``
    starts it."""
    net = initial_network(ReconstructionConfig(model=name, model_config=config, init="shipped"))
    return net.to(device).train()


def _step(net, example, device):
    """One training step's forward and backward: (seconds, saved MB, peak MB or nan)."""
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    cuda = torch.device(device).type == "cuda"
    torch.cuda.synchronize(device) if cuda else None
    start = time.perf_counter()
    with saved_for_backward() as saved:
        loss = _example_loss(net, example, "l1", device)
    loss.backward()
    torch.cuda.synchronize(device) if cuda else None  # the kernels run asynchronously
    seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated(device) / 2 ** 20
            if torch.device(device).type == "cuda" else float("nan"))
    net.zero_grad()
    return seconds, saved["megabytes"], peak


def forward_solvers(device):
    """The forward solve on the real T2 brain (256^2, 4x): relative residual against
    iterations per solver, and the untrained model's PSNR at each tolerance."""
    from pysap_mri_dl.learn.deq.solvers import solve
    from pysap_mri_dl.learn.training.reconstruction import measurement_of
    brain = _real_brain(4)
    net = _model("deq", device).eval()
    m = measurement_of(brain, device)
    start = m.wavelet_reconstruction(30)[None]
    print("\n0. the forward solve on the real T2 brain, 256^2, 4x (untrained DEQ = shipped "
          "plug-and-play Learnlet)\nrelative residual of the 15th / 30th / 45th / 60th iterate "
          "(a step Broyden rejects costs one more of the 60 evaluations):")
    with torch.no_grad():
        for label, method, options in (("anderson", "anderson", dict(memory=30)),
                                       ("broyden", "broyden", dict(memory=30)),
                                       ("broyden, no restart", "broyden",
                                        dict(memory=30, restart=None))):
            h = solve(lambda z: net.step(z, m), start, method, tol=1e-9, max_iter=60,
                      **options).history
            print(f"  {label:20s} " + "  ".join(f"{h[i]:.1e}" for i in (14, 29, 44, 59)
                                                 if i < len(h)), flush=True)
    print("untrained DEQ (Anderson) against the forward tolerance:")
    for tol in (1e-3, 1e-4, 1e-5):
        net = _model("deq", device, tol=tol).eval()
        began = time.perf_counter()
        figure = evaluate(net, [brain], device)["psnr"]
        print(f"  tol {tol:.0e}: {figure:.2f} dB, {net.info['forward_iterations']} iterations, "
              f"{time.perf_counter() - began:.1f} s", flush=True)


def depth(example, device):
    print("\n1. one training step against depth (saved for backward: what autograd keeps)")
    print(f"{'model':28s} {'saved MB':>9s} {'peak MB':>8s} {'s/step':>7s}")
    for n in (5, 10, 20, 40):
        net = _model("learnlet-unrolled", device, n_iter=n, start="wavelet")
        seconds, saved, peak = _step(net, example, device)
        print(f"{'unrolled Learnlet, N=' + str(n):28s} {saved:9.1f} {peak:8.1f} {seconds:7.2f}",
              flush=True)
    for n in (10, 20, 40):
        net = _model("deq", device, max_iter=n, tol=1e-9)
        seconds, saved, peak = _step(net, example, device)
        print(f"{'DEQ, forward cap ' + str(n):28s} {saved:9.1f} {peak:8.1f} {seconds:7.2f}"
              f"  ({net.info['forward_iterations']} iterations)", flush=True)


def backwards(example, device):
    """Each backward from the same state, against central finite differences of the loss in
    the two scalar parameters (the learned noise level and step), whose gradient must pass
    through the fixed point's slow directions."""
    print("\n2. the backward passes from the same state (DEQ, the model's forward solve)")
    fd = {}
    for name in ("log_sigma", "log_step"):
        values = []
        for sign in (1, -1):
            net = _model("deq", device, tol=1e-7, max_iter=400).eval()
            with torch.no_grad():
                getattr(net, name).fill_(sign * 0.01)
                values.append(float(_example_loss(net, example, "l1", device)))
        fd[name] = (values[0] - values[1]) / 0.02
    print(f"finite differences (tol 1e-7): dL/dlog_sigma {fd['log_sigma']:.4f}, "
          f"dL/dlog_step {fd['log_step']:.4f}")
    print(f"{'backward':18s} {'solve s':>8s} {'step s':>7s} {'cos(implicit)':>14s} "
          f"{'dL/dlog_sigma':>14s} {'dL/dlog_step':>13s}")
    reference = None
    for label, options in BACKWARD_OPTIONS.items():
        net = _model("deq", device, **options)
        seconds, _, _ = _step(net, example, device)
        net.train()
        loss = _example_loss(net, example, "l1", device)
        loss.backward()
        gradient = torch.cat([p.grad.flatten() for p in net.parameters() if p.grad is not None])
        reference = gradient if reference is None else reference
        cosine = float(gradient @ reference / (gradient.norm() * reference.norm()))
        print(f"{label:18s} {net.info['backward_seconds']:8.3f} {seconds:7.2f} {cosine:14.4f} "
              f"{float(net.log_sigma.grad):14.4f} {float(net.log_step.grad):13.4f}"
              f"  (fallback {net.info['fallback']}, {net.info['forward_iterations']} forward "
              f"iterations, |u|/|grad L| {net.info.get('amplification', float('nan')):.2f})",
              flush=True)


TRAINED_BACKWARDS = ("implicit", "shine", "jacobian-free")


def training(minutes, device, size, lr=1e-3, n_val=8, labels=TRAINED_BACKWARDS):
    import tempfile
    from pathlib import Path

    from pysap_mri_dl.learn.data.acquisitions import AcquisitionConfig
    from pysap_mri_dl.learn.training.reconstruction import (train_reconstruction,
                                                            validation_examples)
    volume = Path(__file__).resolve().parents[2] / "shared/data/images/mricron_colin27_ch2.nii.gz"
    if not volume.exists():
        print("\n3. skipped: ../shared/data is not here")
        return
    brain = _real_brain(4)
    acquisition = AcquisitionConfig(shape=(size, size), accelerations=(4,))

    def config_for(options):
        # a step count no run reaches in the time: the minutes stop every run, and the rate
        # stays constant (a cosine over 10^6 steps)
        return ReconstructionConfig(model="deq", model_config=dict(options),
                                    acquisition=acquisition, steps=10 ** 6, lr=lr,
                                    minutes=minutes, init="shipped", device=device, n_val=n_val,
                                    checkpoint_every=10 ** 6)

    val = validation_examples([volume], config_for({}))
    untrained = _model("deq", device).eval()
    print(f"\n3. PSNR after {minutes} min of training per backward (from the shipped Learnlet, "
          f"simulated {size}^2 Colin27 crops at 4x, constant Adam rate {lr}): validation = "
          f"the trainer's {n_val} simulated acquisitions of held-out Colin27 slices (in "
          f"distribution); T2 brain = "
          f"the real 4-coil brain (out of distribution). Untrained: validation "
          f"{evaluate(untrained, val, device)['psnr']:.2f} dB, T2 brain "
          f"{evaluate(untrained, [brain], device)['psnr']:.2f} dB")
    for label in labels:
        with tempfile.TemporaryDirectory() as out:
            train_reconstruction([volume], out, config_for(BACKWARD_OPTIONS[label]),
                                 progress=False)
            # the trainer's last validation: the same examples and the real T2 brain
            _, meta = load_model(Path(out) / "model.pt", kind="reconstruction")
            figures = meta["validation"]
            steps = _step_rows(Path(out) / "log.csv")
            fallback = [float(r["fallback"]) for r in steps
                        if r.get("fallback") and label.startswith("shine")]
            print(f"{label:18s} validation {figures['val_psnr']:7.2f} dB, T2 brain "
                  f"{figures['t2_brain_psnr']:7.2f} dB after {meta['steps']} steps (forward "
                  f"iterations {np.mean([float(r['forward_iterations']) for r in steps]):.0f} "
                  f"on average" + (f", fell back in {np.mean(fallback):.0%} of the steps"
                                   if fallback else "") + ")", flush=True)


def _step_rows(path):
    import csv
    with open(path, newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["kind"] == "step"]


def tuning(steps, delta, lr, size=128, examples=4, methods=None, equal_time=False):
    from pysap_mri_dl.recon.tuning import DEFAULT_DELTA
    delta = DEFAULT_DELTA if delta is None else delta
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _cases import SHARED, quality_cases

    from pysap_mri_dl.cli.tune import _examples
    from pysap_mri_dl.recon.tuning import TunedWaveletPrior, tune_wavelet_weights
    from pysap_mri_dl.metrics import psnr
    from pysap_mri_dl.recon import reconstruct_sense, reconstruct_single_coil
    volume = SHARED / "mricron_colin27_ch2.nii.gz"
    if not volume.exists():
        print("\n4. skipped: ../shared/data is not here")
        return
    args = SimpleNamespace(volumes=[volume], shape=(size, size), coils=(4, 8), acceleration=4,
                           axis=2, train_slices=(30, 150), val_slices=(155, 170), seed=0,
                           examples=examples)
    train, held_out = _examples(args)
    print(f"\n4. tuning the per-level weights ({steps} Adam steps of {lr}, Huber width "
          f"{delta}, {examples} training and {examples} held-out acquisitions, {size}^2, "
          f"4-8 coils, 4x)")
    tuned, traces = {}, {}
    for label, options in {"implicit": dict(method="implicit"),
                           "shine": dict(method="shine"),
                           "shine, OPA": dict(method="shine", opa=True),
                           "jacobian-free": dict(method="jacobian-free")}.items():
        if methods and label not in methods:
            continue
        limit = dict(steps=steps)
        if equal_time and label != "implicit" and "implicit" in traces:
            # the cheaper hypergradients get implicit tuning's time rather than its steps
            limit = dict(steps=100 * steps, max_seconds=traces["implicit"][-1]["seconds"])
        result = tune_wavelet_weights(train, held_out=held_out, delta=delta, lr=lr, **limit,
                                      **options)
        tuned[label] = result.weights
        traces[label] = result.trace
        trace = "  ".join(f"{r['seconds']:.0f}s:{r['held_out']:.5f}"
                          for r in result.trace[::max(1, len(result.trace) // 6)])
        print(f"{label:14s} {len(result.trace)} steps, weights {np.round(result.weights, 3)}  "
              f"held-out loss by time "
              f"{trace}  (hypergradient {sum(r['backward_seconds'] for r in result.trace):.1f}"
              f" s of {result.trace[-1]['seconds']:.0f} s)", flush=True)
    if "implicit" in traces:
        target = min(r["held_out"] for r in traces["implicit"])
        print(f"time to reach implicit tuning's best held-out loss ({target:.5f}, within 1%):")
        for label, trace in traces.items():
            reached = [r for r in trace if r["held_out"] <= 1.01 * target]
            print(f"  {label:14s} " + (f"{reached[0]['seconds']:.0f} s (step {reached[0]['step']})"
                                       if reached else f"not reached (best "
                                       f"{min(r['held_out'] for r in trace):.5f})"))
    print("FISTA (100 it.) on real slices never seen in tuning, PSNR dB: the default "
          "reconstruction (decimated Haar, cycle spinning), the tuned problem's prior with the "
          "default rule (weights 1) and with each method's tuned weights")
    for name, (kspace, mask, reference) in quality_cases().items():
        if "Colin27" in name:
            continue
        solve = reconstruct_sense if kspace.ndim == 3 else reconstruct_single_coil
        row = [psnr(reference, solve(kspace, mask, n_iter=100).image)]
        row += [psnr(reference, solve(kspace, mask, prior=TunedWaveletPrior(w), n_iter=100).image)
                for w in [np.ones(4)] + list(tuned.values())]
        print(f"  {name:24s} default {row[0]:.2f}  weights 1 {row[1]:.2f}  " + "  ".join(
            f"{label} {value:.2f}" for label, value in zip(tuned, row[2:])), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="crop of the brain (pixels)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--train-minutes", type=float, default=0)
    parser.add_argument("--train-lr", type=float, default=1e-3,
                        help="Adam's learning rate in part 3 (the shipped DEQ: 1e-4)")
    parser.add_argument("--train-backwards", nargs="+", default=list(TRAINED_BACKWARDS),
                        choices=list(BACKWARD_OPTIONS), help="the backwards part 3 trains")
    parser.add_argument("--tuning", type=int, default=0, metavar="STEPS",
                        help="run part 4 with this many outer steps")
    parser.add_argument("--tuning-delta", type=float, default=None,
                        help="Huber width of the tuned problem (image maximum 1; default "
                             "recon.tuning.DEFAULT_DELTA)")
    parser.add_argument("--tuning-lr", type=float, default=0.1)
    parser.add_argument("--tuning-size", type=int, default=128,
                        help="image side of the simulated tuning acquisitions")
    parser.add_argument("--tuning-examples", type=int, default=4)
    parser.add_argument("--tuning-equal-time", action="store_true",
                        help="the methods after implicit tune for implicit's time, not its steps")
    parser.add_argument("--tuning-methods", nargs="+", default=None,
                        help="a subset of: implicit, shine, 'shine, OPA', jacobian-free")
    parser.add_argument("--skip-solvers", action="store_true")
    parser.add_argument("--skip-depth", action="store_true")
    parser.add_argument("--skip-backward", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    example = _real_brain(4)
    if args.size < 256:
        from pysap_mri_dl.learn.data.acquisitions import Example
        from pysap_mri_dl.data.simulation import simulate_acquisition
        from pysap_mri_dl.sampling import random_column_mask
        from skimage.transform import resize
        image = resize(example.reference, (args.size,) * 2, anti_aliasing=True)
        acq = simulate_acquisition(image, n_coils=4, noise=0.002, seed=0)
        mask = random_column_mask((args.size,) * 2, acceleration=4, center_fraction=0.08,
                                  seed=0)
        example = Example((acq.kspace * mask).astype(np.complex64), acq.reference,
                          (args.size,) * 2, mask=mask)
    print(f"{args.size}^2, 4 coils, 4x, device {args.device}")
    if not args.skip_solvers:
        forward_solvers(args.device)
    if not args.skip_depth:
        depth(example, args.device)
    if not args.skip_backward:
        backwards(example, args.device)
    if args.train_minutes:
        training(args.train_minutes, args.device, min(args.size, 128), args.train_lr,
                 labels=args.train_backwards)
    if args.tuning:
        tuning(args.tuning, args.tuning_delta, args.tuning_lr, args.tuning_size,
               args.tuning_examples, args.tuning_methods, args.tuning_equal_time)


if __name__ == "__main__":
    main()
