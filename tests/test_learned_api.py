"""The Python API of the learned end as a user calls it (an audit's findings): denoising a
tensor leaves no graph, options that do not apply to a prior or a network are named errors,
the result reports what ran, a caller's network keeps its mode and device, the input's
precision comes back, and mixed array kinds are refused as by the CS reconstructors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.learn import (build_model, denoise, learned_prior, load_network,  # noqa: E402
                                reconstruct_network)
from pysap_mri_dl.learn.score import LangevinSchedule, sample_posterior  # noqa: E402
from pysap_mri_dl.learn.weights import load_denoiser, pretrained_path  # noqa: E402
from pysap_mri_dl.recon import reconstruct_noncartesian, reconstruct_sense  # noqa: E402
from pysap_mri_dl.sampling import random_column_mask  # noqa: E402


@pytest.fixture(scope="module")
def case():
    """A 64^2 crop of the bundled real 4-coil brain's k-space centre, 4x columns."""
    kspace = load_sample("brain_4coil").kspace[:, 96:160, 96:160]
    mask = random_column_mask((64, 64), acceleration=4, center_fraction=0.08, seed=0)
    return (kspace * mask).astype(np.complex64), mask


def test_denoise_leaves_no_graph_and_names_a_flat_image():
    model = load_denoiser(pretrained_path("learnlet"))[0]
    out = denoise(model, torch.rand(32, 32), 0.05)
    assert not out.requires_grad and out.numpy().shape == (32, 32)
    image = torch.rand(32, 32, requires_grad=True)
    denoise(model, image, 0.05).sum().backward()  # a caller who differentiates still can
    assert image.grad is not None
    with pytest.raises(ValueError, match=r"image must have shape \(\.\.\., H, W\)"):
        denoise(model, np.ones(32, np.float32), 0.05)


def test_lambda_options_and_algorithms_that_do_not_apply_to_a_learned_prior(case):
    kspace, mask = case
    for option in ({"lam": 0.5}, {"lam_factor": 0.002}):
        with pytest.raises(ValueError, match="applies to the default wavelet prior"):
            reconstruct_sense(kspace, mask, prior=learned_prior(), n_iter=2, **option)
    for option in ({"levels": 2}, {"wavelet": "db4"}, {"undecimated": True}):
        with pytest.raises(ValueError, match="set the default wavelet prior"):
            reconstruct_sense(kspace, mask, prior=learned_prior(), n_iter=2, **option)
    for algorithm in ("pogm", "primal-dual"):
        with pytest.raises(ValueError, match="step 1/L that ista and fista take"):
            reconstruct_sense(kspace, mask, prior=learned_prior(), n_iter=2,
                              algorithm=algorithm)
    from pysap_mri_dl.recon import SOLVERS
    reconstruct_sense(kspace, mask, prior=learned_prior(), n_iter=2,
                      algorithm=SOLVERS["fista"])  # a solver given as a callable runs
    result = reconstruct_sense(kspace, mask, prior=learned_prior(sigma=0.01), n_iter=2)
    prox = learned_prior(sigma=0.01).build(result_operator(kspace, mask, result), kspace)
    assert result.lam == pytest.approx(prox.lam, rel=1e-6)  # the lambda the prox ran with


def result_operator(kspace, mask, result):
    from pysap_mri_dl.operators import SENSE
    return SENSE(result.smaps, mask=mask)


def test_network_options_are_checked(case):
    kspace, mask = case
    with pytest.raises(ValueError, match="smaps must be 'auto' or an array"):
        reconstruct_network(kspace, mask, model="cascade", smaps="espirit")
    with pytest.raises(ValueError, match="smaps were given for single-coil"):
        reconstruct_network(kspace[0], mask, model="cascade",
                            smaps=np.full((1, 64, 64), 0.5, np.complex64))
    from pysap_mri_dl.learn.unrolled.models import CascadeNet
    own = CascadeNet(n_cascades=1, features=4, depth=2)  # a network built from its class
    assert reconstruct_network(kspace, mask, model=own).algorithm == "cascadenet"
    with pytest.raises(TypeError, match="load_network returns"):
        reconstruct_network(kspace, mask, model=load_network("unet"))
    with pytest.raises(TypeError, match="learned_prior"):
        reconstruct_network(kspace, mask, model=load_denoiser(pretrained_path("learnlet"))[0])
    with pytest.raises(TypeError, match="smaps is a torch array"):
        reconstruct_network(kspace, mask, model="cascade",
                            smaps=torch.ones((4, 64, 64), dtype=torch.complex64))
    for config in ({"n_primal": 0}, {"n_dual": 0}):
        with pytest.raises(ValueError, match="must be an integer >= 1"):
            build_model("pdnet", kind="reconstruction", **config)
    for name in ("deq", "learnlet-unrolled"):
        with pytest.raises(ValueError, match="sigma must be a number in"):
            build_model(name, kind="reconstruction", sigma=-0.001)


