import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skwtsg import WeakToStrongRegressor
from skwtsg.metrics import weak_to_strong_report


def make_data(n=400, d=6, n_tasks=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d)) * np.linspace(3, 1, d)
    W = rng.normal(size=(d,) if n_tasks is None else (d, n_tasks))
    return X, X @ W


def test_no_true_label_reaches_the_strong_model():
    X, y = make_data()
    est = WeakToStrongRegressor(PCA(n_components=2), StandardScaler(), random_state=0)
    est.fit(X, y)
    strong = est.roles_ == "strong"
    y_perm = y.copy()
    rng = np.random.RandomState(1)
    y_perm[strong] = rng.permutation(y[strong]) + rng.normal(size=strong.sum())
    est2 = clone(est).fit(X, y_perm)
    np.testing.assert_array_equal(est2.roles_, est.roles_)
    np.testing.assert_allclose(est2.predict(X), est.predict(X), rtol=0, atol=1e-12)
    # while the weak model does use its rows' labels
    y_weak_perm = y.copy()
    weak = est.roles_ == "weak"
    y_weak_perm[weak] = rng.permutation(y[weak])
    est3 = clone(est).fit(X, y_weak_perm)
    assert not np.allclose(est3.predict(X), est.predict(X))


def test_default_roles_partition_the_rows():
    X, y = make_data(n=100)
    est = WeakToStrongRegressor(random_state=0).fit(X, y)
    counts = pd.Series(est.roles_).value_counts()
    assert counts["eval"] == 20 and counts["strong"] == 40 and counts["weak"] == 40
    est = WeakToStrongRegressor(strong_size="reuse", eval_size=10, random_state=0)
    counts = pd.Series(est.fit(X, y).roles_).value_counts()
    assert counts["eval"] == 10 and counts["both"] == 90
    est = WeakToStrongRegressor(strong_size=30, eval_size=0.0, random_state=0)
    counts = pd.Series(est.fit(X, y).roles_).value_counts()
    assert counts["strong"] == 30 and counts["weak"] == 70
    assert est.diagnostic_rows_["strong_error"] == "strong"


def test_unlabeled_rows_are_the_strong_rows():
    X, y = make_data(n=200)
    y = y.copy()
    y[:80] = np.nan
    est = WeakToStrongRegressor(PCA(n_components=3), random_state=0).fit(X, y)
    assert np.all(est.roles_[:80] == "strong")
    assert set(est.roles_[80:]) == {"weak", "eval"}
    assert np.isfinite(est.strong_error_)  # measured on eval rows
    est = WeakToStrongRegressor(PCA(n_components=3), eval_size=0).fit(X, y)
    assert np.isnan(est.strong_error_) and np.isnan(est.gain_)
    assert np.isfinite(est.misfit_) and np.isfinite(est.bound_)
    assert est.diagnostic_rows_["weak_error"] == "weak"


def test_explicit_roles_and_diagnostics_match_the_metrics():
    X, y = make_data(n=300, n_tasks=3)
    roles = np.array(["weak"] * 100 + ["strong"] * 100 + ["eval"] * 100)
    est = WeakToStrongRegressor(PCA(n_components=2)).fit(X, y, roles=roles)
    np.testing.assert_array_equal(est.roles_, roles)
    rep = weak_to_strong_report(
        y[200:],
        est.predict_weak(X[200:]),
        est.predict(X[200:]),
        multioutput="raw_values",
    )
    for name, value in rep.items():
        np.testing.assert_allclose(getattr(est, name + "_"), value)
    assert est.misfit_.shape == (3,)
    np.testing.assert_allclose(est.gain_, est.weak_error_ - est.strong_error_)
    np.testing.assert_allclose(est.bound_, est.weak_error_ - est.misfit_)


