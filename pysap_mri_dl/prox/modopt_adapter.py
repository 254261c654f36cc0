"""Interoperability with ModOpt: use its proximity operators here, and ours in ModOpt."""
from __future__ import annotations

from .base import Prox

__all__ = ["FromModopt", "to_modopt"]


class FromModopt(Prox):
    """Wrap a ``modopt.opt.proximity`` operator (``op(x, extra_factor)``, ``cost(x)``)."""

    def __init__(self, modopt_prox):
        super().__init__()
        if not hasattr(modopt_prox, "op"):
            raise TypeError("FromModopt: modopt_prox must have an op(x, extra_factor) method")
        self.modopt_prox = modopt_prox

    def prox(self, x, step):
        return self.modopt_prox.op(x, extra_factor=step)

    def cost(self, x) -> float:
        return float(self.modopt_prox.cost(x, verbose=False))


def to_modopt(prox):
    """Return a ``modopt.opt.proximity.ProximityParent`` that applies ``prox``."""
    from modopt.opt.proximity import ProximityParent

    def op(x, extra_factor=1.0):
        return prox.prox(x, extra_factor)

    def cost(x, *args, **kwargs):
        return prox.cost(x) if hasattr(prox, "cost") else 0.0

    return ProximityParent(op, cost)
