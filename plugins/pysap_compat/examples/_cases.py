"""The gallery cases that the tests and ``benchmarks/pysap_compat.py`` run on pysap-mri and
on pysap_mri_dl_compat: each script of this folder with the environment it reads."""
import pathlib

from pysap_mri_dl_compat import run_script

EXAMPLES = pathlib.Path(__file__).resolve().parent
CASES = [
    ("cartesian single-coil FISTA", "cartesian_reconstruction.py", {}),
    ("cartesian single-coil POGM", "cartesian_reconstruction.py",
     {"GALLERY_ALGORITHM": "pogm"}),
    ("cartesian single-coil Condat-Vu", "cartesian_reconstruction.py",
     {"GALLERY_ALGORITHM": "condatvu"}),
    ("self-calibrated 4-coil FISTA", "self_calibration_reconstruction.py", {}),
    ("calibrationless group-lasso FISTA", "calibrationless_reconstruction.py", {}),
    ("radial 64 spokes FISTA", "non_cartesian_reconstruction.py",
     {"GALLERY_TRAJECTORY": "radial"}),
    ("spiral 16 interleaves FISTA", "non_cartesian_reconstruction.py",
     {"GALLERY_TRAJECTORY": "spiral"}),
]
"""(label, script, environment) of each case; the tests run the same list."""


def run_case(script, env, package, n_iter):
    """``(PSNR, seconds per iteration)`` of one gallery script on ``package``."""
    environment = {"GALLERY_ALGORITHM": "fista", "GALLERY_TRAJECTORY": "radial",
                   **env, "GALLERY_N_ITER": str(n_iter)}
    namespace = run_script(EXAMPLES / script, package=package, env=environment)
    return namespace["recon_psnr"], namespace["seconds_per_iteration"]
