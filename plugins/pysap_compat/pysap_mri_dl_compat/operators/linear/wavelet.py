"""pysap-mri's wavelet operators on :class:`pysap_mri_dl.operators.Wavelet`.

``WaveletN`` reproduces pysap's PyWavelets-backed transforms (``pysap.load_transform`` of
a PyWavelets name): ``pywt.wavedecn`` with ``level=nb_scale`` and ``padding_mode``
(default ``'zero'``), the coefficients flattened as pysap does (coarse band, then each
level from coarse to fine, bands in PyWavelets' key order), per coil for ``n_coils > 1``.
Its ``adj_op`` is PyWavelets' inverse, as pysap's: the exact adjoint for orthogonal
wavelets with ``'zero'`` padding, or ``'periodization'`` at sizes ``2**nb_scale`` divides,
the inverse otherwise (biorthogonal wavelets, ``'symmetric'``, ``'reflect'``, ...), so that
results agree with pysap-mri's.
"""
import numpy as np
import pywt

from pysap_mri_dl._backend import array_kind, same_kind, to_numpy
from pysap_mri_dl.operators import Wavelet
from pysap_mri_dl.operators._autograd import apply_external

from ...errors import UnsupportedOptionError, reject_unknown
from .._arrays import as_array

__all__ = ["WaveletN", "WaveletUD2", "pywavelets_name"]


