"""Batch reconstruction throughput: a plain loop against ``reconstruct_many`` on a local Dask
cluster of 1 and 2 single-threaded workers, in one process.

    OMP_NUM_THREADS=1 python benchmarks/batch.py [--slices 20] [--n-iter 100]

The inputs are one fastMRI-style file of ``--slices`` slices (the bundled brain slice at
128^2, shifted, 4 simulated coils, 4x random columns). The loop does the same job in this
process with one thread: the same per-slice function as the tasks, then the same outputs
written (NIfTI, PNG, metrics). Printed: seconds, slices per
second, the ratio to the loop, and the overhead per task of the 1-worker run (its time
minus the loop's, per slice), and the per-slice function's own time measured inside the
tasks ("compute/slice": what the overhead is made of when it grows with it). Then where
the CPU time goes: the workers' own CPU time per slice (against the loop's) and the CPU time
of this process, which hosts the client, the scheduler and the nannies of a local cluster
and writes the outputs, on the same cores as the workers. Cluster start-up is timed
separately and not counted.
"""
from __future__ import annotations

import argparse
import resource
import shutil
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


def _process_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def plain_loop(args, path, n_slices, out):
    """The same job without Dask: every slice in turn in this process, then the input's
    outputs written as the batch writes them. Returns the per-slice results."""
    from pysap_mri_dl.batch.inputs import volumes
    from pysap_mri_dl.batch.run import publish_volume
    from pysap_mri_dl.batch.tasks import reconstruct_slice
    results = [dict(reconstruct_slice(args, path, k, 1), slice=k) for k in range(n_slices)]
    assert all("computed" in r for r in results)
    volume, = volumes([path], out)
    publish_volume(volume, results, sum(r["seconds"] for r in results))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=20)
    parser.add_argument("--n-iter", type=int, default=100)
    options = parser.parse_args(argv)
    from pysap_mri_dl.batch import local_cluster, reconstruct_many
    from pysap_mri_dl.batch.tasks import limit_threads, reconstruct_slice
    from pysap_mri_dl.cli.main import build_parser
    folder = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        path = make_input(folder, options.slices)
        args = build_parser().parse_args(["batch", str(path), "--out", str(folder / "o"),
                                          "--n-iter", str(options.n_iter), "--no-progress"])
        limit_threads(1)
        plain_loop(args, path, 1, folder / "warm-up")  # imports, FFT plans, the figure code
        start = time.perf_counter()
        results = plain_loop(args, path, options.slices, folder / "loop")
        loop = time.perf_counter() - start
        label = "plain loop, 1 thread"
        compute = {label: sum(r["seconds"] for r in results) / options.slices}
        rows = [(label, loop)]
        cpu = {}
        for workers in (1, 2):
            began = time.perf_counter()
            with local_cluster(workers, 1) as client:
                client.submit(reconstruct_slice, args, path, 0, 1, pure=False).result()
                startup = time.perf_counter() - began
                worker_cpu = client.run(time.process_time)
                client_cpu = _process_cpu()
                start = time.perf_counter()
                summary = reconstruct_many(path, folder / f"out{workers}", args, client=client,
                                           progress=False)
                seconds = time.perf_counter() - start
                cpu[workers] = (_process_cpu() - client_cpu, sum(
                    after - worker_cpu[w] for w, after in client.run(time.process_time).items()))
            assert summary["failed"] == 0
            label = f"Dask, {workers} worker{'s' * (workers > 1)} x 1 thread"
            rows.append((label, seconds))
            # the per-slice function's own time, measured inside the tasks
            compute[label] = summary["inputs"][0]["seconds"] / options.slices
            print(f"(cluster of {workers}: {startup:.1f} s to start and warm up)")
        print(f"{options.slices} slices of 128^2, 4 coils, {options.n_iter} FISTA iterations, "
              "outputs written")
        print(f"{'run':30s} {'seconds':>8s} {'slices/s':>9s} {'vs loop':>8s} "
              f"{'compute/slice':>14s}")
        for label, seconds in rows:
            print(f"{label:30s} {seconds:8.2f} {options.slices / seconds:9.2f} "
                  f"{loop / seconds:7.2f}x {compute[label]:12.2f} s")
        print(f"overhead per task (1 worker - loop, per slice): "
              f"{1e3 * (rows[1][1] - loop) / options.slices:.0f} ms")
        print(f"writing the outputs (in the loop, and by the client after the last task): "
              f"{loop - compute['plain loop, 1 thread'] * options.slices:.2f} s")
        for workers, (client_seconds, worker_seconds) in cpu.items():
            print(f"CPU time with {workers} worker{'s' * (workers > 1)}: workers "
                  f"{worker_seconds / options.slices:.2f} s per slice, this process (client, "
                  f"scheduler, nannies, writing) {client_seconds:.2f} s in all")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
