"""Run the ``bart`` binary on arrays in the core's conventions."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .cfl import read_cfl, write_cfl

__all__ = ["Bart", "BartError", "bart_available"]


class BartError(RuntimeError):
    """``bart`` is missing or a command failed (its message is included)."""


def bart_available():
    return shutil.which("bart") is not None


def _cartesian_kspace(kspace):
    kspace = np.asarray(kspace)
    if kspace.ndim != 3:
        raise ValueError(f"kspace must have shape (n_coils, ny, nx), received {kspace.shape}")
    return np.transpose(kspace, (1, 2, 0))[:, :, None, :]  # BART: (x, y, z, coil)


class Bart:
    """Calls ``bart`` through files in a private temporary folder (removed on exit)."""

    def __init__(self, binary=None):
        self.binary = binary or shutil.which("bart")
        if self.binary is None:
            raise BartError("the bart binary was not found (apt-get install bart)")

    def run(self, *args, folder):
        done = subprocess.run([self.binary, *map(str, args)], cwd=folder, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise BartError(f"bart {' '.join(map(str, args))} failed: {done.stderr.strip()}")
        return done.stdout

    def ecalib(self, kspace, *, n_maps=1):
        """ESPIRiT maps ``(n_coils, ny, nx)`` from Cartesian k-space ``(n_coils, ny, nx)``, or
        ``(n_maps, n_coils, ny, nx)`` when ``n_maps > 1`` (as
        :func:`pysap_mri_dl.calibration.espirit`)."""
        n_coils = np.shape(kspace)[0]
        with tempfile.TemporaryDirectory(prefix="pysap-bart-") as folder:
            write_cfl(Path(folder) / "ksp", _cartesian_kspace(kspace))
            self.run("ecalib", f"-m{n_maps}", "ksp", "sens", folder=folder)
            maps = read_cfl(Path(folder) / "sens")
        # BART: (x, y, z=1, coils, maps, 1, ...); ours: (maps, coils, x, y)
        maps = maps.reshape(maps.shape[:2] + (n_coils, n_maps), order="F")
        maps = np.ascontiguousarray(np.transpose(maps, (3, 2, 0, 1)))
        return maps[0] if n_maps == 1 else maps

    def pics(self, kspace, smaps, *, lam=0.001, n_iter=100, trajectory=None, shape=None,
             return_time=False):
        """``bart pics -l1 -r lam`` (wavelet l1): Cartesian k-space ``(coils, ny, nx)``, or
        non-Cartesian ``(coils, samples)`` with ``trajectory`` ``(samples, ndim)`` in cycles
        per pixel. Returns the complex image, or ``(image, seconds)`` with
        ``return_time``: BART's own reported solve time ("Total Time", without process
        start-up and file I/O)."""
        if not isinstance(lam, (int, float, np.number)) or not 0 <= lam < float("inf"):
            raise ValueError(f"pics: lam must be a finite number >= 0, received {lam!r}")
        if not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
            raise ValueError(f"pics: n_iter must be an integer >= 1, received {n_iter}")
        smaps = np.asarray(smaps)
        with tempfile.TemporaryDirectory(prefix="pysap-bart-") as folder:
            folder = Path(folder)
            args = ["pics", "-d4", "-S", "-l1", "-r", lam, "-i", n_iter]
            if trajectory is None:
                write_cfl(folder / "ksp", _cartesian_kspace(kspace))
                image_shape = np.shape(kspace)[1:]
            else:
                kspace = np.atleast_2d(kspace)
                image_shape = tuple(shape or smaps.shape[1:])
                traj = np.zeros((3, len(trajectory), 1))
                for d in range(np.shape(trajectory)[1]):
                    traj[d, :, 0] = np.asarray(trajectory)[:, d] * image_shape[d]
                write_cfl(folder / "traj", traj)
                write_cfl(folder / "ksp", kspace.T[None, :, None, :])
                args += ["-e", "-t", "traj"]
            dims = tuple(image_shape) + (1,) * (3 - len(image_shape)) + (smaps.shape[0],)
            write_cfl(folder / "sens", np.moveaxis(smaps, 0, -1).reshape(dims))
            report = self.run(*args, "ksp", "sens", "rec", folder=folder)
            image = read_cfl(folder / "rec").reshape(image_shape)
        if not return_time:
            return image
        found = re.search(r"Total Time:\s*([0-9.eE+-]+)", report)
        if found is None:
            raise BartError(f"bart pics reported no 'Total Time' (output: {report[-200:]!r})")
        return image, float(found.group(1))
