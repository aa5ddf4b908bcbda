"""WeakSupervisorSearch: the numbers of separate fits, for one strong fit."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures
from sklearn.tree import DecisionTreeRegressor

from skwtsg import WeakSupervisorSearch, WeakToStrongRegressor
from skwtsg.heads import LeastSquaresHead, RidgeHead, RidgeLOOHead
from skwtsg.model_selection._search import _fits_columns_separately

DIAGNOSTICS = ("weak_error", "strong_error", "misfit", "gain", "bound")


def _data(n=400, n_outputs=None, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    shape = (5,) if n_outputs is None else (5, n_outputs)
    y = X @ rng.normal(size=shape) + 0.5 * np.sin(
        2 * X[:, :1] if n_outputs else 2 * X[:, 0]
    )
    return X, y


def _supervisors(X, y):
    return {
        "signs": (FunctionTransformer(np.sign), LeastSquaresHead()),
        "tree": DecisionTreeRegressor(max_depth=2, random_state=0),
        "frozen": FrozenEstimator(Ridge().fit(np.round(X[:60]), y[:60])),
    }


def _separate(search, X, y, sample_weight=None):
    out = {}
    for name, sup in search.weak_supervisors.items():
        feat, head = sup if isinstance(sup, tuple) else ("passthrough", sup)
        est = WeakToStrongRegressor(
            feat, search.strong_featurizer, head=search.head, weak_head=head
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out[name] = est.fit(X, y, sample_weight=sample_weight, roles=search.roles_)
    return out


@pytest.mark.parametrize("n_outputs", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "head",
    [None, RidgeHead(alpha=3.0), RidgeLOOHead(), RidgeLOOHead(alpha_per_target=True)],
)
def test_equals_one_regressor_per_supervisor(n_outputs, weighted, head):
    X, y = _data(n_outputs=n_outputs)
    w = np.random.RandomState(1).uniform(0.5, 2.0, len(X)) if weighted else None
    search = WeakSupervisorSearch(
        _supervisors(X, y), PolynomialFeatures(2), head=head, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X, y, sample_weight=w)
    for name, est in _separate(search, X, y, w).items():
        scale = np.max(np.abs(est.weak_error_))
        for key in DIAGNOSTICS:
            np.testing.assert_allclose(
                search.reports_[name][key],
                getattr(est, key + "_"),
                rtol=1e-10,
                atol=1e-10 * scale,
                err_msg=f"{name} {key}",
            )
        assert search.diagnostic_rows_ == est.diagnostic_rows_
        np.testing.assert_allclose(
            search.predict(X[:20], name), est.predict(X[:20]), rtol=1e-9, atol=1e-9
        )
        np.testing.assert_allclose(
            search.predict_weak(X[:20], name), est.predict_weak(X[:20]), rtol=1e-12
        )
    table = search.results_
    assert list(table.index) == list(search.weak_supervisors)
    assert search.best_ == table["bound"].idxmin()
    assert table.loc[search.best_, "rank"] == 1
    np.testing.assert_array_equal(
        search.predict(X[:5]), search.predict(X[:5], search.best_)
    )


def test_label_sets_are_stacked_only_for_columnwise_heads():
    X, y = _data()
    sups = _supervisors(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        stacked = WeakSupervisorSearch(sups, random_state=0).fit(X, y)
        separate = WeakSupervisorSearch(sups, head=RidgeLOOHead(), random_state=0).fit(
            X, y
        )
    assert len({id(h) for h in stacked.strong_heads_.values()}) == 1
    assert stacked.output_columns_["tree"] == slice(1, 2)
    assert len({id(h) for h in separate.strong_heads_.values()}) == 3


def test_fits_columns_separately():
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    for head in (LeastSquaresHead(), RidgeHead(), RidgeLOOHead(alpha_per_target=True)):
        assert _fits_columns_separately(head)
    for head in (
        RidgeLOOHead(),
        RidgeCV(),
        make_pipeline(StandardScaler(), RidgeLOOHead()),
    ):
        assert not _fits_columns_separately(head)


def test_frozen_supervisors_leave_no_weak_row():
    X, y = _data(n=500)
    frozen = {"f": FrozenEstimator(Ridge().fit(X[:50], y[:50]))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search = WeakSupervisorSearch(frozen, PolynomialFeatures(2), random_state=0)
        search.fit(X, y)
    roles, counts = np.unique(search.roles_, return_counts=True)
    assert dict(zip(roles, counts)) == {"eval": 100, "strong": 400}
    # one trainable supervisor: the default division, 40% weak rows
    sups = {**frozen, "tree": DecisionTreeRegressor(max_depth=2)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search.set_params(weak_supervisors=sups).fit(X, y)
    assert np.sum(search.roles_ == "weak") == 200


def test_grid_search_and_clone():
    X, y = _data()
    search = WeakSupervisorSearch(_supervisors(X, y), random_state=0)
    assert (
        clone(search).get_params()["weak_supervisors"].keys()
        == search.weak_supervisors.keys()
    )
    grid = GridSearchCV(
        search,
        {"strong_featurizer": ["passthrough", PolynomialFeatures(2)]},
        scoring="neg_mean_squared_error",
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        grid.fit(X, y)
    assert isinstance(grid.best_estimator_.results_, pd.DataFrame)


@pytest.mark.parametrize(
    "supervisors, error, match",
    [
        ({}, ValueError, "at least one"),
        ({1: Ridge()}, TypeError, "keys must be strings"),
        ({"a": (Ridge(),)}, ValueError, "pair"),
        ({"a": "tree"}, TypeError, "must be a regressor"),
    ],
)
def test_bad_supervisors(supervisors, error, match):
    X, y = _data()
    with pytest.raises(error, match=match):
        WeakSupervisorSearch(supervisors).fit(X, y)


def test_unknown_supervisor_name():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        search = WeakSupervisorSearch(_supervisors(X, y), random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="Unknown weak supervisor 'nope'"):
        search.predict(X, "nope")
