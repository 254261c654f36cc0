"""Sampling patterns: Cartesian masks and non-Cartesian trajectories."""
from .cartesian import (MASK_KINDS, acceleration_of, as_binary_mask, by_acceleration,
                        cartesian_mask, check_acceleration, center_block, equispaced_column_mask,
                        random_column_mask, variable_density_mask)
from .trajectories import (GOLDEN_ANGLE, GOLDEN_MEANS, kooshball, radial, spiral,
                           stack_of_spirals, stack_of_stars)

__all__ = ["random_column_mask", "equispaced_column_mask", "variable_density_mask",
           "cartesian_mask", "MASK_KINDS", "acceleration_of",
           "by_acceleration", "check_acceleration", "center_block", "as_binary_mask",
           "radial", "spiral", "kooshball", "stack_of_stars", "stack_of_spirals",
           "GOLDEN_ANGLE", "GOLDEN_MEANS"]
