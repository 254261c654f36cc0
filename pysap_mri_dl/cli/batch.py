"""``pysap-mri-dl batch``: reconstruct a folder of inputs on Dask (see
:mod:`pysap_mri_dl.batch`)."""
from __future__ import annotations

import json

from .arguments import HelpFormatter, count

__all__ = ["add_batch_parser", "run_batch"]

LOCAL_WORKERS = 2
"""Worker processes of the local cluster when ``--workers`` is not given."""


def add_batch_parser(sub, add_recon_options):
    batch = sub.add_parser(
        "batch", help="reconstruct every slice of a folder of inputs on Dask (resumable)",
        formatter_class=HelpFormatter,
        description="Reconstruct every slice of every .h5/.hdf5/.npz input of a folder (or "
                    "glob pattern) with the options of 'recon'; one output folder per input "
                    "(OUT/<name>/recon.nii.gz, recon.png, metrics.json), inputs already done "
                    "skipped, failures in OUT/errors.json; OUT/summary.json and summary.csv. "
                    "Exit status 0 when every input succeeded, 1 otherwise.")
    batch.add_argument("input", help="a folder, a file or a glob pattern (quote it)")
    add_recon_options(batch, one_slice=False)
    group = batch.add_argument_group("Dask")
    group.add_argument("--workers", type=count, default=None,
                       help=f"worker processes of the local cluster, each running one task "
                            f"at a time (default: {LOCAL_WORKERS}; not with --scheduler)")
    group.add_argument("--threads-per-worker", type=count, default=1,
                       help="threads of each task's FFTs, BLAS and torch")
    group.add_argument("--scheduler", default=None,
                       help="address of an existing Dask scheduler (e.g. tcp://host:8786) "
                            "instead of a local cluster")


def run_batch(args) -> int:
    """Run ``batch``; usage errors raise (exit status 2 in ``main``); returns 0 or 1."""
    from ..batch import reconstruct_many
    from ..batch.inputs import find_inputs
    from .main import UsageError, check_options
    from .outputs import check_out_folder
    check_out_folder(args.out)
    check_options(args)
    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--workers sets the size of the local cluster; with --scheduler the "
                         "cluster's own workers run the tasks")
    find_inputs(args.input)  # no input at all is a usage error, before any cluster starts
    args.slice_index = None
    summary = reconstruct_many(args.input, args.out, args, scheduler=args.scheduler,
                               workers=args.workers or LOCAL_WORKERS,
                               threads_per_worker=args.threads_per_worker,
                               progress=not args.no_progress)
    counts = {}
    for entry in summary["inputs"]:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    print(json.dumps({"inputs": len(summary["inputs"]), **counts,
                      "seconds": round(summary["seconds"], 2)}, indent=2))
    for entry in summary["inputs"]:
        if entry["status"] == "failed":
            print(f"failed: {entry['input']}: {entry['error']}")
    print(f"wrote {args.out / 'summary.json'}, {args.out / 'summary.csv'} and "
          f"{args.out / 'errors.json'}")
    return 1 if summary["failed"] else 0
