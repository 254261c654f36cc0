"""Side by side with pysap-mri (skipped where it is not installed), the behaviours a user
audit found to differ: pysap-mri's module paths, Voronoi density scaling, Condat-Vu's dual
start, costs and calibrationless run, cost_interval, padding modes, pysap's wavelet names,
metric mappings, the Lipschitz estimate; and the named errors the plugin adds."""
import warnings

import numpy as np
import pytest

pytest.importorskip("pysap_mri_dl_compat")
pytest.importorskip("modopt")

from modopt.opt.linear import Identity  # noqa: E402
from modopt.opt.proximity import GroupLASSO, SparseThreshold  # noqa: E402

import pysap_mri_dl_compat.operators as ours  # noqa: E402
import pysap_mri_dl_compat.reconstructors as our_recons  # noqa: E402
from pysap_mri_dl.data import load_sample  # noqa: E402
from pysap_mri_dl.sampling import radial  # noqa: E402
from pysap_mri_dl_compat import UnsupportedOptionError, run_script  # noqa: E402
from pysap_mri_dl_compat.operators.fourier.utils import (  # noqa: E402
    estimate_density_compensation)


def _pysap():
    theirs = pytest.importorskip("mri.operators")
    import mri.reconstructors
    return theirs, mri.reconstructors


