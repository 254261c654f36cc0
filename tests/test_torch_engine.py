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
    assert err < 2e-6, err  # measured 1.1e-6 (README: "about 1e-6")


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


def _proxes():
    """Every prox of the package, twice (stateful ones need a fresh twin for the second kind)."""
    from pysap_mri_dl.prox import OWL, CycleSpin, GroupLasso, Identity, Positivity
    from pysap_mri_dl.learn import LearnedProx, Learnlet
    decimated = Wavelet((16, 16), wavelet="db4", levels=2)
    undecimated = Wavelet((16, 16), wavelet="sym8", levels=2, undecimated=True)
    weights = np.linspace(0.1, 0.6, 256).reshape(16, 16)
    learnlet = Learnlet(n_scales=2, n_filters=4)
    return {
        "soft": lambda: SoftThreshold(0.3),
        "soft-per-entry": lambda: SoftThreshold(weights),
        "group-lasso": lambda: GroupLasso(0.4, axis=0),
        "owl": lambda: OWL(np.array([0.6, 0.4, 0.2]), axis=0),
        "identity": Identity,
        "positivity": Positivity,
        "analysis-decimated": lambda: Analysis(decimated, SoftThreshold(0.2)),
        "analysis-undecimated": lambda: Analysis(undecimated, SoftThreshold(0.2)),
        "cycle-spin": lambda: CycleSpin(Analysis(decimated, SoftThreshold(0.2)), ndim=2,
                                        max_shift=4, seed=3),
        "learned": lambda: LearnedProx(learnlet, 0.01, scale=2.0),
    }


@pytest.mark.parametrize("name", sorted(_proxes()))
def test_prox_contract_numpy_and_torch(name):
    from pysap_mri_dl.testing import assert_prox_kinds_agree, random_array
    factory = _proxes()[name]
    shape = (3, 16, 16) if name in ("group-lasso", "owl") else (16, 16)
    x = random_array(shape, seed=5, dtype=np.complex128)
    if name == "positivity":
        x = x.real.copy()
    assert_prox_kinds_agree(factory(), x, like=torch.zeros(1), other=factory())


@pytest.fixture(scope="module")
def small_lasso():
    from pysap_mri_dl.operators import MatrixOperator
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((30, 50)) + 1j * rng.standard_normal((30, 50))) / np.sqrt(60)
    x = np.zeros(50, complex)
    x[rng.choice(50, 5, replace=False)] = 1 + 1j
    return MatrixOperator(a), a @ x


@pytest.mark.parametrize("algorithm", ["ista", "fista", "pogm", "primal_dual", "cg"])
def test_algorithms_on_torch_match_numpy(small_lasso, algorithm):
    """Each algorithm, run on torch tensors (operator constants converted on the fly),
    returns a torch tensor equal to its NumPy run."""
    from pysap_mri_dl.operators import MatrixOperator
    from pysap_mri_dl.optim import conjugate_gradient, ista, pogm, primal_dual
    operator, y = small_lasso

    def run(y):
        data, prox = LeastSquares(operator, y), SoftThreshold(0.05)
        if algorithm == "primal_dual":
            return primal_dual(data, prox, MatrixOperator(np.eye(50)), n_iter=150).x
        if algorithm == "cg":
            return conjugate_gradient(operator.normal(), operator.adj_op(y), damping=0.1,
                                      n_iter=30, tol=0).x
        return {"ista": ista, "fista": fista, "pogm": pogm}[algorithm](data, prox, n_iter=150).x

    ref, out = run(y), run(torch.as_tensor(y))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-7, atol=1e-9)


def test_mixing_kinds_in_the_engine_names_both():
    from pysap_mri_dl.operators import FFT
    data = LeastSquares(FFT((8, 8)), np.zeros((8, 8), np.complex64))
    with pytest.raises(TypeError, match="x is a torch array .* kspace is a numpy array"):
        fista(data, SoftThreshold(0.1), x0=torch.zeros((8, 8), dtype=torch.complex64), n_iter=2)


def _grappa_mask(n):
    mask = np.zeros((n, n), bool)
    mask[:, ::2] = True
    mask[:, n // 2 - 12: n // 2 + 12] = True
    return mask


@pytest.mark.parametrize("name", ["sense", "single-coil", "group-lasso", "owl", "grappa"])
def test_reconstructors_on_torch_match_numpy(name, brain, brain_mask):
    from pysap_mri_dl.recon import (grappa, reconstruct_calibrationless, reconstruct_sense,
                                    reconstruct_single_coil)
    kspace = (brain.kspace * brain_mask).astype(np.complex64)
    run = {"sense": lambda k: reconstruct_sense(k, brain_mask, n_iter=5),
           "single-coil": lambda k: reconstruct_single_coil(k[0], brain_mask, n_iter=5),
           "group-lasso": lambda k: reconstruct_calibrationless(k, brain_mask, n_iter=5),
           "owl": lambda k: reconstruct_calibrationless(k, brain_mask, n_iter=5,
                                                        coupling="owl"),
           "grappa": lambda k: grappa(k, _grappa_mask(k.shape[-1]))}[name]
    if name == "grappa":
        kspace = (brain.kspace * _grappa_mask(256)).astype(np.complex64)
    ref, out = run(kspace), run(torch.as_tensor(kspace))
    assert isinstance(out.image, torch.Tensor)
    err = np.linalg.norm(out.image.numpy() - np.asarray(ref.image)) / np.linalg.norm(ref.image)
    assert err < 1e-5, err
