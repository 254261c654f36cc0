"""Saving and loading denoisers: one ``.pt`` file with the model name, its constructor
arguments, the state dict and metadata; loaded with ``torch.load(weights_only=True)``."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch

from ..data import atomic_path
from .denoisers import DnCNN, UNet
from .learnlet import Learnlet

__all__ = ["MODELS", "PRETRAINED", "build_model", "save_denoiser", "load_denoiser", "pretrained_path",
           "WeightsError", "FORMAT"]

MODELS = {"learnlet": Learnlet, "dncnn": DnCNN, "unet": UNet}
# shipped weights: name -> (model, file). "learnlet" is the tied (non-expansive) Learnlet
# for plug-and-play; "learnlet-untied" has free synthesis filters: the better pure denoiser.
PRETRAINED = {"learnlet": ("learnlet", "learnlet.pt"),
              "learnlet-untied": ("learnlet", "learnlet_untied.pt"),
              "dncnn": ("dncnn", "dncnn.pt"), "unet": ("unet", "unet.pt")}
FORMAT = "pysap_mri_dl-denoiser-1"


class WeightsError(ValueError):
    """A weights file that cannot be read, or does not match the model it names."""


def build_model(name, **config):
    if name not in MODELS:
        raise ValueError(f"unknown denoiser {name!r}; expected one of {sorted(MODELS)}")
    try:
        return MODELS[name](**config)
    except TypeError as exc:
        raise ValueError(f"invalid configuration {config} for denoiser {name!r}: {exc}") from None


def save_denoiser(path, model, *, name, meta=None):
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, renamed)."""
    payload = {"format": FORMAT, "model": name, "config": dict(model.config),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "meta": dict(meta or {})}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_denoiser(path, *, expected=None):
    """Load a denoiser saved by :func:`save_denoiser`; returns ``(model, meta)`` with the
    model in eval mode. ``expected`` (a model name) is checked against the file."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"weights file {path} cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise WeightsError(f"weights file {path} is not a pysap_mri_dl denoiser ({FORMAT})")
    name = payload.get("model")
    if expected is not None and name != expected:
        raise WeightsError(f"weights file {path} holds a {name!r} model, expected {expected!r}")
    try:
        model = build_model(name, **payload["config"])
        model.load_state_dict(payload["state_dict"])
    except (TypeError, KeyError, RuntimeError, ValueError) as exc:
        raise WeightsError(f"weights file {path} does not match the {name!r} model: "
                           f"{str(exc).splitlines()[0]}") from None
    model.eval()
    return model, payload.get("meta", {})


def pretrained_path(name):
    """Path of the weights shipped with the package for ``name`` (a key of ``PRETRAINED``)."""
    if name not in PRETRAINED:
        raise ValueError(f"no shipped weights named {name!r}; expected one of {sorted(PRETRAINED)}")
    path = resources.files("pysap_mri_dl.learn") / "pretrained" / PRETRAINED[name][1]
    if not path.is_file():
        raise WeightsError(f"no pretrained weights for {name!r} in this installation")
    return Path(str(path))
