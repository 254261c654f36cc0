"""
Swapping a learned prior into the compressed-sensing script
===========================================================

The SENSE reconstruction of the real 4-coil brain (4x) from the Cartesian gallery, run
twice with one line changed: the wavelet prior, then the shipped Learnlet denoiser as the
proximity operator of the same FISTA (plug-and-play). ``sigma`` is the noise level the
denoiser runs at, relative to the image maximum; the step of the algorithm sets the
matching regularisation weight (see :class:`pysap_mri_dl.learn.LearnedProx`).
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.learn import learned_prior
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.recon import reconstruct_sense
from pysap_mri_dl.sampling import random_column_mask

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

sample = load_sample("brain_4coil")
mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
kspace = sample.kspace * mask

wavelet = reconstruct_sense(kspace, mask, n_iter=N_ITER)
learned = reconstruct_sense(kspace, mask, prior=learned_prior("learnlet", sigma=0.0005),
                            n_iter=N_ITER)  # <- the one line that changes

results = {"zero-filled": wavelet.zero_filled, "wavelet FISTA": np.abs(wavelet.image),
           "Learnlet FISTA": np.abs(learned.image)}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
for ax, (name, image) in zip(axes, results.items()):
    value = psnr(sample.reference, image)
    print(f"{name:16s} {value:.2f} dB")
    ax.imshow(image, cmap="gray", vmin=0, vmax=sample.reference.max())
    ax.set_title(f"{name}\n{value:.2f} dB", fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
