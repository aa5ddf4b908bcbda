"""BallLeastSquaresHead: the trust-region subproblem, solved exactly."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from skwtsg.heads import BallLeastSquaresHead, LeastSquaresHead, RidgeHead


def _slsqp_reference(X, y, radius, sample_weight=None):
    """Ball-constrained weighted least squares by SLSQP (free intercept)."""
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    Xc = X - np.average(X, axis=0, weights=w)
    yc = y - np.average(y, weights=w)

    def loss(b):
        r = yc - Xc @ b
        return 0.5 * np.sum(w * r**2)

    def grad(b):
        return -Xc.T @ (w * (yc - Xc @ b))

    res = minimize(
        loss,
        np.zeros(X.shape[1]),
        jac=grad,
        method="SLSQP",
        constraints=[
            {
                "type": "ineq",
                "fun": lambda b: radius**2 - b @ b,
                "jac": lambda b: -2 * b,
            }
        ],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return res.x


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)) * [1.0, 2.0, 0.5, 1.0] + 1.0
    Y = X @ rng.normal(scale=3.0, size=(4, 3)) + rng.normal(size=(60, 3))
    w = rng.uniform(0.1, 2.0, size=60)
    return X, Y, w


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("radius", [0.1, 1.0, 3.0])
def test_matches_slsqp(data, radius, weighted):
    X, Y, w = data
    w = w if weighted else None
    head = BallLeastSquaresHead(radius=radius).fit(X, Y[:, 0], sample_weight=w)
    expected = _slsqp_reference(X, Y[:, 0], radius, w)
    assert head.kkt_residual_ <= 1e-8
    assert head.multiplier_ > 0
    assert_allclose(np.linalg.norm(head.coef_), radius, rtol=1e-12)
    assert_allclose(head.coef_, expected, rtol=1e-5, atol=1e-6)


def test_large_radius_is_least_squares(data):
    X, Y, w = data
    ls = LeastSquaresHead().fit(X, Y, sample_weight=w)
    radius = 1.01 * np.linalg.norm(ls.coef_, axis=1).max()
    ball = BallLeastSquaresHead(radius=radius).fit(X, Y, sample_weight=w)
    assert_allclose(ball.coef_, ls.coef_, rtol=1e-10)
    assert_allclose(ball.intercept_, ls.intercept_, rtol=1e-10)
    assert_allclose(ball.multiplier_, 0.0)
    assert ball.kkt_residual_ <= 1e-8


def test_multi_output_mixes_active_and_inactive(data):
    X, Y, w = data
    norms = np.linalg.norm(LeastSquaresHead().fit(X, Y).coef_, axis=1)
    # A radius strictly between two norms (never equal to one): a task exactly on the
    # boundary has a multiplier of 0 only up to rounding.
    low, high = np.sort(norms)[:2]
    radius = 0.5 * (low + high)
    head = BallLeastSquaresHead(radius=radius).fit(X, Y)
    assert head.coef_.shape == (3, 4) and head.multiplier_.shape == (3,)
    assert head.kkt_residual_ <= 1e-8
    for k in range(3):
        single = BallLeastSquaresHead(radius=radius).fit(X, Y[:, k])
        assert_allclose(head.coef_[k], single.coef_, rtol=1e-10, atol=1e-14)
        assert (head.multiplier_[k] > 0) == (norms[k] > radius)


def test_multiplier_is_the_ridge_penalty(data):
    X, Y, w = data
    ball = BallLeastSquaresHead(radius=0.5).fit(X, Y, sample_weight=w)
    for k in range(3):
        ridge = RidgeHead(alpha=ball.multiplier_[k]).fit(X, Y[:, k], sample_weight=w)
        assert_allclose(ridge.coef_, ball.coef_[k], rtol=1e-8)


def test_rank_deficient_and_ill_conditioned():
    rng = np.random.default_rng(1)
    z = rng.normal(size=100)
    X = np.column_stack(
        [500 * z, 500 * z + 1e-2 * rng.normal(size=100), 3 * z, rng.normal(size=100)]
    )
    y = 5 * z + rng.normal(size=100)
    ls_norm = np.linalg.norm(LeastSquaresHead().fit(X, y).coef_)
    for radius in [1e-3, 0.5 * ls_norm, 2 * ls_norm]:
        head = BallLeastSquaresHead(radius=radius).fit(X, y)
        assert head.kkt_residual_ <= 1e-8
        assert np.linalg.norm(head.coef_) <= radius * (1 + 1e-12)


@pytest.mark.parametrize("radius", [0.0, -1.0, "one", None])
def test_invalid_radius(data, radius):
    X, Y, _ = data
    with pytest.raises(ValueError, match="'radius' parameter"):
        BallLeastSquaresHead(radius=radius).fit(X, Y)
