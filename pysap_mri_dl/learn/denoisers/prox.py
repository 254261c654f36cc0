"""Any denoiser as a proximity operator for the proximal algorithms.

Mapping from the algorithm's step to the denoiser's noise level: the prox of
``step * lam * R`` is the MAP denoiser of a Gaussian observation of variance
``step * lam`` under the prior ``exp(-R)``; a denoiser trained at noise level ``sigma``
stands in for it, so ``sigma = sqrt(step * lam)`` in image units, and
``sigma / scale`` for a denoiser trained on images of maximum about 1. ``scale`` is the
image's intensity scale (the reconstructors use the same robust scale as the lambda rule).
:meth:`LearnedProx.from_sigma` sets ``lam`` from a wanted normalised ``sigma`` and step.
"""
from __future__ import annotations

import numpy as np
import torch

from ..._backend import array_kind, to_cupy, to_numpy, to_torch
from ...prox.base import Prox
from ...recon.regularisation import operator_acceleration
from ...sampling import by_acceleration
from .cnn import apply_denoiser, move_denoiser

__all__ = ["LearnedProx", "LearnedPrior", "learned_prior", "denoise", "pnp_sigma",
           "PNP_SIGMAS"]

PNP_SIGMAS = ((4.3, 0.0005), (7.0, 0.002))
"""``(effective acceleration, sigma)`` anchors of the default plug-and-play noise level
(``sigma='auto'``): the tied Learnlet's best sigma at 4x and at 8x on the real T2 brain and
simulated slices (``benchmarks/plug_and_play.py --acceleration-sweep``). The anchors sit at
the effective accelerations of fastMRI-style column masks (random columns 4.06-4.27 at 4x
with 8% of centre lines and 7.11-8.13 at 8x with 4% on the benchmarks' images; equispaced
3.97-4.0 and 8.0-8.3), so that such 4x masks get 0.0005 and such 8x masks 0.002."""


def pnp_sigma(acceleration=None):
    """The default normalised noise level of plug-and-play at ``acceleration`` (k-space
    locations over sampled ones): :data:`PNP_SIGMAS`, interpolated geometrically between its
    anchors and constant beyond them (:func:`~pysap_mri_dl.sampling.by_acceleration`); the
    4x value when the acceleration is unknown (trajectories, fully sampled data). Fewer
    data leave more aliasing for the prior to remove: at 8x the 4x value (0.0005) ends 200
    iterations 3.4 dB below 0.002 on the real T2 brain."""
    return by_acceleration(PNP_SIGMAS, acceleration)


def denoise(model, image, sigma, *, ensemble=1):
    """Denoise a real or complex image ``(..., H, W)`` (NumPy, CuPy or torch, CPU or GPU) at
    normalised noise level ``sigma``; complex images go in as real and imaginary channels
    (2-channel models) or as two real images (Learnlets). Returns the same kind, device and
    dtype as ``image`` (the model is moved to the image's device).

    ``ensemble`` (1, 2, 4 or 8): average the outputs over that many flips / transpositions of
    the image (geometric self-ensemble; 8 needs a square image), at that many times the cost.
    An average of non-expansive maps conjugated by isometries stays non-expansive."""
    if ensemble not in _TRANSFORMS:
        raise ValueError(f"ensemble must be one of {sorted(_TRANSFORMS)}, received {ensemble}")
    if len(getattr(image, "shape", ())) < 2:
        raise ValueError(f"image must have shape (..., H, W), received "
                         f"{tuple(getattr(image, 'shape', ()))}")
    kind = array_kind(image)
    # gradients only when the caller differentiates through the image
    with torch.enable_grad() if kind == "torch" and image.requires_grad else torch.no_grad():
        return _denoise(model, image, kind, sigma, ensemble)


def _denoise(model, image, kind, sigma, ensemble):
    if kind == "torch":
        tensor = image
    elif kind == "cupy":
        tensor = to_torch(image)  # DLPack: stays on the GPU
    else:
        tensor = torch.as_tensor(np.ascontiguousarray(image))
    move_denoiser(model, tensor.device)
    lead, (h, w) = tuple(tensor.shape[:-2]), tuple(tensor.shape[-2:])
    if ensemble == 8 and h != w:
        raise ValueError(f"ensemble=8 (with transposes) needs a square image, received {h}x{w}")
    flat = tensor.reshape(-1, h, w)
    complex_input = flat.is_complex()
    parts = torch.stack([flat.real, flat.imag], 1) if complex_input else flat[:, None]
    parts = parts.to(torch.float32)
    noise = torch.full((parts.shape[0],), float(sigma), device=parts.device)
    out = 0
    for flip_w, flip_h, transpose in _TRANSFORMS[ensemble]:
        out = out + _undo(apply_denoiser(model, _apply(parts, flip_w, flip_h, transpose),
                                         noise), flip_w, flip_h, transpose)
    out = out / ensemble
    result = torch.complex(out[:, 0], out[:, 1]) if complex_input else out[:, 0]
    result = result.reshape(lead + (h, w)).to(tensor.dtype)
    if kind == "torch":
        return result
    return to_cupy(result.detach()) if kind == "cupy" else result.detach().numpy()


