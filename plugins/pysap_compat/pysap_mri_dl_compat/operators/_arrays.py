"""Input conversion shared by the mirrored operators: pysap-mri scripts pass NumPy arrays,
``pysap.Image`` objects (``.data``) or, here, torch tensors."""
import numpy as np


def as_array(x):
    """``x`` itself for NumPy arrays and torch tensors, ``x.data`` for image containers."""
    if isinstance(x, np.ndarray) or type(x).__module__.startswith(("torch", "cupy")):
        return x
    if hasattr(x, "data") and isinstance(getattr(x, "data"), np.ndarray):
        return x.data
    return np.asarray(x)


def as_numpy(x):
    """A NumPy copy/view of any supported array."""
    x = as_array(x)
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return x.get()  # CuPy
