"""GPU paths (CuPy + cuFINUFFT): skipped cleanly on machines without a CUDA device."""
import numpy as np
import pytest

from pysap_mri_dl.operators import NUFFT
from pysap_mri_dl.sampling import kooshball, radial
from pysap_mri_dl.testing import adjoint_error, random_array


def _cupy():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception:  # CUDA driver missing
        pytest.skip("no CUDA device")
    pytest.importorskip("cufinufft")
    return cupy


@pytest.mark.parametrize("trajectory, shape, n_coils", [
    (radial(64, 128, golden=True), (64, 64), 1),
    (radial(64, 128, golden=True), (64, 64), 8),
    (kooshball(300, 64), (32, 32, 32), 2),
])
def test_nufft_on_cupy_matches_numpy(trajectory, shape, n_coils):
    cupy = _cupy()
    op = NUFFT(trajectory, shape, n_coils=n_coils, eps=1e-6)
    x = random_array(op.shape_in, seed=0)
    y = random_array(op.shape_out, seed=1)
    forward = op.op(cupy.asarray(x))
    adjoint = op.adj_op(cupy.asarray(y))
    assert isinstance(forward, cupy.ndarray) and isinstance(adjoint, cupy.ndarray)
    np.testing.assert_allclose(forward.get(), op.op(x), rtol=1e-4, atol=1e-4 * np.abs(op.op(x)).max())
    np.testing.assert_allclose(adjoint.get(), op.adj_op(y), rtol=1e-4,
                               atol=1e-4 * np.abs(op.adj_op(y)).max())
    lhs = cupy.vdot(forward, cupy.asarray(y))
    rhs = cupy.vdot(cupy.asarray(x), adjoint)
    assert abs(complex(lhs - rhs)) / abs(complex(lhs)) < 1e-5


def test_cufinufft_is_not_a_cpu_backend():
    with pytest.raises(ValueError, match="chosen automatically for CuPy"):
        NUFFT(radial(8, 16), (16, 16), backend="cufinufft")
    assert adjoint_error(NUFFT(radial(8, 16), (16, 16))) < 1e-5
