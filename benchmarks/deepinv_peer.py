"""The peer of the unrolled networks' table: deepinv's MoDL (Aggarwal et al. 2019, as
deepinv implements it: half-quadratic splitting unrolled for 3 iterations, one DnCNN of
depth 7 shared by them, the data step solved by conjugate gradients for multi-coil data and
in closed form for single-coil, step and weight learned per iteration), trained by our
trainer on the same simulated data and for the same budget as the shipped PDNet and XPDNet,
and measured in ``benchmarks/unrolled.py --deepinv WEIGHTS`` beside them.

deepinv's own physics (``MRI``, ``MultiCoilMRI``: centred orthonormal FFT, the package's
convention; ``check`` tests that its adjoint of our k-space is our zero-filled image) and
network do the work; the adapter below only hands them each acquisition as our networks see
it (k-space scaled by the zero-filled maximum, the self-calibrated maps of
``reconstruct_sense``) and returns the complex image, so that the data, the loss, the loop,
the checkpoints and the evaluation are ours, as for every network of the table.

It runs in an environment of its own, ``make peer-deepinv`` (``.venv-deepinv``: torch,
this package, deepinv 0.5.0 and torchvision 0.28.0 with ``--no-deps``, since resolving
deepinv's dependencies pulls a CUDA build of torch). deepinv imports torchvision when it is
imported; where PyPI's torchvision is a CUDA build beside a CPU torch (this project's
machines), its compiled operators do not load and its import stops at the registration of
``torchvision::nms``. :func:`import_deepinv` then declares the schemas of the two operators
that registration needs (never called: deepinv's MRI models use none of torchvision's
operators) and imports again.

    .venv-deepinv/bin/python benchmarks/deepinv_peer.py train VOLUME --out DIR
        [--minutes 30] [--steps 540] [--lr 1e-4] [--stop-at N]
    .venv-deepinv/bin/python benchmarks/deepinv_peer.py check
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

NAME = "deepinv-modl"
TRAINING = dict(acceleration=(4,), coils=(1, 12), noise=(0.0, 0.005))
"""The data of the shipped PDNet and XPDNet (``--acceleration 4 --coils 1 12 --noise 0
0.005``): the same simulated acquisitions of the same Colin27 slices."""

_SCHEMAS = ("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
            "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
_LIBRARY = []


def import_deepinv():
    """``deepinv``, imported (see the module docstring for the torchvision work-around)."""
    try:
        import deepinv
        return deepinv
    except ImportError:
        raise SystemExit("deepinv is not installed in this environment: build its own with "
                         "`make peer-deepinv` and run this with .venv-deepinv/bin/python") from None
    except RuntimeError as exc:
        if "torchvision::" not in str(exc):
            raise
    for name in [n for n in sys.modules if n.split(".")[0] in ("torchvision", "deepinv")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        library.define(schema)
    _LIBRARY.append(library)  # the definitions live as long as the library object
    import deepinv
    return deepinv


class DeepinvMoDL(torch.nn.Module):
    """deepinv's ``MoDL(num_iter)`` behind the interface of the package's networks:
    ``forward(measurement)`` -> complex image ``(ny, nx)`` in the measurement's units."""

    def __init__(self, *, num_iter=3):
        super().__init__()
        deepinv = import_deepinv()
        self.config = {"num_iter": int(num_iter), "deepinv": deepinv.__version__}
        self.model = deepinv.models.MoDL(num_iter=int(num_iter))
        self._physics = deepinv.physics

    def forward(self, m):
        physics, y = deepinv_problem(self._physics, m)
        x = self.model(y, physics)
        return torch.complex(x[0, 0], x[0, 1])


def deepinv_problem(physics_module, m):
    """deepinv's physics and measurements ``y`` ``(1, 2, [coils,] ny, nx)`` for the
    measurement ``m`` (Cartesian): its mask, maps and scaled k-space unchanged."""
    if m.trajectory is not None:
        raise ValueError(f"MoDL here takes Cartesian data; the measurement has a trajectory "
                         f"of shape {np.shape(m.trajectory)}")
    mask = torch.as_tensor(np.asarray(m.mask, np.float32), device=m.kspace.device)
    size = (1, 2) + tuple(m.shape)
    if m.smaps is None:
        physics = physics_module.MRI(mask=mask, img_size=size, device=m.kspace.device)
    else:
        physics = physics_module.MultiCoilMRI(mask=mask, coil_maps=m.smaps[None],
                                              img_size=size, device=m.kspace.device)
    return physics, torch.stack([m.kspace.real, m.kspace.imag])[None]


