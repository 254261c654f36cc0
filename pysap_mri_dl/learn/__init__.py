"""Learned reconstruction (torch only), in subpackages that follow the continuum:

* :mod:`.denoisers`: learned priors for plug-and-play (Learnlets, DnCNN, U-Net) and the
  ``LearnedProx`` that plugs any of them into the proximal algorithms;
* :mod:`.unrolled`: unrolled networks (PDNet, XPDNet, NC-PDNet, the unrolled Learnlet and
  the seed's baselines) on one skeleton over the package's operators;

around one data pipeline (:mod:`.data`), one trainer (:mod:`.training`) and one weights
format (:mod:`.weights`). Importing this package imports torch; the rest of pysap_mri_dl
never does.
"""
from .denoisers import (DnCNN, Learnlet, LearnedPrior, LearnedProx, Starlet, UNet, denoise,
                        learned_prior)
from .unrolled import UNROLLED_MODELS, load_network, reconstruct_network
from .weights import (MODELS, NETWORKS, PRETRAINED, WeightsError, build_model, load_denoiser,
                      load_model, network_path, pretrained_path, save_denoiser, save_model)

__all__ = ["Learnlet", "Starlet", "DnCNN", "UNet", "LearnedProx", "LearnedPrior",
           "learned_prior", "denoise", "MODELS", "PRETRAINED", "build_model", "load_denoiser",
           "save_denoiser", "pretrained_path", "WeightsError", "UNROLLED_MODELS", "NETWORKS",
           "reconstruct_network", "load_network", "load_model", "save_model", "network_path"]
