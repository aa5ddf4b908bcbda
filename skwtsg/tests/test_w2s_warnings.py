"""Warnings of WeakToStrongRegressor that a fit is not telling you much.

Zero gain because the weak model lies in the strong span, a negative bound,
and a badly determined (unregularised, few rows per feature) head; and a
healthy fit that warns about none of them.
"""

import warnings

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures
from sklearn.tree import DecisionTreeRegressor

from skwtsg import WeakToStrongRegressor
from skwtsg.heads import LeastSquaresHead, RidgeHead

SPAN = "lies in the span of the strong model"
NEGATIVE = "bound_ is negative"
BADLY = "fewer than 3 rows per feature"


def _messages(record):
    return [str(w.message) for w in record]


def _fit_recording(est, X, y):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, y)
    return _messages(record)


@pytest.fixture
def nonlinear_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 4))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2]) + 0.1 * rng.normal(size=400)
    return X, y


def test_weak_model_in_the_strong_span_warns(nonlinear_data):
    # the reported case: weak = a linear model on two of the features,
    # strong = all features plus degree-2 terms
    X, y = nonlinear_data
    two = ColumnTransformer([("two", "passthrough", [0, 1])])
    est = WeakToStrongRegressor(two, PolynomialFeatures(2), random_state=0)
    with pytest.warns(UserWarning, match=SPAN) as record:
        est.fit(X, y)
    message = next(m for m in _messages(record) if SPAN in m)
    # the message names the cause and the fix
    assert "the gain is 0" in message
    assert "weak_head=DecisionTreeRegressor(max_depth=2)" in message
    assert abs(est.gain_) < 1e-8 and est.misfit_ < 1e-8


def test_pca_weak_with_passthrough_strong_warns(nonlinear_data):
    X, y = nonlinear_data
    est = WeakToStrongRegressor(PCA(1), "passthrough", random_state=0)
    with pytest.warns(UserWarning, match=SPAN):
        est.fit(X, y)


@pytest.mark.parametrize(
    "weak_head", [DecisionTreeRegressor(max_depth=2, random_state=0)]
)
def test_a_weak_head_outside_the_strong_class_does_not_warn(nonlinear_data, weak_head):
    X, y = nonlinear_data
    two = ColumnTransformer([("two", "passthrough", [0, 1])])
    est = WeakToStrongRegressor(
        two, PolynomialFeatures(2), weak_head=weak_head, random_state=0
    )
    messages = _fit_recording(est, X, y)
    assert not [m for m in messages if SPAN in m], messages
    assert est.misfit_ > 1e-3 and est.gain_ > 1e-3


def _few_rows_per_feature(seed, n=200, d=60):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    return X, X[:, 0] + rng.normal(size=n)


@pytest.mark.parametrize("head", [LeastSquaresHead(), RidgeHead(alpha=0.0)])
def test_badly_determined_head_warns(head):
    # 200 rows: 40 held out, 80 weak and 80 strong rows for 60 features
    X, y = _few_rows_per_feature(0)
    est = WeakToStrongRegressor(FunctionTransformer(np.sign), head=head, random_state=0)
    messages = _fit_recording(est, X, y)
    badly = [m for m in messages if BADLY in m]
    assert any(m.startswith("`head`") for m in badly), messages
    assert any(m.startswith("`weak_head`") for m in badly), messages
    assert all("RidgeHead" in m for m in badly)


def test_sklearn_linear_regression_counts_as_unregularised():
    X, y = _few_rows_per_feature(0)
    est = WeakToStrongRegressor(
        FunctionTransformer(np.sign), head=LinearRegression(), random_state=0
    )
    assert any(BADLY in m for m in _fit_recording(est, X, y))


def test_regularised_head_is_not_badly_determined():
    X, y = _few_rows_per_feature(0)
    est = WeakToStrongRegressor(
        FunctionTransformer(np.sign), head=RidgeHead(alpha=50.0), random_state=0
    )
    assert not [m for m in _fit_recording(est, X, y) if BADLY in m]


