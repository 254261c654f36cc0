"""``pysap-mri-dl``: the command line (``recon`` and ``demo``)."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .arguments import (HelpFormatter, count, non_negative_float, non_negative_int, out_path,
                        positive_float, relative_level, sample_count)

__all__ = ["main", "build_parser", "run_recon", "compute_recon", "write_recon", "check_options"]


class UsageError(ValueError):
    """Bad command-line input; reported as ``error: ...`` with exit status 2."""


POSTERIOR_DEFAULTS = {"langevin_levels": 4, "langevin_steps": 40,
                      "langevin_sigmas": (0.01, 0.003), "noise_level": None,
                      "posterior_seed": 0, "no_calibration": False, "std_smoothing": 1.0}
"""Options of posterior sampling (they apply with ``--posterior-samples`` only)."""


def _add_posterior_options(parser):
    group = parser.add_argument_group("posterior sampling (needs torch)")
    group.add_argument("--posterior-samples", type=sample_count, default=None, metavar="K",
                       help="draw K samples of the posterior by annealed Langevin dynamics "
                            "with the score model (--weights: another one); writes the mean, "
                            "std.nii.gz and samples.nii.gz (exclusive with --model and with "
                            "the algorithm's options: --prior, --lam, --n-iter, ...)")
    group.add_argument("--langevin-levels", type=count,
                       default=POSTERIOR_DEFAULTS["langevin_levels"],
                       help="noise levels, log-spaced from the first to the last sigma")
    group.add_argument("--langevin-steps", type=count,
                       default=POSTERIOR_DEFAULTS["langevin_steps"], help="steps per level")
    group.add_argument("--langevin-sigmas", type=positive_float, nargs=2,
                       default=POSTERIOR_DEFAULTS["langevin_sigmas"], metavar=("MAX", "MIN"),
                       help="first and last noise level, relative to the image maximum")
    group.add_argument("--noise-level", type=non_negative_float,
                       default=POSTERIOR_DEFAULTS["noise_level"],
                       help="standard deviation of the k-space noise (per real and imaginary "
                            "part, in the data's units; default: estimated from the outer "
                            "k-space)")
    group.add_argument("--posterior-seed", type=non_negative_int,
                       default=POSTERIOR_DEFAULTS["posterior_seed"],
                       help="seed of the chains")
    group.add_argument("--std-smoothing", type=non_negative_float, metavar="PIXELS",
                       default=POSTERIOR_DEFAULTS["std_smoothing"],
                       help="width of the Gaussian window over which the samples' variance is "
                            "pooled, at most 64 (0: per pixel; the calibration was fitted for "
                            f"the default, {POSTERIOR_DEFAULTS['std_smoothing']:g})")
    group.add_argument("--no-calibration", action="store_true",
                       help="report the raw standard deviation of the samples, without the "
                            "score model's fitted calibration factor")


def _add_recon_options(parser, *, one_slice=True):
    from ..recon import DEFAULT_WAVELET, SOLVERS
    from ..sampling import MASK_KINDS

    parser.add_argument("--out", required=True, type=out_path, help="output folder")
    if one_slice:
        parser.add_argument("--slice", type=int, default=None, dest="slice_index",
                            help="slice of a fastMRI file (default: the middle one)")
    group = parser.add_argument_group("retrospective undersampling of fully sampled input")
    group.add_argument("--acceleration", type=positive_float, default=None,
                       help="undersample fully sampled input by this factor (columns of the "
                            "last axis, the phase-encoding direction; default: reconstruct the "
                            "input as it is)")
    group.add_argument("--center-fraction", type=float, default=0.08,
                       help="fraction of central columns always sampled")
    group.add_argument("--mask-kind", choices=sorted(MASK_KINDS), default="random",
                       help="how the columns are drawn")
    group.add_argument("--seed", type=non_negative_int, default=0, help="seed of the mask")
    group = parser.add_argument_group("reconstruction")
    group.add_argument("--smaps", default=None,
                       help="'auto' (self-calibrated low resolution), 'espirit' (Cartesian), "
                            "a plugin's estimator (e.g. 'bart-ecalib') or a .npy/.npz file "
                            "(default: the input file's 'smaps' if it has them, else auto)")
    group.add_argument("--support", type=non_negative_float, default=None,
                       help="auto maps (Cartesian) are zero where the low-resolution image is "
                            "below this multiple of its noise level (a support constraint; "
                            "0 keeps every pixel; default 10)")
    group.add_argument("--density", choices=["auto", "pipe", "voronoi"], default=None,
                       help="density compensation for trajectory input (default: the file's "
                            "'density' if it has one, else auto: Voronoi in 2D, Pipe in 3D)")
    group.add_argument("--prior", choices=["wavelet", "learnlet", "dncnn", "unet"],
                       default=None,
                       help="wavelet l1 (the default), or a learned denoiser as prox (needs "
                            "torch)")
    group.add_argument("--model", default=None,
                       choices=["pdnet", "xpdnet", "ncpdnet", "unet", "kiki", "cascade",
                                "learnlet-unrolled", "deq"],
                       help="reconstruct with a trained network instead of an algorithm "
                            "(needs torch; exclusive with the algorithm's options: --prior, "
                            "--lam, --n-iter, ...)")
    group.add_argument("--weights", type=Path, default=None,
                       help="weights of the learned prior or network (default: the shipped "
                            "ones)")
    group.add_argument("--sigma", type=relative_level, default=None,
                       help="noise level the learned --prior runs at at each step, relative "
                            "to the image maximum (default: by the mask's acceleration, "
                            "0.0005 at 4x to 0.002 at 8x; see docs)")
    group.add_argument("--level-weights", type=non_negative_float, nargs=4, default=None,
                       metavar="W",
                       help="multiply the default lambda of each wavelet detail level (coarse "
                            "to fine; Haar, 4 levels) by these weights, e.g. those "
                            "'pysap-mri-dl tune' wrote")
    group.add_argument("--wavelet", default=None,
                       help=f"wavelet of the wavelet prior (default: {DEFAULT_WAVELET})")
    group.add_argument("--levels", type=count, default=None,
                       help=f"decomposition levels of the wavelet prior (default: "
                            f"{RECON_DEFAULTS['levels']})")
    group.add_argument("--undecimated", action="store_true",
                       help="undecimated (stationary) wavelets instead of decimated + cycle spinning")
    group.add_argument("--lam", type=non_negative_float, default=None,
                       help="regularisation weight (default: data-driven rule, see docs)")
    group.add_argument("--lam-factor", type=positive_float, default=None,
                       help="factor of the data-driven rule (default: by the mask's "
                            "acceleration, 0.001 at 4x, 0.004 at 8x, the weight kept above "
                            "0.10-0.15 times the Cartesian k-space noise level; 0.001 and no "
                            "floor for trajectories and with --level-weights, whose weights "
                            "were tuned with it); a given factor is used as is, without the "
                            "floor; exclusive with --lam")
    group.add_argument("--algorithm", choices=sorted(SOLVERS), default=None,
                       help=f"solver (default: {RECON_DEFAULTS['algorithm']})")
    group.add_argument("--n-iter", type=count, default=None,
                       help=f"iterations of the solver (default: {RECON_DEFAULTS['n_iter']})")
    group.add_argument("--formulation", choices=["analysis", "synthesis"], default=None,
                       help=f"of the wavelet prior (default: {RECON_DEFAULTS['formulation']})")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_posterior_options(parser)


def build_parser():
    from ..data import SAMPLES
    parser = argparse.ArgumentParser(
        prog="pysap-mri-dl",
        description="MRI reconstruction from undersampled k-space (compressed sensing and "
                    "learned priors).")
    sub = parser.add_subparsers(dest="command", required=True)
    recon = sub.add_parser("recon", help="reconstruct an acquisition (.h5 or .npz, Cartesian "
                                         "or with a trajectory)",
                           formatter_class=HelpFormatter)
    recon.add_argument("input", type=Path,
                       help="fastMRI .h5, or .npz with 'kspace' (Cartesian) or with 'kspace' "
                            "(coils, samples) and 'trajectory' (samples, ndim)")
    _add_recon_options(recon)
    from .batch import add_batch_parser
    add_batch_parser(sub, _add_recon_options)
    from .train import add_train_parser
    from .train_network import add_train_network_parser
    add_train_parser(sub)
    add_train_network_parser(sub)
    from .tune import add_tune_parser
    add_tune_parser(sub)
    sample = sub.add_parser("sample", help="write a bundled sample as an input file for "
                                           "'recon' (fully sampled k-space and its reference)",
                            formatter_class=HelpFormatter)
    sample.add_argument("name", choices=sorted(SAMPLES))
    sample.add_argument("--out", type=out_path, required=True, help="the .npz file to write")
    demo = sub.add_parser("demo", help="run a reconstruction on the bundled 4-coil brain",
                          formatter_class=HelpFormatter)
    demo.add_argument("--out", type=out_path, default=Path("demo_output"), help="output folder")
    demo.add_argument("--n-iter", type=count, default=100, help="FISTA iterations")
    demo.add_argument("--no-progress", action="store_true")
    return parser


def _read_smaps(path, n_coils, shape):
    from ..data import DataError
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--smaps {path}: no such file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                if "smaps" not in loaded.files:
                    raise DataError(f"--smaps {path}: no dataset 'smaps' (found {loaded.files})")
                loaded = loaded["smaps"]
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"--smaps {path}: cannot be read ({exc})") from exc
    if not np.issubdtype(loaded.dtype, np.number):
        raise DataError(f"--smaps {path}: expected a numeric array, received dtype {loaded.dtype}")
    if loaded.shape != (n_coils,) + tuple(shape):
        raise DataError(f"--smaps {path}: expected shape {(n_coils,) + tuple(shape)} "
                        f"(coils, *image shape) to match the k-space, received {loaded.shape}")
    if not np.all(np.isfinite(loaded)):
        raise DataError(f"--smaps {path}: contains NaN or Inf values")
    return loaded.astype(np.complex64)


def _center_crop(image, shape):
    starts = [(a - b) // 2 for a, b in zip(image.shape, shape)]
    return image[tuple(slice(s, s + n) for s, n in zip(starts, shape))]


RECON_DEFAULTS = {"prior": "wavelet", "wavelet": None, "levels": 4, "algorithm": "fista",
                  "n_iter": 100, "formulation": "analysis"}
"""Defaults of the algorithm's options (``wavelet``: the package's default wavelet), taken by
:func:`algorithm_option` where they are used: on the parsed arguments they stay None, so that
one given where it does not apply is told from one left alone, however often the arguments
are checked."""


def algorithm_option(args, name):
    """The value of the algorithm's option ``name``: as given, or its default."""
    value = getattr(args, name)
    if value is not None:
        return value
    if name == "wavelet":
        from ..recon import DEFAULT_WAVELET
        return DEFAULT_WAVELET
    return RECON_DEFAULTS[name]
