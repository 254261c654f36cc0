"""Masks, self-calibrated maps, metrics and bundled data."""
import numpy as np
import pytest

from pysap_mri_dl.calibration import calibration_region, rss, self_calibrated_smaps
from pysap_mri_dl.data import SAMPLES, load_sample
from pysap_mri_dl.metrics import nrmse, psnr, ssim
from pysap_mri_dl.sampling import (acceleration_of, cartesian_mask, equispaced_column_mask,
                                   random_column_mask, variable_density_mask)


@pytest.mark.parametrize("kind", ["random", "equispaced", "variable-density"])
@pytest.mark.parametrize("acceleration", [4, 8])
def test_masks_reach_acceleration_and_sample_the_centre(kind, acceleration):
    shape = (320, 320)
    mask = cartesian_mask(kind, shape, acceleration=acceleration,
                          center_fraction=0.08 if acceleration == 4 else 0.04, seed=0)
    assert mask.shape == shape and mask.dtype == bool
    assert abs(acceleration_of(mask) - acceleration) / acceleration < 0.15
    assert mask[160, 160] and mask[155:165, 158:162].all()
    again = cartesian_mask(kind, shape, acceleration=acceleration,
                           center_fraction=0.08 if acceleration == 4 else 0.04, seed=0)
    np.testing.assert_array_equal(mask, again)


def test_column_masks_sample_whole_columns_and_centre_fraction():
    mask = random_column_mask((64, 100), acceleration=4, center_fraction=0.1, seed=3)
    assert (mask == mask[:1]).all()
    assert mask[0, 45:55].all()
    eq = equispaced_column_mask((64, 100), acceleration=4, center_fraction=0.1, seed=3)
    # 10 centre columns + 90 / k outer ones = 25 columns: spacing k = 6
    gaps = np.diff(np.flatnonzero(eq[0, :40]))
    assert set(gaps) == {6}
    assert abs(acceleration_of(eq) - 4) < 0.3


def test_variable_density_is_denser_at_the_centre():
    mask = variable_density_mask((256, 256), acceleration=6, seed=0)
    centre = mask[96:160, 96:160].mean()
    edge = np.concatenate([mask[:32].ravel(), mask[-32:].ravel()]).mean()
    assert centre > 3 * edge


@pytest.mark.parametrize("kwargs, message", [
    (dict(acceleration=0.5, center_fraction=0.08), "acceleration"),
    (dict(acceleration=4, center_fraction=1.5), "center_fraction"),
    (dict(acceleration=4, center_fraction=0.5), "samples more than"),
])
def test_mask_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        random_column_mask((64, 64), seed=0, **kwargs)
    with pytest.raises(ValueError, match="mask kind"):
        cartesian_mask("spiral", (64, 64), acceleration=4, center_fraction=0.08)


def test_calibration_region_and_smaps_recover_smooth_maps():
    ny = nx = 96
    yy, xx = np.mgrid[:ny, :nx] / ny
    true = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) * 3) * np.exp(1j * (cx - cy))
                     for cy, cx in [(0, 0), (0, 1), (1, 0), (1, 1)]])
    true /= rss(true)
    image = np.zeros((ny, nx))
    image[20:76, 24:72] = 1.0
    from pysap_mri_dl.operators import FFT
    kspace = FFT((ny, nx)).op((true * image).astype(np.complex64))
    mask = random_column_mask((ny, nx), acceleration=3, center_fraction=0.2, seed=0)
    region = calibration_region(mask)
    assert region[0] == slice(0, ny) and region[1].stop - region[1].start >= 19
    smaps = self_calibrated_smaps(kspace * mask, mask=mask)
    inside = image > 0
    # estimated maps match the true ones up to a common phase, where there is signal
    corr = np.abs(np.sum(np.conj(smaps) * true, axis=0))[inside]
    assert np.median(corr) > 0.95


