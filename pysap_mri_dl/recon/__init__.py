"""Reconstructors: thin apps assembling operators, priors and algorithms for a user."""
from .calibrationless import COUPLINGS, reconstruct_calibrationless
from .cartesian import reconstruct_sense, reconstruct_single_coil, zero_filled
from .core import Reconstruction
from .grappa import GrappaResult, grappa
from .noncartesian import DENSITY_METHODS, cg_sense, gridding, reconstruct_noncartesian
from .priors import DEFAULT_WAVELET, SparsePrior, identity_prior, wavelet_prior
from .regularisation import (DEFAULT_LAMBDA_FACTOR, LAMBDA_FACTORS, default_lambda, image_scale,
                             lambda_factor)
from .solvers import SOLVERS, get_solver, register_solver
from .tuning import TunedWaveletPrior, tune_wavelet_weights

__all__ = ["reconstruct_calibrationless", "COUPLINGS", "grappa", "GrappaResult", "reconstruct_single_coil", "reconstruct_sense", "Reconstruction", "zero_filled",
           "reconstruct_noncartesian", "gridding", "cg_sense", "DENSITY_METHODS",
           "SparsePrior", "wavelet_prior", "identity_prior", "default_lambda", "image_scale",
           "DEFAULT_LAMBDA_FACTOR", "LAMBDA_FACTORS", "lambda_factor", "DEFAULT_WAVELET", "SOLVERS", "register_solver", "get_solver",
           "TunedWaveletPrior", "tune_wavelet_weights"]
