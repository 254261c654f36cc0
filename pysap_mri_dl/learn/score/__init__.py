"""Score-based posterior sampling (the uncertainty end of the continuum): score models from
noise-conditional denoisers (:mod:`.model`), trained by denoising score matching
(:mod:`.training`), annealed Langevin dynamics with the package's data consistency
(:mod:`.langevin`), posterior sampling in one call (:mod:`.posterior`) and the calibration
of the uncertainty maps (:mod:`.calibration`)."""
from .langevin import LangevinSchedule, annealed_langevin
from .model import ScoreModel, load_score_model
from .posterior import Posterior, posterior_start, sample_posterior

__all__ = ["ScoreModel", "load_score_model", "LangevinSchedule", "annealed_langevin",
           "Posterior", "sample_posterior", "posterior_start"]
