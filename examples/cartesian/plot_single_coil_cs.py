"""
Single-coil compressed sensing with a wavelet prior
===================================================

Retrospectively undersample a real brain slice 4x along the phase-encoding direction and
reconstruct it by wavelet-regularised FISTA, the classical compressed-sensing recipe:

.. math:: \\hat x = \\arg\\min_x \\tfrac12 \\|M F x - y\\|_2^2 + \\lambda \\|\\Psi x\\|_1
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.metrics import psnr, ssim
from pysap_mri_dl.operators import FFT, Wavelet
from pysap_mri_dl.optim import LeastSquares, fista
from pysap_mri_dl.prox import Analysis, CycleSpin, SoftThreshold
from pysap_mri_dl.recon import default_lambda
from pysap_mri_dl.sampling import random_column_mask

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

# %%
# Data and sampling: the bundled 512x512 brain slice (pysap-data), 4x random columns with
# a fully sampled 8% centre, as in the fastMRI challenge.
sample = load_sample("brain_slice_2d")
mask = random_column_mask(sample.kspace.shape, acceleration=4, center_fraction=0.08, seed=0)
kspace = sample.kspace * mask

# %%
# The engine: a masked Fourier operator, a least-squares data term and the prox of the
# wavelet l1 norm (orthonormal sym8, cycle-spun for shift invariance).
fourier = FFT(sample.kspace.shape, mask=mask)
data = LeastSquares(fourier, kspace)
lam = default_lambda(fourier.adj_op(kspace))
wavelet = Wavelet(sample.kspace.shape, wavelet="sym8", levels=4)
prior = CycleSpin(Analysis(wavelet, SoftThreshold(lam * wavelet.detail_weights())),
                  ndim=2, max_shift=16, seed=0)
result = fista(data, prior, n_iter=N_ITER)

zero_filled = np.abs(fourier.adj_op(kspace))
print(f"zero-filled: {psnr(sample.reference, zero_filled):.2f} dB, "
      f"FISTA: {psnr(sample.reference, result.x):.2f} dB, SSIM {ssim(sample.reference, result.x):.3f}, "
      f"{1000 * result.seconds / result.n_iter:.1f} ms per iteration")

# %%
# Side by side.
fig, axes = plt.subplots(1, 3, figsize=(11, 4))
for ax, image, title in zip(axes, [sample.reference, zero_filled, np.abs(result.x)],
                            ["reference", "zero-filled", f"FISTA, {result.n_iter} iterations"]):
    ax.imshow(image, cmap="gray", vmax=sample.reference.max())
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()
plt.show()
