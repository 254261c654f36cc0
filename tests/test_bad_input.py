"""Bad and unusual input, on the command line and in the Python API: each case gets a named
error (exit status 2 and nothing written on the command line) or the right result. One test
per defect found by the hardening pass; each failed before its fix."""
import json
import os
import socket
import stat
import zipfile

import numpy as np
import pytest

from pysap_mri_dl.cli import main


def _run(*argv):
    return main([str(a) for a in argv])


def _fails(capsys, out, *argv, message):
    code = _run(*argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err, err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir()), "something was written"


@pytest.fixture(scope="module")
def small(brain):
    """The 4-coil brain's k-space and reference."""
    return brain.kspace, brain.reference


# ---- wrong results or tracebacks ----------------------------------------------------------

def test_singleton_coil_axis_is_single_coil_in_every_path(tmp_path, small, brain):
    from pysap_mri_dl.operators import NUFFT, ifftn_centered
    from pysap_mri_dl.sampling import radial
    kspace, reference = small
    image = np.abs(ifftn_centered(kspace[:1], 2)[0])
    cartesian = tmp_path / "one_coil.npz"
    np.savez(cartesian, kspace=kspace[:1], reference=image)
    out = tmp_path / "cartesian"
    assert _run("recon", cartesian, "--out", out, "--acceleration", 4, "--n-iter", 5,
                "--no-progress") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["psnr"] > metrics["zero_filled_psnr"] and "smaps" not in metrics
    trajectory = radial(64, 256, golden=True)
    samples = NUFFT(trajectory, (256, 256)).op(image.astype(np.complex64))
    noncartesian = tmp_path / "one_coil_radial.npz"
    np.savez(noncartesian, kspace=samples[None], trajectory=trajectory, reference=image)
    out = tmp_path / "radial"
    assert _run("recon", noncartesian, "--out", out, "--n-iter", 5, "--no-progress") == 0
    assert json.loads((out / "metrics.json").read_text())["psnr"] > 20
    from pysap_mri_dl.recon import reconstruct_noncartesian
    result = reconstruct_noncartesian(samples[None], trajectory, (256, 256), n_iter=2)
    assert result.image.shape == (256, 256)


def test_maps_in_the_input_file_are_used_and_reported(tmp_path, small):
    from pysap_mri_dl.calibration import espirit
    from pysap_mri_dl.sampling import random_column_mask
    kspace, reference = small
    mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    maps = espirit(kspace * mask, mask=mask)
    path = tmp_path / "with_maps.npz"
    np.savez(path, kspace=kspace * mask, mask=mask, smaps=maps, reference=reference)
    runs = {}
    for label, extra in (("file", ()), ("auto", ("--smaps", "auto"))):
        out = tmp_path / label
        assert _run("recon", path, "--out", out, "--n-iter", 20, "--no-progress", *extra) == 0
        runs[label] = json.loads((out / "metrics.json").read_text())
    assert runs["file"]["smaps"] == "file (with_maps.npz)" and runs["auto"]["smaps"] == "auto"
    assert runs["file"]["psnr"] != runs["auto"]["psnr"]


@pytest.mark.parametrize("values, message", [
    (0.5, "hold only 0 and 1"), (2.0, "hold only 0 and 1"), (np.nan, "hold only 0 and 1")])
def test_masks_must_be_binary(tmp_path, capsys, small, values, message):
    from pysap_mri_dl.recon import grappa, reconstruct_sense, reconstruct_single_coil
    kspace, _ = small
    mask = np.zeros((256, 256))
    mask[:, ::4] = 1
    mask[:, 120:136] = 1
    mask[:, 1] = values
    path = tmp_path / "bad_mask.npz"
    np.savez(path, kspace=kspace * (mask > 0), mask=mask)
    out = tmp_path / "out"
    _fails(capsys, out, "recon", path, "--out", out, message=message)
    for call in (lambda: reconstruct_sense(kspace, mask, n_iter=1),
                 lambda: reconstruct_single_coil(kspace[0], mask, n_iter=1),
                 lambda: grappa(kspace, mask)):
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(TypeError, match="boolean or hold only 0 and 1"):
        reconstruct_sense(kspace, np.full((256, 256), "yes"), n_iter=1)
    ok = reconstruct_sense(kspace * (mask == 1), (mask == 1).astype(np.uint8), n_iter=1)
    assert ok.image.shape == (256, 256)


