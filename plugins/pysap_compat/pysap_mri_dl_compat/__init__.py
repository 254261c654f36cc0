"""pysap-mri compatibility layer on the pysap_mri_dl engine.

Replace ``mri.`` by ``pysap_mri_dl_compat.`` in a pysap-mri script's imports: the
operators, reconstructors and utilities below keep pysap-mri's names, signatures, scalings
and return values, and delegate every computation to :mod:`pysap_mri_dl` (NumPy arrays or
torch tensors). Options that are not implemented raise :class:`UnsupportedOptionError`.
``python -m pysap_mri_dl_compat script.py`` runs a script without editing it.
"""
from .errors import UnsupportedOptionError
from .run import mri_aliased, run_script

__all__ = ["UnsupportedOptionError", "mri_aliased", "run_script", "register"]
__version__ = "0.1.0"


def register():
    """Entry point (group ``pysap_mri_dl.plugins``): nothing to add to the core's registries;
    returns what the layer provides."""
    return {"modules": ["operators", "operators.fourier", "operators.fourier.utils",
                        "operators.linear", "operators.proximity", "operators.utils",
                        "reconstructors", "reconstructors.utils", "utils"]}
