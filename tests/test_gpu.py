"""GPU paths (CuPy + cuFINUFFT, CUDA tensors): skipped cleanly without a CUDA device.

The per-operator contract on the GPU is in test_operators.py (``test_operator_contract_on_gpu``).
"""
import numpy as np
import pytest

from pysap_mri_dl import to_cupy, to_numpy, to_torch
from pysap_mri_dl._backend import array_kind, same_kind
from pysap_mri_dl.operators import NUFFT, SENSE, Wavelet
from pysap_mri_dl.optim import LeastSquares, fista
from pysap_mri_dl.prox import Analysis, SoftThreshold
from pysap_mri_dl.sampling import kooshball, radial
from pysap_mri_dl.testing import adjoint_error, assert_prox_kinds_agree, random_array

KINDS = ["cupy", "torch-cuda"]


@pytest.mark.parametrize("trajectory, shape, n_coils", [
    (radial(64, 128, golden=True), (64, 64), 1),
    (radial(64, 128, golden=True), (64, 64), 8),
    (kooshball(300, 64), (32, 32, 32), 2),
])
@pytest.mark.parametrize("kind", KINDS)
def test_nufft_on_gpu_matches_numpy(trajectory, shape, n_coils, kind, gpu_like):
    like = gpu_like(kind)
    pytest.importorskip("cufinufft")
    op = NUFFT(trajectory, shape, n_coils=n_coils, eps=1e-6)
    x = random_array(op.shape_in, seed=0)
    y = random_array(op.shape_out, seed=1)
    forward = op.op(same_kind(x, like))
    adjoint = op.adj_op(same_kind(y, like))
    assert array_kind(forward) == array_kind(adjoint) == array_kind(like)
    assert str(getattr(forward, "device", "")) == str(getattr(like, "device", ""))
    for got, ref in ((forward, op.op(x)), (adjoint, op.adj_op(y))):
        np.testing.assert_allclose(to_numpy(got), ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert adjoint_error(op, like=like) < 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_prox_on_gpu_matches_numpy(kind, gpu_like):
    like = gpu_like(kind)
    prox = Analysis(Wavelet((32, 32), wavelet="sym8", levels=3, undecimated=True),
                    SoftThreshold(0.2))
    assert_prox_kinds_agree(prox, random_array((32, 32), seed=2), like=like, rtol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_learned_prox_on_gpu_matches_cpu(kind, gpu_like, monkeypatch):
    like = gpu_like(kind)
    torch = pytest.importorskip("torch")
    # full single precision: TF32 convolutions (the CUDA default) differ by about 1e-5 to
    # 4e-5 relative, too near the tolerance below
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    from pysap_mri_dl.learn import LearnedProx, load_denoiser, pretrained_path
    model = load_denoiser(pretrained_path("learnlet"))[0]
    x = random_array((64, 64), seed=3)
    ref = LearnedProx(model, 1e-3, scale=2.0).prox(x, 1.0)
    out = LearnedProx(model, 1e-3, scale=2.0).prox(same_kind(x, like), 1.0)
    assert array_kind(out) == array_kind(like)
    assert np.linalg.norm(to_numpy(out) - ref) / np.linalg.norm(ref) < 1e-4
    model.to("cpu")


@pytest.mark.parametrize("kind", KINDS)
def test_fista_on_gpu_matches_numpy(kind, gpu_like, brain, brain_mask):
    """SENSE-wavelet FISTA on the real 4-coil brain: the GPU run equals the NumPy run."""
    from pysap_mri_dl.calibration import self_calibrated_smaps
    like = gpu_like(kind)
    kspace = (brain.kspace * brain_mask).astype(np.complex64)
    smaps = self_calibrated_smaps(kspace, mask=brain_mask)
    lam = 1e-3 * np.abs(kspace).max()

    def run(kspace, smaps):
        prox = Analysis(Wavelet((256, 256), wavelet="sym8", levels=4), SoftThreshold(lam))
        return fista(LeastSquares(SENSE(smaps, mask=brain_mask), kspace), prox, step=1.0,
                     n_iter=20).x

    ref = run(kspace, smaps)
    out = run(same_kind(kspace, like), same_kind(smaps, like))
    assert array_kind(out) == array_kind(like)
    err = np.linalg.norm(to_numpy(out) - ref) / np.linalg.norm(ref)
    assert err < 1e-4, err


def test_conversions_share_gpu_memory(gpu_like):
    gpu_like("cupy"), gpu_like("torch-cuda")  # skip unless both are there
    import cupy
    a = cupy.ones(8)
    t = to_torch(a)
    assert t.is_cuda and t.data_ptr() == a.data.ptr  # DLPack, no copy
    back = to_cupy(t)
    assert back.data.ptr == a.data.ptr
    np.testing.assert_array_equal(to_numpy(back), np.ones(8))


def test_to_cupy_without_cupy_names_the_requirement():
    from importlib.util import find_spec
    if find_spec("cupy") is not None:
        pytest.skip("CuPy is installed")
    with pytest.raises(ImportError, match="CuPy"):
        to_cupy(np.zeros(3))


def test_cufinufft_is_not_a_cpu_backend():
    with pytest.raises(ValueError, match="chosen automatically for CuPy"):
        NUFFT(radial(8, 16), (16, 16), backend="cufinufft")
    assert adjoint_error(NUFFT(radial(8, 16), (16, 16))) < 1e-5