def test_corrupt_and_fake_npz_files(tmp_path, capsys, small):
    kspace, _ = small
    good = tmp_path / "good.npz"
    np.savez(good, kspace=kspace)
    corrupt = tmp_path / "crc.npz"
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("kspace.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    data[start:start + 64] = bytes(64)  # damage the member's bytes: its CRC no longer holds
    corrupt.write_bytes(bytes(data))
    out = tmp_path / "out"
    _fails(capsys, out, "recon", corrupt, "--out", out, message="dataset 'kspace' cannot be read")
    fake = tmp_path / "random.npz"
    fake.write_bytes(np.random.default_rng(0).bytes(4096))
    _fails(capsys, out, "recon", fake, "--out", out, message="not a .npz archive")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, kspace=np.array([{"a": 1}], dtype=object))
    _fails(capsys, out, "recon", pickled, "--out", out, message="cannot be read")


@pytest.mark.parametrize("make_out, message", [
    (lambda tmp: tmp / "file.txt", "exists and is not a folder"),
    (lambda tmp: tmp / "file.txt" / "below", "is a file, not a folder"),
    (lambda tmp: "/dev/null", "exists and is not a folder")])
def test_bad_out_is_found_before_any_work(tmp_path, capsys, small, monkeypatch, make_out,
                                          message):
    import pysap_mri_dl.recon as recon
    kspace, _ = small
    path = tmp_path / "in.npz"
    np.savez(path, kspace=kspace)
    (tmp_path / "file.txt").write_text("keep me")
    monkeypatch.setattr(recon, "reconstruct_sense", lambda *a, **k: pytest.fail("work done"))
    code = _run("recon", path, "--out", make_out(tmp_path), "--acceleration", 4)
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert (tmp_path / "file.txt").read_text() == "keep me"


def test_stale_staging_is_cleaned_and_outputs_have_the_usual_permissions(tmp_path, small):
    kspace, _ = small
    path = tmp_path / "in.npz"
    np.savez(path, kspace=kspace)
    out = tmp_path / "out"
    stale = out / f".staging-{socket.gethostname()}-999999999-abcd"  # a killed run: no such process
    stale.mkdir(parents=True)
    (stale / "recon.nii.gz").write_bytes(b"partial")
    assert _run("recon", path, "--out", out, "--acceleration", 4, "--n-iter", 2,
                "--no-progress") == 0
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "recon.nii.gz",
                                                    "recon.png"]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    umask = os.umask(0)
    os.umask(umask)
    assert set(modes.values()) == {0o666 & ~umask}, modes


def test_train_denoiser_rejects_bad_options_and_checkpoints(tmp_path, capsys, shared_data):
    pytest.importorskip("torch")
    volume = shared_data / "images" / "mricron_colin27_ch2.nii.gz"
    base = ("--model", "learnlet", "--model-config", '{"n_scales": 2, "n_filters": 4}',
            "--steps", 2, "--batch-size", 2, "--patch", 32, "--train-slices", 80, 82,
            "--val-slices", 90, 91, "--no-progress")
    for argv, message in [(("--axis", 5), "--axis must be 0, 1 or 2"),
                          (("--patch", 512), "--patch 512 is larger than the training slices"),
                          (("--patch", 240, "--axis", 0), "is larger than the training slices")]:
        bad = tmp_path / "bad"
        _fails(capsys, bad, "train-denoiser", volume, "--out", bad, *base, *argv,
               message=message)
    run = tmp_path / "run"
    assert _run("train-denoiser", volume, "--out", run, *base) == 0
    json.loads((run / "training.json").read_text())
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary left
    changed = list(base)
    changed[3] = '{"n_scales": 2, "n_filters": 8}'
    code = _run("train-denoiser", volume, "--out", run, *changed, "--steps", 4)
    err = capsys.readouterr().err
    assert code == 2 and "another configuration" in err and "model_config" in err
    assert "--no-resume" in err
    (run / "checkpoint.pt").write_bytes(b"corrupt")
    code = _run("train-denoiser", volume, "--out", run, *base, "--steps", 4)
    err = capsys.readouterr().err
    assert code == 2 and "cannot be read" in err and "--no-resume" in err
    assert _run("train-denoiser", volume, "--out", run, *base, "--no-resume") == 0


