"""The linear-operator base class and its algebra (adjoint, composition, sums, scaling)."""
from __future__ import annotations

import numbers

import numpy as np

from .._backend import array_kind, norm, xp_of

__all__ = ["LinearOperator", "Identity"]


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class LinearOperator:
    """A linear map from arrays of trailing shape ``shape_in`` to ``shape_out``.

    Leading axes beyond ``shape_in`` are batch axes and are carried through. Subclasses
    implement ``_op`` and ``_adj_op``; the public ``op``/``adj_op`` validate the input
    (array kind, trailing shape, numeric dtype) and raise errors naming the argument.

    Operators compose like matrices: ``A @ B``, ``A + B``, ``2 * A``, ``A.H``,
    ``A.normal()`` (``A.H @ A``) and ``A.lipschitz()`` (largest eigenvalue of the normal
    operator, by power iteration).
    """

    shape_in: tuple
    shape_out: tuple

    def __init__(self, shape_in, shape_out, *, dtype=np.complex64):
        self.shape_in = tuple(int(s) for s in shape_in)
        self.shape_out = tuple(int(s) for s in shape_out)
        self.dtype = np.dtype(dtype)

    # ---- validation -------------------------------------------------------------
    @staticmethod
    def _check(x, shape, name, operator_name):
        kind = array_kind(x)  # raises TypeError for unsupported types
        ndim = len(shape)
        if x.ndim < ndim or tuple(x.shape[x.ndim - ndim:]) != tuple(shape):
            raise ValueError(
                f"{operator_name}: {name} must have trailing shape {_fmt(shape)} "
                f"(optionally preceded by batch axes), received shape {_fmt(tuple(x.shape))}"
            )
        if kind == "torch":
            ok = x.is_floating_point() or x.is_complex()
        else:
            ok = xp_of(x).issubdtype(x.dtype, np.inexact) if kind == "numpy" else x.dtype.kind in "fc"
        if not ok:
            raise TypeError(
                f"{operator_name}: {name} must have a floating or complex dtype, "
                f"received {x.dtype}"
            )

    def op(self, x):
        """Apply the operator to ``x`` of shape ``(*batch, *shape_in)``."""
        self._check(x, self.shape_in, "x", type(self).__name__ + ".op")
        return self._op(x)

    def adj_op(self, y):
        """Apply the adjoint to ``y`` of shape ``(*batch, *shape_out)``."""
        self._check(y, self.shape_out, "y", type(self).__name__ + ".adj_op")
        return self._adj_op(y)

    __call__ = op

    def _op(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _residual(self, x, y):
        """``A x - y`` (hook: operators whose output is a fresh array subtract in place)."""
        return self._op(x) - y

    def _gradient(self, x, y):
        """``A^H (A x - y)``, the least-squares gradient (hook for fused implementations)."""
        return self._adj_op(self._residual(x, y))

    def _adj_op(self, y):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- algebra ----------------------------------------------------------------
    @property
    def H(self) -> "LinearOperator":
        """The adjoint operator (lazy)."""
        return _Adjoint(self)

    def normal(self) -> "LinearOperator":
        """The normal operator ``A^H A`` (subclasses may override with a faster form)."""
        return _Composition(self.H, self)

    # NumPy defers its operators to the methods below (``2 * A``, ``A * x``) instead of
    # broadcasting over the operator as an object
    __array_ufunc__ = None

    def __matmul__(self, other):
        """``A @ B`` composes operators; ``A @ x`` applies ``A`` to an array (``A(x)``)."""
        if isinstance(other, LinearOperator):
            return _Composition(self, other)
        if _is_array(other):
            return self.op(other)
        return NotImplemented

    def __add__(self, other):
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return _Sum(self, other)

    def __sub__(self, other):
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return _Sum(self, _Scaled(other, -1.0))

    def __mul__(self, other):
        """``A * c`` scales by a scalar; ``A * x`` applies ``A`` to an array (SigPy's idiom)."""
        if isinstance(other, LinearOperator):  # compose with @, not *
            return NotImplemented
        scalar = _as_scalar(other)
        if scalar is not None:
            return _Scaled(self, scalar)
        if _is_array(other):
            return self.op(other)
        return NotImplemented

    def __rmul__(self, other):
        if isinstance(other, LinearOperator):
            return NotImplemented
        scalar = _as_scalar(other)
        if scalar is not None:
            return _Scaled(self, scalar)
        if _is_array(other):
            raise TypeError(f"array * {type(self).__name__}: an operator applies from the "
                            "left, A @ x, A * x or A(x)")
        return NotImplemented

    def __neg__(self):
        return _Scaled(self, -1.0)

    def __repr__(self):
        return f"{type(self).__name__}(shape_in={self.shape_in}, shape_out={self.shape_out})"

    # ---- spectral norm ------------------------------------------------------------
    def lipschitz_bound(self):
        """An upper bound of ``||A||^2`` known in closed form (no iterations), or None.

        Any upper bound is a Lipschitz constant of the least-squares gradient, so the
        algorithms take it when there is one (e.g. 1 for SENSE with maps of unit RSS and a
        0/1 mask) and run :meth:`lipschitz` otherwise."""
        return None

    def lipschitz_constant(self, *, like=None) -> float:
        """The Lipschitz constant the algorithms use for their step: :meth:`lipschitz_bound`
        (a closed-form upper bound of ``||A||^2``) when the operator has one, else
        :meth:`lipschitz` (power iteration, converged to ``tol``, on ``like``'s kind)."""
        bound = self.lipschitz_bound()
        return float(bound) if bound is not None else self.lipschitz(like=like)

    def lipschitz(self, *, n_iter: int = 50, tol: float = 1e-6, seed=0, like=None) -> float:
        """Largest eigenvalue of ``A^H A`` (``||A||^2``), estimated by power iteration
        (cached per operator and settings: operators do not change after construction).

        ``like`` (optional) is an array whose kind/device the iterations use; by default
        that of the operator's own arrays (torch or CuPy maps, weights), else NumPy.
        """
        if like is None:
            like = self._own_array()
        if not isinstance(seed, (int, np.integer)):  # a Generator or a seed sequence
            return self._power_iteration(n_iter, tol, seed, like)
        cache = self.__dict__.setdefault("_lipschitz_cache", {})
        key = (n_iter, tol, int(seed))
        if key not in cache:
            cache[key] = self._power_iteration(n_iter, tol, seed, like)
        return cache[key]

    def _own_array(self):
        """A non-NumPy array the operator holds (maps, weights), searched through the
        operators it is made of; None when all it holds is NumPy (or nothing)."""
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(item, LinearOperator):
                    found = item._own_array()
                elif _is_array(item) and type(item).__module__.startswith(("torch", "cupy")):
                    found = item
                else:
                    continue
                if found is not None:
                    return found
        return None

    def _power_iteration(self, n_iter, tol, seed, like):
        rng = np.random.default_rng(seed)
        x = (rng.standard_normal(self.shape_in) + 1j * rng.standard_normal(self.shape_in))
        x = x.astype(np.complex128 if self.dtype == np.complex128 else np.complex64)
        if like is not None:
            from .._backend import same_kind
            x = same_kind(x, like)
        x = x / norm(x)
        normal = self.normal()
        value = 0.0
        for _ in range(n_iter):
            y = normal.op(x)
            new_value = norm(y)
            if new_value == 0:
                return 0.0
            x = y / new_value
            if abs(new_value - value) <= tol * new_value:
                value = new_value
                break
            value = new_value
        return float(value)


class Identity(LinearOperator):
    """The identity on arrays of trailing shape ``shape``."""

    def __init__(self, shape, *, dtype=np.complex64):
        super().__init__(shape, shape, dtype=dtype)

    def _op(self, x):
        return x

    def _adj_op(self, y):
        return y

    def lipschitz_bound(self):
        return 1.0


class _Adjoint(LinearOperator):
    def __init__(self, operator):
        super().__init__(operator.shape_out, operator.shape_in, dtype=operator.dtype)
        self.operator = operator

    def _op(self, x):
        return self.operator._adj_op(x)

    def _adj_op(self, y):
        return self.operator._op(y)

    @property
    def H(self):
        return self.operator

    def lipschitz_bound(self):
        return self.operator.lipschitz_bound()  # ||A^H|| = ||A||

    def __repr__(self):
        return f"{self.operator!r}.H"


class _Composition(LinearOperator):
    def __init__(self, outer, inner):
        if outer.shape_in != inner.shape_out:
            raise ValueError(
                f"cannot compose {outer!r} @ {inner!r}: the outer operator expects "
                f"{_fmt(outer.shape_in)} but the inner one returns {_fmt(inner.shape_out)}"
            )
        super().__init__(inner.shape_in, outer.shape_out, dtype=outer.dtype)
        self.outer, self.inner = outer, inner

    def _op(self, x):
        return self.outer._op(self.inner._op(x))

    def _adj_op(self, y):
        return self.inner._adj_op(self.outer._adj_op(y))

    def lipschitz_bound(self):
        outer, inner = self.outer.lipschitz_bound(), self.inner.lipschitz_bound()
        return None if outer is None or inner is None else outer * inner

    def __repr__(self):
        return f"({self.outer!r} @ {self.inner!r})"


class _Sum(LinearOperator):
    def __init__(self, left, right):
        if left.shape_in != right.shape_in or left.shape_out != right.shape_out:
            raise ValueError(f"cannot add {left!r} and {right!r}: shapes differ")
        super().__init__(left.shape_in, left.shape_out, dtype=left.dtype)
        self.left, self.right = left, right

    def _op(self, x):
        return self.left._op(x) + self.right._op(x)

    def _adj_op(self, y):
        return self.left._adj_op(y) + self.right._adj_op(y)

    def lipschitz_bound(self):
        left, right = self.left.lipschitz_bound(), self.right.lipschitz_bound()
        return None if left is None or right is None else (left ** 0.5 + right ** 0.5) ** 2


class _Scaled(LinearOperator):
    def __init__(self, operator, scalar):
        super().__init__(operator.shape_in, operator.shape_out, dtype=operator.dtype)
        self.operator, self.scalar = operator, scalar

    def _op(self, x):
        return self.scalar * self.operator._op(x)

    def _adj_op(self, y):
        # a Python scalar's conjugate: NumPy's (a NumPy scalar) would promote single precision
        return self.scalar.conjugate() * self.operator._adj_op(y)

    def lipschitz_bound(self):
        inner = self.operator.lipschitz_bound()
        return None if inner is None else abs(self.scalar) ** 2 * inner


def _as_scalar(value):
    """``value`` as a Python number when it is a scalar (a number, or a 0-d NumPy, CuPy or
    torch array), else None."""
    if isinstance(value, numbers.Number):
        return value.item() if hasattr(value, "item") else value
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return None


def _is_array(value):
    return hasattr(value, "shape") and hasattr(value, "dtype")


def image_shape(shape, what="shape", *, ndims=(1, 2, 3), minimum=1):
    """``shape`` as a tuple of ``ndims`` integer sizes >= ``minimum``, or a ValueError that
    names ``what`` (an int such as ``FFT(8)``, a float size, a string)."""
    count = " or ".join(map(str, ndims)) if len(ndims) < 3 else f"{ndims[0]} to {ndims[-1]}"
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise ValueError(f"{what} must be a tuple of {count} sizes, e.g. (256, 256), "
                         f"received {shape!r}")
    sizes = tuple(shape)
    if len(sizes) not in ndims or any(isinstance(n, bool) or not isinstance(n, numbers.Integral)
                                      or n < minimum for n in sizes):
        raise ValueError(f"{what} must have {count} integer sizes >= {minimum}, "
                         f"received {sizes!r}")
    return tuple(int(n) for n in sizes)
