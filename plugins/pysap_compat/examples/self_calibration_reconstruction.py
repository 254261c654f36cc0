"""
Self-calibrated multi-channel reconstruction (pysap-mri's gallery example)
==========================================================================

SENSE with maps estimated from the k-space centre; only the ``mri.`` imports differ from
the pysap-mri script. Data: the bundled 4-coil brain (256 x 256), 4x column mask.
"""
import os
import time

import numpy as np
from modopt.opt.linear import Identity
from modopt.opt.proximity import SparseThreshold
from pysap_mri_dl.metrics import psnr

from mri.operators import FFT, WaveletN
from mri.operators.utils import convert_mask_to_locations
from mri.reconstructors import SelfCalibrationReconstructor

from _data import brain_4coil, cartesian_mask

n_iter = int(os.environ.get("GALLERY_N_ITER", "50"))
coil_images, image = brain_4coil()
mask = cartesian_mask(image.shape)
kspace_loc = convert_mask_to_locations(mask)
fourier_op = FFT(samples=kspace_loc, shape=image.shape, n_coils=coil_images.shape[0])
kspace_obs = fourier_op.op(coil_images)
zero_filled = np.sqrt(np.sum(np.abs(fourier_op.adj_op(kspace_obs)) ** 2, axis=0))
base_psnr = psnr(image, zero_filled)

linear_op = WaveletN(wavelet_name="sym8", nb_scale=4)
regularizer_op = SparseThreshold(Identity(), 2e-3 * image.max(), thresh_type="soft")
reconstructor = SelfCalibrationReconstructor(
    fourier_op=fourier_op,
    linear_op=linear_op,
    regularizer_op=regularizer_op,
    gradient_formulation="synthesis",
    kspace_portion=0.04,
    verbose=0,
)
start = time.perf_counter()
x_final, costs, metrics = reconstructor.reconstruct(
    kspace_data=kspace_obs,
    optimization_alg="fista",
    num_iterations=n_iter,
)
seconds_per_iteration = (time.perf_counter() - start) / n_iter
recon_psnr = psnr(image, x_final)
print(f"zero-filled PSNR {base_psnr:.2f} dB, FISTA PSNR {recon_psnr:.2f} dB, "
      f"{1e3 * seconds_per_iteration:.1f} ms per iteration")