# ---- the Python API -----------------------------------------------------------------------

def test_api_errors_name_the_argument(small):
    from pysap_mri_dl.calibration import self_calibrated_smaps
    from pysap_mri_dl.operators import SENSE
    from pysap_mri_dl.optim import LeastSquares, fista
    from pysap_mri_dl.prox import Identity
    from pysap_mri_dl.recon import reconstruct_noncartesian, reconstruct_sense
    from pysap_mri_dl.sampling import radial, random_column_mask
    kspace, _ = small
    mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    trajectory = radial(16, 64)
    samples = np.ones(len(trajectory), np.complex64)
    with pytest.raises(ValueError, match=r"density must have one value per sample"):
        reconstruct_noncartesian(samples, trajectory, (64, 64), density=np.ones(10), n_iter=1)
    with pytest.raises(ValueError, match="density must hold finite values >= 0"):
        reconstruct_noncartesian(samples, trajectory, (64, 64), density=-np.ones(len(trajectory)),
                                 n_iter=1)
    data = LeastSquares(SENSE(self_calibrated_smaps(kspace * mask, mask=mask), mask=mask),
                        kspace * mask)
    for bad in (2.5, "3", True, 0):
        with pytest.raises(ValueError, match="n_iter must be a positive integer"):
            fista(data, Identity(), n_iter=bad)
    with pytest.raises(ValueError, match="tol must be"):
        fista(data, Identity(), n_iter=2, tol="small")
    maps = self_calibrated_smaps(kspace * mask, mask=mask)
    maps[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="SENSE: smaps contain NaN"):
        SENSE(maps, mask=mask)
    with pytest.raises(ValueError, match="smaps contains NaN"):
        reconstruct_sense(kspace * mask, mask, smaps=maps, n_iter=1)
    with pytest.raises(ValueError, match=r"smaps of spatial shape \(128, 128\) do not match"):
        SENSE(np.ones((4, 128, 128), np.complex64), mask=mask)
    with pytest.raises(ValueError, match="lam must be a finite number"):
        reconstruct_sense(kspace * mask, mask, lam=np.inf, n_iter=1)
    with pytest.raises(ValueError, match="if the axes are in the wrong order"):
        reconstruct_sense(np.moveaxis(kspace, 0, -1), n_iter=1)


def test_command_line_values_are_checked_by_name(tmp_path, capsys, small):
    kspace, _ = small
    path = tmp_path / "in.npz"
    np.savez(path, kspace=kspace)
    out = tmp_path / "out"
    for value in ("inf", "-1", "nan"):
        with pytest.raises(SystemExit) as exc:
            _run("recon", path, "--out", out, "--lam", value)
        assert exc.value.code == 2 and "argument --lam" in capsys.readouterr().err
    axes = tmp_path / "axes.npz"
    np.savez(axes, kspace=np.moveaxis(kspace, 0, -1))
    _fails(capsys, out, "recon", axes, "--out", out, message="if the axes are in the wrong order")


