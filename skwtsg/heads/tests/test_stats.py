"""Streaming heads: merged statistics give the one-shot fit."""

import numpy as np
import pytest
from sklearn.base import clone

from skwtsg.heads import (
    LeastSquaresHead,
    RidgeHead,
    block_statistics,
    merge_statistics,
)
from skwtsg.heads._stats import tree_merge

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


def test_fit_from_statistics_is_fit():
    """The public contract: blocks' statistics, merged, fit as ``fit`` does."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(120, 4)) * [1.0, 5.0, 0.2, 1.0] + [100.0, -3.0, 0.0, 7.0]
    y = X @ rng.normal(size=4) + rng.normal(size=120)
    w = rng.uniform(0.5, 2.0, 120)
    for head in (LeastSquaresHead(), RidgeHead(alpha=0.5), RidgeHead(solver="qr")):
        shift = {"shift_x": X[0], "shift_y": y[:1], "centred": head.fit_intercept}
        stats = merge_statistics(
            block_statistics(X[:50], y[:50], w[:50], **shift),
            block_statistics(X[50:], y[50:], w[50:], **shift),
        )
        fitted = clone(head).fit_from_statistics(stats, y_ndim=1)
        full = clone(head).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(fitted.coef_, full.coef_, rtol=1e-10)
        assert isinstance(fitted.intercept_, float)
        np.testing.assert_allclose(fitted.intercept_, full.intercept_, rtol=1e-10)
        assert fitted.n_features_in_ == 4
        assert fitted.solver_ == full.solver_
        assert fitted.kkt_residual_ <= 1e-8
        # two-dimensional targets by default
        assert clone(head).fit_from_statistics(stats).coef_.shape == (1, 4)


def test_fit_from_statistics_validates():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(30, 2))
    stats = block_statistics(X, Y)
    with pytest.raises(ValueError, match="fit_intercept=True, but the head"):
        LeastSquaresHead(fit_intercept=False).fit_from_statistics(stats)
    with pytest.raises(ValueError, match="y_ndim=1 needs statistics of one"):
        LeastSquaresHead().fit_from_statistics(stats, y_ndim=1)
    with pytest.raises(ValueError, match="y_ndim must be 1 or 2"):
        LeastSquaresHead().fit_from_statistics(stats, y_ndim=3)
    with pytest.raises(TypeError, match="LeastSquaresStatistics"):
        LeastSquaresHead().fit_from_statistics((X, Y))
    uncentred = block_statistics(X, Y, centred=False)
    head = LeastSquaresHead(fit_intercept=False).fit_from_statistics(uncentred)
    ref = LeastSquaresHead(fit_intercept=False).fit(X, Y)
    np.testing.assert_allclose(head.coef_, ref.coef_, rtol=1e-10)


def test_fit_from_statistics_forgets_feature_names_and_continues():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(8)
    X = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    y = rng.normal(size=40)
    head = LeastSquaresHead().fit(X, y)
    stats = block_statistics(X.to_numpy()[:20], y[:20], shift_x=X.iloc[0])
    head.fit_from_statistics(stats, y_ndim=1)
    assert not hasattr(head, "feature_names_in_")
    # partial_fit adds rows to the statistics it was fitted from
    head.partial_fit(X.to_numpy()[20:], y[20:])
    full = LeastSquaresHead().fit(X, y)
    np.testing.assert_allclose(head.coef_, full.coef_, rtol=1e-10)
    # and keeps the names of its own batches
    streamed = (
        LeastSquaresHead().partial_fit(X[:20], y[:20]).partial_fit(X[20:], y[20:])
    )
    assert list(streamed.feature_names_in_) == ["a", "b"]


def test_merge_checks_reference_points():
    rng = np.random.default_rng(9)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    a = block_statistics(X[:10], y[:10], shift_x=X[0], shift_y=y[:1])
    with pytest.raises(ValueError, match="different reference points"):
        merge_statistics(a, block_statistics(X[10:], y[10:]))
    with pytest.raises(ValueError, match="uncentred"):
        merge_statistics(
            block_statistics(X[:10], y[:10]),
            block_statistics(X[10:], y[10:], centred=False),
        )
    with pytest.raises(ValueError, match="shift_x must have shape"):
        block_statistics(X, y, shift_x=np.zeros(3))
    with pytest.raises(ValueError, match="as many rows"):
        block_statistics(X, y[:5])


def test_tags_declare_fitting_from_statistics():
    from skwtsg.heads import BallLeastSquaresHead, get_head_tags

    assert get_head_tags(LeastSquaresHead()).fits_from_statistics
    assert get_head_tags(RidgeHead()).fits_from_statistics
    assert not get_head_tags(BallLeastSquaresHead()).fits_from_statistics


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ({"X": np.full((3, 2), np.nan)}, ValueError, "Input X contains NaN"),
        ({"Y": np.ones(3) + 1j}, ValueError, "Complex data"),
        ({"Y": np.array([1.0, np.inf, 0.0])}, ValueError, "Input Y contains"),
        ({"sample_weight": -np.ones(3)}, ValueError, "non-negative"),
        ({"sample_weight": np.ones(2)}, ValueError, r"shape \(3,\)"),
        ({"sample_weight": [1.0, np.nan, 1.0]}, ValueError, "sample_weight"),
        ({"shift_y": [np.nan]}, ValueError, "shift_y"),
        ({"centred": 1}, TypeError, "`centred` must be a bool"),
    ],
)
def test_block_statistics_refuses_bad_input(bad, error, match):
    kwargs = {"X": np.ones((3, 2)), "Y": np.arange(3.0)}
    kwargs.update(bad)
    with pytest.raises(error, match=match):
        block_statistics(**kwargs)


def test_block_statistics_of_empty_blocks_merge():
    """A block without rows (or without features) is a neutral element."""
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    empty = block_statistics(X[:0], y[:0])
    assert empty.n_samples == 0 and empty.weight_sum == 0.0
    merged = merge_statistics(empty, block_statistics(X, y))
    whole = block_statistics(X, y)
    np.testing.assert_allclose(merged.R.T @ merged.R, whole.R.T @ whole.R)
    labels_only = block_statistics(np.empty((30, 0)), y[:, None])
    assert labels_only.n_features == 0 and labels_only.n_targets == 1
