"""Calibration: coil sensitivity maps (and, later, density compensation, GRAPPA)."""
from .density import pipe_density
from .smaps import calibration_region, rss, self_calibrated_smaps

__all__ = ["self_calibrated_smaps", "calibration_region", "rss", "pipe_density"]
