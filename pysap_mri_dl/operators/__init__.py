"""Linear operators: Fourier sampling, coil sensitivities, wavelets, finite differences.

Every operator maps arrays of trailing shape ``shape_in`` to ``shape_out`` and accepts
NumPy arrays and torch tensors (CuPy where its backend allows), returning the same kind.
"""
from .._fourier import fftn_centered, ifftn_centered
from .base import Identity, LinearOperator
from .fft import FFT
from .finite_difference import FiniteDifference
from .matrix import Diagonal, MatrixOperator
from .nufft import NUFFT
from .sense import SENSE, MapSets
from .wavelet import Band, Wavelet

__all__ = ["LinearOperator", "Identity", "FFT", "SENSE", "Wavelet", "Band", "FiniteDifference",
           "MatrixOperator", "Diagonal", "NUFFT", "MapSets", "fftn_centered", "ifftn_centered"]
