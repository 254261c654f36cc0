"""Sampling patterns: Cartesian masks and non-Cartesian trajectories."""
from .cartesian import (MASK_KINDS, acceleration_of, cartesian_mask, center_block,
                        equispaced_column_mask, random_column_mask, variable_density_mask)
from .trajectories import GOLDEN_ANGLE, radial, spiral

__all__ = ["random_column_mask", "equispaced_column_mask", "variable_density_mask",
           "cartesian_mask", "MASK_KINDS", "acceleration_of", "center_block",
           "radial", "spiral", "GOLDEN_ANGLE"]
