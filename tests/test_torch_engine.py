"""The engine on torch tensors (CPU): same image as NumPy, gradients through the iterations."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pysap_mri_dl.operators import SENSE, Wavelet  # noqa: E402
from pysap_mri_dl.optim import LeastSquares, fista  # noqa: E402
from pysap_mri_dl.prox import Analysis, SoftThreshold  # noqa: E402


@pytest.fixture(scope="module")
def problem(brain, brain_mask):
    from pysap_mri_dl.calibration import self_calibrated_smaps
    kspace = (brain.kspace * brain_mask).astype(np.complex64)
    smaps = self_calibrated_smaps(kspace, mask=brain_mask)
    lam = 1e-3 * np.abs(kspace).max()
    return kspace, smaps, brain_mask, lam


def _run(kspace, smaps, mask, lam, n_iter=20):
    op = SENSE(smaps, mask=mask)
    prox = Analysis(Wavelet((256, 256), wavelet="sym8", levels=4), SoftThreshold(lam))
    return fista(LeastSquares(op, kspace), prox, step=1.0, n_iter=n_iter).x


def test_fista_on_torch_matches_numpy(problem):
    kspace, smaps, mask, lam = problem
    ref = _run(kspace, smaps, mask, lam)
    out = _run(torch.as_tensor(kspace), torch.as_tensor(smaps), mask, lam)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.complex64
    err = np.linalg.norm(out.numpy() - ref) / np.linalg.norm(ref)
    assert err < 1e-5, err


def test_gradient_to_regularisation_weight_matches_finite_differences():
    rng = np.random.default_rng(0)
    shape = (16, 16)
    smaps = torch.as_tensor(rng.standard_normal((2,) + shape) + 1j * rng.standard_normal((2,) + shape))
    mask = rng.uniform(size=shape) < 0.5
    target = torch.as_tensor(rng.standard_normal(shape) + 0j)
    op = SENSE(smaps, mask=mask)
    kspace = op.op(target) + 0.05 * torch.as_tensor(rng.standard_normal((2,) + shape) + 0j)
    wavelet = Wavelet(shape, wavelet="haar", levels=2)

    def loss(lam):
        x = fista(LeastSquares(op, kspace), Analysis(wavelet, SoftThreshold(lam)), step=0.2,
                  n_iter=15, restart=None).x
        return ((x - target).abs() ** 2).sum()

    lam = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    loss(lam).backward()
    eps = 1e-6
    with torch.no_grad():
        numeric = (loss(torch.tensor(0.3 + eps, dtype=torch.float64)) -
                   loss(torch.tensor(0.3 - eps, dtype=torch.float64))) / (2 * eps)
    assert lam.grad is not None
    assert abs(float(lam.grad) - float(numeric)) < 1e-4 * max(1.0, abs(float(numeric)))
