"""One weights format for every learned model: a ``.pt`` file with the model's kind
(``denoiser`` or ``reconstruction``) and name, its constructor arguments, the state dict and
metadata (the command that trained it, its data, steps, time and validation figures);
loaded with ``torch.load(weights_only=True)``, so a file can hold no code."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch

from ..data import atomic_path
from .denoisers.cnn import DnCNN, UNet
from .denoisers.learnlet import Learnlet

__all__ = ["MODELS", "DENOISERS", "PRETRAINED", "build_model", "save_model", "load_model",
           "save_denoiser", "load_denoiser", "pretrained_path", "WeightsError", "FORMAT",
           "read_weights",
           "KINDS", "NETWORKS", "network_path"]

DENOISERS = {"learnlet": Learnlet, "dncnn": DnCNN, "unet": UNet}
MODELS = DENOISERS
KINDS = ("denoiser", "reconstruction")
# shipped weights: name -> (model, file). "learnlet" is the tied (non-expansive) Learnlet
# for plug-and-play; "learnlet-untied" has free synthesis filters: the better pure denoiser;
# "score" is the untied Learnlet trained by denoising score matching (posterior sampling).
PRETRAINED = {"learnlet": ("learnlet", "learnlet.pt"),
              "learnlet-untied": ("learnlet", "learnlet_untied.pt"),
              "dncnn": ("dncnn", "dncnn.pt"), "unet": ("unet", "unet.pt"),
              "score": ("learnlet", "score.pt")}
FORMAT = "pysap_mri_dl-weights-1"
_READABLE = (FORMAT, "pysap_mri_dl-denoiser-1")  # the first shipped files' format string


class WeightsError(ValueError):
    """A weights file that cannot be read, or does not match the model it names."""


def _registry(kind):
    if kind == "denoiser":
        return DENOISERS
    if kind == "reconstruction":
        from .deq.model import DEQLearnlet
        from .unrolled.models import UNROLLED_MODELS
        return {**UNROLLED_MODELS, "deq": DEQLearnlet}
    raise ValueError(f"kind must be one of {KINDS}, received {kind!r}")


def build_model(name, *, kind="denoiser", **config):
    """A model of ``kind`` by name with constructor arguments ``config``."""
    registry = _registry(kind)
    if name not in registry:
        raise ValueError(f"unknown {kind} model {name!r}; expected one of {sorted(registry)}")
    counts = ["features", "n_iter", "depth", "n_filters", "n_scales", "n_primal",
              "n_cascades", "levels"]
    if not config.get("primal_only", False):
        counts.append("n_dual")  # the k-space buffers of learned primal-dual
    for key in counts:
        value = config.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"invalid configuration {config} for {kind} model {name!r}: "
                             f"{key} must be an integer >= 1, received {value!r}")
    sigma = config.get("sigma", 0.5)
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0 < sigma < 1:
        raise ValueError(f"invalid configuration {config} for {kind} model {name!r}: sigma "
                         f"must be a number in (0, 1) (relative to the image maximum), "
                         f"received {sigma!r}")
    try:
        model = registry[name](**config)
    except (TypeError, RuntimeError) as exc:
        raise ValueError(f"invalid configuration {config} for {kind} model {name!r}: "
                         f"{exc}") from None
    model.model_name = name  # the registry's name (PDNet, XPDNet, NC-PDNet share a class)
    return model


def save_model(path, model, *, name, kind="denoiser", meta=None):
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, renamed)."""
    payload = {"format": FORMAT, "kind": kind, "model": name, "config": dict(model.config),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "meta": dict(meta or {})}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def read_weights(path, *, expected=None, kind="denoiser"):
    """The checked contents of a file written by :func:`save_model` (a dict with ``model``,
    ``config``, ``state_dict`` and ``meta``), for models :func:`load_model` cannot build
    (a peer's behind an adapter, ``benchmarks/deepinv_peer.py``). ``expected`` (a model
    name) and ``kind`` are checked against the file; any mismatch is a
    :class:`WeightsError` that names the file."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's own message suggests unsafe loading: not repeated
        raise WeightsError(f"weights file {path} cannot be read ({type(exc).__name__}): "
                           f"expected a model.pt written by pysap-mri-dl train or "
                           f"train-denoiser") from None
    if not isinstance(payload, dict) or payload.get("format") not in _READABLE \
            or not {"config", "state_dict"} <= set(payload):
        raise WeightsError(f"weights file {path} is not a pysap_mri_dl weights file ({FORMAT})")
    name, file_kind = payload.get("model"), payload.get("kind", "denoiser")
    if file_kind != kind:
        raise WeightsError(f"weights file {path} holds a {file_kind} model ({name!r}), "
                           f"expected a {kind}")
    if expected is not None and name != expected:
        raise WeightsError(f"weights file {path} holds a {name!r} model, expected {expected!r}")
    return payload


def load_model(path, *, expected=None, kind="denoiser"):
    """Load a model saved by :func:`save_model`; returns ``(model, meta)`` with the model in
    eval mode. ``expected`` (a model name) and ``kind`` are checked against the file."""
    payload = read_weights(path, expected=expected, kind=kind)
    name = payload["model"]
    try:
        model = build_model(name, kind=kind, **payload["config"])
        model.load_state_dict(payload["state_dict"])
    except (TypeError, KeyError, RuntimeError, ValueError) as exc:
        raise WeightsError(f"weights file {path} does not match the {name!r} model: "
                           f"{str(exc).splitlines()[0]}") from None
    model.eval()
    return model, payload.get("meta", {})


def save_denoiser(path, model, *, name, meta=None):
    """:func:`save_model` for a denoiser."""
    save_model(path, model, name=name, kind="denoiser", meta=meta)


def load_denoiser(path, *, expected=None):
    """:func:`load_model` for a denoiser."""
    return load_model(path, expected=expected, kind="denoiser")


def pretrained_path(name):
    """Path of the weights shipped with the package for ``name`` (a key of ``PRETRAINED``)."""
    if name not in PRETRAINED:
        raise ValueError(f"no shipped weights named {name!r}; expected one of {sorted(PRETRAINED)}")
    path = resources.files("pysap_mri_dl.learn") / "pretrained" / PRETRAINED[name][1]
    if not path.is_file():
        raise WeightsError(f"no pretrained weights for {name!r} in this installation")
    return Path(str(path))


NETWORKS = ("pdnet", "xpdnet", "ncpdnet", "unet", "kiki", "cascade", "learnlet-unrolled", "deq")
"""Reconstruction networks whose weights ship with the package (``pretrained/networks``)."""


def network_path(name):
    """Path of the shipped weights of the reconstruction network ``name``."""
    if name not in NETWORKS:
        raise ValueError(f"no shipped network named {name!r}; expected one of {sorted(NETWORKS)}")
    path = resources.files("pysap_mri_dl.learn") / "pretrained" / "networks" / f"{name}.pt"
    if not path.is_file():
        raise WeightsError(f"no shipped weights for the network {name!r} in this installation; "
                           "train them with pysap-mri-dl train (docs/unrolled.rst) and pass "
                           "--weights")
    return Path(str(path))
