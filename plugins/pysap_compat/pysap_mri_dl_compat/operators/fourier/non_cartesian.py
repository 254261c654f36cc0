"""pysap-mri's ``NonCartesianFFT`` and ``Stacked3DNFFT``
(``mri.operators.fourier.non_cartesian``) on :class:`pysap_mri_dl.operators.NUFFT`.

Conventions kept from pysap-mri: ``samples (M, d)`` in [-0.5, 0.5) and, like mri-nufft, the
sums divided by ``sqrt(N * 2**d)`` (ours by ``sqrt(N)``); given ``density_comp`` its
``adj_op`` weights the data first.
"""
import numpy as np

from pysap_mri_dl.operators import NUFFT

from ...errors import UnsupportedOptionError
from .._arrays import as_array

__all__ = ["NonCartesianFFT", "Stacked3DNFFT", "NUFFT_IMPLEMENTATIONS"]


NUFFT_IMPLEMENTATIONS = {
    # pysap-mri / mri-nufft name -> pysap_mri_dl NUFFT backend. None: the fastest installed
    # CPU backend (ducc0 when present) for NumPy and CPU tensors; CuPy arrays and CUDA
    # tensors always run on cuFINUFFT. The name chooses CPU or GPU, not the kernel library:
    # all kernels agree to the requested accuracy (eps).
    "finufft": None,
    "cufinufft": None,
    "gpuNUFFT": None,
    "cuda": None,        # pysap-mri < 0.4 name of gpuNUFFT
    "cpu": None,         # pysap-mri < 0.4 name of the CPU NFFT
    "numpy": None,       # mri-nufft's exact NDFT: a NUFFT at the requested accuracy
    "ducc0": "ducc0",
    "pynufft": "pynufft",
    "pynufft-cpu": "pynufft",
}
"""How each ``implementation`` name of ``NonCartesianFFT`` maps to our backends; any
other name (``'tensorflow'``, ``'bart'``, ``'sigpy'``, ``'stacked'``, ``'torchkbnufft-*'``,
``'pynfft'``) raises :class:`UnsupportedOptionError`."""


class NonCartesianFFT:
    """Non-uniform FFT with mri-nufft's conventions: ``NonCartesianFFT(samples, shape,
    implementation='finufft', n_coils=1, density_comp=None, smaps=None, eps=1e-6)``.

    ``op`` maps images ``([n_coils,] *shape)`` (or ``shape`` with ``smaps``) to k-space
    ``([n_coils,] M)`` with ``y_j = sum_n x_n exp(-2 i pi k_j . n) / sqrt(N 2**d)``;
    ``adj_op`` is its adjoint, applied to ``density_comp * y`` when a density is given.
    ``linear_operator`` is the (scaled) :class:`pysap_mri_dl.operators.NUFFT`.
    """

    def __init__(self, samples, shape, implementation="finufft", n_coils=1,
                 density_comp=None, **kwargs):
        smaps = kwargs.pop("smaps", None)
        eps = float(kwargs.pop("eps", 1e-6))
        if kwargs:
            raise UnsupportedOptionError(
                "NonCartesianFFT", f"the mri-nufft keyword(s) {sorted(kwargs)}",
                supported="smaps, eps")
        if implementation not in NUFFT_IMPLEMENTATIONS:
            raise UnsupportedOptionError(
                "NonCartesianFFT", f"implementation={implementation!r}",
                supported=sorted(NUFFT_IMPLEMENTATIONS))
        self.samples = np.asarray(samples)
        self.shape = tuple(int(s) for s in shape)
        self.n_coils, self.implementation = int(n_coils), implementation
        self.density_comp = None if density_comp is None else np.asarray(density_comp)
        self.smaps = smaps
        self.uses_sense = smaps is not None
        engine = NUFFT(self.samples, self.shape, n_coils=self.n_coils, smaps=smaps,
                       backend=NUFFT_IMPLEMENTATIONS[implementation], eps=eps)
        if smaps is not None:
            self.n_coils = engine.n_coils
        self.linear_operator = (2.0 ** (-len(self.shape) / 2)) * engine

    def op(self, data):
        """Forward NUFFT of ``data``."""
        return self.linear_operator.op(as_array(data))

    def adj_op(self, coeffs):
        """Adjoint NUFFT of ``coeffs`` (times ``density_comp`` first, when given)."""
        coeffs = as_array(coeffs)
        if self.density_comp is not None:
            coeffs = coeffs * _like(self.density_comp.astype(np.float32), coeffs)
        return self.linear_operator.adj_op(coeffs)


def _like(array, reference):
    if isinstance(reference, np.ndarray):
        return array
    import torch
    return torch.as_tensor(array, device=reference.device)


class Stacked3DNFFT(NonCartesianFFT):
    """pysap-mri's stack-of-stars/spirals operator ``Stacked3DNFFT(kspace_loc, shape,
    implementation='cpu', n_coils=1)``: computed here as a full 3D NUFFT of the stacked
    locations (same values to NUFFT accuracy, no separate FFT along the stack axis)."""

    def __init__(self, kspace_loc, shape, implementation="cpu", n_coils=1, **kwargs):
        if len(tuple(shape)) != 3:
            raise ValueError(f"Stacked3DNFFT: shape must have 3 sizes, received {shape}")
        super().__init__(kspace_loc, shape, implementation=implementation, n_coils=n_coils,
                         **kwargs)