WAVELET_OPTIONS = ("wavelet", "levels", "undecimated", "lam", "lam_factor", "formulation",
                   "level_weights")
"""Options of the wavelet prior."""
ALGORITHM_OPTIONS = ("prior", "algorithm", "n_iter", "sigma") + WAVELET_OPTIONS
"""Options of the iterative algorithms (not of ``--model`` or ``--posterior-samples``)."""


def _flag(name):
    return "--" + name.replace("_", "-")


def _given(args, name):
    value = getattr(args, name, None)
    return value is not None and value is not False


def check_options(args):
    """Raise a UsageError for options that are wrong whatever the input, or that do not
    apply to what runs (rather than ignore them). It changes nothing: checking twice gives
    the same answer."""
    from ..operators.wavelet import check_wavelet
    posterior = getattr(args, "posterior_samples", None) is not None
    if args.model is not None and posterior:
        raise UsageError("--posterior-samples is exclusive with --model: the samples come "
                         "from the score model (--weights for another one)")
    if args.model is not None or posterior:
        what = f"--model {args.model}" if args.model is not None else "--posterior-samples"
        for name in ALGORITHM_OPTIONS:
            if _given(args, name):
                raise UsageError(
                    f"{_flag(name)} does not apply to {what}: "
                    + ("a network replaces the whole algorithm" if args.model is not None
                       else "the samples come from the score model (--weights for another "
                            "one)") + f"; {_flag(name)} is an option of the iterative "
                                      "algorithms")
    elif args.prior not in (None, "wavelet"):
        for name in WAVELET_OPTIONS:
            if _given(args, name):
                raise UsageError(f"{_flag(name)} applies to the wavelet prior, not to --prior "
                                 f"{args.prior} (whose strength is --sigma)")
        from ..recon.core import OTHER_STEPS
        if args.algorithm in OTHER_STEPS:
            raise UsageError(f"--algorithm {args.algorithm}: a learned --prior runs at the step "
                             "1/L of ista and fista (its noise level follows the step)")
    elif args.sigma is not None:
        raise UsageError("--sigma applies to a learned --prior (learnlet, dncnn, unet) only")
    if args.lam is not None and args.lam_factor is not None:
        raise UsageError("--lam and --lam-factor are exclusive: --lam-factor scales the "
                         "data-driven rule that --lam replaces")
    if args.level_weights is not None:
        clash = [_flag(n) for n in ("lam", "levels", "wavelet", "undecimated", "formulation")
                 if _given(args, n)]
        if clash:
            raise UsageError(f"--level-weights sets the tuned prior (undecimated Haar, 4 "
                             f"levels, the lambda rule, the analysis formulation): not with "
                             f"{', '.join(clash)}")
    if args.wavelet is not None:
        check_wavelet(args.wavelet)
    if args.weights is not None and args.model is None and args.prior in (None, "wavelet") \
            and not posterior:
        raise UsageError("--weights applies to a learned --prior, a --model or "
                         "--posterior-samples only")
    if not posterior:
        for name, default in POSTERIOR_DEFAULTS.items():
            value = getattr(args, name, default)
            if (list(value) if isinstance(value, (list, tuple)) else value) != (
                    list(default) if isinstance(default, tuple) else default):
                raise UsageError(f"--{name.replace('_', '-')} applies to --posterior-samples "
                                 "only")
    elif args.langevin_sigmas[0] < args.langevin_sigmas[1]:
        raise UsageError(f"--langevin-sigmas MAX MIN: MAX must be >= MIN, received "
                         f"{tuple(args.langevin_sigmas)}")
    _check_smaps_method(args)


