"""Contract tests (adjoint, linearity, normal, torch parity, gradcheck) for every operator."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pysap_mri_dl._backend import is_torch, same_kind, xp_of
from pysap_mri_dl.operators import (FFT, NUFFT, SENSE, Diagonal, FiniteDifference, Identity,
                                    MapSets, MatrixOperator, Wavelet)
from pysap_mri_dl.testing import (adjoint_error, assert_adjoint, assert_gradcheck, assert_linear,
                                  assert_normal, assert_kinds_agree, random_array)

torch = pytest.importorskip("torch")

sizes = st.integers(min_value=8, max_value=40)
settings_ = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mask(shape, seed):
    return np.random.default_rng(seed).uniform(size=shape) < 0.4


def _smaps(n_coils, shape, seed):
    return random_array((n_coils,) + shape, seed=seed)


@settings_
@given(ny=sizes, nx=sizes, n_coils=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_fft_adjoint_random_shapes(ny, nx, n_coils, seed):
    op = FFT((ny, nx), mask=_mask((ny, nx), seed), n_coils=n_coils)
    assert adjoint_error(op, seed=seed) < 1e-5


@settings_
@given(n=st.integers(4, 16), seed=st.integers(0, 10_000))
def test_fft_3d_adjoint(n, seed):
    op = FFT((n, n + 2, n + 1), mask=_mask((n, n + 2, n + 1), seed))
    assert adjoint_error(op, seed=seed, batch=(2,)) < 1e-5


@settings_
@given(ny=sizes, nx=sizes, n_coils=st.integers(1, 8), seed=st.integers(0, 10_000))
def test_sense_adjoint_random_shapes(ny, nx, n_coils, seed):
    op = SENSE(_smaps(n_coils, (ny, nx), seed), mask=_mask((ny, nx), seed))
    assert op.shape_out == (n_coils, ny, nx)
    assert adjoint_error(op, seed=seed) < 1e-5


@settings_
@given(ny=st.integers(16, 48), nx=st.integers(16, 48), levels=st.integers(1, 3),
       wavelet=st.sampled_from(["haar", "db4", "sym8", "bior4.4"]),
       mode=st.sampled_from(["periodization", "symmetric", "zero"]), seed=st.integers(0, 10_000))
def test_wavelet_adjoint_random_shapes(ny, nx, levels, wavelet, mode, seed):
    op = Wavelet((ny, nx), wavelet=wavelet, levels=levels, mode=mode)
    assert adjoint_error(op, seed=seed) < 1e-5
    assert adjoint_error(op, seed=seed, like=torch.zeros(1)) < 1e-5


@settings_
@given(k=st.integers(2, 5), levels=st.integers(1, 2), seed=st.integers(0, 10_000))
def test_undecimated_wavelet_adjoint_and_parseval(k, levels, seed):
    shape = (4 * k, 8 * k)
    op = Wavelet(shape, wavelet="sym4", levels=levels, undecimated=True)
    assert adjoint_error(op, seed=seed) < 1e-5
    x = random_array(shape, seed=seed)
    np.testing.assert_allclose(np.linalg.norm(op.op(x)), np.linalg.norm(x), rtol=1e-5)
    np.testing.assert_allclose(op.adj_op(op.op(x)), x, rtol=1e-5, atol=1e-6)  # W^H W = I


@settings_
@given(ny=st.integers(2, 30), nx=st.integers(2, 30), boundary=st.sampled_from(["neumann", "periodic"]),
       seed=st.integers(0, 10_000))
def test_finite_difference_adjoint(ny, nx, boundary, seed):
    op = FiniteDifference((ny, nx), boundary=boundary)
    assert adjoint_error(op, seed=seed) < 1e-5


def _trajectory(ndim, n_samples=700):
    return np.random.default_rng(ndim).uniform(-0.5, 0.5, (n_samples, ndim))


def _operators(like=None):
    """Every operator, with its array constants (maps) of ``like``'s kind (NumPy by default)."""
    shape = (24, 32)
    smaps = _smaps(4, shape, 1)
    stack = np.stack
    if like is not None:
        smaps = same_kind(smaps, like)
        stack = torch.stack if is_torch(like) else xp_of(like).stack
    return {
        "fft": FFT(shape, mask=_mask(shape, 0)),
        "fft-multicoil": FFT(shape, mask=_mask(shape, 0), n_coils=3),
        "sense": SENSE(smaps, mask=_mask(shape, 2)),
        "wavelet": Wavelet(shape, wavelet="sym8", levels=2),
        "wavelet-undecimated": Wavelet(shape, wavelet="db2", levels=2, undecimated=True),
        "finite-difference": FiniteDifference(shape),
        "matrix": MatrixOperator(random_array((7, 5), seed=3)),
        "diagonal": Diagonal(random_array((3, 7), seed=4)),
        "soft-sense": FFT(shape, mask=_mask(shape, 0), n_coils=4) @ MapSets(
            stack([smaps, 0.5 * smaps[[3, 2, 1, 0]]])),
        "weighted-nufft": Diagonal(np.linspace(0.5, 2, 700).astype(np.float32))
        @ NUFFT(_trajectory(2), shape),
        "nufft-coils": NUFFT(_trajectory(2), shape, n_coils=3),
        "nufft-sense": NUFFT(_trajectory(2), shape, smaps=smaps),
        "nufft-3d": NUFFT(_trajectory(3), (8, 10, 6)),
        "composition": Wavelet(shape, levels=2) @ FFT(shape),
        "sum": FFT(shape) + 2.0 * Identity(shape),
    }


