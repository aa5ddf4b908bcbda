"""Weighted fits of the exact heads: integer weights are repeated rows, and
the intercept is the weighted means' closed form.

The rows outnumber :data:`~skwtsg.heads._constants.SHIFT_SAMPLE`, so the
one-pass centring starts from a strided estimate of the means and the exact
weighted means come from the pass's sums: centring by the wrong total (the
row count for the weights' sum) moves every coefficient here, where it would
hide behind an exact estimate on a small sample.
"""

import numpy as np
import pytest

from skwtsg.heads import (
    BallLeastSquaresHead,
    IsotonicHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    RidgeLOOHead,
)
from skwtsg.heads._constants import SHIFT_SAMPLE

N = 2 * SHIFT_SAMPLE + 477  # a strided sample estimates the shift

LINEAR_HEADS = [
    LeastSquaresHead(),
    LeastSquaresHead(solver="qr"),
    RidgeHead(alpha=50.0),
    RidgeHead(alpha=50.0, solver="qr"),
    NonNegativeLeastSquaresHead(),
    BallLeastSquaresHead(radius=0.8),
    RidgeLOOHead(alphas=[1.0, 100.0]),
]


def _data(seed, d=4, m=1):
    rng = np.random.RandomState(seed)
    # Off-centre columns of uneven spread, weights that change the means.
    X = rng.normal(size=(N, d)) * [1.0, 3.0, 0.5, 2.0][:d] + [4.0, -7.0, 2.0, 9.0][:d]
    coef = rng.uniform(0.2, 1.0, size=(d, m))
    Y = X @ coef + 5.0 + rng.normal(size=(N, m))
    w = rng.randint(0, 4, size=N)
    w[: N // 3] += 3 * (X[: N // 3, 0] > 4.0)  # weights correlated with X
    return X, (Y[:, 0] if m == 1 else Y), w


@pytest.mark.parametrize("head", LINEAR_HEADS, ids=repr)
@pytest.mark.parametrize("m", [1, 2])
def test_integer_weights_are_repeated_rows(head, m):
    X, Y, w = _data(0, m=m)
    weighted = head.__sklearn_clone__().fit(X, Y, sample_weight=w)
    repeated = head.__sklearn_clone__().fit(
        np.repeat(X, w, axis=0), np.repeat(Y, w, axis=0)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(
        weighted.intercept_, repeated.intercept_, rtol=1e-9, atol=1e-11
    )
    # The intercept is the weighted mean of the target minus the weighted
    # mean of the fitted part: the centring's closed form.
    coef = np.asarray(weighted.coef_).reshape(m, -1)
    expected = np.average(Y.reshape(N, m), axis=0, weights=w) - coef @ np.average(
        X, axis=0, weights=w
    )
    np.testing.assert_allclose(
        np.ravel(weighted.intercept_), expected, rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize(
    "head", [LeastSquaresHead(), RidgeHead(alpha=50.0)], ids=repr
)
def test_partial_fit_weights_are_repeated_rows(head):
    X, Y, w = _data(1)
    half = N // 2
    streamed = head.__sklearn_clone__()
    streamed.partial_fit(X[:half], Y[:half], sample_weight=w[:half])
    streamed.partial_fit(X[half:], Y[half:], sample_weight=w[half:])
    repeated = head.__sklearn_clone__().fit(np.repeat(X, w, 0), np.repeat(Y, w))
    np.testing.assert_allclose(streamed.coef_, repeated.coef_, rtol=1e-9)
    np.testing.assert_allclose(streamed.intercept_, repeated.intercept_, rtol=1e-9)


def test_isotonic_weights_are_repeated_rows():
    X, Y, w = _data(2, d=1)
    weighted = IsotonicHead().fit(X, Y, sample_weight=w)
    repeated = IsotonicHead().fit(np.repeat(X, w, 0), np.repeat(Y, w))
    grid = np.linspace(X.min(), X.max(), 50)[:, None]
    np.testing.assert_allclose(
        weighted.predict(grid), repeated.predict(grid), rtol=1e-10
    )


@pytest.mark.parametrize("alpha", [0.3, 1.0, 40.0])
@pytest.mark.parametrize("shape", [(60, 5), (8, 30)], ids=["primal", "dual"])
@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_penalty_of_any_size_is_sklearns(alpha, shape, weighted):
    """A penalty below 1 is a penalty too, on the primal (Cholesky of the Gram
    matrix) and the dual (kernel) path alike: the fit is sklearn's Ridge."""
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(3)
    n, d = shape
    X = rng.normal(size=(n, d)) + 2.0
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    w = rng.uniform(0.5, 3.0, size=n) if weighted else None
    head = RidgeHead(alpha=alpha).fit(X, y, sample_weight=w)
    ref = Ridge(alpha=alpha, solver="svd").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(head.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(head.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)
    assert head.solver_ == ("cholesky" if n > d else "dual")