def test_mixed_array_kinds_follow_the_documented_rule(small):
    """Masks are sampling patterns: any array kind, converted; data arrays (k-space, maps,
    x0) must share the k-space's kind, or a TypeError names both."""
    torch = pytest.importorskip("torch")
    from pysap_mri_dl.calibration import self_calibrated_smaps
    from pysap_mri_dl.recon import reconstruct_sense
    from pysap_mri_dl.sampling import random_column_mask
    kspace, _ = small
    mask = random_column_mask((256, 256), acceleration=4, center_fraction=0.08, seed=0)
    data = torch.from_numpy(np.ascontiguousarray(kspace * mask))
    result = reconstruct_sense(data, mask, n_iter=3)  # numpy mask, torch k-space: converted
    assert isinstance(result.image, torch.Tensor)
    same = reconstruct_sense(kspace * mask, torch.from_numpy(mask), n_iter=3)
    np.testing.assert_allclose(result.image.numpy(), same.image, atol=1e-5 * abs(same.image).max())
    maps = self_calibrated_smaps(kspace * mask, mask=mask)  # numpy maps, torch k-space
    with pytest.raises(TypeError, match="smaps is a numpy array"):
        reconstruct_sense(data, mask, smaps=maps, n_iter=1)


# ---- options where they do not apply, and values the parser let through (a user's audit) ---

@pytest.fixture
def small_file(tmp_path, small):
    path = tmp_path / "in.npz"
    np.savez(path, kspace=small[0])
    return path


@pytest.mark.parametrize("argv, message", [
    (["--model", "xpdnet", "--prior", "wavelet"], "--prior does not apply to --model xpdnet"),
    (["--model", "pdnet", "--lam", "5"], "--lam does not apply to --model pdnet"),
    (["--model", "pdnet", "--n-iter", "3"], "--n-iter does not apply to --model pdnet"),
    (["--model", "pdnet", "--algorithm", "pogm"], "--algorithm does not apply"),
    (["--model", "pdnet", "--undecimated"], "--undecimated does not apply"),
    (["--model", "pdnet", "--wavelet", "db4"], "--wavelet does not apply"),
    (["--prior", "learnlet", "--lam", "0.1"], "--lam applies to the wavelet prior"),
    (["--prior", "learnlet", "--levels", "3"], "--levels applies to the wavelet prior"),
    (["--sigma", "0.01"], "--sigma applies to a learned --prior"),
    (["--prior", "wavelet", "--sigma", "0.01"], "--sigma applies to a learned --prior"),
    (["--lam", "0.1", "--lam-factor", "0.002"], "--lam and --lam-factor are exclusive"),
])
def test_options_that_do_not_apply_are_named_errors(tmp_path, capsys, small_file, argv,
                                                    message):
    out = tmp_path / "out"
    _fails(capsys, out, "recon", small_file, "--out", out, "--acceleration", 4, *argv,
           message=message)


def test_the_defaults_named_explicitly_still_run(tmp_path, small_file):
    out = tmp_path / "out"
    assert _run("recon", small_file, "--out", out, "--acceleration", 4, "--prior", "wavelet",
                "--algorithm", "fista", "--n-iter", 2, "--levels", 4, "--no-progress") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_iter"] == 2 and metrics["algorithm"] == "fista"


@pytest.mark.parametrize("argv, flag", [
    (["--out", ""], "--out"),
    (["--out", "{out}", "--seed", "-1"], "--seed"),
    (["--out", "{out}", "--posterior-samples", "2", "--posterior-seed", "-1"],
     "--posterior-seed"),
    (["--out", "{out}", "--n-iter", "0"], "--n-iter"),
    (["--out", "{out}", "--levels", "0"], "--levels")])
def test_recon_values_are_checked_by_the_parser(tmp_path, capsys, small_file, monkeypatch, argv,
                                                flag):
    monkeypatch.chdir(tmp_path)  # an empty --out would have written here
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(SystemExit) as exc:
        _run("recon", small_file, *[a.format(out=tmp_path / "out") for a in argv])
    assert exc.value.code == 2 and f"argument {flag}" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("command, flag, value", [
    ("train", "--validate-every", "0"), ("train", "--validate-every", "-3"),
    ("train", "--steps", "0"), ("train", "--lr", "-1"), ("train", "--batch-size", "0"),
    ("train", "--seed", "-2"), ("train", "--minutes", "0"), ("train", "--out", ""),
    ("train-denoiser", "--minutes", "-1"), ("train-denoiser", "--patch", "0"),
    ("train-denoiser", "--stop-at", "0"),
    ("tune", "--examples", "0"), ("batch", "--workers", "0")])
