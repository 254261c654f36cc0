"""
ISTA, FISTA, POGM and primal-dual on the same problem
=====================================================

One SENSE problem with an orthonormal wavelet prior (no cycle spinning, so the objective is
fixed), solved by the four algorithms. The objective is tracked after every iteration and
plotted against the best value reached, as in convergence studies of pysap-mri.
"""
import os

import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.calibration import self_calibrated_smaps
from pysap_mri_dl.data import load_sample
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.operators import SENSE, Wavelet
from pysap_mri_dl.optim import LeastSquares, fista, ista, pogm, primal_dual
from pysap_mri_dl.prox import Analysis, SoftThreshold
from pysap_mri_dl.recon import default_lambda
from pysap_mri_dl.sampling import random_column_mask

N_ITER = int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100))

sample = load_sample("brain_4coil")
mask = random_column_mask(sample.kspace.shape[1:], acceleration=4, center_fraction=0.08, seed=0)
kspace = sample.kspace * mask
sense = SENSE(self_calibrated_smaps(kspace, mask=mask), mask=mask)
data = LeastSquares(sense, kspace)
lam = default_lambda(sense.adj_op(kspace))
wavelet = Wavelet((256, 256), wavelet="sym8", levels=4)
coef_prox = SoftThreshold(lam * wavelet.detail_weights())
prox = Analysis(wavelet, coef_prox)

runs = {
    "ISTA": ista(data, prox, n_iter=N_ITER, track_cost=True),
    "FISTA": fista(data, prox, n_iter=N_ITER, track_cost=True),
    "POGM": pogm(data, prox, n_iter=N_ITER, track_cost=True),
    "primal-dual": primal_dual(data, coef_prox, wavelet, n_iter=N_ITER, track_cost=True),
}

# %%
# Objective minus the best value seen, on a log scale.
best = min(min(r.cost) for r in runs.values())
fig, (ax_cost, ax_psnr) = plt.subplots(1, 2, figsize=(11, 4))
for name, run in runs.items():
    ax_cost.semilogy(np.asarray(run.cost) - best + 1e-3 * abs(best), label=name)
    ax_psnr.bar(name, psnr(sample.reference, run.x))
    print(f"{name:12s} final objective {run.cost[-1]:.4e}, PSNR {psnr(sample.reference, run.x):.2f} dB, "
          f"{1000 * run.seconds / run.n_iter:.1f} ms/iteration")
ax_cost.set_xlabel("iteration")
ax_cost.set_ylabel("F(x) - F*")
ax_cost.legend()
ax_psnr.set_ylim(25, 35)
ax_psnr.set_ylabel("PSNR (dB)")
fig.tight_layout()
plt.show()
