"""``pysap-mri-dl train``: train a reconstruction network (PDNet, XPDNet, NC-PDNet, the
unrolled Learnlet, Cascade-net, KIKI-net, U-net, the deep equilibrium Learnlet) end to end
through the operators, or a score model."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from .arguments import (HelpFormatter, add_device_arguments, count, non_negative_float,
                        non_negative_int, out_path, positive_float)

__all__ = ["add_train_network_parser", "run_train_network"]

NETWORK_NAMES = ("pdnet", "xpdnet", "ncpdnet", "unet", "kiki", "cascade", "learnlet-unrolled",
                 "deq")
MODEL_NAMES = NETWORK_NAMES + ("score",)

# options of the reconstruction networks only, with their defaults (an option changed from
# its default with --model score is a usage error, not silently ignored)
NETWORK_ONLY = {"fastmri": None, "loss": "l1", "acceleration": [4, 8],
                "trajectory": "cartesian", "spokes": (60, 100), "coils": (4, 12),
                "noise": (0.001, 0.005), "shape": (224, 224), "validate_every": None}
SCORE_ONLY = {"sigma_range": (0.001, 0.5), "patch": 128, "calibration_examples": 24}
# options of the deep equilibrium model only (they become its configuration; its defaults
# are DEQLearnlet's, which --help quotes)
DEQ_ONLY = ("backward", "refine", "opa", "max_iter", "solver", "tol")
# defaults that differ between the networks and the score model
PER_MODEL = {"batch_size": (1, 4), "invert_prob": (0.3, 0.5), "axis": ("all", "2"),
             "train_slices": ((30, 150), (30, 115)), "val_slices": ((155, 170), (120, 140))}


def add_train_network_parser(sub):
    parser = sub.add_parser(
        "train", help="train a reconstruction network on simulated acquisitions from NIfTI "
                      "volumes, or on fastMRI k-space (needs torch)",
        formatter_class=HelpFormatter)
    parser.add_argument("volumes", nargs="*", type=Path,
                        help="NIfTI magnitude volumes to simulate acquisitions from")
    parser.add_argument("--fastmri", type=Path, default=NETWORK_ONLY["fastmri"],
                        help="a folder of fastMRI .h5 files (fully sampled) instead of volumes")
    parser.add_argument("--model", choices=MODEL_NAMES, required=True,
                        help="a reconstruction network, or 'score' (a score model for "
                             "posterior sampling, trained by denoising score matching)")
    parser.add_argument("--model-config", default="{}",
                        help='constructor arguments as JSON, e.g. \'{"n_iter": 6}\'')
    parser.add_argument("--out", type=out_path, required=True,
                        help="output folder (model.pt, training.json, checkpoint.pt, log.csv)")
    parser.add_argument("--steps", type=count, default=1000, help="training steps")
    parser.add_argument("--stop-at", type=count, default=None,
                        help="stop at this step (train in chunks; rerunning resumes)")
    parser.add_argument("--minutes", type=positive_float, default=None, help="stop after this time")
    parser.add_argument("--batch-size", type=count, default=None,
                        help="examples per step (default 1; score: 4 patches)")
    parser.add_argument("--lr", type=positive_float, default=1e-3,
                        help="initial Adam learning rate (cosine decay)")
    parser.add_argument("--loss", choices=["l1", "ssim", "l1+ssim", "psnr"],
                        default=NETWORK_ONLY["loss"],
                        help="l1, ssim, l1+ssim, or psnr (minus the example's PSNR: every "
                             "example counts by its gain in dB)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the run")
    parser.add_argument("--acceleration", type=count, nargs="+",
                        default=NETWORK_ONLY["acceleration"],
                        help="Cartesian accelerations drawn per example")
    parser.add_argument("--trajectory", choices=["cartesian", "radial"],
                        default=NETWORK_ONLY["trajectory"],
                        help="Cartesian masks, or radial trajectories (ncpdnet)")
    parser.add_argument("--spokes", type=count, nargs=2, default=NETWORK_ONLY["spokes"],
                        help="radial spoke counts (range)")
    parser.add_argument("--coils", type=count, nargs=2, default=NETWORK_ONLY["coils"],
                        help="coil counts")
    parser.add_argument("--noise", type=non_negative_float, nargs=2, default=NETWORK_ONLY["noise"],
                        help="k-space noise range, relative to the image maximum")
    parser.add_argument("--shape", type=count, nargs=2, default=NETWORK_ONLY["shape"],
                        help="image canvas of the simulated examples")
    parser.add_argument("--invert-prob", type=float, default=None,
                        help="probability of a T2-like inverted contrast (default 0.3; "
                             "score: 0.5)")
    parser.add_argument("--axis", default=None,
                        help="slicing axis: 0, 1, 2 or all (default all; score: 2)")
    parser.add_argument("--train-slices", type=int, nargs=2, default=None,
                        help="default 30 150 (score: 30 115)")
    parser.add_argument("--val-slices", type=int, nargs=2, default=None,
                        help="default 155 170 (score: 120 140)")
    parser.add_argument("--validate-every", type=count, default=NETWORK_ONLY["validate_every"],
                        help="steps between validations (default: at the end only)")
    parser.add_argument("--init", default=None, metavar="shipped|FILE",
                        help="start from weights: 'shipped' (learnlet-unrolled and deq: the "
                             "shipped tied Learnlet; score: the shipped score model; "
                             "every other network: its own shipped weights, fine-tuned) or a "
                             "weights file of the same model (its configuration is taken "
                             "unless --model-config is given)")
    group = parser.add_argument_group("score model (--model score)")
    group.add_argument("--sigma-range", type=positive_float, nargs=2,
                       default=SCORE_ONLY["sigma_range"],
                       help="noise levels (relative to the image maximum), drawn log-uniformly")
    group.add_argument("--patch", type=count, default=SCORE_ONLY["patch"],
                       help="training patch size")
    group.add_argument("--calibration-examples", type=non_negative_int,
                       default=SCORE_ONLY["calibration_examples"],
                       help="simulated acquisitions of training slices, alternating 4x and "
                            "8x, on which the uncertainty maps' calibration is fitted after "
                            "training (factors overall and per acceleration, and their "
                            "regression on acceleration, coils and noise, which needs 8 or "
                            "more; 0: none)")
    group = parser.add_argument_group("deep equilibrium model (--model deq)")
    group.add_argument("--backward", choices=["shine", "implicit", "jacobian-free"],
                       default=None,
                       help="how gradients pass the fixed point (docs/deq.rst: on the "
                            "plug-and-play DEQ only implicit gets the step and noise-level "
                            "gradients right; default implicit)")
    group.add_argument("--refine", type=non_negative_int, default=None,
                       help="SHINE: backward Broyden iterations started from the estimate "
                            "(default 0)")
    group.add_argument("--opa", action="store_true",
                       help="SHINE: outer-problem awareness (extra updates along the loss "
                            "gradient in the forward solve)")
    group.add_argument("--max-iter", type=count, default=None,
                       help="cap of the forward fixed-point solve (default 100)")
    group.add_argument("--tol", type=positive_float, default=None,
                       help="relative residual at which the forward solve stops (default 1e-5)")
    group.add_argument("--solver", choices=["broyden", "anderson", "fixed-point"],
                       default=None,
                       help="forward root finder (SHINE reuses the inverse estimate of "
                            "broyden or anderson; --opa needs broyden; default anderson)")
    add_device_arguments(parser)
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def _resolve_defaults(args):
    """Fill the defaults that depend on the model; a network-only option given with
    ``--model score`` (or a score-only one with a network) is a usage error."""
    score = args.model == "score"
    for name, pair in PER_MODEL.items():
        if getattr(args, name) is None:
            setattr(args, name, pair[score])
    wrong = dict(NETWORK_ONLY if score else SCORE_ONLY)
    if args.model != "deq":
        for name in _given_deq_options(args):  # given only with --model deq
            raise ValueError(f"--{name.replace('_', '-')} does not apply to --model "
                             f"{args.model}")
    for name, default in wrong.items():
        value = getattr(args, name)
        if value != default and not (isinstance(value, (list, tuple))
                                     and list(value) == list(default or [])):
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} does not apply to --model {args.model}")


SIMULATION_ONLY = ("trajectory", "spokes", "coils", "noise", "shape", "invert_prob", "axis",
                   "train_slices", "val_slices")
"""Options of the simulated acquisitions (NIfTI volumes), not of ``--fastmri``'s real k-space."""


