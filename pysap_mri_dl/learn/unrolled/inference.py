"""Reconstruct with a trained network in one call, beside ``reconstruct_sense``."""
from __future__ import annotations

import contextlib
import time

import numpy as np
import torch

from ..._backend import array_kind, check_same_kind, same_kind, to_numpy
from ...optim import OptimResult
from ...recon.cartesian import zero_filled as recon_zero_filled
from ...recon.core import Reconstruction
from ...recon.noncartesian import _adjoint_rss
from ..weights import WeightsError, load_model, network_path
from .physics import cartesian_measurement, check_sampling_arguments, noncartesian_measurement

__all__ = ["reconstruct_network", "load_network"]


def load_network(model="pdnet", *, weights=None):
    """``(network, meta)``: the shipped weights of ``model`` (a name of ``--model``), or the
    file ``weights`` (which must hold a ``model`` network)."""
    path = weights if weights is not None else network_path(model)
    return load_model(path, expected=model, kind="reconstruction")


def reconstruct_network(kspace, mask=None, *, model="pdnet", weights=None, smaps="auto",
                        trajectory=None, shape=None, density="auto", device="cpu"):
    """Reconstruct k-space with a trained network; returns a
    :class:`~pysap_mri_dl.recon.Reconstruction` like the CS reconstructors (``image`` of the
    k-space's array kind, ``zero_filled``, ``seconds``; ``algorithm`` is the model name).

    Cartesian: ``kspace`` ``([coils,] ny, nx)`` with ``mask`` (default: the non-zero
    samples), maps self-calibrated (``smaps='auto'``) or given. Non-Cartesian: ``kspace``
    ``([coils,] n_samples)`` with ``trajectory`` ``(n_samples, ndim)`` and ``shape`` (2D or
    3D); ``density`` 'auto' (Voronoi in 2D, Pipe in 3D), 'voronoi', 'pipe' or an array. ``model`` is a shipped network name, or a
    loaded ``torch.nn.Module`` (then ``weights`` is ignored). NumPy or torch input.
    """
    start = time.perf_counter()
    network, name = _network(model, weights)
    like = kspace
    if not isinstance(smaps, str):
        check_same_kind(kspace, smaps, name="smaps", reference_name="kspace")
    data = to_numpy(kspace)
    if not np.all(np.isfinite(data)):
        raise ValueError("kspace contains NaN or Inf values")
    check_sampling_arguments(trajectory, mask, shape, density)
    if trajectory is None:
        if mask is None:
            mask = np.abs(data).reshape((-1,) + data.shape[-2:]).max(0) > 0
        m = cartesian_measurement(data, to_numpy(mask) if hasattr(mask, "shape") else mask,
                                  smaps=smaps if isinstance(smaps, str) else to_numpy(smaps),
                                  device=device)
    else:
        if shape is None:
            raise ValueError("shape is needed with a trajectory")
        m = noncartesian_measurement(data, to_numpy(trajectory), shape, density=density,
                                     smaps=smaps if isinstance(smaps, str) else to_numpy(smaps),
                                     device=device)
    ndim = getattr(network, "config", {}).get("ndim", 2)
    if len(m.shape) != ndim:
        raise WeightsError(f"{name} reconstructs {ndim}D images, received a {len(m.shape)}D "
                           f"shape {tuple(m.shape)} (train a model with "
                           f"--model-config '{{\"ndim\": {len(m.shape)}}}')")
    if m.trajectory is not None and getattr(network, "kspace_nets", None) is not None:
        raise WeightsError(f"{name} has k-space networks and needs Cartesian data; use "
                           "ncpdnet for trajectories")
    with _inference_mode(network, device):
        image = network(m) * m.scale
        iterations, reason = _iterations(network)
    if trajectory is None:  # the same baselines as the CS reconstructors
        zero_filled = recon_zero_filled(data * m.mask)
    else:
        zero_filled = _adjoint_rss(data, np.asarray(trajectory), tuple(shape), m.density, None,
                                   1e-4)
    seconds = time.perf_counter() - start
    if data.dtype in (np.complex128, np.float64):  # the precision the k-space came in
        image = image.to(torch.complex128)
    out = same_kind(image, like) if array_kind(like) == "torch" else image.cpu().numpy()
    result = OptimResult(x=out, n_iter=iterations, seconds=seconds, stop_reason=reason)
    return Reconstruction(out, zero_filled, 0.0, name, "network", result, seconds,
                          smaps=None if m.smaps is None else m.smaps.cpu().numpy())


def _network(model, weights):
    """``(network, name)`` from a shipped name or a reconstruction network given by the
    caller; a named error for anything else (a denoiser, ``load_network``'s tuple)."""
    from ..weights import _registry
    if isinstance(model, str):
        return load_network(model, weights=weights)[0], model
    denoiser = tuple(_registry("denoiser").values())
    if isinstance(model, torch.nn.Module) and not isinstance(model, denoiser):
        return model, getattr(model, "model_name", type(model).__name__.lower())
    hint = ("load_network returns (network, meta): pass its first item"
            if isinstance(model, tuple) else
            "a denoiser plugs into the algorithms with learned_prior(model)"
            if isinstance(model, torch.nn.Module) else "")
    raise TypeError(f"model must be one of {sorted(_registry('reconstruction'))} or a "
                    f"reconstruction network (load_network(name)[0], build_model(name, "
                    f"kind='reconstruction'), a module taking a Measurement), received a "
                    f"{type(model).__name__}" + (f"; {hint}" if hint else ""))


@contextlib.contextmanager
def _inference_mode(network, device):
    """Evaluation mode on ``device`` without gradients for the call; the caller's module
    gets its mode and device back."""
    parameter = next(iter(network.parameters()), None)
    before = parameter.device if parameter is not None else None
    training = network.training
    network.eval().to(device)
    try:
        with torch.no_grad():
            yield
    finally:
        network.train(training)
        if before is not None:
            network.to(before)


def _iterations(network):
    """``(iterations, stop reason)`` of the call just made: the DEQ's fixed-point solve as
    its ``info`` records it, the unrolled iterations or cascades of the others, 0 for the
    U-net."""
    info = getattr(network, "info", None)
    if isinstance(info, dict) and "forward_iterations" in info:
        return int(info["forward_iterations"]), str(info["stop_reason"])
    config = getattr(network, "config", {})
    return int(config.get("n_iter", config.get("n_cascades", 0))), "n_iter"
