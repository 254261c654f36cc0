"""The command line: outputs, metrics, fastMRI HDF5 input and errors without partial output."""
import json

import numpy as np
import pytest

from pysap_mri_dl.cli import main


@pytest.fixture(scope="module")
def brain_npz(tmp_path_factory, brain):
    path = tmp_path_factory.mktemp("input") / "brain.npz"
    np.savez(path, kspace=brain.kspace)
    return path


def _run(*argv):
    return main([str(a) for a in argv])


def test_recon_writes_image_figure_and_metrics(tmp_path, brain_npz):
    out = tmp_path / "out"
    code = _run("recon", brain_npz, "--out", out, "--acceleration", 4, "--center-fraction",
                0.08, "--n-iter", 30, "--no-progress")
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("psnr", "ssim", "nrmse", "zero_filled_psnr", "n_iter", "seconds",
                "seconds_per_iter", "algorithm", "prior"):
        assert key in metrics
    assert metrics["psnr"] > metrics["zero_filled_psnr"] + 5
    assert metrics["n_iter"] == 30 and metrics["algorithm"] == "fista"
    import nibabel as nib
    assert nib.load(out / "recon.nii.gz").shape == (256, 256)
    assert (out / "recon.png").stat().st_size > 10_000
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "recon.nii.gz", "recon.png"]


def test_demo_meets_3db_target(tmp_path):
    out = tmp_path / "demo"
    assert _run("demo", "--out", out, "--no-progress") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    # the figures the README quotes: 34.81 dB, SSIM 0.808, zero-filled 25.46 dB
    assert metrics["psnr"] > 34.55 and metrics["ssim"] > 0.80
    assert metrics["zero_filled_psnr"] == pytest.approx(25.46, abs=0.01)


def test_fastmri_h5_input_with_mask_and_reference(tmp_path, brain):
    import h5py
    path = tmp_path / "file_brain.h5"
    mask = np.zeros(256, bool)
    mask[::3] = True
    mask[118:138] = True
    with h5py.File(path, "w") as f:
        f["kspace"] = np.stack([brain.kspace * mask] * 3)  # (slices, coils, ky, kx)
        f["mask"] = mask
        f["reconstruction_rss"] = np.stack([brain.reference[32:224, 32:224]] * 3)
    out = tmp_path / "out"
    assert _run("recon", path, "--out", out, "--slice", 1, "--n-iter", 20, "--no-progress",
                "--algorithm", "pogm") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["psnr"] > metrics["zero_filled_psnr"] + 3
    assert metrics["algorithm"] == "pogm"


def _expect_error(capsys, out, *argv, message):
    code = _run(*argv)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err, err
    assert not out.exists() or not any(out.iterdir()), "partial output written"


def test_errors_name_the_problem_and_write_nothing(tmp_path, capsys, brain):
    out = tmp_path / "out"
    bad = tmp_path / "nan.npz"
    k = brain.kspace.copy()
    k[0, 5, 5] = np.nan
    np.savez(bad, kspace=k)
    _expect_error(capsys, out, "recon", bad, "--out", out, message="NaN or Inf")
    missing = tmp_path / "nokspace.npz"
    np.savez(missing, data=brain.kspace)
    _expect_error(capsys, out, "recon", missing, "--out", out, message="no dataset 'kspace'")
    wrong_mask = tmp_path / "mask.npz"
    np.savez(wrong_mask, kspace=brain.kspace, mask=np.ones((10, 10), bool))
    _expect_error(capsys, out, "recon", wrong_mask, "--out", out, message="mask of shape")
    good = tmp_path / "good.npz"
    np.savez(good, kspace=brain.kspace)
    smaps = tmp_path / "smaps.npy"
    np.save(smaps, np.ones((3, 256, 256), np.complex64))
    _expect_error(capsys, out, "recon", good, "--out", out, "--smaps", smaps,
                  "--acceleration", 4, message="expected shape (4, 256, 256)")
    _expect_error(capsys, out, "recon", good, "--out", out, "--wavelet", "nope",
                  message="unknown wavelet")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"not an hdf5 file")
    _expect_error(capsys, out, "recon", corrupt, "--out", out, message="cannot be read as an HDF5")
    corrupt_npz = tmp_path / "corrupt.npz"
    corrupt_npz.write_bytes(b"PK\x03\x04garbage")
    _expect_error(capsys, out, "recon", corrupt_npz, "--out", out, message="not a .npz archive")
    _expect_error(capsys, out, "recon", tmp_path / "absent.npz", "--out", out,
                  message="does not exist")


