"""``pysap-mri-dl tune``: tune the per-level weights of the wavelet prior on simulated
acquisitions of NIfTI slices, the hypergradient by SHINE, implicit differentiation or
Jacobian-free (:mod:`pysap_mri_dl.recon.tuning`); ``recon --level-weights`` uses them."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .arguments import HelpFormatter, count, non_negative_int, out_path, positive_float

__all__ = ["add_tune_parser", "run_tune"]


def add_tune_parser(sub):
    parser = sub.add_parser(
        "tune", help="tune the wavelet prior's per-level weights by bilevel optimisation "
                     "(hypergradient by SHINE, implicit or Jacobian-free)",
        formatter_class=HelpFormatter)
    parser.add_argument("volumes", nargs="+", type=Path, help="NIfTI magnitude volumes")
    parser.add_argument("--out", type=out_path, required=True, help="output folder (tuned.json)")
    parser.add_argument("--hypergradient", choices=["shine", "implicit", "jacobian-free"],
                        default="shine", help="how the hypergradient is computed")
    parser.add_argument("--opa", action="store_true",
                        help="SHINE: extra L-BFGS pairs along the outer gradient")
    parser.add_argument("--steps", type=count, default=20, help="outer (Adam) steps")
    parser.add_argument("--lr", type=positive_float, default=0.1,
                        help="Adam step on the log-weights")
    parser.add_argument("--examples", type=count, default=4,
                        help="simulated training acquisitions (and as many held out)")
    parser.add_argument("--acceleration", type=count, default=4, help="of the simulated masks")
    parser.add_argument("--coils", type=count, nargs=2, default=(4, 8), help="coil count range")
    parser.add_argument("--shape", type=count, nargs=2, default=(256, 256),
                        help="image canvas of the simulated acquisitions: whole slices (128^2 "
                             "crops gave weights that over-regularise whole images)")
    parser.add_argument("--axis", type=int, default=2, help="slicing axis")
    parser.add_argument("--train-slices", type=int, nargs=2, default=(30, 150),
                        help="slice range of the training acquisitions")
    parser.add_argument("--val-slices", type=int, nargs=2, default=(155, 170),
                        help="slice range of the held-out acquisitions")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the run")
    return parser


def _examples(args):
    import numpy as np

    from ..learn.data.acquisitions import AcquisitionConfig, simulate_example
    from ..learn.data.slices import load_slices
    config = AcquisitionConfig(shape=tuple(args.shape), coils=tuple(args.coils),
                               accelerations=(args.acceleration,), mask_kinds=("random",))
    out = []
    for offset, slices in ((0, args.train_slices), (1, args.val_slices)):
        images = load_slices(args.volumes, args.axis, *slices, stack=False)
        out.append([simulate_example(images, config, np.random.default_rng([args.seed, offset, i]))
                    for i in range(args.examples)])
    return [[(e.kspace, e.mask, e.reference) for e in group] for group in out]


def run_tune(args, argv=None) -> dict:
    """Tune as ``args`` say and write ``args.out/tuned.json``; returns what it holds."""
    from ..data import write_json
    from ..recon.tuning import tune_wavelet_weights
    from .outputs import check_out_folder
    check_out_folder(args.out)
    for path in args.volumes:
        if not path.is_file():
            raise ValueError(f"volume {path} " + ("is a folder: give NIfTI files"
                                                 if path.is_dir() else "does not exist"))
    if args.steps < 1 or args.examples < 1 or args.acceleration < 1:
        raise ValueError("--steps, --examples and --acceleration must be >= 1")
    if not 0 < args.lr < float("inf"):
        raise ValueError(f"--lr must be a positive number, received {args.lr}")
    if args.opa and args.hypergradient != "shine":
        raise ValueError("--opa is an option of --hypergradient shine")
    if args.axis not in (0, 1, 2) or min(args.shape) < 32 or min(args.shape) % 16:
        raise ValueError("--axis must be 0, 1 or 2 and --shape multiples of 16, >= 32")
    from ..learn.data.acquisitions import AcquisitionConfig
    width = args.shape[-1]
    if round(width * AcquisitionConfig().center_fraction(args.acceleration)) < 1:
        raise ValueError(f"--acceleration {args.acceleration}: the masks keep fastMRI's "
                         f"centre fraction (0.32 / acceleration) of the {width} columns of "
                         f"--shape, none at this acceleration; the self-calibration and the "
                         f"lambda rule need that centre (below {0.64 * width:g}x here)")
    (a, b), (c, d) = args.train_slices, args.val_slices
    if max(a, c) < min(b, d):
        raise ValueError(f"--val-slices {c} {d} overlaps --train-slices {a} {b}: the held-out "
                         "loss must come from slices the tuning does not see")
    if not 1 <= args.coils[0] <= args.coils[1]:
        raise ValueError(f"--coils must satisfy 1 <= low <= high, received {args.coils}")
    train, held_out = _examples(args)
    result = tune_wavelet_weights(train, method=args.hypergradient, opa=args.opa,
                                  steps=args.steps, lr=args.lr, held_out=held_out)
    argv = sys.argv[1:] if argv is None else argv
    summary = {"weights": result.weights.tolist(), "theta": result.theta.tolist(),
               "levels": "coarse to fine", "hypergradient": args.hypergradient,
               "opa": args.opa, "trace": result.trace,
               "command": "pysap-mri-dl " + " ".join(shlex.quote(str(a)) for a in argv),
               "usage": "pysap-mri-dl recon INPUT --out DIR --level-weights "
                        + " ".join(f"{w:.4g}" for w in result.weights)}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write_json(Path(args.out) / "tuned.json", summary)
    return summary
