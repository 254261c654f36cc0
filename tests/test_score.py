"""Score-based posterior sampling: the score of a Gaussian prior from its denoiser (exact and
learned by denoising score matching), annealed Langevin on a Gaussian posterior against its
closed form, seeded reproducibility, the command line and its errors."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pysap_mri_dl.learn.score import (LangevinSchedule, ScoreModel,  # noqa: E402
                                      annealed_langevin)

N = 16  # image side of the Gaussian cases


def _spectrum(n=N, width=3.0):
    """Power spectrum ``S(k)`` (per real part) of a smooth stationary Gaussian field, symmetric
    in ``k`` so that the field is real, normalised to unit pixel variance."""
    k = np.fft.fftfreq(n) * n
    s = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * width ** 2)) + 1e-3
    return (s / s.mean()).astype(np.float64)


class Wiener(torch.nn.Module):
    """The exact MMSE denoiser of the zero-mean stationary Gaussian prior of spectrum ``S``
    (unitary FFT, so ``S`` is the variance of each frequency): ``D(x) = F^H S / (S + s^2) F x``."""

    def __init__(self, spectrum):
        super().__init__()
        self.config = {"channels": 1}
        self.register_buffer("spectrum", torch.as_tensor(spectrum))

    def forward(self, x, sigma):
        gain = self.spectrum / (self.spectrum + sigma.reshape(-1, 1, 1, 1).double() ** 2)
        out = torch.fft.ifft2(gain * torch.fft.fft2(x.double(), norm="ortho"), norm="ortho")
        return out.real.to(x.dtype)


def _gaussian_images(spectrum, count, generator):
    white = torch.randn(count, N, N, dtype=torch.complex128, generator=generator)
    return torch.fft.ifft2(torch.as_tensor(spectrum).sqrt() * white, norm="ortho").real


def _closed_form_score(x, spectrum, sigma):
    """``-(C + sigma^2 I)^{-1} x`` on real and imaginary parts."""
    def apply(part):
        return torch.fft.ifft2(torch.fft.fft2(part.double(), norm="ortho") /
                               (torch.as_tensor(spectrum) + sigma ** 2), norm="ortho").real
    return -torch.complex(apply(x.real), apply(x.imag))


def test_the_score_of_a_gaussian_prior_is_tweedie_on_its_mmse_denoiser():
    spectrum = _spectrum()
    model = ScoreModel(Wiener(spectrum))
    g = torch.Generator().manual_seed(0)
    for sigma in (0.05, 0.3, 1.0):
        clean = torch.complex(_gaussian_images(spectrum, 4, g), _gaussian_images(spectrum, 4, g))
        noisy = (clean + sigma * torch.complex(torch.randn(4, N, N, generator=g),
                                               torch.randn(4, N, N, generator=g))).to(torch.complex64)
        expected = _closed_form_score(noisy, spectrum, sigma)
        assert torch.allclose(model.score(noisy, sigma).to(torch.complex128), expected,
                              rtol=1e-4, atol=1e-4 * expected.abs().max())


def test_denoising_score_matching_recovers_the_score_of_a_gaussian_prior():
    """A small CNN trained for 400 steps with the package's score-matching loss
    (log-uniform noise levels, error / sigma^2) on samples of a Gaussian prior points its
    score along the closed form's (cosine >= 0.95) and beats the best prior that ignores the
    correlations (white, unit variance) at every level of the trained range: its error is
    0.68 of that prior's at sigma 0.15 (the 9x9 receptive field of a 4-layer CNN cannot hold
    the field's longest correlations, which dominate at small sigma) and 0.51 / 0.50 at 0.4 /
    0.9 (interior pixels: the CNN pads with zeros where the closed form is periodic). One
    thread and a cosine-decayed rate make the figures reproducible; over training seeds
    they range 0.61-0.69 and 0.48-0.55."""
    from pysap_mri_dl.learn import DnCNN
    from pysap_mri_dl.learn.training.denoising import denoising_loss, draw_sigmas
    spectrum = _spectrum()
    torch.manual_seed(0)
    net = DnCNN(channels=1, depth=4, features=16)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, 400)
    g = torch.Generator().manual_seed(1)
    rng = np.random.default_rng(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # summation order, hence the trained weights, fixed
    try:
        for step in range(400):
            clean = _gaussian_images(spectrum, 32, g).float()[:, None]
            sigma = torch.from_numpy(draw_sigmas(rng, (0.1, 1.0), "log-uniform", 32))
            noisy = clean + sigma.reshape(-1, 1, 1, 1) * torch.randn(clean.shape, generator=g)
            loss = denoising_loss(net, noisy, clean, sigma, "score")
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    finally:
        torch.set_num_threads(threads)
    model = ScoreModel(net.eval())
    inner = (slice(None), slice(4, -4), slice(4, -4))
    for sigma, ratio in ((0.15, 0.72), (0.4, 0.56), (0.9, 0.56)):
        clean = torch.complex(_gaussian_images(spectrum, 16, g), _gaussian_images(spectrum, 16, g))
        noisy = (clean + sigma * torch.complex(torch.randn(16, N, N, generator=g),
                                               torch.randn(16, N, N, generator=g))).to(torch.complex64)
        with torch.no_grad():
            learned = model.score(noisy, sigma).to(torch.complex128)[inner]
        expected = _closed_form_score(noisy, spectrum, sigma)[inner]
        white = -noisy.to(torch.complex128)[inner] / (1 + sigma ** 2)
        error = (learned - expected).abs().norm() / expected.abs().norm()
        baseline = (white - expected).abs().norm() / expected.abs().norm()
        cosine = (learned.conj() * expected).real.sum() / learned.abs().norm() / expected.abs().norm()
        assert cosine >= 0.95 and error <= ratio * baseline, (sigma, float(cosine),
                                                             float(error / baseline))


def test_annealed_langevin_samples_a_gaussian_posterior():
    """Prior N(0, C) (stationary), single-coil Cartesian sampling of half the columns, noise
    0.1: the chains' mean matches the closed-form posterior mean and their pixel variance the
    closed-form posterior variance, within 10%."""
    from pysap_mri_dl.operators import FFT
    from pysap_mri_dl.optim import LeastSquares
    spectrum = _spectrum()
    g = torch.Generator().manual_seed(2)
    truth = torch.complex(_gaussian_images(spectrum, 1, g), _gaussian_images(spectrum, 1, g))[0]
    columns = np.zeros(N, bool)
    columns[np.random.default_rng(3).permutation(N)[:N // 2]] = True
    columns[N // 2 - 2:N // 2 + 2] = True
    mask = np.broadcast_to(columns, (N, N)).copy()
    operator = FFT((N, N), mask=mask)
    noise = 0.1
    y = operator.op(truth.to(torch.complex64)) + noise * torch.complex(
        torch.randn(N, N, generator=g), torch.randn(N, N, generator=g)) * torch.from_numpy(mask)
    data = LeastSquares(operator, y)
    # closed form, frequency by frequency (the package's centred FFT: shift the spectrum)
    s = np.fft.fftshift(spectrum)
    y_hat = y.numpy().astype(np.complex128)
    post_hat = np.where(mask, s / (s + noise ** 2) * y_hat, 0)
    variance = np.where(mask, s * noise ** 2 / (s + noise ** 2), s).mean()  # per real part
    from pysap_mri_dl.operators import ifftn_centered
    post_mean = ifftn_centered(post_hat, 2)
    # annealed Langevin freezes the widest modes where sigma^2 ~ S / (step_scale * steps),
    # a variance excess of about 1 / (step_scale * steps), and a step's discretisation adds
    # about step_scale / 4: 0.1 x 400 keeps both near 2.5%
    schedule = LangevinSchedule(sigma_max=3.0, sigma_min=0.01, n_levels=10, steps_per_level=400,
                                step_scale=0.1)
    samples = annealed_langevin(ScoreModel(Wiener(spectrum)), data.grad,
                                torch.zeros(N, N, dtype=torch.complex64), n_samples=200,
                                noise_level=noise, schedule=schedule, generator=g).numpy()
    mean = samples.mean(0)
    assert np.linalg.norm(mean - post_mean) / np.linalg.norm(post_mean) < 0.1
    measured = 0.5 * (samples.real.var(0) + samples.imag.var(0)).mean()
    assert measured == pytest.approx(variance, rel=0.1)


# --- posterior sampling of real data, the Python call and the command line ----------------

TINY = ["--langevin-levels", "2", "--langevin-steps", "3", "--langevin-sigmas", "0.01", "0.005"]


@pytest.fixture(scope="module")
def untied():
    """A score model for the fast tests: the shipped untied Learnlet (every denoiser is a
    score model over the noise levels it was trained on)."""
    from pysap_mri_dl.learn import pretrained_path
    return pretrained_path("learnlet-untied")


@pytest.fixture(scope="module")
def small_k():
    """The bundled real 4-coil brain at 96^2 (the central 96^2 of its k-space: the whole
    head at a lower resolution), fully sampled: fast chains."""
    from pysap_mri_dl.data import load_sample
    return load_sample("brain_4coil").kspace[:, 80:176, 80:176]


@pytest.fixture(scope="module")
def small_brain(small_k):
    """:func:`small_k` undersampled 4x (random columns, 8% centre)."""
    from pysap_mri_dl.sampling import random_column_mask
    mask = random_column_mask((96, 96), acceleration=4, center_fraction=0.08, seed=0)
    return small_k * mask, mask


def test_seeded_sampling_is_reproducible(untied, small_brain):
    from pysap_mri_dl.learn.score import sample_posterior
    kspace, mask = small_brain
    schedule = LangevinSchedule(n_levels=2, steps_per_level=3)
    first, again, other = (sample_posterior(kspace, mask, n_samples=3, weights=untied,
                                            schedule=schedule, seed=seed)
                           for seed in (4, 4, 5))
    assert first.samples.shape == (3, 96, 96) and first.std.shape == (96, 96)
    np.testing.assert_array_equal(first.samples, again.samples)
    assert not np.allclose(first.samples, other.samples)
    assert np.all(first.std > 0) and first.noise_level > 0


def test_the_auto_start_is_plug_and_play_at_4x_and_wavelet_fista_at_8x(untied, small_k):
    """``start='auto'`` (the default) starts the chains from the classical image that is
    better at the mask's acceleration: plug-and-play below 5.5x (and on trajectories),
    wavelet FISTA from there; the same chains as the start it resolves to."""
    from pysap_mri_dl.learn.score import posterior_start, sample_posterior
    from pysap_mri_dl.sampling import random_column_mask
    assert posterior_start(None) == posterior_start(4.27) == posterior_start(5.4) == "pnp"
    assert posterior_start(5.5) == posterior_start(7.11) == posterior_start(16) == "wavelet"
    schedule = LangevinSchedule(n_levels=2, steps_per_level=3)
    for acceleration, expected in ((4, "pnp"), (8, "wavelet")):
        mask = random_column_mask((96, 96), acceleration=acceleration,
                                  center_fraction=0.32 / acceleration, seed=0)
        auto, explicit = (sample_posterior(small_k * mask, mask, n_samples=2, weights=untied,
                                           schedule=schedule, start=start, seed=1)
                          for start in ("auto", expected))
        assert auto.start == explicit.start == expected
        np.testing.assert_array_equal(auto.samples, explicit.samples)
    with pytest.raises(ValueError, match="start must be 'auto' or one of"):
        sample_posterior(small_k * mask, mask, n_samples=2, weights=untied, start="fista")
    for bad in ("8", float("nan"), -2, True):
        with pytest.raises(ValueError, match="acceleration must be a finite number > 0"):
            posterior_start(bad)


@pytest.mark.parametrize("value", [1, 0, -2, 2.5, True, "3"])
def test_sample_posterior_rejects_bad_sample_counts(untied, small_brain, value):
    from pysap_mri_dl.learn.score import sample_posterior
    with pytest.raises(ValueError, match="n_samples"):
        sample_posterior(*small_brain, n_samples=value, weights=untied)


def test_the_command_line_samples_with_the_schedule_the_calibration_was_fitted_for():
    """recon's posterior defaults are ``LangevinSchedule()``'s and ``STD_SMOOTHING``, and the
    shipped score model's calibration was fitted with them (it holds for them only)."""
    from pysap_mri_dl.cli.main import POSTERIOR_DEFAULTS
    from pysap_mri_dl.learn.score import load_score_model
    from pysap_mri_dl.learn.score.posterior import DEFAULT_START, STD_SMOOTHING
    default = LangevinSchedule()
    assert (POSTERIOR_DEFAULTS["langevin_levels"], POSTERIOR_DEFAULTS["langevin_steps"],
            tuple(POSTERIOR_DEFAULTS["langevin_sigmas"])) == (
        default.n_levels, default.steps_per_level, (default.sigma_max, default.sigma_min))
    assert POSTERIOR_DEFAULTS["std_smoothing"] == STD_SMOOTHING
    fitted = load_score_model().meta["calibration"]
    assert fitted["schedule"] == default.as_dict() and fitted["n_samples"] == 8
    assert fitted["std_smoothing"] == STD_SMOOTHING
    assert fitted["start"] == DEFAULT_START and fitted["regression"] is not None


