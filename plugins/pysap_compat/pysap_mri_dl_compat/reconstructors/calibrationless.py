"""pysap-mri's ``CalibrationlessReconstructor`` (``mri.reconstructors.calibrationless``):
the coil images jointly, without maps."""
from ..errors import UnsupportedOptionError
from ..operators.fourier.utils import check_if_fourier_op_uses_sense
from ._model import default_wavelet
from .base import ReconstructorBase

__all__ = ["CalibrationlessReconstructor"]


class CalibrationlessReconstructor(ReconstructorBase):
    """Joint reconstruction of the coil images (no maps): ``CalibrationlessReconstructor(
    fourier_op, linear_op=None, gradient_formulation='synthesis', n_jobs=1, verbose=0,
    regularizer_op=None)``; ``x_final`` has shape ``(n_coils, *shape)``."""

    def __init__(self, fourier_op, linear_op=None, gradient_formulation="synthesis",
                 n_jobs=1, verbose=0, **kwargs):
        linear_op = default_wavelet(fourier_op, fourier_op.n_coils) if linear_op is None \
            else linear_op
        if fourier_op.n_coils != getattr(linear_op, "n_coils", fourier_op.n_coils):
            raise ValueError("The value of n_coils for fourier and wavelet operation must "
                             "be same for calibrationless reconstruction!")
        if check_if_fourier_op_uses_sense(fourier_op):
            raise UnsupportedOptionError("CalibrationlessReconstructor",
                                         "a fourier_op with smaps")
        super().__init__(fourier_op, linear_op, gradient_formulation=gradient_formulation,
                         verbose=verbose, **kwargs)
        self.n_image_coils, self.n_jobs = fourier_op.n_coils, n_jobs
