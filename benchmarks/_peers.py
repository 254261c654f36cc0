"""Helpers to run peer toolboxes (BART, SigPy) on the same data, in this process."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np


def write_cfl(stem, array):
    """BART's .cfl/.hdr pair (column-major complex64)."""
    array = np.asarray(array, dtype=np.complex64)
    Path(str(stem) + ".hdr").write_text("# Dimensions\n" + " ".join(map(str, array.shape)) + "\n")
    array.ravel(order="F").tofile(str(stem) + ".cfl")


def read_cfl(stem):
    dims = [int(d) for d in Path(str(stem) + ".hdr").read_text().splitlines()[1].split()]
    data = np.fromfile(str(stem) + ".cfl", dtype=np.complex64)
    return data.reshape(dims, order="F")


class Bart:
    """Runs ``bart`` on (coils, ny, nx) k-space through files in a temporary folder."""

    def __init__(self):
        self.binary = shutil.which("bart")
        self.folder = Path(tempfile.mkdtemp(prefix="bench-bart-"))

    @property
    def available(self):
        return self.binary is not None

    def run(self, *args):
        subprocess.run([self.binary, *map(str, args)], check=True, cwd=self.folder,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ecalib(self, kspace):
        write_cfl(self.folder / "ksp", np.transpose(kspace, (1, 2, 0))[:, :, None, :])
        self.run("ecalib", "-m1", "ksp", "sens")

    def pics_l1(self, kspace, lam, n_iter):
        write_cfl(self.folder / "ksp", np.transpose(kspace, (1, 2, 0))[:, :, None, :])
        start = time.perf_counter()
        self.run("pics", "-S", "-l1", "-r", lam, "-i", n_iter, "ksp", "sens", "rec")
        seconds = time.perf_counter() - start
        return read_cfl(self.folder / "rec").reshape(kspace.shape[1:]), seconds

    def pics_l1_noncartesian(self, kspace, trajectory, shape, lam, n_iter, smaps=None):
        """``bart pics -e -l1 -t`` on k-space ``([coils,] samples)`` and a trajectory in
        cycles per pixel (BART wants it in pixels, shape (3, samples, 1))."""
        kspace = np.atleast_2d(kspace)
        n_coils = kspace.shape[0]
        traj = np.zeros((3, trajectory.shape[0], 1))
        for d in range(trajectory.shape[1]):
            traj[d, :, 0] = trajectory[:, d] * shape[d]
        write_cfl(self.folder / "traj", traj)
        write_cfl(self.folder / "ksp", kspace.T[None, :, None, :])
        maps = np.ones((1,) + tuple(shape)) if smaps is None else smaps
        dims = tuple(shape) + (1,) * (3 - len(shape)) + (n_coils,)
        write_cfl(self.folder / "sens", np.moveaxis(maps, 0, -1).reshape(dims))
        start = time.perf_counter()
        self.run("pics", "-S", "-e", "-l1", "-r", lam, "-i", n_iter, "-t", "traj", "ksp", "sens",
                 "rec")
        seconds = time.perf_counter() - start
        return read_cfl(self.folder / "rec").reshape(shape), seconds

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def sigpy_l1_wavelet(kspace, mask, smaps, lam, n_iter, wavelet="sym8"):
    import sigpy.mri.app as app
    start = time.perf_counter()
    image = app.L1WaveletRecon(kspace, smaps, lam, weights=mask.astype(np.float32),
                               wave_name=wavelet, max_iter=n_iter, show_pbar=False).run()
    return np.asarray(image), time.perf_counter() - start