def _check_smaps_method(args):
    """``--smaps NAME`` of a plugin whose tool is missing is a usage error before any work."""
    from ..calibration import SMAPS_METHODS, smaps_method_unavailable
    if args.smaps in (None, "auto", "espirit") or Path(args.smaps).suffix in (".npy", ".npz"):
        return
    from ..plugins import load_plugins
    load_plugins()
    if args.smaps not in SMAPS_METHODS:
        return  # a file name: _read_smaps says whether it exists
    reason = smaps_method_unavailable(args.smaps)
    if reason:
        raise UsageError(f"--smaps {args.smaps}: {reason}")


def _prepare(args, check_out=True):
    """Read and validate everything before any computation or output (``--out`` too unless
    ``check_out`` is False: a batch task writes nothing, its client does)."""
    from ..calibration import rss
    from ..data import NonCartesianAcquisition, read_acquisition
    from ..sampling import cartesian_mask
    from .._fourier import ifftn_centered
    from .outputs import check_out_folder

    if check_out:
        check_out_folder(args.out)
    check_options(args)
    acq = read_acquisition(args.input, slice_index=args.slice_index)
    if isinstance(acq, NonCartesianAcquisition):
        return _prepare_noncartesian(args, acq)
    if args.density is not None:
        raise UsageError("--density applies to input with a trajectory only")
    kspace, mask, reference = acq.kspace, acq.mask, acq.reference
    if args.acceleration is not None:
        if mask is not None and not mask.all():
            raise UsageError("--acceleration needs fully sampled input, but the file holds an "
                             "undersampling mask")
        if reference is None:
            images = ifftn_centered(kspace, 2)
            reference = rss(images) if kspace.ndim == 3 else np.abs(images)
        mask = cartesian_mask(args.mask_kind, kspace.shape[-2:], acceleration=args.acceleration,
                              center_fraction=args.center_fraction, seed=args.seed)
    if mask is None:
        mask = np.abs(kspace).reshape((-1,) + kspace.shape[-2:]).max(0) > 0
    if not mask.any():
        raise UsageError(f"INPUT {args.input}: the mask samples no k-space location")
    smaps, smaps_source = None, None
    if kspace.ndim == 3:
        smaps, smaps_source = _cartesian_smaps(args, acq, kspace * mask, mask)
    elif args.smaps is not None or args.support is not None:
        raise UsageError("--smaps and --support are only meaningful for multi-coil k-space")
    return dict(kspace=kspace * mask, mask=mask, smaps=smaps, smaps_source=smaps_source,
                reference=reference)


