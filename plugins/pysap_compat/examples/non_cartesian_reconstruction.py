"""
Non-Cartesian single-channel reconstruction, radial and spiral (pysap-mri's gallery)
===================================================================================

NUFFT (mri-nufft's conventions: locations in [-0.5, 0.5), sums divided by
sqrt(N 2^d)) and FISTA on wavelet coefficients; only the ``mri.`` imports differ from the
pysap-mri script. ``GALLERY_TRAJECTORY`` chooses 'radial' (64 spokes) or 'spiral'
(16 interleaves). Data: the bundled brain slice, 256 x 256.
"""
import os
import time

import numpy as np
from modopt.opt.linear import Identity
from modopt.opt.proximity import SparseThreshold
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.sampling import radial, spiral

from mri.operators import NonCartesianFFT, WaveletN
from mri.operators.utils import gridded_inverse_fourier_transform_nd
from mri.reconstructors import SingleChannelReconstructor

from _data import brain_slice_256

n_iter = int(os.environ.get("GALLERY_N_ITER", "50"))
trajectory = os.environ.get("GALLERY_TRAJECTORY", "radial")
image = brain_slice_256()
if trajectory == "radial":
    kspace_loc = radial(64, 256)
else:
    kspace_loc = spiral(16, 2048)

fourier_op = NonCartesianFFT(samples=kspace_loc, shape=image.shape,
                             implementation="finufft")
kspace_obs = fourier_op.op(image)

# Gridded baseline (linear interpolation onto the Cartesian grid)
grid_space = np.linspace(-0.5, 0.5, num=image.shape[0], endpoint=False)
grid2D = np.meshgrid(grid_space, grid_space)
grid_soln = gridded_inverse_fourier_transform_nd(kspace_loc, kspace_obs, tuple(grid2D),
                                                 "linear")
base_psnr = psnr(image, grid_soln / np.abs(grid_soln).max() * np.abs(image).max())

linear_op = WaveletN(wavelet_name="sym8", nb_scale=4)
regularizer_op = SparseThreshold(Identity(), 1e-3 * np.abs(image).max(), thresh_type="soft")
reconstructor = SingleChannelReconstructor(
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
# mri-nufft's normalisation (1/sqrt(N 2^d)) scales the image by 2 = sqrt(2^2) here
recon_psnr = psnr(image, x_final)
print(f"gridding PSNR {base_psnr:.2f} dB, FISTA PSNR {recon_psnr:.2f} dB, "
      f"{1e3 * seconds_per_iteration:.1f} ms per iteration")
