"""The unrolled networks and the seed's baselines, on one skeleton.

Every model maps a :class:`~pysap_mri_dl.learn.unrolled.physics.Measurement` to a complex
image (in the measurement's scaled units) and reaches the data only through the
measurement's operator and its least-squares gradient ``A^H (A x - y)`` (the package's
``LeastSquares``; density-weighted for trajectories): the same data-consistency step as
FISTA.

* :class:`PrimalDual` is the skeleton (Adler & Oktem's learned primal-dual, and Ramzi et
  al.'s primal-only XPDNet / NC-PDNet): buffers of ``n_primal`` images and ``n_dual``
  k-space arrays; each iteration updates the k-space buffer from ``[h, A x, y]`` (or, in
  primal-only mode, replaces it with the gradient ``A^H (A x - y)``) and the image buffer
  from ``[x, A^H h]``, through per-iteration networks (or one shared network).
  ``PDNet``, ``XPDNet`` (with a U-Net per iteration and a map refiner) and ``NCPDNet``
  (density-compensated gradient, 2D or 3D) are configurations of it.
* :class:`CascadeNet` (Schlemper et al.): CNN, then a learned gradient step, per cascade.
* :class:`KIKINet` (Eo et al.): a k-space CNN and an image CNN per cascade, with data
  consistency.
* :class:`UNetBaseline`: a U-Net on the zero-filled magnitude.
* :class:`UnrolledLearnlet`: plug-and-play FISTA with the tied Learnlet as its prox,
  unrolled with a learned step and noise level per iteration; it starts as the shipped
  plug-and-play configuration and is trained end to end.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...optim import forward_backward_step
from ..denoisers.cnn import apply_denoiser
from ..denoisers.learnlet import Learnlet
from .nets import ConvBlock, UNetBlock
from .physics import from_channels, to_channels

SCHEDULE_GAIN = 10.0
"""Learned step lengths and noise levels are ``exp(gain * a)``: with Adam's normalised
updates the gain lets a few hundred steps move them by factors of several (the other
weights keep the learning rate as given)."""

__all__ = ["PrimalDual", "PDNet", "XPDNet", "NCPDNet", "CascadeNet", "KIKINet",
           "UNetBaseline", "UnrolledLearnlet", "UNROLLED_MODELS"]


def _nets(count, make):
    return nn.ModuleList([make() for _ in range(count)])


START_IMAGES = ("zero-filled", "wavelet", "pnp")


def _check_start(start, start_iterations):
    if start not in START_IMAGES:
        raise ValueError(f"start must be one of {START_IMAGES}, received {start!r}")
    if isinstance(start_iterations, bool) or not isinstance(start_iterations, int) \
            or start_iterations < 1:
        raise ValueError(f"start_iterations must be an integer >= 1, received "
                         f"{start_iterations!r}")


def start_image(m, config):
    """Where a model's iterations start: the zero-filled image (``A^H y``, density-weighted
    for trajectories), or (``config['start'] == 'wavelet'``) ``config['start_iterations']``
    of the default wavelet FISTA, run without gradients: with its zero-initialised output
    layers an untrained network then returns that CS image, and training learns to improve
    on the algorithm that works; ``'pnp'``: that many iterations of plug-and-play FISTA with
    the shipped Learnlet (:meth:`~.physics.Measurement.pnp_reconstruction`)."""
    start = config.get("start", "zero-filled")
    if start == "zero-filled":
        return m.zero_filled()
    if start == "pnp":
        return m.pnp_reconstruction(config["start_iterations"])
    return m.wavelet_reconstruction(config["start_iterations"])


def _batched(images):
    """A stack of complex images ``(n, *spatial)`` as real channels ``(1, 2n, *spatial)``."""
    parts = to_channels(images)
    return parts.reshape(1, -1, *parts.shape[2:])


class PrimalDual(nn.Module):
    """The unrolled skeleton (module docstring).

    Parameters
    ----------
    n_iter : int
        Unrolled iterations.
    n_primal, n_dual : int
        Image and k-space buffer sizes.
    primal_only : bool
        Replace the k-space update by the data-consistency gradient ``A^H (A x - y)``.
    shared : bool
        One network for every iteration (weight sharing) instead of one per iteration.
    image_net : 'conv' or 'unet'
        The image-space network of each iteration.
    features, depth, levels : int
        Width, convolutions per block ('conv'), poolings ('unet').
    ndim : 2 or 3
        Spatial dimensions.
    refine_smaps : bool
        Refine the coil maps with a small U-Net before the iterations (XPDNet).
    start : 'zero-filled', 'wavelet' or 'pnp'
        The image buffer's start (:func:`start_image`): the zero-filled image (the
        networks of the seed), or ``start_iterations`` of wavelet FISTA or of plug-and-play
        FISTA with the shipped Learnlet (2D).
    """

    def __init__(self, *, n_iter=10, n_primal=5, n_dual=5, primal_only=False, shared=False,
                 image_net="conv", features=32, depth=3, levels=2, ndim=2,
                 refine_smaps=False, smaps_features=4, smaps_levels=2, start="zero-filled",
                 start_iterations=30):
        super().__init__()
        _check_start(start, start_iterations)
        self.config = dict(n_iter=n_iter, n_primal=n_primal, n_dual=n_dual,
                           primal_only=primal_only, shared=shared, image_net=image_net,
                           features=features, depth=depth, levels=levels, ndim=ndim,
                           refine_smaps=refine_smaps, smaps_features=smaps_features,
                           smaps_levels=smaps_levels, start=start,
                           start_iterations=start_iterations)
        count = 1 if shared else n_iter
        inputs = 2 * (n_primal + 1)
        if image_net == "conv":
            make_image = lambda: ConvBlock(inputs, 2 * n_primal, features=features,  # noqa: E731
                                           depth=depth, ndim=ndim)
        elif image_net == "unet":
            make_image = lambda: UNetBlock(inputs, 2 * n_primal, features=features,  # noqa: E731
                                           levels=levels, ndim=ndim)
        else:
            raise ValueError(f"image_net must be 'conv' or 'unet', received {image_net!r}")
        self.image_nets = _nets(count, make_image)
        self.kspace_nets = None if primal_only else _nets(
            count, lambda: ConvBlock(2 * (n_dual + 2), 2 * n_dual, features=features,
                                     depth=depth, ndim=ndim))
        self.refiner = (UNetBlock(2, 2, features=smaps_features, levels=smaps_levels, ndim=ndim)
                        if refine_smaps else None)

    def _net(self, nets, i):
        return nets[0 if self.config["shared"] else i]

    def refine(self, m):
        """The measurement with maps refined by the U-Net, renormalised to RSS 1 where the
        maps were non-zero (XPDNet); unchanged without a refiner or maps."""
        if self.refiner is None or m.smaps is None:
            return m
        maps = m.smaps
        update = from_channels(self.refiner(to_channels(maps)))
        refined = maps + update
        power = refined.real.pow(2) + refined.imag.pow(2)
        norm = (power.sum(0, keepdim=True) + 1e-12).sqrt()  # finite gradient at zero
        support = (maps.abs().pow(2).sum(0, keepdim=True) > 0).to(norm.dtype)
        return m.with_smaps(refined * support / norm)

    def forward(self, m):
        if self.kspace_nets is not None and m.trajectory is not None:
            raise ValueError("the dual (k-space) networks need Cartesian data; for "
                             "trajectories use a primal-only model (ncpdnet)")
        m = self.refine(m)
        n_primal, n_dual = self.config["n_primal"], self.config["n_dual"]
        start = start_image(m, self.config)
        x = start.unsqueeze(0).repeat((n_primal,) + (1,) * start.ndim)  # (n_primal, *shape)
        h = None
        if self.kspace_nets is not None:
            h = torch.zeros((n_dual,) + tuple(m.kspace.shape), dtype=m.kspace.dtype,
                            device=m.kspace.device)
        for i in range(self.config["n_iter"]):
            if h is None:
                feedback = m.gradient(x[0])  # A^H (A x - y): data consistency, as in FISTA
            else:
                h = h + self._kspace_update(i, h, m.forward(x[1 % n_primal]), m.kspace)
                feedback = m.adjoint(h[0])
            update = self._net(self.image_nets, i)(_batched(torch.cat([x, feedback[None]])))
            x = x + from_channels(update.reshape(n_primal, 2, *update.shape[2:]))
        return x[0]

    def _kspace_update(self, i, h, ax, y):
        """``Gamma_i([h, A x, y])`` on every coil (coils as the batch of the network)."""
        stack = torch.cat([h, ax[None], y[None]])  # (n_dual + 2, [coils,] *kshape)
        multi_coil = y.ndim > self.config["ndim"]
        per_coil = stack.movedim(1, 0) if multi_coil else stack[None]  # (coils, n + 2, ...)
        coils, buffers = per_coil.shape[:2]
        parts = to_channels(per_coil.reshape(coils * buffers, *per_coil.shape[2:]))
        out = self._net(self.kspace_nets, i)(parts.reshape(coils, 2 * buffers,
                                                            *parts.shape[2:]))
        out = from_channels(out.reshape(-1, 2, *out.shape[2:]))
        out = out.reshape(coils, self.config["n_dual"], *out.shape[1:])
        return out.movedim(0, 1) if multi_coil else out[0]


def PDNet(**options):
    """Learned primal-dual (Adler & Oktem 2018): primal and dual buffers, 3-convolution
    32-filter blocks, 10 iterations in the seed's configuration; ``options`` override
    :class:`PrimalDual`'s arguments."""
    return PrimalDual(**{**dict(n_iter=10, n_primal=5, n_dual=5, features=32, depth=3),
                         **options})


