"""The mapping of what pysap-mri scripts pass as ``regularizer_op`` (modopt's
``SparseThreshold``, ``GroupLASSO``, ``IdentityProx``, ``Positivity``, pysap-mri's ``OWL``)
onto pysap_mri_dl's proxes."""
import numpy as np

from pysap_mri_dl.prox import FromModopt, GroupLasso, Identity, Positivity, SoftThreshold

from ..errors import UnsupportedOptionError
from ..operators.proximity import OWL

__all__ = ["to_prox", "is_identity"]


def is_identity(linear):
    """None, or an ``Identity`` of modopt, pysap-mri or ours."""
    return linear is None or type(linear).__name__ == "Identity"


def to_prox(regularizer):
    """Our prox for a pysap-mri regulariser: None, a modopt proximity operator, the
    :class:`OWL` above or any object with ``prox(x, step)`` (ours, a learned one)."""
    if regularizer is None:
        return Identity()
    if isinstance(regularizer, OWL):
        return regularizer.engine
    if hasattr(regularizer, "prox"):
        return regularizer
    name, module = type(regularizer).__name__, type(regularizer).__module__
    if module.startswith("modopt"):
        if name == "SparseThreshold":
            kind = getattr(regularizer, "_thresh_type", "soft")
            if kind != "soft":
                raise UnsupportedOptionError("SparseThreshold", f"thresh_type={kind!r}",
                                             supported="'soft'")
            if not is_identity(getattr(regularizer, "_linear", None)):
                raise UnsupportedOptionError(
                    "SparseThreshold", f"linear={type(regularizer._linear).__name__}",
                    supported="Identity()", hint="modopt applies the threshold to the input "
                    "and uses `linear` only in the cost; put the transform in linear_op")
            return SoftThreshold(_weights(regularizer.weights))
        if name == "GroupLASSO":
            return GroupLasso(_weights(regularizer.weights), axis=0)
        if name == "IdentityProx":
            return Identity()
        if name == "Positivity":
            return Positivity()
    if hasattr(regularizer, "op"):
        return FromModopt(regularizer)  # NumPy only: runs modopt's own operator
    raise TypeError(f"regularizer_op must be None, a modopt proximity operator or an object "
                    f"with prox(x, step), received {type(regularizer).__name__}")


def _weights(weights):
    return float(weights) if np.ndim(weights) == 0 else np.asarray(weights)
