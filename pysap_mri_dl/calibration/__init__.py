"""Calibration: coil sensitivity maps (self-calibrated, ESPIRiT) and density compensation."""
from .coils import (combine_coils, geometric_compress, kspace_noise_level, noise_covariance,
                    prewhiten, remove_readout_oversampling, svd_compress,
                    trajectory_noise_level)
from .espirit import espirit
from .density import pipe_density, voronoi_density
from .smaps import calibration_region, noncartesian_smaps, rss, self_calibrated_smaps

__all__ = ["espirit", "self_calibrated_smaps", "noncartesian_smaps", "calibration_region", "rss",
           "pipe_density", "voronoi_density", "kspace_noise_level",
           "trajectory_noise_level", "noise_covariance", "prewhiten", "svd_compress",
           "geometric_compress", "remove_readout_oversampling", "combine_coils"]


SMAPS_METHODS = {
    "auto": lambda kspace, mask: self_calibrated_smaps(kspace, mask=mask),
    "espirit": lambda kspace, mask: espirit(kspace, mask=mask),
}
"""Sensitivity-map estimators by name: ``fn(kspace (coils, ny, nx), mask) -> maps``; plugins
add theirs with :func:`register_smaps_method` (e.g. the BART plugin's ``bart-ecalib``)."""


_UNAVAILABLE = {}


def register_smaps_method(name, estimate, *, unavailable=None):
    """Register ``estimate(kspace, mask) -> maps`` under ``name`` (used by ``--smaps NAME``).
    ``unavailable``: a callable returning None when the estimator can run, else why not (a
    missing binary, say), asked before any work."""
    if not callable(estimate):
        raise TypeError(f"smaps method {name!r} must be callable")
    if unavailable is not None and not callable(unavailable):
        raise TypeError(f"unavailable of smaps method {name!r} must be callable")
    SMAPS_METHODS[name] = estimate
    _UNAVAILABLE[name] = unavailable


def smaps_method_unavailable(name):
    """Why the registered estimator ``name`` cannot run here, or None."""
    check = _UNAVAILABLE.get(name)
    return None if check is None else check()


__all__ += ["SMAPS_METHODS", "register_smaps_method", "smaps_method_unavailable"]
