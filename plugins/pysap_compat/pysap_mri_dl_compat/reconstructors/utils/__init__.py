"""pysap-mri's ``mri.reconstructors.utils``."""
from .extract_sensitivity_maps import SMAPS_MODES, extract_k_space_center_and_locations, get_Smaps

__all__ = ["get_Smaps", "extract_k_space_center_and_locations", "SMAPS_MODES"]