def _case(n=64):
    """A 64^2 crop of the bundled real slice, scaled to 1, and a 4x column mask."""
    image = load_sample("brain_slice_2d").reference
    centre = np.array(image.shape) // 2
    image = image[centre[0] - n // 2:centre[0] + n // 2, centre[1] - n // 2:centre[1] + n // 2]
    mask = np.zeros((n, n), dtype=int)
    mask[:, np.random.default_rng(0).random(n) < 0.25] = 1
    mask[:, n // 2 - 4:n // 2 + 4] = 1
    return (image / image.max()).astype(np.complex64), mask


def _run(operators, reconstructors, mask, image, algorithm, *, linear="sym8", mode="zero",
         formulation="synthesis", **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fourier_op = operators.FFT(shape=image.shape, mask=mask)
        recon = reconstructors.SingleChannelReconstructor(
            fourier_op, operators.WaveletN(linear, nb_scale=3, padding_mode=mode),
            regularizer_op=SparseThreshold(Identity(), 2e-3),
            gradient_formulation=formulation, verbose=0)
        return recon.reconstruct(fourier_op.op(image), algorithm, **options)


def test_pysap_mri_module_paths_run_unchanged(tmp_path):
    """pysap-mri 0.5's own import paths (those of its gallery) resolve under run_script."""
    script = tmp_path / "paths.py"
    script.write_text(
        "from mri.operators.fourier.utils import estimate_density_compensation\n"
        "from mri.operators.fourier.utils import check_if_fourier_op_uses_sense\n"
        "from mri.operators.fourier.cartesian import FFT\n"
        "from mri.operators.fourier.non_cartesian import NonCartesianFFT\n"
        "from mri.operators.linear.wavelet import WaveletN\n"
        "from mri.operators.proximity.ordered_weighted_l1_norm import OWL\n"
        "from mri.operators.utils import convert_mask_to_locations\n"
        "from mri.reconstructors.utils.extract_sensitivity_maps import get_Smaps\n"
        "from mri.reconstructors.single_channel import SingleChannelReconstructor\n"
        "from mri.reconstructors.self_calibrating import SelfCalibrationReconstructor\n"
        "from mri.reconstructors.calibrationless import CalibrationlessReconstructor\n")
    namespace = run_script(script)
    assert namespace["FFT"] is ours.FFT and namespace["WaveletN"] is ours.WaveletN
    assert namespace["OWL"] is ours.OWL
    assert namespace["SingleChannelReconstructor"] is our_recons.SingleChannelReconstructor
    assert namespace["estimate_density_compensation"] is estimate_density_compensation


def test_voronoi_density_is_scaled_as_mri_nufft_s():
    """pysap-mri's (mri-nufft's) weights for every sample but the outermost, whose cells
    the two close differently: inside 0.8 r_max the same up to one factor, which the
    normalisation (a sum over all the cells) puts 0.83% above 1 on 16 radial spokes (the
    raw areas were about 1000 times smaller)."""
    theirs, _ = _pysap()
    from mri.operators.fourier.utils import estimate_density_compensation as pysap_density
    trajectory = radial(16, 64).reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pysap_density(trajectory, (64, 64), implementation="voronoi")
    weights = estimate_density_compensation(trajectory, (64, 64), implementation="voronoi")
    radius = np.linalg.norm(trajectory, axis=1)
    inner = radius < 0.8 * radius.max()
    ratio = weights[inner] / expected[inner]
    assert np.ptp(ratio) / ratio.mean() < 1e-6  # the same weights up to one factor,
    assert abs(ratio.mean() - 1) < 0.01  # 1.0083: the scale sums over the outer cells too


def test_condat_vu_follows_pysap_mri_from_x_init_with_its_costs():
    """Analysis Condat-Vu from an x_init: the dual starts at W x_init and the costs are
    pysap-mri's (the regulariser's at the dual variable), every second one as its
    cost_interval counts them (iterations 1, 3, 5)."""
    operators, reconstructors = _pysap()
    image, mask = _case()
    start = 0.5 * np.abs(image).astype(np.complex64)
    options = dict(x_init=start, num_iterations=5, cost_op_kwargs={"cost_interval": 2})
    x_theirs, costs_theirs, _ = _run(operators, reconstructors, mask, image, "condatvu",
                                     formulation="analysis", **options)
    x_ours, costs_ours, _ = _run(ours, our_recons, mask, image, "condatvu",
                                 formulation="analysis", **options)
    assert np.linalg.norm(x_ours - x_theirs) / np.linalg.norm(x_theirs) < 1e-5
    assert len(costs_ours) == len(costs_theirs) == 3
    np.testing.assert_allclose(costs_ours, costs_theirs, rtol=1e-4)


def test_fista_costs_every_second_iteration_as_pysap_mri():
    operators, reconstructors = _pysap()
    image, mask = _case()
    options = dict(num_iterations=5, cost_op_kwargs={"cost_interval": 2})
    _, costs_theirs, _ = _run(operators, reconstructors, mask, image, "fista", **options)
    _, costs_ours, _ = _run(ours, our_recons, mask, image, "fista", **options)
    np.testing.assert_allclose(costs_ours, costs_theirs, rtol=1e-3)


@pytest.mark.parametrize("name, mode", [("sym8", "symmetric"), ("db4", "reflect"),
                                        ("bior44", "zero")])
def test_padding_modes_and_biorthogonal_wavelets_agree(name, mode):
    """pysap's adj_op is PyWavelets' inverse: with symmetric or reflect padding, or a
    biorthogonal wavelet (pysap's name 'bior44'), 10 synthesis FISTA iterations give
    pysap-mri's image (with the exact adjoint they did not)."""
    operators, reconstructors = _pysap()
    image, mask = _case()
    x_theirs, _, _ = _run(operators, reconstructors, mask, image, "fista", linear=name,
                          mode=mode, num_iterations=10)
    x_ours, _, _ = _run(ours, our_recons, mask, image, "fista", linear=name, mode=mode,
                        num_iterations=10)
    assert np.linalg.norm(x_ours - x_theirs) / np.linalg.norm(x_theirs) < 1e-3


def _on_both(run):
    """``run(operators, reconstructors)`` on pysap-mri and on the plugin: ``(theirs, ours,
    relative difference)``."""
    results = []
    for libraries in (_pysap(), (ours, our_recons)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(run(*libraries))
    theirs, mine = results
    return theirs, mine, np.linalg.norm(mine - theirs) / np.linalg.norm(theirs)


def test_lipschitz_estimate_is_pysap_mri_s():
    """Self-calibrated FISTA: the step from modopt's power method (uniform start), so the
    images agree to pysap-mri's own run-to-run spread, not the 2e-3 of another start."""
    from pysap_mri_dl.operators import fftn_centered, ifftn_centered
    brain = load_sample("brain_4coil")
    centre = ifftn_centered(brain.kspace, 2)[:, 96:160, 96:160]
    kspace = fftn_centered(centre, 2).astype(np.complex64)
    _, mask = _case()

    def run(ops, recons):
        recon = recons.SelfCalibrationReconstructor(
            ops.FFT(shape=(64, 64), mask=mask, n_coils=4), ops.WaveletN("sym8", nb_scale=3),
            regularizer_op=SparseThreshold(Identity(), 1e-4 * np.abs(kspace).max()),
            kspace_portion=0.2, verbose=0)
        return recon.reconstruct(kspace * mask, "fista", num_iterations=10)[0]
    assert _on_both(run)[2] < 1e-4


def test_calibrationless_condat_vu_runs_as_on_pysap_mri():
    kspace = load_sample("brain_4coil").kspace[:3]  # an odd coil count too
    _, mask = _case(256)

    def run(ops, recons):
        recon = recons.CalibrationlessReconstructor(
            ops.FFT(shape=(256, 256), mask=mask, n_coils=3),
            ops.WaveletN("haar", nb_scale=3, n_coils=3),
            regularizer_op=GroupLASSO(1e-4 * np.abs(kspace).max()),
            gradient_formulation="analysis", verbose=0)
        return recon.reconstruct(kspace * mask, "condatvu", num_iterations=3)[0]
    _, mine, gap = _on_both(run)
    assert mine.shape == (3, 256, 256)
    assert gap < 1e-3


def test_metric_mapping_gives_the_iteration_and_named_errors():
    image, mask = _case()
    seen = []
    metrics = {"err": {"metric": lambda test, it: seen.append(it) or 0.0,
                       "mapping": {"x_new": "test", "idx": "it"}, "cst_kwargs": {},
                       "early_stopping": False}}
    _run(ours, our_recons, mask, image, "fista", num_iterations=3, metrics=metrics,
         metric_call_period=1)
    assert seen == [0, 1, 2]
    for key in ("z_new", "y_new"):  # y_new: the dual variable of Condat-Vu only
        metrics["err"]["mapping"] = {"x_new": "test", key: "it"}
        with pytest.raises(UnsupportedOptionError, match="mapping"):
            _run(ours, our_recons, mask, image, "fista", num_iterations=3, metrics=metrics)
    with pytest.raises(UnsupportedOptionError, match="condatvu"):
        _run(ours, our_recons, mask, image, "fista", formulation="analysis",
             num_iterations=3)
    with pytest.raises(ValueError, match="x_init must have the image's shape"):
        _run(ours, our_recons, mask, image, "fista", x_init=np.zeros((32, 32)),
             num_iterations=3)
