"""Array-kind helpers: one operator, any array.

The kind of array an operator receives (NumPy, CuPy or PyTorch) decides the
functions used to compute on it; there is no global backend switch. Torch and
CuPy are imported lazily, only once such an array is seen, so that
``import pysap_mri_dl`` never imports them.
"""
from __future__ import annotations

import contextlib
import functools
import operator

import numpy as np

__all__ = [
    "array_kind", "is_torch", "is_cupy", "xp_of", "to_numpy", "same_kind", "check_same_kind",
    "is_complex", "all_finite", "vdot_real", "norm", "to_torch", "to_cupy",
]


def array_kind(x) -> str:
    """Return ``'numpy'``, ``'torch'`` or ``'cupy'`` for an array, without importing torch."""
    module = type(x).__module__
    if module.startswith("torch"):
        return "torch"
    if module.startswith("cupy"):
        return "cupy"
    if isinstance(x, (np.ndarray, np.generic)):
        return "numpy"
    raise TypeError(
        f"expected a numpy.ndarray, cupy.ndarray or torch.Tensor, received {type(x).__name__}"
    )


def is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def is_cupy(x) -> bool:
    return type(x).__module__.startswith("cupy")


def xp_of(x):
    """The namespace module that computes on ``x`` (numpy, cupy or torch)."""
    kind = array_kind(x)
    if kind == "numpy":
        return np
    if kind == "torch":
        import torch
        return torch
    import cupy
    return cupy


def _device_of(x):
    if is_torch(x):
        return str(x.device)
    if is_cupy(x):
        return f"cuda:{x.device.id}"
    return "cpu"


def check_same_kind(reference, other, *, name: str, reference_name: str = "input") -> None:
    """Raise a TypeError if ``other`` is not the same array kind and device as ``reference``."""
    kind_a, kind_b = array_kind(reference), array_kind(other)
    if kind_a != kind_b or _device_of(reference) != _device_of(other):
        raise TypeError(
            f"{name} is a {kind_b} array on {_device_of(other)} but {reference_name} is a "
            f"{kind_a} array on {_device_of(reference)}; convert one of them explicitly "
            "(pysap_mri_dl.to_numpy / to_torch)"
        )


def same_kind(array, like):
    """Return ``array`` (held by the operator, e.g. a mask) as the kind/device/dtype family of ``like``.

    Operator constants are stored as NumPy arrays and converted once per kind; the
    conversion is cached by the caller.
    """
    kind = array_kind(like)
    if kind == "numpy":
        return np.asarray(array)
    if kind == "torch":
        import torch
        if is_torch(array):
            return array.to(like.device)
        return torch.as_tensor(np.require(array, requirements=["C", "W"]), device=like.device)
    import cupy
    return cupy.asarray(array)


def to_numpy(x) -> np.ndarray:
    """Convert any supported array to NumPy (copies from GPU, detaches torch tensors)."""
    kind = array_kind(x)
    if kind == "numpy":
        return np.asarray(x)
    if kind == "torch":
        return x.detach().cpu().resolve_conj().numpy()
    return x.get()


def to_torch(x, *, device=None):
    """Convert to a torch tensor (shares memory with NumPy arrays; DLPack for CuPy, no copy
    unless ``device`` asks for another one)."""
    import torch
    if is_torch(x):
        return x if device is None else x.to(device)
    if is_cupy(x):
        return torch.from_dlpack(x) if device is None else torch.from_dlpack(x).to(device)
    return torch.as_tensor(np.asarray(x), device=device)


def to_cupy(x):
    """Convert to a CuPy array on the current GPU: CUDA torch tensors are shared through
    DLPack (no copy), NumPy arrays and CPU tensors are copied to the device."""
    try:
        import cupy
    except ImportError:
        raise ImportError("to_cupy needs CuPy (pip install cupy-cuda12x) and a CUDA GPU") from None
    if is_cupy(x):
        return x
    if is_torch(x):
        x = x.detach().resolve_conj()
        return cupy.from_dlpack(x) if x.is_cuda else cupy.asarray(x.numpy())
    return cupy.asarray(np.asarray(x))


