"""
Train a tiny PDNet on the CPU
=============================

A learned primal-dual network (PDNet) with 3 iterations and 8 filters, trained end to end
through the SENSE operator on acquisitions simulated from the bundled real brain slice
(random coil maps, phase, noise and masks for every step), by the same trainer as the
shipped networks (resumable, logged in ``log.csv``). Then it reconstructs a slice it has
not seen, next to the zero-filled image. The shipped networks train the same way on
Colin27 for longer (``pysap-mri-dl train``, :doc:`/unrolled`).
"""
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
from skimage.transform import resize

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.data.simulation import simulate_acquisition
from pysap_mri_dl.learn import reconstruct_network
from pysap_mri_dl.learn.data.acquisitions import AcquisitionConfig
from pysap_mri_dl.learn.training.reconstruction import ReconstructionConfig, train_reconstruction
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.sampling import random_column_mask

# 1,500 steps here; the tests' short runs keep 450, below which the gain of so small a
# network depends on the order of its floating-point sums (the CPU's thread count)
STEPS = max(450, 15 * int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100)))

# %%
# A small "volume": shifted 96x96 copies of the bundled slice, sliced along the last axis.
image = resize(load_sample("brain_slice_2d").reference, (96, 96), anti_aliasing=True)
volume = np.stack([np.roll(image, shift, axis=1) for shift in range(-12, 13, 2)], -1)
folder = Path(tempfile.mkdtemp())
nib.save(nib.Nifti1Image(volume.astype(np.float32), np.eye(4)), str(folder / "slices.nii.gz"))

config = ReconstructionConfig(
    model="pdnet", model_config=dict(n_iter=3, n_primal=2, n_dual=2, features=8, depth=3),
    acquisition=AcquisitionConfig(shape=(96, 96), coils=(2, 4), accelerations=(4,)),
    steps=STEPS, lr=5e-3, axis=2, train_slices=(0, 10), val_slices=(10, 13), n_val=2)
meta = train_reconstruction([folder / "slices.nii.gz"], folder / "run", config, progress=False)
print(f"{meta['steps']} steps in {meta['seconds']:.0f} s, {meta['parameters']} parameters")

# %%
# A new acquisition of an unseen shift of the slice: 3 coils, 4x.
acq = simulate_acquisition(np.roll(image, 5, axis=0), n_coils=3, noise=0.002, seed=7)
mask = random_column_mask((96, 96), acceleration=4, center_fraction=0.08, seed=3)
result = reconstruct_network(acq.kspace * mask, mask, model="pdnet",
                             weights=folder / "run" / "model.pt")
print(f"zero-filled {psnr(acq.reference, result.zero_filled):.2f} dB, "
      f"tiny PDNet {psnr(acq.reference, result.image):.2f} dB")

fig, axes = plt.subplots(1, 3, figsize=(9, 3.2))
for ax, (title, shown) in zip(axes, [("reference", acq.reference),
                                     ("zero-filled", result.zero_filled),
                                     ("tiny PDNet", np.abs(result.image))]):
    ax.imshow(shown, cmap="gray", vmax=acq.reference.max())
    ax.set_title(title)
    ax.axis("off")
fig.tight_layout()
plt.show()
