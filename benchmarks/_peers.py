"""Helpers to run peer toolboxes (BART through its plugin, SigPy) on the same data, and to
time them and us the same way."""
from __future__ import annotations

import time

import numpy as np


def bart_tools():
    """The BART plugin's runner, or None when the plugin or the ``bart`` binary is missing."""
    try:
        from pysap_mri_dl_bart import Bart, bart_available
    except ImportError:
        return None
    return Bart() if bart_available() else None


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def best_time(fn, repeats, *, sync=None, inner=1):
    """Seconds per call of ``fn``: the best of ``repeats`` timings of ``inner`` calls each,
    after one warm-up call (plans, kernels, caches); ``sync`` waits for a device."""
    sync = sync or (lambda: None)
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        sync()
        times.append((time.perf_counter() - start) / inner)
    return min(times)


def sigpy_l1_wavelet(kspace, mask, smaps, lam, n_iter, wavelet="sym8"):
    import sigpy.mri.app as app
    start = time.perf_counter()
    image = app.L1WaveletRecon(kspace, smaps, lam, weights=mask.astype(np.float32),
                               wave_name=wavelet, max_iter=n_iter, show_pbar=False).run()
    return np.asarray(image), time.perf_counter() - start
