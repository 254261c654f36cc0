"""pysap-mri's ``mri.operators`` on the pysap_mri_dl engine."""
from .fourier import FFT, NonCartesianFFT, Stacked3DNFFT
from .linear import WaveletN, WaveletUD2
from .proximity import OWL

__all__ = ["FFT", "NonCartesianFFT", "Stacked3DNFFT", "WaveletN", "WaveletUD2", "OWL"]
