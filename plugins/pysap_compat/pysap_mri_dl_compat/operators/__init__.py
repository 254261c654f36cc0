"""pysap-mri's ``mri.operators`` on the pysap_mri_dl engine."""
from .fourier import FFT, NonCartesianFFT, Stacked3DNFFT
from .proximity import OWL
from .wavelet import WaveletN, WaveletUD2

__all__ = ["FFT", "NonCartesianFFT", "Stacked3DNFFT", "WaveletN", "WaveletUD2", "OWL"]
