"""BART interoperability plugin for pysap_mri_dl (see README.md)."""
from .cfl import CflError, read_cfl, write_cfl
from .tools import Bart, BartError, bart_available

__all__ = ["read_cfl", "write_cfl", "CflError", "Bart", "BartError", "bart_available",
           "register"]


def register():
    """Entry point: add ``bart-ecalib`` to the core's sensitivity-map estimators."""
    from pysap_mri_dl.calibration import register_smaps_method

    def bart_ecalib(kspace, mask):
        return Bart().ecalib(kspace * mask)

    def missing():
        return None if bart_available() else "the bart binary was not found (apt-get install bart)"

    register_smaps_method("bart-ecalib", bart_ecalib, unavailable=missing)
    return {"smaps_methods": ["bart-ecalib"], "bart_available": bart_available()}
