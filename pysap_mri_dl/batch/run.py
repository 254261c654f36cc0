"""``reconstruct_many``: every slice of every input as one Dask task, gathered back into one
output folder per input, resumable, failures recorded per input."""
from __future__ import annotations

import copy
import csv
import io
import json
import time
import uuid
from pathlib import Path

import numpy as np

from .inputs import count_slices, find_inputs, finished, volumes
from .cluster import dask_client
from .tasks import reconstruct_slice

__all__ = ["reconstruct_many", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = ("input", "output", "status", "slices", "psnr", "ssim", "zero_filled_psnr",
                   "seconds", "error")
"""Columns of ``summary.csv`` (and keys of each entry of ``summary.json``)."""


def _volume_metrics(results):
    """``metrics.json`` of an input: ``recon``'s own for one slice; for several, the mean
    PSNR / SSIM / NRMSE (and coverage), ``seconds`` summed, the other entries that every
    slice shares (a per-slice value such as ``lam`` only under ``slices``), and the metrics
    of each slice in slice order."""
    per_slice = [r["computed"]["metrics"] for r in results]
    if len(per_slice) == 1:
        return dict(per_slice[0])
    averaged = ("psnr", "ssim", "nrmse", "zero_filled_psnr", "coverage_90",
                "std_error_correlation")
    merged = {key: value for key, value in per_slice[0].items()
              if key not in averaged + ("seconds",) and all(
                  key in m and m[key] == value for m in per_slice[1:])}
    for key in averaged:
        if all(key in m for m in per_slice):
            merged[key] = float(np.mean([m[key] for m in per_slice]))
    merged.update(seconds=float(sum(m["seconds"] for m in per_slice)), slices=per_slice)
    return merged


def publish_volume(volume, results):
    """Stack the slices (in slice order) and write the input's outputs atomically; the
    figure shows the middle slice with its own metrics."""
    from ..cli.main import write_recon
    results = sorted(results, key=lambda r: r["slice"])
    computed = [r["computed"] for r in results]
    middle = computed[len(computed) // 2]
    if len(computed) == 1:
        shown, image = middle, middle["image"]
    else:
        image = np.stack([c["image"] for c in computed])
        reference = None if any(c["reference"] is None for c in computed) else np.stack(
            [c["reference"] for c in computed])
        stacked = ("shown_image", "zero_filled", "std", "shown_std", "samples")
        shown = dict(middle, reference=reference,
                     **{key: np.stack([c[key] for c in computed]) for key in stacked
                        if key in computed[0]})
    metrics = _volume_metrics(results)
    write_recon(volume.out, image, shown, metrics, shown_metrics=middle["metrics"])
    return metrics


REPORTED = ("psnr", "ssim", "zero_filled_psnr", "seconds")
"""Entries of an input's ``metrics.json`` that the summary repeats."""


def _entry(volume, status, **values):
    entry = {column: None for column in SUMMARY_COLUMNS}
    entry.update(input=str(volume.path), output=str(volume.out), status=status, **values)
    return entry


def _finished_entry(metrics):
    """The summary's columns for a finished input, from its ``metrics.json``."""
    slices = (len(metrics.get("slices", [])) or 1) if metrics else None
    return {key: metrics.get(key) for key in REPORTED} | {"slices": slices, "error": None}


def _skipped(volume):
    try:
        metrics = json.loads((volume.out / "metrics.json").read_text())
    except (OSError, ValueError):  # unreadable: reported as skipped without figures
        metrics = {}
    return _entry(volume, "skipped", **_finished_entry(metrics))


def _task_args(args):
    """The options a worker gets: file options as absolute paths (a remote worker runs in
    another folder), so that every machine reads the same files."""
    task = copy.copy(args)
    if getattr(task, "weights", None) is not None:
        task.weights = Path(task.weights).absolute()
    smaps = getattr(task, "smaps", None)
    if smaps is not None and Path(smaps).is_file():
        task.smaps = str(Path(smaps).absolute())
    return task


def _write_reports(out, entries, extra):
    from ..data import atomic_path, write_json
    errors = {e["input"]: e["error"] for e in entries if e["status"] == "failed"}
    write_json(Path(out) / "errors.json", errors)
    write_json(Path(out) / "summary.json", {"inputs": entries, **extra})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_COLUMNS)
    writer.writeheader()
    writer.writerows(entries)
    with atomic_path(Path(out) / "summary.csv") as tmp:
        tmp.write_text(buffer.getvalue())


def reconstruct_many(source, out, args, *, client=None, scheduler=None, workers=2,
                     threads_per_worker=1, progress=True):
    """Reconstruct every slice of every input of ``source`` (a folder, a file or a glob
    pattern of ``.h5``/``.npz`` files) with the parsed ``recon`` options ``args``.

    Each input gets ``out/<name>/recon.nii.gz`` (its slices stacked in order),
    ``recon.png`` and ``metrics.json``, written atomically once all its slices are done; an
    input whose ``metrics.json`` exists is skipped (a rerun completes an interrupted
    batch). A failing input is recorded, not raised. Tasks run on ``client`` (an existing
    ``distributed.Client``), on the cluster at ``scheduler``, or on a local cluster of
    ``workers`` processes x ``threads_per_worker`` threads. Writes ``out/summary.json``,
    ``out/summary.csv`` and ``out/errors.json``; returns the summary (``inputs``: one entry
    per input with the columns of :data:`SUMMARY_COLUMNS`). Options that are wrong for
    every input (:func:`~pysap_mri_dl.cli.main.check_options`) raise before any work."""
    from tqdm.auto import tqdm

    from ..cli.main import check_options
    from ..cli.outputs import check_out_folder
    check_options(args)
    check_out_folder(out)
    start = time.perf_counter()
    out = Path(out)
    todo, entries = [], {}
    for volume in volumes(find_inputs(source), out):
        if finished(volume):
            entries[volume] = _skipped(volume)
            continue
        try:
            todo.append((volume, count_slices(volume.path)))
        except Exception as exc:  # noqa: BLE001 - recorded for this input only
            entries[volume] = _entry(volume, "failed", error=f"{type(exc).__name__}: {exc}")
    used = {}
    with dask_client(client, scheduler, workers, threads_per_worker) as dask:
        from distributed import as_completed
        out.mkdir(parents=True, exist_ok=True)  # once the cluster is there: nothing written
        futures, owner = [], {}
        task_args, run = _task_args(args), uuid.uuid4().hex  # keys unique to this run
        for volume, n_slices in todo:
            for k in range(n_slices):
                future = dask.submit(reconstruct_slice, task_args, volume.path.absolute(), k,
                                     threads_per_worker, key=f"recon-{volume.name}-{k}-{run}",
                                     pure=False)
                futures.append(future)
                owner[future.key] = (volume, k, n_slices)
        gathered = {volume: [] for volume, _ in todo}
        bar = tqdm(total=len(futures), desc="slices", unit="slice", disable=not progress)
        for future in as_completed(futures):
            volume, k, n_slices = owner[future.key]
            try:
                result = dict(future.result(), slice=k)
            except Exception as exc:  # noqa: BLE001 - e.g. a worker killed by memory
                result = {"error": f"{type(exc).__name__}: {exc}", "worker": "unknown",
                          "slice": k}
            future.release()
            bar.update()
            used.setdefault(result["worker"], 0)
            used[result["worker"]] += 1
            if volume in entries:  # an earlier slice failed: the input is already reported
                continue
            if "error" in result:
                entries[volume] = _entry(volume, "failed", slices=n_slices,
                                         error=f"slice {k}: {result['error']}")
                continue
            gathered[volume].append(result)
            if len(gathered[volume]) == n_slices:
                try:
                    metrics = publish_volume(volume, gathered.pop(volume))
                except Exception as exc:  # noqa: BLE001 - e.g. a full disk for this input
                    entries[volume] = _entry(volume, "failed", slices=n_slices,
                                             error=f"{type(exc).__name__}: {exc}")
                    continue
                entries[volume] = _entry(volume, "ok", **_finished_entry(metrics))
        bar.close()
        address = getattr(dask, "scheduler", None)
        address = getattr(address, "address", None) if address is not None else None
    ordered = [entries[v] for v in sorted(entries, key=lambda v: str(v.path))]
    summary = {"inputs": ordered, "scheduler": address, "tasks_per_worker": used,
               "seconds": time.perf_counter() - start,
               "failed": sum(e["status"] == "failed" for e in ordered)}
    _write_reports(out, ordered, {k: v for k, v in summary.items() if k != "inputs"})
    return summary
