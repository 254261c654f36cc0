"""pysap-mri's ``mri.operators.utils``: the sample-location utilities, which pysap-mri also
keeps in ``mri.operators.fourier.utils`` (where ``estimate_density_compensation`` and
``check_if_fourier_op_uses_sense`` are; importable from here too)."""
from ..fourier.utils import (check_if_fourier_op_uses_sense, convert_locations_to_mask,
                             convert_mask_to_locations, discard_frequency_outliers,
                             estimate_density_compensation, gridded_inverse_fourier_transform_nd,
                             normalize_frequency_locations)

__all__ = ["convert_mask_to_locations", "convert_locations_to_mask",
           "normalize_frequency_locations", "discard_frequency_outliers",
           "gridded_inverse_fourier_transform_nd", "estimate_density_compensation",
           "check_if_fourier_op_uses_sense"]