def test_trajectory_density_and_dimension_are_named():
    from pysap_mri_dl.data.simulation import radial_brain_slice
    from pysap_mri_dl.sampling import kooshball
    kspace, trajectory, _ = radial_brain_slice(40, 128)
    options = dict(model="ncpdnet", trajectory=trajectory, shape=(128, 128))
    with pytest.raises(ValueError, match="density=None"):
        reconstruct_network(kspace, density=None, **options)
    with pytest.raises(ValueError, match="density must have one value per sample"):
        reconstruct_network(kspace, density=np.ones(10), **options)
    points = kooshball(20, 32)
    with pytest.raises(ValueError, match="reconstructs 2D images, received a 3D"):
        reconstruct_network(np.ones(len(points), np.complex64), model="ncpdnet",
                            trajectory=points, shape=(16, 16, 16))
    # the CS reconstructor takes density=None (no compensation) with density_weighting 0
    reconstruct_noncartesian(kspace, trajectory, (128, 128), density=None,
                             density_weighting=0, n_iter=1)


def test_a_caller_s_network_keeps_its_mode_and_the_result_reports_iterations(case):
    kspace, mask = case
    network = load_network("deq")[0]
    network.config["max_iter"] = 3
    network.train()
    result = reconstruct_network(kspace, mask, model=network)
    assert network.training  # put back as the caller left it
    assert result.n_iter == 3 and result.optim.stop_reason == "max_iter"
    assert reconstruct_network(kspace, mask, model="cascade").n_iter == 5  # its cascades


def test_networks_return_the_input_s_precision(case):
    kspace, mask = case
    single = reconstruct_network(kspace, mask, model="cascade").image
    double = reconstruct_network(kspace.astype(np.complex128), mask, model="cascade").image
    assert single.dtype == np.complex64 and double.dtype == np.complex128
    np.testing.assert_allclose(double, single, rtol=1e-5, atol=1e-6 * np.abs(single).max())
    tensor = reconstruct_network(torch.from_numpy(kspace.astype(np.complex128)), mask,
                                 model="cascade").image
    assert tensor.dtype == torch.complex128


def test_posterior_options_are_named(case):
    kspace, mask = case
    tiny = LangevinSchedule(n_levels=1, steps_per_level=1)
    options = dict(n_samples=2, start="zero-filled", calibrate=False)
    with pytest.raises(ValueError, match="seed must be an integer"):
        sample_posterior(kspace, mask, schedule=tiny, seed=None, **options)
    with pytest.raises(TypeError, match="schedule must be a LangevinSchedule"):
        sample_posterior(kspace, mask, schedule={"n_levels": 1}, **options)
    with pytest.raises(ValueError, match="n_levels must be an integer"):
        LangevinSchedule(n_levels=2.5)
    with pytest.raises(TypeError, match="smaps is a torch array"):
        sample_posterior(kspace, mask, schedule=tiny, **options,
                         smaps=torch.ones((4, 64, 64), dtype=torch.complex64))
    by_name = sample_posterior(kspace, mask, schedule=tiny, weights="learnlet", **options)
    by_file = sample_posterior(kspace, mask, schedule=tiny, **options,
                               weights=pretrained_path("learnlet"))
    np.testing.assert_array_equal(by_name.samples, by_file.samples)


def test_recon_of_the_deq_records_its_fixed_point_iterations(case, tmp_path):
    import json

    from pysap_mri_dl.cli import main
    kspace, mask = case
    np.savez(tmp_path / "crop.npz", kspace=kspace, mask=mask)
    assert main(["recon", str(tmp_path / "crop.npz"), "--out", str(tmp_path / "out"),
                 "--model", "deq", "--no-progress"]) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["fixed_point_iterations"] >= 1 and "unrolled_iterations" not in metrics
    assert metrics["stop_reason"] in ("converged", "max_iter", "diverged")