def test_pooled_std_averages_the_variance_over_neighbours():
    """0 pixels: the per-pixel standard deviation; otherwise the variance is averaged over a
    Gaussian window (a constant variance map stays, an isolated peak spreads and lowers);
    a negative or infinite width is a named error."""
    from pysap_mri_dl.learn.score.posterior import pooled_std
    rng = np.random.default_rng(0)
    samples = rng.normal(size=(8, 32, 32))
    np.testing.assert_allclose(pooled_std(samples, 0), samples.std(0, ddof=1))
    flat = np.stack([np.full((16, 16), v) for v in (1.0, 3.0)])
    np.testing.assert_allclose(pooled_std(flat, 2.0), np.full((16, 16), np.sqrt(2.0)))
    peak = np.zeros((2, 15, 15))
    peak[1, 7, 7] = 2.0
    pooled = pooled_std(peak, 1.0)
    assert 0 < pooled[7, 7] < pooled_std(peak, 0)[7, 7] and pooled[7, 8] > 0
    assert pooled[0, 0] == 0
    # pooling removes part of the estimator's noise: a closer match to the true std of 1
    assert np.std(pooled_std(samples, 1.0)) < 0.5 * np.std(pooled_std(samples, 0))
    for bad in (-1.0, float("inf"), "1", True, None):
        with pytest.raises(ValueError, match="std_smoothing"):
            pooled_std(samples, bad)


