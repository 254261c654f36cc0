"""The Dask client a batch runs on: one given by the caller, one connected to a scheduler's
address, or a local cluster of worker processes started with the environment that keeps
reconstructions as fast inside a worker as in a plain loop.

That environment is set *before* the worker processes start (``distributed.nanny.
pre-spawn-environ``; variables passed as ``env=`` reach a worker only after it started,
too late for the C libraries that read them once):

* thread limits (:data:`~pysap_mri_dl.batch.tasks.THREAD_VARIABLES`), so that workers do
  not oversubscribe the cores;
* no ``MALLOC_TRIM_THRESHOLD_``. Dask sets it to 65536 by default to hand memory back to the
  system sooner; setting it at all switches off glibc's adaptive ``mmap`` threshold, so
  every array above 128 kB (a 128^2 four-coil image is 512 kB) is mapped afresh and
  unmapped when freed. Measured in ``benchmarks/batch.py``: 160,000 page faults and 1.5x
  the time for five 128^2 reconstructions inside a worker, 600 in a plain loop.
"""
from __future__ import annotations

import contextlib
import os

from .tasks import THREAD_VARIABLES

__all__ = ["dask_client", "local_cluster", "worker_environment"]

_UNWANTED = ("MALLOC_TRIM_THRESHOLD_",)


def worker_environment(threads_per_worker):
    """Environment variables for a worker process of ``threads_per_worker`` threads."""
    return {name: str(threads_per_worker) for name in THREAD_VARIABLES}


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("batch reconstruction needs Dask's distributed "
                          "(pip install 'pysap-mri-dl[batch]')") from exc
    return distributed


@contextlib.contextmanager
def local_cluster(workers=2, threads_per_worker=1):
    """A ``distributed.Client`` on a new local cluster of ``workers`` processes, each running
    one task at a time on ``threads_per_worker`` compute threads (FFTs, BLAS, torch), started
    with :func:`worker_environment` and without Dask's ``MALLOC_TRIM_THRESHOLD_`` (module
    docstring); closed on exit."""
    import dask
    distributed = _distributed()
    # the workers inherit this process's os.environ, which wins over Dask's pre-spawn
    # environment: set the limits here (a shell's OMP_NUM_THREADS=8 must not reach them)
    # and put ours back once the workers have started
    environment = worker_environment(threads_per_worker)
    saved = {name: os.environ.get(name) for name in (*THREAD_VARIABLES, *_UNWANTED)}
    for name in _UNWANTED:
        os.environ.pop(name, None)
    os.environ.update(environment)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environment}):
            # one task slot per worker: its task uses the threads (limit_threads), so N
            # workers x T threads share the cores; the HTTP server on any free port (8787
            # may be another cluster's)
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=50)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    with cluster, distributed.Client(cluster) as client:
        yield client


@contextlib.contextmanager
def dask_client(client=None, scheduler=None, workers=2, threads_per_worker=1):
    """The client to use: ``client`` as given, one connected to ``scheduler`` (an address),
    or :func:`local_cluster` (closed after)."""
    if client is not None:
        yield client
        return
    if scheduler is None:
        with local_cluster(workers, threads_per_worker) as local:
            yield local
        return
    distributed = _distributed()
    if not str(scheduler).strip():
        raise ValueError("--scheduler: expected a Dask scheduler's address, e.g. "
                         "tcp://host:8786, received ''")
    _check_address(scheduler)
    try:
        connected = distributed.Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
    with connected:
        yield connected


def _check_address(address):
    """A malformed address (no port, unknown scheme) is named before a client is made (a
    client that fails on it leaves Dask's own messages at exit)."""
    from distributed.comm.addressing import get_address_host_port, parse_address
    from distributed.comm.registry import get_backend
    try:
        scheme, _ = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            get_address_host_port(address)
    except ValueError as exc:
        raise ValueError(f"--scheduler {address}: not a Dask scheduler's address, e.g. "
                         f"tcp://host:8786 ({exc})") from None
