"""Batch reconstruction throughput: a plain loop against ``reconstruct_many`` on a local Dask
cluster of 1 and 2 single-threaded workers, in one process.

    OMP_NUM_THREADS=1 python benchmarks/batch.py [--slices 20] [--n-iter 100]

The inputs are one fastMRI-style file of ``--slices`` slices (the bundled brain slice at
128^2, shifted, 4 simulated coils, 4x random columns). The loop calls the same per-slice
function as the tasks, in this process with one thread. Printed: seconds, slices per
second, the ratio to the loop, and the overhead per task of the 1-worker run (its time
minus the loop's, per slice), and the per-slice function's own time measured inside the
tasks ("compute/slice": what the overhead is made of when it grows with it). Cluster
start-up is timed separately and not counted.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path



def make_input(folder, n_slices):
    import h5py
    import numpy as np
    from skimage.transform import resize

    from pysap_mri_dl.data import load_sample
    from pysap_mri_dl.data.simulation import simulate_acquisition
    from pysap_mri_dl.sampling import random_column_mask
    image = resize(load_sample("brain_slice_2d").reference, (128, 128), anti_aliasing=True)
    mask = random_column_mask((128, 128), acceleration=4, center_fraction=0.08, seed=1)
    acqs = [simulate_acquisition(np.roll(image, 2 * k, axis=0), n_coils=4, seed=k)
            for k in range(n_slices)]
    path = Path(folder) / "volume.h5"
    with h5py.File(path, "w") as handle:
        handle["kspace"] = np.stack([a.kspace * mask for a in acqs]).astype(np.complex64)
        handle["mask"] = np.asarray(mask, dtype=np.float32).reshape(-1, 128).max(0)
        handle["reconstruction_rss"] = np.stack([a.reference for a in acqs]).astype(np.float32)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=20)
    parser.add_argument("--n-iter", type=int, default=100)
    options = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    from pysap_mri_dl.batch import reconstruct_many
    from pysap_mri_dl.batch.tasks import THREAD_VARIABLES, limit_threads, reconstruct_slice
    from pysap_mri_dl.cli.main import build_parser
    folder = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        path = make_input(folder, options.slices)
        args = build_parser().parse_args(["batch", str(path), "--out", str(folder / "o"),
                                          "--n-iter", str(options.n_iter), "--no-progress"])
        limit_threads(1)
        reconstruct_slice(args, path, 0, 1)  # warm-up (imports, FFT plans)
        start = time.perf_counter()
        for k in range(options.slices):
            assert "computed" in reconstruct_slice(args, path, k, 1)
        loop = time.perf_counter() - start
        compute = {"plain loop, 1 thread": loop / options.slices}
        rows = [("plain loop, 1 thread", loop)]
        for workers in (1, 2):
            began = time.perf_counter()
            env = {name: "1" for name in THREAD_VARIABLES}
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None, env=env, silence_logs=50) as cluster, \
                    Client(cluster) as client:
                client.submit(reconstruct_slice, args, path, 0, 1, pure=False).result()
                startup = time.perf_counter() - began
                start = time.perf_counter()
                summary = reconstruct_many(path, folder / f"out{workers}", args, client=client,
                                           progress=False)
                seconds = time.perf_counter() - start
            assert summary["failed"] == 0
            label = f"Dask, {workers} worker{'s' * (workers > 1)} x 1 thread"
            rows.append((label, seconds))
            # the per-slice function's own time, measured inside the tasks
            compute[label] = summary["inputs"][0]["seconds"] / options.slices
            print(f"(cluster of {workers}: {startup:.1f} s to start and warm up)")
        print(f"{options.slices} slices of 128^2, 4 coils, {options.n_iter} FISTA iterations")
        print(f"{'run':30s} {'seconds':>8s} {'slices/s':>9s} {'vs loop':>8s} "
              f"{'compute/slice':>14s}")
        for label, seconds in rows:
            print(f"{label:30s} {seconds:8.2f} {options.slices / seconds:9.2f} "
                  f"{loop / seconds:7.2f}x {compute[label]:12.2f} s")
        print(f"overhead per task (1 worker - loop, per slice): "
              f"{1e3 * (rows[1][1] - loop) / options.slices:.0f} ms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