def test_recalibrate_refits_a_score_file_and_keeps_its_other_records(tmp_path, untied,
                                                                    tiny_volume):
    """``recalibrate`` (what ``train --model score`` runs after training) fits the factors
    on acquisitions of the file's own training slices with the given schedule and rewrites
    only the calibration record; weights and training records stay."""
    from pysap_mri_dl.learn.score.training import recalibrate
    from pysap_mri_dl.learn.weights import load_denoiser, save_denoiser
    denoiser, meta = load_denoiser(untied)
    path = tmp_path / "score.pt"
    save_denoiser(path, denoiser, name="learnlet", meta=dict(meta, train_slices=[0, 8]))
    schedule = LangevinSchedule(n_levels=2, steps_per_level=3)
    new = recalibrate(path, [tiny_volume], 2, schedule=schedule, std_smoothing=0.0)
    refitted, stored = load_denoiser(path)
    assert stored == new and stored["calibration"]["schedule"] == schedule.as_dict()
    assert stored["calibration"]["std_smoothing"] == 0.0
    assert stored["calibration"]["examples"] == 2
    assert [a for a, _ in stored["calibration"]["per_acceleration"]] == [4.0, 8.0]
    assert all(f > 0 for _, f in stored["calibration"]["per_acceleration"])
    others = {k: v for k, v in stored.items() if k != "calibration"}
    assert others == dict(meta, train_slices=[0, 8])
    for a, b in zip(denoiser.state_dict().values(), refitted.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    bare = tmp_path / "bare.pt"
    save_denoiser(bare, denoiser, name="learnlet", meta={})
    with pytest.raises(ValueError, match="records no train_slices"):
        recalibrate(bare, [tiny_volume], 2, schedule=schedule)


def test_bad_schedules_are_named():
    with pytest.raises(ValueError, match="sigma_min <= sigma_max"):
        LangevinSchedule(sigma_max=0.01, sigma_min=0.1)
    with pytest.raises(ValueError, match="step_scale"):
        LangevinSchedule(step_scale=2.0)
    with pytest.raises(ValueError, match="steps_per_level must be an integer >= 1"):
        LangevinSchedule(steps_per_level=0)
    with pytest.raises(ValueError, match="sigma_max <= 10"):  # relative to the image maximum
        LangevinSchedule(sigma_max=1e20)


@pytest.fixture(scope="module")
def brain_file(tmp_path_factory, small_k):
    """:func:`small_k` as a fully sampled file (recon undersamples it)."""
    path = tmp_path_factory.mktemp("posterior") / "brain96.npz"
    np.savez(path, kspace=small_k)
    return path


@pytest.mark.parametrize("smoothing", [1.0, 0.0])
def test_recon_posterior_samples_writes_mean_std_samples_and_coverage(tmp_path, brain_file,
                                                                      untied, smoothing):
    import nibabel as nib

    from pysap_mri_dl.cli import main
    out = tmp_path / "out"
    option = [] if smoothing == 1.0 else ["--std-smoothing", str(smoothing)]  # the default
    assert main(["recon", str(brain_file), "--out", str(out), "--acceleration", "4",
                 "--posterior-samples", "3", "--weights", str(untied), "--no-progress",
                 *TINY, *option]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "recon.nii.gz",
                                                     "recon.png", "samples.nii.gz",
                                                     "std.nii.gz"]
    mean = np.asarray(nib.load(out / "recon.nii.gz").dataobj)
    std = np.asarray(nib.load(out / "std.nii.gz").dataobj)
    samples = np.asarray(nib.load(out / "samples.nii.gz").dataobj)
    assert mean.shape == std.shape == (96, 96) and samples.shape == (3, 96, 96)
    # samples.nii.gz holds magnitudes: the mean of the complex samples is no larger than
    # the mean of their magnitudes; std is their spread, pooled over one pixel by default,
    # per pixel with --std-smoothing 0 (an uncalibrated denoiser file)
    from pysap_mri_dl.learn.score.posterior import pooled_std
    assert np.all(mean <= samples.mean(0) * (1 + 1e-5) + 1e-6 * mean.max())
    expected = pooled_std(samples, 1.0) if smoothing else samples.std(0, ddof=1)
    np.testing.assert_allclose(expected, std, rtol=1e-4, atol=1e-6 * mean.max())
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 < metrics["coverage_90"] < 1 and -1 <= metrics["std_error_correlation"] <= 1
    assert metrics["posterior_samples"] == 3 and metrics["n_iter"] == 6
    # per Langevin step: the chains alone, not the start's plug-and-play or the loading
    assert metrics["seconds_per_iter"] * metrics["n_iter"] < 0.8 * metrics["seconds"]
    assert metrics["std_smoothing"] == smoothing
    assert metrics["psnr"] > metrics["zero_filled_psnr"]


@pytest.mark.parametrize("argv, message", [
    (["--posterior-samples", "1"], "--posterior-samples: expected an integer >= 2"),
    (["--posterior-samples", "0"], "--posterior-samples: expected an integer >= 2"),
    (["--posterior-samples", "many"], "--posterior-samples: expected an integer >= 2"),
    (["--posterior-samples", "2.5"], "--posterior-samples: expected an integer >= 2"),
    (["--posterior-samples", "4", "--std-smoothing", "-1"], "--std-smoothing: expected"),
])
def test_bad_posterior_sample_counts_exit_2(tmp_path, brain_file, capsys, argv, message):
    from pysap_mri_dl.cli import main
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["recon", str(brain_file), "--out", str(out), *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--posterior-samples", "4", "--model", "pdnet"], "--posterior-samples is exclusive with "
                                                       "--model"),
    (["--posterior-samples", "4", "--prior", "learnlet"], "--prior does not apply to "
                                                          "--posterior-samples"),
    (["--posterior-samples", "4", "--prior", "wavelet"], "--prior does not apply to "
                                                         "--posterior-samples"),
    (["--posterior-samples", "4", "--n-iter", "5"], "--n-iter does not apply to "
                                                    "--posterior-samples"),
    (["--langevin-steps", "5"], "--langevin-steps applies to --posterior-samples only"),
    (["--noise-level", "0.1"], "--noise-level applies to --posterior-samples only"),
    (["--std-smoothing", "2"], "--std-smoothing applies to --posterior-samples only"),
    (["--posterior-samples", "4", "--langevin-sigmas", "0.001", "0.01"], "MAX must be >= MIN"),
    (["--posterior-samples", "2", "--std-smoothing", "1e12"], "std_smoothing must be a number "
                                                              "of pixels in [0, 64]"),
])
def test_posterior_usage_errors_exit_2_and_write_nothing(tmp_path, brain_file, capsys, argv,
                                                         message):
    from pysap_mri_dl.cli import main
    out = tmp_path / "out"
    assert main(["recon", str(brain_file), "--out", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_the_calibration_is_interpolated_in_the_log_of_the_acceleration():
    model = ScoreModel(torch.nn.Identity(), calibration=3.0, per_acceleration=((4, 2.0), (8, 4.0)))
    assert model.calibration_at(None) == 3.0
    assert model.calibration_at(4) == pytest.approx(2.0)
    assert model.calibration_at(np.sqrt(32)) == pytest.approx(3.0)  # halfway in log
    assert model.calibration_at(2) == pytest.approx(2.0) and model.calibration_at(16) == 4.0
    assert ScoreModel(torch.nn.Identity(), calibration=1.5).calibration_at(8) == 1.5


def test_the_calibration_regression_recovers_a_known_law_and_clips_its_features():
    """Examples whose error-to-spread ratios follow a power law of acceleration, coils and
    noise: the regression finds its exponents, the pooled 90% quantile lands at 1.645, and
    at inference the features are clipped to the fitted ranges."""
    from pysap_mri_dl.learn.score.calibration import _regression
    from pysap_mri_dl.learn.score.model import calibration_features
    from pysap_mri_dl.metrics import Z_90
    rng = np.random.default_rng(0)
    rows = [(rng.uniform(3.8, 8.2), int(rng.integers(1, 13)), rng.uniform(1e-3, 5e-3))
            for _ in range(12)]

    def law(a, c, n):
        return 2.0 * a ** 0.8 * c ** -0.3 * n ** 0.1
    base = np.abs(rng.standard_normal(20000))
    ratios = [base * law(*row) for row in rows]
    needed = [np.quantile(r, 0.9) / Z_90 for r in ratios]
    fit = _regression([calibration_features(*row) for row in rows], needed, ratios)
    q = np.quantile(base, 0.9) / Z_90
    np.testing.assert_allclose(fit["coefficients"], [np.log(2.0 * q), 0.8, -0.3, 0.1],
                               atol=1e-6)
    model = ScoreModel(torch.nn.Identity(), calibration=3.0, per_acceleration=((4, 2.0),),
                       regression=fit)
    a, c, n = rows[0]
    assert model.calibration_at(a, c, n) == pytest.approx(q * law(a, c, n))
    top = max(row[0] for row in rows)
    assert model.calibration_at(50.0, c, n) == pytest.approx(q * law(top, c, n))
    assert model.calibration_at(a, c, 0.0) == model.calibration_at(a, c, min(r[2] for r in rows))
    assert model.calibration_at(4, None, None) == 2.0  # a feature unknown: per acceleration
    assert _regression([calibration_features(*row) for row in rows[:7]], needed[:7],
                       ratios[:7]) is None  # fewer than 2 examples per coefficient
    same_coils = [(row[0], 4, row[2]) for row in rows]
    assert _regression([calibration_features(*row) for row in same_coils], needed,
                       ratios) is None  # a feature that does not vary


def test_sample_posterior_applies_the_regression_at_its_acceleration_coils_and_noise(
        untied, small_brain, small_k):
    """Cartesian data: the factor is the regression's at the mask's acceleration, the coil
    count and the estimated noise relative to the zero-filled maximum; trajectories (no
    acceleration) take the overall factor, with the plug-and-play start on the
    density-weighted NUFFT model."""
    from pysap_mri_dl.learn.score import sample_posterior
    from pysap_mri_dl.learn.score.model import load_score_model
    from pysap_mri_dl.operators import NUFFT, ifftn_centered
    from pysap_mri_dl.sampling import acceleration_of, radial
    model = load_score_model(untied)
    model.calibration = 3.0
    model.regression = {"features": ["log_acceleration", "log_coils", "log_noise"],
                        "coefficients": [0.5, 1.0, -0.5, 0.1],
                        "ranges": [[0.0, 3.0], [0.0, 3.0], [-12.0, 0.0]]}
    schedule = LangevinSchedule(n_levels=2, steps_per_level=3)
    kspace, mask = small_brain
    posterior = sample_posterior(kspace, mask, n_samples=2, weights=model, schedule=schedule)
    relative = posterior.noise_level / posterior.zero_filled.max()
    assert posterior.acquisition == {"acceleration": acceleration_of(mask), "coils": 4,
                                     "relative_noise": pytest.approx(relative)}
    assert posterior.calibration == pytest.approx(
        model.calibration_at(acceleration_of(mask), 4, relative))
    assert posterior.calibration == pytest.approx(
        np.exp(0.5) * acceleration_of(mask) * 4 ** -0.5 * relative ** 0.1, rel=1e-6)
    coils = ifftn_centered(small_k, 2).astype(np.complex64)
    trajectory = radial(32, 96, golden=True)
    samples = NUFFT(trajectory, (96, 96), n_coils=4).op(coils)
    posterior = sample_posterior(samples, trajectory=trajectory, shape=(96, 96), n_samples=2,
                                 weights=model, schedule=schedule)
    assert posterior.calibration == 3.0 and posterior.mean.shape == (96, 96)
    assert posterior.acquisition["acceleration"] is None and posterior.acquisition["coils"] == 4
    assert np.all(np.isfinite(posterior.std)) and posterior.std.max() > 0


def test_the_calibration_is_fitted_per_acceleration_and_applied_at_the_masks(untied, small_k):
    """Two acquisitions of the small brain, 4x and 8x: one factor per acceleration, the
    overall one between them (a quantile of the union lies between the groups' quantiles),
    and sample_posterior applies the factor of its mask's acceleration."""
    from pysap_mri_dl.calibration import rss
    from pysap_mri_dl.learn.data.acquisitions import Example
    from pysap_mri_dl.learn.score import sample_posterior
    from pysap_mri_dl.learn.score.calibration import fit_calibration
    from pysap_mri_dl.learn.score.model import load_score_model
    from pysap_mri_dl.sampling import acceleration_of, random_column_mask
    reference = rss(np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(small_k, axes=(-2, -1)),
                                                 norm="ortho"), axes=(-2, -1)))
    masks = [random_column_mask((96, 96), acceleration=a, center_fraction=0.32 / a, seed=1)
             for a in (4, 8)]
    examples = [Example((small_k * m).astype(np.complex64), reference, (96, 96), mask=m)
                for m in masks]
    schedule = LangevinSchedule(n_levels=2, steps_per_level=3)
    model = load_score_model(untied)
    fitted = fit_calibration(model, examples, n_samples=2, schedule=schedule)
    (a4, f4), (a8, f8) = fitted["per_acceleration"]
    assert (a4, a8) == (4, 8) and f4 > 0 and f8 > 0 and f4 != f8
    assert min(f4, f8) <= fitted["scale"] <= max(f4, f8)
    model.per_acceleration = tuple(map(tuple, fitted["per_acceleration"]))
    posterior = sample_posterior(small_k * masks[1], masks[1], n_samples=2, weights=model,
                                 schedule=schedule)
    assert posterior.calibration == pytest.approx(model.calibration_at(acceleration_of(masks[1])))
    assert posterior.calibration == pytest.approx(f8, rel=0.15)


