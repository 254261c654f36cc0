"""Contract-test helpers shared by the core test suite and by plugins.

Every operator must pass: the dot-product (adjoint) test, linearity, the normal operator
matching ``A^H A``, the same results on every array kind it supports
(``assert_kinds_agree``), and (torch) ``torch.autograd.gradcheck``. Proximity operators:
``assert_prox_kinds_agree``.
"""
from __future__ import annotations

import numpy as np

from ._backend import to_numpy

__all__ = ["random_array", "adjoint_error", "assert_adjoint", "assert_linear",
           "assert_normal", "assert_kinds_agree", "assert_gradcheck",
           "assert_prox_kinds_agree"]


def random_array(shape, *, seed=0, dtype=np.complex64, like=None):
    """Standard complex Gaussian array (as ``like``'s kind/device when given)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if like is not None:
        from ._backend import same_kind
        x = same_kind(x, like)
    return x


def adjoint_error(operator, *, batch=(), seed=0, dtype=np.complex64, like=None):
    """Relative error ``|<A x, y> - <x, A^H y>| / (||A x|| ||y||)`` for random x, y."""
    rng = np.random.default_rng(seed)
    x = random_array(tuple(batch) + operator.shape_in, seed=rng, dtype=dtype, like=like)
    y = random_array(tuple(batch) + operator.shape_out, seed=rng, dtype=dtype, like=like)
    ax, ahy = to_numpy(operator.op(x)), to_numpy(operator.adj_op(y))
    x, y = to_numpy(x), to_numpy(y)
    lhs = np.vdot(ax.astype(np.complex128).ravel(), y.astype(np.complex128).ravel())
    rhs = np.vdot(x.astype(np.complex128).ravel(), ahy.astype(np.complex128).ravel())
    scale = max(np.linalg.norm(ax) * np.linalg.norm(y), np.linalg.norm(x) * np.linalg.norm(ahy), 1e-30)
    return float(abs(lhs - rhs) / scale)


def assert_adjoint(operator, *, rtol=1e-5, **kwargs):
    error = adjoint_error(operator, **kwargs)
    assert error < rtol, f"adjoint test failed for {operator!r}: relative error {error:.2e} >= {rtol}"


def assert_linear(operator, *, rtol=1e-5, seed=0, like=None):
    rng = np.random.default_rng(seed)
    x1 = random_array(operator.shape_in, seed=rng, like=like)
    x2 = random_array(operator.shape_in, seed=rng, like=like)
    a, b = 0.7 - 0.3j, -1.9 + 0.4j
    lhs = to_numpy(operator.op(a * x1 + b * x2))
    rhs = a * to_numpy(operator.op(x1)) + b * to_numpy(operator.op(x2))
    err = np.linalg.norm(lhs - rhs) / max(np.linalg.norm(rhs), 1e-30)
    assert err < rtol, f"linearity failed for {operator!r}: relative error {err:.2e}"


def assert_normal(operator, *, rtol=1e-5, seed=0):
    x = random_array(operator.shape_in, seed=seed)
    expected = to_numpy(operator.adj_op(operator.op(x)))
    got = to_numpy(operator.normal().op(x))
    err = np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-30)
    assert err < rtol, f"normal operator differs from A^H A for {operator!r}: {err:.2e}"


def assert_kinds_agree(operator, other=None, *, like, rtol=1e-5, seed=0):
    """``op`` and ``adj_op`` on arrays of ``like``'s kind and device (torch CPU/CUDA, CuPy)
    return that kind and the NumPy results.

    ``other`` is the same operator built with constants of that kind (e.g. SENSE with
    torch or CuPy smaps); by default ``operator`` itself is used for both.
    """
    from ._backend import array_kind, same_kind
    other = operator if other is None else other
    x = random_array(operator.shape_in, seed=seed)
    y = random_array(operator.shape_out, seed=seed + 1)
    for fn, other_fn, arg in ((operator.op, other.op, x), (operator.adj_op, other.adj_op, y)):
        ref = fn(arg)
        out = other_fn(same_kind(arg, like))
        assert array_kind(out) == array_kind(like), \
            f"{operator!r} returned a {array_kind(out)} array for a {array_kind(like)} input"
        err = np.linalg.norm(to_numpy(out) - ref) / max(np.linalg.norm(ref), 1e-30)
        assert err < rtol, f"{array_kind(like)} result differs from numpy for {operator!r}: {err:.2e}"


def assert_gradcheck(operator, *, seed=0, adjoint=True):
    """``torch.autograd.gradcheck`` (double precision) through op (and adj_op)."""
    import torch
    x = torch.as_tensor(random_array(operator.shape_in, seed=seed, dtype=np.complex128),
                        ).requires_grad_(True)
    assert torch.autograd.gradcheck(operator.op, (x,), eps=1e-6, atol=1e-5)
    if adjoint:
        y = torch.as_tensor(random_array(operator.shape_out, seed=seed + 1, dtype=np.complex128),
                            ).requires_grad_(True)
        assert torch.autograd.gradcheck(operator.adj_op, (y,), eps=1e-6, atol=1e-5)


def assert_prox_kinds_agree(prox, x, *, like, other=None, step=0.7, rtol=1e-5):
    """``prox.prox`` on ``x`` converted to ``like``'s kind/device returns that kind and
    the NumPy result (to ``rtol`` relative). ``other``: a second, identical instance for
    the converted call, for proxes with state (e.g. the seeded shifts of ``CycleSpin``)."""
    from ._backend import array_kind, same_kind
    ref = prox.prox(x, step)
    out = (prox if other is None else other).prox(same_kind(x, like), step)
    assert array_kind(out) == array_kind(like), \
        f"{prox!r} returned a {array_kind(out)} array for a {array_kind(like)} input"
    err = np.linalg.norm(to_numpy(out) - ref) / max(np.linalg.norm(ref), 1e-30)
    assert err < rtol, f"{prox!r}: {array_kind(like)} result differs from numpy ({err:.2e})"
