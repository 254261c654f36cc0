"""Batch reconstruction on Dask: a folder of real cases plus a corrupt file, the same image
as ``recon``, resumption after ``kill -9``, an existing cluster given by address."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

from pysap_mri_dl.cli import main  # noqa: E402
from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.sampling import random_column_mask  # noqa: E402

FAST = ["--n-iter", "10", "--no-progress"]


def _undersampled(path, sample, seed=0):
    mask = random_column_mask(sample.kspace.shape[-2:], acceleration=4, center_fraction=0.08,
                              seed=seed)
    full = np.broadcast_to(mask, sample.kspace.shape[-2:])
    np.savez(path, kspace=sample.kspace * full, mask=full, reference=sample.reference)


def _volume(path, n_slices=3):
    """A fastMRI-style file: 3 slices of 4 simulated coils (the bundled slice, shifted),
    undersampled by one mask, with their RSS references."""
    import h5py
    from skimage.transform import resize

    from pysap_mri_dl.data.simulation import simulate_acquisition
    image = resize(load_sample("brain_slice_2d").reference, (128, 128), anti_aliasing=True)
    acqs = [simulate_acquisition(np.roll(image, 4 * k, axis=0), n_coils=4, seed=k)
            for k in range(n_slices)]
    mask = random_column_mask((128, 128), acceleration=4, center_fraction=0.08, seed=1)
    with h5py.File(path, "w") as handle:
        handle["kspace"] = np.stack([a.kspace * mask for a in acqs]).astype(np.complex64)
        handle["mask"] = np.asarray(mask, dtype=np.float32).reshape(-1, 128).max(0)  # columns
        handle["reconstruction_rss"] = np.stack([a.reference for a in acqs]).astype(np.float32)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The bundled real cases (4-coil brain, single-coil slice, 2-coil GRE raw data, each
    4x; the 12-coil radial cardiac data as acquired), a 3-slice volume, a corrupt file."""
    root = tmp_path_factory.mktemp("inputs")
    _undersampled(root / "brain.npz", load_sample("brain_4coil"))
    _undersampled(root / "slice.npz", load_sample("brain_slice_2d"))
    _undersampled(root / "gre.npz", load_sample("gre_raw"))
    cardiac = load_sample("radial_cardiac")
    np.savez(root / "cardiac.npz", kspace=cardiac.kspace, trajectory=cardiac.trajectory,
             shape=np.asarray(cardiac.shape))
    _volume(root / "volume.h5")
    (root / "corrupt.h5").write_bytes(b"not an HDF5 file")
    (root / "notes.txt").write_text("not an input: a folder's other files are left alone")
    return root


def test_folder_with_a_corrupt_file(folder, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["batch", str(folder), "--out", str(out), "--workers", "2"] + FAST)
    assert status == 1
    summary = json.loads((out / "summary.json").read_text())
    by_name = {os.path.basename(e["input"]): e for e in summary["inputs"]}
    assert by_name["corrupt.h5"]["status"] == "failed"
    assert "corrupt.h5" in by_name["corrupt.h5"]["error"]
    good = ["brain.npz", "slice.npz", "gre.npz", "cardiac.npz", "volume.h5"]
    assert all(by_name[name]["status"] == "ok" for name in good)
    errors = json.loads((out / "errors.json").read_text())
    assert list(errors) == [str(folder / "corrupt.h5")]
    assert not (out / "corrupt").exists()
    for name in good:
        stem = name.split(".")[0]
        assert sorted(p.name for p in (out / stem).iterdir()) == [
            "metrics.json", "recon.nii.gz", "recon.png"]
    assert (out / "summary.csv").read_text().count("\n") == 7  # header + 6 inputs
    assert by_name["volume.h5"]["slices"] == 3 and by_name["brain.npz"]["psnr"] > 27


