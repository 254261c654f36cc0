"""pysap-mri's ``OWL`` regulariser (``mri.operators.proximity.ordered_weighted_l1_norm``)
on :class:`pysap_mri_dl.prox.OWL`."""
import numpy as np

from pysap_mri_dl.prox import OWL as _EngineOWL

from ...errors import UnsupportedOptionError

__all__ = ["OWL"]


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
