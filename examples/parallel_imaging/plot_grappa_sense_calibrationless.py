"""
GRAPPA, SENSE-CS and calibrationless reconstruction on the same data
====================================================================

The real 4-coil brain with every third column plus 24 central columns (R about 2.6). Four
reconstructions of the same k-space:

* GRAPPA (5x5 kernel), which fills the missing k-space from the calibration region;
* SENSE compressed sensing with ESPIRiT maps (the default Haar wavelets, FISTA);
* calibrationless group lasso and OWL across coils (no maps at all).

The table prints PSNR/SSIM against the fully sampled RSS and the time each took.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.calibration import espirit
from pysap_mri_dl.data import load_sample
from pysap_mri_dl.metrics import psnr, ssim
from pysap_mri_dl.recon import (grappa, reconstruct_calibrationless, reconstruct_sense,
                                zero_filled)

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

sample = load_sample("brain_4coil")
columns = np.zeros(256, bool)
columns[::3] = True
columns[116:140] = True
mask = np.broadcast_to(columns[None, :], (256, 256))
kspace = sample.kspace * mask

results = {"zero-filled": (zero_filled(kspace), 0.0)}
filled = grappa(kspace, mask, kernel=(5, 5))
results["GRAPPA 5x5"] = (filled.image, filled.seconds)
sense = reconstruct_sense(kspace, mask, smaps=espirit(kspace, mask=mask), n_iter=N_ITER)
results["SENSE-CS (ESPIRiT)"] = (np.abs(sense.image), sense.seconds)
for coupling in ("group-lasso", "owl"):
    joint = reconstruct_calibrationless(kspace, mask, coupling=coupling, n_iter=N_ITER)
    results[f"calibrationless {coupling}"] = (joint.image, joint.seconds)

# %%
# The table.
print(f"{'method':28s} {'PSNR':>8s} {'SSIM':>6s} {'seconds':>8s}")
for name, (image, seconds) in results.items():
    print(f"{name:28s} {psnr(sample.reference, image):5.2f} dB {ssim(sample.reference, image):6.3f} "
          f"{seconds:8.2f}")

# %%
# The images (error x5 below each).
fig, axes = plt.subplots(2, len(results), figsize=(3 * len(results), 6))
top = sample.reference.max()
for col, (name, (image, _)) in enumerate(results.items()):
    axes[0, col].imshow(image, cmap="gray", vmin=0, vmax=top)
    axes[0, col].set_title(name, fontsize=9)
    axes[1, col].imshow(5 * np.abs(image - sample.reference), cmap="gray", vmin=0, vmax=top)
for ax in axes.ravel():
    ax.axis("off")
fig.tight_layout()
plt.show()