@pytest.mark.slow
@pytest.mark.parametrize("acceleration, centre, start, measured", [
    (4, 0.08, "pnp", dict(mean=34.94, coverage=0.939, rho=0.349, factor=2.63, std=0.0261)),
    (8, 0.04, "wavelet", dict(mean=29.02, coverage=0.957, rho=0.345, factor=5.75, std=0.0557)),
])
def test_posterior_on_the_real_t2_brain_is_what_the_docs_say(brain, acceleration, centre, start,
                                                             measured):
    """docs/uncertainty.rst (benchmarks/posterior.py): the default sampler and the shipped
    calibration on the real 4-coil T2 brain, never seen in training; the chains start from
    plug-and-play at 4x and from wavelet FISTA at 8x; the mean is above wavelet FISTA (34.81
    and 28.86 dB), the coverage within 0.93-0.97, rho above 0.32."""
    from pysap_mri_dl.learn.score import sample_posterior
    from pysap_mri_dl.metrics import (foreground, interval_coverage, psnr,
                                      uncertainty_correlation)
    from pysap_mri_dl.sampling import random_column_mask
    mask = random_column_mask((256, 256), acceleration=acceleration, center_fraction=centre,
                              seed=0)
    posterior = sample_posterior((brain.kspace * mask).astype(np.complex64), mask)
    reference = brain.reference
    assert posterior.start == start
    wavelet = {4: 34.81, 8: 28.86}[acceleration]
    assert psnr(reference, posterior.mean) > max(wavelet, measured["mean"] - 0.1)
    coverage = interval_coverage(reference, posterior.mean, posterior.std)
    assert 0.93 < coverage < 0.97 and abs(coverage - measured["coverage"]) < 0.01
    rho = uncertainty_correlation(reference, posterior.mean, posterior.std)
    assert rho > 0.32 and abs(rho - measured["rho"]) < 0.02
    assert posterior.calibration == pytest.approx(measured["factor"], abs=0.01)
    std = posterior.std[foreground(reference)].mean() / reference.max()
    assert std == pytest.approx(measured["std"], rel=0.05)


