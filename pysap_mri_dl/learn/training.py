"""Training denoisers on 2D slices of NIfTI volumes (e.g. Colin27).

Each step draws a batch of random patches from the training slices (mostly inside the head),
augments them (flips, optionally a T2-like inverted contrast, random gamma and intensity, a
random smooth phase that makes them complex), adds
Gaussian noise of a standard deviation drawn per image in ``sigma_range`` (to real and
imaginary parts) and takes an Adam step on the mean squared error. Everything random is
drawn from generators seeded by ``(seed, step)``, so a run resumed from a checkpoint
reproduces the uninterrupted run; the learning rate follows a cosine decay that depends on
the step only. The checkpoint (model, optimiser, step) is written atomically every
``checkpoint_every`` steps and at the end.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..data import atomic_path
from ..metrics import psnr
from .denoisers import apply_denoiser
from .weights import build_model, save_denoiser

__all__ = ["TrainingConfig", "load_slices", "train_denoiser", "check_device", "invert_contrast",
           "learning_rate"]


@dataclass
class TrainingConfig:
    model: str = "learnlet"
    model_config: dict = field(default_factory=dict)
    steps: int = 2000
    minutes: float | None = None      # stop earlier when this wall time is reached
    stop_at: int | None = None        # stop at this step (schedule still over `steps`)
    batch_size: int = 16
    patch: int = 64
    sigma_range: tuple = (0.0, 0.1)
    lr: float = 1e-3
    lr_final: float = 0.05            # cosine decay to lr * lr_final at the last step
    min_signal: float = 0.1           # patches whose mean is below this are redrawn
    intensity_range: tuple = (0.4, 1.0)  # random intensity scale of each patch
    invert_prob: float = 0.0          # probability of a T2-like inverted contrast
    seed: int = 0
    train_slices: tuple = (30, 115)
    val_slices: tuple = (120, 140)
    axis: int = 2
    checkpoint_every: int = 200
    device: str = "cpu"               # e.g. "cuda": model and batches live there


def load_slices(paths, axis, first, stop):
    """Slices ``[first, stop)`` along ``axis`` of the NIfTI volumes, each scaled to maximum
    1; nearly empty slices are dropped. Returns ``(n, H, W)`` float32."""
    import nibabel as nib
    out = []
    for path in paths:
        try:
            volume = np.asarray(nib.load(str(path)).dataobj, dtype=np.float32)
        except Exception as exc:
            raise ValueError(f"{path}: cannot be read as a NIfTI volume ({exc})") from None
        if volume.ndim != 3:
            raise ValueError(f"{path}: expected a 3D volume, received shape {volume.shape}")
        if not 0 <= first < stop <= volume.shape[axis]:
            raise ValueError(f"{path}: slice range [{first}, {stop}) outside 0..{volume.shape[axis]}")
        for index in range(first, stop):
            image = np.take(volume, index, axis=axis)
            if image.max() > 0 and np.mean(image > 0.1 * image.max()) > 0.05:
                out.append(image / image.max())
    if not out:
        raise ValueError("no usable slices in the given range")
    return np.stack(out).astype(np.float32)


def _batch(slices, config, step):
    rng = np.random.default_rng([config.seed, step])
    n, h, w = slices.shape
    p = config.patch
    images = np.empty((config.batch_size, p, p), np.complex64)
    for b in range(config.batch_size):
        for _ in range(10):  # mostly head, little empty background
            image = slices[rng.integers(n)]
            y, x = rng.integers(0, h - p + 1), rng.integers(0, w - p + 1)
            patch = image[y:y + p, x:x + p]
            if patch.mean() >= config.min_signal:
                break
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        if rng.random() < 0.5:
            patch = patch[::-1]
        if rng.random() < config.invert_prob:
            patch = invert_contrast(patch)
        patch = rng.uniform(*config.intensity_range) * patch ** rng.uniform(0.6, 1.6)
        yy, xx = np.mgrid[0:p, 0:p] / p
        phase = rng.uniform(-np.pi, np.pi) + rng.normal(0, 1.5) * yy + rng.normal(0, 1.5) * xx
        images[b] = patch * np.exp(1j * phase)
    sigma = rng.uniform(*config.sigma_range, size=config.batch_size).astype(np.float32)
    noise = rng.standard_normal((2, config.batch_size, p, p)).astype(np.float32)
    clean = np.stack([images.real, images.imag], 1)
    noisy = clean + sigma[:, None, None, None] * noise.transpose(1, 0, 2, 3)
    return torch.from_numpy(noisy), torch.from_numpy(clean), torch.from_numpy(sigma)


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


def invert_contrast(image, floor=0.1):
    """A T2-like contrast from a T1 image: inside the head (above ``floor``, with a linear ramp
    below it) intensities are flipped, so dark CSF becomes bright and white matter dark."""
    inside = np.clip(image / floor, 0, 1)
    return np.clip(inside * (1 + floor - image), 0, 1).astype(image.dtype)


def learning_rate(config, step):
    """Cosine decay from ``lr`` to ``lr * lr_final`` over ``steps`` (a function of the step
    alone, so that a resumed run follows the same schedule)."""
    progress = min(step / max(config.steps, 1), 1.0)
    decay = 0.5 * (1 + np.cos(np.pi * progress))
    return float(config.lr * (config.lr_final + (1 - config.lr_final) * decay))


def validation_psnr(model, slices, sigma=0.05, seed=1234):
    """Mean PSNR of the denoised magnitude over ``slices`` (real images + noise ``sigma``)."""
    rng = np.random.default_rng(seed)
    values = []
    with torch.no_grad():
        for image in slices:
            h, w = (s - s % 8 for s in image.shape)
            clean = image[:h, :w]
            noisy = clean + sigma * rng.standard_normal(clean.shape).astype(np.float32)
            device = next(model.parameters()).device
            batch = torch.from_numpy(np.stack([noisy, np.zeros_like(noisy)])[None]).to(device)
            out = apply_denoiser(model, batch, torch.tensor([sigma], device=device))[0, 0].cpu().numpy()
            values.append(psnr(clean, out))
    return float(np.mean(values))


def _signature(config):
    """What a checkpoint must share with the run that resumes it: everything that shapes
    the model and the run's trajectory (not the stopping options)."""
    fields = dict(vars(config))
    for name in ("minutes", "stop_at", "device", "checkpoint_every"):
        fields.pop(name)
    return json.loads(json.dumps(fields))  # tuples as lists, as they come back from disk


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