@pytest.mark.parametrize("name", list(_operators()))
def test_operator_contract_numpy_and_torch(name):
    like = torch.zeros(1)
    op, op_torch = _operators()[name], _operators(like)[name]
    assert_adjoint(op)
    assert_adjoint(op_torch, like=like)
    assert_adjoint(op, batch=(2,))
    assert_linear(op)
    assert_linear(op_torch, like=like)
    assert_normal(op)
    assert_kinds_agree(op, op_torch, like=like)


@pytest.mark.parametrize("kind", ["cupy", "torch-cuda"])
@pytest.mark.parametrize("name", list(_operators()))
def test_operator_contract_on_gpu(name, kind, gpu_like):
    """Same contract on CuPy arrays and CUDA tensors (skipped without a GPU)."""
    like = gpu_like(kind)
    if "nufft" in name and kind == "cupy":
        pytest.importorskip("cufinufft")
    op, op_gpu = _operators()[name], _operators(like)[name]
    assert_adjoint(op_gpu, like=like)
    assert_linear(op_gpu, like=like)
    assert_kinds_agree(op, op_gpu, like=like, rtol=1e-4)


@pytest.mark.parametrize("name", ["fft", "sense", "wavelet", "wavelet-undecimated",
                                  "finite-difference", "nufft", "diagonal", "soft-sense"])
def test_gradcheck_through_torch(name):
    small = {
        "fft": FFT((6, 8), mask=_mask((6, 8), 0)),
        "sense": SENSE(torch.as_tensor(random_array((2, 6, 8), seed=1, dtype=np.complex128)),
                       mask=_mask((6, 8), 2)),
        "wavelet": Wavelet((8, 8), wavelet="db2", levels=2),
        "wavelet-undecimated": Wavelet((8, 8), wavelet="haar", levels=1, undecimated=True),
        "finite-difference": FiniteDifference((6, 8)),
        "nufft": NUFFT(_trajectory(2, 40), (6, 8), eps=1e-12),
        "diagonal": Diagonal(random_array((6, 8), seed=2, dtype=np.complex128)),
        "soft-sense": FFT((6, 8), mask=_mask((6, 8), 0), n_coils=3) @ MapSets(
            torch.as_tensor(random_array((2, 3, 6, 8), seed=3, dtype=np.complex128))),
    }[name]
    assert_gradcheck(small)


def test_fft_is_unitary_and_inverse():
    x = random_array((32, 32))
    op = FFT((32, 32))
    np.testing.assert_allclose(op.adj_op(op.op(x)), x, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(op.op(x)), np.linalg.norm(x), rtol=1e-5)
    assert op.lipschitz() == 1.0


def test_fft_convention_matches_centred_numpy_fft():
    x = random_array((16, 12))
    expected = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(x), norm="ortho"))
    np.testing.assert_allclose(FFT((16, 12)).op(x), expected, atol=1e-5)


