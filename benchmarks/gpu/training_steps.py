"""A training step and an inference of every shipped network, in the shipped (CPU-size)
configuration and, for PDNet, XPDNet and NC-PDNet, the seed's configuration, on one torch
device: the figures issue 17 asks of a GPU run, and the CPU ones beside them when run here.

Cartesian models on the real 4-coil T2 brain at 4x (256^2, random columns, seed 0),
NC-PDNet on 80 golden-angle spokes of the bundled brain slice (256^2, Voronoi density). A
step is one example's loss (L1), its backward pass and nothing else; the first step is a
warm-up. Peak memory is the device's allocator peak on CUDA and the process's resident peak
on the CPU (which only rises, so there only the first rows measure a model).

    python benchmarks/gpu/training_steps.py [--device cuda] [--repeats 3] [--models ...]
"""
from __future__ import annotations

import argparse
import resource
import time

import torch

from pysap_mri_dl.learn import load_network
from pysap_mri_dl.learn.training.reconstruction import (_example_loss, _radial_slice,
                                                        _real_brain, measurement_of)
from pysap_mri_dl.learn.weights import build_model

SHIPPED = ["unet", "kiki", "cascade", "pdnet", "xpdnet", "ncpdnet", "learnlet-unrolled"]
SEED_SIZE = ["pdnet", "xpdnet", "ncpdnet"]  # the defaults of build_model: the seed's sizes


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_mb(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(net, example, device, repeats):
    """(seconds per training step, seconds per inference, peak MB)."""
    net = net.to(device).train()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    _example_loss(net, example, "l1", device).backward()  # warm-up
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        net.zero_grad(set_to_none=True)
        _example_loss(net, example, "l1", device).backward()
    _sync(device)
    step = (time.perf_counter() - start) / repeats
    net.eval()
    m = measurement_of(example, device)
    with torch.no_grad():
        net(m)
        _sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            net(m)
        _sync(device)
    return step, (time.perf_counter() - start) / repeats, _peak_mb(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="*", choices=SHIPPED, default=SHIPPED)
    parser.add_argument("--no-seed-size", action="store_true",
                        help="leave out the seed-size configurations")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {device} ({name}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads")
    cartesian, radial = _real_brain(4), _radial_slice()
    rows = [(model, "shipped", load_network(model)[0]) for model in args.models]
    if not args.no_seed_size:
        rows += [(model, "seed size", build_model(model, kind="reconstruction"))
                 for model in SEED_SIZE if model in args.models]
    print(f"{'network':18s} {'configuration':13s} {'parameters':>10s} {'step (s)':>9s} "
          f"{'inference (s)':>13s} {'peak MB':>8s}")
    for model, label, net in rows:
        example = radial if model == "ncpdnet" else cartesian
        try:
            step, inference, peak = measure(net, example, device, args.repeats)
        except Exception as exc:  # noqa: BLE001 - report and go on to the next model
            print(f"{model:18s} {label:13s} failed: {type(exc).__name__}: {exc}", flush=True)
            continue
        count = sum(p.numel() for p in net.parameters())
        print(f"{model:18s} {label:13s} {count:10d} {step:9.3f} {inference:13.3f} {peak:8.0f}",
              flush=True)
        net.to("cpu")
        if device.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
