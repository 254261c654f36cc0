"""pysap_mri_dl: MRI reconstruction from undersampled data, from compressed sensing to
learned priors, on one set of operators and algorithms.

``import pysap_mri_dl`` does not import torch or CuPy; they are used when their arrays are
passed in (and by :mod:`pysap_mri_dl.learn`).
"""
from . import calibration, data, metrics, operators, optim, prox, recon, sampling
from ._backend import to_cupy, to_numpy, to_torch

__version__ = "0.1.0"

__all__ = ["operators", "prox", "optim", "recon", "sampling", "calibration", "data",
           "metrics", "to_numpy", "to_torch", "to_cupy", "__version__"]