def test_wavelet_matches_pywavelets_coefficients():
    import pywt
    x = random_array((64, 64))
    op = Wavelet((64, 64), wavelet="sym8", levels=3)
    coeffs = pywt.wavedecn(x, "sym8", mode="periodization", level=3)
    flat = np.concatenate([coeffs[0].ravel()] + [d[k].ravel() for d in coeffs[1:] for k in ("ad", "da", "dd")])
    np.testing.assert_allclose(op.op(x), flat, atol=1e-5)
    np.testing.assert_allclose(op.op(torch.as_tensor(x)).numpy(), flat, atol=1e-5)
    assert [b.name for b in op.bands[:4]] == ["approx", "ad", "da", "dd"]
    assert op.band_index.shape == (op.n_coeffs,)


@pytest.mark.parametrize("wavelet, mode, undecimated", [
    ("sym8", "periodization", False), ("db4", "symmetric", False), ("bior4.4", "zero", False),
    ("sym8", "periodization", True), ("haar", "periodization", True)])
def test_wavelet_filter_matrix_path_matches_pywavelets(wavelet, mode, undecimated):
    """The GPU path (separable filter matrices, any array kind) against PyWavelets, run here
    on torch CPU tensors: coefficients to 1e-5 and the exact transpose as adjoint."""
    op = Wavelet((32, 48), wavelet=wavelet, levels=2, mode=mode, undecimated=undecimated)
    x = random_array((2, 32, 48), seed=4)
    y = random_array((2, op.n_coeffs), seed=5)
    forward = op._flatten(op._matrix_forward(torch.as_tensor(x)), torch).numpy()
    np.testing.assert_allclose(forward, op._numpy_forward(x), atol=1e-5)
    adjoint = op._matrix_adjoint(op._unflatten(torch.as_tensor(y))).numpy()
    np.testing.assert_allclose(np.vdot(forward, y), np.vdot(x, adjoint), rtol=1e-5)


def test_lipschitz_power_iteration_matches_svd():
    m = random_array((12, 9), seed=5)
    op = MatrixOperator(m)
    expected = np.linalg.svd(m, compute_uv=False)[0] ** 2
    assert abs(op.lipschitz(n_iter=500, tol=1e-10) - expected) / expected < 1e-4


def test_sense_lipschitz_bounded_by_coil_energy():
    smaps = _smaps(3, (16, 16), 0)
    op = SENSE(smaps)
    expected = np.max(np.sum(np.abs(smaps) ** 2, axis=0))
    assert abs(op.lipschitz(n_iter=300, tol=1e-9) - expected) / expected < 1e-3


