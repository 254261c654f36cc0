"""The measurement a reconstruction network sees, built on the package's own operators.

A :class:`Measurement` holds one acquisition as torch tensors, scaled so that the
zero-filled (Cartesian) or density-compensated (non-Cartesian) image has maximum about 1,
and its forward model ``A`` as a package operator: ``SENSE`` or ``FFT`` for Cartesian
data (maps self-calibrated as in the CS reconstructors unless given), ``NUFFT`` (with maps)
for trajectories. The networks apply ``A``, ``A^H`` and the least-squares gradient through
:class:`~pysap_mri_dl.optim.LeastSquares` only: there is no second FFT or NUFFT in them,
and the data-consistency step is the same ``A^H (A x - y)`` that drives FISTA. With a
``density``, the gradient is the density-compensated ``A^H D (A x - y)`` of NC-PDNet.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...calibration import noncartesian_smaps, self_calibrated_smaps, voronoi_density
from ...data.validation import check_density
from ...operators import FFT, NUFFT, SENSE, Diagonal
from ...operators.nufft import check_image_shape
from ...optim import LeastSquares
from ...sampling import as_binary_mask

__all__ = ["Measurement", "cartesian_measurement", "check_sampling_arguments",
           "noncartesian_measurement", "to_channels",
           "from_channels"]


def to_channels(x):
    """Complex ``(B, *spatial)`` to real ``(B, 2, *spatial)`` (real, imaginary)."""
    return torch.stack([x.real, x.imag], 1)


def from_channels(x):
    """Real ``(B, 2, *spatial)`` to complex ``(B, *spatial)`` (single precision at least:
    a network run under bfloat16 autocast returns to the operators' complex64)."""
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    return torch.complex(x[:, 0], x[:, 1])


@dataclass
class Measurement:
    """One acquisition for a network: ``kspace`` (torch, complex64, scaled by ``1 /
    scale``), its operator ``A`` (image ``shape`` to k-space), the maps it uses (torch, or
    None for single-coil data), the density of non-Cartesian samples (NumPy, median 1, or
    None) and ``scale`` (multiply a network's output by it to get back to the data's
    units). ``data`` is the least-squares term the networks take gradients of."""

    kspace: torch.Tensor
    operator: object
    shape: tuple
    scale: float
    smaps: torch.Tensor | None = None
    density: np.ndarray | None = None
    mask: np.ndarray | None = None
    trajectory: np.ndarray | None = None

    def __post_init__(self):
        if self.density is None:
            self.data = LeastSquares(self.operator, self.kspace)
        else:
            root = Diagonal(self._per_sample(np.sqrt(self.density)))
            self.data = LeastSquares(root @ self.operator, root.op(self.kspace))

    def _per_sample(self, weights):
        """Density weights broadcast to the k-space shape (coils x samples)."""
        return np.ascontiguousarray(np.broadcast_to(weights, self.operator.shape_out))

    def forward(self, x):
        return self.operator.op(x)

    def adjoint(self, y):
        return self.operator.adj_op(y)

    def gradient(self, x):
        """Data consistency ``A^H (A x - y)`` (density-weighted when there is a density):
        the least-squares gradient of :class:`~pysap_mri_dl.optim.LeastSquares`."""
        return self.data.grad(x)

    def zero_filled(self):
        """``A^H y`` (density-compensated for trajectories): the networks' starting image."""
        if self.density is None:
            return self.adjoint(self.kspace)
        return self.adjoint(Diagonal(self._per_sample(self.density)).op(self.kspace))

    def _solver_problem(self):
        """``(operator, kspace, data)`` of the classical reconstructions that start the
        networks: this measurement's, or on trajectories the data term weighted by the
        square root of the density (``reconstruct_noncartesian``'s default
        ``density_weighting``, the same helper)."""
        from ...recon.noncartesian import weighted_model
        if self.density is None:
            return self.operator, self.kspace, self.data
        operator, kspace = weighted_model(self.operator, self.kspace, self.density)
        return operator, kspace, LeastSquares(operator, kspace)

    def wavelet_reconstruction(self, n_iter=100):
        """``n_iter`` iterations of the default wavelet FISTA (the lambda rule, Haar with
        random shifts) on this measurement, without gradients: where learned models that
        refine the algorithm that works start from. On trajectories it solves the problem
        of :func:`~pysap_mri_dl.recon.reconstruct_noncartesian`: the data term weighted by
        the square root of the density (its default ``density_weighting``, the same
        helper), the lambda rule
        applied to that term's adjoint."""
        from ...optim import fista
        from ...recon.priors import wavelet_prior
        from ...recon.regularisation import data_lambda
        with torch.no_grad():
            operator, kspace, data = self._solver_problem()
            prior = wavelet_prior(tuple(self.shape), data_lambda(operator, kspace)).as_prox()
            return fista(data, prior, n_iter=n_iter).x

    def pnp_reconstruction(self, n_iter=200):
        """``n_iter`` iterations of plug-and-play FISTA with the shipped tied Learnlet at its
        default noise level (:func:`~pysap_mri_dl.learn.denoisers.prox.pnp_sigma` at this
        mask's acceleration), without gradients: the data term of
        :meth:`wavelet_reconstruction` (density-weighted on trajectories)."""
        from ...optim import fista
        from ..denoisers.prox import learned_prior
        if len(self.shape) != 2:
            raise ValueError(f"the plug-and-play start needs 2D images (the Learnlet is 2D), "
                             f"received shape {tuple(self.shape)}")
        with torch.no_grad():
            operator, kspace, data = self._solver_problem()
            prox = learned_prior("learnlet").build(operator, kspace)
            return fista(data, prox, n_iter=n_iter).x

    def with_smaps(self, smaps):
        """The same measurement with other (e.g. refined, differentiable) maps."""
        if self.trajectory is None:
            operator = SENSE(smaps, mask=self.mask)
        else:
            operator = NUFFT(self.trajectory, self.shape, smaps=smaps)
        return Measurement(self.kspace, operator, self.shape, self.scale, smaps, self.density,
                           self.mask, self.trajectory)


def check_sampling_arguments(trajectory, mask, shape, density):
    """Cartesian data take ``mask`` (not ``shape`` or ``density``), data on a trajectory take
    ``shape`` and ``density`` (not ``mask``): one given for the other kind is an error, not
    ignored."""
    if trajectory is None:
        wrong = [name for name, value, default in (("shape", shape, None),
                                                   ("density", density, "auto"))
                 if not (value is default or (isinstance(value, str) and value == default))]
        if wrong:
            raise ValueError(f"{' and '.join(wrong)} apply to data on a trajectory; Cartesian "
                             f"k-space takes mask (its shape is the k-space's)")
    elif mask is not None:
        raise ValueError("mask applies to Cartesian k-space; data on a trajectory take shape "
                         "and density")


def _check_smaps(smaps, multi_coil):
    """``smaps`` is 'auto' or an array, the latter for multi-coil k-space only."""
    if isinstance(smaps, str):
        if smaps != "auto":
            raise ValueError(f"smaps must be 'auto' or an array, received {smaps!r}")
    elif not multi_coil:
        raise ValueError("smaps were given for single-coil k-space (no coil axis): give the "
                         "k-space with its coil axis, or no maps")


def _scale(image):
    scale = float(np.abs(image).max())
    if not scale > 0:
        raise ValueError("the zero-filled image is zero: nothing was measured")
    return scale


def cartesian_measurement(kspace, mask, *, smaps="auto", device="cpu"):
    """A :class:`Measurement` from Cartesian k-space ``([coils,] ny, nx)`` (NumPy or torch)
    and its mask; ``smaps`` 'auto' (self-calibrated, as the CS reconstructors do) or an
    array ``(coils, ny, nx)``. A coil axis of size 1 is single-coil data."""
    kspace = kspace.detach().cpu().numpy() if isinstance(kspace, torch.Tensor) else np.asarray(kspace)
    if kspace.ndim == 3 and kspace.shape[0] == 1 and isinstance(smaps, str):
        kspace = kspace[0]
    if kspace.ndim not in (2, 3):
        raise ValueError(f"kspace must have shape ([coils,] ny, nx), received {kspace.shape}")
    _check_smaps(smaps, kspace.ndim == 3)
    shape = kspace.shape[-2:]
    mask = as_binary_mask(mask, shape)
    kspace = (kspace * mask).astype(np.complex64)
    if kspace.ndim == 3:
        maps = (self_calibrated_smaps(kspace, mask=mask) if isinstance(smaps, str)
                else np.asarray(smaps, np.complex64))
        if maps.shape != kspace.shape:
            raise ValueError(f"smaps must have shape {kspace.shape}, received {maps.shape}")
        maps_t = torch.from_numpy(maps).to(device)
        operator = SENSE(maps_t, mask=mask)
    else:
        maps_t, operator = None, FFT(shape, mask=mask)
    data = torch.from_numpy(kspace).to(device)
    scale = _scale(operator.adj_op(data).detach().cpu().numpy())
    return Measurement(data / scale, operator, tuple(shape), scale, maps_t, None, mask)


def noncartesian_measurement(kspace, trajectory, shape, *, smaps="auto", density="auto",
                             device="cpu"):
    """A :class:`Measurement` from k-space ``([coils,] n_samples)`` on ``trajectory``
    ``(n_samples, ndim)`` (2D or 3D); ``density`` 'auto' (Voronoi in 2D, Pipe in 3D),
    'voronoi', 'pipe' or an array; maps 'auto' (from the k-space centre) or an array."""
    from ...calibration import pipe_density
    kspace = kspace.detach().cpu().numpy() if isinstance(kspace, torch.Tensor) else np.asarray(kspace)
    if kspace.ndim == 2 and kspace.shape[0] == 1 and isinstance(smaps, str):
        kspace = kspace[0]
    shape = check_image_shape(shape)
    _check_smaps(smaps, kspace.ndim == 2)
    if density is None:
        raise ValueError("density=None: the networks' data consistency on trajectories is "
                         "density-compensated; give 'auto', 'voronoi', 'pipe' or an array")
    if isinstance(density, str):
        if density == "auto":
            density = "voronoi" if len(shape) == 2 else "pipe"
        if density not in ("voronoi", "pipe"):
            raise ValueError(f"density must be 'auto', 'voronoi', 'pipe' or an array, "
                             f"received {density!r}")
        density = (voronoi_density(trajectory, shape) if density == "voronoi"
                   else pipe_density(trajectory, shape))
    density = check_density(density, np.shape(trajectory)[0])
    # median 1 (of the weighted samples), so that the networks' steps keep their scale
    density = (density / np.median(density[density > 0])).astype(np.float32)
    maps_t = None
    if kspace.ndim == 2:
        maps = (noncartesian_smaps(kspace, trajectory, shape, density=density)
                if isinstance(smaps, str) else np.asarray(smaps, np.complex64))
        maps_t = torch.from_numpy(maps).to(device)
        operator = NUFFT(trajectory, shape, smaps=maps_t)
    else:
        operator = NUFFT(trajectory, shape)
    data = torch.from_numpy(kspace.astype(np.complex64)).to(device)
    weights = np.ascontiguousarray(np.broadcast_to(density, operator.shape_out))
    scale = _scale(operator.adj_op(Diagonal(weights).op(data)).detach().cpu().numpy())
    return Measurement(data / scale, operator, shape, scale, maps_t, density, None,
                       np.asarray(trajectory))
