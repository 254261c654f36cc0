"""pysap-mri itself against pysap_mri_dl_compat (pysap-mri's API on our engine), side by side
in one process.

Needs pysap-mri beside this project (``make test`` installs it in .venv)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pysap_compat.py [--n-iter 50] [--repeat 2]

Each gallery script of ``plugins/pysap_compat/examples`` is run twice: on pysap-mri (as
written, ``from mri...``) and on our engine (``mri`` resolving to ``pysap_mri_dl_compat``,
see :func:`pysap_mri_dl_compat.run_script`). Printed per case: the PSNR of both (dB), their
difference, the time per iteration of both (``reconstruct()`` wall time / iterations,
set-up such as Lipschitz estimation included, best of ``--repeat``) and the ratio
theirs / ours (> 1: ours is faster).
"""
import argparse
import pathlib
import sys
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "plugins" / "pysap_compat"
                       / "examples"))
from _cases import CASES, run_case  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"{args.n_iter} iterations; time = reconstruct() wall time / iterations "
          f"(best of {args.repeat})")
    print(f"{'case':34s} {'pysap-mri dB':>12s} {'ours dB':>8s} {'diff':>7s} "
          f"{'pysap ms/it':>11s} {'ours ms/it':>10s} {'speed-up':>8s}")
    for label, script, env in CASES:
        results = {}
        for package in ("mri", "pysap_mri_dl_compat"):
            runs = [run_case(script, env, package, args.n_iter) for _ in range(args.repeat)]
            results[package] = (runs[0][0], min(seconds for _, seconds in runs))
        (theirs_db, theirs_s), (ours_db, ours_s) = results["mri"], results["pysap_mri_dl_compat"]
        print(f"{label:34s} {theirs_db:12.2f} {ours_db:8.2f} {ours_db - theirs_db:+7.3f} "
              f"{1e3 * theirs_s:11.1f} {1e3 * ours_s:10.1f} {theirs_s / ours_s:7.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