def XPDNet(**options):
    """Primal-only unrolling with a U-Net per iteration and a map refiner (Ramzi et al.)."""
    return PrimalDual(**{**dict(n_iter=10, n_primal=5, primal_only=True, image_net="unet",
                                features=16, levels=2, refine_smaps=True), **options})


def NCPDNet(**options):
    """Primal-only unrolling for non-Cartesian data: the data consistency is the
    density-compensated gradient ``A^H D (A x - y)`` of the measurement (Ramzi et al.);
    ``ndim=3`` for 3D trajectories."""
    return PrimalDual(**{**dict(n_iter=10, n_primal=5, primal_only=True, features=32,
                                depth=3), **options})


class CascadeNet(nn.Module):
    """Deep cascade (Schlemper et al. 2018): ``n_cascades`` times a residual CNN of
    ``depth`` convolutions and a data-consistency gradient step of learned length."""

    def __init__(self, n_cascades=5, features=48, depth=5, ndim=2):
        super().__init__()
        self.config = dict(n_cascades=n_cascades, features=features, depth=depth, ndim=ndim)
        self.nets = _nets(n_cascades, lambda: ConvBlock(2, 2, features=features, depth=depth,
                                                        ndim=ndim))
        self.log_steps = nn.Parameter(torch.zeros(n_cascades))

    def forward(self, m):
        x = m.zero_filled()
        for net, log_step in zip(self.nets, self.log_steps):
            x = x + from_channels(net(to_channels(x[None])))[0]
            x = x - (SCHEDULE_GAIN * log_step).exp() * m.gradient(x)
        return x


