"""NonNegativeLeastSquaresHead against scipy.optimize.nnls."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import nnls
from sklearn.linear_model import LinearRegression

from skwtsg.heads import NonNegativeLeastSquaresHead


def _nnls_reference(X, y, sample_weight=None):
    """NNLS with a free intercept, by centring and scipy on the full data."""
    w = np.ones(len(y)) if sample_weight is None else sample_weight
    Xc = X - np.average(X, axis=0, weights=w)
    yc = y - np.average(y, weights=w)
    sw = np.sqrt(w)[:, None]
    return nnls(Xc * sw, (yc[:, None] * sw).ravel(), maxiter=10_000)[0]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 8)) * np.array([1, 500, 1, 0.1, 2, 1, 50, 1]) + 3.0
    B = rng.normal(size=(8, 4))
    Y = X @ B + rng.normal(size=(120, 4))
    w = rng.uniform(0, 2, size=120)
    return X, Y, w


@pytest.mark.parametrize("weighted", [False, True])
def test_matches_scipy_nnls(data, weighted):
    X, Y, w = data
    w = w if weighted else None
    head = NonNegativeLeastSquaresHead().fit(X, Y, sample_weight=w)
    assert head.coef_.shape == (4, 8)
    assert (head.coef_ >= 0).all()
    assert (head.coef_ == 0).any()  # the constraint is active somewhere
    assert head.kkt_residual_ <= 1e-8
    for k in range(Y.shape[1]):
        expected = _nnls_reference(X, Y[:, k], w)
        assert_allclose(head.coef_[k], expected, rtol=1e-7, atol=1e-10)


def test_matches_positive_linear_regression(data):
    X, Y, w = data
    head = NonNegativeLeastSquaresHead().fit(X, Y[:, 0], sample_weight=w)
    lr = LinearRegression(positive=True).fit(X, Y[:, 0], sample_weight=w)
    assert_allclose(head.predict(X), lr.predict(X), rtol=1e-6)


def test_kkt_conditions_hold(data):
    X, Y, w = data
    head = NonNegativeLeastSquaresHead().fit(X, Y, sample_weight=w)
    Xc = X - np.average(X, axis=0, weights=w)
    R = (Y - head.predict(X)) * w[:, None]
    grad = Xc.T @ R  # minus the gradient of half the weighted RSS
    scale = np.linalg.norm(Xc * np.sqrt(w)[:, None], axis=0)[:, None] * np.linalg.norm(
        (Y - np.average(Y, axis=0, weights=w)) * np.sqrt(w)[:, None], axis=0
    )
    rel = grad / scale
    on = head.coef_.T > 0
    assert np.abs(rel[on]).max() <= 1e-8
    assert rel[~on].max() <= 1e-8
    assert abs(np.average(Y - head.predict(X), axis=0, weights=w)).max() <= 1e-9


def test_nonnegative_target_is_recovered():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 5))
    y = X @ np.array([0.0, 1.0, 2.0, 0.0, 0.5]) - 3.0
    head = NonNegativeLeastSquaresHead().fit(X, y)
    assert_allclose(head.coef_, [0.0, 1.0, 2.0, 0.0, 0.5], atol=1e-10)
    assert_allclose(head.intercept_, -3.0)


def test_ill_conditioned_and_rank_deficient():
    rng = np.random.default_rng(2)
    z = rng.normal(size=200)
    X = np.column_stack(
        [500 * z, 500 * z + 1e-3 * rng.normal(size=200), rng.normal(size=200), 2 * z]
    )
    y = rng.normal(size=200) + z
    head = NonNegativeLeastSquaresHead().fit(X, y)
    assert head.kkt_residual_ <= 1e-8
    expected = _nnls_reference(X, y)
    Xc = X - X.mean(0)
    assert_allclose(Xc @ head.coef_, Xc @ expected, rtol=1e-7, atol=1e-9)


def test_without_intercept(data):
    X, Y, _ = data
    head = NonNegativeLeastSquaresHead(fit_intercept=False).fit(X, Y[:, 1])
    assert head.intercept_ == 0.0
    assert_allclose(head.coef_, nnls(X, Y[:, 1], maxiter=10_000)[0], atol=1e-9)


def test_invalid_fit_intercept(data):
    X, Y, _ = data
    with pytest.raises(ValueError, match="'fit_intercept' parameter"):
        NonNegativeLeastSquaresHead(fit_intercept="no").fit(X, Y)
