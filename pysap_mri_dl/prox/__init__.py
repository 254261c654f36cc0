"""Proximity operators: ``prox(x, step) -> x`` (and optionally ``cost(x)``).

A hand-made prior (wavelet soft thresholding) and a learned one (a denoiser wrapped by
``pysap_mri_dl.learn``) share this protocol, so every algorithm accepts either.
"""
from .analysis import Analysis, CycleSpin
from .base import Identity, Positivity, Prox
from .modopt_adapter import FromModopt, to_modopt
from .owl import OWL
from .sparsity import GroupLasso, SoftThreshold

__all__ = ["Prox", "Identity", "Positivity", "SoftThreshold", "GroupLasso", "OWL", "Analysis",
           "CycleSpin", "FromModopt", "to_modopt"]
