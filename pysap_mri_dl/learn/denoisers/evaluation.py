"""Denoising baselines and test images for evaluating learned denoisers on real slices that
were not used for training."""
from __future__ import annotations

import numpy as np

from ...metrics import psnr

__all__ = ["wavelet_denoise_best", "evaluation_images", "noisy_version", "denoising_gain"]


def wavelet_denoise_best(noisy, clean, sigma, *, wavelet="sym8", levels=4,
                         factors=np.linspace(0.5, 4.0, 15)):
    """Undecimated-wavelet soft thresholding with the best threshold ``k * sigma * n_b``
    (``n_b`` the noise level of band ``b``, measured on white noise) over ``factors``: the
    oracle baseline. Returns ``(image, best factor)``."""
    from ...operators import Wavelet
    from ...prox import Analysis, SoftThreshold
    transform = Wavelet(noisy.shape, wavelet=wavelet, levels=levels, undecimated=True)
    rng = np.random.default_rng(0)
    noise = transform.op(rng.standard_normal(noisy.shape).astype(np.float32))
    band_noise = np.zeros(transform.shape_out, np.float32)
    for band in transform.bands:
        band_noise[band.slice] = np.std(noise[band.slice])
    detail = transform.detail_weights(1.0, approx=0.0)
    best = None
    for k in factors:
        out = Analysis(transform, SoftThreshold(k * sigma * band_noise * detail)).prox(noisy, 1.0)
        value = psnr(clean, out)
        if best is None or value > best[0]:
            best = (value, out, float(k))
    return best[1], best[2]


def evaluation_images(shared=None):
    """Real slices not used for training: the bundled pysap brain slice (resampled to 256^2)
    and the RSS of the bundled 4-coil T2 brain, plus the dipy T1 slice from ``shared``
    (``../shared/data/images``) when given. Each scaled to maximum 1."""
    from skimage.transform import resize

    from ...data import load_sample
    images = {"pysap T2* slice": resize(load_sample("brain_slice_2d").reference, (256, 256),
                                        anti_aliasing=True),
              "4-coil T2 brain (RSS)": load_sample("brain_4coil").reference}
    if shared is not None and (shared / "dipy_t1_coronal_slice.npy").exists():
        images["dipy T1 slice"] = np.load(shared / "dipy_t1_coronal_slice.npy")
    return {k: (v / v.max()).astype(np.float32) for k, v in images.items()}


def noisy_version(clean, sigma, seed=0):
    """``clean`` plus white Gaussian noise of standard deviation ``sigma``, drawn from a
    generator seeded by ``(seed, sigma)`` so that every script sees the same noise."""
    rng = np.random.default_rng([int(seed), int(round(sigma * 1e6))])
    return (clean + sigma * rng.standard_normal(clean.shape)).astype(np.float32)


def denoising_gain(model, clean, sigma, *, seed=0, ensemble=1):
    """``(gain, ours, oracle, noisy)``: PSNR (dB) of ``model`` on :func:`noisy_version` of
    ``clean``, of the best-threshold undecimated wavelet shrinkage, of the noisy image, and
    the gain of the model over the wavelet oracle."""
    from .prox import denoise
    noisy = noisy_version(clean, sigma, seed)
    oracle = psnr(clean, wavelet_denoise_best(noisy, clean, sigma)[0])
    ours = psnr(clean, denoise(model, noisy, sigma, ensemble=ensemble))
    return ours - oracle, ours, oracle, psnr(clean, noisy)
