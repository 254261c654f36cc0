"""The one training loop every learned model uses (denoisers, unrolled networks, ...).

A model-specific *task* supplies the model, the batch of each step (drawn from generators
seeded by ``(seed, step)``), the loss, and a validation. :func:`fit` adds what every
training needs, identically for every model:

* Adam with a cosine learning-rate decay that is a function of the step alone;
* atomic checkpoints (model, optimiser, step and the run's *signature*: everything that
  shapes the model and the trajectory of the run) every ``checkpoint_every`` steps and at
  the end; a rerun of the same command resumes from the checkpoint and ends with weights
  bit-identical to an uninterrupted run; a checkpoint of another configuration, or an
  unreadable one, is a named error that points to ``--no-resume``;
* ``--stop-at`` (train in chunks, the schedule still runs over ``steps``) and ``--minutes``;
* ``log.csv`` (a row per step: ``step, loss, lr, seconds, peak_memory_mb``; a row per
  validation with its figures), appended atomically enough to survive a kill (one line per
  write, flushed);
* data-parallel training over processes started by ``torchrun`` (DDP, gloo on the CPU,
  NCCL on CUDA): each process computes its share of the global batch, gradients are
  averaged, only rank 0 writes; the result matches one process on the same global batch.
"""
from __future__ import annotations

import csv
import json
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...data import atomic_path

__all__ = ["Schedule", "fit", "RUN_ONLY", "learning_rate", "check_device", "distributed_context",
           "deterministic_cuda",
           "peak_memory_mb"]


@dataclass
class Schedule:
    """How long and how fast: ``steps`` (the schedule's length), ``stop_at`` (stop earlier,
    to train in chunks), ``minutes`` (stop on wall time), ``lr`` decaying by a cosine to
    ``lr * lr_final`` at the last step, checkpoints and validations every so many steps."""

    steps: int = 2000
    lr: float = 1e-3
    lr_final: float = 0.05
    stop_at: int | None = None
    minutes: float | None = None
    checkpoint_every: int = 200
    validate_every: int | None = None
    grad_clip: float | None = None
    amp: bool = False  # mixed precision: the forward pass under bfloat16 autocast


RUN_ONLY = ("minutes", "stop_at", "device", "amp", "checkpoint_every")
"""Training options a resumed run may change (where and how long it runs, not what it
learns): left out of the signature a checkpoint is compared with."""


def learning_rate(schedule, step):
    """Cosine decay from ``lr`` to ``lr * lr_final`` over ``steps`` (a function of the step
    alone, so that a resumed run follows the same schedule)."""
    progress = min(step / max(schedule.steps, 1), 1.0)
    decay = 0.5 * (1 + np.cos(np.pi * progress))
    return float(schedule.lr * (schedule.lr_final + (1 - schedule.lr_final) * decay))


def check_device(name):
    """Raise a ValueError unless ``name`` is a usable torch device (``cpu``, ``cuda:0`` ...)."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"--device must be a torch device such as cpu or cuda, received "
                         f"{name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: torch sees no CUDA device here")
    return device


def peak_memory_mb(device):
    """Peak memory so far: CUDA allocations on a GPU, the process' resident set on the CPU."""
    if torch.device(device).type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


_FITTED = [False]
"""Set when :func:`fit` returns: the processes exit together only after a complete fit (an
error elsewhere exits at once, and torchrun stops the other processes)."""


def distributed_context(device="cpu"):
    """``(rank, world_size)``; starts the process group when launched by ``torchrun``, and
    ends it when the process exits, after a complete fit once every process has reached
    its exit (a process that left first, while rank 0 still wrote the weights, was aborted
    in the interpreter's teardown about one run in six: ``terminate called without an
    active exception``, exit code -6, and torchrun then killed rank 0)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import atexit

    import torch.distributed as dist
    if not dist.is_initialized():
        # the backend follows the training device (NCCL for CUDA, gloo for the CPU, also
        # on a machine with a GPU), unless PYSAP_MRI_DL_DDP_BACKEND names one; on CUDA each
        # process takes the GPU of its local rank (torchrun's LOCAL_RANK)
        cuda = torch.device(device).type == "cuda"
        backend = os.environ.get("PYSAP_MRI_DL_DDP_BACKEND") or ("nccl" if cuda else "gloo")
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
        atexit.register(_end_process_group)
    return dist.get_rank(), dist.get_world_size()


def deterministic_cuda():
    """Deterministic CUDA kernels, so that a resumed run repeats the uninterrupted one on a
    GPU as it does on the CPU (cuDNN's fastest convolution backward passes are not
    deterministic); an operation without a deterministic kernel warns instead of failing."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def _end_process_group():
    import torch.distributed as dist
    if dist.is_initialized():
        if _FITTED[0]:
            dist.barrier()
        dist.destroy_process_group()


class _Log:
    """``log.csv`` in the output folder, one flushed line per row (rank 0 only)."""

    FIELDS = ["kind", "step", "loss", "lr", "seconds", "peak_memory_mb", "metrics",
              "backward_seconds", "forward_iterations", "fallback", "skipped"]

    def __init__(self, path, enabled, resume_step):
        self.path, self.enabled = Path(path), enabled
        if not enabled:
            return
        rows = []
        if resume_step and self.path.exists():  # keep the rows up to the checkpoint
            with open(self.path, newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= resume_step]
        with atomic_path(self.path) as tmp:
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, self.FIELDS)
                writer.writeheader()
                writer.writerows(rows)

    def write(self, **row):
        if not self.enabled:
            return
        with open(self.path, "a", newline="") as handle:
            csv.DictWriter(handle, self.FIELDS).writerow(row)


