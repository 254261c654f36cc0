"""Deep equilibrium models (the infinitely deep end of the unrolled networks): root finders
(:mod:`.solvers`), the equilibrium layer with selectable backward passes, SHINE among them
(:mod:`.backward`)."""
from .backward import BACKWARDS, equilibrium
from .solvers import SOLVERS, LowRankInverse, Solution, anderson, broyden, fixed_point, solve

__all__ = ["BACKWARDS", "equilibrium", "SOLVERS", "LowRankInverse", "Solution", "anderson",
           "broyden", "fixed_point", "solve"]
