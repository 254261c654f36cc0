"""Reconstruct with a trained network in one call, beside ``reconstruct_sense``."""
from __future__ import annotations

import time

import numpy as np
import torch

from ..._backend import array_kind, same_kind, to_numpy
from ...optim import OptimResult
from ...recon.cartesian import zero_filled as recon_zero_filled
from ...recon.core import Reconstruction
from ...recon.noncartesian import _adjoint_rss
from ..weights import WeightsError, load_model, network_path
from .physics import cartesian_measurement, noncartesian_measurement

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
    if isinstance(model, torch.nn.Module):
        network = model.eval()
        name = getattr(model, "model_name", type(model).__name__.lower())
    else:
        network, name = load_network(model, weights=weights)[0], model
    like = kspace
    data = to_numpy(kspace)
    if not np.all(np.isfinite(data)):
        raise ValueError("kspace contains NaN or Inf values")
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
    network = network.to(device)
    if m.trajectory is not None and getattr(network, "kspace_nets", None) is not None:
        raise WeightsError(f"{name} has k-space networks and needs Cartesian data; use "
                           "ncpdnet for trajectories")
    with torch.no_grad():
        image = network(m) * m.scale
    if trajectory is None:  # the same baselines as the CS reconstructors
        zero_filled = recon_zero_filled(data * m.mask)
    else:
        zero_filled = _adjoint_rss(data, np.asarray(trajectory), tuple(shape), m.density, None,
                                   1e-4)
    seconds = time.perf_counter() - start
    out = same_kind(image, like) if array_kind(like) == "torch" else image.cpu().numpy()
    # the unrolled iterations (0 for networks without: U-net, and the DEQ, whose
    # fixed-point iterations vary)
    result = OptimResult(x=out, n_iter=int(getattr(network, "config", {}).get("n_iter", 0)),
                         seconds=seconds)
    return Reconstruction(out, zero_filled, 0.0, name, "network", result, seconds,
                          smaps=None if m.smaps is None else m.smaps.cpu().numpy())
