"""The peer of the unrolled networks' table: deepinv's MoDL (Aggarwal et al. 2019, as
deepinv implements it: half-quadratic splitting unrolled for 3 iterations, one DnCNN of
depth 7 shared by them, the data step solved by conjugate gradients, step and weight
learned per iteration), trained by our trainer on the same simulated data and for the same
budget as the shipped PDNet and XPDNet, and measured in ``benchmarks/unrolled.py
--deepinv WEIGHTS`` beside them.

deepinv's own physics (``MRI``, ``MultiCoilMRI``: centred orthonormal FFT, the package's
convention) and network do the work; the adapter below only hands them each acquisition as
our networks see it (k-space scaled by the zero-filled maximum, the self-calibrated maps of
``reconstruct_sense``) and returns the complex image, so that the loss, the data, the
checkpoints and the evaluation are ours, as for every network of the table.

Install (deepinv is not a dependency of the package): ``pip install --no-deps deepinv
torchvision einops natsort torchmetrics lightning-utilities`` (``--no-deps``: resolving
deepinv's dependencies pulls a CUDA build of torch). deepinv imports torchvision when it is
imported; where PyPI's torchvision is a CUDA build beside a CPU torch (this project's
machines), its compiled operators do not load and its import stops at the registration of
``torchvision::nms``. :func:`import_deepinv` then declares the schemas of the two operators
that registration needs (never called: deepinv's MRI models use none of torchvision's
operators) and imports again.

    python benchmarks/deepinv_peer.py train VOLUME --out DIR [--minutes 30] [--steps 450]
        [--lr 1e-3] [--stop-at N]
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

    def __init__(self, num_iter=3):
        super().__init__()
        deepinv = import_deepinv()
        self.config = {"num_iter": int(num_iter), "deepinv": deepinv.__version__}
        self.model = deepinv.models.MoDL(num_iter=int(num_iter))
        self._physics = deepinv.physics

    def forward(self, m):
        if m.trajectory is not None:
            raise ValueError("MoDL here takes Cartesian data")
        mask = torch.as_tensor(np.asarray(m.mask, np.float32), device=m.kspace.device)
        size = (1, 2) + tuple(m.shape)
        if m.smaps is None:
            physics = self._physics.MRI(mask=mask, img_size=size, device=m.kspace.device)
        else:
            physics = self._physics.MultiCoilMRI(mask=mask, coil_maps=m.smaps[None],
                                                 img_size=size, device=m.kspace.device)
        y = torch.stack([m.kspace.real, m.kspace.imag])[None]  # (1, 2, [coils,] ny, nx)
        x = self.model(y, physics)
        return torch.complex(x[0, 0], x[0, 1])


def load_peer(path):
    """``(DeepinvMoDL, meta)`` from a file written by ``train``."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("model") != NAME:
        raise ValueError(f"{path} holds a {payload.get('model')!r} model, not {NAME!r}")
    config = {k: v for k, v in payload["config"].items() if k != "deepinv"}
    network = DeepinvMoDL(**config)
    network.load_state_dict(payload["state_dict"])
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
    network = DeepinvMoDL(args.num_iter)
    meta = train_reconstruction(args.volumes, args.out, config, network=network,
                                progress=not args.no_progress, command=" ".join(sys.argv[1:]))
    print({k: meta[k] for k in ("steps", "seconds", "parameters", "validation")})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train MoDL as the shipped PDNet and XPDNet were")
    p.add_argument("volumes", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--num-iter", type=int, default=3, help="MoDL's unrolled iterations")
    p.add_argument("--steps", type=int, default=450)
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--lr", type=float, default=1e-4,
                   help="Adam's rate (1e-4, as MoDL is commonly trained; 1e-3 diverged here)")
    p.add_argument("--validate-every", type=int, default=150)
    p.add_argument("--stop-at", type=int, default=None)
    p.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    for volume in args.volumes:
        if not volume.is_file():
            parser.error(f"volume {volume} does not exist")
    train(args)


if __name__ == "__main__":
    main()