def test_batch_gives_recon_s_image(folder, tmp_path):
    import nibabel as nib
    out = tmp_path / "out"
    main(["batch", str(folder / "volume.h5"), "--out", str(out), "--workers", "1"] + FAST)
    main(["batch", str(folder / "brain.npz"), "--out", str(out), "--workers", "1"] + FAST)
    stack = np.asarray(nib.load(str(out / "volume" / "recon.nii.gz")).dataobj)
    assert stack.shape == (3, 128, 128)
    for k in range(3):
        assert main(["recon", str(folder / "volume.h5"), "--slice", str(k),
                     "--out", str(tmp_path / f"r{k}")] + FAST) == 0
        single = np.asarray(nib.load(str(tmp_path / f"r{k}" / "recon.nii.gz")).dataobj)
        np.testing.assert_array_equal(stack[k], single)
    main(["recon", str(folder / "brain.npz"), "--out", str(tmp_path / "rb")] + FAST)
    ours = json.loads((out / "brain" / "metrics.json").read_text())
    theirs = json.loads((tmp_path / "rb" / "metrics.json").read_text())
    for key in ("seconds", "seconds_per_iter"):
        ours.pop(key), theirs.pop(key)
    # the same figures; a norm may differ in its last bits (a worker runs one BLAS thread)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if isinstance(value, float):
            assert ours[key] == pytest.approx(value, rel=1e-12, abs=0), key
        else:
            assert ours[key] == value, key


def test_killed_run_is_completed_by_the_same_command(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    brain = load_sample("brain_4coil")
    for seed in range(6):
        _undersampled(inputs / f"brain{seed}.npz", brain, seed=seed)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pysap_mri_dl", "batch", str(inputs), "--out", str(out),
               "--workers", "1", "--n-iter", "60", "--no-progress"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not list(out.glob("*/metrics.json")) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # the client and its workers
    process.wait()
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/metrics.json")}
    assert 1 <= len(done_before) < 6, "kill -9 should land halfway"
    for folder in out.iterdir():  # no output is partial: all three files or no metrics.json
        if folder.is_dir() and (folder / "metrics.json").exists():
            assert (folder / "recon.nii.gz").exists() and (folder / "recon.png").exists()
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((out / "summary.json").read_text())
    statuses = {os.path.basename(e["output"]): e["status"] for e in summary["inputs"]}
    assert statuses == {f"brain{s}": "skipped" if f"brain{s}" in done_before else "ok"
                        for s in range(6)}
    for name, mtime in done_before.items():  # finished outputs were not written again
        assert (out / name / "metrics.json").stat().st_mtime_ns == mtime
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == []
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [f"brain{s}" for s in range(6)]


def test_an_existing_cluster_given_by_address(folder, tmp_path):
    from distributed import LocalCluster
    out = tmp_path / "out"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        status = main(["batch", str(folder / "slice.npz"), "--out", str(out),
                       "--scheduler", cluster.scheduler_address] + FAST)
        workers = set(cluster.scheduler.workers)
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scheduler"] == cluster.scheduler_address
    assert set(summary["tasks_per_worker"]) <= workers and sum(
        summary["tasks_per_worker"].values()) == 1


def test_python_api_with_a_client(folder, tmp_path):
    from distributed import Client, LocalCluster

    from pysap_mri_dl.batch import reconstruct_many
    from pysap_mri_dl.cli.main import build_parser
    args = build_parser().parse_args(["batch", "unused", "--out", str(tmp_path)] + FAST)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        summary = reconstruct_many(folder / "slice.npz", tmp_path / "api", args,
                                   client=client, progress=False)
    assert [e["status"] for e in summary["inputs"]] == ["ok"]
    assert summary["inputs"][0]["psnr"] > 31.6  # zero-filled 31.57 on this 4x mask
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match="exists and is not a folder"):  # before any task
        reconstruct_many(folder / "slice.npz", tmp_path / "a-file", args, client=client)