class KIKINet(nn.Module):
    """KIKI-net (Eo et al. 2018): per cascade a k-space CNN on the current k-space estimate
    (coils as the batch), back to the image, an image CNN, then a data-consistency gradient
    step of learned length."""

    def __init__(self, n_cascades=2, features=48, depth=16, ndim=2):
        super().__init__()
        self.config = dict(n_cascades=n_cascades, features=features, depth=depth, ndim=ndim)
        block = lambda: ConvBlock(2, 2, features=features, depth=depth, ndim=ndim)  # noqa: E731
        self.kspace_nets = _nets(n_cascades, block)
        self.image_nets = _nets(n_cascades, block)
        self.log_steps = nn.Parameter(torch.zeros(n_cascades))

    def forward(self, m):
        x = m.zero_filled()
        ndim = self.config["ndim"]
        for k_net, i_net, log_step in zip(self.kspace_nets, self.image_nets, self.log_steps):
            k = m.forward(x)
            coils = k.reshape(-1, *k.shape[k.ndim - ndim:])
            k = k + from_channels(k_net(to_channels(coils))).reshape(k.shape)
            x = m.adjoint(k)
            x = x + from_channels(i_net(to_channels(x[None])))[0]
            x = x - (SCHEDULE_GAIN * log_step).exp() * m.gradient(x)
        return x