@pytest.mark.parametrize("make, message", [
    (lambda: FFT((4, 4)).op(np.zeros((4, 5), np.complex64)), "trailing shape"),
    (lambda: FFT((4, 4)).op(np.zeros((4, 4), np.int32)), "floating or complex"),
    (lambda: FFT((4, 4)).op([[1, 2]]), "expected a numpy.ndarray"),
    (lambda: FFT((4, 4), mask=np.ones((3, 4))), "does not broadcast"),
    (lambda: FFT((4, 4), mask=-np.ones((4, 4))), "non-negative"),
    (lambda: Wavelet((32, 32), wavelet="nope"), "unknown wavelet"),
    (lambda: Wavelet((32, 32), mode="nope"), "unknown mode"),
    (lambda: Wavelet((12, 12), levels=3, undecimated=True), "divisible"),
    (lambda: Wavelet((8, 8), levels=4), "too many"),
    (lambda: SENSE(np.ones((2, 4, 4), np.complex64), mask=np.ones((5, 5))), "do not match the mask"),
    (lambda: SENSE(np.ones(4, np.complex64)), "smaps must have shape"),
    (lambda: FFT((4, 4)) @ FFT((5, 5)), "cannot compose"),
    (lambda: FFT(8), r"FFT: shape must be a tuple"),
    (lambda: Wavelet(8), r"Wavelet: shape must be a tuple"),
    (lambda: FiniteDifference((8, 2.5)), r"FiniteDifference: shape must have 1 to 3 integer"),
])
def test_bad_input_raises_named_error(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_mixing_array_kinds_raises():
    op = SENSE(_smaps(2, (8, 8), 0))
    with pytest.raises(TypeError, match="smaps is a numpy array .* input is a torch array"):
        op.op(torch.zeros((8, 8), dtype=torch.complex64))


@pytest.mark.parametrize("shape", [(5, 7), (6, 9), (3, 4, 5)])
def test_centred_fft_on_torch_matches_numpy_for_odd_sizes(shape):
    from pysap_mri_dl.operators import fftn_centered, ifftn_centered
    x = random_array((2,) + shape, seed=1, dtype=np.complex128)
    for fn in (fftn_centered, ifftn_centered):
        np.testing.assert_allclose(fn(torch.as_tensor(x), len(shape)).numpy(), fn(x, len(shape)),
                                   atol=1e-12)


@pytest.mark.parametrize("shape", [(8,), (7,), (6, 5), (9, 9, 4), (64, 48)])
def test_centred_fft_by_phases_matches_the_shifted_fft(shape):
    """The shift-free centred FFT (phase modulations around a plain FFT) equals
    ``fftshift(fftn(ifftshift(x)))`` for odd and even sizes, in single and double
    precision, and its inverse undoes it."""
    from pysap_mri_dl.operators import fftn_centered, ifftn_centered
    axes = tuple(range(-len(shape), 0))
    for dtype, atol in ((np.complex64, 2e-6), (np.complex128, 1e-12)):
        x = random_array((3,) + shape, seed=2, dtype=dtype)
        expected = np.fft.fftshift(np.fft.fftn(np.fft.ifftshift(x, axes=axes), axes=axes,
                                               norm="ortho"), axes=axes)
        y = fftn_centered(x, len(shape))
        assert y.dtype == dtype
        np.testing.assert_allclose(y, expected, atol=atol * np.abs(expected).max())
        np.testing.assert_allclose(ifftn_centered(y, len(shape)), x, atol=atol * 10)


def test_phases_folded_into_mask_and_maps_keep_the_operator_exact():
    """FFT and SENSE fold the centring phases into their mask and maps: the result equals
    the textbook centred transform, the input is never modified, and the fused gradient
    equals A^H (A x - y)."""
    smaps = _smaps(3, (16, 12), 0)
    mask = (np.random.default_rng(0).random((1, 12)) < 0.5).astype(bool)
    x, y = random_array((16, 12), seed=1), random_array((3, 16, 12), seed=2)
    keep_x, keep_y = x.copy(), y.copy()
    op = SENSE(smaps, mask=mask)
    axes = (-2, -1)
    expected = mask * np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(smaps * x, axes=axes),
                                                  norm="ortho"), axes=axes)
    np.testing.assert_allclose(op.op(x), expected, atol=1e-5)
    gradient = op.adj_op(op.op(x) - y)
    np.testing.assert_allclose(op._gradient(x, y), gradient, atol=1e-5)
    np.testing.assert_allclose(op.fourier._gradient(smaps * x, y),
                               op.fourier.adj_op(op.fourier.op(smaps * x) - y), atol=1e-5)
    np.testing.assert_array_equal(x, keep_x)
    np.testing.assert_array_equal(y, keep_y)


def test_lipschitz_bounds_are_upper_bounds_and_tight():
    """Closed-form bounds: SENSE with maps of unit RSS and a 0/1 mask gives exactly 1;
    every bound is >= the power-iteration value and within 2% of it here; soft-SENSE map
    sets give the largest per-pixel singular value; NUFFT has none (power iteration)."""
    from pysap_mri_dl.calibration import self_calibrated_smaps
    from pysap_mri_dl.data import load_sample
    from pysap_mri_dl.operators import MapSets
    from pysap_mri_dl.sampling import random_column_mask
    kspace = load_sample("brain_4coil").kspace
    mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    sense = SENSE(self_calibrated_smaps(kspace * mask, mask=mask), mask=mask)
    assert sense.lipschitz_bound() == pytest.approx(1.0, abs=1e-6)
    power = sense.lipschitz(n_iter=100, tol=1e-8)
    assert power <= sense.lipschitz_bound() * (1 + 1e-4) and power > 0.98
    sets = _smaps(6, (16, 16), 1).reshape(2, 3, 16, 16)
    soft = FFT((16, 16), n_coils=3) @ MapSets(sets)
    exact = soft.lipschitz(n_iter=500, tol=1e-12)
    assert soft.lipschitz_bound() == pytest.approx(exact, rel=1e-4)
    assert (2.0 * FFT((4, 4))).lipschitz_bound() == pytest.approx(4.0)
    assert Wavelet((32, 32), wavelet="haar").lipschitz_bound() == 1.0
    assert NUFFT(np.zeros((5, 2)), (8, 8)).lipschitz_bound() is None


