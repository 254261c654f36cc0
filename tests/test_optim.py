"""Algorithms: convergence to a known lasso minimiser, and agreement with ModOpt."""
import numpy as np
import pytest

from pysap_mri_dl.operators import FFT, MatrixOperator, Wavelet
from pysap_mri_dl.optim import (LeastSquares, conjugate_gradient, fista, ista, pogm,
                                primal_dual)
from pysap_mri_dl.prox import Analysis, Identity, SoftThreshold


@pytest.fixture(scope="module")
def lasso():
    """A small complex lasso problem and its minimiser, certified by the KKT conditions."""
    rng = np.random.default_rng(0)
    m, n = 40, 60
    a = (rng.standard_normal((m, n)) + 1j * rng.standard_normal((m, n))) / np.sqrt(2 * m)
    x_true = np.zeros(n, complex)
    x_true[rng.choice(n, 6, replace=False)] = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    y = a @ x_true + 0.01 * (rng.standard_normal(m) + 1j * rng.standard_normal(m))
    lam = 0.05
    data = LeastSquares(MatrixOperator(a), y)
    ref = fista(data, SoftThreshold(lam), x0=np.zeros(n, complex), n_iter=20000, tol=1e-15,
                restart="adaptive").x
    # KKT: A^H(Ax - y) = -lam x/|x| on the support, |A^H(Ax - y)| <= lam elsewhere
    g = data.grad(ref)
    support = np.abs(ref) > 1e-9
    assert np.allclose(g[support], -lam * ref[support] / np.abs(ref[support]), atol=1e-8)
    assert np.all(np.abs(g[~support]) <= lam + 1e-8)
    return data, lam, ref


@pytest.mark.parametrize("algorithm", ["fista", "pogm", "primal_dual", "ista"])
def test_reaches_lasso_minimiser(lasso, algorithm):
    data, lam, ref = lasso
    n = ref.size
    x0 = np.zeros(n, complex)
    if algorithm == "primal_dual":
        result = primal_dual(data, SoftThreshold(lam), MatrixOperator(np.eye(n)), x0=x0,
                             n_iter=5000, tol=1e-14)
    else:
        algo = {"fista": fista, "pogm": pogm, "ista": ista}[algorithm]
        result = algo(data, SoftThreshold(lam), x0=x0, n_iter=5000 if algorithm != "ista" else 20000,
                      tol=1e-14)
    err = np.linalg.norm(result.x - ref) / np.linalg.norm(ref)
    assert err < 1e-4, f"{algorithm}: relative error {err:.2e}"


def test_fista_cost_decreases_and_result_fields(lasso):
    data, lam, _ = lasso
    result = fista(data, SoftThreshold(lam), n_iter=50, track_cost=True)
    assert result.n_iter == 50 and result.stop_reason == "n_iter" and len(result.cost) == 50
    assert result.cost[-1] < result.cost[0]
    assert result.seconds > 0


def test_callback_can_stop_and_tol_stops(lasso):
    data, lam, _ = lasso
    result = fista(data, SoftThreshold(lam), n_iter=100, callback=lambda it, state: it == 4)
    assert result.n_iter == 5 and result.stop_reason == "callback"
    result = fista(data, SoftThreshold(lam), n_iter=10000, tol=1e-6)
    assert result.stop_reason == "tol" and result.n_iter < 10000


def test_bad_options_raise(lasso):
    data, lam, _ = lasso
    with pytest.raises(ValueError, match="n_iter"):
        fista(data, SoftThreshold(lam), n_iter=0)
    with pytest.raises(ValueError, match="step"):
        ista(data, SoftThreshold(lam), step=-1.0)
    with pytest.raises(ValueError, match="restart"):
        fista(data, SoftThreshold(lam), restart="sometimes")
    with pytest.raises(ValueError, match="NaN or Inf"):
        LeastSquares(FFT((4, 4)), np.full((4, 4), np.nan, np.complex64))


def test_conjugate_gradient_solves_tikhonov_system():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((30, 20)) + 1j * rng.standard_normal((30, 20))
    op = MatrixOperator(a)
    rhs = rng.standard_normal(20) + 1j * rng.standard_normal(20)
    result = conjugate_gradient(op.normal(), rhs, damping=0.1, n_iter=200, tol=1e-10)
    expected = np.linalg.solve(a.conj().T @ a + 0.1 * np.eye(20), rhs)
    np.testing.assert_allclose(result.x, expected, rtol=1e-7)
    assert result.stop_reason == "tol"


