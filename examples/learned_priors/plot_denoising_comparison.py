"""
Denoising real slices: wavelets against Learnlets, DnCNN and U-Net
==================================================================

Three real brain slices that the shipped denoisers never saw (they were trained on the T1
Colin27 head only), with white Gaussian noise of standard deviation sigma (relative to the
image maximum). The baseline is undecimated sym8 soft thresholding with the best threshold
for each image (an oracle choice); the learned denoisers take sigma as an input. Two
Learnlets are shipped: ``learnlet`` (synthesis tied to the analysis: non-expansive, made for
plug-and-play) and ``learnlet-untied`` (free synthesis filters: the better pure denoiser).
"""
import matplotlib.pyplot as plt
import numpy as np

from pysap_mri_dl.learn import denoise, load_denoiser, pretrained_path
from pysap_mri_dl.learn.denoisers.evaluation import evaluation_images, wavelet_denoise_best
from pysap_mri_dl.metrics import psnr

models = {name: load_denoiser(pretrained_path(name))[0]
          for name in ("learnlet", "learnlet-untied", "dncnn", "unet")}
images = evaluation_images()
rng = np.random.default_rng(0)

# %%
# PSNR at two noise levels.
for sigma in (0.05, 0.1):
    for name, clean in images.items():
        noisy = clean + sigma * rng.standard_normal(clean.shape).astype(np.float32)
        scores = {"noisy": psnr(clean, noisy),
                  "wavelet (best)": psnr(clean, wavelet_denoise_best(noisy, clean, sigma)[0])}
        for model_name, model in models.items():
            scores[model_name] = psnr(clean, denoise(model, noisy, sigma))
        print(f"sigma {sigma:.2f}, {name:22s} " +
              ", ".join(f"{k} {v:.2f} dB" for k, v in scores.items()))

# %%
# The 4-coil T2 brain at sigma = 0.05.
clean = images["4-coil T2 brain (RSS)"]
noisy = clean + 0.05 * rng.standard_normal(clean.shape).astype(np.float32)
panels = {"noisy": noisy, "wavelet (best)": wavelet_denoise_best(noisy, clean, 0.05)[0]}
panels.update({name: denoise(model, noisy, 0.05) for name, model in models.items()})
fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.2))
for ax, (name, image) in zip(axes, panels.items()):
    ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{name}\n{psnr(clean, image):.2f} dB", fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
