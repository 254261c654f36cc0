"""pysap-mri's ``mri.reconstructors`` on the pysap_mri_dl engine."""
from .calibrationless import CalibrationlessReconstructor
from .self_calibrating import SelfCalibrationReconstructor
from .single_channel import SingleChannelReconstructor

__all__ = ["SingleChannelReconstructor", "SelfCalibrationReconstructor",
           "CalibrationlessReconstructor"]
