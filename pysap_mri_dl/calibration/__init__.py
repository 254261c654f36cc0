"""Calibration: coil sensitivity maps (self-calibrated, ESPIRiT) and density compensation."""
from .espirit import espirit
from .density import pipe_density, voronoi_density
from .smaps import calibration_region, noncartesian_smaps, rss, self_calibrated_smaps

__all__ = ["espirit", "self_calibrated_smaps", "noncartesian_smaps", "calibration_region", "rss",
           "pipe_density", "voronoi_density"]
