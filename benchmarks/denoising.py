"""Denoising on real slices not used for training: undecimated-wavelet soft thresholding
with the best threshold (oracle) against the shipped Learnlets (tied and untied, the untied
one also with the 8-fold geometric self-ensemble), DnCNN and U-Net, at several noise levels
(relative to the image maximum). One process; prints a PSNR table.

    python benchmarks/denoising.py [--sigmas 0.02 0.05 0.1] [--weights-dir DIR]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pysap_mri_dl.learn import PRETRAINED, denoise, load_denoiser, pretrained_path
from pysap_mri_dl.learn.denoisers.evaluation import evaluation_images, noisy_version, wavelet_denoise_best
from pysap_mri_dl.metrics import psnr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "images"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with learnlet.pt, learnlet_untied.pt, dncnn.pt, unet.pt "
                             "(default: the shipped weights)")
    args = parser.parse_args()
    models = {}
    for name, (_, filename) in PRETRAINED.items():
        path = (args.weights_dir / filename) if args.weights_dir else pretrained_path(name)
        try:
            models[name] = load_denoiser(path)[0]
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"({name}: {exc})")
    runs = {name: (model, 1) for name, model in models.items()}
    if "learnlet-untied" in models:
        runs["untied x8"] = (models["learnlet-untied"], 8)
    images = evaluation_images(SHARED if SHARED.is_dir() else None)
    header = f"{'image':24s} {'sigma':>6s} {'noisy':>7s} {'wavelet*':>9s} " + \
        " ".join(f"{n:>15s}" for n in runs)
    print(header)
    for sigma in args.sigmas:
        for index, (name, clean) in enumerate(images.items()):
            noisy = noisy_version(clean, sigma, seed=index)  # the noise the tests draw
            wave, _ = wavelet_denoise_best(noisy, clean, sigma)
            row = f"{name:24s} {sigma:6.3f} {psnr(clean, noisy):7.2f} {psnr(clean, wave):9.2f} "
            row += " ".join(f"{psnr(clean, denoise(m, noisy, sigma, ensemble=e)):15.2f}"
                            for m, e in runs.values())
            print(row, flush=True)
    print("wavelet* = undecimated sym8 soft thresholding with the best threshold per image; "
          "untied x8 = learnlet-untied averaged over 8 flips/transposes")


if __name__ == "__main__":
    main()
