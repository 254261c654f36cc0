"""Training a score model: a noise-conditional denoiser trained by denoising score matching.

A denoiser ``D(x, sigma)`` trained to minimise ``E ||D(x + sigma n, sigma) - x||^2`` gives
the score of the noise-smoothed prior by Tweedie's formula, ``grad log p_sigma(x) =
(D(x, sigma) - x) / sigma^2``. Trained over several decades of ``sigma`` (drawn
log-uniformly, each example's error divided by ``sigma^2``: the score-matching weighting
that gives every noise level the same weight), it serves annealed Langevin sampling from
large noise levels to small ones (:mod:`.langevin`). The model is the untied Learnlet (the
structure that generalised from T1 to T2 data where CNNs did not); ``--init shipped``
fine-tunes the shipped score model; the loop is the denoisers' (patches,
augmentation, resumable trainer).
"""
from __future__ import annotations

from ..training.denoising import TrainingConfig, train_denoiser

__all__ = ["score_training_config", "train_score_model", "recalibrate", "SCORE_MODEL"]

SCORE_MODEL = ("learnlet", {"tied": False, "n_scales": 6})
"""The score model's denoiser and its configuration (``--model-config`` adds to it). Six
starlet scales: the coarse band, which a Learnlet passes through, then holds only the
lowest frequencies (below about 1/64 of the band), which the fully sampled k-space centre
measures; with four, low frequencies that neither the prior nor the data constrain
random-walk in the Langevin chains."""


def score_training_config(args, model_config):
    """The denoiser-training configuration of ``pysap-mri-dl train --model score``."""
    low, high = args.sigma_range
    if not 0 < low < high <= 1:
        raise ValueError(f"--sigma-range must satisfy 0 < low < high <= 1, received "
                         f"{tuple(args.sigma_range)}")
    name, config = SCORE_MODEL
    scales = int({**config, **model_config}.get("n_scales", 4))
    if args.patch < 16 or args.patch % 8 or args.patch <= 2 ** scales:
        raise ValueError(f"--patch must be a multiple of 8 larger than {2 ** scales} (the "
                         f"score model's Learnlet has {scales} scales), received {args.patch}")
    if args.axis not in ("0", "1", "2"):
        raise ValueError(f"--axis must be 0, 1 or 2 for --model score, received {args.axis!r}")
    return TrainingConfig(
        model=name, model_config={**config, **model_config}, steps=args.steps,
        minutes=args.minutes, stop_at=args.stop_at, batch_size=args.batch_size,
        patch=args.patch, sigma_range=(low, high), sigma_distribution="log-uniform",
        weighting="score", lr=args.lr, seed=args.seed, intensity_range=(0.15, 1.0),
        min_signal=0.0,  # background patches too: the prior must know that it is empty
        invert_prob=args.invert_prob, train_slices=tuple(args.train_slices),
        val_slices=tuple(args.val_slices), axis=int(args.axis), device=args.device,
        amp=args.amp,
        init="score" if args.init == "shipped" else args.init)


def train_score_model(args, model_config, *, command=""):
    """Train the score model as ``pysap-mri-dl train --model score`` says, then fit the
    calibration of its uncertainty maps on ``args.calibration_examples`` simulated
    acquisitions of the training slices (:mod:`.calibration`); writes ``args.out/model.pt``
    (a denoiser file whose metadata marks it as a score model and holds the calibration)."""
    if args.calibration_examples < 0:
        raise ValueError(f"--calibration-examples must be >= 0, received "
                         f"{args.calibration_examples}")
    config = score_training_config(args, model_config)
    meta = train_denoiser(args.volumes, args.out, config, resume=not args.no_resume,
                          progress=not args.no_progress, command=command,
                          extra_meta={"purpose": "score"})
    if args.calibration_examples and meta["steps"] >= config.steps:  # not after a chunk
        meta = recalibrate(args.out / "model.pt", args.volumes, args.calibration_examples,
                           axis=config.axis, progress=not args.no_progress)
    return meta


def recalibrate(path, volumes, count=8, *, axis=2, schedule=None, std_smoothing=None,
                progress=False):
    """Fit the calibration of the score model file ``path`` on ``count`` simulated
    acquisitions of its own training slices of ``volumes`` (the slice range and seed its
    metadata records; ``axis``, the one it was trained along, ``train --model score``'s
    default 2 unless recorded) with the sampler ``schedule`` (default: ``LangevinSchedule()``)
    and the pooling ``std_smoothing`` of the std maps (default: ``STD_SMOOTHING``), and store
    it in the file's metadata, every other record unchanged (atomically). ``train --model
    score`` calls it after training; call it again when the sampler's defaults change.
    Returns the new metadata."""
    from ..data.slices import load_slices
    from ..weights import load_denoiser, save_denoiser
    from .calibration import calibration_examples, fit_calibration
    from .model import load_score_model
    from .posterior import STD_SMOOTHING
    std_smoothing = STD_SMOOTHING if std_smoothing is None else std_smoothing
    denoiser, meta = load_denoiser(path)
    if "train_slices" not in meta:
        raise ValueError(f"recalibrate: weights file {path} records no train_slices (not "
                         f"trained by this package's command); its calibration needs them")
    slices = load_slices(volumes, int(meta.get("axis", axis)), *meta["train_slices"],
                         stack=False)
    seed = int(meta.get("seed", 0))
    examples = calibration_examples(slices, count, seed=seed)
    meta = dict(meta, calibration=fit_calibration(load_score_model(path), examples,
                                                  schedule=schedule, seed=seed,
                                                  std_smoothing=std_smoothing,
                                                  progress=progress))
    save_denoiser(path, denoiser, name=SCORE_MODEL[0], meta=meta)
    return meta
