"""Sampling patterns: Cartesian masks (and, later, non-Cartesian trajectories)."""
from .cartesian import (MASK_KINDS, acceleration_of, cartesian_mask, center_block,
                        equispaced_column_mask, random_column_mask, variable_density_mask)

__all__ = ["random_column_mask", "equispaced_column_mask", "variable_density_mask",
           "cartesian_mask", "MASK_KINDS", "acceleration_of", "center_block"]
from .trajectories import GOLDEN_ANGLE, radial, spiral  # noqa: E402

__all__ += ["radial", "spiral", "GOLDEN_ANGLE"]