def test_theorem1_is_exact_on_the_training_sample():
    # Realizable: y is linear in the strong features (the first 4 columns);
    # the weak model (PCA of all 6) leaks the last 2, so the misfit is > 0.
    # The exact least-squares head makes Pythagoras an equality there.
    X, _ = make_data(n=500, seed=3)
    y = X[:, :4] @ np.random.RandomState(0).normal(size=(4, 3))
    strong = ColumnTransformer([("first4", "passthrough", [0, 1, 2, 3])])
    est = WeakToStrongRegressor(PCA(n_components=2), strong, random_state=0)
    est.fit(X, y)
    rep = est.train_report_
    assert np.all(rep["misfit"] > 1e-3)
    np.testing.assert_allclose(rep["gain"], rep["misfit"], rtol=1e-9)
    # on fresh rows it holds up to Theorem 2's finite-sample terms only
    np.testing.assert_allclose(est.gain_, est.misfit_, atol=0.2)


def test_sample_weight_is_used_by_heads_and_diagnostics():
    X, y = make_data(n=200, seed=2)
    y = y + np.random.RandomState(0).normal(size=200)
    sw = np.random.RandomState(1).uniform(0.1, 3, size=200)
    est = WeakToStrongRegressor(PCA(n_components=2), random_state=0)
    a = clone(est).fit(X, y, sample_weight=sw)
    b = clone(est).fit(X, y)
    assert not np.allclose(a.predict(X), b.predict(X))
    assert a.weak_error_ != pytest.approx(b.weak_error_)
    ones = clone(est).fit(X, y, sample_weight=np.ones(200))
    np.testing.assert_allclose(ones.predict(X), b.predict(X))


def test_pipeline_pandas_nested_params_and_frozen_featurizer():
    X, y = make_data(n=200)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = WeakToStrongRegressor(
        make_pipeline(StandardScaler(), PCA(n_components=2)), random_state=0
    )
    params = est.get_params()
    assert params["weak_featurizer__pca__n_components"] == 2
    est.set_params(weak_featurizer__pca__n_components=3)
    pipe = make_pipeline(StandardScaler(), est).fit(df, y)
    w2s = pipe[-1]
    assert w2s.weak_featurizer_[-1].n_components_ == 3
    assert pipe.predict(df).shape == (200,)
    est = WeakToStrongRegressor(random_state=0).fit(df, y)
    assert list(est.feature_names_in_) == list(df.columns)
    frozen = FrozenEstimator(PCA(n_components=2).fit(X))
    est = WeakToStrongRegressor(frozen, random_state=0).fit(X[:50], y[:50])
    np.testing.assert_allclose(
        est.weak_featurizer_.transform(X), frozen.estimator.transform(X)
    )


