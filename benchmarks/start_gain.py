"""What training added to a network that starts from wavelet FISTA (``start='wavelet'``):
the trained weights against the same network untrained (which returns its start, the CS
image), per example, on simulated acquisitions of the training slices and of the held-out
slices, drawn as the trainer draws them (the weights' recorded acquisition: coils, noise,
accelerations or spokes), and on the case the docs measure out of distribution (the real
T2 brain at 4x for Cartesian models, 80 radial spokes of the brain slice for radial ones),
and on the trainer's own validation examples (the figure its log records).

A network that learns the training slices' anatomy gains there and loses on the held-out
ones; a gain on both is what generalises. Weights: a ``model.pt`` or a trainer's
``checkpoint.pt``.

    python benchmarks/start_gain.py WEIGHTS [--volume COLIN27] [--count 10]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cases import SHARED  # noqa: E402

from pysap_mri_dl.learn.data.acquisitions import (AcquisitionConfig,  # noqa: E402
                                                  TrajectoryPool, simulate_example)
from pysap_mri_dl.learn.data.slices import load_slices  # noqa: E402
from pysap_mri_dl.learn.training.reconstruction import (  # noqa: E402
    ReconstructionConfig, evaluate, out_of_distribution, validation_examples)
from pysap_mri_dl.learn.weights import WeightsError, build_model, load_model  # noqa: E402


def load_pair(path):
    """``(trained, untrained, name, acquisition, signature, step)`` from a model or a
    checkpoint; ``ValueError`` (or ``WeightsError``) naming the file when it is neither a
    reconstruction network that starts from wavelet FISTA nor a checkpoint of one."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"WEIGHTS {path} cannot be read ({type(exc).__name__})") from None
    if isinstance(payload, dict) and "optimiser" in payload:  # a trainer's checkpoint
        signature = payload.get("config", {})
        if "model_config" not in signature or "acquisition" not in signature:
            raise ValueError(f"WEIGHTS {path} is a checkpoint of no reconstruction network")
        name, config = signature["model"], signature["model_config"]
        trained = build_model(name, kind="reconstruction", **config)
        trained.load_state_dict(payload["state_dict"])
        acquisition, step = signature["acquisition"], payload["step"]
    else:
        trained, meta = load_model(path, kind="reconstruction")
        name, config, signature = payload["model"], payload["config"], meta
        acquisition, step = meta["acquisition"], meta["steps"]
    if config.get("start") != "wavelet":
        raise ValueError(f"WEIGHTS {path}: the network starts from "
                         f"{config.get('start', 'zero-filled')!r}, not from wavelet FISTA "
                         f"(start='wavelet')")
    untrained = build_model(name, kind="reconstruction", **config)
    acq = AcquisitionConfig(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in acquisition.items()})
    return trained.eval(), untrained.eval(), name, acq, signature, step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--volume", type=Path, default=SHARED / "mricron_colin27_ch2.nii.gz")
    parser.add_argument("--count", type=int, default=10, help="examples per slice range")
    args = parser.parse_args()
    if not args.volume.is_file():
        parser.error(f"--volume {args.volume} does not exist")
    if not args.weights.is_file():
        parser.error(f"WEIGHTS {args.weights} does not exist")
    if args.count < 1:
        parser.error(f"--count must be >= 1, received {args.count}")
    try:
        trained, untrained, name, acq, signature, step = load_pair(args.weights)
    except (ValueError, WeightsError) as exc:
        parser.error(str(exc))
    pool = TrajectoryPool(acq.shape, acq.spokes) if acq.trajectory == "radial" else None
    print(f"{name} after {step} steps ({args.weights}); acquisition {dict(vars(acq))}")
    ranges = {"training slices": tuple(signature.get("train_slices", (30, 150))),
              "held-out slices": tuple(signature.get("val_slices", (155, 170)))}
    for label, (first, last) in ranges.items():
        slices = load_slices([args.volume], signature.get("axis", "all"), first, last,
                             stack=False)
        gains, by_acceleration = [], {}
        for i in range(args.count):
            example = simulate_example(slices, acq, np.random.default_rng([1, 2, 3, i]),
                                       pool=pool)
            start, after = (evaluate(net, [example])["psnr"] for net in (untrained, trained))
            gains.append(after - start)
            if "acceleration" in example.meta:
                by_acceleration.setdefault(example.meta["acceleration"], []).append(gains[-1])
            print(f"  {label} {first}-{last - 1}, {example.meta}: start {start:.2f}, "
                  f"trained {after:.2f} ({after - start:+.2f} dB)", flush=True)
        print(f"{label}: mean gain {np.mean(gains):+.2f} dB (min {min(gains):+.2f}, "
              f"max {max(gains):+.2f}) over {args.count} examples")
        for acceleration, values in sorted(by_acceleration.items()):
            print(f"  {label} at {acceleration}x: mean {np.mean(values):+.2f} dB (min "
                  f"{min(values):+.2f}, max {max(values):+.2f}) over {len(values)}")
    config = ReconstructionConfig(model=name, acquisition=acq,
                                  axis=signature.get("axis", "all"),
                                  val_slices=tuple(ranges["held-out slices"]),
                                  seed=signature.get("seed", 0),
                                  n_val=signature.get("n_val", 4))
    val = validation_examples([args.volume], config, pool=pool)
    start, after = (evaluate(net, val)["psnr"] for net in (untrained, trained))
    print(f"the trainer's validation examples: start {start:.2f}, trained {after:.2f} "
          f"({after - start:+.2f} dB)")
    for case, example in out_of_distribution(acq).items():
        start, after = (evaluate(net, [example])["psnr"] for net in (untrained, trained))
        print(f"{case}: start {start:.2f}, trained {after:.2f} ({after - start:+.2f} dB)")


if __name__ == "__main__":
    main()