def test_metrics_follow_fastmri_conventions():
    ref = np.zeros((32, 32))
    ref[8:24, 8:24] = 2.0
    noisy = ref + 0.02 * np.random.default_rng(0).standard_normal(ref.shape)
    mse = np.mean((ref - noisy) ** 2)
    assert psnr(ref, noisy) == pytest.approx(10 * np.log10(4.0 / mse))
    assert psnr(ref, ref) == float("inf")
    assert nrmse(ref, noisy) == pytest.approx(np.linalg.norm(ref - noisy) / np.linalg.norm(ref))
    assert 0.5 < ssim(ref, noisy) < 1.0 and ssim(ref, ref) == pytest.approx(1.0)
    assert psnr(ref, -1j * ref) == float("inf")  # magnitudes are compared
    with pytest.raises(ValueError, match="does not match"):
        psnr(ref, ref[:10])


def test_bundled_samples():
    assert set(SAMPLES) == {"brain_4coil", "brain_slice_2d", "radial_cardiac", "gre_raw"}
    brain = load_sample("brain_4coil")
    assert brain.kspace.shape == (4, 256, 256) and brain.kspace.dtype == np.complex64
    assert brain.reference.shape == (256, 256) and brain.n_coils == 4
    slice2d = load_sample("brain_slice_2d")
    assert slice2d.kspace.shape == (512, 512) and slice2d.n_coils == 1
    cardiac = load_sample("radial_cardiac")
    assert cardiac.kspace.shape == (12, 6400) and cardiac.trajectory.shape == (6400, 2)
    assert cardiac.shape == (256, 256) and cardiac.trajectory.max() < 0.5
    with pytest.raises(ValueError, match="unknown sample"):
        load_sample("knee")


def test_bundled_cardiac_matches_shared_data(shared_data):
    original = np.load(shared_data / "kspace" / "gpunufft_radial_cardiac_25proj_12ch.npz")
    cardiac = load_sample("radial_cardiac")
    np.testing.assert_array_equal(cardiac.kspace.reshape(12, 25, 256),
                                  original["kspace"].transpose(2, 1, 0))


def test_bundled_brain_matches_shared_data(shared_data):
    original = np.load(shared_data / "images" / "gpunufft_brain_4ch_coilimages.npz")["coil_images"]
    brain = load_sample("brain_4coil")
    np.testing.assert_allclose(brain.reference, rss(original.transpose(2, 0, 1)), rtol=1e-5)


def test_kspace_noise_level_recovers_the_noise_of_real_and_simulated_data():
    from pysap_mri_dl.calibration import kspace_noise_level
    from pysap_mri_dl.data.simulation import simulate_acquisition
    from pysap_mri_dl.operators import ifftn_centered
    yy, xx = np.mgrid[-1:1:128j, -1:1:128j]
    smooth = np.exp(-(yy ** 2 + 2 * xx ** 2) * 3)
    for noise in (0.001, 0.005):
        acq = simulate_acquisition(smooth, n_coils=4, noise=noise, seed=0)
        mask = random_column_mask((128, 128), acceleration=4, center_fraction=0.08, seed=0)
        assert kspace_noise_level(acq.kspace * mask, mask) == pytest.approx(noise, rel=0.05)
    # real 4-coil data: against the noise of a signal-free image corner (measured 9.2e-6
    # against 7.2e-6: what signal reaches the k-space corners adds a little)
    brain = load_sample("brain_4coil")
    corner = ifftn_centered(brain.kspace, 2)[:, :20, :20]
    assert kspace_noise_level(brain.kspace) == pytest.approx(np.std(corner.real), rel=0.35)
    assert kspace_noise_level(np.zeros((2, 32, 32), np.complex64)) == 0.0
    with pytest.raises(ValueError, match="band"):
        kspace_noise_level(acq.kspace, band=0.6)


