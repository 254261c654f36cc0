"""Non-uniform Fourier operator (2D/3D) on library backends (ducc0, FINUFFT, PyNUFFT)."""
from __future__ import annotations

import numbers
import importlib
from importlib.util import find_spec

import numpy as np

from .._backend import array_kind, check_same_kind, is_torch, same_kind, to_cupy, to_numpy
from .._fourier import precision_of
from ._autograd import apply_external, numpy_external
from .base import LinearOperator, image_shape
from .nufft_backends import make_backend

__all__ = ["NUFFT", "check_trajectory", "check_image_shape"]


def check_image_shape(shape, what="shape"):
    """A 2D or 3D image shape: :func:`~.base.image_shape` with 2 or 3 sizes >= 2."""
    return image_shape(shape, what, ndims=(2, 3), minimum=2)


def check_trajectory(trajectory, ndim=None):
    """Validate a trajectory ``(n_samples, ndim)`` in cycles per pixel, range [-0.5, 0.5)."""
    trajectory = np.asarray(to_numpy(trajectory))
    if trajectory.ndim != 2 or trajectory.shape[1] not in (2, 3):
        raise ValueError(f"trajectory must have shape (n_samples, 2 or 3), received {trajectory.shape}")
    if ndim is not None and trajectory.shape[1] != ndim:
        raise ValueError(f"trajectory has {trajectory.shape[1]} columns but the image has {ndim} axes")
    if trajectory.shape[0] < 1:
        raise ValueError("trajectory holds no sample")
    if not np.issubdtype(trajectory.dtype, np.floating) or not np.all(np.isfinite(trajectory)):
        raise ValueError("trajectory must hold finite real coordinates")
    low, high = trajectory.min(), trajectory.max()
    if low < -0.5 or high >= 0.5:
        raise ValueError(f"trajectory must lie in [-0.5, 0.5) cycles per pixel, found values in "
                         f"[{low:.4f}, {high:.4f}]; rescale it: divide column d by the image "
                         "size N_d for pixel units (-N/2 .. N/2, BART's), by 2 pi for radians")
    return trajectory.astype(np.float64)


