"""Unrolled reconstruction networks on the package's operators (the learned end of the
continuum): the measurement and its data consistency (:mod:`.physics`), the per-iteration
networks (:mod:`.nets`), the models (:mod:`.models`: PDNet, XPDNet, NC-PDNet, the unrolled
Learnlet, Cascade-net, KIKI-net, U-net) and the one-call reconstruction (:mod:`.inference`)."""
from .models import (UNROLLED_MODELS, CascadeNet, KIKINet, NCPDNet, PDNet, PrimalDual,
                     UNetBaseline, UnrolledLearnlet, XPDNet)
from .inference import load_network, reconstruct_network
from .physics import Measurement, cartesian_measurement, noncartesian_measurement

__all__ = ["UNROLLED_MODELS", "PrimalDual", "PDNet", "XPDNet", "NCPDNet", "CascadeNet",
           "KIKINet", "UNetBaseline", "UnrolledLearnlet", "Measurement",
           "cartesian_measurement", "noncartesian_measurement", "reconstruct_network",
           "load_network"]