def check():
    """deepinv's adjoint of our k-space is our zero-filled image (the real 4-coil T2 brain at
    4x, multi-coil and its first coil alone): the conventions agree."""
    from pysap_mri_dl.learn.training.reconstruction import _real_brain
    from pysap_mri_dl.learn.unrolled.physics import cartesian_measurement
    deepinv = import_deepinv()
    brain = _real_brain(4)
    for label, kspace in (("4 coils", brain.kspace), ("1 coil", brain.kspace[0])):
        m = cartesian_measurement(kspace, brain.mask)
        physics, y = deepinv_problem(deepinv.physics, m)
        theirs = physics.A_adjoint(y)
        theirs = torch.complex(theirs[0, 0], theirs[0, 1])
        ours = m.zero_filled()
        error = float((theirs - ours).abs().max() / ours.abs().max())
        print(f"{label}: max |A^H y (deepinv) - A^H y (ours)| / max = {error:.1e}")
        if error > 1e-5:
            raise SystemExit(f"conventions differ ({label}): {error:.1e}")


def load_peer(path):
    """``(DeepinvMoDL, meta)`` from a file written by ``train`` (checked as the package
    checks its own weights: :func:`~pysap_mri_dl.learn.weights.read_weights`)."""
    from pysap_mri_dl.learn.weights import WeightsError, read_weights
    payload = read_weights(path, expected=NAME, kind="reconstruction")
    config = dict(payload["config"])
    trained_with = config.pop("deepinv", None)
    network = DeepinvMoDL(**config)
    if trained_with != network.config["deepinv"]:
        print(f"(note: {path} was trained with deepinv {trained_with}, this is "
              f"{network.config['deepinv']})")
    try:
        network.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise WeightsError(f"weights file {path} does not match deepinv's MoDL: "
                           f"{str(exc).splitlines()[0]}") from None
    return network.eval(), payload.get("meta", {})


def train(args):
    from pysap_mri_dl.learn.data.acquisitions import AcquisitionConfig
    from pysap_mri_dl.learn.training.reconstruction import (ReconstructionConfig,
                                                            train_reconstruction)
    config = ReconstructionConfig(
        model=NAME, model_config={"num_iter": args.num_iter},
        acquisition=AcquisitionConfig(coils=TRAINING["coils"], noise=TRAINING["noise"],
                                      accelerations=TRAINING["acceleration"]),
        steps=args.steps, lr=args.lr, loss="l1", validate_every=args.validate_every,
        minutes=args.minutes, stop_at=args.stop_at)
    torch.manual_seed(config.seed)
    network = DeepinvMoDL(num_iter=args.num_iter)
    try:
        meta = train_reconstruction(args.volumes, args.out, config, network=network,
                                    progress=not args.no_progress,
                                    command=" ".join(sys.argv[1:]))
    except ValueError as exc:  # bad --lr, --steps, a volume that is not a NIfTI image
        print(f"deepinv_peer.py train: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print({k: meta[k] for k in ("steps", "seconds", "parameters", "validation")})


def main():
    from pysap_mri_dl.cli.arguments import count, positive_float
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train MoDL as the shipped PDNet and XPDNet were")
    p.add_argument("volumes", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--num-iter", type=count, default=3,
                   help="MoDL's unrolled iterations")
    p.add_argument("--steps", type=count, default=540)
    p.add_argument("--minutes", type=positive_float, default=30.0)
    p.add_argument("--lr", type=positive_float, default=1e-4,
                   help="Adam's rate (1e-4, as MoDL is commonly trained; 1e-3 diverged here)")
    p.add_argument("--validate-every", type=count, default=180)
    p.add_argument("--stop-at", type=count, default=None)
    p.add_argument("--no-progress", action="store_true")
    sub.add_parser("check", help="deepinv's adjoint of our k-space is our zero-filled image")
    args = parser.parse_args()
    if args.command == "check":
        return check()
    for volume in args.volumes:
        if not volume.is_file():
            parser.error(f"volume {volume} does not exist")
    train(args)


if __name__ == "__main__":
    main()
