"""Learned priors (torch only): Learnlets, DnCNN and U-Net denoisers, the ``LearnedProx``
that plugs any of them into the proximal algorithms, training and shipped weights.

Importing this package imports torch; the rest of pysap_mri_dl never does.
"""
from .denoisers import DnCNN, UNet
from .learnlet import Learnlet
from .prox import LearnedPrior, LearnedProx, denoise, learned_prior
from .starlet import Starlet
from .weights import MODELS, PRETRAINED, WeightsError, build_model, load_denoiser, pretrained_path, save_denoiser

__all__ = ["Learnlet", "Starlet", "DnCNN", "UNet", "LearnedProx", "LearnedPrior", "learned_prior", "denoise", "MODELS", "PRETRAINED", "build_model",
           "load_denoiser", "save_denoiser", "pretrained_path", "WeightsError"]