def _cartesian_smaps(args, acq, kspace, mask):
    """The maps for multi-coil Cartesian data and where they come from: the file's own
    maps unless ``--smaps`` says otherwise."""
    from ..calibration import SMAPS_METHODS, self_calibrated_smaps
    from ..data import DataError
    choice = args.smaps
    if choice is None:
        choice = "auto" if acq.smaps is None else "file"
    if choice != "auto" and args.support is not None:
        raise UsageError(f"--support applies to the self-calibrated maps (--smaps auto), not "
                         f"to {'the input file' if choice == 'file' else choice!r} maps")
    if choice == "file":
        return acq.smaps, f"file ({args.input.name})"
    if choice == "auto":
        support = 10.0 if args.support is None else args.support
        return self_calibrated_smaps(kspace, mask=mask, support=support), "auto"
    from ..plugins import load_plugins
    load_plugins()  # plugins may add estimators (e.g. bart-ecalib)
    if choice in SMAPS_METHODS:
        try:
            return SMAPS_METHODS[choice](kspace, mask), choice
        except Exception as exc:  # a plugin's tool failed on this input
            raise DataError(f"--smaps {choice}: {exc}") from None
    return _read_smaps(choice, kspace.shape[0], kspace.shape[-2:]), str(choice)


def _prepare_noncartesian(args, acq):
    if args.acceleration is not None:
        raise UsageError("--acceleration applies to fully sampled Cartesian input; a trajectory "
                         "file is reconstructed as acquired")
    if args.support is not None:
        raise UsageError("--support applies to self-calibrated Cartesian maps only")
    smaps, source = ((acq.smaps, f"file ({args.input.name})") if acq.smaps is not None
                     else ("auto", "auto"))
    if args.smaps == "espirit":
        raise UsageError("--smaps espirit needs Cartesian k-space; trajectory input uses "
                         "'auto' (maps from the k-space centre) or a file")
    if args.smaps is not None and acq.n_coils == 1:
        raise UsageError("--smaps is only meaningful for multi-coil k-space")
    if args.smaps == "auto":
        smaps, source = "auto", "auto"
    elif args.smaps is not None:
        smaps, source = _read_smaps(args.smaps, acq.n_coils, acq.shape), str(args.smaps)
    density = args.density or (acq.density if acq.density is not None else "auto")
    return dict(kspace=acq.kspace, trajectory=acq.trajectory, shape=acq.shape, smaps=smaps,
                smaps_source=source if acq.n_coils > 1 else None, density=density,
                reference=acq.reference)


