"""NUFFT accuracy and backends, trajectories and Pipe density compensation (the shared
operator contracts, torch parity and gradcheck of NUFFT are in test_operators.py)."""
import numpy as np
import pytest

from pysap_mri_dl.calibration import pipe_density
from pysap_mri_dl.operators import FFT, NUFFT
from pysap_mri_dl.operators.nufft_backends import available_backends
from pysap_mri_dl.sampling import radial, spiral
from pysap_mri_dl.testing import adjoint_error, random_array

BACKENDS = available_backends()
ACCURACY = {"ducc0": 1e-6, "finufft": 1e-6, "pynufft": 2e-3}  # pynufft: fixed 6-point kernel


def ndft(x, trajectory):
    grids = np.meshgrid(*[np.arange(s) - s // 2 for s in x.shape], indexing="ij")
    phase = sum(np.multiply.outer(trajectory[:, d], grids[d]) for d in range(x.ndim))
    return (np.exp(-2j * np.pi * phase) * x).reshape(len(trajectory), -1).sum(1) / np.sqrt(x.size)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(32, 24), (12, 10, 8)])
@pytest.mark.parametrize("n_coils", [1, 8])
def test_nufft_adjoint_and_accuracy_against_ndft(backend, shape, n_coils):
    rng = np.random.default_rng(0)
    trajectory = rng.uniform(-0.5, 0.5, (600, len(shape)))
    op = NUFFT(trajectory, shape, n_coils=n_coils, backend=backend, eps=1e-6)
    assert adjoint_error(op) < 1e-5
    x = random_array(shape, dtype=np.complex128, seed=1)
    single = NUFFT(trajectory, shape, backend=backend, eps=1e-9)
    subset = rng.choice(len(trajectory), 50, replace=False)
    got = single.op(x)[subset]
    expected = ndft(x, trajectory[subset])
    assert np.linalg.norm(got - expected) / np.linalg.norm(expected) < ACCURACY[backend]


def test_cartesian_trajectory_reproduces_fft():
    shape = (8, 6)
    grid = np.stack(np.meshgrid(*[(np.arange(s) - s // 2) / s for s in shape], indexing="ij"), -1)
    x = random_array(shape)
    np.testing.assert_allclose(NUFFT(grid.reshape(-1, 2), shape).op(x), FFT(shape).op(x).ravel(),
                               atol=1e-5)


def test_pipe_density_flattens_the_psf_and_grows_with_radius():
    trajectory = radial(128, 256)
    density = pipe_density(trajectory, (128, 128))
    op = NUFFT(trajectory, (128, 128))
    psf = np.abs(op.adj_op(density.astype(np.complex64)))
    peak = psf[64, 64]
    assert peak == psf.max()
    psf[60:69, 60:69] = 0
    assert psf.max() < 0.05 * peak
    radius = np.linalg.norm(trajectory, axis=1)
    inside = (radius > 0.05) & (radius < 0.45)  # 0.1 < |k| / k_max < 0.9
    ratio = density[inside] / radius[inside]
    assert np.all(np.abs(ratio / np.median(ratio) - 1) < 0.10)


def test_trajectories_in_range_and_seeded_shapes():
    for trajectory in (radial(31, 64), radial(31, 64, golden=True), spiral(8, 500),
                       spiral(4, 300, density_power=2)):
        assert trajectory.shape[1] == 2
        assert trajectory.min() >= -0.5 and trajectory.max() < 0.5
    golden = radial(3, 4, golden=True).reshape(3, 4, 2)
    angle = np.degrees(np.arctan2(golden[1, 0, 1], golden[1, 0, 0]) - np.arctan2(golden[0, 0, 1], golden[0, 0, 0])) % 360
    assert angle == pytest.approx(111.246, abs=1e-2)


@pytest.mark.parametrize("make, message", [
    (lambda: NUFFT(np.full((10, 2), 0.6), (8, 8)), r"\[-0.5, 0.5\)"),
    (lambda: NUFFT(np.zeros((10, 3)), (8, 8)), "3 columns but the image has 2"),
    (lambda: NUFFT(np.zeros((10, 2)), (8, 8)).op(np.zeros((7, 8), np.complex64)), "trailing shape"),
    (lambda: NUFFT(np.zeros((10, 2)), (8, 8)).adj_op(np.zeros(9, np.complex64)), "trailing shape"),
    (lambda: NUFFT(np.zeros((10, 2)), (8, 8), density=np.ones(9)), "density must have shape"),
    (lambda: NUFFT(np.zeros((10, 2)), (8, 8), backend="gpu-magic"), "unknown backend"),
    (lambda: NUFFT(np.zeros((10, 2)), (8, 8)).density_compensated_adjoint(np.zeros(10, np.complex64)), "no density"),
])
def test_nufft_bad_input(make, message):
    with pytest.raises((ValueError, TypeError, ImportError), match=message):
        make()


def test_real_radial_cardiac_data(shared_data):
    """12-coil radial cardiac k-space (25 spokes): gridding vs CG-SENSE consistency."""
    from pysap_mri_dl.calibration import rss
    from pysap_mri_dl.optim import conjugate_gradient
    archive = np.load(shared_data / "kspace" / "gpunufft_radial_cardiac_25proj_12ch.npz")
    kspace = archive["kspace"].reshape(-1, 12).T.astype(np.complex64)  # (coils, samples)
    trajectory = np.clip(archive["traj"].reshape(-1, 2).astype(np.float64), -0.5, 0.5 - 1e-7)
    shape = (128, 128)
    density = pipe_density(trajectory, shape)
    coils = NUFFT(trajectory, shape, n_coils=12, density=density)
    gridded = coils.density_compensated_adjoint(kspace)
    smaps = gridded / np.maximum(rss(gridded), 1e-3 * rss(gridded).max())
    sense = NUFFT(trajectory, shape, smaps=smaps.astype(np.complex64))
    result = conjugate_gradient(sense.normal(), sense.adj_op(kspace), n_iter=10, tol=1e-8)
    def residual(image):
        predicted = sense.op(image.astype(np.complex64))
        scale = np.vdot(predicted, kspace) / np.vdot(predicted, predicted)  # best global scale
        return np.linalg.norm(scale * predicted - kspace) / np.linalg.norm(kspace)

    combined = (np.conj(smaps) * gridded).sum(0)
    assert np.all(np.isfinite(result.x))
    # CG-SENSE explains the measured data better than the gridding image does
    assert residual(result.x) < 0.9 * residual(combined), (residual(result.x), residual(combined))