def test_negative_bound_warns_exactly_when_the_bound_is_negative():
    seen_negative = False
    for seed in range(5):
        X, y = _few_rows_per_feature(seed)
        est = WeakToStrongRegressor(FunctionTransformer(np.sign), random_state=seed)
        messages = [m for m in _fit_recording(est, X, y) if NEGATIVE in m]
        negative = bool(est.bound_ < 0)
        seen_negative |= negative
        assert bool(messages) == negative, (seed, est.bound_, messages)
        if negative:
            assert "RidgeHead" in messages[0]
    assert seen_negative, "no seed gave a negative bound: the test tests nothing"


def test_healthy_fit_raises_no_warning():
    # the index page's example: 1000 rows, 8 features, a weak model (signs)
    # outside the strong span, gain close to the misfit
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 8))
    y = X @ rng.normal(size=8)
    est = WeakToStrongRegressor(FunctionTransformer(np.sign), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.fit(X, y)
    assert est.bound_ > 0 and est.misfit_ > 0.1


def test_three_rows_per_feature_is_enough():
    # 400 rows: 80 held out, 160 weak and 160 strong rows for 50 features
    X, y = _few_rows_per_feature(0, n=400, d=50)
    est = WeakToStrongRegressor(FunctionTransformer(np.sign), random_state=0)
    assert not [m for m in _fit_recording(est, X, y) if BADLY in m]
    X, y = _few_rows_per_feature(0, n=400, d=60)  # 160 rows for 60 features
    assert [m for m in _fit_recording(est, X, y) if BADLY in m]


def test_rounding_level_negative_bound_does_not_warn():
    from skwtsg._backends._common import _BOUND_RTOL, _warn_if_negative_bound

    def warn(bound, weak_error, misfit, variance=1.0):
        _warn_if_negative_bound(bound, (weak_error, misfit, variance), "eval")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn(-1e-17, 0.5, 0.5 + 1e-17)  # errors agree up to rounding
        warn(-1e-31, 1e-30, 1.1e-30)  # an exact weak model: both are rounding
        warn(np.array([0.1, -2e-15]), np.array([0.3, 20.0]), 20.0, np.ones(2))
        warn(-0.9 * _BOUND_RTOL, 1.0, 1.0)
    # a real negative bound, and a negative task among positive ones, warn
    with pytest.warns(UserWarning, match=NEGATIVE):
        warn(-1e-3, 0.5, 0.501)
    with pytest.warns(UserWarning, match=NEGATIVE):
        warn(-2 * _BOUND_RTOL, 1.0, 1.0)
    with pytest.warns(UserWarning, match=NEGATIVE):
        warn(-1e-3, 1e-3, 2e-3, variance=1e-2)  # errors small next to y
    with pytest.warns(UserWarning, match=r"bound_ is negative \(-0\.2"):
        warn(np.array([0.1, -0.2]), np.array([0.3, 1.0]), np.array([0.2, 1.2]))


def test_exact_weak_model_rounding_bound_does_not_warn_in_a_fit():
    # A noise-free linear target and exact least squares on both sides: the
    # weak error and the misfit are rounding (~1e-30) and so is the bound,
    # negative for some seeds; none of those may warn.
    seen_negative = False
    for seed in range(6):
        rng = np.random.RandomState(seed)
        X = rng.normal(size=(300, 6))
        y = X @ rng.normal(size=6) + 3.0
        est = WeakToStrongRegressor(eval_size=0, random_state=seed)
        messages = _fit_recording(est, X, y)
        assert not [m for m in messages if NEGATIVE in m], (seed, est.bound_)
        assert abs(est.bound_) < 1e-20
        seen_negative |= bool(est.bound_ < 0)
    assert seen_negative, "no seed gave a rounding-level negative bound"
