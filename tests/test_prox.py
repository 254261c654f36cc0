"""Proximity operators: closed forms, complex handling, and ModOpt interoperability."""
import numpy as np
import pytest

from pysap_mri_dl.operators import Wavelet
from pysap_mri_dl.prox import (Analysis, CycleSpin, FromModopt, GroupLasso, Identity, Positivity,
                               SoftThreshold, to_modopt)
from pysap_mri_dl.testing import random_array


def test_soft_threshold_closed_form_real():
    x = np.array([-3.0, -0.5, 0.0, 0.2, 2.0])
    np.testing.assert_allclose(SoftThreshold(1.0).prox(x, 0.5), [-2.5, 0.0, 0.0, 0.0, 1.5])


def test_soft_threshold_complex_keeps_phase_and_shrinks_modulus():
    x = random_array(1000, seed=0)
    out = SoftThreshold(0.7).prox(x, 1.0)
    kept = np.abs(x) > 0.7
    np.testing.assert_allclose(np.abs(out[kept]), np.abs(x[kept]) - 0.7, atol=1e-6)
    np.testing.assert_allclose(np.angle(out[kept]), np.angle(x[kept]), atol=1e-5)
    assert np.all(out[~kept] == 0)


def test_soft_threshold_is_the_prox_by_optimality():
    # z = prox(x) minimises step*w|z| + |z-x|^2/2: compare with a brute-force grid search
    x, step, w = 1.3 - 0.4j, 0.8, 0.9
    z = SoftThreshold(w).prox(np.array([x]), step)[0]
    grid = np.linspace(-2, 2, 801)
    zz = grid[:, None] + 1j * grid[None, :]
    objective = step * w * np.abs(zz) + 0.5 * np.abs(zz - x) ** 2
    best = zz.ravel()[np.argmin(objective)]
    assert abs(best - z) < 0.01


def test_soft_threshold_per_band_weights():
    op = Wavelet((32, 32), levels=2)
    weights = op.detail_weights(1.0, approx=0.0)
    coeffs = op.op(random_array((32, 32)))
    out = SoftThreshold(10 * weights).prox(coeffs, 1.0)
    approx = op.bands[0].slice
    np.testing.assert_array_equal(out[approx], coeffs[approx])
    assert np.count_nonzero(out[approx.stop:]) < 0.5 * (op.n_coeffs - approx.stop)


def test_soft_threshold_cost_and_bad_weights():
    assert SoftThreshold(2.0).cost(np.array([1 + 1j, -1.0])) == pytest.approx(2 * (np.sqrt(2) + 1))
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        SoftThreshold(-1.0)
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        SoftThreshold(np.array([1.0, np.nan]))


def test_group_lasso_shrinks_group_norm():
    x = random_array((4, 10, 10), seed=1)
    out = GroupLasso(0.5, axis=0).prox(x, 2.0)
    norm_in = np.linalg.norm(x, axis=0)
    norm_out = np.linalg.norm(out, axis=0)
    np.testing.assert_allclose(norm_out, np.maximum(norm_in - 1.0, 0), atol=1e-5)
    # direction within each group is kept
    kept = norm_in > 1
    cos = np.abs(np.sum(np.conj(x) * out, axis=0))[kept] / (norm_in * norm_out)[kept]
    np.testing.assert_allclose(cos, 1, atol=1e-5)


def test_positivity_and_identity():
    x = np.array([-1 + 2j, 3 - 1j])
    np.testing.assert_array_equal(Positivity().prox(x, 1.0), [0, 3])
    np.testing.assert_array_equal(Identity().prox(x, 1.0), x)


def test_analysis_prox_with_orthonormal_wavelet_is_exact():
    op = Wavelet((32, 32), levels=3)
    x = random_array((32, 32), seed=2)
    out = Analysis(op, SoftThreshold(0.3)).prox(x, 1.0)
    # for orthonormal W, prox(R(W.)) = W^H prox_R(W x), and W out = soft(W x)
    np.testing.assert_allclose(op.op(out), SoftThreshold(0.3).prox(op.op(x), 1.0), atol=1e-5)


def test_cycle_spin_is_seeded_and_commutes_with_shift_invariant_prox():
    x = random_array((16, 16), seed=3)
    a = CycleSpin(SoftThreshold(0.5), ndim=2, max_shift=8, seed=0).prox(x, 1.0)
    np.testing.assert_allclose(a, SoftThreshold(0.5).prox(x, 1.0), atol=1e-6)
    op = Wavelet((16, 16), levels=2)
    p1 = CycleSpin(Analysis(op, SoftThreshold(0.5)), ndim=2, max_shift=4, seed=7)
    p2 = CycleSpin(Analysis(op, SoftThreshold(0.5)), ndim=2, max_shift=4, seed=7)
    np.testing.assert_array_equal(p1.prox(x, 1.0), p2.prox(x, 1.0))


def test_modopt_interoperability():
    from modopt.opt.proximity import SparseThreshold
    from modopt.opt.linear import Identity as ModoptIdentity
    x = random_array(200, seed=4)
    theirs = SparseThreshold(ModoptIdentity(), 0.4, thresh_type="soft")
    np.testing.assert_allclose(FromModopt(theirs).prox(x, 1.5), SoftThreshold(0.4).prox(x, 1.5),
                               atol=1e-6)
    ours = to_modopt(SoftThreshold(0.4))
    np.testing.assert_allclose(ours.op(x, extra_factor=1.5), theirs.op(x, extra_factor=1.5), atol=1e-6)