def _check_fastmri_options(args):
    """An option of the simulation given with ``--fastmri`` is a usage error."""
    if args.fastmri is None:
        return
    for name in SIMULATION_ONLY:
        value = getattr(args, name)
        default = NETWORK_ONLY.get(name)
        if value is None or value == default or (isinstance(value, (list, tuple))
                                                 and list(value) == list(default or [])):
            continue
        raise ValueError(f"--{name.replace('_', '-')} does not apply to --fastmri (real "
                         f"Cartesian k-space: coils, noise and size are the files'; only "
                         f"the masks are drawn, by --acceleration)")


def _check(args):
    from ..learn.training import check_device
    _check_fastmri_options(args)
    _resolve_defaults(args)
    from .outputs import check_out_folder
    check_out_folder(args.out)
    if bool(args.volumes) == (args.fastmri is not None):
        raise ValueError("give NIfTI volumes or --fastmri FOLDER (one of them)"
                         if args.model != "score" else "give the NIfTI volumes to train on")
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
    if args.init not in (None, "shipped") and not Path(args.init).is_file():
        raise ValueError(f"--init must be 'shipped' or a weights file, received {args.init!r} "
                         f"(no such file)")
    if args.trajectory == "radial" and args.model != "ncpdnet":
        raise ValueError("--trajectory radial trains ncpdnet (the non-Cartesian model)")
    check_device(args.device)
    try:
        config = json.loads(args.model_config)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--model-config must be a JSON object ({exc})") from None
    if not isinstance(config, dict):
        raise ValueError(f"--model-config must be a JSON object, received {args.model_config!r}")
    if args.model == "deq":
        config.update(_deq_options(args, config))
    return config


