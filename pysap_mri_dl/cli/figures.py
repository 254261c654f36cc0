"""The comparison figure written by the command line (reference | zero-filled | recon | error)."""
from __future__ import annotations

import numpy as np

__all__ = ["comparison_figure"]


def comparison_figure(path, recon, *, zero_filled, reference=None, metrics=None, title="",
                      baseline="zero-filled", std=None):
    """Save a PNG with the panels side by side (error = |recon - reference| x 5);
    ``baseline`` names the second panel (zero-filled, or gridding for non-Cartesian data);
    ``std`` (posterior sampling) adds the uncertainty map, on the error's scale."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    panels = []
    vmax = float(np.abs(reference).max()) if reference is not None else float(np.abs(recon).max())
    if reference is not None:
        panels.append(("reference", np.abs(reference), vmax))
    zf_label = baseline
    if metrics and metrics.get("zero_filled_psnr") is not None:
        zf_label += f"\n{metrics['zero_filled_psnr']:.2f} dB"
    panels.append((zf_label, np.abs(zero_filled), vmax))
    rec_label = "reconstruction"
    if metrics and metrics.get("psnr") is not None:
        rec_label += f"\n{metrics['psnr']:.2f} dB, SSIM {metrics['ssim']:.3f}"
    panels.append((rec_label, np.abs(recon), vmax))
    if reference is not None:
        panels.append(("|error| x 5", 5 * np.abs(np.abs(recon) - np.abs(reference)), vmax))
    if std is not None:
        label = "posterior std x 5"
        if metrics and metrics.get("coverage_90") is not None:
            label += f"\n90% coverage {metrics['coverage_90']:.2f}"
        panels.append((label, 5 * np.asarray(std), vmax))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, image, top) in zip(axes[0], panels):
        ax.imshow(image, cmap="gray", vmin=0, vmax=top)
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.9) if title else None)
    fig.savefig(path, dpi=100)
    plt.close(fig)
