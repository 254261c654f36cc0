"""pysap-mri's ``mri.reconstructors.utils.extract_sensitivity_maps``: sensitivity maps from the k-space centre."""
import numpy as np

from pysap_mri_dl.operators import ifftn_centered

from ...errors import UnsupportedOptionError
from ...operators.fourier.utils import convert_locations_to_mask, gridded_inverse_fourier_transform_nd

__all__ = ["get_Smaps", "extract_k_space_center_and_locations", "SMAPS_MODES"]

SMAPS_MODES = ("gridding", "NFFT", "FFT")
_WINDOWS = {"Hann": 0.5, "Hanning": 0.5, "Hamming": 0.53836}


def extract_k_space_center_and_locations(data_values, samples_locations, thr=None,
                                         img_shape=None, window_fun=None, is_fft=False,
                                         density_comp=None):
    """The samples within ``thr`` of the k-space centre: ``|k_d| <= thr_d`` on every axis
    (a box), or ``|k| <= thr`` with a ``window_fun`` ('Hann', 'Hamming' or a callable of the
    locations, applied to the data). ``data_values`` is ``(n_coils, M)``, or Cartesian
    ``(n_coils, *shape)`` (then read at the locations, as ``is_fft=True``).

    Returns ``(data, locations)`` or ``(data, locations, density)`` with ``density_comp``.
    """
    if thr is None:
        raise UnsupportedOptionError("extract_k_space_center_and_locations", "thr=None",
                                     supported="a float or one float per axis")
    samples_locations = np.asarray(samples_locations)
    data_values = np.asarray(data_values)
    if is_fft or data_values.ndim > 2:
        mask = convert_locations_to_mask(samples_locations, data_values.shape[1:])
        flat = np.flatnonzero(mask)
        data = data_values.reshape(data_values.shape[0], -1)[:, flat]
    else:
        data = data_values
    if window_fun is None:
        thr = (thr,) * samples_locations.shape[1] if np.ndim(thr) == 0 else tuple(thr)
        inside = np.all(np.abs(samples_locations) <= np.asarray(thr), axis=1)
    elif np.ndim(thr) == 0:
        inside = np.sum(samples_locations ** 2, axis=1) <= thr ** 2
    else:
        raise ValueError("extract_k_space_center_and_locations: a window_fun needs a scalar thr")
    locations, data = samples_locations[inside], data[:, inside]
    if window_fun is not None:
        if callable(window_fun):
            window = window_fun(locations)
        elif window_fun in _WINDOWS:
            a0 = _WINDOWS[window_fun]
            window = a0 + (1 - a0) * np.cos(np.pi * np.linalg.norm(locations, axis=1) / thr)
        else:
            raise ValueError(f"window_fun must be one of {sorted(_WINDOWS)} or a callable, "
                             f"received {window_fun!r}")
        data = window * data
    if density_comp is not None:
        return data, locations, np.asarray(density_comp)[inside]
    return data, locations


def get_Smaps(k_space, img_shape, samples, thresh, min_samples, max_samples, mode="NFFT",
              method="linear", window_fun=None, density_comp=None, n_cpu=1,
              fourier_op_kwargs=None):
    """Sensitivity maps from the k-space centre, normalised by their root sum of squares.

    ``mode='gridding'`` interpolates the centre samples on a grid spanning
    ``[min_samples, max_samples)`` (``method`` of ``scipy.interpolate.griddata``) and
    inverse-FFTs; ``'NFFT'`` takes the adjoint NUFFT of the centre samples (with
    ``density_comp``); ``'FFT'`` inverse-FFTs the centre of Cartesian k-space
    ``(n_coils, *img_shape)``. ``n_cpu`` only parallelises pysap-mri's loop over coils.
    Returns ``(Smaps, SOS)``.
    """
    if mode not in SMAPS_MODES:
        raise UnsupportedOptionError("get_Smaps", f"mode={mode!r}", supported=SMAPS_MODES)
    img_shape = tuple(int(s) for s in img_shape)
    if len(min_samples) != len(img_shape) or len(max_samples) != len(img_shape):
        raise ValueError("get_Smaps: img_shape, max_samples and min_samples must have the "
                         "same length")
    cartesian = np.asarray(k_space)
    data, locations, *density = extract_k_space_center_and_locations(
        k_space, samples, thr=thresh, img_shape=img_shape, is_fft=mode == "FFT",
        window_fun=window_fun, density_comp=density_comp)
    if mode == "FFT":
        if cartesian.ndim != len(img_shape) + 1:
            raise ValueError("get_Smaps(mode='FFT') needs Cartesian k-space (n_coils, "
                             f"*{img_shape}), received {cartesian.shape}")
        grid = np.zeros(cartesian.shape, dtype=np.complex64)
        index = tuple(convert_locations_to_mask(locations, img_shape).nonzero())
        grid[(slice(None),) + index] = cartesian[(slice(None),) + index]
        smaps = ifftn_centered(grid, len(img_shape))
    elif mode == "NFFT":
        from ...operators.fourier import NonCartesianFFT
        operator = NonCartesianFFT(locations, img_shape, n_coils=data.shape[0],
                                   density_comp=density[0] if density else None,
                                   **(fourier_op_kwargs or {}))
        smaps = operator.adj_op(np.ascontiguousarray(data.astype(np.complex64)))
    else:
        axes = [np.linspace(min_samples[i], max_samples[i], num=img_shape[i], endpoint=False)
                for i in range(len(img_shape))]
        grid = tuple(np.meshgrid(*axes))
        smaps = np.stack([gridded_inverse_fourier_transform_nd(locations, coil, grid, method)
                          for coil in data])
    smaps = np.asarray(smaps, dtype=np.complex128)
    sos = np.sqrt(np.sum(np.abs(smaps) ** 2, axis=0))
    smaps = np.divide(smaps, sos, out=np.zeros_like(smaps), where=sos > 0)
    return smaps, sos
