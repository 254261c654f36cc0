"""Dataset-scale reconstruction on Dask: :func:`reconstruct_many` (and ``pysap-mri-dl
batch``) runs one task per slice on a local cluster or any Dask cluster, gathers each input
back into one output folder, skips what a previous run finished and records failures."""
from .cluster import local_cluster
from .inputs import find_inputs
from .run import SUMMARY_COLUMNS, reconstruct_many
from .tasks import limit_threads

__all__ = ["reconstruct_many", "find_inputs", "limit_threads", "local_cluster", "SUMMARY_COLUMNS"]
