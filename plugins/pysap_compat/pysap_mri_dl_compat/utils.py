"""The utilities pysap-mri scripts import (``mri.operators.utils`` and
``mri.reconstructors.utils``), gathered in one module."""
from .operators.utils import (check_if_fourier_op_uses_sense, convert_locations_to_mask,
                              convert_mask_to_locations, discard_frequency_outliers,
                              estimate_density_compensation,
                              gridded_inverse_fourier_transform_nd,
                              normalize_frequency_locations)
from .reconstructors.utils import extract_k_space_center_and_locations, get_Smaps

__all__ = ["convert_mask_to_locations", "convert_locations_to_mask",
           "normalize_frequency_locations", "discard_frequency_outliers",
           "gridded_inverse_fourier_transform_nd", "estimate_density_compensation",
           "check_if_fourier_op_uses_sense", "get_Smaps", "extract_k_space_center_and_locations"]
