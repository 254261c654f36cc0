"""Training reconstruction networks end to end through the package's operators.

Each step draws ``batch_size`` examples (generators seeded by ``(seed, step, index)``):
simulated acquisitions from the training slices of NIfTI volumes (all three orientations
by default; :func:`~pysap_mri_dl.learn.data.acquisitions.simulate_example`) or real
fastMRI k-space undersampled with a fresh mask. Each becomes a
:class:`~pysap_mri_dl.learn.unrolled.physics.Measurement` exactly as at inference (maps
self-calibrated, data scaled by the zero-filled maximum), the network reconstructs it, and
the loss compares the magnitude with the RSS reference (same scale, centre crop to the
reference's shape). The loop is :func:`~pysap_mri_dl.learn.training.trainer.fit`'s.

Validation (every ``validate_every`` steps and at the end): PSNR / SSIM on examples
simulated from the held-out slices (fixed seeds), and an out-of-distribution figure at every
checkpoint: for multi-coil Cartesian models, the bundled real 4-coil T2 brain at 4x
(``t2_brain_*``); for 2D radial models, 80 golden-angle spokes of the bundled pysap brain
slice at 256^2 (``radial_slice_*``, :func:`~pysap_mri_dl.data.simulation.radial_brain_slice`).
Both are the cases the docs' figures are measured on, never seen in training.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...metrics import psnr, ssim
from ..data.acquisitions import AcquisitionConfig, TrajectoryPool, simulate_example
from ..data.slices import load_slices
from ..unrolled.physics import cartesian_measurement, noncartesian_measurement
from ..weights import build_model, save_model
from .trainer import RUN_ONLY, Schedule, distributed_context, fit

__all__ = ["ReconstructionConfig", "train_reconstruction", "measurement_of", "LOSSES",
           "evaluate", "out_of_distribution"]


@dataclass
class ReconstructionConfig:
    model: str = "pdnet"
    model_config: dict = field(default_factory=dict)
    acquisition: AcquisitionConfig = field(default_factory=AcquisitionConfig)
    steps: int = 1000
    batch_size: int = 1
    lr: float = 1e-3
    lr_final: float = 0.05
    loss: str = "l1"
    seed: int = 0
    axis: object = "all"               # 0, 1, 2 or 'all' (the three orientations)
    train_slices: tuple = (30, 150)
    val_slices: tuple = (155, 170)
    n_val: int = 4
    validate_every: int | None = None
    checkpoint_every: int = 50
    minutes: float | None = None
    stop_at: int | None = None
    device: str = "cpu"
    amp: bool = False                  # bfloat16 autocast in the forward pass (for CUDA)
    init: str | None = None            # 'shipped' or a weights file: see initial_network
    grad_clip: float | None = 1.0


def measurement_of(example, device="cpu"):
    """The network's view of an example, as at inference."""
    if example.trajectory is None:
        return cartesian_measurement(example.kspace, example.mask, device=device)
    return noncartesian_measurement(example.kspace, example.trajectory, example.shape,
                                    density=example.density, device=device)