class NUFFT(LinearOperator):
    """``y_j = sum_n x_n exp(-2 i pi k_j . n) / sqrt(N)`` with ``n`` centred on the grid.

    Trajectory ``(n_samples, ndim)`` in cycles per pixel in [-0.5, 0.5); column ``d`` is the
    coordinate along image axis ``d``; a Cartesian trajectory reproduces the centred
    orthonormal FFT. Images ``(*batch, [n_coils,] *shape)`` map to k-space
    ``(*batch, [n_coils,] n_samples)``; with ``smaps`` the operator is the SENSE model
    ``y_c = NUFFT(S_c x)`` from images ``(*batch, *shape)``.

    Parameters
    ----------
    trajectory : array ``(n_samples, ndim)``
    shape : tuple of 2 or 3 ints
    n_coils : int
        Coils (used when ``smaps`` is None): ``shape_in = (n_coils, *shape)`` if > 1.
    smaps : array ``(n_coils, *shape)``, optional
    density : array ``(n_samples,)``, optional
        Density-compensation weights, used by :meth:`density_compensated_adjoint`.
    backend : 'ducc0', 'finufft', 'pynufft' or None (the fastest installed), for NumPy and
        torch input; CuPy input always uses cuFINUFFT
    eps : float
        Requested relative accuracy.

    NumPy arrays are transformed by ``backend``; CuPy arrays by cuFINUFFT on their GPU (needs
    ``pip install cufinufft``); torch tensors go through a ``torch.autograd.Function`` whose
    backward is the adjoint (through NumPy on the CPU backend).
    """

    def __init__(self, trajectory, shape, *, n_coils=1, smaps=None, density=None, backend=None,
                 eps=1e-6):
        shape = check_image_shape(shape, "NUFFT: shape")
        self.trajectory = check_trajectory(trajectory, len(shape))
        if not 1e-14 < eps < 1e-1:
            raise ValueError(f"NUFFT: eps must be in (1e-14, 0.1), received {eps}")
        self.shape, self.ndim, self.eps = shape, len(shape), float(eps)
        self.n_samples = self.trajectory.shape[0]
        if isinstance(n_coils, bool) or not isinstance(n_coils, numbers.Integral) \
                or n_coils < 1:
            raise ValueError(f"NUFFT: n_coils must be an integer >= 1, received {n_coils!r}")
        if smaps is not None and not hasattr(smaps, "shape"):
            smaps = np.asarray(smaps)  # e.g. a list of coil maps
        self.smaps = smaps
        if smaps is not None:
            if tuple(smaps.shape[1:]) != shape:
                raise ValueError(f"NUFFT: smaps must have shape (n_coils, *{shape}), "
                                 f"received {tuple(smaps.shape)}")
            if n_coils not in (1, smaps.shape[0]):
                raise ValueError(f"NUFFT: n_coils={n_coils} but smaps hold "
                                 f"{smaps.shape[0]} coils (give one or the other)")
            n_coils = int(smaps.shape[0])
        self.n_coils = int(n_coils)
        if density is not None:
            density = np.asarray(to_numpy(density), dtype=np.float32)
            if density.shape != (self.n_samples,):
                raise ValueError(f"NUFFT: density must have shape ({self.n_samples},) like the "
                                 f"trajectory, received {density.shape}")
            if not np.all(np.isfinite(density)) or np.any(density < 0):
                raise ValueError("NUFFT: density must be finite and non-negative")
        self.density = density
        if backend == "cufinufft":
            raise ValueError("NUFFT: backend='cufinufft' is chosen automatically for CuPy input; "
                             "pass a CPU backend (ducc0, finufft, pynufft) or None")
        self.backend = make_backend(backend, self.trajectory, shape, eps)
        self._gpu_backend = None
        self.scale = float(1.0 / np.sqrt(np.prod(shape)))
        if smaps is not None:
            shape_in, shape_out = shape, (self.n_coils, self.n_samples)
        elif self.n_coils > 1:
            shape_in, shape_out = (self.n_coils,) + shape, (self.n_coils, self.n_samples)
        else:
            shape_in, shape_out = shape, (self.n_samples,)
        super().__init__(shape_in, shape_out, dtype=np.complex64)

    # ---- raw transforms (batched over leading axes) -------------------------------------
    def _numpy_forward(self, x, backend=None):
        lead = x.shape[: x.ndim - self.ndim]
        flat = x.reshape((-1,) + self.shape)
        if flat.dtype.kind != "c":  # real images (a backend takes complex input only)
            flat = flat.astype(precision_of(flat))
        out = (backend or self.backend).forward(flat) * self.scale
        return out.reshape(lead + (self.n_samples,))

    def _numpy_adjoint(self, y, backend=None):
        lead = y.shape[:-1]
        flat = y.reshape(-1, self.n_samples)
        if flat.dtype.kind != "c":  # real k-space
            flat = flat.astype(precision_of(flat))
        out = (backend or self.backend).adjoint(flat) * self.scale
        return out.reshape(lead + self.shape)

    def _gpu(self):
        """The cuFINUFFT backend for CuPy input (planned on first use)."""
        if self._gpu_backend is None:
            self._gpu_backend = make_backend("cufinufft", self.trajectory, self.shape, self.eps)
        return self._gpu_backend

    def _transform(self, data, direction):
        """Apply ``direction`` ('forward' or 'adjoint') to NumPy data (CPU backend), to CuPy
        data (cuFINUFFT), or to torch tensors through the matching autograd function."""
        if is_torch(data):
            transpose = "adjoint" if direction == "forward" else "forward"
            return apply_external(self, f"_numpy_{direction}", f"_numpy_{transpose}", data)
        kind = array_kind(data)
        if kind == "cupy":
            return getattr(self, f"_numpy_{direction}")(data, self._gpu())
        if kind != "numpy":
            raise TypeError(f"NUFFT: {kind} arrays are not supported (NumPy, CuPy or torch "
                            "expected)")
        return getattr(self, f"_numpy_{direction}")(np.ascontiguousarray(data))

    # ---- operator hooks ----------------------------------------------------------------
    def _op(self, x):
        if self.smaps is None:
            return self._transform(x, "forward")
        check_same_kind(x, self.smaps, name="smaps", reference_name="the input")
        return self._transform(self.smaps * x[(..., None) + (slice(None),) * self.ndim], "forward")

    def _adj_op(self, y):
        images = self._transform(y, "adjoint")
        if self.smaps is None:
            return images
        check_same_kind(y, self.smaps, name="smaps", reference_name="the input")
        return (self.smaps.conj() * images).sum(-(self.ndim + 1))

    def _external(self, method, tensor):
        """Autograd hook: CUDA tensors stay on the GPU (cuFINUFFT through DLPack) when CuPy and
        cuFINUFFT are installed, otherwise they go through the CPU backend."""
        if tensor.is_cuda and _gpu_libraries():
            import torch
            with _cupy_device(tensor.device):
                return torch.from_dlpack(getattr(self, method)(to_cupy(tensor), self._gpu()))
        return numpy_external(self, method, tensor)

    def density_compensated_adjoint(self, y):
        """``A^H (d * y)``: the gridding reconstruction (needs ``density``)."""
        if self.density is None:
            raise ValueError("NUFFT: no density given; compute one with "
                             "pysap_mri_dl.calibration.pipe_density")
        return self.adj_op(y * same_kind(self.density, y))

    def __repr__(self):
        return (f"NUFFT(shape={self.shape}, n_samples={self.n_samples}, n_coils={self.n_coils}, "
                f"backend={self.backend.name!r}, eps={self.eps:g})")


_GPU_LIBRARIES = []


def _gpu_libraries() -> bool:
    """True when CuPy and cuFINUFFT import (CUDA tensors then avoid the host); a library
    that is installed but cannot load (a wheel built for another CUDA) counts as missing,
    and CUDA tensors then go through the CPU backend."""
    if not _GPU_LIBRARIES:
        ok = find_spec("cupy") is not None and find_spec("cufinufft") is not None
        if ok:
            try:
                for name in ("cupy", "cufinufft"):
                    importlib.import_module(name)
            except (ImportError, OSError, RuntimeError):
                ok = False
        _GPU_LIBRARIES.append(ok)
    return _GPU_LIBRARIES[0]


def _cupy_device(device):
    import cupy
    return cupy.cuda.Device(device.index or 0)