def test_convexity_warnings():
    X, y = make_data(n=120)
    with pytest.warns(UserWarning, match="Theorem 1"):
        WeakToStrongRegressor(head=MLPRegressor(max_iter=5), random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for head in (None, LinearRegression(), Ridge()):
            # a weak model outside the strong span: no zero-gain warning either
            WeakToStrongRegressor(
                FunctionTransformer(np.sign), head=head, random_state=0
            ).fit(X, y)


class _BadFeaturizer(TransformerMixin, BaseEstimator):
    def __init__(self, kind="rows"):
        self.kind = kind

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        if self.kind == "rows":
            return X[:-1]
        if self.kind == "nan":
            out = X.copy()
            out[0, 0] = np.nan
            return out
        return X[:, 0]


@pytest.mark.parametrize(
    "X, y, kwargs, match",
    [
        ("nan_X", None, {}, "NaN"),
        ("inf_X", None, {}, "infinity"),
        ("X", "short_y", {}, "inconsistent numbers of samples"),
        ("X", "nan_y", {}, "Every row of y is NaN"),
        ("X3", None, {}, "dim 3"),
        ("empty", None, {}, "0 sample"),
        (
            "X",
            None,
            {"weak_featurizer": _BadFeaturizer("rows")},
            "returned 19 rows for 20",
        ),
        ("X", None, {"strong_featurizer": _BadFeaturizer("nan")}, "NaN or infinite"),
        ("X", None, {"weak_featurizer": _BadFeaturizer("1d")}, "2-D array"),
        ("tiny", None, {}, "Too few labeled rows: 2 sample"),
        ("X", "partial_nan", {}, "some outputs are NaN"),
        ("X", None, {"eval_size": 1.5}, "eval_size"),
        ("X", None, {"strong_size": "all"}, "strong_size"),
        ("X", None, {"head": "ridge"}, "head"),
    ],
)
def test_bad_input_raises_a_clear_error(X, y, kwargs, match):
    rng = np.random.RandomState(0)
    X_ok = rng.normal(size=(50, 3))
    y_ok = X_ok.sum(axis=1)
    data = {
        "X": X_ok,
        "nan_X": np.where(np.arange(150).reshape(50, 3) == 7, np.nan, X_ok),
        "inf_X": np.where(np.arange(150).reshape(50, 3) == 7, np.inf, X_ok),
        "X3": X_ok.reshape(50, 3, 1),
        "empty": np.empty((0, 3)),
        "tiny": X_ok[:2],
    }
    X = data[X]
    y = {
        None: y_ok[: len(X)] if len(X) <= 50 else y_ok,
        "short_y": y_ok[:40],
        "nan_y": np.full(50, np.nan),
        "partial_nan": np.column_stack([y_ok, np.where(np.arange(50) == 3, np.nan, 1)]),
    }[y]
    with pytest.raises(ValueError, match=match):
        WeakToStrongRegressor(random_state=0, **kwargs).fit(X, y)


def test_bad_roles():
    X, y = make_data(n=30)
    est = WeakToStrongRegressor()
    with pytest.raises(ValueError, match="unknown values"):
        est.fit(X, y, roles=["weak"] * 29 + ["teacher"])
    with pytest.raises(ValueError, match="shape"):
        est.fit(X, y, roles=["weak"] * 10)
    y_nan = y.copy()
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="need true labels"):
        est.fit(X, y_nan, roles=["weak"] * 15 + ["strong"] * 15)
    with pytest.raises(ValueError, match="0 sample"):
        est.fit(X, y, roles=["weak"] * 30)


def test_score_skips_unlabeled_rows_and_scorers_accept_pipelines():
    from sklearn.model_selection import GridSearchCV, KFold

    from skwtsg import bound_scorer, misfit_scorer, strong_error_scorer

    X, y = make_data(n=300)
    y = y.copy()
    y[:100] = np.nan
    est = WeakToStrongRegressor(PCA(n_components=2), random_state=0).fit(X, y)
    labeled = slice(100, None)
    assert est.score(X, y) == pytest.approx(est.score(X[labeled], y[labeled]))
    assert strong_error_scorer(est, X, y) == pytest.approx(
        -np.mean((est.predict(X[labeled]) - y[labeled]) ** 2)
    )
    pipe = make_pipeline(StandardScaler(), WeakToStrongRegressor(random_state=0))
    grid = {"weaktostrongregressor__weak_featurizer": [PCA(1), PCA(4)]}
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, scoring=bound_scorer, cv=cv, error_score="raise")
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    fitted = search.best_estimator_
    inner = fitted[-1]
    Xs = fitted[0].transform(X)
    assert misfit_scorer(fitted, X) == pytest.approx(misfit_scorer(inner, Xs))
    with pytest.raises(TypeError, match="predict_weak"):
        bound_scorer(StandardScaler().fit(X), X, y)


def test_head_errors_name_the_head():
    from sklearn.linear_model import LogisticRegression

    from skwtsg.heads import IsotonicHead

    X, y = make_data(n=100)
    with pytest.raises(ValueError, match="`head` must be a regressor"):
        WeakToStrongRegressor(head=LogisticRegression()).fit(X, y)
    with pytest.raises(ValueError, match="Fitting `weak_head` .default: a clone"):
        WeakToStrongRegressor(PCA(n_components=2), head=IsotonicHead()).fit(X, y)
    X_str = X.astype(object)
    X_str[0, 0] = "cat"
    with pytest.raises(ValueError, match="X must be numeric when the featurizers are"):
        WeakToStrongRegressor().fit(X_str, y)


