"""
ESPIRiT sensitivity maps against self-calibrated maps
=====================================================

The real 4-coil brain undersampled 4x (random columns, 8% centre). Two ways to estimate the
coil sensitivities from the fully sampled centre:

* self-calibrated: low-resolution coil images divided by their root sum of squares
  (smooth, but they also carry the low-resolution object's contrast);
* ESPIRiT: the eigenvector-based maps of Uecker et al., which are 1 in root sum of squares
  inside the object and 0 outside it.

Both feed the same SENSE wavelet reconstruction.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.calibration import espirit, self_calibrated_smaps
from pysap_mri_dl.data import load_sample
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.recon import reconstruct_sense
from pysap_mri_dl.sampling import random_column_mask

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

sample = load_sample("brain_4coil")
mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
kspace = sample.kspace * mask
maps = {"self-calibrated": self_calibrated_smaps(kspace, mask=mask),
        "ESPIRiT": espirit(kspace, mask=mask, calib=24, kernel=6)}

# %%
# Magnitude (top two rows) and phase of coil 0 (last row) of each set.
fig, axes = plt.subplots(3, 4, figsize=(12, 9))
for row, (name, smaps) in enumerate(maps.items()):
    for coil in range(4):
        axes[row, coil].imshow(np.abs(smaps[coil]), cmap="viridis", vmin=0, vmax=1)
        axes[row, coil].set_title(f"{name}, coil {coil}", fontsize=9)
for col, (name, smaps) in enumerate(maps.items()):
    axes[2, col].imshow(np.angle(smaps[0]), cmap="twilight")
    axes[2, col].set_title(f"phase, coil 0, {name}", fontsize=9)
for ax in axes.ravel():
    ax.axis("off")
fig.tight_layout()

# %%
# SENSE compressed sensing with each set of maps.
for name, smaps in maps.items():
    result = reconstruct_sense(kspace, mask, smaps=smaps, n_iter=N_ITER)
    print(f"SENSE-CS with {name:16s} maps: {psnr(sample.reference, result.image):.2f} dB")
plt.show()