@pytest.mark.parametrize("argv, message", [
    (["nothing-here/*.h5"], "no .h5, .hdf5 or .npz file"),
    (["{folder}", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    (["{folder}", "--wavelet", "nope"], "wavelet"),
    (["{folder}/notes.txt"], "expected a .h5, .hdf5 or .npz file"),
    (["{folder}", "--scheduler", "notanaddress"], "--scheduler notanaddress: not a Dask"),
    (["{folder}", "--scheduler", ""], "--scheduler: expected"),
    (["{folder}", "--scheduler", "tcp://127.0.0.1:1", "--workers", "3"], "--workers"),
])
def test_bad_usage_exits_2_and_writes_nothing(folder, tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    argv = [a.format(folder=folder) for a in argv]
    assert main(["batch"] + argv + ["--out", str(out)] + FAST) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def _worker_environment():
    import os
    return {name: os.environ.get(name) for name in
            ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "PYSAP_MRI_DL_FFT_WORKERS")}


def test_local_cluster_workers_start_without_dask_malloc_trim(monkeypatch):
    """Dask's default MALLOC_TRIM_THRESHOLD_ made every reconstruction 1.5x slower inside a
    worker (page faults on every large array); the local cluster's workers start without it,
    with the thread limits (whatever the shell exported: it used to win over Dask's
    pre-spawn environment) and one task slot (so 2 threads per worker, not 2 x 2), and this
    process's environment is left as it was."""
    import os

    from pysap_mri_dl.batch import local_cluster
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # e.g. left by another cluster
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    monkeypatch.delenv("PYSAP_MRI_DL_FFT_WORKERS", raising=False)
    with local_cluster(1, 2) as client:
        seen, = client.run(_worker_environment).values()
        slots, = client.nthreads().values()
    assert seen == {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "2",
                    "PYSAP_MRI_DL_FFT_WORKERS": "2"}
    assert slots == 1
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"
    assert os.environ["OMP_NUM_THREADS"] == "8"
    assert "PYSAP_MRI_DL_FFT_WORKERS" not in os.environ


def test_batch_with_posterior_samples_gathers_std_and_samples(folder, tmp_path):
    """--posterior-samples in a batch: each slice's mean, std and samples as recon --slice
    writes them (torch's thread count differs between a worker and this process, so equal
    to float tolerance), stacked in slice order; coverage averaged over the slices."""
    pytest.importorskip("torch")
    import nibabel as nib

    from pysap_mri_dl.learn import pretrained_path
    options = ["--posterior-samples", "2", "--weights", str(pretrained_path("learnlet-untied")),
               "--langevin-levels", "2", "--langevin-steps", "2", "--langevin-sigmas", "0.01",
               "0.005", "--no-progress"]
    out = tmp_path / "out"
    assert main(["batch", str(folder / "volume.h5"), "--out", str(out), "--workers", "1",
                 *options]) == 0
    read = lambda path: np.asarray(nib.load(str(path)).dataobj)  # noqa: E731
    assert read(out / "volume" / "std.nii.gz").shape == (3, 128, 128)
    assert read(out / "volume" / "samples.nii.gz").shape == (3, 2, 128, 128)
    metrics = json.loads((out / "volume" / "metrics.json").read_text())
    assert 0 < metrics["coverage_90"] < 1 and len(metrics["slices"]) == 3
    assert main(["recon", str(folder / "volume.h5"), "--slice", "1", "--out",
                 str(tmp_path / "one"), *options]) == 0
    for name in ("recon.nii.gz", "std.nii.gz", "samples.nii.gz"):
        np.testing.assert_allclose(read(out / "volume" / name)[1], read(tmp_path / "one" / name),
                                   rtol=1e-3, atol=1e-4 * read(tmp_path / "one" / name).max())


def test_files_the_reader_refuses_fail_alone_with_its_error(tmp_path):
    """An .h5 whose kspace holds no slice, or is 2-D, fails that input with the reader's
    error (it used to vanish from the summary, or fan out into 64 tasks)."""
    import h5py
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    with h5py.File(inputs / "empty.h5", "w") as handle:
        handle["kspace"] = np.zeros((0, 4, 32, 32), np.complex64)
    with h5py.File(inputs / "flat.h5", "w") as handle:
        handle["kspace"] = np.zeros((32, 32), np.complex64)
    out = tmp_path / "out"
    assert main(["batch", str(inputs), "--out", str(out), "--workers", "1"] + FAST) == 1
    errors = json.loads((out / "errors.json").read_text())
    assert "holds no slices" in errors[str(inputs / "empty.h5")]
    assert "(slices, [coils,] ky, kx)" in errors[str(inputs / "flat.h5")]


def test_volume_metrics_and_a_rerun_s_summary(folder, tmp_path):
    """A 3-slice input's metrics.json holds what its slices share, their mean figures and
    the sum of their times (a per-slice lambda only per slice); a rerun that skips it
    reports the same figures in its summary."""
    out = tmp_path / "out"
    argv = ["batch", str(folder / "volume.h5"), "--out", str(out), "--workers", "1"] + FAST
    assert main(argv) == 0
    metrics = json.loads((out / "volume" / "metrics.json").read_text())
    slices = metrics["slices"]
    assert len({s["lam"] for s in slices}) == 3 and "lam" not in metrics
    assert metrics["n_iter"] == 10 and metrics["algorithm"] == "fista"
    assert metrics["seconds"] == pytest.approx(sum(s["seconds"] for s in slices))
    assert metrics["psnr"] == pytest.approx(np.mean([s["psnr"] for s in slices]))
    first, = json.loads((out / "summary.json").read_text())["inputs"]
    assert main(argv) == 0
    again, = json.loads((out / "summary.json").read_text())["inputs"]
    assert again["status"] == "skipped"
    assert {k: again[k] for k in ("slices", "psnr", "ssim", "seconds")} == {
        k: first[k] for k in ("slices", "psnr", "ssim", "seconds")}


def test_two_runs_on_one_cluster_keep_their_own_results(folder, tmp_path):
    """Two batches at once on one client, the same input, different options: each gets its
    own reconstruction (tasks were keyed by file and slice only, and Dask handed one run
    the other's results)."""
    from concurrent.futures import ThreadPoolExecutor

    from distributed import Client, LocalCluster

    from pysap_mri_dl.batch import reconstruct_many
    from pysap_mri_dl.cli.main import build_parser
    runs = {"a": ["--n-iter", "3"], "b": ["--n-iter", "12"]}
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        def run(name):
            args = build_parser().parse_args(["batch", "unused", "--out", "unused",
                                              "--no-progress", *runs[name]])
            return reconstruct_many(folder / "volume.h5", tmp_path / name, args,
                                    client=client, progress=False)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(run, runs))
    for name, options in runs.items():
        metrics = json.loads((tmp_path / name / "volume" / "metrics.json").read_text())
        assert [s["n_iter"] for s in metrics["slices"]] == [int(options[1])] * 3


def test_a_remote_worker_in_another_folder_reads_relative_inputs(folder, tmp_path,
                                                                  monkeypatch):
    """Inputs given relative to the client's folder reach a worker started elsewhere (paths
    are sent absolute; the worker does not check --out, which the client writes)."""
    from distributed import Client, LocalCluster
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()
    (elsewhere / "out").write_text("a file where the client's --out is a folder")
    with LocalCluster(n_workers=0, processes=False, protocol="tcp",
                      dashboard_address=":0") as cluster:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
             "--nthreads", "1", "--no-dashboard"], cwd=elsewhere,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with Client(cluster) as client:
                client.wait_for_workers(1, timeout=60)
            (tmp_path / "run").mkdir()
            monkeypatch.chdir(tmp_path / "run")
            status = main(["batch", os.path.relpath(folder / "slice.npz"), "--out", "out",
                           "--scheduler", cluster.scheduler_address] + FAST)
        finally:
            worker.terminate()
            worker.wait()
    assert status == 0
    assert (tmp_path / "run" / "out" / "slice" / "metrics.json").exists()
