"""pysap-mri's ``OWL`` regulariser and the mapping of the modopt proximity operators that
pysap-mri scripts pass (``SparseThreshold``, ``GroupLASSO``, ``IdentityProx``,
``Positivity``) onto pysap_mri_dl's proxes."""
import numpy as np

from pysap_mri_dl.prox import OWL as _EngineOWL
from pysap_mri_dl.prox import FromModopt, GroupLasso, Identity, Positivity, SoftThreshold

from ..errors import UnsupportedOptionError

__all__ = ["OWL", "to_prox"]


class OWL:
    """``OWL(alpha, beta, bands_shape, n_coils, mode='band_based', n_jobs=1)``: ordered
    weighted l1 norm with OSCAR weights ``alpha + beta * (n - 1 - i)``.

    ``mode='coeff_based'`` (one OWL across the coils of every coefficient) is computed by
    :class:`pysap_mri_dl.prox.OWL`; the modes sorting whole bands or scales
    (``'band_based'``, ``'scale_based'``, ``'all'``) raise UnsupportedOptionError.
    """

    MODES = ("band_based", "scale_based", "coeff_based", "all")

    def __init__(self, alpha, beta, bands_shape, n_coils, mode="band_based", n_jobs=1):
        if mode not in self.MODES:
            raise ValueError(f"OWL: mode must be one of {self.MODES}, received {mode!r}")
        if mode != "coeff_based":
            raise UnsupportedOptionError("OWL", f"mode={mode!r}", supported="'coeff_based'",
                                         hint="sorting whole bands is not implemented")
        if int(n_coils) < 1:
            raise ValueError(f"OWL: n_coils must be strictly positive, received {n_coils}")
        self.mode, self.n_coils, self.n_jobs = mode, int(n_coils), n_jobs
        self.alpha, self.beta, self.bands_shape = alpha, beta, bands_shape
        self.weights = alpha + beta * np.arange(self.n_coils - 1, -1, -1, dtype=np.float64)
        self.engine = _EngineOWL(self.weights, axis=0)

    def op(self, data, extra_factor=1.0):
        """modopt's calling convention: ``prox_{extra_factor R}(data)``."""
        return self.engine.prox(data, extra_factor)

    def prox(self, data, step):
        return self.engine.prox(data, step)

    def cost(self, data, *args, **kwargs):
        return self.engine.cost(data)


def _is_identity(linear):
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
            if not _is_identity(getattr(regularizer, "_linear", None)):
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