def test_least_squares_uses_the_bound_and_caches_the_power_iteration(monkeypatch):
    from pysap_mri_dl.optim import LeastSquares
    smaps = _smaps(2, (8, 8), 3)
    op = SENSE(smaps)
    calls = []
    monkeypatch.setattr(SENSE, "_power_iteration", lambda *a: calls.append(a) or 1.0)
    assert LeastSquares(op, random_array((2, 8, 8))).lipschitz() == op.lipschitz_bound()
    assert not calls  # no power iteration where a closed form exists
    nufft = NUFFT(np.random.default_rng(0).uniform(-0.5, 0.5, (40, 2)), (8, 8))
    first = nufft.lipschitz()
    assert nufft.lipschitz() == first and nufft._lipschitz_cache  # computed once


@pytest.mark.parametrize("shape, levels", [((200, 160), 4), ((161, 131), 4), ((37, 45), 3),
                                           ((17, 20, 9), 2), ((37,), 2)])
@pytest.mark.parametrize("wavelet", ["haar", "db4", "sym8"])
def test_decimated_wavelet_is_an_isometry_at_any_size(shape, levels, wavelet):
    """Sizes that 2**levels does not divide are zero-padded before the transform, so that
    ``W^H W = I`` holds at any size (PyWavelets' odd-size handling alone gave ||W^H W|| up to
    97 and analysis FISTA diverged); NumPy, the CPU torch path and the filter-matrix path."""
    op = Wavelet(shape, wavelet=wavelet, levels=levels)
    assert all(p % 2 ** levels == 0 and p >= s for p, s in zip(op.padded_shape, shape))
    assert op.lipschitz_bound() == 1.0
    x = random_array((2,) + shape, seed=3)
    np.testing.assert_allclose(op.adj_op(op.op(x)), x, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(op.op(x)), np.linalg.norm(x), rtol=1e-5)
    assert adjoint_error(op, seed=1) < 1e-5
    assert adjoint_error(op, seed=1, like=torch.zeros(1)) < 1e-5
    tensor = torch.as_tensor(x)
    matrix = op._flatten(op._matrix_forward(op._pad(tensor)), torch)
    np.testing.assert_allclose(matrix.numpy(), op.op(x), atol=1e-5)
    back = op._crop(op._matrix_adjoint(op._unflatten(matrix)))
    np.testing.assert_allclose(back.numpy(), x, atol=1e-5)


# ---- what a SigPy / deepinv user does with an operator ----------------------------------
def test_external_operators_have_differentiable_gradients():
    """Wavelet and NUFFT (computed outside torch) differentiate twice: their backward runs
    the transpose through the same autograd function (create_graph, gradient penalties)."""
    import torch
    from pysap_mri_dl.sampling import radial
    wavelet = Wavelet((8, 8), wavelet="haar", levels=1)
    nufft = NUFFT(radial(8, 16, golden=True), (8, 8))
    for op, dtype in ((wavelet, torch.float64), (wavelet, torch.complex128),
                      (nufft, torch.complex128)):
        x = torch.rand(8, 8, dtype=dtype, requires_grad=True)
        assert torch.autograd.gradgradcheck(op.op, (x,))
        grad, = torch.autograd.grad(op.op(x).abs().pow(2).sum(), x, create_graph=True)
        assert grad.requires_grad and grad.dtype == dtype


def test_nufft_keeps_double_precision_and_real_inputs_get_real_gradients():
    import torch
    from pysap_mri_dl.sampling import radial
    nufft = NUFFT(radial(8, 16, golden=True), (8, 8))
    rng = np.random.default_rng(0)
    assert nufft.op(rng.random((8, 8))).dtype == np.complex128
    assert nufft.adj_op(rng.random(nufft.n_samples)).dtype == np.complex128
    assert nufft.op(rng.random((8, 8)).astype(np.float32)).dtype == np.complex64
    x = torch.rand(8, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: nufft.op(t).abs(), (x,))
    y = torch.rand(nufft.n_samples, requires_grad=True)
    nufft.adj_op(y).abs().sum().backward()
    assert y.grad.dtype == torch.float32


