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
