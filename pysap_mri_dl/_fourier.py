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

from ._backend import KindCache, array_kind, multiply_fresh, xp_of

__all__ = ["fftn_centered", "ifftn_centered", "fftn_plain", "centring_phases", "apply_factors",
           "precision_of", "FFT_WORKERS"]

FFT_WORKERS = int(os.environ.get("PYSAP_MRI_DL_FFT_WORKERS", os.cpu_count() or 1))
"""Threads of the NumPy FFT (environment variable ``PYSAP_MRI_DL_FFT_WORKERS``)."""


def _axis_phase(n, outer):
    c = n // 2
    turns = (c * np.arange(n) - (c * c if outer else 0)) % n / n
    # rounding makes the +-1 / +-i entries exact (every entry for even n)
    return np.round(np.exp(2j * np.pi * turns), 15)


FULL_GRID_LIMIT = 2 ** 22
"""Phases of up to this many elements are cached as one array (one multiplication per
call); larger ones (3D volumes) stay separable, one small factor per axis."""


@lru_cache(maxsize=128)
def _phase_factors(shape, outer, dtype_name, conjugate):
    factors = []
    for axis, n in enumerate(shape):
        view = [1] * len(shape)
        view[axis] = n
        factors.append(_axis_phase(n, outer).reshape(view))
    if int(np.prod(shape)) <= FULL_GRID_LIMIT:
        grid = np.ones((), np.complex128)
        for factor in factors:
            grid = grid * factor
        factors = [grid]
    out = []
    for factor in factors:
        factor = (factor.conj() if conjugate else factor).astype(dtype_name)
        factor.setflags(write=False)
        out.append(factor)
    return tuple(out)


def precision_of(x):
    """``'complex128'`` for double-precision arrays or tensors of any kind, else
    ``'complex64'``: the complex type their constants are cached in."""
    return "complex128" if str(x.dtype).endswith(("complex128", "float64")) else "complex64"


def centring_phases(shape, dtype=np.complex64, *, conjugate=False):
    """``(p_in, p_out)``, each a tuple of NumPy factors whose product (broadcast) has
    ``shape``, with ``centred(x) = p_out * fft(p_in * x)`` (orthonormal), so that
    ``centred_inverse(y) = conj(p_in) * ifft(conj(p_out) * y)``; with ``conjugate`` their
    complex conjugates (cached, read-only). One full array up to ``FULL_GRID_LIMIT``
    elements, one factor per axis beyond."""
    shape = tuple(int(s) for s in shape)
    name = precision_of(np.empty(0, dtype))
    return (_phase_factors(shape, False, name, conjugate),
            _phase_factors(shape, True, name, conjugate))


def apply_factors(x, factors, *, fresh=False):
    """``x`` times every factor (broadcast); in place on a NumPy ``x`` the caller owns
    (``fresh``), out of place otherwise for the first factor."""
    for factor in factors:
        x = multiply_fresh(x, factor) if fresh else x * factor
        fresh = True
    return x


_PHASES = KindCache()


def _phases_like(x, ndim, inverse):
    """The phase factors applied before and after the plain FFT, as ``x``'s array kind."""
    shape = tuple(x.shape[x.ndim - ndim:])
    name = precision_of(x)
    p_in, p_out = centring_phases(shape, name, conjugate=inverse)
    before, after = (p_out, p_in) if inverse else (p_in, p_out)
    key = f"{shape}-{name}-{inverse}"
    return ([_PHASES.get(f"before{key}-{i}", f, x) for i, f in enumerate(before)],
            [_PHASES.get(f"after{key}-{i}", f, x) for i, f in enumerate(after)])


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


def fftn_centered(x, ndim: int):
    """Centred orthonormal FFT over the last ``ndim`` axes, for any array kind:
    ``fftshift(fftn(ifftshift(x), norm="ortho"))``."""
    before, after = _phases_like(x, ndim, False)
    return apply_factors(fftn_plain(apply_factors(x, before), ndim, overwrite=True), after,
                         fresh=True)


def ifftn_centered(x, ndim: int):
    """Inverse of :func:`fftn_centered` (and its adjoint)."""
    before, after = _phases_like(x, ndim, True)
    return apply_factors(fftn_plain(apply_factors(x, before), ndim, inverse=True,
                                    overwrite=True), after, fresh=True)