def test_self_calibrated_support_follows_the_noise_not_the_intensity():
    """With noise, the maps are zero in the signal-free background and kept on faint
    tissue; noise-free data keep every pixel; support=0 disables the crop."""
    from scipy.ndimage import gaussian_filter

    from pysap_mri_dl.data.simulation import simulate_acquisition
    image = np.zeros((128, 128), np.float32)
    image[32:96, 32:96] = 1.0
    image[52:76, 52:76] = 0.02  # faint, but well above the noise
    image = gaussian_filter(image, 2)  # no sharp edges: the k-space corners hold no signal
    mask = random_column_mask((128, 128), acceleration=4, center_fraction=0.15, seed=0)
    noisy = simulate_acquisition(image, n_coils=4, noise=0.001, phase=0, seed=0)
    support = rss(self_calibrated_smaps(noisy.kspace * mask, mask=mask)) > 0
    assert support[64, 64] and support[40, 40]
    assert not support[:16].any() and not support[:, -16:].any()
    clean = simulate_acquisition(image, n_coils=4, noise=0.0, phase=0, seed=0)
    assert (rss(self_calibrated_smaps(clean.kspace * mask, mask=mask)) > 0).all()
    assert (rss(self_calibrated_smaps(noisy.kspace * mask, mask=mask, support=0)) > 0).all()
    with pytest.raises(ValueError, match="support must be >= 0"):
        self_calibrated_smaps(noisy.kspace * mask, mask=mask, support=-1)


def test_simulated_acquisition_is_consistent():
    from pysap_mri_dl.data.simulation import simulate_acquisition, simulated_smaps
    from pysap_mri_dl.operators import FFT
    maps = simulated_smaps((64, 48), 6, seed=0)
    assert maps.shape == (6, 64, 48) and maps.dtype == np.complex64
    assert rss(maps).max() == pytest.approx(1.0, rel=1e-5) and rss(maps).min() > 0.1
    image = load_sample("brain_slice_2d").reference[::8, ::8]
    acq = simulate_acquisition(image, n_coils=6, noise=0.0, seed=3)
    coil_images = FFT(image.shape, n_coils=6).adj_op(acq.kspace)
    np.testing.assert_allclose(rss(coil_images), acq.reference, atol=1e-5)
    np.testing.assert_allclose(acq.reference, rss(acq.smaps) * image / image.max(), atol=1e-5)
    single = simulate_acquisition(image, n_coils=1, noise=0.01, seed=3)
    assert single.kspace.shape == image.shape
    with pytest.raises(ValueError, match="finite 2D"):
        simulate_acquisition(np.full((8, 8), np.nan))


@pytest.mark.parametrize("call, message", [
    (lambda: variable_density_mask((64, 64), acceleration=4, decay=float("nan")), "decay must"),
    (lambda: variable_density_mask((64, 64), acceleration=4, decay=-1), "decay must"),
    (lambda: random_column_mask((32, 32), acceleration=float("inf"), center_fraction=0),
     "acceleration must be a finite number"),
    (lambda: random_column_mask((32, 32), acceleration=True, center_fraction=0),
     "acceleration must be a finite number"),
    (lambda: random_column_mask((32, 32), acceleration="4", center_fraction=0.08),
     "acceleration must be a finite number"),
    (lambda: random_column_mask((32.5, 32), acceleration=4, center_fraction=0.08),
     "shape must be 2 integer sizes"),
    (lambda: acceleration_of(np.full((4, 4), 0.5)), "boolean or hold only 0 and 1"),
    (lambda: psnr(np.ones((4, 4)), np.ones((4, 4)), data_range=0), "data_range must be"),
    (lambda: ssim(np.ones((8, 8)), np.ones((8, 8)), data_range=-1), "data_range must be"),
    (lambda: psnr(np.zeros((4, 4)), np.zeros((4, 4))), "reference is zero everywhere"),
    (lambda: nrmse(np.zeros((4, 4)), np.ones((4, 4))), "reference is zero everywhere"),
])
def test_sampling_and_metric_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_2d_centre_counts_by_its_area():
    """variable_density_mask's centre is a square: at 8x a 0.2 centre takes 4% of k-space,
    within the 12.5% sampled (the check compared 0.2 itself with 1/8)."""
    mask = variable_density_mask((64, 64), acceleration=8, center_fraction=0.2, seed=0)
    assert acceleration_of(mask) == pytest.approx(8, rel=0.1)  # one draw (7.57 at seed 0)