def test_counts_and_rates_are_checked_by_the_parser(tmp_path, capsys, command, flag, value):
    out = tmp_path / "t"
    argv = [command, tmp_path / "volume.nii.gz", "--out", out, flag, value]
    if command == "train":
        argv[2:2] = ["--model", "pdnet"]
    with pytest.raises(SystemExit) as exc:
        _run(*argv)
    assert exc.value.code == 2 and f"argument {flag}" in capsys.readouterr().err
    assert not out.exists()


def test_a_maps_tool_that_is_missing_or_fails_is_a_usage_error(tmp_path, capsys, small_file,
                                                               monkeypatch):
    from pysap_mri_dl import calibration
    monkeypatch.setitem(calibration.SMAPS_METHODS, "fake-ecalib",
                        lambda kspace, mask: pytest.fail("ran without its binary"))
    monkeypatch.setitem(calibration._UNAVAILABLE, "fake-ecalib",
                        lambda: "the fake binary was not found")
    out = tmp_path / "out"
    for command in ("recon", "batch"):
        _fails(capsys, out, command, small_file, "--out", out, "--acceleration", 4,
               "--smaps", "fake-ecalib", "--no-progress",
               message="--smaps fake-ecalib: the fake binary was not found")

    def crash(kspace, mask):
        raise RuntimeError("fake-ecalib failed: bad input")
    monkeypatch.setitem(calibration.SMAPS_METHODS, "fake-ecalib", crash)
    monkeypatch.setitem(calibration._UNAVAILABLE, "fake-ecalib", None)
    _fails(capsys, out, "recon", small_file, "--out", out, "--acceleration", 4,
           "--smaps", "fake-ecalib", message="--smaps fake-ecalib: fake-ecalib failed")


def test_help_states_each_default_once():
    import re

    from pysap_mri_dl.cli import build_parser
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, command in commands.items():
        text = " ".join(command.format_help().split())
        assert "(default: None)" not in text, name
        assert re.search(r"default[^()]*\) \(default:", text) is None, name
    recon = " ".join(commands["recon"].format_help().split())
    for shown in ("(default: fista)", "(default: 100)", "(default: analysis)", "(default: 4)",
                  "(default: random)", "(default: 0.08)"):
        assert shown in recon


def test_what_a_second_audit_found(small):
    """NaN or all-zero k-space in the map estimators and GRAPPA, real-valued non-Cartesian
    k-space, a square GRAPPA kernel given as one size, counts and weights checked where
    they are given, and built-in solvers protected."""
    from pysap_mri_dl.calibration import espirit, self_calibrated_smaps
    from pysap_mri_dl.operators import NUFFT
    from pysap_mri_dl.recon import grappa, reconstruct_sense, register_solver
    from pysap_mri_dl.sampling import radial
    kspace = small[0][:, 96:160, 96:160].copy()
    mask = np.zeros((64, 64), bool)
    mask[:, ::2] = mask[:, 24:40] = True
    bad = kspace.copy()
    bad[0, 2, 2] = np.nan
    for call, message in [(lambda: grappa(bad, mask), "grappa: kspace contains NaN"),
                          (lambda: espirit(bad), "espirit: kspace contains NaN"),
                          (lambda: self_calibrated_smaps(bad), "kspace contains NaN"),
                          (lambda: reconstruct_sense(np.zeros_like(kspace) * mask, mask),
                           "zero in the calibration region"),
                          (lambda: NUFFT(radial(8, 32), (32, 32), n_coils=0), "n_coils"),
                          (lambda: register_solver("fista", lambda *a, **k: None),
                           "built in")]:
        with pytest.raises(ValueError, match=message):
            call()
    square = grappa(kspace * mask, mask, kernel=5).image
    np.testing.assert_allclose(square, grappa(kspace * mask, mask, kernel=(5, 5)).image)
    trajectory = radial(8, 32)
    real = np.ones(trajectory.shape[0], np.float32)
    np.testing.assert_allclose(NUFFT(trajectory, (32, 32)).adj_op(real),
                               NUFFT(trajectory, (32, 32)).adj_op(real.astype(np.complex64)))


