"""Wavelet analysis operator (decimated or undecimated) on top of PyWavelets.

On NumPy arrays and CPU torch tensors the transform is computed by PyWavelets (tensors
through a ``torch.autograd.Function`` whose backward is the adjoint). The adjoint is
PyWavelets' inverse when that inverse *is* the adjoint (orthogonal wavelet with
periodization, or the normalised undecimated transform); otherwise, and for CuPy arrays and
CUDA tensors, the transform is applied as separable per-level filter matrices taken from
PyWavelets itself (dense products, fast on a GPU), so the coefficients match PyWavelets
exactly and the adjoint is the exact transpose, on any array kind and device, and
differentiable in torch.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pywt

from .._backend import array_kind, is_torch, outside_inference_mode, xp_of
from ._autograd import apply_external, numpy_external
from .base import LinearOperator, image_shape

__all__ = ["Wavelet", "Band", "check_wavelet"]


class _Circulant:
    """A circulant matrix ``M[i, k] = c[(k - i) mod n]`` stored as its non-zero
    ``(shift, coefficient)`` pairs: ``M x = sum_s c_s roll(x, -s)``."""

    def __init__(self, shifts):
        self.shifts = shifts

    @classmethod
    def of(cls, matrix):
        """The circulant form of ``matrix``, or ``matrix`` itself when it is not circulant."""
        row = matrix[0]
        shifts = [(int(s), float(row[s])) for s in np.flatnonzero(np.abs(row) > 1e-12)]
        n = matrix.shape[1]
        rebuilt = np.zeros_like(matrix)
        for shift, value in shifts:
            rebuilt[np.arange(n), (np.arange(n) + shift) % n] = value
        return cls(shifts) if np.allclose(rebuilt, matrix, atol=1e-12) else matrix

    def apply(self, x, axis, transpose):
        return sum(value * np.roll(x, shift if transpose else -shift, axis=axis)
                   for shift, value in self.shifts)


@dataclass(frozen=True)
class Band:
    """One band of the flattened coefficient vector."""

    name: str          # 'approx' or the pywt key such as 'ad', 'dd'
    level: int         # 1 = finest; levels = coarsest
    shape: tuple
    slice: slice


def check_wavelet(wavelet):
    """Return ``pywt.Wavelet(wavelet)`` (a ``pywt.Wavelet`` as it is) or raise a ValueError
    naming the argument."""
    if isinstance(wavelet, pywt.Wavelet):
        return wavelet
    if wavelet not in pywt.wavelist(kind="discrete"):
        raise ValueError(
            f"Wavelet: unknown wavelet {wavelet!r}; expected a discrete PyWavelets name "
            "such as 'haar', 'db4', 'sym8' (see pywt.wavelist(kind='discrete'))"
        )
    return pywt.Wavelet(wavelet)


class Wavelet(LinearOperator):
    """Multi-level wavelet transform over the last ``len(shape)`` axes.

    ``op`` maps images ``(*batch, *shape)`` to a flat coefficient vector
    ``(*batch, n_coeffs)``; ``bands`` describes each band's slice in that vector and
    ``band_index`` gives the band number of every coefficient (for per-band weights).

    Parameters
    ----------
    shape : tuple of int
        Spatial shape (1 to 3 axes).
    wavelet : str
        Any discrete PyWavelets name (``'sym8'``, ``'db4'``, ``'haar'``, ``'bior4.4'`` ...).
    levels : int
        Number of decomposition levels.
    mode : str
        PyWavelets boundary mode for the decimated transform (default ``'periodization'``,
        which with an orthogonal wavelet makes the transform orthonormal). With
        ``'periodization'`` and a size that ``2**levels`` does not divide, the image is
        zero-padded at its end to the next multiple of ``2**levels`` before the transform
        (``padded_shape``), so that the transform stays an isometry (``W^H W = I``): PyWavelets'
        own handling of odd sizes is not, and an analysis prior built on it diverged.
        ``pad=False`` keeps PyWavelets' layout instead (not an isometry on such sizes).
    undecimated : bool
        Stationary (undecimated, shift-invariant) transform, normalised so that for an
        orthogonal wavelet it is a Parseval tight frame (``W^H W = I``); needs each size to
        be divisible by ``2**levels``; the boundary is periodic.
    """

    def __init__(self, shape, *, wavelet="sym8", levels=4, mode="periodization",
                 undecimated=False, pad=True):
        shape = image_shape(shape, "Wavelet: shape", minimum=2)
        self.wavelet = check_wavelet(wavelet)
        if mode not in pywt.Modes.modes:
            raise ValueError(f"Wavelet: unknown mode {mode!r}; expected one of {pywt.Modes.modes}")
        levels = int(levels)
        if levels < 1:
            raise ValueError(f"Wavelet: levels must be >= 1, received {levels}")
        if undecimated and any(s % 2 ** levels for s in shape):
            raise ValueError(
                f"Wavelet: the undecimated transform with levels={levels} needs every size of "
                f"shape {shape} to be divisible by {2 ** levels}"
            )
        if not undecimated and min(shape) < 2 ** levels:
            raise ValueError(
                f"Wavelet: levels={levels} is too many for shape {shape}: the smallest size "
                f"must be at least 2**levels = {2 ** levels}"
            )
        self.shape, self.ndim, self.levels = shape, len(shape), levels
        self.mode = "periodization" if undecimated else mode
        self.undecimated = bool(undecimated)
        step = 2 ** levels
        self.padded_shape = (tuple(-(-s // step) * step for s in shape)
                             if self.mode == "periodization" and pad else shape)
        self.axes = tuple(range(-self.ndim, 0))
        self._keys = ["".join(k) for k in itertools.product("ad", repeat=self.ndim)][1:]
        self._matrices = self._build_matrices()
        self.bands = self._layout()
        n_coeffs = self.bands[-1].slice.stop
        super().__init__(shape, (n_coeffs,), dtype=np.complex64)
        self.band_index = np.concatenate(
            [np.full(b.slice.stop - b.slice.start, i, dtype=np.int32) for i, b in enumerate(self.bands)])
        self._inverse_is_adjoint = self.wavelet.orthogonal and (
            self.undecimated or (self.mode == "periodization" and self._even_levels()))
        self._cache = {}

    def lipschitz_bound(self):
        """1 when the transform is orthonormal or a Parseval frame (``W^H W = I``)."""
        return 1.0 if self._inverse_is_adjoint else None

    # ---- layout -------------------------------------------------------------------
    def _even_levels(self):
        for n in self.padded_shape:
            for _ in range(self.levels):
                if n % 2:
                    return False
                n //= 2
        return True

    def _layout(self):
        coeffs = self._pywt_forward(np.zeros(self.padded_shape, dtype=np.float32))
        bands, start = [], 0
        size = int(np.prod(coeffs[0].shape))
        bands.append(Band("approx", self.levels, tuple(coeffs[0].shape), slice(start, start + size)))
        start += size
        for i, detail in enumerate(coeffs[1:]):
            level = self.levels - i
            for key in self._keys:
                size = int(np.prod(detail[key].shape))
                bands.append(Band(key, level, tuple(detail[key].shape), slice(start, start + size)))
                start += size
        return bands

    @property
    def n_coeffs(self) -> int:
        return self.shape_out[0]

    def expand(self, per_band):
        """Broadcast one value per band (sequence of ``len(bands)``) to a per-coefficient array."""
        per_band = np.asarray(per_band, dtype=np.float32)
        if per_band.shape != (len(self.bands),):
            raise ValueError(
                f"Wavelet.expand: per_band must hold one value per band ({len(self.bands)}), "
                f"received shape {per_band.shape}"
            )
        return per_band[self.band_index]

    def detail_weights(self, value=1.0, *, approx=0.0):
        """Per-coefficient weights: ``value`` on detail bands, ``approx`` on the coarse band."""
        return self.expand([approx] + [value] * (len(self.bands) - 1))

    # ---- PyWavelets path -----------------------------------------------------------
    def _pywt_forward(self, x):
        with warnings.catch_warnings():  # deep levels only warn about boundary effects
            warnings.simplefilter("ignore", UserWarning)
            return self._pywt_forward_raw(x)

    def _pywt_forward_raw(self, x):
        if self.undecimated:
            return pywt.swtn(x, self.wavelet, level=self.levels, axes=self.axes,
                             trim_approx=True, norm=True)
        return pywt.wavedecn(x, self.wavelet, mode=self.mode, level=self.levels, axes=self.axes)

    def _pywt_inverse(self, coeffs):
        if self.undecimated:
            return pywt.iswtn(coeffs, self.wavelet, axes=self.axes, norm=True)
        return pywt.waverecn(coeffs, self.wavelet, mode=self.mode, axes=self.axes)

    def _flatten(self, coeffs, xp):
        parts = [coeffs[0]] + [d[k] for d in coeffs[1:] for k in self._keys]
        batch = tuple(parts[0].shape[: parts[0].ndim - self.ndim])
        parts = [p.reshape(batch + (-1,)) for p in parts]
        return xp.cat(parts, -1) if xp.__name__ == "torch" else xp.concatenate(parts, axis=-1)

    def _unflatten(self, flat):
        bands = iter(self.bands)
        batch = tuple(flat.shape[:-1])
        first = next(bands)
        coeffs = [flat[..., first.slice].reshape(batch + first.shape)]
        for _ in range(self.levels):
            coeffs.append({b.name: flat[..., b.slice].reshape(batch + b.shape)
                           for b in itertools.islice(bands, len(self._keys))})
        return coeffs

    # ---- matrix path (any array kind) -----------------------------------------------
    def _build_matrices(self):
        """Per axis, per level: (lo, hi) analysis matrices taken from PyWavelets."""
        matrices = []
        for n in self.padded_shape:
            per_level = []
            for level in range(self.levels):
                eye = np.eye(n)
                if self.undecimated:
                    with warnings.catch_warnings():  # a biorthogonal wavelet's frame is not
                        warnings.simplefilter("ignore", UserWarning)  # tight: no bound of 1
                        (lo, hi), = pywt.swt(eye, self.wavelet, level=1, start_level=level,
                                             axis=0, trim_approx=False, norm=True)
                else:
                    lo, hi = pywt.dwt(eye, self.wavelet, mode=self.mode, axis=0)
                    n = lo.shape[0]
                per_level.append((lo, hi))
            matrices.append(per_level)
        return matrices

    def _matrices_like(self, x):
        key = (array_kind(x), str(getattr(x, "device", "cpu")), str(x.dtype))
        if key not in self._cache:
            xp = xp_of(x)
            if is_torch(x):
                convert = lambda m: xp.as_tensor(m, dtype=x.dtype, device=x.device)  # noqa: E731
            else:
                convert = lambda m: xp.asarray(m, dtype=x.dtype)  # noqa: E731
            with outside_inference_mode(x):  # cached: must serve autograd later too
                self._cache[key] = [[(convert(lo), convert(hi)) for lo, hi in axis]
                                    for axis in self._matrices]
        return self._cache[key]

    def _circulants(self):
        """The undecimated transform's per-axis, per-level filter matrices as circulant
        shift lists (NumPy path): the same linear maps as PyWavelets' ``swtn``, applied by a
        few rolls instead of its slow inverse (which the adjoint of a Parseval frame is)."""
        if "circulant" not in self._cache:
            self._cache["circulant"] = [[(_Circulant.of(lo), _Circulant.of(hi))
                                         for lo, hi in axis] for axis in self._matrices]
        return self._cache["circulant"]

    @staticmethod
    def _apply(matrix, x, axis, transpose=False):
        if isinstance(matrix, _Circulant):
            return matrix.apply(x, axis, transpose)
        xp = xp_of(x)
        moved = xp.moveaxis(x, axis, -1)
        out = moved @ (matrix if transpose else matrix.T)
        return xp.moveaxis(out, -1, axis)

    def _matrix_forward(self, x, mats=None):
        mats = self._matrices_like(x) if mats is None else mats
        approx, details = x, []
        for level in range(self.levels):
            branches = {"": approx}
            for d, axis in enumerate(self.axes):
                lo, hi = mats[d][level]
                branches = {key + c: self._apply(m, b, axis)
                            for key, b in branches.items() for c, m in (("a", lo), ("d", hi))}
            approx = branches.pop("a" * self.ndim)
            details.append(branches)
        return [approx] + details[::-1]

    def _matrix_adjoint(self, coeffs, mats=None):
        mats = self._matrices_like(coeffs[0]) if mats is None else mats
        approx = coeffs[0]
        for i, detail in enumerate(coeffs[1:]):
            level = self.levels - 1 - i
            branches = dict(detail)
            branches["a" * self.ndim] = approx
            for d in reversed(range(self.ndim)):
                lo, hi = mats[d][level]
                axis = self.axes[d]
                merged = {}
                for key in {k[:d] for k in branches}:
                    merged[key] = (self._apply(lo, branches[key + "a"], axis, transpose=True)
                                   + self._apply(hi, branches[key + "d"], axis, transpose=True))
                branches = merged
            approx = branches[""]
        return approx

    # ---- operator hooks --------------------------------------------------------------
    def _pad(self, x):
        """Zero-pad the image axes of ``x`` at their end to ``padded_shape`` (any kind)."""
        if self.padded_shape == self.shape:
            return x
        extra = [p - s for p, s in zip(self.padded_shape, self.shape)]
        if is_torch(x):
            import torch.nn.functional as F
            widths = [w for e in reversed(extra) for w in (0, e)]
            return F.pad(x, widths)
        xp = xp_of(x)
        return xp.pad(x, [(0, 0)] * (x.ndim - self.ndim) + [(0, e) for e in extra])

    def _crop(self, x):
        """The image part of a ``padded_shape`` array (the adjoint of :meth:`_pad`)."""
        return x[(...,) + tuple(slice(0, s) for s in self.shape)]

    def _numpy_forward(self, x):
        return self._flatten(self._pywt_forward(self._pad(x)), np)

    def _numpy_adjoint(self, y):
        coeffs = self._unflatten(y)
        if self.undecimated:  # rolls: PyWavelets' iswtn is several times slower
            return self._matrix_adjoint(coeffs, self._circulants())
        if self._inverse_is_adjoint:
            return self._crop(self._pywt_inverse(coeffs))
        return self._crop(self._matrix_adjoint(coeffs))

    def _external(self, method, tensor):
        return numpy_external(self, method, tensor)

    @staticmethod
    def _on_cpu_tensor(x):
        return is_torch(x) and x.device.type == "cpu"

    def _op(self, x):
        if array_kind(x) == "numpy":
            return self._numpy_forward(x)
        if self._on_cpu_tensor(x):  # PyWavelets through autograd (backward = adjoint)
            return apply_external(self, "_numpy_forward", "_numpy_adjoint", x)
        return self._flatten(self._matrix_forward(self._pad(x)), xp_of(x))  # GPU: matrices

    def _adj_op(self, y):
        if array_kind(y) == "numpy":
            return self._numpy_adjoint(y)
        if self._on_cpu_tensor(y):
            return apply_external(self, "_numpy_adjoint", "_numpy_forward", y)
        return self._crop(self._matrix_adjoint(self._unflatten(y)))

    def __repr__(self):
        kind = "undecimated" if self.undecimated else "decimated"
        padded = "" if self.padded_shape == self.shape else f", padded to {self.padded_shape}"
        return (f"Wavelet(shape={self.shape}, wavelet={self.wavelet.name!r}, "
                f"levels={self.levels}, mode={self.mode!r}, {kind}{padded})")
