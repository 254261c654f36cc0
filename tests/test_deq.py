"""Deep equilibrium models: root finders on known contractions, each backward pass against
finite differences, SHINE's fallback, diverging solves, memory flat in depth, and the DEQ
reconstruction model through the training and reconstruction commands."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pysap_mri_dl.cli import main  # noqa: E402
from pysap_mri_dl.learn.deq import anderson, broyden, equilibrium, fixed_point  # noqa: E402
from pysap_mri_dl.learn.deq.memory import saved_for_backward  # noqa: E402


def _contraction(n=30, norm=0.8, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n, n, generator=g, dtype=torch.float64)
    return norm * W / torch.linalg.matrix_norm(W, 2)


@pytest.mark.parametrize("solver", [broyden, anderson, fixed_point])
def test_solvers_reach_the_fixed_point_of_a_linear_contraction(solver):
    """z = W z + b has the fixed point (I - W)^{-1} b; batches solve independently;
    complex inputs are solved on their real and imaginary parts."""
    W = _contraction()
    b = torch.randn(3, 30, dtype=torch.float64)
    exact = torch.linalg.solve(torch.eye(30, dtype=torch.float64) - W, b.T).T
    solution = solver(lambda z: z @ W.T + b, torch.zeros_like(b), tol=1e-10, max_iter=300)
    assert solution.converged and solution.residual.max() <= 1e-10
    torch.testing.assert_close(solution.z, exact, rtol=1e-8, atol=1e-8)
    zc = torch.zeros(2, 15, dtype=torch.complex128)
    bc = torch.complex(b[:2, :15], b[:2, 15:])
    solution = solver(lambda z: 0.5 * z + bc, zc, tol=1e-10, max_iter=300)
    torch.testing.assert_close(solution.z, 2 * bc, rtol=1e-8, atol=1e-8)


def test_quasi_newton_solvers_beat_plain_iteration():
    Q, _ = torch.linalg.qr(_contraction())
    W = Q @ torch.diag(torch.linspace(0, 0.98, 30, dtype=torch.float64)) @ Q.T  # slow modes
    b = torch.randn(2, 30, dtype=torch.float64)
    f = lambda z: z @ W.T + b  # noqa: E731
    counts = {s.__name__: s(f, torch.zeros_like(b), tol=1e-8, max_iter=500).iterations
              for s in (broyden, anderson, fixed_point)}
    assert counts["broyden"] < counts["fixed_point"] / 2
    assert counts["anderson"] < counts["fixed_point"] / 2


@pytest.mark.parametrize("solver", [fixed_point, anderson])
def test_a_diverging_solve_stops_with_its_reason_and_a_finite_iterate(solver):
    solution = solver(torch.exp, torch.ones(2, 5), tol=1e-6, max_iter=200)  # no fixed point
    assert solution.stop_reason == "diverged"
    assert torch.isfinite(solution.z).all() and solution.iterations < 200


def test_a_run_away_iterate_is_not_taken_for_a_fixed_point():
    """``f(z) = z + u`` has no fixed point, but its relative residual ``|u| / |z + u|``
    falls as the iterate runs away: the norm guard stops it as diverged."""
    u = torch.ones(1, 4)
    solution = fixed_point(lambda z: z + u, torch.ones(1, 4), tol=1e-4, max_iter=100000)
    assert solution.stop_reason == "diverged" and solution.iterations < 5000  # tol: 10,000


@pytest.mark.parametrize("solver", [anderson, broyden, fixed_point])
def test_no_fixed_point_is_never_reported_converged(solver):
    """With a loose tolerance a run-away iterate's relative residual falls below it before
    the norm guard fires: the iterate returned (the best by the residual's norm) decides,
    and it does not meet the tolerance."""
    solution = solver(lambda z: z + 1, torch.zeros(1, 4), tol=0.05, max_iter=500)
    assert solution.stop_reason != "converged"
    assert float(solution.residual.max()) > 0.05


def test_a_slowly_contracting_solve_still_converges():
    """The best iterate must advance when each step improves the residual by only 1e-4
    (a slowly contracting plug-and-play step): it is compared with the best's own residual,
    not with the smallest seen."""
    solution = fixed_point(lambda z: 0.9999 * z + 1, torch.zeros(1, 4), tol=0.5,
                           max_iter=20000)
    assert solution.stop_reason == "converged" and float(solution.residual.max()) <= 0.5


def test_broyden_restarts_from_its_best_iterate_after_a_bad_secant_step():
    """``g(z) = atan(z - 0.5)`` from z = 5: the secant steps overshoot and the plain method
    runs away (as Newton does on atan); with the restart safeguard (the default) a bad step
    is rejected, the solve restarts from its best iterate and converges."""
    f = lambda z: z - torch.atan(z - 0.5)  # noqa: E731
    start = torch.full((1, 1), 5.0, dtype=torch.float64)
    assert broyden(f, start, tol=1e-10, max_iter=200, restart=None).stop_reason == "diverged"
    solution = broyden(f, start, tol=1e-10, max_iter=200)
    assert solution.converged and abs(float(solution.z) - 0.5) < 1e-8


def test_anderson_keeps_a_multisecant_inverse_estimate():
    """Anderson's estimate maps the residual differences of its last iterates onto their
    iterate differences (``H dG = dZ``), so for a linear map whose size does not exceed its
    memory it is the inverse Jacobian ``(I - W)^{-1}`` (measured: 7.2e-4 and 9.6e-4
    relative error for H and H^T, that of the regularised least squares on the last,
    nearly converged differences; 0.11 and 0.12 with a memory of 3 < 4)."""
    W = _contraction(n=4)
    b = torch.randn(2, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    exact = torch.linalg.inv(torch.eye(4, dtype=W.dtype) - W)
    probe = torch.randn(2, 4, generator=torch.Generator().manual_seed(5), dtype=W.dtype)
    for memory, bound in ((4, 1.2e-3), (3, 0.14)):
        H = anderson(lambda z: z @ W.T + b, torch.zeros_like(b), tol=1e-8, max_iter=60,
                     memory=memory).inverse
        for got, want in ((H.apply(probe), probe @ exact.T), (H.apply_t(probe), probe @ exact)):
            error = float((got - want).norm() / want.norm())
            assert error < bound and (memory == 3) == (error > 0.05)


def test_solver_options_are_checked():
    f = lambda z: z  # noqa: E731
    with pytest.raises(ValueError, match="max_iter"):
        broyden(f, torch.zeros(1, 2), max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        anderson(f, torch.zeros(1, 2), tol=0)
    with pytest.raises(ValueError, match="backward must be one of"):
        equilibrium(f, torch.zeros(1, 2), backward="exact")
    with pytest.raises(ValueError, match="needs solver='broyden' or 'anderson'"):
        equilibrium(f, torch.zeros(1, 2), solver="fixed-point", backward="shine")
    with pytest.raises(ValueError, match="opa updates Broyden"):
        equilibrium(f, torch.zeros(1, 2), solver="anderson", backward="shine", opa=True,
                    outer_gradient=f)
    with pytest.raises(ValueError, match="options of the SHINE backward"):
        equilibrium(f, torch.zeros(1, 2), backward="implicit", refine=2)


def _small_deq():
    """z = tanh(W z + x) with a contraction W (0.8): parameters W, loss |z - t|^2."""
    W = _contraction(n=12).requires_grad_(True)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 12, generator=g, dtype=torch.float64)
    target = torch.randn(2, 12, generator=g, dtype=torch.float64)
    return W, x, target


def _deq_gradient(W, x, target, **options):
    info = {}
    z, _ = equilibrium(lambda z: torch.tanh(z @ W.T + x), torch.zeros_like(x), tol=1e-11,
                       max_iter=200, info=info, **options)
    gradient, = torch.autograd.grad(((z - target) ** 2).sum(), W)
    return gradient, info


def _finite_differences(W, x, target, eps=1e-6):
    def loss(matrix):
        z = fixed_point(lambda z: torch.tanh(z @ matrix.T + x), torch.zeros_like(x),
                        tol=1e-13, max_iter=2000).z
        return float(((z - target) ** 2).sum())
    gradient = torch.zeros_like(W)
    base = W.detach()
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            step = torch.zeros_like(base)
            step[i, j] = eps
            gradient[i, j] = (loss(base + step) - loss(base - step)) / (2 * eps)
    return gradient


@pytest.fixture(scope="module")
def reference_gradient():
    W, x, target = _small_deq()
    return _finite_differences(W, x, target)


def _relative_error(gradient, reference):
    return float((gradient - reference).norm() / reference.norm())


def test_backward_passes_against_finite_differences(reference_gradient):
    """Implicit differentiation is exact (to the solves' tolerance); SHINE approximates it
    better than Jacobian-free, refine closes the gap and outer-problem awareness nearly
    does; the measured errors are those docs/deq.rst quotes."""
    W, x, target = _small_deq()
    errors = {}
    for label, options in {"implicit": dict(backward="implicit", backward_tol=1e-11,
                                            backward_max_iter=100),
                           "shine": dict(backward="shine"),
                           "shine-anderson": dict(backward="shine", solver="anderson"),
                           "refine": dict(backward="shine", refine=5),
                           "opa": dict(backward="shine", opa=True,
                                       outer_gradient=lambda z: 2 * (z - target)),
                           "jacobian-free": dict(backward="jacobian-free")}.items():
        gradient, info = _deq_gradient(W, x, target, **options)
        errors[label] = _relative_error(gradient, reference_gradient)
        assert info["stop_reason"] == "converged" and "backward_seconds" in info
    # measured: implicit 1.6e-9 (the finite differences' own accuracy), refine 4.7e-7,
    # OPA 1.15e-3, SHINE 0.148 (Broyden's estimate) and 0.0041 (Anderson's multisecant
    # one, memory 30), Jacobian-free 0.233
    assert errors["implicit"] < 1e-8
    assert errors["refine"] < 2e-6
    assert errors["opa"] < 2e-3
    assert errors["shine"] < 0.16 and errors["jacobian-free"] < 0.25
    assert errors["shine-anderson"] < 0.005
    assert errors["shine"] < errors["jacobian-free"] - 0.05


def test_shine_falls_back_to_the_identity_on_a_bad_estimate():
    W, x, target = _small_deq()
    info = {}
    z, solution = equilibrium(lambda z: torch.tanh(z @ W.T + x), torch.zeros_like(x),
                              tol=1e-10, max_iter=100, info=info)
    solution.inverse.U = solution.inverse.U * 1e6  # an estimate far out of bounds
    gradient, = torch.autograd.grad(((z - target) ** 2).sum(), W)
    assert info["fallback"] == 2
    jacobian_free, _ = _deq_gradient(W, x, target, backward="jacobian-free")
    torch.testing.assert_close(gradient, jacobian_free, rtol=1e-6, atol=1e-9)


def test_deq_memory_is_flat_in_depth_and_unrolled_memory_grows():
    W, x, target = _small_deq()
    f = lambda z: torch.tanh(z @ W.T + x)  # noqa: E731
    deq, unrolled = {}, {}
    for depth in (10, 40):
        with saved_for_backward() as count:
            equilibrium(f, torch.zeros_like(x), tol=1e-30, max_iter=depth)
        deq[depth] = count["bytes"]
        with saved_for_backward() as count:
            z = torch.zeros_like(x)
            for _ in range(depth):
                z = f(z)
        unrolled[depth] = count["bytes"]
    assert deq[40] == deq[10] > 0
    assert unrolled[40] > 2.3 * unrolled[10]  # 2.43x: the iterates kept, W saved once


# --- the DEQ reconstruction model -------------------------------------------------------

TINY = dict(learnlet=dict(n_scales=2, n_filters=4), max_iter=4, start_iterations=3,
            backward_max_iter=20)


@pytest.fixture(scope="module")
def small_case(small_acquisition):
    return small_acquisition("brain_4coil", 3, 0.002)


@pytest.mark.parametrize("backward", ["shine", "implicit", "jacobian-free"])
def test_deq_model_trains_its_step_noise_level_and_learnlet(backward, small_case):
    from pysap_mri_dl.learn import build_model
    from pysap_mri_dl.learn.unrolled.physics import cartesian_measurement
    kspace, mask, reference = small_case
    torch.manual_seed(0)
    net = build_model("deq", kind="reconstruction", backward=backward, **TINY)
    m = cartesian_measurement(kspace, mask)
    target = torch.from_numpy(reference / m.scale)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    loss = (net(m).abs() - target).abs().mean()
    loss.backward()
    assert net.info["forward_iterations"] >= 1 and "backward_seconds" in net.info
    torch.optim.Adam(net.parameters(), lr=1e-2).step()
    moved = [k for k, v in net.state_dict().items() if not torch.equal(v, before[k])]
    assert "log_step" in moved and "log_sigma" in moved
    assert any(k.startswith("denoiser.") for k in moved)


def test_train_and_recon_deq_commands(tmp_path, tiny_volume):
    out = tmp_path / "deq"
    assert main(["train", "--model", "deq", str(tiny_volume), "--out", str(out), "--steps",
                 "2", "--model-config", json.dumps(TINY), "--shape", "48", "48", "--axis",
                 "2", "--train-slices", "0", "8", "--val-slices", "8", "10", "--backward",
                 "shine", "--opa", "--solver", "broyden", "--max-iter", "4", "--coils", "2", "3",
                 "--no-progress"]) == 0
    rows = (out / "log.csv").read_text().splitlines()
    step = dict(zip(rows[0].split(","), rows[1].split(",")))
    assert int(step["forward_iterations"]) >= 1 and float(step["backward_seconds"]) > 0
    assert int(step["fallback"]) in (0, 1)  # SHINE: batch elements that fell back
    assert json.loads((out / "training.json").read_text())["steps"] == 2
    from pysap_mri_dl.learn import load_model
    net, _ = load_model(out / "model.pt", expected="deq", kind="reconstruction")
    assert net.config["opa"] is True and net.config["max_iter"] == 4
    from pysap_mri_dl.data import load_sample
    sample = tmp_path / "brain.npz"
    brain = load_sample("brain_4coil")
    np.savez(sample, kspace=brain.kspace, reference=brain.reference)
    assert main(["recon", str(sample), "--out", str(tmp_path / "recon"), "--acceleration",
                 "4", "--model", "deq", "--weights", str(out / "model.pt"),
                 "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "recon" / "metrics.json").read_text())
    assert metrics["algorithm"] == "deq" and metrics["psnr"] > metrics["zero_filled_psnr"]


@pytest.mark.parametrize("argv, message", [
    (["--model", "pdnet", "--backward", "implicit"], "--backward does not apply"),
    (["--model", "deq", "--backward", "implicit", "--refine", "2"],
     "refine and opa are options of the SHINE backward, received backward='implicit'"),
    (["--model", "deq", "--backward", "shine", "--solver", "fixed-point"],
     "it needs solver='broyden' or 'anderson', received 'fixed-point'"),
    (["--model", "deq", "--backward", "shine", "--solver", "anderson", "--opa"],
     "it needs solver='broyden', received 'anderson'"),
    (["--model", "deq", "--max-iter", "0"], "--max-iter"),
    (["--model", "deq", "--model-config", '{"backward": "shine"}', "--backward", "implicit"],
     "backward given twice, differently: in --model-config and as --backward"),
    (["--model", "deq", "--model-config", '{"memory": 0}'], "memory must be an integer >= 1"),
    (["--model", "deq", "--model-config", '{"sigma": -1}'], "sigma must be a number in (0, 1)"),
])
def test_deq_usage_errors(argv, message, tmp_path, capsys):
    volume = tmp_path / "v.nii.gz"
    volume.write_bytes(b"")
    try:
        code = main(["train", str(volume), "--out", str(tmp_path / "o"), *argv])
    except SystemExit as exc:  # a value the parser rejects (--max-iter 0)
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_non_finite_loss_skips_the_update_and_weights_stay_finite(tmp_path):
    """A diverged solve can make a loss or gradient non-finite: the trainer logs the step
    as skipped and leaves the weights as they were."""
    from pysap_mri_dl.learn.training.trainer import Schedule, fit
    model = torch.nn.Linear(2, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def loss_fn(net, batch):
        out = net(torch.ones(1, 2)).sum()
        return out * float("nan") if batch == 0 else out

    result = fit(model, lambda step, rank, world: step, loss_fn, tmp_path,
                 Schedule(steps=2, lr=0.1), signature={}, progress=False)
    rows = (tmp_path / "log.csv").read_text().splitlines()
    first, second = (dict(zip(rows[0].split(","), row.split(","))) for row in rows[1:3])
    assert first["skipped"] == "1" and second["skipped"] == ""
    assert all(torch.isfinite(v).all() for v in result.model.state_dict().values())
    assert not torch.equal(result.model.weight, before["weight"])  # the second step moved


# --- hyperparameter tuning by SHINE -------------------------------------------------------

@pytest.fixture(scope="module")
def tuning_case(small_acquisition):
    return small_acquisition("brain_slice_2d", 2, 0.005)


def test_tuning_gradients_hessian_and_implicit_hypergradient(tuning_case):
    """The smooth inner problem's gradient and exact Hessian-vector product match finite
    differences; the implicit hypergradient matches finite differences of the outer loss
    through the inner solve (to the inner solver's accuracy). A wide Huber width keeps the
    finite differences away from the kinks of the Hessian."""
    from pysap_mri_dl.recon.tuning import SmoothWaveletProblem, _hypergradient, lbfgs
    problem = SmoothWaveletProblem(*tuning_case, delta=0.005)
    theta = np.array([0.5, 0.0, -0.3, 0.2])
    rng = np.random.default_rng(0)
    x = problem.start + 0.01 * rng.standard_normal(problem.shape)
    v = rng.standard_normal(problem.shape) + 1j * rng.standard_normal(problem.shape)
    eps = 1e-6
    value = lambda y: problem.value_and_grad(y, theta)[0]  # noqa: E731
    grad = problem.value_and_grad(x, theta)[1]
    assert (value(x + eps * v) - value(x - eps * v)) / (2 * eps) == pytest.approx(
        np.real(np.vdot(grad, v)), rel=1e-5)
    difference = (problem.value_and_grad(x + eps * v, theta)[1]
                  - problem.value_and_grad(x - eps * v, theta)[1]) / (2 * eps)
    exact = problem.hessian_vector(x, theta, v)
    assert np.linalg.norm(exact - difference) < 1e-9 * np.linalg.norm(difference)  # 3.5e-10

    def solve(t):
        return lbfgs(lambda y: problem.value_and_grad(y, t), problem.start, tol=1e-10,
                     max_iter=2000)

    solution, history, _ = solve(theta)
    finite = []
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-4
        finite.append((problem.outer(solve(theta + step)[0])[0]
                       - problem.outer(solve(theta - step)[0])[0]) / 2e-4)
    _, implicit = _hypergradient(problem, solution, theta, history, "implicit", 1e-10)
    assert np.linalg.norm(implicit - finite) < 0.003 * np.linalg.norm(finite)  # 0.0020


def test_tuned_weights_plug_into_reconstruct_sense_as_the_tuned_problem(tuning_case):
    """FISTA with TunedWaveletPrior(w) solves the problem that was tuned: 300 iterations land
    within 0.12% of the smooth problem's L-BFGS solution at the same weights (measured
    0.098%), so tuned weights are deployed as tuned."""
    from pysap_mri_dl.recon import reconstruct_sense
    from pysap_mri_dl.recon.tuning import SmoothWaveletProblem, TunedWaveletPrior, lbfgs
    kspace, mask, reference = tuning_case
    weights = np.array([2.0, 1.0, 0.5, 1.5])
    problem = SmoothWaveletProblem(kspace, mask, reference)
    smooth, _, _ = lbfgs(lambda x: problem.value_and_grad(x, np.log(weights)), problem.start,
                         tol=1e-9, max_iter=5000)
    image = reconstruct_sense(kspace, mask, prior=TunedWaveletPrior(weights), n_iter=300).image
    assert np.linalg.norm(image / problem.scale - smooth) < 1.2e-3 * np.linalg.norm(smooth)
    other = reconstruct_sense(kspace, mask, prior=TunedWaveletPrior([1, 1, 4, 4]), n_iter=300)
    assert np.linalg.norm(other.image / problem.scale - smooth) > 0.01 * np.linalg.norm(smooth)
    with pytest.raises(ValueError, match="multiples of 16"):
        reconstruct_sense(kspace[:, :56, :56], mask[:56, :56], prior=TunedWaveletPrior(weights))
    with pytest.raises(ValueError, match="one per detail level"):
        TunedWaveletPrior([1, 1, 1])
    with pytest.raises(ValueError, match="the analysis problem it was tuned in"):
        reconstruct_sense(kspace, mask, prior=TunedWaveletPrior(weights), n_iter=1,
                          formulation="synthesis")
    with pytest.raises(ValueError, match="lam_factor must be"):
        TunedWaveletPrior(weights, lam_factor=-1)
    assert TunedWaveletPrior(weights, lam_factor="auto").lam_factor is None


def test_tuning_stops_at_its_time_budget(tuning_case):
    from pysap_mri_dl.recon.tuning import tune_wavelet_weights
    result = tune_wavelet_weights([tuning_case], steps=5, method="jacobian-free",
                                  max_seconds=1e-9)
    assert len(result.trace) == 1  # the first step already exceeds the budget
    with pytest.raises(ValueError, match="max_seconds must be positive"):
        tune_wavelet_weights([tuning_case], max_seconds=0)
    for options, match in (({"steps": 0}, "steps must be"), ({"lr": -1.0}, "lr must be"),
                           ({"delta": 0.0}, "delta must be"),
                           ({"theta0": [0, 0, 0]}, "theta0 must be")):
        with pytest.raises(ValueError, match=match):
            tune_wavelet_weights([tuning_case], **options)


def test_tune_command_writes_weights_that_recon_uses(tmp_path, tiny_volume, capsys):
    out = tmp_path / "tuned"
    assert main(["tune", str(tiny_volume), "--out", str(out), "--steps", "2", "--examples",
                 "1", "--shape", "48", "48", "--coils", "2", "2", "--train-slices", "0", "8",
                 "--val-slices", "8", "10", "--hypergradient", "shine", "--opa"]) == 0
    tuned = json.loads((out / "tuned.json").read_text())
    assert len(tuned["weights"]) == 4 and len(tuned["trace"]) == 2
    assert "held_out" in tuned["trace"][-1] and tuned["trace"][-1]["seconds"] > 0
    from pysap_mri_dl.data import load_sample
    sample = tmp_path / "brain.npz"
    brain = load_sample("brain_4coil")
    np.savez(sample, kspace=brain.kspace, reference=brain.reference)
    weights = [f"{w}" for w in tuned["weights"]]
    assert main(["recon", str(sample), "--out", str(tmp_path / "recon"), "--acceleration",
                 "4", "--n-iter", "5", "--level-weights", *weights, "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "recon" / "metrics.json").read_text())
    assert metrics["prior"].endswith("-tuned")  # what ran is recorded, weights included
    assert metrics["level_weights"] == pytest.approx(tuned["weights"], rel=1e-12)
    for option in (["--levels", "3"], ["--formulation", "synthesis"]):
        assert main(["recon", str(sample), "--out", str(tmp_path / "bad"), "--level-weights",
                     *weights, *option]) == 2
        assert "--level-weights sets the tuned prior" in capsys.readouterr().err
    assert main(["tune", str(tiny_volume), "--out", str(tmp_path / "t2"), "--opa",
                 "--hypergradient", "implicit"]) == 2
    assert main(["tune", str(tiny_volume), "--out", str(tmp_path / "t3"), "--train-slices",
                 "0", "8", "--val-slices", "6", "10"]) == 2  # held-out slices it trains on
    assert "overlaps --train-slices" in capsys.readouterr().err
    assert main(["tune", str(tiny_volume), "--out", str(tmp_path / "t4"), "--steps", "2",
                 "--examples", "1", "--shape", "48", "48", "--coils", "2", "2",
                 "--train-slices", "0", "8", "--val-slices", "8", "10", "--lr", "1e6"]) == 2
    assert "the tuning diverged" in capsys.readouterr().err  # no non-finite weights written
    assert main(["tune", str(tiny_volume), "--out", str(tmp_path / "t5"), "--shape", "32",
                 "32", "--acceleration", "30"]) == 2  # no centre column left on 32 columns
    assert "--acceleration 30" in capsys.readouterr().err
    assert not any((tmp_path / name).exists() for name in ("bad", "t2", "t3", "t4", "t5"))


def test_a_trained_deq_is_fine_tuned_with_another_backward_pass(tmp_path, tiny_volume):
    """--init FILE takes the file's network and changes how it runs (SHINE with Broyden after
    implicit gradients with Anderson); its structure stays the file's."""
    common = [str(tiny_volume), "--model", "deq", "--steps", "1", "--shape", "48", "48",
              "--axis", "2", "--train-slices", "0", "8", "--val-slices", "8", "10",
              "--coils", "2", "2", "--no-progress"]
    assert main(["train", *common, "--out", str(tmp_path / "first"),
                 "--model-config", json.dumps(TINY)]) == 0
    assert main(["train", *common, "--out", str(tmp_path / "second"), "--init",
                 str(tmp_path / "first" / "model.pt"), "--backward", "shine",
                 "--solver", "broyden", "--max-iter", "3"]) == 0
    from pysap_mri_dl.learn import load_model
    first, _ = load_model(tmp_path / "first" / "model.pt", kind="reconstruction")
    second, _ = load_model(tmp_path / "second" / "model.pt", kind="reconstruction")
    assert (first.config["backward"], second.config["backward"]) == ("implicit", "shine")
    assert second.config["solver"] == "broyden" and second.config["max_iter"] == 3
    assert second.config["learnlet"] == first.config["learnlet"]
