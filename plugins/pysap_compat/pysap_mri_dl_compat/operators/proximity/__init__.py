"""pysap-mri's ``mri.operators.proximity``: the ``OWL`` regulariser (modopt's proximity
operators are passed as they are; see ``reconstructors``)."""
from .ordered_weighted_l1_norm import OWL

__all__ = ["OWL"]
