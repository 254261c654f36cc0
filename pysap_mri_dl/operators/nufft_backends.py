"""NUFFT backends: thin adapters over library kernels (no NUFFT kernel of our own).

Each backend plans once for a trajectory and image shape and then computes, for a batch of
images ``(B, *shape)`` (NumPy, complex; CuPy for ``cufinufft``), the sums ``sum_n x_n exp(-2 i pi k_j . n)`` (type 2,
``forward``) and their adjoint (type 1, ``adjoint``), with ``n`` centred (``-N/2 .. N/2-1``)
and ``k`` in cycles per pixel. Normalisation (``1/sqrt(N)``) is applied by the operator.
"""
from __future__ import annotations

import os
from importlib.util import find_spec

import numpy as np

__all__ = ["BACKENDS", "available_backends", "default_backend", "make_backend"]

_THREADS = int(os.environ.get("PYSAP_MRI_DL_FFT_WORKERS", os.cpu_count() or 1))
"""Threads of the CPU NUFFT backends: the FFT's setting (``PYSAP_MRI_DL_FFT_WORKERS``)."""


_SINGLE_EPS = 1e-6
"""The finest accuracy of single-precision NUFFTs: ducc0 has no kernel below about 5e-7
(3D from 8e-7) and raises, FINUFFT warns and cuFINUFFT fails to plan below about 1e-7; a
finer ``eps`` is capped there for complex64 data (double precision keeps it)."""


class _Ducc0:
    name = "ducc0"

    def __init__(self, trajectory, shape, eps):
        self.trajectory, self.shape, self.eps = trajectory, shape, eps
        self._plans = {}

    def _plan(self, dtype):
        single = np.dtype(dtype) == np.complex64
        if single not in self._plans:
            import ducc0
            coord = self.trajectory.astype(np.float32 if single else np.float64)
            self._plans[single] = ducc0.nufft.plan(
                nu2u=False, coord=coord, grid_shape=self.shape, epsilon=max(self.eps, _SINGLE_EPS if single else 1e-14),
                nthreads=_THREADS, periodicity=1.0, fft_order=False)
        return self._plans[single]

    def forward(self, x):
        return self._plan(x.dtype).u2nu(grid=x, forward=True)

    def adjoint(self, y):
        out = np.empty((y.shape[0],) + self.shape, dtype=y.dtype)
        return self._plan(y.dtype).nu2u(points=y, forward=False, out=out)


class _Finufft:
    name = "finufft"
    device = "cpu"

    def __init__(self, trajectory, shape, eps):
        self.library = self._import()
        self.shape, self.eps = shape, eps
        self.coords = [np.ascontiguousarray(2 * np.pi * trajectory[:, d]) for d in range(len(shape))]
        self._plans = {}

    @staticmethod
    def _import():
        import finufft
        return finufft

    @staticmethod
    def _asarray(x):
        return np.ascontiguousarray(x)

    def _options(self):
        return {"nthreads": _THREADS}

    def _plan(self, kind, n_trans, dtype):
        key = (kind, n_trans, np.dtype(dtype).str)
        if key not in self._plans:
            isign = -1 if kind == 2 else 1
            single = np.dtype(dtype) == np.complex64
            eps = max(self.eps, _SINGLE_EPS) if single else self.eps
            plan = self.library.Plan(kind, self.shape, n_trans=n_trans, eps=eps,
                                     isign=isign, dtype=np.dtype(dtype).name, **self._options())
            real = np.float32 if np.dtype(dtype) == np.complex64 else np.float64
            plan.setpts(*[self._asarray(c.astype(real)) for c in self.coords])
            self._plans[key] = plan
        return self._plans[key]

    def forward(self, x):
        out = self._plan(2, x.shape[0], x.dtype).execute(self._asarray(x))
        return out.reshape(x.shape[0], -1)

    def adjoint(self, y):
        out = self._plan(1, y.shape[0], y.dtype).execute(self._asarray(y))
        return out.reshape((y.shape[0],) + self.shape)


class _Cufinufft(_Finufft):
    """cuFINUFFT on CuPy arrays (GPU); same interface and conventions as FINUFFT."""

    name = "cufinufft"
    device = "gpu"

    @staticmethod
    def _import():
        import cufinufft
        return cufinufft

    @staticmethod
    def _asarray(x):
        import cupy
        return cupy.ascontiguousarray(cupy.asarray(x))

    def _options(self):
        return {}


class _Pynufft:
    """PyNUFFT (pure Python/NumPy, 2x oversampling, 6-point kernel, about 1e-3 accuracy
    whatever ``eps``): slower, kept as a supported reference backend."""

    name = "pynufft"

    def __init__(self, trajectory, shape, eps):
        from pynufft import NUFFT as _Plan
        self.shape = shape
        self.plan = _Plan()
        oversampled = tuple(2 * s for s in shape)
        self.plan.plan(2 * np.pi * trajectory, shape, oversampled, tuple([6] * len(shape)))
        self.adjoint_scale = float(np.prod(oversampled))  # PyNUFFT divides its adjoint by it
        # PyNUFFT puts an odd axis's centre at N/2, ours (and FFT's) at N // 2: half a pixel
        # apart, a phase of exp(-i pi k) per odd axis on the samples
        odd = np.array([n % 2 for n in shape], dtype=np.float64)
        self.phase = (np.exp(-1j * np.pi * (np.asarray(trajectory) @ odd))
                      if odd.any() else None)

    def forward(self, x):
        out = np.stack([self.plan.forward(xi) for xi in x])
        if self.phase is not None:
            out = out * self.phase
        return out.astype(x.dtype, copy=False)

    def adjoint(self, y):
        if self.phase is not None:
            y = y * np.conj(self.phase)
        out = np.stack([self.plan.adjoint(yi) for yi in y]) * self.adjoint_scale
        return out.astype(y.dtype, copy=False)


BACKENDS = {"ducc0": _Ducc0, "finufft": _Finufft, "pynufft": _Pynufft,
            "cufinufft": _Cufinufft}
_MODULES = {"ducc0": "ducc0", "finufft": "finufft", "pynufft": "pynufft",
            "cufinufft": "cufinufft"}
_PREFERENCE = ("ducc0", "finufft", "pynufft")  # CPU backends; cufinufft serves CuPy input


def available_backends():
    """Installed CPU backends, fastest first."""
    return [name for name in _PREFERENCE if find_spec(_MODULES[name]) is not None]


def default_backend():
    available = available_backends()
    if not available:
        raise ImportError("no NUFFT library is installed: pip install ducc0 (or finufft, pynufft)")
    return available[0]


def make_backend(name, trajectory, shape, eps):
    if name is None:
        name = default_backend()
    if name not in BACKENDS:
        raise ValueError(f"NUFFT: unknown backend {name!r}; expected one of {sorted(BACKENDS)}")
    if find_spec(_MODULES[name]) is None:
        raise ImportError(f"NUFFT: backend {name!r} is not installed (pip install {_MODULES[name]}); "
                          f"installed: {available_backends()}")
    return BACKENDS[name](trajectory, shape, eps)
