"""The proximity-operator protocol and the simplest members of it."""
from __future__ import annotations

from .._backend import KindCache, astype_like, is_complex, relu

__all__ = ["Prox", "Identity", "Positivity"]


class Prox:
    """A proximity operator: ``prox(x, step) = argmin_z step * R(z) + 1/2 ||z - x||^2``.

    Anything with a ``prox(x, step)`` method satisfies the protocol; ``cost(x)`` (the value
    of ``R``) is optional and used for cost histories. Subclass this to get that default.
    """

    def __init__(self):
        self._consts = KindCache()

    def prox(self, x, step):  # pragma: no cover - abstract
        raise NotImplementedError

    def cost(self, x) -> float:
        return 0.0

    def _weights_like(self, x):
        """``self.weights`` (scalar, NumPy array or tensor) ready to multiply ``x``."""
        if isinstance(self.weights, float):
            return self.weights
        return self._consts.get("weights", self.weights, x)

    def __call__(self, x, step=1.0):
        return self.prox(x, step)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Identity(Prox):
    """``R = 0``: the proximity operator returns its input."""

    def prox(self, x, step):
        return x


class Positivity(Prox):
    """Indicator of real, non-negative images: keeps ``max(Re x, 0)`` (as the input's dtype)."""

    def prox(self, x, step):
        out = relu(x.real if is_complex(x) else x)
        return astype_like(out, x)