def test_learned_prox_checks_its_ensemble_when_built():
    torch = pytest.importorskip("torch")
    from pysap_mri_dl.learn.denoisers.prox import LearnedProx
    with pytest.raises(ValueError, match="ensemble must be one of"):
        LearnedProx(torch.nn.Identity(), 1.0, scale=1.0, ensemble=3)
    from pysap_mri_dl.learn import learned_prior
    with pytest.raises(ValueError, match="ensemble must be one of"):
        learned_prior(ensemble=3)


def test_what_a_third_audit_found(tmp_path, capsys, small):
    """Images too small for the score model's Learnlet, its training patch, and a network
    configuration with a zero size: named errors, exit 2 and nothing written, instead of
    torch's padding or optimizer tracebacks."""
    torch = pytest.importorskip("torch")
    from pysap_mri_dl.learn.denoisers.starlet import Starlet
    from pysap_mri_dl.learn.weights import build_model
    with pytest.raises(ValueError, match="needs images larger than 64 pixels"):
        Starlet(6)(torch.zeros(1, 1, 64, 64))
    assert len(Starlet(6)(torch.zeros(1, 1, 65, 65))[0]) == 6
    for config, key in [({"features": 0}, "features"), ({"n_iter": 0}, "n_iter")]:
        with pytest.raises(ValueError, match=f"{key} must be an integer >= 1"):
            build_model("pdnet", kind="reconstruction", **config)
    kspace = small[0][:, 96:160, 96:160]  # 64 x 64
    path = tmp_path / "small.npz"
    np.savez(path, kspace=kspace)
    out = tmp_path / "out"
    _fails(capsys, out, "recon", path, "--out", out, "--acceleration", 4,
           "--posterior-samples", 2, "--langevin-levels", 1, "--langevin-steps", 1,
           "--no-progress", message="needs images larger than 64 pixels")
    volume = tmp_path / "volume.nii.gz"
    volume.write_bytes(b"")
    _fails(capsys, out, "train", volume, "--model", "score", "--patch", 64, "--out", out,
           message="--patch must be a multiple of 8 larger than 64")


def test_volumes_weights_and_loaded_networks_are_named(tmp_path, small):
    """A NaN or all-zero volume names the file and why; an unreadable weights file does not
    pass on torch's advice to load unsafely; a loaded network reports its model's name."""
    pytest.importorskip("torch")
    import nibabel as nib

    from pysap_mri_dl.learn import reconstruct_network
    from pysap_mri_dl.learn.data.slices import load_slices
    from pysap_mri_dl.learn.unrolled import load_network
    from pysap_mri_dl.learn.weights import WeightsError, read_weights
    for values, message in [(np.full((8, 8, 8), np.nan), "NaN or Inf"),
                            (np.zeros((8, 8, 8)), "no positive value")]:
        path = tmp_path / "volume.nii.gz"
        nib.save(nib.Nifti1Image(values.astype(np.float32), np.eye(4)), str(path))
        with pytest.raises(ValueError, match=f"volume.nii.gz: the volume .*{message}"):
            load_slices([path], 2, 0, 8)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a weights file")
    with pytest.raises(WeightsError, match="cannot be read") as error:
        read_weights(junk)
    assert "weights_only" not in str(error.value)
    kspace, _ = small
    mask = np.zeros(kspace.shape[-2:], bool)
    mask[:, ::4] = mask[:, 112:144] = True
    assert reconstruct_network(kspace * mask, mask,
                               model=load_network("xpdnet")[0]).algorithm == "xpdnet"
