"""Streaming heads: merged statistics give the one-shot fit."""

import numpy as np
import pytest
from sklearn.base import clone

from skwtsg.heads import LeastSquaresHead, RidgeHead
from skwtsg.heads._stats import block_statistics, merge_statistics, tree_merge

EPS = np.finfo(np.float64).eps


def _design(rng, n, d, cond, mean_ratio):
    """Rows with condition number ``cond`` and means ``mean_ratio`` × spread."""
    U, _ = np.linalg.qr(rng.normal(size=(n, d)))
    V, _ = np.linalg.qr(rng.normal(size=(d, d)))
    X = (U * np.logspace(0, -np.log10(cond), d)) @ V.T * np.sqrt(n)
    return X + mean_ratio * X.std(axis=0)


@pytest.mark.parametrize("cond", [1.0, 1e3, 1e6])
@pytest.mark.parametrize("mean_ratio", [0.0, 1000.0])
@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead(alpha=1e-3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_chunked_partial_fit_matches_fit(cond, mean_ratio, head, weighted):
    rng = np.random.default_rng(0)
    n, d = 1500, 6
    X = _design(rng, n, d, cond, mean_ratio)
    Y = X @ rng.normal(size=(d, 2)) + 1e-4 * rng.normal(size=(n, 2))
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    full = clone(head).fit(X, Y, sample_weight=w)
    chunked = clone(head)
    for rows in np.array_split(rng.permutation(n), 7):
        chunked.partial_fit(
            X[rows], Y[rows], sample_weight=None if w is None else w[rows]
        )
    # 1e-10, or the first-order perturbation bound cond·eps of any backward
    # stable solve when that is larger (2.2e-10 at cond = 1e6).
    tol = max(1e-10, 10 * cond * EPS)
    scale = np.abs(full.coef_).max()
    np.testing.assert_allclose(chunked.coef_, full.coef_, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(
        chunked.predict(X), full.predict(X), rtol=0, atol=1e-10 * np.abs(Y).max()
    )
    assert chunked.solver_ == full.solver_
    assert chunked.kkt_residual_ <= 1e-8
    assert chunked.n_features_in_ == d


def test_merge_is_exact_for_scatter_and_means():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3)) * [1.0, 10.0, 0.1] + [1e3, -5.0, 2.0]
    Y = rng.normal(size=(300, 1))
    w = rng.uniform(0, 3, 300)
    shift_x, shift_y = X[0], Y[0]
    parts = [
        block_statistics(X[r], Y[r], w[r], shift_x, shift_y, True)
        for r in np.array_split(np.arange(300), 5)
    ]
    merged = tree_merge(parts)
    XY = np.hstack([X, Y])
    mean = np.average(XY, axis=0, weights=w)
    C = (XY - mean) * np.sqrt(w)[:, None]
    np.testing.assert_allclose(merged.R.T @ merged.R, C.T @ C, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(merged.shift_x + merged.mean_x, mean[:3], rtol=1e-14)
    assert merged.n_samples == 300
    assert merged.weight_sum == pytest.approx(w.sum())
    # the merge is associative up to rounding
    left = merge_statistics(merge_statistics(parts[0], parts[1]), parts[2])
    right = merge_statistics(parts[0], merge_statistics(parts[1], parts[2]))
    np.testing.assert_allclose(left.R.T @ left.R, right.R.T @ right.R, rtol=1e-12)


def test_partial_fit_checks_batches():
    rng = np.random.default_rng(2)
    head = LeastSquaresHead().partial_fit(rng.normal(size=(20, 3)), rng.normal(size=20))
    with pytest.raises(ValueError, match="features"):
        head.partial_fit(rng.normal(size=(5, 4)), rng.normal(size=5))
    with pytest.raises(ValueError, match="target"):
        head.partial_fit(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    with pytest.raises(ValueError, match="non-zero"):
        LeastSquaresHead().partial_fit(
            rng.normal(size=(5, 3)), rng.normal(size=5), sample_weight=np.zeros(5)
        )


def test_fit_forgets_partial_fit():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
    head = RidgeHead(alpha=0.5).partial_fit(X[:10] + 100, y[:10])
    head.fit(X, y)
    ref = RidgeHead(alpha=0.5).fit(X, y)
    np.testing.assert_allclose(head.coef_, ref.coef_, rtol=1e-12)
    head.partial_fit(X, y)  # after fit, partial_fit starts afresh
    np.testing.assert_allclose(head.coef_, ref.coef_, rtol=1e-10)


def test_partial_fit_without_intercept_and_multioutput_shares_solver():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4))
    Y = X @ rng.normal(size=(4, 3))
    full = LeastSquaresHead(fit_intercept=False).fit(X, Y)
    head = LeastSquaresHead(fit_intercept=False)
    for rows in np.array_split(np.arange(200), 3):
        head.partial_fit(X[rows], Y[rows])
    np.testing.assert_allclose(head.coef_, full.coef_, rtol=1e-12)
    assert head.coef_.shape == (3, 4)
    assert np.all(head.intercept_ == 0.0)