def test_sense_with_maps_made_under_inference_mode():
    import torch
    with torch.inference_mode():
        sense = SENSE(torch.ones(2, 4, 4, dtype=torch.complex64) / 2 ** 0.5)
        out = sense.op(torch.ones(4, 4, dtype=torch.complex64))
    assert out.shape == (2, 4, 4)
    assert torch.allclose(sense.adj_op(out.clone()), torch.ones(4, 4, dtype=torch.complex64))


def test_operator_arithmetic_with_arrays_and_scalars():
    """``A @ x`` and ``A * x`` (SigPy's idiom) apply the operator; ``c * A`` scales it for
    Python, NumPy and 0-d torch scalars, keeping single precision in both directions; an
    array on the left is a named error (NumPy used to make an object array of operators)."""
    import torch
    op = FFT((8, 8))
    x = random_array((8, 8), seed=0)
    np.testing.assert_array_equal(op @ x, op.op(x))
    np.testing.assert_array_equal(op * x, op.op(x))
    for scalar in (2, np.float32(2), torch.tensor(2.0), np.array(2.0)):
        scaled = scalar * op
        assert scaled.op(x).dtype == scaled.adj_op(x).dtype == np.complex64
        np.testing.assert_allclose(scaled.adj_op(x), 2 * op.adj_op(x), rtol=1e-6)
    assert (op - op).adj_op(x).dtype == np.complex64
    assert (-FiniteDifference((8, 8))).adj_op(np.zeros((2, 8, 8), np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="applies from the left"):
        x * op
    with pytest.raises(TypeError, match="unsupported operand"):  # operators compose with @
        op * op


def test_lipschitz_runs_on_the_kind_of_the_operators_own_maps():
    import torch
    maps = torch.ones(2, 8, 8, dtype=torch.complex64) / 2 ** 0.5
    for op in (SENSE(maps, mask=np.ones((8, 8))), 3 * SENSE(maps)):
        expected = 1.0 if isinstance(op, SENSE) else 9.0
        assert op.lipschitz() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("shape, boundary", [((16,), "neumann"), ((9, 12), "neumann"),
                                             ((9, 12), "periodic"), ((4, 5, 6), "periodic")])
def test_finite_difference_lipschitz_bound_is_exact(shape, boundary):
    op = FiniteDifference(shape, boundary=boundary)
    n = int(np.prod(shape))
    matrix = np.stack([op.op(e.reshape(shape)).ravel() for e in np.eye(n)], axis=1)
    assert op.lipschitz_bound() == pytest.approx(np.linalg.norm(matrix, 2) ** 2, rel=1e-9)


def test_diagonal_weights_follow_the_input_precision():
    import torch
    op = Diagonal(np.linspace(0.5, 2, 64).reshape(8, 8))  # float64 weights
    x = random_array((8, 8), seed=1)
    assert op.op(x).dtype == op.adj_op(x).dtype == np.complex64
    assert op.op(x.astype(np.complex128)).dtype == np.complex128
    assert op.op(torch.from_numpy(x)).dtype == torch.complex64
    np.testing.assert_allclose(op.op(x.astype(np.complex128)), op.op(x), rtol=1e-6)


def test_wavelet_takes_a_pywavelets_object_and_its_gpu_matrices_serve_autograd_after_inference(
        monkeypatch):
    """The filter-matrix path (CUDA tensors; forced here on the CPU) caches its matrices
    outside inference mode: a first call under ``torch.inference_mode()`` must not break a
    later backward pass."""
    import pywt
    import torch
    op = Wavelet((16, 16), wavelet=pywt.Wavelet("db2"), levels=2)
    monkeypatch.setattr(Wavelet, "_on_cpu_tensor", staticmethod(lambda x: False))
    x = torch.rand(16, 16, dtype=torch.float64)
    with torch.inference_mode():
        op.op(x)
    x.requires_grad_(True)
    op.op(x).pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-9, atol=1e-12)
