"""The data pipeline every learned model shares: training slices from real magnitude
volumes with their augmentations (:mod:`.slices`), simulated acquisitions for the
reconstruction networks (:mod:`.acquisitions`) and real fastMRI k-space (:mod:`.fastmri`)."""
from .slices import augment, fit_to, invert_contrast, load_slices

__all__ = ["load_slices", "invert_contrast", "augment", "fit_to"]
