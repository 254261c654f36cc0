"""pysap-mri's ``mri.reconstructors`` on the pysap_mri_dl engine."""
from .reconstructors import (CalibrationlessReconstructor, SelfCalibrationReconstructor,
                             SingleChannelReconstructor)

__all__ = ["SingleChannelReconstructor", "SelfCalibrationReconstructor",
           "CalibrationlessReconstructor"]
