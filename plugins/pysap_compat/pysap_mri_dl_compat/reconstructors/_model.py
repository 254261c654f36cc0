"""Turn pysap-mri's operator objects into pysap_mri_dl linear operators."""
import numpy as np

from pysap_mri_dl.operators import SENSE, Diagonal, Identity, LinearOperator, NUFFT

from ..errors import UnsupportedOptionError
from ..operators.fourier import FFT, NonCartesianFFT
from ..operators.linear import WaveletN


class Batched(LinearOperator):
    """``operator`` applied to each of ``n`` leading images (coils), shapes declared."""

    def __init__(self, operator, n):
        super().__init__((n,) + operator.shape_in, (n,) + operator.shape_out,
                         dtype=operator.dtype)
        self.operator = operator

    def _op(self, x):
        return self.operator._op(x)

    def _adj_op(self, y):
        return self.operator._adj_op(y)

    def lipschitz_bound(self):
        return self.operator.lipschitz_bound()


def fourier_model(fourier_op, smaps=None):
    """``(A, weights)``: the forward model and the density weights of the data term (None,
    or ``d`` so that the gradient is ``A^H d (A x - y)`` as with mri-nufft's adjoint)."""
    if isinstance(fourier_op, FFT):
        if smaps is None:
            return fourier_op.linear_operator, None
        return SENSE(smaps, mask=fourier_op.mask), None
    if isinstance(fourier_op, NonCartesianFFT):
        operator = fourier_op.linear_operator
        if smaps is not None:
            scale = operator.scalar
            engine = operator.operator
            operator = scale * NUFFT(engine.trajectory, engine.shape, smaps=smaps,
                                     backend=engine.backend.name, eps=engine.eps)
        return operator, fourier_op.density_comp
    raise UnsupportedOptionError(
        "reconstructor", f"fourier_op of type {type(fourier_op).__name__}",
        supported="pysap_mri_dl_compat.operators.FFT, NonCartesianFFT, Stacked3DNFFT")


def weighted(operator, kspace, density):
    """``diag(sqrt(d)) A`` and ``sqrt(d) y``: its least-squares gradient is ``A^H d (A x - y)``."""
    if density is None:
        return operator, kspace
    root = np.ascontiguousarray(np.broadcast_to(
        np.sqrt(np.asarray(density, dtype=np.float32)), operator.shape_out))
    like = root if isinstance(kspace, np.ndarray) else __import__("torch").as_tensor(
        root, device=kspace.device)
    return Diagonal(root) @ operator, kspace * like


def sparsifying(linear_op, shape, n_coils):
    """Our transform for ``linear_op`` on images ``([n_coils,] *shape)``."""
    if linear_op is None or type(linear_op).__name__ == "Identity":
        full = shape if n_coils == 1 else (n_coils,) + shape
        return Identity(full)
    if not hasattr(linear_op, "engine"):
        raise UnsupportedOptionError(
            "reconstructor", f"linear_op of type {type(linear_op).__name__}",
            supported="WaveletN, WaveletUD2 or Identity()")
    engine = linear_op.engine(shape)
    return engine if n_coils == 1 else Batched(engine, n_coils)


def default_wavelet(fourier_op, n_coils=1):
    # pysap-mri's default sparsifying transform
    return WaveletN("sym8", nb_scale=3, dim=len(fourier_op.shape), n_coils=n_coils)
