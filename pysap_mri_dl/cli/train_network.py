"""``pysap-mri-dl train``: train a reconstruction network (PDNet, XPDNet, NC-PDNet, the
unrolled Learnlet, Cascade-net, KIKI-net, U-net) end to end through the operators."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

__all__ = ["add_train_network_parser", "run_train_network"]

NETWORK_NAMES = ("pdnet", "xpdnet", "ncpdnet", "unet", "kiki", "cascade", "learnlet-unrolled")


def add_train_network_parser(sub):
    parser = sub.add_parser(
        "train", help="train a reconstruction network on simulated acquisitions from NIfTI "
                      "volumes, or on fastMRI k-space (needs torch)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("volumes", nargs="*", type=Path,
                        help="NIfTI magnitude volumes to simulate acquisitions from")
    parser.add_argument("--fastmri", type=Path, default=None,
                        help="a folder of fastMRI .h5 files (fully sampled) instead of volumes")
    parser.add_argument("--model", choices=NETWORK_NAMES, required=True)
    parser.add_argument("--model-config", default="{}",
                        help='constructor arguments as JSON, e.g. \'{"n_iter": 6}\'')
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (model.pt, checkpoint.pt, log.csv)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--stop-at", type=int, default=None,
                        help="stop at this step (train in chunks; rerunning resumes)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this time")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--loss", choices=["l1", "ssim", "l1+ssim"], default="l1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--acceleration", type=int, nargs="+", default=[4, 8],
                        help="Cartesian accelerations drawn per example")
    parser.add_argument("--trajectory", choices=["cartesian", "radial"], default="cartesian")
    parser.add_argument("--spokes", type=int, nargs=2, default=(60, 100),
                        help="radial spoke counts (range)")
    parser.add_argument("--coils", type=int, nargs=2, default=(4, 12), help="coil counts")
    parser.add_argument("--noise", type=float, nargs=2, default=(0.001, 0.005))
    parser.add_argument("--shape", type=int, nargs=2, default=(224, 224),
                        help="image canvas of the simulated examples")
    parser.add_argument("--invert-prob", type=float, default=0.3)
    parser.add_argument("--axis", default="all", help="slicing axis: 0, 1, 2 or all")
    parser.add_argument("--train-slices", type=int, nargs=2, default=(30, 150))
    parser.add_argument("--val-slices", type=int, nargs=2, default=(155, 170))
    parser.add_argument("--validate-every", type=int, default=None)
    parser.add_argument("--init", choices=["shipped"], default=None,
                        help="learnlet-unrolled: start from the shipped tied Learnlet")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def _check(args):
    from ..learn.training import check_device
    from .outputs import check_out_folder
    check_out_folder(args.out)
    if bool(args.volumes) == (args.fastmri is not None):
        raise ValueError("give NIfTI volumes or --fastmri FOLDER (one of them)")
    for path in args.volumes:
        if not path.is_file():
            raise ValueError(f"volume {path} does not exist")
    if args.steps < 1 or args.batch_size < 1:
        raise ValueError("--steps and --batch-size must be >= 1")
    if args.stop_at is not None and args.stop_at < 1:
        raise ValueError(f"--stop-at must be >= 1, received {args.stop_at}")
    if args.minutes is not None and not 0 < args.minutes < float("inf"):
        raise ValueError(f"--minutes must be a positive number, received {args.minutes}")
    if any(a < 1 for a in args.acceleration):
        raise ValueError(f"--acceleration must be >= 1, received {args.acceleration}")
    low, high = args.coils
    if not 1 <= low <= high:
        raise ValueError(f"--coils must satisfy 1 <= low <= high, received {args.coils}")
    if not 0 <= args.noise[0] <= args.noise[1]:
        raise ValueError(f"--noise must satisfy 0 <= low <= high, received {args.noise}")
    if min(args.shape) < 32 or not 0 <= args.invert_prob <= 1:
        raise ValueError("--shape must be >= 32 and --invert-prob in [0, 1]")
    if args.axis not in ("0", "1", "2", "all"):
        raise ValueError(f"--axis must be 0, 1, 2 or all, received {args.axis!r}")
    if args.trajectory == "radial" and args.model != "ncpdnet":
        raise ValueError("--trajectory radial trains ncpdnet (the non-Cartesian model)")
    check_device(args.device)
    try:
        config = json.loads(args.model_config)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--model-config must be a JSON object ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"--model-config must be a JSON object, received {args.model_config!r}")
    return config


def run_train_network(args, argv=None) -> dict:
    """Train as ``args`` say; ``argv`` (default ``sys.argv[1:]``) is recorded as the command."""
    from ..data import write_json
    from ..learn.data.acquisitions import AcquisitionConfig
    from ..learn.training.reconstruction import ReconstructionConfig, train_reconstruction
    model_config = _check(args)
    acquisition = AcquisitionConfig(
        shape=tuple(args.shape), coils=tuple(args.coils), noise=tuple(args.noise),
        accelerations=tuple(args.acceleration), invert_prob=args.invert_prob,
        trajectory=None if args.trajectory == "cartesian" else args.trajectory,
        spokes=tuple(args.spokes))
    config = ReconstructionConfig(
        model=args.model, model_config=model_config, acquisition=acquisition,
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, loss=args.loss,
        seed=args.seed, axis=args.axis if args.axis == "all" else int(args.axis),
        train_slices=tuple(args.train_slices), val_slices=tuple(args.val_slices),
        validate_every=args.validate_every, minutes=args.minutes, stop_at=args.stop_at,
        device=args.device, init=args.init)
    argv = sys.argv[1:] if argv is None else argv
    command = "pysap-mri-dl " + " ".join(shlex.quote(str(a)) for a in argv)
    meta = train_reconstruction(args.volumes, args.out, config, fastmri=args.fastmri,
                                resume=not args.no_resume, progress=not args.no_progress,
                                command=command)
    from ..learn.training.trainer import distributed_context
    if distributed_context()[0] == 0:
        write_json(Path(args.out) / "training.json", meta)
    return meta