def is_complex(x) -> bool:
    """True when ``x`` holds complex values (any array kind)."""
    if is_torch(x):
        return x.is_complex()
    return xp_of(x).iscomplexobj(x)


def all_finite(x) -> bool:
    """True when every entry of ``x`` is finite (no NaN or Inf), for any array kind."""
    if is_torch(x):
        import torch
        return bool(torch.isfinite(x).all())
    return bool(xp_of(x).isfinite(x).all())


def vdot_real(a, b):
    """Real part of <a, b> summed over all entries, as a Python float (no autograd)."""
    if is_torch(a):
        return float((a.conj() * b).real.sum().detach()) if a.is_complex() else float((a * b).sum().detach())
    xp = xp_of(a)
    return float(xp.real(xp.vdot(a.ravel(), b.ravel())))


def norm(x) -> float:
    """Euclidean norm of all entries as a Python float."""
    if is_torch(x):
        return float(x.detach().abs().pow(2).sum().sqrt())
    xp = xp_of(x)
    return float(xp.linalg.norm(x.ravel()))


def astype_like(x, like):
    """``x`` cast to ``like``'s dtype (any array kind)."""
    return x.to(like.dtype) if is_torch(x) else x.astype(like.dtype, copy=False)


def _fresh(numpy_op, operation, x, y):
    """``operation(x, y)`` where ``x`` is a temporary the caller owns: in place for NumPy
    when the result has ``x``'s dtype and shape (saves an allocation and a pass over
    memory), out of place otherwise and for torch (autograd may need ``x``) and CuPy."""
    if (isinstance(x, np.ndarray) and x.flags.writeable and np.result_type(x, y) == x.dtype
            and np.broadcast_shapes(x.shape, np.shape(y)) == x.shape):
        return numpy_op(x, y, out=x)
    return operation(x, y)


def multiply_fresh(x, factor):
    """``x * factor``, in place when ``x`` is a NumPy temporary (see ``_fresh``)."""
    return _fresh(np.multiply, operator.mul, x, factor)


def add_fresh(x, y):
    """``x + y``, in place when ``x`` is a NumPy temporary (see ``_fresh``)."""
    return _fresh(np.add, operator.add, x, y)


def subtract_fresh(x, y):
    """``x - y``, in place when ``x`` is a NumPy temporary (see ``_fresh``)."""
    return _fresh(np.subtract, operator.sub, x, y)


def relu(x):
    """max(x, 0) in x's namespace."""
    if is_torch(x):
        import torch
        return torch.relu(x)
    return xp_of(x).maximum(x, 0)


def clamp_min(x, value):
    """max(x, value) elementwise, value a Python scalar."""
    if is_torch(x):
        return x.clamp_min(value)
    return xp_of(x).maximum(x, value)


def outside_inference_mode(x):
    """A context in which tensors made from ``x`` are ordinary tensors, even when the
    caller runs under ``torch.inference_mode()``: what goes into a cache must stay usable by
    later autograd passes. A no-op for other kinds."""
    if is_torch(x):
        import torch
        return torch.inference_mode(False)
    return contextlib.nullcontext()


class KindCache:
    """Converts constant NumPy arrays (weights, masks) once per array kind and device."""

    def __init__(self):
        self._store = {}

    def get(self, name, array, like):
        if array_kind(array) != "numpy":
            return array
        key = (name, array_kind(like), str(getattr(like, "device", "cpu")))
        if key not in self._store:
            with outside_inference_mode(like):
                self._store[key] = same_kind(array, like)
        return self._store[key]


def computed_on_numpy(function):
    """Run a NumPy-only ``function`` on NumPy copies of its array arguments and return its
    array result in the kind and on the device of the first argument (calibration code:
    CuPy arrays and torch tensors in, the same kind out)."""
    @functools.wraps(function)
    def wrapper(first, *args, **kwargs):
        kind = array_kind(first) if hasattr(first, "shape") else "numpy"
        if kind == "numpy":
            return function(first, *args, **kwargs)
        convert = lambda v: to_numpy(v) if hasattr(v, "shape") else v  # noqa: E731
        out = function(to_numpy(first), *map(convert, args),
                       **{k: convert(v) for k, v in kwargs.items()})
        return same_kind(out, first)
    return wrapper
