"""One operator, any array: FFT, SENSE, NUFFT and a 100-iteration SENSE-wavelet FISTA on
NumPy, torch (CPU) and, when a GPU is present, CuPy and torch (CUDA), in one process.
Prints the time of each and its speed-up over the NumPy run, and (with CuPy + cuFINUFFT)
our NUFFT on CuPy against raw cuFINUFFT.

The problem is 320^2 with 8 coils: the bundled real brain slice resampled to 320^2, with 8
smooth simulated coil sensitivities (normalised to a root-sum-of-squares of one), random
columns at 4x for the Cartesian cases and 320 golden-angle spokes of 640 samples for the
NUFFT.

    python benchmarks/backends.py [--repeats 5] [--fista-iterations 100]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import best_time  # noqa: E402

from pysap_mri_dl import to_numpy  # noqa: E402
from pysap_mri_dl._backend import same_kind  # noqa: E402
from pysap_mri_dl.operators import FFT, NUFFT, SENSE, Wavelet  # noqa: E402
from pysap_mri_dl.optim import LeastSquares, fista  # noqa: E402
from pysap_mri_dl.prox import Analysis, SoftThreshold  # noqa: E402
from pysap_mri_dl.sampling import radial, random_column_mask  # noqa: E402


def coil_maps(n_coils, n):
    """Smooth complex sensitivities of coils placed around the object, RSS = 1."""
    y, x = (np.mgrid[0:n, 0:n] - n / 2) / (n / 2)
    maps = []
    for c in range(n_coils):
        angle = 2 * np.pi * c / n_coils
        distance = np.hypot(x - 1.5 * np.cos(angle), y - 1.5 * np.sin(angle))
        maps.append(np.exp(1j * (angle + np.arctan2(y, x) / 4)) / distance)
    maps = np.stack(maps)
    return (maps / np.sqrt((np.abs(maps) ** 2).sum(0))).astype(np.complex64)


def problem(n=320, n_coils=8):
    from skimage.transform import resize

    from pysap_mri_dl.data import load_sample
    image = resize(load_sample("brain_slice_2d").reference, (n, n), anti_aliasing=True)
    image = (image / image.max()).astype(np.complex64)
    smaps = coil_maps(n_coils, n)
    mask = random_column_mask((n, n), acceleration=4, center_fraction=0.08, seed=0)
    kspace = FFT((n, n), mask=mask, n_coils=n_coils).op(smaps * image)
    return image, smaps, mask, kspace


def kinds():
    """(label, a one-element array of that kind, synchronise function) for what is here."""
    out = [("numpy", np.zeros(1, np.complex64), lambda: None)]
    try:
        import torch
        out.append(("torch-cpu", torch.zeros(1, dtype=torch.complex64), lambda: None))
        if torch.cuda.is_available():
            out.append(("torch-cuda", torch.zeros(1, dtype=torch.complex64, device="cuda"),
                        torch.cuda.synchronize))
    except ImportError:
        pass
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() > 0:
            out.append(("cupy", cupy.zeros(1, cupy.complex64),
                        lambda: cupy.cuda.Device().synchronize()))
    except Exception:  # CuPy or the driver missing
        pass
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fista-iterations", type=int, default=100)
    args = parser.parse_args()
    image, smaps, mask, kspace = problem()
    n, n_coils = image.shape[0], smaps.shape[0]
    trajectory = radial(320, 2 * n, golden=True)
    lam = 2e-3 * float(np.abs(kspace).max())
    rows, reference = [], {}
    for label, like, sync in kinds():
        x = same_kind(image, like)
        coils = same_kind(smaps * image, like)
        maps, data = same_kind(smaps, like), same_kind(kspace, like)
        fft = FFT((n, n), mask=mask, n_coils=n_coils)
        sense = SENSE(maps, mask=mask)
        nufft = NUFFT(trajectory, (n, n), n_coils=n_coils, eps=1e-6)
        samples = same_kind(nufft.op(smaps * image), like) if label == "numpy" else None

        def run_fista():
            prox = Analysis(Wavelet((n, n), wavelet="sym8", levels=4), SoftThreshold(lam))
            return fista(LeastSquares(sense, data), prox, step=1.0,
                         n_iter=args.fista_iterations).x

        timings = {"FFT op+adj (8 coils)": lambda: fft.adj_op(fft.op(coils)),
                   "SENSE op+adj": lambda: sense.adj_op(sense.op(x))}
        try:
            y = samples if samples is not None else same_kind(nufft.op(smaps * image), like)
            nufft.adj_op(y)
            timings["NUFFT op+adj (8 coils)"] = lambda: nufft.adj_op(nufft.op(coils))
        except Exception as exc:  # noqa: BLE001 - e.g. cuFINUFFT missing for CuPy
            print(f"({label}: NUFFT skipped: {type(exc).__name__}: {exc})")
        timings[f"FISTA {args.fista_iterations} it. SENSE-wavelet"] = run_fista
        for name, fn in timings.items():
            repeats = 1 if name.startswith("FISTA") else args.repeats
            seconds = best_time(fn, repeats, sync=sync)
            reference.setdefault(name, seconds if label == "numpy" else None)
            rows.append((name, label, seconds))
        out = to_numpy(run_fista())
        if label == "numpy":
            reference["image"] = out
        else:
            diff = np.linalg.norm(out - reference["image"]) / np.linalg.norm(reference["image"])
            print(f"({label}: FISTA image differs from NumPy's by {diff:.1e} relative)")
    print(f"\n{'task':34s} {'array kind':12s} {'time':>10s} {'speed-up vs numpy':>18s}")
    for name, label, seconds in rows:
        ratio = reference[name] / seconds if reference.get(name) else float("nan")
        print(f"{name:34s} {label:12s} {seconds * 1e3:8.1f} ms {ratio:17.2f}x")
    raw_cufinufft(trajectory, n, smaps * image, args.repeats)


def raw_cufinufft(trajectory, n, coil_images, repeats):
    """Our NUFFT on CuPy against cuFINUFFT called directly (same eps, same points)."""
    try:
        import cufinufft
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return
    except Exception:  # noqa: BLE001
        return
    sync = cupy.cuda.Device().synchronize
    data = cupy.asarray(coil_images)
    ours = NUFFT(trajectory, (n, n), n_coils=coil_images.shape[0], eps=1e-6)
    coords = [cupy.asarray(2 * np.pi * trajectory[:, d], dtype=cupy.float32) for d in range(2)]
    forward = cufinufft.Plan(2, (n, n), n_trans=coil_images.shape[0], eps=1e-6,
                             dtype="complex64")
    forward.setpts(*coords)
    adjoint = cufinufft.Plan(1, (n, n), n_trans=coil_images.shape[0], eps=1e-6,
                             dtype="complex64")
    adjoint.setpts(*coords)
    t_ours = best_time(lambda: ours.adj_op(ours.op(data)), repeats, sync=sync)
    t_raw = best_time(lambda: adjoint.execute(forward.execute(data)), repeats, sync=sync)
    print(f"\nNUFFT op+adj on CuPy: ours {t_ours * 1e3:.2f} ms, raw cuFINUFFT "
          f"{t_raw * 1e3:.2f} ms, ratio {t_ours / t_raw:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