def _network(args, prepared):
    """Reconstruct the prepared input with the trained network ``--model``."""
    try:
        from ..learn import reconstruct_network
    except ImportError as exc:
        raise UsageError(f"--model {args.model} needs torch ({exc})") from None
    smaps = prepared.get("smaps")
    smaps = "auto" if smaps is None or isinstance(smaps, str) else smaps
    if "trajectory" in prepared:
        density = prepared["density"]
        return reconstruct_network(prepared["kspace"], model=args.model, weights=args.weights,
                                   trajectory=prepared["trajectory"], shape=prepared["shape"],
                                   smaps=smaps, density=density)
    return reconstruct_network(prepared["kspace"], prepared["mask"], model=args.model,
                               weights=args.weights, smaps=smaps)


def _quality(metrics, reference, image, zero_filled):
    """Add PSNR / SSIM / NRMSE of ``image`` and the zero-filled PSNR (cropped to the
    reference); returns the cropped ``(image, zero_filled)`` that the figure shows."""
    from ..metrics import nrmse, psnr, ssim
    if reference is None:
        return image, zero_filled
    image = _center_crop(image, reference.shape)
    zero_filled = _center_crop(zero_filled, reference.shape)
    metrics.update(psnr=psnr(reference, image), ssim=ssim(reference, image),
                   nrmse=nrmse(reference, image), zero_filled_psnr=psnr(reference, zero_filled))
    return image, zero_filled


