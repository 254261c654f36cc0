"""The BART plugin: .cfl round trips and errors, discovery by entry point, and agreement of
ESPIRiT maps with ``bart ecalib`` (skipped without the bart binary)."""
import numpy as np
import pytest

pytest.importorskip("pysap_mri_dl_bart")

from pysap_mri_dl_bart import Bart, CflError, bart_available, read_cfl, write_cfl  # noqa: E402

needs_bart = pytest.mark.skipif(not bart_available(), reason="bart binary not installed")


@pytest.fixture(scope="module")
def brain():
    from pysap_mri_dl.data import load_sample
    return load_sample("brain_4coil")


@pytest.fixture(scope="module")
def brain_mask():
    from pysap_mri_dl.sampling import random_column_mask
    return random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)


def test_cfl_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((5, 4, 1, 3)) + 1j * rng.standard_normal((5, 4, 1, 3)))
    write_cfl(tmp_path / "a", array)
    np.testing.assert_array_equal(read_cfl(tmp_path / "a.cfl"), array.astype(np.complex64))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.cfl", "a.hdr"]
    (tmp_path / "a.cfl").write_bytes((tmp_path / "a.cfl").read_bytes()[:-8])
    with pytest.raises(CflError, match="truncated"):
        read_cfl(tmp_path / "a")
    (tmp_path / "b.hdr").write_text("# Dimensions\nnot numbers\n")
    (tmp_path / "b.cfl").write_bytes(b"")
    with pytest.raises(CflError, match="malformed header"):
        read_cfl(tmp_path / "b")
    with pytest.raises(CflError, match="expected both"):
        read_cfl(tmp_path / "missing")
    with pytest.raises(CflError, match="NaN"):
        write_cfl(tmp_path / "c", np.array([np.nan]))
    assert not (tmp_path / "c.cfl").exists()
    # what BART cannot hold is refused; a 0-d array is one element in one dimension
    for shape in [(0, 3), (1,) * 16 + (2,)]:
        with pytest.raises(CflError, match="1 to 16 dimensions"):
            write_cfl(tmp_path / "d", np.ones(shape))
    write_cfl(tmp_path / "e", np.array(1 + 2j))
    np.testing.assert_array_equal(read_cfl(tmp_path / "e"), [1 + 2j])
    (tmp_path / "f.hdr").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "f.cfl").write_bytes(b"")
    with pytest.raises(CflError, match="not UTF-8"):
        read_cfl(tmp_path / "f")


def test_plugin_is_found_by_entry_point():
    from pysap_mri_dl.calibration import SMAPS_METHODS
    from pysap_mri_dl.plugins import available_plugins, load_plugins
    assert "bart" in available_plugins()
    loaded = load_plugins(["bart"])
    assert loaded["bart"]["smaps_methods"] == ["bart-ecalib"]
    assert "bart-ecalib" in SMAPS_METHODS


@needs_bart
def test_espirit_agrees_with_bart_ecalib(brain, brain_mask):
    from pysap_mri_dl.calibration import espirit
    kspace = brain.kspace * brain_mask
    ours = espirit(kspace, mask=brain_mask)
    theirs = Bart().ecalib(kspace)
    inside = brain.reference > 0.1 * brain.reference.max()
    correlations = [np.corrcoef(np.abs(ours[c])[inside], np.abs(theirs[c])[inside])[0, 1]
                    for c in range(4)]
    assert np.mean(correlations) >= 0.95, correlations
    two = Bart().ecalib(kspace, n_maps=2)  # (maps, coils, ...), as espirit(n_maps=2)
    assert two.shape == (2, 4, 256, 256)
    for c in range(4):  # the first set is the single set, coil for coil (measured 0.9999)
        assert np.corrcoef(np.abs(two[0, c]).ravel(), np.abs(theirs[c]).ravel())[0, 1] > 0.99


@needs_bart
def test_pics_runs_on_cartesian_and_radial_data(brain, brain_mask):
    from pysap_mri_dl.calibration import espirit
    from pysap_mri_dl.metrics import psnr
    from pysap_mri_dl.operators import NUFFT
    from pysap_mri_dl.sampling import radial
    kspace = brain.kspace * brain_mask
    maps = espirit(kspace, mask=brain_mask)
    image = Bart().pics(kspace, maps, lam=0.0005, n_iter=50)
    assert psnr(brain.reference, np.abs(image)) > 32
    trajectory = radial(96, 256, golden=True)
    from pysap_mri_dl.operators import ifftn_centered
    coils = ifftn_centered(brain.kspace, 2)
    radial_kspace = NUFFT(trajectory, (256, 256), n_coils=4).op(coils.astype(np.complex64))
    image = Bart().pics(radial_kspace, maps, lam=0.0005, n_iter=50, trajectory=trajectory)
    assert psnr(brain.reference, np.abs(image)) > 30
    for options, message in [(dict(lam=-1), "lam must be"), (dict(n_iter=0), "n_iter must")]:
        with pytest.raises(ValueError, match=message):
            Bart().pics(kspace, maps, **options)


@pytest.mark.slow
@needs_bart
def test_our_default_is_not_below_bart_best_lambda(brain, brain_mask):
    """Our default (no lambda given) against ``bart pics -l1`` with ``ecalib`` maps at its
    best lambdas on the 4-coil brain (benchmarks/cartesian_cs.py: 34.84 against 34.36 dB,
    BART's grid 0.0002-0.01 peaks at 0.0005-0.001); BART's reported solve time is parsed."""
    from pysap_mri_dl.metrics import psnr
    from pysap_mri_dl.recon import reconstruct_sense
    kspace = brain.kspace * brain_mask
    bart = Bart()
    maps = bart.ecalib(kspace)
    runs = [bart.pics(kspace, maps, lam=lam, n_iter=100, return_time=True)
            for lam in (0.0005, 0.001)]
    assert all(0 < seconds < 60 for _, seconds in runs)
    theirs = max(psnr(brain.reference, np.abs(image)) for image, _ in runs)
    ours = psnr(brain.reference, reconstruct_sense(kspace, brain_mask, n_iter=100).image)
    assert ours > theirs + 0.2, (ours, theirs)
