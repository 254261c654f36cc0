"""pysap-mri's ``mri.operators.linear``: the wavelet transforms."""
from .wavelet import WaveletN, WaveletUD2

__all__ = ["WaveletN", "WaveletUD2"]
