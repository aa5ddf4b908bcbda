"""pythagorean_gap."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skwtsg.heads import LeastSquaresHead, NonNegativeLeastSquaresHead, pythagorean_gap


@pytest.mark.parametrize("weighted", [False, True])
def test_gap_is_the_difference_of_squared_distances(weighted):
    rng = np.random.default_rng(0)
    y_w, y_hat, y_star = rng.normal(size=(3, 40, 2))
    w = rng.uniform(0, 2, size=40) if weighted else None

    def d(a, b):
        return np.average((a - b) ** 2, axis=0, weights=w)

    expected = d(y_w, y_star) - d(y_hat, y_star) - d(y_hat, y_w)
    gap = pythagorean_gap(y_w, y_hat, y_star, sample_weight=w)
    assert gap.shape == (2,)
    assert_allclose(gap, expected, rtol=1e-12)
    scalar = pythagorean_gap(y_w[:, 0], y_hat[:, 0], y_star[:, 0], sample_weight=w)
    assert isinstance(scalar, float)
    assert_allclose(scalar, expected[0], rtol=1e-12)


def test_gap_sign_for_projections():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(100, 3))
    y_star = Z @ [1.0, 0.0, 2.0] + 1.0  # inside the non-negative cone
    y_w = rng.normal(size=100) * 3
    nnls_pred = NonNegativeLeastSquaresHead().fit(Z, y_w).predict(Z)
    assert pythagorean_gap(y_w, nnls_pred, y_star) >= 0
    ls_pred = LeastSquaresHead().fit(Z, y_w).predict(Z)
    assert abs(pythagorean_gap(y_w, ls_pred, y_star)) <= 1e-12
    # not a projection: the gap can be negative
    assert pythagorean_gap(y_w, y_w + 1.0, y_star) < 0


def test_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        pythagorean_gap(np.zeros(5), np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(ValueError):
        pythagorean_gap(np.zeros(5), np.zeros(4), np.zeros(5))
