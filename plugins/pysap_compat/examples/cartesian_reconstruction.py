"""
Cartesian single-channel reconstruction (pysap-mri's gallery example)
=====================================================================

pysap-mri's script with only the ``mri.`` imports changed to ``pysap_mri_dl_compat.``; it
runs unchanged under pysap-mri itself. Data: the bundled brain slice (256 x 256) and a 4x
Cartesian column mask instead of pysap's downloaded samples. ``GALLERY_ALGORITHM`` picks
'fista' (default) or 'pogm' on the synthesis formulation, or 'condatvu' on the analysis one.
"""
import os
import time

import numpy as np
from modopt.opt.linear import Identity
from modopt.opt.proximity import SparseThreshold
from pysap_mri_dl.metrics import psnr

from mri.operators import FFT, WaveletN
from mri.operators.utils import convert_mask_to_locations
from mri.reconstructors import SingleChannelReconstructor

from _data import brain_slice_256, cartesian_mask

n_iter = int(os.environ.get("GALLERY_N_ITER", "50"))
algorithm = os.environ.get("GALLERY_ALGORITHM", "fista")
image = brain_slice_256()
mask = cartesian_mask(image.shape)

# Retrospective undersampling and the zero-filled baseline
kspace_loc = convert_mask_to_locations(mask)
fourier_op = FFT(samples=kspace_loc, shape=image.shape)
kspace_data = fourier_op.op(image)
zero_filled = fourier_op.adj_op(kspace_data)
base_psnr = psnr(image, zero_filled)

# A sym8 wavelet prior: synthesis formulation, or analysis for the primal-dual Condat-Vu
linear_op = WaveletN(wavelet_name="sym8", nb_scale=4)
regularizer_op = SparseThreshold(Identity(), 2e-3 * np.abs(image).max(), thresh_type="soft")
reconstructor = SingleChannelReconstructor(
    fourier_op=fourier_op,
    linear_op=linear_op,
    regularizer_op=regularizer_op,
    gradient_formulation="analysis" if algorithm == "condatvu" else "synthesis",
    verbose=0,
)
start = time.perf_counter()
x_final, costs, metrics = reconstructor.reconstruct(
    kspace_data=kspace_data,
    optimization_alg=algorithm,
    num_iterations=n_iter,
)
seconds_per_iteration = (time.perf_counter() - start) / n_iter
recon_psnr = psnr(image, x_final)
print(f"zero-filled PSNR {base_psnr:.2f} dB, {algorithm} PSNR {recon_psnr:.2f} dB, "
      f"{1e3 * seconds_per_iteration:.1f} ms per iteration")
