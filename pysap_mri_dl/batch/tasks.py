"""The work of one task (one slice of one input), run on a Dask worker, and the thread
limits that keep workers from oversubscribing the cores."""
from __future__ import annotations

import copy
import os
import time

__all__ = ["THREAD_VARIABLES", "limit_threads", "reconstruct_slice"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "PYSAP_MRI_DL_FFT_WORKERS")
"""Environment variables set for the workers of a local cluster (read when a process
starts); :func:`limit_threads` sets the same limits in a running worker."""


def limit_threads(n):
    """At most ``n`` threads for this process's FFTs, NUFFTs, BLAS and torch."""
    from .. import _fourier
    from ..operators import nufft_backends
    _fourier.FFT_WORKERS = n
    nufft_backends._THREADS = n
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    import sys
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def reconstruct_slice(args, path, slice_index, threads):
    """Reconstruct slice ``slice_index`` of ``path`` with the parsed ``recon`` options
    ``args``, exactly as ``pysap-mri-dl recon --slice`` does, without writing anything.

    Returns ``{"computed": ..., "worker": address, "seconds": s}`` or, for an input that
    cannot be reconstructed, ``{"error": message}`` (the batch records it and goes on)."""
    from ..cli.main import compute_recon
    start = time.perf_counter()
    limit_threads(threads)
    task = copy.copy(args)
    task.input, task.slice_index, task.no_progress = path, slice_index, True
    try:
        computed = compute_recon(task, check_out=False)
    except Exception as exc:  # noqa: BLE001 - one bad input must not stop the batch
        return {"error": f"{type(exc).__name__}: {exc}", "worker": _worker()}
    return {"computed": computed, "worker": _worker(),
            "seconds": time.perf_counter() - start}


def _worker():
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return f"local process {os.getpid()}"