# ---- agreement with ModOpt on the same MRI problem --------------------------------------

@pytest.fixture(scope="module")
def mri_problem(brain):
    from pysap_mri_dl.calibration import rss
    image = rss(np.fft.ifftshift(np.fft.ifft2(np.fft.fftshift(brain.kspace, axes=(-2, -1)),
                                              norm="ortho"), axes=(-2, -1)))[64:192, 64:192]
    rng = np.random.default_rng(0)
    mask = rng.uniform(size=(128, 128)) < 0.35
    fourier = FFT((128, 128), mask=mask)
    kspace = fourier.op(image.astype(np.complex64))
    wavelet = Wavelet((128, 128), wavelet="db4", levels=3)
    lam = 0.002 * np.abs(image).max()
    return fourier, kspace, wavelet, lam


def _modopt_gradient(fourier, kspace):
    from modopt.opt.gradient import GradBasic
    return GradBasic(kspace, fourier.op, fourier.adj_op, verbose=False)


def test_fista_matches_modopt_forward_backward(mri_problem):
    from modopt.opt.algorithms import ForwardBackward
    from pysap_mri_dl.prox import to_modopt
    fourier, kspace, wavelet, lam = mri_problem
    prox = Analysis(wavelet, SoftThreshold(lam))
    x0 = fourier.adj_op(kspace)
    from modopt.opt.algorithms import FISTA
    # ModOpt's default momentum sequence (t <- 1 + sqrt(4 t^2 + 1) / 2, first update from
    # t = 1) differs from Beck & Teboulle's; p_lazy=0.5 and starting its t at t_2 run the
    # textbook sequence, which ours follows.
    schedule = FISTA(p_lazy=0.5)
    schedule._t_now = (1 + np.sqrt(5)) / 2
    ours = fista(LeastSquares(fourier, kspace), prox, x0=x0, step=1.0, n_iter=30, restart=None)
    theirs = ForwardBackward(x=x0.copy(), grad=_modopt_gradient(fourier, kspace),
                             prox=to_modopt(prox), cost=None, beta_param=1.0,
                             lambda_update=schedule.update_lambda, auto_iterate=False,
                             progress=False)
    theirs.iterate(max_iter=30, progbar=None)
    # ModOpt's ForwardBackward reports the extrapolated point z as x_final; compare x
    err = np.linalg.norm(ours.x - theirs._x_new) / np.linalg.norm(theirs._x_new)
    assert err < 1e-5


def test_pogm_matches_modopt(mri_problem):
    from modopt.opt.algorithms import POGM
    from pysap_mri_dl.prox import to_modopt
    fourier, kspace, wavelet, lam = mri_problem
    prox = Analysis(wavelet, SoftThreshold(lam))
    x0 = fourier.adj_op(kspace)
    ours = pogm(LeastSquares(fourier, kspace), prox, x0=x0, step=1.0, n_iter=30)
    theirs = POGM(u=x0.copy(), x=x0.copy(), y=x0.copy(), z=x0.copy(),
                  grad=_modopt_gradient(fourier, kspace), prox=to_modopt(prox), cost=None,
                  beta_param=1.0, auto_iterate=False, progress=False)
    theirs.iterate(max_iter=30, progbar=None)
    err = np.linalg.norm(ours.x - theirs.x_final) / np.linalg.norm(theirs.x_final)
    assert err < 1e-5


def test_primal_dual_matches_modopt_condat(mri_problem):
    from modopt.opt.algorithms import Condat
    from modopt.opt.linear import LinearParent
    from pysap_mri_dl.prox import to_modopt
    fourier, kspace, wavelet, lam = mri_problem
    x0 = fourier.adj_op(kspace)
    u0 = wavelet.op(x0)
    tau, sigma = 0.6, 0.5
    ours = primal_dual(LeastSquares(fourier, kspace), SoftThreshold(lam), wavelet, x0=x0, u0=u0,
                       tau=tau, sigma=sigma, n_iter=30)
    theirs = Condat(x=x0.copy(), y=u0.copy(), grad=_modopt_gradient(fourier, kspace),
                    prox=to_modopt(Identity()), prox_dual=to_modopt(SoftThreshold(lam)),
                    linear=LinearParent(wavelet.op, wavelet.adj_op), cost=None, tau=tau,
                    sigma=sigma, rho=1.0, auto_iterate=False, progress=False)
    theirs.iterate(max_iter=30, progbar=None)
    err = np.linalg.norm(ours.x - theirs.x_final) / np.linalg.norm(theirs.x_final)
    assert err < 1e-5
