"""Training: one loop for every model (:mod:`.trainer`: resumable, deterministic, logged,
data-parallel over ``torchrun``), and the tasks that feed it: denoisers on image patches
(:mod:`.denoising`) and reconstruction networks on simulated or real acquisitions
(:mod:`.reconstruction`)."""
from .denoising import TrainingConfig, train_denoiser, validation_psnr
from .reconstruction import ReconstructionConfig, train_reconstruction
from .trainer import Schedule, check_device, fit, learning_rate
from ..data import invert_contrast, load_slices

__all__ = ["TrainingConfig", "train_denoiser", "validation_psnr", "ReconstructionConfig",
           "train_reconstruction", "Schedule", "fit", "learning_rate", "check_device",
           "invert_contrast", "load_slices"]
