"""Process-wide settings that make the CPU paths faster: glibc's memory allocator.

Reconstructions allocate and free the same large temporaries at every iteration (a Learnlet
prox makes two 17 MB arrays per band on a 256^2 complex image). With glibc's default
settings, freed memory at the top of the heap is handed back to the system as soon as it
exceeds the (adaptive) trim threshold, and arrays above the (adaptive) ``mmap`` threshold
are mapped afresh every time, so each iteration pays page faults to get its memory back.
:func:`retain_freed_memory` keeps freed memory in the process up to a bound, so the next
iteration reuses it: a plug-and-play iteration with the tied Learnlet on the 4-coil T2
brain runs faster (``benchmarks/plug_and_play.py`` prints both figures; docs/learned_priors.rst).

The command line (``pysap-mri-dl``) calls it at start; a script calls it once before its
work. It is a no-op off glibc, and when the environment already sets glibc's own
variables (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``,
``MALLOC_MMAP_MAX_``): the user's choice stands.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["retain_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                    "MALLOC_MMAP_MAX_")
MiB = 2 ** 20
_C_INT_MAX = 2 ** 31 - 1


def retain_freed_memory(*, mmap_threshold=32 * MiB, trim_threshold=512 * MiB):
    """Ask glibc to serve allocations below ``mmap_threshold`` bytes from its heap (32 MiB,
    glibc's largest) and to keep up to ``trim_threshold`` bytes of freed memory (512 MiB)
    for reuse instead of returning it to the system at once. Returns ``True`` when the
    settings were applied, ``False`` off glibc or when the environment sets glibc's own
    variables (module docstring). Memory freed above the bound still goes back."""
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive number of bytes, received {value!r}")
        if value > _C_INT_MAX:
            raise ValueError(f"{name} must be at most {_C_INT_MAX} bytes (mallopt takes a C "
                             f"int), received {value}")
    if mmap_threshold > 32 * MiB:
        raise ValueError(f"mmap_threshold must be at most {32 * MiB} bytes (glibc's largest), "
                         f"received {mmap_threshold}")
    if any(name in os.environ for name in _GLIBC_VARIABLES):
        return False
    mallopt = _mallopt()
    if mallopt is None:
        return False
    # trim threshold first: setting either switches off glibc's adaptive thresholds
    return bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold) and
                mallopt(_M_MMAP_THRESHOLD, mmap_threshold))


def _mallopt():
    """glibc's ``mallopt`` or ``None`` (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        if not hasattr(libc, "gnu_get_libc_version"):
            return None
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