def test_unknown_algorithm_is_a_usage_error(tmp_path, brain_npz, capsys):
    with pytest.raises(SystemExit) as exc:
        _run("recon", brain_npz, "--out", tmp_path / "o", "--algorithm", "adam")
    assert exc.value.code == 2
    assert "invalid choice: 'adam'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def radial_npz(tmp_path_factory, brain):
    """The 4-coil brain sampled on 96 golden-angle spokes, saved as a trajectory archive."""
    from pysap_mri_dl.operators import NUFFT
    from pysap_mri_dl.sampling import radial
    from pysap_mri_dl.operators import ifftn_centered
    coil_images = ifftn_centered(brain.kspace, 2)
    trajectory = radial(96, 256, golden=True)
    kspace = NUFFT(trajectory, (256, 256), n_coils=4).op(coil_images.astype(np.complex64))
    path = tmp_path_factory.mktemp("radial") / "radial.npz"
    np.savez(path, kspace=kspace, trajectory=trajectory, reference=brain.reference)
    return path


def test_recon_of_a_trajectory_archive(tmp_path, radial_npz):
    out = tmp_path / "out"
    assert _run("recon", radial_npz, "--out", out, "--n-iter", 40, "--no-progress") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["baseline"] == "gridding"
    assert metrics["samples_per_pixel"] == pytest.approx(96 * 256 / 256 ** 2)
    assert metrics["psnr"] > metrics["zero_filled_psnr"] + 3
    import nibabel as nib
    assert nib.load(out / "recon.nii.gz").shape == (256, 256)


