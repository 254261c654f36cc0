"""pysap-mri's ``SelfCalibrationReconstructor`` (``mri.reconstructors.self_calibrating``):
SENSE with maps from the k-space centre."""
import numpy as np

from ..operators.fourier.utils import check_if_fourier_op_uses_sense
from ._model import default_wavelet
from .base import ReconstructorBase
from .utils import get_Smaps

__all__ = ["SelfCalibrationReconstructor"]


class SelfCalibrationReconstructor(ReconstructorBase):
    """SENSE reconstruction with maps estimated from the k-space centre (pysap-mri's
    ``get_Smaps``) or given as ``Smaps``: ``SelfCalibrationReconstructor(fourier_op,
    linear_op=None, gradient_formulation='synthesis', kspace_portion=0.1, Smaps=None,
    smaps_extraction_mode='gridding', smaps_gridding_method='linear', n_jobs=1, verbose=0,
    regularizer_op=None)``. ``reconstruct(..., recompute_smaps=True)`` as in pysap-mri."""

    def __init__(self, fourier_op, linear_op=None, gradient_formulation="synthesis",
                 kspace_portion=0.1, Smaps=None, smaps_extraction_mode="gridding",
                 smaps_gridding_method="linear", n_jobs=1, verbose=0, **kwargs):
        linear_op = default_wavelet(fourier_op) if linear_op is None else linear_op
        if getattr(linear_op, "n_coils", 1) != 1:
            raise ValueError("The value of n_coils for linear operation must be 1 for "
                             "Self-Calibrating reconstruction!")
        super().__init__(fourier_op, linear_op, gradient_formulation=gradient_formulation,
                         verbose=verbose, **kwargs)
        ndim = np.asarray(fourier_op.samples).shape[-1]
        portion = (kspace_portion,) * ndim if isinstance(kspace_portion, float) \
            else tuple(kspace_portion)
        if len(portion) != ndim:
            raise ValueError(f"kspace_portion must have one value per k-space axis ({ndim}), "
                             f"received {kspace_portion}")
        self.kspace_portion, self.n_jobs = portion, n_jobs
        self.smaps_extraction_mode = smaps_extraction_mode
        self.smaps_gridding_method = smaps_gridding_method
        self.Smaps = Smaps
        self._recompute = True

    def get_smaps(self):
        return self.Smaps

    def set_smaps(self, smaps):
        self.Smaps = smaps

    def _smaps(self, kspace_data):
        if check_if_fourier_op_uses_sense(self.fourier_op):
            return None  # the operator already holds them
        if self._recompute or self.Smaps is None:
            samples = np.asarray(self.fourier_op.samples)
            kspace = kspace_data if isinstance(kspace_data, np.ndarray) else \
                kspace_data.detach().cpu().numpy()
            smaps, _ = get_Smaps(kspace, self.fourier_op.shape, samples, self.kspace_portion,
                                 samples.min(axis=0), samples.max(axis=0),
                                 mode=self.smaps_extraction_mode,
                                 method=self.smaps_gridding_method, n_cpu=self.n_jobs)
            self.Smaps = smaps.astype(np.complex64)
        if isinstance(kspace_data, np.ndarray):
            return self.Smaps
        import torch
        return torch.as_tensor(self.Smaps, device=kspace_data.device)

    def reconstruct(self, kspace_data, optimization_alg="pogm", x_init=None,
                    num_iterations=100, recompute_smaps=True, **kwargs):
        if self.fourier_op.n_coils != kspace_data.shape[0]:
            raise ValueError("The provided number of coil (n_coils) do not match the data "
                             f"itself: fourier_op.n_coils={self.fourier_op.n_coils}, "
                             f"kspace_data.shape[0]={kspace_data.shape[0]}")
        self._recompute = bool(recompute_smaps)
        return super().reconstruct(kspace_data, optimization_alg, x_init, num_iterations,
                                   **kwargs)
