"""``pysap-mri-dl train-denoiser``: train a Learnlet, DnCNN or U-Net on NIfTI slices."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from .arguments import (HelpFormatter, add_device_arguments, count, non_negative_int, out_path,
                        positive_float)

__all__ = ["add_train_parser", "run_train"]


def add_train_parser(sub):
    parser = sub.add_parser("train-denoiser", help="train a denoiser on 2D slices of NIfTI "
                                                   "volumes (needs torch)",
                            formatter_class=HelpFormatter)
    parser.add_argument("volumes", nargs="+", type=Path, help="NIfTI volumes (.nii/.nii.gz)")
    parser.add_argument("--model", choices=["learnlet", "dncnn", "unet"], default="learnlet",
                        help="denoiser architecture")
    parser.add_argument("--model-config", default="{}",
                        help='constructor arguments as JSON, e.g. \'{"tied": false}\' for a '
                             'Learnlet with free synthesis filters')
    parser.add_argument("--out", type=out_path, required=True, help="output folder (model.pt)")
    parser.add_argument("--steps", type=count, default=2000, help="training steps")
    parser.add_argument("--minutes", type=positive_float, default=None, help="stop after this time")
    parser.add_argument("--stop-at", type=count, default=None,
                        help="stop at this step (to train in chunks; the learning-rate "
                             "schedule still runs over --steps, and rerunning resumes)")
    parser.add_argument("--batch-size", type=count, default=16, help="patches per step")
    parser.add_argument("--patch", type=count, default=64, help="patch size")
    parser.add_argument("--sigma-max", type=positive_float, default=0.1,
                        help="largest training noise level, relative to the image maximum")
    parser.add_argument("--lr", type=positive_float, default=1e-3,
                        help="initial Adam learning rate "
                        "(cosine decay to 5%% of it at the last step)")
    parser.add_argument("--intensity-range", type=float, nargs=2, default=(0.4, 1.0),
                        help="random intensity scale of each training patch")
    parser.add_argument("--invert-prob", type=float, default=0.0,
                        help="probability of a T2-like inverted contrast per patch")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the run")
    parser.add_argument("--train-slices", type=int, nargs=2, default=(30, 115),
                        help="slice range of the training slices")
    parser.add_argument("--val-slices", type=int, nargs=2, default=(120, 140),
                        help="slice range of the validation slices")
    parser.add_argument("--axis", type=int, default=2, help="slicing axis")
    add_device_arguments(parser)
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def run_train(args, argv=None) -> dict:
    """Train as ``args`` say; ``argv`` (default ``sys.argv[1:]``) is recorded as the command."""
    from ..data import write_json
    from ..learn.training import TrainingConfig, check_device, train_denoiser
    from .outputs import check_out_folder
    check_out_folder(args.out)
    if args.steps < 1 or args.batch_size < 1 or args.patch < 16 or args.patch % 8:
        raise ValueError("--steps and --batch-size must be >= 1, --patch a multiple of 8 >= 16")
    if args.minutes is not None and not 0 < args.minutes < float("inf"):
        raise ValueError(f"--minutes must be a positive number, received {args.minutes}")
    if args.axis not in (0, 1, 2):
        raise ValueError(f"--axis must be 0, 1 or 2 (an axis of the 3D volumes), received "
                         f"{args.axis}")
    if args.stop_at is not None and args.stop_at < 1:
        raise ValueError(f"--stop-at must be >= 1, received {args.stop_at}")
    if not 0 < args.sigma_max <= 1:
        raise ValueError(f"--sigma-max must be in (0, 1], received {args.sigma_max}")
    low, high = args.intensity_range
    if not 0 < low <= high <= 1:
        raise ValueError(f"--intensity-range must satisfy 0 < low <= high <= 1, received "
                         f"{args.intensity_range}")
    if not 0 <= args.invert_prob <= 1:
        raise ValueError(f"--invert-prob must be in [0, 1], received {args.invert_prob}")
    check_device(args.device)
    try:
        model_config = json.loads(args.model_config)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--model-config must be a JSON object, received {args.model_config!r} "
                         f"({exc})") from None
    if not isinstance(model_config, dict):
        raise ValueError(f"--model-config must be a JSON object, received {args.model_config!r}")
    for path in args.volumes:
        if not path.is_file():
            raise ValueError(f"volume {path} does not exist")
    config = TrainingConfig(model=args.model, model_config=model_config, steps=args.steps,
                            minutes=args.minutes, stop_at=args.stop_at,
                            batch_size=args.batch_size, patch=args.patch,
                            sigma_range=(0.0, args.sigma_max), lr=args.lr, seed=args.seed,
                            intensity_range=(low, high), invert_prob=args.invert_prob,
                            device=args.device, amp=args.amp,
                            train_slices=tuple(args.train_slices),
                            val_slices=tuple(args.val_slices), axis=args.axis)
    argv = sys.argv[1:] if argv is None else argv
    command = "pysap-mri-dl " + " ".join(shlex.quote(str(a)) for a in argv)
    meta = train_denoiser(args.volumes, args.out, config, resume=not args.no_resume,
                          progress=not args.no_progress, command=command)
    write_json(Path(args.out) / "training.json", meta)
    return meta