@pytest.mark.parametrize("edit, args, message", [
    (lambda d: d.update(trajectory=d["trajectory"] * 1.5), (), "trajectory must lie in"),
    (lambda d: d.update(kspace=d["kspace"][:, :-3]), (), "to match the trajectory"),
    (lambda d: d.update(density=np.ones(7)), (), "density must have one value per sample"),
    (lambda d: d.pop("reference"), (), "image shape is unknown"),
    (lambda d: d.update(smaps=np.ones((3, 256, 256))), (), "smaps must have shape"),
    (lambda d: None, ("--acceleration", "4"), "--acceleration applies"),
])
def test_bad_trajectory_archives_fail_cleanly(tmp_path, radial_npz, capsys, edit, args, message):
    with np.load(radial_npz) as archive:
        data = dict(archive)
    edit(data)
    path = tmp_path / "bad.npz"
    np.savez(path, **data)
    out = tmp_path / "out"
    assert _run("recon", path, "--out", out, "--no-progress", *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_lam_factor_scales_the_data_driven_weight(tmp_path, brain_npz):
    lams = []
    for factor in ("0.001", "0.004"):
        out = tmp_path / factor
        assert _run("recon", brain_npz, "--out", out, "--acceleration", 4, "--n-iter", 1,
                    "--lam-factor", factor, "--no-progress") == 0
        lams.append(json.loads((out / "metrics.json").read_text())["lam"])
    assert lams[1] == pytest.approx(4 * lams[0], rel=1e-6)


def test_the_default_lam_factor_follows_the_acceleration(tmp_path, brain_npz):
    """Without --lam-factor the factor is the mask's: 0.001 at 4x, 0.004 at 8x."""
    for acceleration, factor in ((4, "0.001"), (8, "0.004")):
        lams = []
        for extra in ((), ("--lam-factor", factor)):
            out = tmp_path / f"{acceleration}{len(extra)}"
            assert _run("recon", brain_npz, "--out", out, "--acceleration", acceleration,
                        "--center-fraction", 0.32 / acceleration, "--n-iter", 1,
                        "--no-progress", *extra) == 0
            lams.append(json.loads((out / "metrics.json").read_text())["lam"])
        assert lams[0] == pytest.approx(lams[1], rel=1e-6), acceleration


def test_espirit_maps_from_the_command_line(tmp_path, brain_npz):
    out = tmp_path / "out"
    assert _run("recon", brain_npz, "--out", out, "--acceleration", 4, "--smaps", "espirit",
                "--n-iter", 100, "--no-progress") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["psnr"] > 34.15  # measured 34.44 dB (self-calibrated maps: 34.81)


def test_learned_prior_from_the_command_line(tmp_path, brain_npz):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    assert _run("recon", brain_npz, "--out", out, "--acceleration", 4, "--prior", "learnlet",
                "--n-iter", 20, "--no-progress") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    # the prior's name and the noise level it ran at (sigma='auto' at 4x: 0.0005)
    assert metrics["prior"] == "learnlet (sigma 0.0005)"
    assert metrics["psnr"] > metrics["zero_filled_psnr"]


def test_bad_weights_fail_cleanly(tmp_path, brain_npz, capsys):
    pytest.importorskip("torch")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    out = tmp_path / "out"
    assert _run("recon", brain_npz, "--out", out, "--acceleration", 4, "--prior", "dncnn",
                "--weights", bad, "--no-progress") == 2
    assert "cannot be read" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_train_denoiser_command_and_its_errors(tmp_path, capsys, shared_data):
    pytest.importorskip("torch")
    volume = shared_data / "images" / "mricron_colin27_ch2.nii.gz"
    out = tmp_path / "run"
    code = _run("train-denoiser", volume, "--model", "learnlet", "--model-config",
                '{"n_scales": 2, "n_filters": 4, "tied": false}', "--out", out, "--steps", 3,
                "--batch-size", 2, "--patch", 32, "--invert-prob", 0.5, "--intensity-range",
                0.2, 1.0, "--train-slices", 80, 84, "--val-slices", 90, 92, "--no-progress")
    assert code == 0
    meta = json.loads((out / "training.json").read_text())
    assert meta["steps"] == 3 and meta["invert_prob"] == 0.5 and "--model-config" in meta["command"]
    for argv, message in [
        (("--model-config", "{tied: no}"), "--model-config must be a JSON object"),
        (("--model-config", '{"colour": 1}'), "invalid configuration"),
        (("--invert-prob", 2), "--invert-prob must be in"),
        (("--intensity-range", 0.8, 0.2), "--intensity-range must satisfy"),
        (("--device", "gpu0"), "--device must be a torch device"),
    ]:
        bad = tmp_path / "bad"
        _expect_error(capsys, bad, "train-denoiser", volume, "--out", bad, "--steps", 1,
                      "--no-progress", *argv, message=message)


def test_the_raw_gre_sample_is_written_as_recon_reads_it(tmp_path):
    """``sample gre_raw`` writes the raw 2-coil phantom with its readout oversampling removed
    and its phase encodes on the last axis, where ``--acceleration`` drops columns; at 4x
    the default reconstruction of this low-SNR scan is above the zero-filled image
    (docs/regularisation.rst: 22.82 against 18.21 dB; 15.21 before lambda had its noise
    floor)."""
    path = tmp_path / "gre.npz"
    assert main(["sample", "gre_raw", "--out", str(path)]) == 0
    with np.load(path) as archive:
        assert archive["kspace"].shape == (2, 160, 160)
        assert archive["reference"].shape == (160, 160)
    out = tmp_path / "recon"
    assert main(["recon", str(path), "--out", str(out), "--acceleration", "4",
                 "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["zero_filled_psnr"] == pytest.approx(18.21, abs=0.01)
    assert metrics["psnr"] > 22.82 - 0.3, metrics["psnr"]


def test_outputs_are_strict_json_and_nifti_shown_as_the_figure(tmp_path):
    """metrics.json holds no Infinity/NaN (null instead: an exact reconstruction's PSNR);
    recon.nii.gz keeps the NumPy array and orients it so that a radiological viewer shows
    row 0 at the top and column 0 on the left, as recon.png does, in millimetres."""
    import nibabel as nib

    from pysap_mri_dl.data.io import write_json, write_nifti
    write_json(tmp_path / "m.json", {"psnr": float("inf"), "ssim": np.float32("nan"),
                                     "n": np.int64(3), "slices": [{"psnr": -np.inf}]})
    text = (tmp_path / "m.json").read_text()

    def refuse(name):
        raise ValueError(name)
    assert json.loads(text, parse_constant=refuse) == {"psnr": None, "ssim": None, "n": 3,
                                                       "slices": [{"psnr": None}]}
    image = np.zeros((64, 48), np.float32)
    image[8:20, 10:16] = 1
    write_nifti(tmp_path / "r.nii.gz", image)
    nifti = nib.load(tmp_path / "r.nii.gz")
    np.testing.assert_array_equal(np.asarray(nifti.dataobj), image)
    assert nib.aff2axcodes(nifti.affine) == ("P", "L", "S")  # rows down, columns leftwards
    assert nifti.header.get_xyzt_units()[0] == "mm"
    corner = nifti.affine @ [0, 0, 0, 1]  # row 0, column 0: anterior and on the right
    assert corner[1] == 63 and corner[0] == 47
    volume = np.stack([image] * 3)
    write_nifti(tmp_path / "v.nii.gz", volume, voxel_size=(3.0, 0.5, 0.5))
    nifti = nib.load(tmp_path / "v.nii.gz")
    assert nib.aff2axcodes(nifti.affine) == ("S", "P", "L")
    np.testing.assert_allclose(nifti.header.get_zooms(), (3.0, 0.5, 0.5))
