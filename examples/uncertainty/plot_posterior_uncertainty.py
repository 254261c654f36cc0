"""
Uncertainty maps by posterior sampling
======================================

Eight samples of the posterior of the real 4-coil T2 brain given its k-space at 4x and 8x
(annealed Langevin dynamics with the shipped score model and the same data consistency as
FISTA, chains started from the better classical image at that acceleration: plug-and-play
with the Learnlet at 4x, wavelet FISTA at 8x;
:func:`pysap_mri_dl.learn.score.sample_posterior`). Their mean is the reconstruction,
their standard deviation (each pixel's variance pooled with its neighbours' over one pixel)
the uncertainty map. Because the fully sampled reference
is known here, the map can be checked: the fraction of foreground pixels whose error lies
inside the 90% interval (``coverage``, 0.90 when calibrated) and the rank correlation between
the map and the error (``rho``). With the default schedule, removing data (8x) makes
the map larger (``benchmarks/posterior.py``).
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.learn.score import LangevinSchedule, sample_posterior
from pysap_mri_dl.metrics import foreground, interval_coverage, psnr, uncertainty_correlation
from pysap_mri_dl.recon import reconstruct_sense
from pysap_mri_dl.sampling import random_column_mask

# the gallery runs the documented schedule (4 levels x 40 steps); the tests a short one
N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))
schedule = LangevinSchedule(steps_per_level=40 if N_ITER >= 100 else 4)

sample = load_sample("brain_4coil")
reference = sample.reference
inside = foreground(reference)
fig, axes = plt.subplots(2, 3, figsize=(10, 7))
for row, (acceleration, centre) in zip(axes, ((4, 0.08), (8, 0.04))):
    mask = random_column_mask((256, 256), acceleration=acceleration, center_fraction=centre,
                              seed=0)
    kspace = sample.kspace * mask
    wavelet = reconstruct_sense(kspace, mask, n_iter=N_ITER)
    posterior = sample_posterior(kspace, mask, n_samples=8, schedule=schedule, seed=0)
    error = np.abs(posterior.mean - reference)
    print(f"{acceleration}x: wavelet FISTA {psnr(reference, wavelet.image):.2f} dB, "
          f"posterior mean {psnr(reference, posterior.mean):.2f} dB, "
          f"coverage {interval_coverage(reference, posterior.mean, posterior.std):.3f}, "
          f"rho {uncertainty_correlation(reference, posterior.mean, posterior.std):.3f}, "
          f"mean std {posterior.std[inside].mean() / reference.max():.4f}, "
          f"{posterior.seconds:.0f} s")
    top = reference.max()
    for ax, image, title, vmax in zip(
            row, (posterior.mean, error, posterior.std),
            (f"{acceleration}x: posterior mean", "|error|", "std (uncertainty)"),
            (top, 0.15 * top, 0.15 / 1.645 * top)):
        ax.imshow(image, cmap="gray" if vmax == top else "magma", vmin=0, vmax=vmax)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
fig.tight_layout()
plt.show()