def _crop(image, shape):
    starts = [(a - b) // 2 for a, b in zip(image.shape, shape)]
    return image[tuple(slice(s, s + n) for s, n in zip(starts, shape))]


def _ssim_loss(x, y, window=7):
    """1 - SSIM (uniform ``window``, data range = the reference maximum), differentiable."""
    x, y = x[None, None], y[None, None]
    pool = lambda t: torch.nn.functional.avg_pool2d(t, window, 1)  # noqa: E731
    c1, c2 = (0.01 * y.max()) ** 2, (0.03 * y.max()) ** 2
    mx, my = pool(x), pool(y)
    vx, vy, cxy = pool(x * x) - mx ** 2, pool(y * y) - my ** 2, pool(x * y) - mx * my
    value = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return 1 - value.mean()


LOSSES = {
    "l1": lambda x, y: (x - y).abs().mean() / y.abs().mean(),
    "ssim": _ssim_loss,
    "l1+ssim": lambda x, y: 0.16 * (x - y).abs().mean() / y.abs().mean() + 0.84 * _ssim_loss(x, y),
    "psnr": lambda x, y: 10 * torch.log10((x - y).pow(2).mean().clamp_min(1e-12)
                                          / y.max().pow(2)),
}
"""Per-example losses (output magnitude ``x``, reference ``y``). 'psnr' is minus the
reported figure (dB, reference maximum): every example counts by its gain in dB, so a
network refining a good start (``start='wavelet'``) is not pulled by the worst examples
as with 'l1', whose per-example error is largest where the start is worst."""


def _example_loss(net, example, loss, device):
    m = measurement_of(example, device)
    reference = torch.from_numpy(np.asarray(example.reference, np.float32) / m.scale).to(device)
    model = getattr(net, "module", net)  # unwrapped from DDP
    if hasattr(model, "outer_loss"):  # a DEQ with outer-problem awareness
        model.outer_loss = lambda image: LOSSES[loss](_crop(image.abs(), reference.shape),
                                                      reference)
    output = _crop(net(m).abs(), reference.shape)
    return LOSSES[loss](output, reference)


def evaluate(net, examples, device="cpu"):
    """Mean PSNR / SSIM (dB, reference maximum) of ``net`` over ``examples``, with the
    zero-filled figures beside them."""
    values = {"psnr": [], "ssim": [], "zero_filled_psnr": []}
    for example in examples:
        if not np.any(example.reference):  # an empty slice has no PSNR or SSIM
            continue
        m = measurement_of(example, device)
        with torch.no_grad():
            image = net(m).abs().cpu().numpy() * m.scale
        zero = m.zero_filled().abs().cpu().numpy() * m.scale
        reference = example.reference
        image, zero = _crop(image, reference.shape), _crop(zero, reference.shape)
        values["psnr"].append(psnr(reference, image))
        values["ssim"].append(ssim(reference, image))
        values["zero_filled_psnr"].append(psnr(reference, zero))
    return {k: float(np.mean(v)) for k, v in values.items()}


def _real_brain(acceleration=4):
    """The bundled real 4-coil T2 brain at ``acceleration`` (random columns, seed 0)."""
    from ...data import load_sample
    from ...sampling import random_column_mask
    from ..data.acquisitions import Example
    brain = load_sample("brain_4coil")
    mask = random_column_mask((256, 256), acceleration=acceleration,
                              center_fraction=0.32 / acceleration, seed=0)
    return Example((brain.kspace * mask).astype(np.complex64), brain.reference, (256, 256),
                   mask=mask)


def _radial_slice():
    """80 golden-angle spokes of the bundled brain slice at 256^2 (noise-free), with the
    Voronoi density reconstruct_network computes for it."""
    from ...calibration import voronoi_density
    from ...data.simulation import radial_brain_slice
    from ..data.acquisitions import Example
    kspace, trajectory, reference = radial_brain_slice(80, 256)
    return Example(kspace, reference, (256, 256), trajectory=trajectory,
                   density=voronoi_density(trajectory, (256, 256)))


def out_of_distribution(acq):
    """``{name: Example}``: the real case a model of acquisition ``acq`` is validated on
    beside its held-out slices (none for single-coil Cartesian or 3D radial models)."""
    if acq.trajectory is None:
        return {"t2_brain": _real_brain()} if acq.coils[1] > 1 and len(acq.shape) == 2 else {}
    if acq.trajectory == "radial" and len(acq.shape) == 2:
        return {"radial_slice": _radial_slice()}
    return {}


def _signature(config):
    fields = {k: v for k, v in vars(config).items()
              if k not in RUN_ONLY + ("validate_every", "acquisition")}
    fields["acquisition"] = dict(vars(config.acquisition))
    return fields


def validation_examples(volumes, config, *, pool=None):
    """The ``config.n_val`` simulated validation acquisitions of the held-out slices
    (``config.val_slices``) that :func:`train_reconstruction` validates on (seeded by
    ``config.seed``: the same for every run of the same configuration)."""
    acq = config.acquisition
    if pool is None and acq.trajectory == "radial":
        pool = TrajectoryPool(acq.shape, acq.spokes)
    held_out = load_slices(volumes, config.axis, *config.val_slices, stack=False)
    return [simulate_example(held_out, acq, np.random.default_rng([config.seed, 10 ** 6, i]),
                             pool=pool) for i in range(config.n_val)]


def train_reconstruction(volumes, out, config, *, fastmri=None, resume=True, progress=True,
                         command="", network=None):
    """Train ``config.model`` and write ``out/model.pt`` (with ``checkpoint.pt`` and
    ``log.csv`` while training). Examples are simulated from the NIfTI ``volumes`` or, with
    ``fastmri`` (a folder), taken from real k-space. Returns the metadata saved with it.

    ``network``: a ``torch.nn.Module`` to train instead of the registered ``config.model``
    (a peer's model behind an adapter that maps a :class:`Measurement` to a complex image and
    has a JSON-able ``config``; ``benchmarks/deepinv_peer.py``): the same data, loss, loop
    and file, which :func:`~..weights.load_model` does not rebuild (its name is not
    registered)."""
    from ..data.fastmri import FastMRISlices
    if config.loss not in LOSSES:
        raise ValueError(f"--loss must be one of {sorted(LOSSES)}, received {config.loss!r}")
    if not 0 < config.lr < float("inf") or config.batch_size < 1 or config.steps < 1:
        raise ValueError("--lr must be positive, --batch-size and --steps >= 1")
    if network is not None:
        _check_network(network, config)
    torch.manual_seed(config.seed)
    net = initial_network(config) if network is None else network
    acq = config.acquisition
    pool = TrajectoryPool(acq.shape, acq.spokes) if acq.trajectory == "radial" else None
    if fastmri is not None:
        source, held_out = FastMRISlices(fastmri).split(config.n_val)
        draw = lambda rng, index: source.example(index, acq, rng)  # noqa: E731
        val = [held_out.example(i, acq, np.random.default_rng([config.seed, 10 ** 6, i]))
               for i in range(len(held_out))]
        data = {"fastmri": [f"{p.name}:{k}" for p, k in source.items + held_out.items]}
    else:
        train = load_slices(volumes, config.axis, *config.train_slices, stack=False)
        draw = lambda rng, index: simulate_example(train, acq, rng, pool=pool)  # noqa: E731
        val = validation_examples(volumes, config, pool=pool)
        data = {"volumes": [Path(v).name for v in volumes]}
    real = out_of_distribution(acq)
    device = torch.device(config.device)

    def batch_fn(step, rank, world):
        indices = range(rank, config.batch_size, world)  # this process' share
        return [draw(np.random.default_rng([config.seed, step, i]), step * config.batch_size + i)
                for i in indices]

    def loss_fn(model, examples):
        return sum(_example_loss(model, e, config.loss, device) for e in examples) / len(examples)

    def validate(model):
        figures = {f"val_{k}": v for k, v in evaluate(model, val, device).items()}
        for name, example in real.items():
            figures.update({f"{name}_{k}": v for k, v in evaluate(model, [example],
                                                                  device).items()})
        return figures

    schedule = Schedule(steps=config.steps, lr=config.lr, lr_final=config.lr_final,
                        stop_at=config.stop_at, minutes=config.minutes,
                        checkpoint_every=config.checkpoint_every,
                        validate_every=config.validate_every, grad_clip=config.grad_clip,
                        amp=config.amp)
    # the data are part of what a resumed run must match (the file names and slices)
    result = fit(net, batch_fn, loss_fn, out, schedule, signature={**_signature(config),
                                                                   "data": data},
                 validate=validate, device=device, resume=resume, progress=progress,
                 desc=f"train {config.model}")
    meta = {"steps": result.step, "seconds": result.seconds, "command": command,
            "parameters": int(sum(p.numel() for p in result.model.parameters())),
            "validation": result.validation, "train_slices": list(config.train_slices),
            "val_slices": list(config.val_slices), "axis": config.axis,
            "acquisition": dict(vars(acq)), "loss": config.loss, "seed": config.seed,
            "data": f"fastMRI {fastmri}" if fastmri else [Path(v).name for v in volumes]}
    if distributed_context()[0] == 0:  # one process writes
        save_model(Path(out) / "model.pt", result.model.cpu(), name=config.model,
                   kind="reconstruction", meta=meta)
    return meta


def _check_network(network, config):
    """A network from outside the registry: a module with a dict ``config`` (the weights
    file stores it), and no ``init`` (which names registered weights)."""
    if not isinstance(network, torch.nn.Module) or not isinstance(
            getattr(network, "config", None), dict):
        raise TypeError(f"network must be a torch.nn.Module with a dict `config` attribute, "
                        f"received {type(network).__name__}")
    if config.init is not None:
        raise ValueError(f"init applies to registered models, not to a network passed in "
                         f"(received init={config.init!r}); load its weights before passing it")


RUN_SETTINGS = {"deq": ("backward", "refine", "opa", "max_iter", "solver", "tol",
                        "backward_max_iter", "backward_tol", "fallback_bound", "memory")}
"""Configuration keys that say how a model runs, not what its weights are: fine-tuning a
file may change them (a DEQ trained with implicit gradients, fine-tuned with SHINE)."""


def initial_network(config):
    """The network ``train_reconstruction`` starts from: built from ``config.model_config``
    and, with ``config.init``, loaded with weights. ``init='shipped'``: for
    ``learnlet-unrolled`` and ``deq``, the shipped plug-and-play Learnlet (their untrained
    start); for every other network, its own shipped weights (fine-tuning them). Any other
    ``init`` is a weights file of the same model (fine-tuning a file of one's own).
    Started from weights and given no ``model_config``, the network takes their
    configuration; given one, it must be theirs."""
    from ..weights import load_model, network_path
    name = config.model
    if config.init is None or (config.init == "shipped" and name in ("learnlet-unrolled",
                                                                      "deq")):
        net = build_model(name, kind="reconstruction", **config.model_config)
        if config.init is not None:
            _start_from_shipped(net, name)
        return net
    path = network_path(name) if config.init == "shipped" else Path(config.init)
    start, _ = load_model(path, expected=name, kind="reconstruction")
    settings = RUN_SETTINGS.get(name, ())
    if settings:  # how it runs may change, the rest is the file's
        wanted = {**start.config, **config.model_config}
    else:
        wanted = config.model_config or start.config
    net = build_model(name, kind="reconstruction", **wanted)
    structure = lambda c: {k: v for k, v in c.items() if k not in settings}  # noqa: E731
    if structure(net.config) != structure(start.config):
        raise ValueError(f"--init {config.init}: its configuration {start.config} differs from "
                         f"the model's {net.config} (give its --model-config, or none)")
    net.load_state_dict(start.state_dict())
    return net


def _start_from_shipped(net, name):
    """The unrolled and DEQ Learnlets start from the shipped tied Learnlet (plug-and-play)."""
    from ..weights import load_denoiser, pretrained_path
    if name not in ("learnlet-unrolled", "deq"):
        raise ValueError(f"--init shipped applies to learnlet-unrolled and deq, not {name!r}")
    learnlet, _ = load_denoiser(pretrained_path("learnlet"), expected="learnlet")
    if learnlet.config != net.denoiser.config:
        raise ValueError(f"--init shipped: the shipped Learnlet has configuration "
                         f"{learnlet.config}, the model {net.denoiser.config}")
    net.denoiser.load_state_dict(learnlet.state_dict())
