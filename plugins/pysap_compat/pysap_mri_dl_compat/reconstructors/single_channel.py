"""pysap-mri's ``SingleChannelReconstructor`` (``mri.reconstructors.single_channel``)."""
from ..operators.fourier.utils import check_if_fourier_op_uses_sense
from ._model import default_wavelet
from .base import ReconstructorBase

__all__ = ["SingleChannelReconstructor"]


class SingleChannelReconstructor(ReconstructorBase):
    """``SingleChannelReconstructor(fourier_op, linear_op=None,
    gradient_formulation='synthesis', verbose=0, regularizer_op=None, lipschitz_cst=None)``
    (default ``linear_op``: ``WaveletN('sym8', nb_scale=3)``)."""

    def __init__(self, fourier_op, linear_op=None, gradient_formulation="synthesis",
                 verbose=0, **kwargs):
        linear_op = default_wavelet(fourier_op) if linear_op is None else linear_op
        if (fourier_op.n_coils != 1 and not check_if_fourier_op_uses_sense(fourier_op)) or \
                getattr(linear_op, "n_coils", 1) != 1:
            raise ValueError("The value of n_coils cannot be greater than 1 for single "
                             "channel reconstruction")
        super().__init__(fourier_op, linear_op, gradient_formulation=gradient_formulation,
                         verbose=verbose, **kwargs)