class UNetBaseline(nn.Module):
    """A U-Net (``levels`` poolings, ``features`` channels at the top, doubling per level:
    16-128 channels and 482k parameters by default, the seed's baseline) on the magnitude
    of the zero-filled image, residual; returns a real image."""

    def __init__(self, features=16, levels=3, ndim=2):
        super().__init__()
        self.config = dict(features=features, levels=levels, ndim=ndim)
        self.net = UNetBlock(1, 1, features=features, levels=levels, ndim=ndim)

    def forward(self, m):
        magnitude = m.zero_filled().abs()
        return (magnitude + self.net(magnitude[None, None])[0, 0]).to(m.kspace.dtype)


class _ScaledDenoiser:
    """The prox of one unrolled iteration: the denoiser at noise level ``sigma`` (the
    image is already scaled to maximum about 1), for ``forward_backward_step``."""

    def __init__(self, model, sigma):
        self.model, self.sigma = model, sigma

    def prox(self, x, step):
        parts = to_channels(x[None])
        flat = parts.reshape(1, 2, *parts.shape[2:])
        out = apply_denoiser(self.model, flat, self.sigma.reshape(1))
        return from_channels(out)[0]


class UnrolledLearnlet(nn.Module):
    """Plug-and-play FISTA with the tied Learnlet, unrolled for ``n_iter`` iterations with
    a learned step ``exp(g a_k) / L`` and noise level ``sigma * exp(g b_k)`` per iteration
    (``g = SCHEDULE_GAIN``) and
    the Learnlet shared by all iterations. With ``a = b = 0`` and the shipped Learnlet it is
    the shipped plug-and-play reconstruction at 4x (noise level 0.0005) cut at ``n_iter``
    iterations (momentum
    without restart)."""

    def __init__(self, n_iter=10, sigma=0.0005, learnlet=None, start="zero-filled",
                 start_iterations=30):
        super().__init__()
        _check_start(start, start_iterations)
        learnlet = dict(learnlet or {})
        self.config = dict(n_iter=n_iter, sigma=sigma, learnlet=learnlet, start=start,
                           start_iterations=start_iterations)
        self.denoiser = Learnlet(**learnlet)
        self.log_steps = nn.Parameter(torch.zeros(n_iter))
        self.log_sigmas = nn.Parameter(torch.zeros(n_iter))

    def forward(self, m):
        data = m.data
        lipschitz = data.lipschitz()
        x = z = start_image(m, self.config)
        t = 1.0
        for log_step, log_sigma in zip(self.log_steps, self.log_sigmas):
            sigma = self.config["sigma"] * (SCHEDULE_GAIN * log_sigma).exp()
            prox = _ScaledDenoiser(self.denoiser, sigma)
            x_new = forward_backward_step(z, data=data, prox=prox,
                                          step=(SCHEDULE_GAIN * log_step).exp() / lipschitz)
            t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
            z = x_new + ((t - 1) / t_new) * (x_new - x)
            x, t = x_new, t_new
        return x


UNROLLED_MODELS = {
    "pdnet": PDNet, "xpdnet": XPDNet, "ncpdnet": NCPDNet, "cascade": CascadeNet,
    "kiki": KIKINet, "unet": UNetBaseline, "learnlet-unrolled": UnrolledLearnlet,
}
"""Reconstruction networks by name (the names of ``--model``)."""
