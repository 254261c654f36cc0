"""
Compare the shipped networks with compressed sensing
====================================================

The real 4-coil T2 brain (bundled), 4x random columns with an 8% centre: zero-filled,
wavelet FISTA (the toolbox's default prior) and each shipped reconstruction network, all
run through the same operators with maps self-calibrated from the same k-space. The
networks were trained on simulated acquisitions of one T1 head (Colin27) on 2 CPU cores
(:doc:`/unrolled`): this T2 brain is out of their distribution. Then NC-PDNet on 80
golden-angle radial spokes of the bundled brain slice, against gridding.
"""
import os
import time

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.data.simulation import radial_brain_slice
from pysap_mri_dl.learn import reconstruct_network
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.recon import gridding, reconstruct_sense
from pysap_mri_dl.sampling import random_column_mask

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

# %%
# Cartesian: one acquisition, every method.
brain = load_sample("brain_4coil")
mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
kspace = brain.kspace * mask
reference = brain.reference

cs = reconstruct_sense(kspace, mask, n_iter=N_ITER)
images = {"zero-filled": cs.zero_filled, f"wavelet FISTA ({N_ITER} it.)": cs.image}
for name in ("unet", "kiki", "pdnet", "xpdnet", "cascade", "learnlet-unrolled"):
    start = time.perf_counter()
    images[name] = reconstruct_network(kspace, mask, model=name).image
    print(f"{name:22s} {psnr(reference, np.abs(images[name])):.2f} dB "
          f"({time.perf_counter() - start:.2f} s)")
for name in ("zero-filled", f"wavelet FISTA ({N_ITER} it.)"):
    print(f"{name:22s} {psnr(reference, np.abs(images[name])):.2f} dB")

fig, axes = plt.subplots(2, 4, figsize=(12, 6.4))
for ax, (title, image) in zip(axes.ravel(), images.items()):
    ax.imshow(np.abs(image), cmap="gray", vmax=reference.max())
    ax.set_title(f"{title}\n{psnr(reference, np.abs(image)):.2f} dB", fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %%
# Non-Cartesian: NC-PDNet (single coil, density-compensated adjoint in each iteration).
samples, trajectory, slice_image = radial_brain_slice(80, 256)
network = reconstruct_network(samples, model="ncpdnet", trajectory=trajectory,
                              shape=(256, 256))
gridded = gridding(samples, trajectory, (256, 256))
print(f"radial gridding {psnr(slice_image, np.abs(gridded.image)):.2f} dB, "
      f"NC-PDNet {psnr(slice_image, np.abs(network.image)):.2f} dB")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, (title, image) in zip(axes, [("reference", slice_image),
                                     ("gridding, 80 spokes", gridded.image),
                                     ("NC-PDNet", network.image)]):
    ax.imshow(np.abs(image), cmap="gray", vmax=1)
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()
plt.show()
