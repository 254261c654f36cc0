"""Density compensation for non-Cartesian sampling."""
from __future__ import annotations

import numpy as np

__all__ = ["pipe_density"]


def pipe_density(trajectory, shape, *, n_iter=10, backend=None, eps=1e-4):
    """Pipe & Menon (1999) iterative density compensation: ``d <- d / (C d)``.

    ``C d`` convolves the weighted samples with a smooth, narrow k-space kernel and reads the
    result back at the samples. It is computed with the NUFFT on a grid twice the image
    size: ``C = A diag(w) A^H`` where the image-space window ``w`` is a Gaussian of standard
    deviation ``N/4`` pixels (its Fourier transform, the kernel, is a Gaussian about one
    Nyquist sample wide). Starting from ones, ``n_iter`` iterations.

    The weights are normalised so that the compensated adjoint of all-ones k-space on the
    image grid peaks at ``sqrt(N)``, the value of a fully sampled Cartesian grid.

    Returns ``(n_samples,)`` float32.
    """
    from ..operators import NUFFT
    if int(n_iter) < 1:
        raise ValueError(f"n_iter must be >= 1, received {n_iter}")
    shape = tuple(int(s) for s in shape)
    grid = tuple(2 * s for s in shape)
    op = NUFFT(np.asarray(trajectory) / 2, grid, backend=backend, eps=eps)
    window = np.ones(grid, dtype=np.float32)
    for axis, (n, size) in enumerate(zip(grid, shape)):
        profile = np.exp(-0.5 * ((np.arange(n) - n // 2) / (0.25 * size)) ** 2).astype(np.float32)
        window = window * profile.reshape([-1 if a == axis else 1 for a in range(len(grid))])
    density = np.ones(op.n_samples, dtype=np.complex64)
    for _ in range(int(n_iter)):
        density = density / np.maximum(np.abs(op.op(window * op.adj_op(density))), 1e-12)
    density = np.abs(density)
    image_op = NUFFT(trajectory, shape, backend=backend, eps=eps)
    peak = np.abs(image_op.adj_op(density.astype(np.complex64))).max()
    return (density * np.sqrt(np.prod(shape)) / peak).astype(np.float32)