def test_underdetermined_least_squares_warns():
    X, y = make_data(n=12, d=6)
    with pytest.warns(UserWarning, match="interpolates its labels, so the misfit"):
        WeakToStrongRegressor(PCA(n_components=1), random_state=0).fit(X, y)


def test_column_y_scores_like_1d_y_and_reuse_skips_a_transform():
    from skwtsg import bound_scorer, strong_error_scorer

    X, y = make_data(n=200)
    est = WeakToStrongRegressor(PCA(n_components=2), random_state=0).fit(X, y)
    for scorer in (bound_scorer, strong_error_scorer):
        assert scorer(est, X, y.reshape(-1, 1)) == pytest.approx(scorer(est, X, y))

    class Counting(PCA):
        calls = 0

        def transform(self, X):
            Counting.calls += 1
            return super().transform(X)

    WeakToStrongRegressor(
        Counting(n_components=2), strong_size="reuse", eval_size=0
    ).fit(X, y)
    # PCA.fit_transform does not call transform: the weak labels of the "both"
    # rows reuse its output instead of transforming the same rows again
    assert Counting.calls == 0


def test_convexity_is_checked_on_the_fitted_head():
    import warnings

    from sklearn.linear_model import Lars

    X, y = make_data(n=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WeakToStrongRegressor(
            FunctionTransformer(np.sign), head=Lars(n_nonzero_coefs=500), random_state=0
        ).fit(X, y)


def test_strong_size_too_large_names_the_parameter():
    # Regression: strong_size=5000 on 240 rows left the weak model
    # one row without a word.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 3))
    y = X.sum(axis=1)
    with pytest.raises(ValueError, match="strong_size=5000"):
        WeakToStrongRegressor(strong_size=5000, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="strong_size=0.999"):
        WeakToStrongRegressor(strong_size=0.999, random_state=0).fit(X, y)


def test_predict_shape_from_the_training_dimension():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    y = X.sum(axis=1)
    est = WeakToStrongRegressor(random_state=0).fit(X, y[:, None])
    assert est.predict(X[:4]).shape == (4, 1)
    del est.misfit_  # the shape does not come from a diagnostic
    assert est.predict_weak(X[:4]).shape == (4, 1)
    assert WeakToStrongRegressor(random_state=0).fit(X, y).predict(X).shape == (100,)


@pytest.mark.parametrize("n", [10, 150])
def test_score_checks_lengths_first(n):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    y = X.sum(axis=1)
    est = WeakToStrongRegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.score(X, y[:n] if n < 100 else np.r_[y, y[:50]])


class _CountingHead(BaseEstimator):
    """A LeastSquaresHead recording the rows of each predict call."""

    def fit(self, X, y, sample_weight=None):
        from skwtsg.heads import LeastSquaresHead

        self.head_ = LeastSquaresHead().fit(X, y, sample_weight)
        self.predict_rows_ = []
        return self

    def predict(self, X):
        self.predict_rows_.append(len(X))
        return self.head_.predict(X)


class _CountingPCA(PCA):
    transform_rows = []

    def transform(self, X):
        _CountingPCA.transform_rows.append(len(X))
        return super().transform(X)


@pytest.mark.parametrize("eval_size", [0.2, 0])
def test_fit_makes_each_needed_prediction_once(eval_size):
    X, y = make_data(n=400)
    _CountingPCA.transform_rows = []
    est = WeakToStrongRegressor(
        _CountingPCA(n_components=2),
        weak_head=_CountingHead(),
        head=_CountingHead(),
        eval_size=eval_size,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # convexity unknown
        est.fit(X, y)
    n_eval = int(np.sum(est.roles_ == "eval"))
    n_strong = int(np.sum(est.roles_ == "strong"))
    # the weak model labels the strong rows and predicts the eval rows in one
    # call (and does not predict its own rows: not needed here) ...
    assert est.weak_head_.predict_rows_ == [n_strong + n_eval]
    assert _CountingPCA.transform_rows == [n_strong + n_eval]
    # ... the strong model predicts its rows once, and the eval rows once
    assert est.head_.predict_rows_ == [n_strong] + ([n_eval] if n_eval else [])
    # and the diagnostics are those of the predictions
    eval_rows = est.roles_ == ("eval" if n_eval else "strong")
    rep = weak_to_strong_report(
        y[eval_rows], est.predict_weak(X[eval_rows]), est.predict(X[eval_rows])
    )
    for name, value in rep.items():
        assert getattr(est, name + "_") == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_in_sample_weak_predictions_only_when_needed():
    X, y = make_data(n=300)
    y = y.copy()
    y[:100] = np.nan  # unlabeled rows: the strong rows
    est = WeakToStrongRegressor(
        weak_head=_CountingHead(), head=_CountingHead(), eval_size=0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est.fit(X, y)
    # no eval rows, unlabeled strong rows: the weak error is in-sample
    assert est.diagnostic_rows_["weak_error"] == "weak"
    assert sorted(est.weak_head_.predict_rows_) == [100, 200]
    weak = est.roles_ == "weak"
    assert est.weak_error_ == pytest.approx(
        np.mean((est.predict_weak(X[weak]) - y[weak]) ** 2)
    )


def test_non_finite_weak_labels_are_an_error_naming_the_weak_head():
    class NaNHead(_CountingHead):
        def predict(self, X):
            return np.full(len(X), np.nan)

    X, y = make_data(n=200)
    est = WeakToStrongRegressor(weak_head=NaNHead(), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError, match=r"`weak_head` \(NaNHead\) predicted NaN"):
            est.fit(X, y)


def test_dataframe_rows_reach_the_featurizers_once_taken():
    X, y = make_data(n=200)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    est = WeakToStrongRegressor(PCA(n_components=2), random_state=0)
    a = clone(est).fit(df, y)
    b = clone(est).fit(X, y)
    np.testing.assert_array_equal(a.roles_, b.roles_)
    for name in ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), rel=1e-12)


@pytest.mark.parametrize("estimator", ["regressor", "classifier"])
def test_a_fitted_weak_model_takes_no_weak_row(estimator):
    """A frozen weak model learns from no row: the labeled rows not held out
    all train the strong head (with sample weights too)."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression, Ridge

    from skwtsg import WeakToStrongClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 4))
    y = X @ [1.0, -1.0, 0.5, 2.0] + np.sin(3 * X[:, 0])
    if estimator == "classifier":
        y = (y > 0).astype(int)
        weak = FrozenEstimator(LogisticRegression().fit(np.sign(X[:30]), y[:30]))
        est = WeakToStrongClassifier(weak_head=weak, random_state=0)
    else:
        weak = FrozenEstimator(Ridge().fit(np.sign(X[:30]), y[:30]))
        est = WeakToStrongRegressor(weak_head=weak, random_state=0)
    est.fit(X, y, sample_weight=np.full(100, 2.0))
    roles, counts = np.unique(est.roles_, return_counts=True)
    assert dict(zip(roles, counts)) == {"eval": 20, "strong": 80}
    assert est.weak_head_ is weak  # used as it is, never refitted
    assert np.isfinite(est.bound_)


def test_copy_warnings_of_both_estimators():
    from sklearn.decomposition import PCA

    from skwtsg import WeakToStrongClassifier

    X, y = make_data(n=300)
    with pytest.warns(UserWarning, match="DecisionTreeRegressor"):
        WeakToStrongRegressor(PCA(2), random_state=0).fit(X, y)
    labels = (y > np.median(y)).astype(int)
    # the weak model is a softmax of the strong features: the head copies it
    with pytest.warns(UserWarning, match="KL misfit .*DecisionTreeClassifier"):
        WeakToStrongClassifier(PCA(4), random_state=0).fit(X, labels)