class _LazyWavelet:
    """Builds the engine's ``Wavelet`` for the spatial shape of the first input (pysap-mri's
    operators learn it the same way) and applies it over the coil axis."""

    n_coils = 1

    def _make(self, shape):  # pragma: no cover - abstract
        raise NotImplementedError

    def engine(self, shape):
        """The :class:`pysap_mri_dl.operators.Wavelet` for images of spatial ``shape``."""
        shape = tuple(int(s) for s in shape)
        if self._engine is None or self._engine.shape != shape:
            self._engine = self._make(shape)
            band_shapes = [b.shape for b in self._engine.bands]
            self.coeffs_shape = (band_shapes if self.n_coils == 1
                                 else tuple(band_shapes for _ in range(self.n_coils)))
        return self._engine

    def _spatial(self, data):
        lead = 1 if self.n_coils > 1 else 0
        if self.n_coils > 1 and data.shape[0] != self.n_coils:
            raise ValueError(f"{type(self).__name__}: data must have shape (n_coils="
                             f"{self.n_coils}, ...), received {tuple(data.shape)}")
        return tuple(data.shape[lead:])

    def op(self, data):
        """Flattened coefficients ``([n_coils,] n_coeffs)`` of ``data``."""
        data = as_array(data)
        if not (np.iscomplexobj(data) if isinstance(data, np.ndarray) else data.is_complex()):
            data = data.astype(np.complex64) if isinstance(data, np.ndarray) else data.to(
                __import__("torch").complex64)
        return self.engine(self._spatial(data)).op(data)

    def adj_op(self, coeffs):
        """Back to the image: the adjoint of :meth:`op` for the tight frames, PyWavelets'
        inverse for ``WaveletN`` (as pysap's; run :meth:`op` once first, as in pysap-mri)."""
        if self._engine is None:
            raise RuntimeError(f"{type(self).__name__}: call op once before adj_op (the image "
                               "shape is learnt from the data)")
        return self._engine.adj_op(as_array(coeffs))

    def l2norm(self, shape):
        """``||op(delta)||`` for a centred Dirac of ``shape`` (its image axes rounded up to
        even sizes, as pysap's; a leading coil axis is kept, the Dirac in one coil)."""
        shape = np.asarray(shape)
        lead = 1 if self.n_coils > 1 and len(shape) > 1 else 0
        spatial = shape[lead:] + shape[lead:] % 2
        dirac = np.zeros(tuple(shape[:lead]) + tuple(spatial), dtype=np.complex64)
        dirac[(0,) * lead + tuple(spatial // 2)] = 1
        return float(np.linalg.norm(self.op(dirac)))


class _PysapWavelet(Wavelet):
    """The engine's ``Wavelet`` in pysap's layout (no padding to 2**levels), whose adjoint
    is PyWavelets' inverse, as pysap's ``adj_op``, on every array kind. That is the exact
    adjoint (``exact_adjoint``, then ``lipschitz_bound`` 1) for orthogonal wavelets with
    'zero' padding, or 'periodization' at sizes 2**levels divides (checked by a dot-product
    test); otherwise (biorthogonal wavelets, 'symmetric', 'reflect', ... padding) it is the
    inverse, which is what pysap-mri's iterations use (tested against pysap-mri), and
    gradients through ``op`` on tensors follow it, not the exact adjoint."""

    def __init__(self, shape, **options):
        super().__init__(shape, pad=False, **options)  # pysap's layout at every size
        exact = self._inverse_is_adjoint
        if not exact and self.wavelet.orthogonal and self.mode in ("zero", "periodization"):
            rng = np.random.default_rng(0)
            coeffs = rng.standard_normal(self.shape_out).astype(np.complex64)
            error = np.linalg.norm(self._matrix_adjoint(self._unflatten(coeffs))
                                   - self._numpy_adjoint(coeffs))
            exact = bool(error < 1e-5 * np.linalg.norm(self._numpy_adjoint(coeffs)))
        self.exact_adjoint = self._inverse_is_adjoint = exact

    def _numpy_adjoint(self, y):
        return self._crop(self._pywt_inverse(self._unflatten(y)))

    def _adj_op(self, y):
        kind = array_kind(y)
        if kind == "numpy":
            return self._numpy_adjoint(y)
        if kind == "torch":  # on the host, through autograd
            return apply_external(self, "_numpy_adjoint", "_numpy_forward", y)
        return same_kind(self._numpy_adjoint(to_numpy(y)), y)  # CuPy: on the host


def pywavelets_name(name):
    """PyWavelets' name of a wavelet as pysap names it: its biorthogonal and reverse
    biorthogonal families drop the dot (``'bior44'`` is ``'bior4.4'``); PyWavelets' own
    names are accepted too."""
    for family in ("rbio", "bior"):
        rest = str(name)[len(family):]
        if str(name).startswith(family) and len(rest) == 2 and rest.isdigit():
            return f"{family}{rest[0]}.{rest[1]}"
    return name


class WaveletN(_LazyWavelet):
    """``WaveletN(wavelet_name, nb_scale=4, verbose=0, dim=2, n_coils=1, n_jobs=1,
    backend='threading', padding_mode='zero')`` for any discrete PyWavelets name, under
    pysap's name (``'bior44'``) or PyWavelets' (``'bior4.4'``).

    ``n_jobs``, ``backend`` and ``verbose`` only tune pysap-mri's joblib loop over coils
    (here the coils are one batched transform); they are accepted and have no effect.
    ISAP (Sparse2D) transforms and ``is_decimated=False`` raise UnsupportedOptionError.
    """

    def __init__(self, wavelet_name, nb_scale=4, verbose=0, dim=2, n_coils=1, n_jobs=1,
                 backend="threading", **kwargs):
        self.padding_mode = kwargs.pop("padding_mode", "zero")
        if not kwargs.pop("is_decimated", True):
            raise UnsupportedOptionError("WaveletN", "is_decimated=False",
                                         hint="use WaveletUD2 for an undecimated transform")
        if kwargs.pop("axes", None) is not None:
            raise UnsupportedOptionError("WaveletN", "axes", hint="the transform runs over "
                                         "the last `dim` axes")
        reject_unknown("WaveletN", kwargs)
        wavelet_name = pywavelets_name(wavelet_name)
        if wavelet_name not in pywt.wavelist(kind="discrete"):
            raise UnsupportedOptionError(
                "WaveletN", f"wavelet_name={wavelet_name!r}",
                supported="discrete PyWavelets names (pywt.wavelist(kind='discrete'))",
                hint="ISAP/Sparse2D transforms are not available")
        if self.padding_mode not in pywt.Modes.modes:
            raise ValueError(f"WaveletN: padding_mode must be one of {pywt.Modes.modes}, "
                             f"received {self.padding_mode!r}")
        self.wavelet_name, self.nb_scale, self.dim = wavelet_name, int(nb_scale), int(dim)
        self.n_coils, self.n_jobs, self.backend, self.verbose = (int(n_coils), n_jobs,
                                                                 backend, verbose)
        self._engine, self.coeffs_shape = None, None

    def _make(self, shape):
        if len(shape) != self.dim:
            raise ValueError(f"WaveletN: dim={self.dim} but the data has spatial shape {shape}")
        return _PysapWavelet(shape, wavelet=self.wavelet_name, levels=self.nb_scale,
                                  mode=self.padding_mode)


class WaveletUD2(_LazyWavelet):
    """pysap-mri's undecimated wavelet ``WaveletUD2(wavelet_id=24, nb_scale=4, n_jobs=1,
    backend='threading', n_coils=1, verbose=0)``: ISAP's transform 24 (undecimated
    bi-orthogonal 7/9) is computed here as the stationary PyWavelets transform with
    'bior4.4' (the 7/9 filters), ``nb_scale - 1`` detail levels plus the coarse band
    (ISAP counts the coarse band as a scale), normalised as in
    :class:`pysap_mri_dl.operators.Wavelet`. Its coefficient layout and scaling are not
    ISAP's (pysap-mri needs the Sparse2D binaries for this transform)."""

    def __init__(self, wavelet_id=24, nb_scale=4, n_jobs=1, backend="threading", n_coils=1,
                 verbose=0):
        if wavelet_id != 24:
            raise UnsupportedOptionError("WaveletUD2", f"wavelet_id={wavelet_id!r}",
                                         supported="24 (undecimated bi-orthogonal 7/9)")
        if int(nb_scale) < 2:
            raise ValueError(f"WaveletUD2: nb_scale must be >= 2, received {nb_scale}")
        self.wavelet_id, self.nb_scale = wavelet_id, int(nb_scale)
        self.n_coils, self.n_jobs, self.backend, self.verbose = (int(n_coils), n_jobs,
                                                                 backend, verbose)
        self._engine, self.coeffs_shape = None, None

    def _make(self, shape):
        return Wavelet(shape, wavelet="bior4.4", levels=self.nb_scale - 1, undecimated=True)
