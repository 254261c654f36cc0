"""Training denoisers on 2D slices of NIfTI volumes (e.g. Colin27), with the shared trainer.

Each step draws a batch of random patches from the training slices (mostly inside the head),
augments them (:func:`~pysap_mri_dl.learn.data.augment`: flips, optionally a T2-like
inverted contrast, random gamma and intensity; then a random smooth phase that makes them
complex), adds Gaussian noise of a standard deviation drawn per image in ``sigma_range``
(to real and imaginary parts) and takes an Adam step on the mean squared error. Everything
random is drawn from generators seeded by ``(seed, step)``, and the loop, checkpoints and
resumption are :func:`~pysap_mri_dl.learn.training.trainer.fit`'s, so a run resumed from a
checkpoint reproduces the uninterrupted run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...metrics import psnr
from ..data import augment, invert_contrast, load_slices
from ..denoisers.cnn import apply_denoiser
from ..weights import build_model, save_denoiser
from .trainer import RUN_ONLY, Schedule, check_device, fit, learning_rate

__all__ = ["TrainingConfig", "train_denoiser", "validation_psnr", "denoising_loss",
           "draw_sigmas", "load_slices", "invert_contrast", "check_device", "learning_rate"]


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
    sigma_distribution: str = "uniform"  # or 'log-uniform' (score models: many decades)
    weighting: str = "mse"            # or 'score': MSE / sigma^2, denoising score matching
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
    amp: bool = False                 # bfloat16 autocast in the forward pass (for CUDA)
    init: str | None = None           # start from these weights (a shipped name or a file)


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
        patch = augment(patch, rng, invert_prob=config.invert_prob,
                        intensity_range=config.intensity_range)
        yy, xx = np.mgrid[0:p, 0:p] / p
        phase = rng.uniform(-np.pi, np.pi) + rng.normal(0, 1.5) * yy + rng.normal(0, 1.5) * xx
        images[b] = patch * np.exp(1j * phase)
    sigma = draw_sigmas(rng, config.sigma_range, config.sigma_distribution, config.batch_size)
    noise = rng.standard_normal((2, config.batch_size, p, p)).astype(np.float32)
    clean = np.stack([images.real, images.imag], 1)
    noisy = clean + sigma[:, None, None, None] * noise.transpose(1, 0, 2, 3)
    return torch.from_numpy(noisy), torch.from_numpy(clean), torch.from_numpy(sigma)


SIGMA_DISTRIBUTIONS = ("uniform", "log-uniform")
WEIGHTINGS = ("mse", "score")


def draw_sigmas(rng, sigma_range, distribution, size):
    """Noise levels of one batch: uniform over ``sigma_range``, or log-uniform (every decade
    as likely: what a score model used over several decades needs)."""
    low, high = sigma_range
    if distribution == "log-uniform":
        sigma = np.exp(rng.uniform(np.log(low), np.log(high), size=size))
    else:
        sigma = rng.uniform(low, high, size=size)
    return sigma.astype(np.float32)


def denoising_loss(model, noisy, clean, sigma, weighting="mse"):
    """Mean squared error of the denoised ``noisy`` ``(N, C, H, W)`` against ``clean``;
    ``weighting='score'`` divides each example's by ``sigma^2``: with Tweedie's formula
    that is ``||sigma score(noisy) + noise||^2``, denoising score matching with the weight
    that treats every noise level alike."""
    error = (apply_denoiser(model, noisy, sigma) - clean) ** 2
    if weighting == "score":
        error = error / sigma.reshape(-1, 1, 1, 1) ** 2
    return torch.mean(error)


def validation_psnr(model, slices, sigma=0.05, seed=1234):
    """Mean PSNR of the denoised magnitude over ``slices`` (real images + noise ``sigma``)."""
    rng = np.random.default_rng(seed)
    values = []
    with torch.no_grad():
        for image in slices:
            h, w = (s - s % 8 for s in image.shape)
            clean = image[:h, :w]
            if not np.any(clean):  # an empty slice has no PSNR
                continue
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
    for name in RUN_ONLY:
        fields.pop(name)
    return fields


def _check(config):
    if not 0 < config.lr < float("inf"):
        raise ValueError(f"--lr must be a positive number, received {config.lr}")
    if config.sigma_distribution not in SIGMA_DISTRIBUTIONS:
        raise ValueError(f"sigma_distribution must be one of {SIGMA_DISTRIBUTIONS}, received "
                         f"{config.sigma_distribution!r}")
    if config.weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, received "
                         f"{config.weighting!r}")
    low, high = config.sigma_range
    positive = config.sigma_distribution == "log-uniform" or config.weighting == "score"
    if not (0 < low if positive else 0 <= low) or not low < high <= 1:
        raise ValueError(f"the noise range must satisfy {'0 <' if positive else '0 <='} "
                         f"low < high <= 1, received {tuple(config.sigma_range)}")


def _start_from(model, config):
    """Load the weights ``config.init`` (a shipped name or a file) into ``model``: a
    fine-tuning starts from them (they must be of the same model and configuration)."""
    from ..weights import PRETRAINED, load_denoiser, pretrained_path
    path = pretrained_path(config.init) if config.init in PRETRAINED else Path(config.init)
    start, _ = load_denoiser(path, expected=config.model)
    if start.config != model.config:
        raise ValueError(f"--init {config.init}: its configuration {start.config} differs from "
                         f"the model's {model.config}")
    model.load_state_dict(start.state_dict())


def train_denoiser(volumes, out, config: TrainingConfig, *, resume=True, progress=True,
                   command="", extra_meta=None):
    """Train ``config.model`` on slices of ``volumes`` and write ``out/model.pt`` (plus
    ``out/checkpoint.pt`` and ``out/log.csv`` while training). Returns the metadata saved
    with the model."""
    out = Path(out)
    _check(config)
    torch.manual_seed(config.seed)
    model = build_model(config.model, **config.model_config)
    if config.init is not None:
        _start_from(model, config)
    train = load_slices(volumes, config.axis, *config.train_slices)
    val = load_slices(volumes, config.axis, *config.val_slices)
    largest = min(train.shape[1:]) // 8 * 8
    if config.patch > min(train.shape[1:]):
        advice = (f"use at most {largest}" if largest >= 16 else
                  "the slices are too small for the smallest patch (16)")
        raise ValueError(f"--patch {config.patch} is larger than the training slices "
                         f"{train.shape[1:]} (axis {config.axis}); {advice}")
    device = torch.device(config.device)

    def loss_fn(net, batch):
        noisy, clean, sigma = (t.to(device) for t in batch)
        return denoising_loss(net, noisy, clean, sigma, config.weighting)

    schedule = Schedule(steps=config.steps, lr=config.lr, lr_final=config.lr_final,
                        stop_at=config.stop_at, minutes=config.minutes,
                        checkpoint_every=config.checkpoint_every, amp=config.amp)
    result = fit(model, lambda step, rank, world: _batch(train, config, step), loss_fn, out,
                 schedule, signature=_signature(config), device=device, resume=resume,
                 progress=progress, desc=f"train {config.model}")
    model = result.model.eval()
    meta = {"steps": result.step, "seconds": result.seconds, "command": command,
            "val_psnr_sigma_0.05": validation_psnr(model, val),
            "train_slices": list(config.train_slices), "val_slices": list(config.val_slices),
            "axis": config.axis, "sigma_range": list(config.sigma_range), "seed": config.seed,
            "sigma_distribution": config.sigma_distribution, "weighting": config.weighting,
            "init": config.init,
            "intensity_range": list(config.intensity_range), "invert_prob": config.invert_prob,
            "parameters": int(sum(p.numel() for p in model.parameters())),
            **(extra_meta or {})}
    save_denoiser(out / "model.pt", model, name=config.model, meta=meta)
    return meta