def _given_deq_options(args):
    """The DEQ options given on the command line (the parser's defaults are None/False)."""
    return {name: getattr(args, name) for name in DEQ_ONLY
            if getattr(args, name) is not None and getattr(args, name) is not False}


def _deq_options(args, config):
    """The DEQ options given on the command line, to go over ``--model-config``'s (the same
    key given differently in both is an error). The model checks what they make together
    (:func:`~pysap_mri_dl.learn.deq.backward.check_options`, with the file's own settings
    under ``--init FILE``) when it is built, before any data is read or output written."""
    given = _given_deq_options(args)
    twice = sorted(name for name in set(given) & set(config) if given[name] != config[name])
    if twice:
        raise ValueError(f"{', '.join(twice)} given twice, differently: in --model-config "
                         f"and as {', '.join('--' + n.replace('_', '-') for n in twice)}")
    return given


def run_train_network(args, argv=None) -> dict:
    """Train as ``args`` say; ``argv`` (default ``sys.argv[1:]``) is recorded as the command."""
    from ..data import write_json
    from ..learn.data.acquisitions import AcquisitionConfig
    from ..learn.training.reconstruction import ReconstructionConfig, train_reconstruction
    model_config = _check(args)
    argv = sys.argv[1:] if argv is None else argv
    command = "pysap-mri-dl " + " ".join(shlex.quote(str(a)) for a in argv)
    if args.model == "score":
        from ..learn.score.training import train_score_model
        meta = train_score_model(args, model_config, command=command)
        write_json(Path(args.out) / "training.json", meta)
        return meta
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
        device=args.device, amp=args.amp, init=args.init)
    meta = train_reconstruction(args.volumes, args.out, config, fastmri=args.fastmri,
                                resume=not args.no_resume, progress=not args.no_progress,
                                command=command)
    from ..learn.training.trainer import distributed_context
    if distributed_context()[0] == 0:
        write_json(Path(args.out) / "training.json", meta)
    return meta
