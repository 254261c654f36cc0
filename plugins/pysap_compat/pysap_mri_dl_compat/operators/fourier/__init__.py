"""pysap-mri's ``mri.operators.fourier``: the Cartesian and non-Cartesian Fourier operators
and their utilities (``mri.operators.fourier.utils``)."""
from .cartesian import FFT
from .non_cartesian import NUFFT_IMPLEMENTATIONS, NonCartesianFFT, Stacked3DNFFT

__all__ = ["FFT", "NonCartesianFFT", "Stacked3DNFFT", "NUFFT_IMPLEMENTATIONS"]
