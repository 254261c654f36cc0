"""
Training memory against depth: unrolled against deep equilibrium
================================================================

An unrolled network keeps the activations of every iteration for its backward pass, so
its training memory grows with its depth. A deep equilibrium model finds its fixed point
without gradients and differentiates through the fixed point itself: autograd keeps one
step's activations, however many iterations the forward solve takes. Both models here run
the same plug-and-play step (the shipped tied Learnlet after a gradient step on the data)
on a 128^2 four-coil acquisition simulated from the real T2 brain at 4x; the count is the
bytes autograd saves for the backward pass during one training forward
(:func:`~pysap_mri_dl.learn.deq.memory.saved_for_backward`, the same on any device).
``benchmarks/deq.py`` measures the same at more depths, with the time per step.
"""
import matplotlib.pyplot as plt
from skimage.transform import resize

from pysap_mri_dl.data import load_sample
from pysap_mri_dl.data.simulation import simulate_acquisition
from pysap_mri_dl.learn import load_denoiser, pretrained_path
from pysap_mri_dl.learn.deq.memory import saved_for_backward
from pysap_mri_dl.learn.unrolled.physics import cartesian_measurement
from pysap_mri_dl.learn.weights import build_model
from pysap_mri_dl.sampling import random_column_mask

image = resize(load_sample("brain_4coil").reference, (128, 128), anti_aliasing=True)
acquisition = simulate_acquisition(image / image.max(), n_coils=4, noise=0.002, seed=0)
mask = random_column_mask((128, 128), acceleration=4, center_fraction=0.08, seed=0)
m = cartesian_measurement(acquisition.kspace * mask, mask)
learnlet = load_denoiser(pretrained_path("learnlet"))[0].state_dict()


def saved_megabytes(name, **config):
    net = build_model(name, kind="reconstruction", **config)
    net.denoiser.load_state_dict(learnlet)
    net.train()
    with saved_for_backward() as saved:
        net(m)
    return saved["megabytes"], getattr(net, "info", {}).get("forward_iterations")


depths = (2, 4, 8, 16)
unrolled = [saved_megabytes("learnlet-unrolled", n_iter=n)[0] for n in depths]
deq = []
for n in depths:
    megabytes, iterations = saved_megabytes("deq", max_iter=n, tol=1e-12)
    deq.append(megabytes)
    print(f"depth {n:2d}: unrolled Learnlet {unrolled[len(deq) - 1]:7.1f} MB, "
          f"DEQ {megabytes:5.1f} MB ({iterations} forward iterations)")
print(f"unrolled growth 16 / 2 iterations: {unrolled[-1] / unrolled[0]:.2f}x; "
      f"DEQ growth: {deq[-1] / deq[0]:.2f}x")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(depths, unrolled, "o-", label="unrolled Learnlet")
ax.plot(depths, deq, "s-", label="DEQ (forward cap)")
ax.set_xlabel("iterations")
ax.set_ylabel("saved for backward (MB)")
ax.set_xticks(depths)
ax.legend()
fig.tight_layout()
plt.show()
