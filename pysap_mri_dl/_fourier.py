"""Centred orthonormal FFTs for any array kind, computed without shifts.

The centred transform ``fftshift(fftn(ifftshift(x), norm="ortho"))`` equals a plain FFT
between two diagonal phase modulations, separable per axis: with ``c = n // 2``,

    centred(x)[k] = p_out[k] * fft(p_in * x)[k],
    p_in[j] = exp(2i pi c j / n),   p_out[k] = exp(2i pi c k / n) exp(-2i pi c^2 / n),

(for even ``n`` both are ``+-1``: a checkerboard sign). Multiplying by a cached phase costs
a fraction of a circular shift, and operators fold the phases into constants they multiply
by anyway (the sampling mask, the coil maps), so that their loops run plain FFTs. NumPy
arrays go through ``ducc0.fft`` (multithreaded, the fastest CPU FFT we measured), torch
tensors and CuPy arrays through their own FFT (differentiable in torch).
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from ._backend import KindCache, array_kind, xp_of

__all__ = ["fftn_centered", "ifftn_centered", "fftn_plain", "centring_phases", "multiply_fresh",
           "subtract_fresh",            "FFT_WORKERS"]

FFT_WORKERS = int(os.environ.get("PYSAP_MRI_DL_FFT_WORKERS", os.cpu_count() or 1))
"""Threads of the NumPy FFT (environment variable ``PYSAP_MRI_DL_FFT_WORKERS``)."""


def _axis_phase(n, outer):
    c = n // 2
    turns = (c * np.arange(n) - (c * c if outer else 0)) % n / n
    # rounding makes the +-1 / +-i entries exact (every entry for even n)
    return np.round(np.exp(2j * np.pi * turns), 15)


@lru_cache(maxsize=128)
def _phase_array(shape, outer, dtype_name, conjugate=False):
    grid = np.ones((), np.complex128)
    for axis, n in enumerate(shape):
        view = [1] * len(shape)
        view[axis] = n
        grid = grid * _axis_phase(n, outer).reshape(view)
    array = (grid.conj() if conjugate else grid).astype(dtype_name)
    array.setflags(write=False)
    return array


def _dtype_name(dtype):
    dtype = np.dtype(dtype)
    return "complex128" if dtype in (np.complex128, np.float64) else "complex64"


def centring_phases(shape, dtype=np.complex64, *, conjugate=False):
    """``(p_in, p_out)``: NumPy arrays of ``shape`` with ``centred(x) = p_out * fft(p_in * x)``
    (orthonormal), so ``centred_inverse(y) = conj(p_in) * ifft(conj(p_out) * y)``; with
    ``conjugate`` their complex conjugates (cached, read-only)."""
    shape = tuple(int(s) for s in shape)
    name = _dtype_name(dtype)
    return (_phase_array(shape, False, name, conjugate),
            _phase_array(shape, True, name, conjugate))


_PHASES = KindCache()


def _phases_like(x, ndim, inverse):
    """The phases applied before and after the plain FFT, as ``x``'s array kind."""
    shape = tuple(x.shape[x.ndim - ndim:])
    name = "complex128" if str(x.dtype).endswith(("complex128", "float64")) else "complex64"
    p_in, p_out = centring_phases(shape, name, conjugate=inverse)
    before, after = (p_out, p_in) if inverse else (p_in, p_out)
    key = f"{shape}-{name}-{inverse}"
    return _PHASES.get("before" + key, before, x), _PHASES.get("after" + key, after, x)


def fftn_plain(x, ndim: int, *, inverse: bool = False, overwrite: bool = False):
    """Orthonormal (uncentred) FFT over the last ``ndim`` axes of a complex array;
    ``overwrite`` lets a NumPy input be transformed in place (a temporary of the caller)."""
    kind = array_kind(x)
    axes = tuple(range(x.ndim - ndim, x.ndim))
    if kind == "numpy":
        import ducc0
        x = np.asarray(x)
        if x.dtype.kind != "c":
            x, overwrite = x.astype(np.complex128 if x.dtype == np.float64 else np.complex64), True
        out = x if overwrite and x.flags.writeable else None
        return ducc0.fft.c2c(x, axes=axes, forward=not inverse, inorm=1, out=out,
                             nthreads=FFT_WORKERS)
    xp = xp_of(x)
    transform = xp.fft.ifftn if inverse else xp.fft.fftn
    if kind == "torch":
        return transform(x, dim=axes, norm="ortho")
    return transform(x, axes=axes, norm="ortho")


def multiply_fresh(x, factor):
    """``x * factor`` where ``x`` is a temporary the caller owns: in place for NumPy (saves
    an allocation and a pass over memory), out of place otherwise (autograd)."""
    if isinstance(x, np.ndarray) and x.flags.writeable and np.result_type(x, factor) == x.dtype:
        return np.multiply(x, factor, out=x)
    return x * factor


def subtract_fresh(x, y):
    """``x - y`` where ``x`` is a temporary the caller owns (in place for NumPy)."""
    if isinstance(x, np.ndarray) and x.flags.writeable and np.result_type(x, y) == x.dtype:
        return np.subtract(x, y, out=x)
    return x - y


def fftn_centered(x, ndim: int):
    """Centred orthonormal FFT over the last ``ndim`` axes, for any array kind:
    ``fftshift(fftn(ifftshift(x), norm="ortho"))``."""
    before, after = _phases_like(x, ndim, False)
    return multiply_fresh(fftn_plain(x * before, ndim, overwrite=True), after)


def ifftn_centered(x, ndim: int):
    """Inverse of :func:`fftn_centered` (and its adjoint)."""
    before, after = _phases_like(x, ndim, True)
    return multiply_fresh(fftn_plain(x * before, ndim, inverse=True, overwrite=True), after)
