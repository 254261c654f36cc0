"""Calibration: coil sensitivity maps (self-calibrated, ESPIRiT) and density compensation."""
from .coils import (combine_coils, geometric_compress, noise_covariance, prewhiten,
                    remove_readout_oversampling, svd_compress)
from .espirit import espirit
from .density import pipe_density, voronoi_density
from .smaps import calibration_region, noncartesian_smaps, rss, self_calibrated_smaps

__all__ = ["espirit", "self_calibrated_smaps", "noncartesian_smaps", "calibration_region", "rss",
           "pipe_density", "voronoi_density", "noise_covariance", "prewhiten", "svd_compress",
           "geometric_compress", "remove_readout_oversampling", "combine_coils"]