def train_denoiser(volumes, out, config: TrainingConfig, *, resume=True, progress=True,
                   command=""):
    """Train ``config.model`` on slices of ``volumes`` and write ``out/model.pt`` (plus
    ``out/checkpoint.pt`` while training). Returns the metadata saved with the model."""
    from tqdm.auto import tqdm
    out = Path(out)
    if not 0 < config.lr < float("inf"):
        raise ValueError(f"--lr must be a positive number, received {config.lr}")
    torch.manual_seed(config.seed)
    model = build_model(config.model, **config.model_config).to(config.device)
    train = load_slices(volumes, config.axis, *config.train_slices)
    val = load_slices(volumes, config.axis, *config.val_slices)
    largest = min(train.shape[1:]) // 8 * 8
    if config.patch > min(train.shape[1:]):
        advice = (f"use at most {largest}" if largest >= 16 else
                  "the slices are too small for the smallest patch (16)")
        raise ValueError(f"--patch {config.patch} is larger than the training slices "
                         f"{train.shape[1:]} (axis {config.axis}); {advice}")
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    checkpoint = out / "checkpoint.pt"
    signature = _signature(config)
    step = 0
    if resume and checkpoint.exists():
        step = _resume(checkpoint, signature, model, optimiser)

    def save_checkpoint():
        with atomic_path(checkpoint) as tmp:
            torch.save({"model": config.model, "config": signature,
                        "state_dict": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "step": step}, tmp)

    start = time.perf_counter()
    bar = tqdm(total=config.steps, initial=step, desc=f"train {config.model}", unit="step",
               disable=not progress)
    model.train()
    last = config.steps if config.stop_at is None else min(config.steps, config.stop_at)
    while step < last:
        if config.minutes is not None and time.perf_counter() - start > 60 * config.minutes:
            break
        noisy, clean, sigma = (t.to(config.device) for t in _batch(train, config, step))
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(config, step)
        loss = torch.mean((apply_denoiser(model, noisy, sigma) - clean) ** 2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.2e}")
        if step % config.checkpoint_every == 0:
            save_checkpoint()
    bar.close()
    save_checkpoint()
    model.eval()
    meta = {"steps": step, "seconds": time.perf_counter() - start, "command": command,
            "val_psnr_sigma_0.05": validation_psnr(model, val),
            "train_slices": list(config.train_slices), "val_slices": list(config.val_slices),
            "sigma_range": list(config.sigma_range), "seed": config.seed,
            "intensity_range": list(config.intensity_range), "invert_prob": config.invert_prob,
            "parameters": int(sum(p.numel() for p in model.parameters()))}
    save_denoiser(out / "model.pt", model, name=config.model, meta=meta)
    return meta
