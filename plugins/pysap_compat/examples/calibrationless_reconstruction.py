"""
Calibrationless reconstruction with group lasso (pysap-mri's gallery example)
=============================================================================

All coil images jointly, wavelet coefficients coupled across coils by a group lasso;
only the ``mri.`` imports differ from the pysap-mri script. Data: the bundled 4-coil brain.
"""
import os
import time

import numpy as np
from modopt.opt.proximity import GroupLASSO
from pysap_mri_dl.metrics import psnr

from mri.operators import FFT, WaveletN
from mri.operators.utils import convert_mask_to_locations
from mri.reconstructors import CalibrationlessReconstructor

from _data import brain_4coil, cartesian_mask

n_iter = int(os.environ.get("GALLERY_N_ITER", "50"))
coil_images, image = brain_4coil()
mask = cartesian_mask(image.shape)
kspace_loc = convert_mask_to_locations(mask)
n_coils = coil_images.shape[0]
fourier_op = FFT(samples=kspace_loc, shape=image.shape, n_coils=n_coils)
kspace_obs = fourier_op.op(coil_images)
zero_filled = np.sqrt(np.sum(np.abs(fourier_op.adj_op(kspace_obs)) ** 2, axis=0))
base_psnr = psnr(image, zero_filled)

linear_op = WaveletN(wavelet_name="sym8", nb_scale=4, n_coils=n_coils)
regularizer_op = GroupLASSO(weights=2e-3 * image.max())
reconstructor = CalibrationlessReconstructor(
    fourier_op=fourier_op,
    linear_op=linear_op,
    regularizer_op=regularizer_op,
    gradient_formulation="synthesis",
    verbose=0,
)
start = time.perf_counter()
x_final, costs, metrics = reconstructor.reconstruct(
    kspace_data=kspace_obs,
    optimization_alg="fista",
    num_iterations=n_iter,
)
seconds_per_iteration = (time.perf_counter() - start) / n_iter
recon_psnr = psnr(image, np.sqrt(np.sum(np.abs(x_final) ** 2, axis=0)))
print(f"zero-filled PSNR {base_psnr:.2f} dB, FISTA PSNR {recon_psnr:.2f} dB, "
      f"{1e3 * seconds_per_iteration:.1f} ms per iteration")