def _resume(checkpoint, signature, model, optimiser):
    """Load ``checkpoint`` into ``model`` and ``optimiser``; returns its step. Named errors
    for an unreadable file or a checkpoint of another configuration."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupt, not a torch file
        raise ValueError(f"{checkpoint} cannot be read ({type(exc).__name__}); delete it or "
                         "pass --no-resume to start afresh") from None
    saved = state.get("config") if isinstance(state, dict) else None
    if saved is None:
        raise ValueError(f"{checkpoint} was written by an older version (it records no "
                         "configuration to compare with); pass --no-resume to start afresh")
    if saved != signature:
        changed = sorted(k for k in set(saved) | set(signature)
                         if saved.get(k) != signature.get(k))
        raise ValueError(f"{checkpoint} was written by a run with another configuration "
                         f"(differs in: {', '.join(changed)}); resume with the same options, "
                         "or pass --no-resume to start afresh")
    try:
        model.load_state_dict(state["state_dict"])
        optimiser.load_state_dict(state["optimiser"])
        return int(state["step"])
    except (KeyError, RuntimeError, ValueError, TypeError) as exc:
        raise ValueError(f"{checkpoint} does not match the model ({str(exc).splitlines()[0]}); "
                         "pass --no-resume to start afresh") from None


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model (unwrapped), the last step, the wall time
    of this call and the last validation figures."""

    model: torch.nn.Module
    step: int
    seconds: float
    validation: dict = field(default_factory=dict)


def fit(model, batch_fn, loss_fn, out, schedule, *, signature, validate=None, device="cpu",
        resume=True, progress=True, desc="train"):
    """Train ``model`` in ``out`` (``checkpoint.pt``, ``log.csv``).

    ``batch_fn(step, rank, world_size)`` returns this process' part of the global batch of
    ``step`` (deterministic in ``step``); ``loss_fn(model, batch)`` its mean loss (a tensor);
    ``validate(model)`` (optional) a dict of figures, logged every ``validate_every`` steps
    and at the end. ``signature`` (JSON-able) is stored in checkpoints and compared on
    resume.
    """
    from tqdm.auto import tqdm
    device = torch.device(device)
    rank, world = distributed_context(device)
    if device.type == "cuda":
        deterministic_cuda()
    out = Path(out)
    signature = json.loads(json.dumps(signature))  # tuples as lists, as they come back
    model = model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=schedule.lr)
    checkpoint = out / "checkpoint.pt"
    step = _resume(checkpoint, signature, model, optimiser) if (
        resume and checkpoint.exists()) else 0
    trained = model
    if world > 1:
        trained = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[torch.cuda.current_device()] if device.type == "cuda" else None)
    log = _Log(out / "log.csv", rank == 0, step)

    def save_checkpoint():
        if rank != 0:
            return
        with atomic_path(checkpoint) as tmp:
            torch.save({"config": signature, "state_dict": model.state_dict(),
                        "optimiser": optimiser.state_dict(), "step": step}, tmp)

    def run_validation():
        if validate is None or rank != 0:
            return {}
        model.eval()
        with torch.no_grad():
            figures = validate(model)
        model.train()
        log.write(kind="validation", step=step, metrics=json.dumps(figures))
        return figures

    start = time.perf_counter()
    last = schedule.steps if schedule.stop_at is None else min(schedule.steps, schedule.stop_at)
    bar = tqdm(total=schedule.steps, initial=step, desc=desc, unit="step",
               disable=not progress or rank != 0)
    model.train()
    validation = {}
    while step < last:
        if schedule.minutes is not None and time.perf_counter() - start > 60 * schedule.minutes:
            break
        lr = learning_rate(schedule, step)
        for group in optimiser.param_groups:
            group["lr"] = lr
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=schedule.amp):
            loss = loss_fn(trained, batch_fn(step, rank, world))
        optimiser.zero_grad()
        began = time.perf_counter()
        loss.backward()
        backward_seconds = time.perf_counter() - began
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        # one device-to-host read per step (a GPU waits for each)
        finite = bool(torch.stack([torch.isfinite(loss).all(), *(
            torch.isfinite(g).all() for g in grads)]).all())
        if finite:  # a non-finite loss or gradient skips the update: weights stay finite
            if schedule.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), schedule.grad_clip)
            optimiser.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3e}")
        log.write(kind="step", step=step, loss=f"{loss.item():.6g}", lr=f"{lr:.6g}",
                  seconds=f"{time.perf_counter() - start:.3f}",
                  peak_memory_mb=f"{peak_memory_mb(device):.1f}",
                  backward_seconds=f"{backward_seconds:.4f}",
                  forward_iterations=getattr(model, "info", {}).get("forward_iterations", ""),
                  fallback=getattr(model, "info", {}).get("fallback", ""),
                  skipped="" if finite else 1)
        if step % schedule.checkpoint_every == 0:
            save_checkpoint()
        if schedule.validate_every and step % schedule.validate_every == 0 and step < last:
            validation = run_validation()
    bar.close()
    save_checkpoint()
    validation = run_validation() or validation
    _FITTED[0] = True
    return FitResult(model, step, time.perf_counter() - start, validation)
