"""Real k-space for training: fastMRI-style HDF5 files in a folder (single- or multi-coil
``kspace`` ``(slices, [coils,] ky, kx)``, optional ``reconstruction_rss``), undersampled
retrospectively with a fresh mask per example."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...sampling import cartesian_mask
from .acquisitions import Example

__all__ = ["FastMRISlices"]


class FastMRISlices:
    """Every slice of every ``*.h5`` file of ``folder`` (sorted), as training examples."""

    def __init__(self, folder):
        import h5py
        folder = Path(folder)
        if not folder.is_dir():
            raise ValueError(f"--fastmri {folder}: not a folder")
        self.items = []
        for path in sorted(folder.glob("*.h5")):
            try:
                with h5py.File(path, "r") as handle:
                    count = handle["kspace"].shape[0]
                    mask = handle["mask"][()] if "mask" in handle else None
            except (OSError, KeyError) as exc:
                raise ValueError(f"{path}: not a fastMRI file with a 'kspace' dataset "
                                 f"({exc})") from None
            if mask is not None and not np.all(mask):
                raise ValueError(f"{path}: holds an undersampling 'mask'; training needs "
                                 f"fully sampled k-space (the reference is built from it)")
            self.items += [(path, index) for index in range(count)]
        if not self.items:
            raise ValueError(f"--fastmri {folder}: no .h5 file with slices")

    def __len__(self):
        return len(self.items)

    def split(self, count):
        """``(training, held out)``: the last ``count`` slices of the sorted folder (at most
        a fifth of them, at least one) held out for validation; a folder of one slice
        validates on the slice it trains on."""
        held = min(count, max(1, len(self.items) // 5))
        train, val = FastMRISlices.__new__(FastMRISlices), FastMRISlices.__new__(FastMRISlices)
        if len(self.items) == 1:
            train.items = val.items = list(self.items)
        else:
            train.items, val.items = self.items[:-held], self.items[-held:]
        return train, val

    def example(self, index, config, rng):
        """Slice ``index`` with a mask drawn from ``rng`` as ``config`` says (Cartesian)."""
        from ...data import read_acquisition
        from ...operators import ifftn_centered
        path, slice_index = self.items[index % len(self.items)]
        acq = read_acquisition(path, slice_index=slice_index)
        kspace = acq.kspace
        reference = acq.reference
        if reference is None:
            images = ifftn_centered(kspace, 2)
            reference = (np.sqrt((np.abs(images) ** 2).sum(0)) if kspace.ndim == 3
                         else np.abs(images)).astype(np.float32)
        acceleration = int(config.accelerations[int(rng.integers(len(config.accelerations)))])
        kind = config.mask_kinds[int(rng.integers(len(config.mask_kinds)))]
        mask = cartesian_mask(kind, kspace.shape[-2:], acceleration=acceleration,
                              center_fraction=config.center_fraction(acceleration), seed=rng)
        return Example((kspace * mask).astype(np.complex64), reference, kspace.shape[-2:],
                       mask=mask, meta={"file": path.name, "slice": slice_index,
                                        "acceleration": acceleration})
