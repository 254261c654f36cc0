"""
The plug-and-play fixed point, found by root finders
====================================================

A deep equilibrium model outputs the fixed point ``z* = f(z*)`` of one step instead of a
fixed number of unrolled iterations. Here the step is the one of the DEQ model
(``--model deq``) before any training: a proximal-gradient step with the shipped tied
Learnlet as denoiser, on the real 4-coil T2 brain at 4x. Its fixed point is that of the
shipped plug-and-play reconstruction. Broyden's method, Anderson acceleration and plain
fixed-point iteration each get the same number of evaluations of the step, starting from
the same warm start (30 iterations of wavelet FISTA); the relative residual
``|z - f(z)| / |f(z)|`` shows how close each gets.
"""
import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.learn import load_denoiser, pretrained_path
from pysap_mri_dl.learn.deq import solve
from pysap_mri_dl.learn.deq.model import DEQLearnlet
from pysap_mri_dl.learn.unrolled.physics import cartesian_measurement
from pysap_mri_dl.metrics import psnr
from pysap_mri_dl.sampling import random_column_mask

EVALUATIONS = min(int(os.environ.get("PYSAP_MRI_DL_EXAMPLE_ITERS", 100)), 30)

brain = load_sample("brain_4coil")
mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
m = cartesian_measurement(brain.kspace * mask, mask)
deq = DEQLearnlet()  # its step: the shipped tied Learnlet, eta = 1, sigma = 0.0005
deq.denoiser.load_state_dict(load_denoiser(pretrained_path("learnlet"))[0].state_dict())
deq.eval()
with torch.no_grad():
    start = m.wavelet_reconstruction(30)[None]
    step = lambda z: deq.step(z, m)  # noqa: E731
    print(f"warm start (wavelet FISTA, 30 it.) {psnr(brain.reference, start[0].abs().numpy() * m.scale):.2f} dB")
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for solver in ("broyden", "anderson", "fixed-point"):
        solution = solve(step, start, solver, tol=1e-6, max_iter=EVALUATIONS)
        image = solution.z[0].abs().numpy() * m.scale
        print(f"{solver:12s} residual {solution.residual.item():.1e} after "
              f"{solution.iterations} evaluations, {psnr(brain.reference, image):.2f} dB")
        ax.semilogy(np.arange(1, len(solution.history) + 1), solution.history, label=solver)
ax.set_xlabel("evaluations of the step")
ax.set_ylabel("relative residual")
ax.legend()
fig.tight_layout()
plt.show()
