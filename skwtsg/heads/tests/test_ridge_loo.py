"""RidgeLOOHead against sklearn's RidgeCV (efficient leave-one-out)."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import LeaveOneOut, cross_val_predict
from sklearn.utils.estimator_checks import parametrize_with_checks

from skwtsg.heads import RidgeLOOHead, ridge_loo_errors

ALPHAS = np.logspace(-3, 3, 13)


def _data(n, d, m, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 3, size=d) + rng.normal(size=d)
    Y = X @ rng.normal(size=(d, m)) + 2.0 * rng.normal(size=(n, m))
    w = rng.uniform(0.2, 2.0, size=n)
    return X, Y, w


@pytest.mark.parametrize("n, d, m", [(80, 10, 3), (40, 60, 2), (200, 30, 1)])
@pytest.mark.parametrize("alpha_per_target", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_ridgecv(n, d, m, alpha_per_target, weighted, fit_intercept):
    X, Y, w = _data(n, d, m, seed=n + d)
    sw = w if weighted else None
    if m == 1:
        Y = Y[:, 0]
    ours = RidgeLOOHead(
        ALPHAS, alpha_per_target=alpha_per_target, fit_intercept=fit_intercept
    ).fit(X, Y, sample_weight=sw)
    ref = RidgeCV(
        alphas=ALPHAS,
        alpha_per_target=alpha_per_target,
        fit_intercept=fit_intercept,
        store_cv_results=True,
    ).fit(X, Y, sample_weight=sw)
    np.testing.assert_array_equal(ours.alpha_, ref.alpha_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-8)
    assert ours.kkt_residual_ < 1e-8
    # The criterion itself: RidgeCV stores the squared LOO errors per row.
    ref_errors = ref.cv_results_.mean(axis=0)  # (n_targets, n_alphas) or (n_alphas,)
    np.testing.assert_allclose(
        ours.loo_errors_, ref_errors.T.reshape(ours.loo_errors_.shape), rtol=1e-7
    )


def test_loo_errors_are_leave_one_out():
    """The closed form equals refitting ridge n times."""
    X, Y, _ = _data(25, 4, 1, seed=3)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    errors = ridge_loo_errors(Xc, Yc, ALPHAS[::4], intercept_weights=np.ones(25))
    for a, alpha in enumerate(ALPHAS[::4]):
        pred = cross_val_predict(Ridge(alpha=alpha), X, Y[:, 0], cv=LeaveOneOut())
        np.testing.assert_allclose(errors[a, 0], np.mean((Y[:, 0] - pred) ** 2))


def test_alpha_tracks_the_noise():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20))
    beta = rng.normal(size=20)
    clean = RidgeLOOHead().fit(X, X @ beta + 0.01 * rng.normal(size=300))
    noisy = RidgeLOOHead().fit(X, X @ beta + 30.0 * rng.normal(size=300))
    assert clean.alpha_ < noisy.alpha_


def test_overfitting_least_squares_is_avoided():
    """Many features, few rows: LOO picks a penalty that predicts better."""
    rng = np.random.default_rng(1)
    n, d = 120, 100
    X = rng.normal(size=(2 * n, d))
    y = X[:, :5] @ np.ones(5) + rng.normal(size=2 * n)
    head = RidgeLOOHead().fit(X[:n], y[:n])
    ols = Ridge(alpha=1e-10).fit(X[:n], y[:n])
    mse = np.mean((head.predict(X[n:]) - y[n:]) ** 2)
    mse_ols = np.mean((ols.predict(X[n:]) - y[n:]) ** 2)
    assert head.alpha_ > 1e-3 and mse < 0.5 * mse_ols


@pytest.mark.parametrize("alphas", [[], [0.0, 1.0], [-1.0], [np.inf], [[np.nan]]])
def test_bad_alphas(alphas):
    X, Y, _ = _data(20, 3, 1, seed=0)
    with pytest.raises(ValueError, match="alphas"):
        RidgeLOOHead(alphas).fit(X, Y)


def test_undefined_loo_is_an_error():
    """One row per feature and no intercept: every row has leverage ~1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 5))
    with pytest.raises(ValueError, match="leverage 1"):
        RidgeLOOHead([1e-300], fit_intercept=False).fit(X, rng.normal(size=5))


def test_no_varying_feature():
    """Constant features (or one row): every alpha ties, the first is kept."""
    head = RidgeLOOHead([0.5, 2.0]).fit([[1.0, 2.0]] * 3, [1.0, 2.0, 6.0])
    assert head.alpha_ == 0.5 and head.loo_errors_ is None
    np.testing.assert_array_equal(head.coef_, [0.0, 0.0])
    assert head.intercept_ == pytest.approx(3.0)


def test_per_target_alpha_shape():
    X, Y, _ = _data(60, 5, 3, seed=2)
    head = RidgeLOOHead(alpha_per_target=True).fit(X, Y)
    assert head.alpha_.shape == (3,) and head.loo_errors_.shape == (13, 3)
    shared = RidgeLOOHead().fit(X, Y)
    assert isinstance(shared.alpha_, float) and shared.loo_errors_.shape == (13, 3)
    assert RidgeLOOHead().fit(X, Y[:, 0]).loo_errors_.shape == (13, 1)


@parametrize_with_checks(
    [RidgeLOOHead()],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": (
            "leave-one-out: a row repeated twice is not one row of weight 2 "
            "(leaving one copy out keeps the other), as for RidgeCV"
        )
    },
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_per_target_alpha_fits_stacked_label_sets_separately(fit_intercept):
    """alpha_per_target=True: several label sets from one SVD, as separate fits."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 30)) * np.linspace(3, 0.1, 30)
    truth = X @ rng.normal(size=(30, 2))
    sets = [truth + s * rng.normal(size=truth.shape) for s in (0.1, 1.0, 10.0)]
    joint = RidgeLOOHead(alpha_per_target=True, fit_intercept=fit_intercept)
    joint.fit(X, np.hstack(sets))
    assert len(set(joint.alpha_.tolist())) > 1  # the noise levels differ
    for i, Y in enumerate(sets):
        cols = slice(2 * i, 2 * i + 2)
        alone = RidgeLOOHead(alpha_per_target=True, fit_intercept=fit_intercept)
        alone.fit(X, Y)
        np.testing.assert_array_equal(joint.alpha_[cols], alone.alpha_)
        np.testing.assert_allclose(joint.coef_[cols], alone.coef_, rtol=1e-10)
        np.testing.assert_allclose(
            joint.intercept_[cols], alone.intercept_, rtol=1e-10, atol=1e-14
        )
        np.testing.assert_allclose(
            joint.loo_errors_[:, cols], alone.loo_errors_, rtol=1e-10
        )
        np.testing.assert_allclose(
            joint.predict(X)[:, cols], alone.predict(X), rtol=1e-10
        )


def test_shared_alpha_couples_the_targets():
    """alpha_per_target=False: stacking label sets changes the chosen alpha."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 30))
    truth = X @ rng.normal(size=30)
    low, high = truth + 0.1 * rng.normal(size=120), truth + 30 * rng.normal(size=120)
    alone = RidgeLOOHead().fit(X, low)
    joint = RidgeLOOHead().fit(X, np.column_stack([low, high]))
    assert joint.alpha_ != alone.alpha_
