"""NUFFT speed: our ``NUFFT`` operator against each library called directly, one process.

Cases: 2D 256^2 image with 256 radial spokes x 512 samples (131k points) and 3D 128^3 image
with a 8000-spoke kooshball x 256 samples (2.05M points); 1 and 8 coils; complex64;
requested accuracy 1e-6 (ducc0, FINUFFT). Each row times one forward plus one adjoint
transform (plans built beforehand, best of ``--repeat``), and its relative error against
a double-precision ducc0 transform at 1e-12 on the same data. The ratio is to the fastest
raw library call of the row's case. PyNUFFT (fixed ~1e-3 kernel) and SigPy (default
kernel) run in 2D only (their 3D planning or run time is minutes on 2 cores).

    python benchmarks/nufft.py [--repeat 3] [--only 2d|3d]
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import best_time  # noqa: E402

from pysap_mri_dl.operators import NUFFT  # noqa: E402
from pysap_mri_dl.sampling import kooshball, radial  # noqa: E402

THREADS = os.cpu_count() or 1
EPS = 1e-6


def raw_ducc0(trajectory, shape, x, y):
    import ducc0
    plan = ducc0.nufft.plan(nu2u=False, coord=trajectory.astype(np.float32), grid_shape=shape,
                            epsilon=EPS, nthreads=THREADS, periodicity=1.0, fft_order=False)
    out = np.empty_like(x)

    def run():
        return plan.u2nu(grid=x, forward=True), plan.nu2u(points=y, forward=False, out=out)
    return run


def raw_finufft(trajectory, shape, x, y):
    import finufft
    coords = [np.ascontiguousarray(2 * np.pi * trajectory[:, d], dtype=np.float32)
              for d in range(len(shape))]
    plans = []
    for kind, sign in ((2, -1), (1, 1)):
        plan = finufft.Plan(kind, shape, n_trans=x.shape[0], eps=EPS, isign=sign,
                            dtype=np.complex64, nthreads=THREADS)
        plan.setpts(*coords)
        plans.append(plan)

    def run():
        return plans[0].execute(x), plans[1].execute(y)
    return run


def raw_pynufft(trajectory, shape, x, y):
    from pynufft import NUFFT as Plan
    plan = Plan()
    plan.plan(2 * np.pi * trajectory, shape, tuple(2 * s for s in shape), (6,) * len(shape))

    def run():
        return ([plan.forward(xi) for xi in x],
                [plan.adjoint(yi) * np.prod(plan.Kd) for yi in y])
    return run


def raw_sigpy(trajectory, shape, x, y):
    import sigpy
    coord = trajectory * np.asarray(shape)  # SigPy wants pixels, last axis = coordinates

    def run():
        return (sigpy.nufft(x, coord), sigpy.nufft_adjoint(y, coord, oshape=x.shape))
    return run


def ours(trajectory, shape, x, y):
    op = NUFFT(trajectory, shape, n_coils=x.shape[0], eps=EPS)
    xs, ys = (x, y) if x.shape[0] > 1 else (x[0], y[0])

    def run():
        return op.op(xs), op.adj_op(ys)
    return run


def relative_error(outputs, reference, scale):
    forward, adjoint = (np.asarray(o) for o in outputs)
    err = [np.linalg.norm(a.ravel() * s - b.ravel()) / np.linalg.norm(b)
           for a, b, s in zip((forward, adjoint), reference, scale)]
    return max(err)


def case(name, trajectory, shape, n_coils, repeat, with_slow):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n_coils,) + shape) + 1j * rng.standard_normal((n_coils,) + shape))
    y = (rng.standard_normal((n_coils, len(trajectory)))
         + 1j * rng.standard_normal((n_coils, len(trajectory))))
    x, y = x.astype(np.complex64), y.astype(np.complex64)
    exact = NUFFT(trajectory, shape, n_coils=n_coils, eps=1e-12)
    reference = (exact.op(x.astype(np.complex128)), exact.adj_op(y.astype(np.complex128)))
    unit = np.sqrt(np.prod(shape))  # our operator is orthonormal-scaled; raw calls are not
    candidates = [("ours: NUFFT (default ducc0)", ours, (1, 1))]
    for label, maker, module in (("raw ducc0", raw_ducc0, "ducc0"),
                                 ("raw finufft", raw_finufft, "finufft")):
        if find_spec(module):
            candidates.append((label, maker, (1 / unit, 1 / unit)))
    if with_slow:
        if find_spec("pynufft"):
            candidates.append(("raw pynufft", raw_pynufft, (1 / unit, 1 / unit)))
        if find_spec("sigpy"):
            candidates.append(("raw sigpy", raw_sigpy, (1, 1)))
    if not find_spec("torchkbnufft"):
        print(f"  ({name}: torchkbnufft not installed, skipped)")
    rows = []
    for label, maker, scale in candidates:
        run = maker(trajectory, shape, x, y)
        seconds = best_time(run, repeat)
        error = relative_error(run(), reference, scale)
        rows.append((label, seconds, error))
    fastest_raw = min(s for label, s, _ in rows if label.startswith("raw") and _ < 1e-4)
    for label, seconds, error in rows:
        print(f"{name:34s} {n_coils:2d} {label:30s} {seconds * 1e3:9.1f} ms {error:9.1e} "
              f"{seconds / fastest_raw:6.2f}x")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["2d", "3d"], default=None)
    args = parser.parse_args()
    print(f"{'case':34s} {'nc':>2s} {'implementation':30s} {'fwd+adj':>12s} {'error':>9s} "
          f"{'ratio':>7s}   ({THREADS} threads)")
    if args.only in (None, "2d"):
        trajectory = radial(256, 512, golden=True)
        for n_coils in (1, 8):
            case("2D 256^2, radial 131k points", trajectory, (256, 256), n_coils, args.repeat,
                 with_slow=True)
    if args.only in (None, "3d"):
        trajectory = kooshball(8000, 256)
        for n_coils in (1, 8):
            case("3D 128^3, kooshball 2.05M points", trajectory, (128, 128, 128), n_coils,
                 args.repeat, with_slow=False)


if __name__ == "__main__":
    main()
