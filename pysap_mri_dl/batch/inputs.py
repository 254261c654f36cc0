"""What a batch reconstructs: the input files of a folder or glob pattern, their slices,
and which of them a previous run already finished."""
from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SUFFIXES", "Volume", "find_inputs", "volumes", "count_slices", "output_folder",
           "finished"]

SUFFIXES = (".h5", ".hdf5", ".npz")
"""Input formats, as ``pysap-mri-dl recon`` reads them."""


@dataclass(frozen=True)
class Volume:
    """One input file and the folder its results go to."""

    path: Path
    out: Path

    @property
    def name(self) -> str:
        return self.out.name


def find_inputs(source) -> list[Path]:
    """The input files of a folder (its ``.h5``/``.hdf5``/``.npz`` files) or of a glob
    pattern, sorted; a ValueError when there is none."""
    text = str(source)
    path = Path(text)
    if path.is_dir():
        files = [p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()]
    elif path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise ValueError(f"INPUT {text}: expected a .h5, .hdf5 or .npz file, a folder or a "
                             "glob pattern")
        files = [path]
    else:
        files = [Path(p) for p in glob.glob(text, recursive=True)]
        files = [p for p in files if p.is_file() and p.suffix.lower() in SUFFIXES]
    if not files:
        raise ValueError(f"INPUT {text}: no .h5, .hdf5 or .npz file found (give a folder, a "
                         "file or a glob pattern)")
    return sorted(files)


def output_folder(out, path) -> Path:
    """``out/<input name without its extension>``."""
    return Path(out) / Path(path).stem


def volumes(files, out) -> list[Volume]:
    """One :class:`Volume` per file; a ValueError when two inputs would share a folder."""
    seen = {}
    for path in files:
        folder = output_folder(out, path)
        if folder in seen:
            raise ValueError(f"INPUT: {seen[folder]} and {path} would both write to {folder}; "
                             "rename one of them")
        seen[folder] = path
    return [Volume(path, folder) for folder, path in seen.items()]


def count_slices(path) -> int:
    """Slices of an input: the first axis of a fastMRI file's ``kspace``, 1 for ``.npz``;
    a file the reader would refuse (not HDF5, no ``kspace``, wrong dimensions, no slice)
    raises the reader's DataError."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return 1
    from ..data.io import h5_kspace, open_h5
    with open_h5(path) as handle:
        return int(h5_kspace(handle, path).shape[0])


def finished(volume: Volume) -> bool:
    """A previous run finished this input: its ``metrics.json`` (written last) exists."""
    return (volume.out / "metrics.json").is_file()
