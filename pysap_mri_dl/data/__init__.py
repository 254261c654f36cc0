"""Data: bundled real samples, readers (fastMRI HDF5, .npz) and atomic writers."""
from .io import Acquisition, DataError, atomic_path, read_acquisition, write_json, write_nifti
from .samples import SAMPLES, Sample, load_sample, sample_arrays
from .trajectory_io import NonCartesianAcquisition

__all__ = ["load_sample", "sample_arrays", "Sample", "SAMPLES", "read_acquisition", "Acquisition",
           "DataError", "write_nifti", "write_json", "atomic_path", "NonCartesianAcquisition"]
