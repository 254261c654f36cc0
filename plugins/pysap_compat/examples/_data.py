"""Bundled data for the gallery scripts (pysap-mri's own examples download theirs)."""
import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.operators import ifftn_centered
from pysap_mri_dl.sampling import random_column_mask


def brain_slice_256():
    """The bundled single-coil brain slice at 256 x 256 (centre of its 512 x 512 k-space),
    as a complex image."""
    kspace = load_sample("brain_slice_2d").kspace[128:384, 128:384]
    return ifftn_centered(kspace, 2).astype(np.complex64)


def brain_4coil():
    """The bundled 4-coil brain (256 x 256): coil images and the RSS reference."""
    sample = load_sample("brain_4coil")
    return ifftn_centered(sample.kspace, 2).astype(np.complex64), sample.reference


def cartesian_mask(shape=(256, 256)):
    """4x random column mask with 8% fully sampled centre, as a full 0/1 mask."""
    mask = random_column_mask(shape, acceleration=4, center_fraction=0.08, seed=0)
    return np.broadcast_to(np.asarray(mask, dtype=int), shape).copy()
