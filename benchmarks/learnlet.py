"""The Learnlet's CPU path against the same model on torch's own operations, one process:
the shipped tied Learnlet (plug-and-play) and untied Learnlet on a 256^2 complex image
(its real and imaginary parts, a batch of 2), inference and one training step (forward and
backward), best of several runs, with glibc's default allocator settings and after
``retain_freed_memory()`` (what the command line runs with).

"CPU path" is what ``Learnlet`` runs on the CPU: the synthesis as a matrix product and
shifted sums, analysis and synthesis each the other's backward (``_Convolution``), the
clipping with its own backward (``_Clip``); "torch operations" is ``conv2d``,
``conv_transpose2d`` and ``clamp`` with autograd's backwards (``plain_operations()``; the
starlet, shifted copies, is shared).

It ends with the arithmetic: the floating-point operations of one call of the tied
Learnlet (its filter banks: analysis and synthesis, ``2 k^2`` operations per filter, pixel
and band), the rate its CPU path reaches, and the rate of torch's own matrix product on
this machine (a large square float32 product, the best case of the CPU's arithmetic):
what bounds a plug-and-play iteration from below whatever the implementation.

    python benchmarks/learnlet.py [--repeats 7] [--size 256]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import best_time  # noqa: E402

from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.data.simulation import smooth_phase  # noqa: E402
from pysap_mri_dl.learn import load_denoiser, pretrained_path  # noqa: E402
from pysap_mri_dl.learn.denoisers.learnlet import plain_operations  # noqa: E402
from pysap_mri_dl.runtime import retain_freed_memory  # noqa: E402


def _image(size):
    """The T2 brain's magnitude (normalised) with a smooth phase, as its real and imaginary
    parts (the batch a Learnlet prox denoises)."""
    reference = np.abs(load_sample("brain_4coil").reference)[:size, :size]
    image = reference / reference.max() * smooth_phase(reference.shape, seed=0)
    return torch.from_numpy(np.stack([image.real, image.imag])[:, None].astype(np.float32))


def measure(model, image, sigma, repeats):
    """(inference ms, training step ms) for ``model`` on ``image``."""
    noise = torch.full((image.shape[0],), sigma)
    leaf = image.clone().requires_grad_(True)

    def infer():
        with torch.no_grad():
            model(image, noise)

    def train_step():
        model.zero_grad()
        leaf.grad = None
        model(leaf, noise).square().sum().backward()
    return (1e3 * best_time(infer, repeats, inner=3),
            1e3 * best_time(train_step, max(2, repeats // 2), inner=3))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    image = _image(args.size)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"image 2 x {args.size}^2 (real, imaginary)")
    print(f"{'model':18s} {'allocator':22s} {'':11s} {'torch ops':>10s} {'CPU path':>9s} "
          f"{'speed-up':>9s}")
    for label in ("glibc defaults", "retain_freed_memory()"):
        if label != "glibc defaults" and not retain_freed_memory():
            print(f"{label}: not applied (not glibc, or MALLOC_* set in the environment)")
            break
        for name, sigma in (("learnlet", 0.0005), ("learnlet-untied", 0.05)):
            model = load_denoiser(pretrained_path(name))[0].train()
            with plain_operations():
                plain = measure(model, image, sigma, args.repeats)
            fast = measure(model, image, sigma, args.repeats)
            for what, a, b in (("inference", plain[0], fast[0]), ("train step", plain[1], fast[1])):
                print(f"{name:18s} {label:22s} {what:11s} {a:8.1f}ms {b:7.1f}ms {a / b:8.2f}x")
    arithmetic(image, args.repeats)


def filter_flops(model, image):
    """Floating-point operations of the filter banks in one call of ``model`` on ``image``
    ``(B, 1, H, W)``: per band, an analysis and a synthesis of ``n_filters`` filters of
    ``k x k`` (a multiply and an add per tap, pixel and image)."""
    config = model.config
    per_pixel = 2 * 2 * config["n_filters"] * config["kernel_size"] ** 2 * config["n_scales"]
    return per_pixel * image[:, 0].numel()


def arithmetic(image, repeats, size=2048):
    """GFLOP per call of the tied Learnlet, the rate its CPU path reaches, and torch's
    matrix product rate here (``size``^2 float32)."""
    model = load_denoiser(pretrained_path("learnlet"))[0].eval()
    noise = torch.full((image.shape[0],), 0.0005)
    flops = filter_flops(model, image)

    def infer():
        with torch.no_grad():
            model(image, noise)
    seconds = best_time(infer, repeats, inner=3)
    a, b = torch.randn(size, size), torch.randn(size, size)
    matmul = best_time(lambda: torch.matmul(a, b), repeats)
    peak = 2 * size ** 3 / matmul
    print(f"\narithmetic of the tied Learnlet, {tuple(image.shape)}: {flops / 1e9:.2f} GFLOP "
          f"per call in its filter banks; a whole call on the CPU path {1e3 * seconds:.1f} "
          f"ms = {flops / seconds / 1e9:.0f} GFLOP/s of them; torch.matmul {size}^2 here: "
          f"{peak / 1e9:.0f} GFLOP/s, at which the filter banks alone would take "
          f"{1e3 * flops / peak:.1f} ms")


if __name__ == "__main__":
    main()