def test_a_later_run_of_another_kind_leaves_no_posterior_maps(tmp_path, brain_file, untied):
    """recon into a folder that holds a posterior run's outputs: its std and samples go,
    they would not describe the new image."""
    from pysap_mri_dl.cli import main
    out = tmp_path / "out"
    assert main(["recon", str(brain_file), "--out", str(out), "--acceleration", "4",
                 "--posterior-samples", "2", "--weights", str(untied), "--no-progress",
                 *TINY]) == 0
    assert (out / "std.nii.gz").exists()
    assert main(["recon", str(brain_file), "--out", str(out), "--acceleration", "4",
                 "--n-iter", "2", "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "recon.nii.gz",
                                                     "recon.png"]


def test_posterior_api_names_what_does_not_apply(untied, small_brain):
    from pysap_mri_dl.learn.score import sample_posterior
    from pysap_mri_dl.learn.score.posterior import pooled_std
    from pysap_mri_dl.metrics import uncertainty_correlation
    kspace, mask = small_brain
    with pytest.raises(ValueError, match="shape and density apply to data on a trajectory"):
        sample_posterior(kspace, mask, shape=(96, 96), density="pipe", weights=untied)
    with pytest.raises(ValueError, match="mask applies to Cartesian k-space"):
        sample_posterior(kspace[:, :, 0], mask, trajectory=np.zeros((96, 2)), shape=(96, 96),
                         weights=untied)
    for bad in ("a", True):
        with pytest.raises(ValueError, match="noise_level must be a finite number"):
            sample_posterior(kspace, mask, noise_level=bad, weights=untied)
    with pytest.raises(ValueError, match="K >= 2 samples"):
        pooled_std(np.ones((1, 8, 8)))
    reference = np.random.default_rng(0).random((16, 16)) + 1
    with pytest.raises(ValueError, match=r"std must be a finite non-negative array of shape"):
        uncertainty_correlation(reference, reference, np.ones((8, 8)))
    # a constant map has no ranks: NaN (null in metrics.json), not an error after sampling
    assert np.isnan(uncertainty_correlation(reference, reference, np.ones((16, 16))))
