"""Learned denoisers and their use as priors (the plug-and-play end of the continuum):
Learnlets on the starlet transform, DnCNN and U-Net baselines, ``denoise`` for any array
kind, and ``LearnedProx`` / ``learned_prior`` that put them in the proximal algorithms."""
from .cnn import DnCNN, UNet, apply_denoiser
from .learnlet import Learnlet
from .prox import LearnedPrior, LearnedProx, denoise, learned_prior
from .starlet import Starlet

__all__ = ["Learnlet", "Starlet", "DnCNN", "UNet", "apply_denoiser", "LearnedProx",
           "LearnedPrior", "learned_prior", "denoise"]