def _posterior(args, prepared):
    """Posterior sampling of the prepared input (``--posterior-samples``)."""
    try:
        from ..learn.score import LangevinSchedule, sample_posterior
    except ImportError as exc:
        raise UsageError(f"--posterior-samples needs torch ({exc})") from None
    from ..metrics import interval_coverage, uncertainty_correlation
    schedule = LangevinSchedule(sigma_max=args.langevin_sigmas[0],
                                sigma_min=args.langevin_sigmas[1],
                                n_levels=args.langevin_levels, steps_per_level=args.langevin_steps)
    smaps = prepared.get("smaps")
    smaps = "auto" if smaps is None or isinstance(smaps, str) else smaps
    options = dict(n_samples=args.posterior_samples, weights=args.weights, smaps=smaps,
                   noise_level=args.noise_level, schedule=schedule, seed=args.posterior_seed,
                   calibrate=not args.no_calibration, std_smoothing=args.std_smoothing,
                   progress=not args.no_progress)
    if "trajectory" in prepared:
        if len(prepared["shape"]) != 2:
            raise UsageError("--posterior-samples needs 2D images (the score model is 2D)")
        result = sample_posterior(prepared["kspace"], trajectory=prepared["trajectory"],
                                  shape=prepared["shape"], density=prepared["density"],
                                  **options)
        sampling = {"samples_per_pixel": float(prepared["kspace"].shape[-1] /
                                               np.prod(prepared["shape"]))}
        baseline = "gridding"
    else:
        result = sample_posterior(prepared["kspace"], prepared["mask"], **options)
        sampling = {"acceleration": float(result.acquisition["acceleration"])}
        baseline = "zero-filled"
    metrics = {"n_iter": schedule.n_steps, "seconds": result.seconds,
               "seconds_per_iter": result.sampling_seconds / schedule.n_steps,
               "algorithm": "annealed Langevin", "prior": "score model",
               "baseline": baseline, "posterior_samples": args.posterior_samples,
               "noise_level": result.noise_level, "calibration": result.calibration,
               "schedule": result.schedule, "std_smoothing": result.std_smoothing,
               "start": result.start, **sampling}
    if prepared["smaps_source"] is not None:
        metrics["smaps"] = prepared["smaps_source"]
    reference = prepared["reference"]
    shown, zero_filled = _quality(metrics, reference, result.mean, result.zero_filled)
    std = result.std if reference is None else _center_crop(result.std, reference.shape)
    if reference is not None:
        metrics.update(coverage_90=interval_coverage(reference, shown, std),
                       std_error_correlation=uncertainty_correlation(reference, shown, std))
    return dict(image=result.mean, shown_image=shown, zero_filled=zero_filled,
                reference=reference, metrics=metrics, baseline=baseline, std=result.std,
                shown_std=std, samples=np.abs(result.samples),
                title=f"posterior mean of {args.posterior_samples} samples, "
                      f"{schedule.n_steps} Langevin steps")