# (flip the last axis, flip the second-to-last axis, transpose) for each ensemble size
_TRANSFORMS = {1: [(False, False, False)],
               2: [(False, False, False), (True, False, False)],
               4: [(fw, fh, False) for fh in (False, True) for fw in (False, True)],
               8: [(fw, fh, t) for t in (False, True) for fh in (False, True)
                   for fw in (False, True)]}


def _apply(parts, flip_w, flip_h, transpose):
    dims = [d for d, on in ((-1, flip_w), (-2, flip_h)) if on]
    parts = parts.flip(dims) if dims else parts
    return parts.transpose(-1, -2) if transpose else parts


def _undo(parts, flip_w, flip_h, transpose):
    parts = parts.transpose(-1, -2) if transpose else parts
    dims = [d for d, on in ((-1, flip_w), (-2, flip_h)) if on]
    return parts.flip(dims) if dims else parts


class LearnedProx(Prox):
    """``prox(x, step) = scale * D(x / scale, sqrt(step * lam) / scale)``.

    Parameters
    ----------
    model : torch.nn.Module
        A denoiser ``model(x, sigma)`` (Learnlet, DnCNN, UNet or any with that signature).
    lam : float
        Regularisation weight (see the module docstring for its meaning).
    scale : float
        Image intensity scale (the denoiser sees ``x / scale``).
    ensemble : int
        Geometric self-ensemble of :func:`denoise` (1 = a single pass).
    """

    forward_backward_step = None
    """The step 1/L this prox was built for by :meth:`LearnedPrior.build` (the noise level
    follows the step, so the reconstructors accept only ISTA/FISTA with it)."""

    def __init__(self, model, lam, *, scale, ensemble=1):
        super().__init__()
        if not lam > 0 or not scale > 0:
            raise ValueError(f"LearnedProx: lam and scale must be > 0, received {lam}, {scale}")
        if ensemble not in _TRANSFORMS:
            raise ValueError(f"ensemble must be one of {sorted(_TRANSFORMS)}, received "
                             f"{ensemble}")
        self.model, self.lam, self.scale = model, float(lam), float(scale)
        self.ensemble = int(ensemble)

    @classmethod
    def from_sigma(cls, model, sigma, *, scale, step=1.0, ensemble=1):
        """The prox whose denoiser runs at normalised noise level ``sigma`` for ``step``."""
        return cls(model, (sigma * scale) ** 2 / step, scale=scale, ensemble=ensemble)

    def sigma(self, step):
        return float(np.sqrt(step * self.lam) / self.scale)

    def prox(self, x, step):
        return denoise(self.model, x / self.scale, self.sigma(step),
                       ensemble=self.ensemble) * self.scale


class LearnedPrior:
    """A learned prox whose intensity scale and step come from the data: ``build(operator,
    kspace)`` (called by the reconstructors) sets ``scale`` to the maximum magnitude of
    ``A^H y`` and the step to ``1 / ||A||^2``, and returns the :class:`LearnedProx` running
    the denoiser at normalised noise level ``sigma`` (``'auto'``: :func:`pnp_sigma` at the
    operator's mask's acceleration)."""

    def __init__(self, model, sigma, name, ensemble=1):
        if sigma != "auto" and (isinstance(sigma, (str, bool)) or not 0 < sigma < 1):
            raise ValueError(f"sigma must be 'auto' or a number in (0, 1) (relative to the "
                             f"image maximum), received {sigma!r}")
        if ensemble not in _TRANSFORMS:
            raise ValueError(f"ensemble must be one of {sorted(_TRANSFORMS)}, received "
                             f"{ensemble}")
        self.model, self.name, self.ensemble = model, name, ensemble
        self.sigma = sigma if sigma == "auto" else float(sigma)

    def sigma_for(self, operator):
        """The noise level this prior runs at on ``operator``'s data."""
        if self.sigma == "auto":
            return pnp_sigma(operator_acceleration(operator))
        return self.sigma

    def build(self, operator, kspace):
        adjoint = to_numpy(operator._adj_op(kspace))
        scale = float(np.abs(adjoint).max())
        if not scale > 0:
            raise ValueError("cannot scale the learned prior: the adjoint image is zero")
        from ...optim import LeastSquares
        step = 1.0 / LeastSquares(operator, kspace).lipschitz()  # the step FISTA will take
        sigma = self.sigma_for(operator)
        prox = LearnedProx.from_sigma(self.model, sigma, scale=scale, step=step,
                                      ensemble=self.ensemble)
        prox.forward_backward_step = step
        prox.name = f"{self.name} (sigma {sigma:g})"  # what results and metrics.json record
        return prox


def learned_prior(model="learnlet", *, weights=None, sigma="auto", ensemble=1):
    """A learned prior for the reconstructors: ``model`` is a name ('learnlet', 'dncnn',
    'unet', 'learnlet-untied': the shipped weights unless ``weights`` names a file) or a
    torch module; ``sigma`` the normalised noise level its denoiser runs at (``'auto'``:
    :func:`pnp_sigma` at the acceleration of the data's mask)."""
    from ..weights import PRETRAINED, load_denoiser, pretrained_path
    if isinstance(model, str):
        name = model
        kind = PRETRAINED[name][0] if name in PRETRAINED else name
        model, _ = load_denoiser(weights or pretrained_path(name), expected=kind)
    else:
        name = type(model).__name__.lower()
    return LearnedPrior(model, sigma, name, ensemble=ensemble)
