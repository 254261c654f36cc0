"""
Raw scanner data: a 2-coil GRE from file to image
=================================================

Raw k-space of a Siemens 3T 2D gradient-echo acquisition of a resolution phantom (twixtools
example data, bundled): 160 phase-encoding lines, 2 coils, readout sampled twice as densely
as the image needs (320 columns for a 160-pixel field of view). The steps:

1. remove the readout oversampling (inverse FFT along the readout, keep the central half);
2. combine the coils: root sum of squares, adaptive (Walsh), ESPIRiT-weighted;
3. undersample retrospectively (2x) and reconstruct with GRAPPA and SENSE-CS.

The data are noisy, so the reference (the fully sampled RSS) is too: PSNR values are
limited by the noise, not by the reconstructions alone.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.operators import ifftn_centered
from pysap_mri_dl.calibration import (combine_coils, espirit, remove_readout_oversampling,
                                      self_calibrated_smaps)
from pysap_mri_dl.data import load_sample
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.recon import grappa, reconstruct_sense
from pysap_mri_dl.sampling import random_column_mask

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

raw = load_sample("gre_raw")
print(f"raw k-space {raw.kspace.shape} (coils, lines, columns)")
kspace = remove_readout_oversampling(raw.kspace, factor=2)
print(f"after removing the readout oversampling: {kspace.shape}")
coil_images = ifftn_centered(kspace, 2)

# %%
# Coil combinations of the fully sampled data.
combined = {
    "oversampled FOV (RSS)": combine_coils(ifftn_centered(raw.kspace, 2)),
    "RSS": combine_coils(coil_images),
    "adaptive (Walsh)": np.abs(combine_coils(coil_images, "adaptive")),
    "ESPIRiT-weighted": np.abs(combine_coils(coil_images, "smaps", smaps=espirit(kspace))),
}
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
for ax, (name, image) in zip(axes, combined.items()):
    ax.imshow(image, cmap="gray")
    ax.set_title(name, fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %%
# Retrospective 2x undersampling of the phase-encoding lines (the rows of this raw array,
# which is (coils, lines, readout)): every other line plus 24 central lines for GRAPPA,
# random lines for SENSE-CS (a column mask transposed). The data are noisy: the default
# lambda's noise floor (docs: regularisation) lifts the weight above the signal rule's,
# and against this noisy reference a 10x stronger prior than the rule's does better still.
# The reference is the noisy RSS image, whose background carries the noise bias of the RSS;
# the support constraint of the default maps would set that background to zero and be
# scored as an error, so the maps keep every pixel here (``support=0``).
lines = np.zeros(160, bool)
lines[::2] = True
lines[68:92] = True
line_mask = np.broadcast_to(lines[:, None], (160, 160))
filled = grappa(kspace * line_mask, line_mask, lamda=0.1)
mask = random_column_mask((160, 160), acceleration=2, center_fraction=0.15, seed=0).T
maps = self_calibrated_smaps(kspace * mask, mask=mask, support=0)
sense = reconstruct_sense(kspace * mask, mask, smaps=maps, n_iter=N_ITER, lam_factor=0.01)
reference = raw.reference
for name, image in (("GRAPPA, 2x lines", filled.image), ("SENSE-CS, 2x lines", sense.image),
                    ("zero-filled, 2x random lines", sense.zero_filled)):
    print(f"{name:26s} {psnr(reference, np.abs(image)):.2f} dB")
plt.show()