def _middle_slice(image):
    """The central slice along the first axis of a 3D image (what the figure shows)."""
    return image[image.shape[0] // 2] if image.ndim == 3 else image


def compute_recon(args, check_out=True) -> dict:
    """Reconstruct the input of parsed ``recon`` arguments without writing anything; returns
    ``image`` (magnitude), ``zero_filled``, ``reference`` (or None; both cropped to the
    reference's shape when there is one), ``metrics``, ``baseline`` and ``title``.
    ``check_out=False`` leaves ``args.out`` unchecked (a batch task on another machine)."""
    from .._backend import to_numpy
    from ..recon import reconstruct_noncartesian, reconstruct_sense, reconstruct_single_coil

    prepared = _prepare(args, check_out)
    reference = prepared["reference"]
    option = {name: algorithm_option(args, name) for name in RECON_DEFAULTS}
    options = dict(lam=args.lam, lam_factor=args.lam_factor,
                   wavelet=option["wavelet"], levels=option["levels"],
                   undecimated=args.undecimated, algorithm=option["algorithm"],
                   n_iter=option["n_iter"], formulation=option["formulation"],
                   progress=not args.no_progress)
    if args.level_weights is not None:
        from ..recon.tuning import TunedWaveletPrior
        options["prior"] = TunedWaveletPrior(args.level_weights,
                                             lam_factor=options.pop("lam_factor"))
    if option["prior"] != "wavelet":
        try:
            from ..learn import learned_prior
        except ImportError as exc:
            raise UsageError(f"--prior {args.prior} needs torch ({exc})") from None
        options["prior"] = learned_prior(args.prior, weights=args.weights,
                                         sigma="auto" if args.sigma is None else args.sigma)
    kspace = prepared["kspace"]
    if getattr(args, "posterior_samples", None) is not None:
        return _posterior(args, prepared)
    if args.model is not None:
        result = _network(args, prepared)
        sampling = ({"samples_per_pixel": float(kspace.shape[-1] / np.prod(prepared["shape"]))}
                    if "trajectory" in prepared else
                    {"acceleration": float(prepared["mask"].size /
                                           np.count_nonzero(prepared["mask"]))})
        baseline = "gridding" if "trajectory" in prepared else "zero-filled"
    elif "trajectory" in prepared:
        result = reconstruct_noncartesian(kspace, prepared["trajectory"], prepared["shape"],
                                          smaps=prepared["smaps"] if kspace.ndim == 2 else None,
                                          density=prepared["density"], **options)
        sampling = {"samples_per_pixel": float(kspace.shape[-1] / np.prod(prepared["shape"]))}
        baseline = "gridding"
    else:
        mask = prepared["mask"]
        if kspace.ndim == 3:
            result = reconstruct_sense(kspace, mask, smaps=prepared["smaps"], **options)
        else:
            result = reconstruct_single_coil(kspace, mask, **options)
        from ..sampling import acceleration_of
        sampling = {"acceleration": float(acceleration_of(mask))}
        baseline = "zero-filled"
    image = np.abs(to_numpy(result.image))
    if args.model is not None:  # a network: no lambda, and no iterations of its own to time
        metrics = {"seconds": result.seconds, "algorithm": args.model, "prior": "network",
                   "baseline": baseline, **sampling}
        if args.model == "deq":  # its fixed-point solve's iterations vary with the input
            metrics.update(fixed_point_iterations=result.n_iter,
                           stop_reason=result.optim.stop_reason)
        elif result.n_iter:
            metrics["unrolled_iterations"] = result.n_iter
    else:
        metrics = {"n_iter": result.n_iter, "seconds": result.seconds,
                   "seconds_per_iter": result.seconds_per_iter, "algorithm": result.algorithm,
                   "prior": result.prior, "lam": result.lam, "baseline": baseline, **sampling}
        if args.level_weights is not None:
            metrics["level_weights"] = [float(w) for w in args.level_weights]
    if prepared["smaps_source"] is not None:
        metrics["smaps"] = prepared["smaps_source"]
    shown_image, shown_zf = _quality(metrics, reference, image, result.zero_filled)
    return dict(image=image, shown_image=shown_image, zero_filled=shown_zf,
                reference=reference, metrics=metrics, baseline=baseline,
                title=(f"{args.model} (trained network)" if args.model is not None else
                       f"{result.algorithm}, {result.prior}, {result.n_iter} iterations"))


def write_recon(out, image, computed, metrics, shown_metrics=None):
    """Write ``recon.nii.gz`` (``image``), ``recon.png`` (the middle slice of what
    ``computed`` (a :func:`compute_recon` result) shows, labelled with ``shown_metrics``,
    by default ``metrics``), for posterior sampling
    ``std.nii.gz`` and ``samples.nii.gz`` (magnitudes, samples on the first axis), and
    ``metrics.json`` into ``out``, all or nothing (``metrics.json`` last: its presence marks
    a finished output)."""
    from ..data import write_json, write_nifti
    from .figures import comparison_figure
    from .outputs import publish
    reference = computed["reference"]
    shown_std = computed.get("shown_std")
    files = {
        "recon.nii.gz": lambda path: write_nifti(path, image),
        "recon.png": lambda path: comparison_figure(
            path, _middle_slice(computed["shown_image"]),
            zero_filled=_middle_slice(computed["zero_filled"]), baseline=computed["baseline"],
            reference=None if reference is None else _middle_slice(reference),
            metrics=metrics if shown_metrics is None else shown_metrics,
            title=computed["title"],
            std=None if shown_std is None else _middle_slice(shown_std))}
    if "std" in computed:  # posterior sampling
        files["std.nii.gz"] = lambda path: write_nifti(path, computed["std"])
        files["samples.nii.gz"] = lambda path: write_nifti(path, computed["samples"])
    files["metrics.json"] = lambda path: write_json(path, metrics)
    publish(out, files, others=("std.nii.gz", "samples.nii.gz"))


def run_recon(args) -> dict:
    """Run ``recon`` from parsed arguments; returns the metrics written."""
    check_options(args)
    computed = compute_recon(args)
    write_recon(args.out, computed["image"], computed, computed["metrics"])
    return computed["metrics"]


def run_demo(args) -> dict:
    """Reconstruct the bundled 4-coil brain: 4x random mask, 8% centre, SENSE, wavelet FISTA."""
    from ..data import load_sample
    sample = load_sample("brain_4coil")
    source = Path(tempfile.mkdtemp(prefix="pysap-mri-dl-demo-")) / "brain_4coil.npz"
    try:
        np.savez(source, kspace=sample.kspace, reference=sample.reference)
        parser = build_parser()
        recon_args = parser.parse_args(
            ["recon", str(source), "--out", str(args.out), "--acceleration", "4",
             "--center-fraction", "0.08", "--mask-kind", "random", "--seed", "0",
             "--n-iter", str(args.n_iter)] + (["--no-progress"] if args.no_progress else []))
        return run_recon(recon_args)
    finally:
        shutil.rmtree(source.parent, ignore_errors=True)


def run_sample(args) -> Path:
    """Write a bundled sample as an input file for ``recon``: fully sampled Cartesian
    k-space with its ``reference``, or the radial k-space with its ``trajectory``."""
    from ..data import atomic_path, sample_arrays
    from .outputs import check_out_folder
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UsageError(f"--out {out}: expected a file name ending in .npz")
    if out.is_dir():
        raise UsageError(f"--out {out}: is a folder; give a file name ending in .npz")
    check_out_folder(out.parent)
    arrays = sample_arrays(args.name)
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return out


def main(argv=None) -> int:
    from ..data import DataError
    parser = build_parser()
    args = parser.parse_args(argv)
    if argv is None:  # run as a program (not called from Python): the process is ours
        from ..runtime import retain_freed_memory
        retain_freed_memory()
    try:
        if args.command in ("train-denoiser", "train"):
            if args.command == "train":
                from .train_network import run_train_network as run
            else:
                from .train import run_train as run
            meta = run(args, argv=argv)
            from ..learn.training.trainer import distributed_context
            if distributed_context()[0] == 0:  # under torchrun, the process that writes
                print(json.dumps(meta, indent=2))
                print(f"wrote {args.out / 'model.pt'}")
            return 0
        if args.command == "tune":
            from .tune import run_tune
            summary = run_tune(args, argv=argv)
            print(json.dumps({k: summary[k] for k in ("weights", "usage")}, indent=2))
            print(f"wrote {args.out / 'tuned.json'}")
            return 0
        if args.command == "batch":
            from .batch import run_batch
            return run_batch(args)
        if args.command == "sample":
            print(f"wrote {run_sample(args)}")
            return 0
        metrics = run_recon(args) if args.command == "recon" else run_demo(args)
    except (UsageError, DataError, ValueError, TypeError) as exc:
        print(f"pysap-mri-dl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the machine, not the input: disk full, permissions
        print(f"pysap-mri-dl {args.command}: error: {exc}", file=sys.stderr)
        return 1
    summary = {k: metrics[k] for k in ("psnr", "ssim", "zero_filled_psnr", "n_iter",
                                       "seconds_per_iter") if k in metrics}
    names = ["recon.nii.gz", "recon.png", "metrics.json"]
    if getattr(args, "posterior_samples", None) is not None:
        names[2:2] = ["std.nii.gz", "samples.nii.gz"]
        summary.update({k: metrics[k] for k in ("coverage_90", "std_error_correlation")
                        if k in metrics})
    print(json.dumps(summary, indent=2))
    print("wrote " + ", ".join(str(args.out / name) for name in names))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
