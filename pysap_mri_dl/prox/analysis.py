"""Proximity operators of composite priors ``R(W x)`` and cycle spinning."""
from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .base import Prox

__all__ = ["Analysis", "CycleSpin"]


class Analysis(Prox):
    """Prox of ``R(W x)`` computed as ``W^H prox_R(W x)``.

    Exact when ``W`` is orthonormal (e.g. ``Wavelet(..., mode='periodization')`` with an
    orthogonal wavelet, on sizes ``2**levels`` divides). For a Parseval tight frame
    (undecimated wavelets; the decimated transform zero-padded to such sizes; ``W^H W = I``)
    it is the usual denoising-by-shrinkage step rather than the exact prox; use
    :func:`pysap_mri_dl.optim.primal_dual` for the exact analysis problem.
    """

    def __init__(self, linear_op, prox):
        super().__init__()
        self.linear_op = linear_op
        self.inner = prox

    def prox(self, x, step):
        return self.linear_op._adj_op(self.inner.prox(self.linear_op._op(x), step))

    def cost(self, x) -> float:
        return self.inner.cost(self.linear_op._op(x))

    def __repr__(self):
        return f"Analysis({self.linear_op!r}, {self.inner!r})"


class CycleSpin(Prox):
    """Randomly shifted prox: ``shift^-1(prox(shift(x)))`` with a new circular shift each call.

    Averaged over iterations, this makes a decimated wavelet prior shift invariant at the
    cost of the decimated transform (the random-shift trick of BART's ``pics``). Shifts are
    drawn uniformly in ``[0, max_shift)`` per spatial axis from ``seed``.
    """

    def __init__(self, prox, *, ndim, max_shift, seed=0):
        super().__init__()
        self.inner = prox
        self.ndim = int(ndim)
        self.max_shift = int(max_shift)
        if self.max_shift < 1:
            raise ValueError(f"CycleSpin: max_shift must be >= 1, received {max_shift}")
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def prox(self, x, step):
        shifts = tuple(int(s) for s in self.rng.integers(0, self.max_shift, self.ndim))
        axes = tuple(range(x.ndim - self.ndim, x.ndim))
        xp = xp_of(x)
        if xp.__name__ == "torch":
            out = self.inner.prox(xp.roll(x, shifts, axes), step)
            return xp.roll(out, tuple(-s for s in shifts), axes)
        out = self.inner.prox(xp.roll(x, shifts, axis=axes), step)
        return xp.roll(out, tuple(-s for s in shifts), axis=axes)

    def cost(self, x) -> float:
        return self.inner.cost(x)
