"""pysap-mri's Cartesian ``FFT`` (``mri.operators.fourier.cartesian``) on
:class:`pysap_mri_dl.operators.FFT`: orthonormal and centred, images ``([n_coils,] *shape)``
map to masked k-space of the same shape."""
import numpy as np

from pysap_mri_dl.operators import FFT as _EngineFFT

from .._arrays import as_array
from .utils import convert_locations_to_mask, convert_mask_to_locations

__all__ = ["FFT"]


class FFT:
    """Masked, centred, orthonormal FFT: ``FFT(shape, n_coils=1, samples=None, mask=None,
    n_jobs=1)``; give ``mask`` (1 where sampled) or ``samples`` (locations in [-0.5, 0.5)).

    ``linear_operator`` is the :class:`pysap_mri_dl.operators.FFT` doing the work (NumPy,
    CuPy or torch input). ``n_jobs`` only sets parallelism in pysap-mri and has no effect
    on results; it is accepted and unused.
    """

    def __init__(self, shape, n_coils=1, samples=None, mask=None, n_jobs=1):
        self.shape = tuple(int(s) for s in shape)
        if mask is None and samples is None:
            raise ValueError("FFT: give either samples or mask")
        if mask is None:
            self.mask = convert_locations_to_mask(np.asarray(samples), self.shape)
            self.samples = np.asarray(samples)
        else:
            self.mask = np.asarray(as_array(mask))
            self.samples = convert_mask_to_locations(self.mask)
        if int(n_coils) < 1:
            raise ValueError(f"FFT: n_coils must be a positive integer, received {n_coils}")
        self.n_coils, self.n_jobs = int(n_coils), n_jobs
        self.linear_operator = _EngineFFT(self.shape, mask=self.mask,
                                          n_coils=self.n_coils if self.n_coils > 1 else None)

    def _check_coils(self, data, name):
        if self.n_coils > 1 and data.shape[0] != self.n_coils:
            raise ValueError(f"FFT: {name} must have shape (n_coils={self.n_coils}, "
                             f"*{self.shape}), received {tuple(data.shape)}")

    def op(self, img):
        """Masked Fourier transform of ``img`` (``([n_coils,] *shape)``)."""
        img = as_array(img)
        self._check_coils(img, "img")
        return self.linear_operator.op(img)

    def adj_op(self, x):
        """Adjoint (inverse FFT of the masked k-space ``x``)."""
        x = as_array(x)
        self._check_coils(x, "x")
        return self.linear_operator.adj_op(x)
