"""
Radial cardiac raw data: gridding, CG-SENSE and wavelet compressed sensing
==========================================================================

Real 12-coil radial k-space of a cardiac short-axis slice (gpuNUFFT demo data, bundled):
only 25 spokes of 256 samples for a 256x256 image, about 16 times fewer spokes than the
radial Nyquist rate. Four reconstructions of the same data, each one call:

* the density-compensated adjoint ("gridding"), with Voronoi weights;
* CG-SENSE, 10 conjugate-gradient iterations on the normal equations;
* compressed sensing with the default Haar wavelet prior (FISTA), sensitivity maps from the k-space
  centre;
* the shipped NC-PDNet (:doc:`/unrolled`): 100 iterations of wavelet FISTA with the default
  lambda, then six unrolled iterations of the density-compensated gradient with a small CNN
  each, trained on simulated radial acquisitions (1-8 coils, 60-100 spokes) of one T1 head.
  A 12-coil cardiac slice with 25 spokes is far outside what it saw, and its start keeps
  the default lambda (tuned for 4x), where the CS row below uses a ten times stronger one
  for these 25 noisy spokes: it explains the data as well as CS, with more streaks left.

There is no fully sampled reference for this acquisition, so the comparison is visual
plus two numbers: how well each image explains the measured data, and how much signal is
left in the image corners (outside the body, streaks and noise).
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.learn import reconstruct_network
from pysap_mri_dl.operators import NUFFT
from pysap_mri_dl.recon import cg_sense, gridding, reconstruct_noncartesian

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

sample = load_sample("radial_cardiac")
kspace, trajectory, shape = sample.kspace, sample.trajectory, sample.shape
print(f"k-space {kspace.shape} (coils, samples), trajectory {trajectory.shape}, image {shape}")

# %%
# The trajectory: 25 spokes through the centre.
fig, ax = plt.subplots(figsize=(4, 4))
ax.plot(trajectory[:, 1], trajectory[:, 0], ".", markersize=1)
ax.set_aspect("equal")
ax.set_title("k-space trajectory (cycles/pixel)")

# %%
# Gridding estimates coil maps from the centre of k-space ('auto') and combines the coils;
# the two other methods reuse those maps.
grid = gridding(kspace, trajectory, shape, smaps="auto")
cg = cg_sense(kspace, trajectory, shape, smaps=grid.smaps, n_iter=10)
# 25 noisy spokes: a stronger prior than the default factor (0.001, tuned for 4x), see the
# regularisation page of the docs
cs = reconstruct_noncartesian(kspace, trajectory, shape, smaps=grid.smaps, n_iter=N_ITER,
                              lam_factor=0.01)
network = reconstruct_network(kspace, model="ncpdnet", trajectory=trajectory, shape=shape,
                              smaps=grid.smaps)

# %%
# Data consistency (after the best global scale) and background level.
model = NUFFT(trajectory, shape, smaps=grid.smaps)
corners = np.zeros(shape, bool)
corners[:40, :40] = corners[:40, -40:] = corners[-40:, :40] = corners[-40:, -40:] = True


def data_misfit(image):
    predicted = model.op(image.astype(np.complex64))
    scale = np.vdot(predicted, kspace) / np.vdot(predicted, predicted)
    return np.linalg.norm(scale * predicted - kspace) / np.linalg.norm(kspace)


results = {"gridding": grid, "CG-SENSE (10 it.)": cg, f"wavelet FISTA ({N_ITER} it.)": cs,
           "NC-PDNet (shipped)": network}
for name, result in results.items():
    image = np.abs(result.image)
    print(f"{name:22s} data misfit {data_misfit(result.image):.3f}, corner/mean signal "
          f"{image[corners].mean() / image.mean():.3f}, {result.seconds:.2f} s")

# %%
# The four images side by side (each scaled to its 99.5th percentile).
fig, axes = plt.subplots(1, 4, figsize=(16, 4.4))
for ax, (name, result) in zip(axes, results.items()):
    image = np.abs(result.image)
    ax.imshow(image, cmap="gray", vmax=np.percentile(image, 99.5))
    ax.set_title(name)
    ax.axis("off")
fig.tight_layout()
plt.show()
