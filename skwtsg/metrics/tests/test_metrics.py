import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV

from skwtsg import (
    WeakToStrongRegressor,
    bound_scorer,
    misfit_scorer,
    strong_error_scorer,
)
from skwtsg.heads import pythagorean_gap
from skwtsg.metrics import (
    bound,
    gain,
    misfit,
    performance_gap_recovered,
    weak_to_strong_report,
)


def test_definitions_match_the_paper():
    rng = np.random.RandomState(0)
    y, w, s, c = rng.normal(size=(4, 50))
    assert misfit(w, s) == pytest.approx(np.mean((w - s) ** 2))
    err_w, err_s = np.mean((w - y) ** 2), np.mean((s - y) ** 2)
    assert gain(y, w, s) == pytest.approx(err_w - err_s)
    assert bound(y, w, s) == pytest.approx(err_w - np.mean((w - s) ** 2))
    pgr = performance_gap_recovered(y, w, s, c)
    e = lambda a: np.mean((a - y) ** 2)  # noqa: E731
    assert pgr == pytest.approx((e(w) - e(s)) / (e(w) - e(c)))
    rep = weak_to_strong_report(y, w, s, y_ceiling=c)
    assert rep["gain"] == pytest.approx(rep["weak_error"] - rep["strong_error"])
    assert rep["bound"] == pytest.approx(rep["weak_error"] - rep["misfit"])
    assert rep["pgr"] == pytest.approx(pgr)


def test_multioutput_and_weights():
    rng = np.random.RandomState(1)
    y, w, s = rng.normal(size=(3, 30, 4))
    per_task = misfit(w, s, multioutput="raw_values")
    assert per_task.shape == (4,)
    assert misfit(w, s) == pytest.approx(per_task.mean())
    sw = rng.uniform(size=30)
    assert misfit(w[:, 0], s[:, 0], sample_weight=sw) == pytest.approx(
        np.average((w[:, 0] - s[:, 0]) ** 2, weights=sw)
    )
    assert gain(y, w, s, multioutput="raw_values").shape == (4,)


@pytest.mark.parametrize(
    "args, match",
    [
        (([0.0, 1.0], [0.0]), "same shape"),
        (([0.0, np.nan], [0.0, 1.0]), "y_weak.*NaN"),
        (([], []), "empty"),
        ((np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), "1-D or 2-D"),
    ],
)
def test_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        misfit(*args)


def _data(n=300, d=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=d)


def test_bound_scorer_recomputes_on_given_rows():
    X, y = _data()
    est = WeakToStrongRegressor(PCA(n_components=2), random_state=0).fit(X, y)
    Xt, yt = _data(seed=1)
    expected = -bound(yt, est.predict_weak(Xt), est.predict(Xt))
    assert bound_scorer(est, Xt, yt) == pytest.approx(expected)
    # unlabeled held-out rows still count for the misfit
    y_nan = yt.copy()
    y_nan[:100] = np.nan
    w, s = est.predict_weak(Xt), est.predict(Xt)
    expected = misfit(w, s) - np.mean((w[100:] - yt[100:]) ** 2)
    assert bound_scorer(est, Xt, y_nan) == pytest.approx(expected)
    assert misfit_scorer(est, Xt) == pytest.approx(misfit(w, s))
    with pytest.raises(ValueError, match="every row of y is NaN"):
        bound_scorer(est, Xt, np.full_like(yt, np.nan))


def test_grid_search_picks_the_known_best_weak_supervisor():
    # The target lives in the top principal directions; a weak supervisor that
    # keeps more of them has a smaller weak error and a smaller bound.
    rng = np.random.RandomState(0)
    scales = np.array([10.0, 8.0, 6.0, 4.0, 2.0, 1.0])
    X = rng.normal(size=(600, 6)) * scales
    y = X @ np.ones(6)
    grid = {"weak_featurizer": [PCA(n_components=k) for k in (1, 3, 5)]}
    search = GridSearchCV(
        WeakToStrongRegressor(random_state=0), grid, scoring=bound_scorer, cv=3
    ).fit(X, y)
    assert search.best_params_["weak_featurizer"].n_components == 5
    bounds = -search.cv_results_["mean_test_score"]
    assert np.all(np.diff(bounds) < 0)


# Regression tests: bad input to a metric is an error naming the
# argument, never a silently wrong number.
_METRICS = {
    "misfit": lambda y, w, s, **kw: misfit(w, s, **kw),
    "gain": gain,
    "bound": bound,
    "report": weak_to_strong_report,
    "pgr": lambda y, w, s, **kw: performance_gap_recovered(y, w, s, s[::-1], **kw),
    "pythagorean_gap": lambda y, w, s, **kw: pythagorean_gap(w, s, y, **kw),
}


def _inputs():
    rng = np.random.RandomState(0)
    return [rng.normal(size=8) for _ in range(3)]


@pytest.mark.parametrize("metric", list(_METRICS))
def test_complex_input_is_refused(metric):
    y, w, s = _inputs()
    with pytest.raises(ValueError, match="`y_(weak|strong)`.*complex"):
        _METRICS[metric](y, w + 1j, s + 1j)


@pytest.mark.parametrize("metric", list(_METRICS))
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_refused(metric, bad):
    y, w, s = _inputs()
    w[3] = bad
    with pytest.raises(ValueError, match="`y_weak` contains NaN or infinity"):
        _METRICS[metric](y, w, s)


@pytest.mark.parametrize("metric", list(_METRICS))
def test_negative_or_bad_sample_weight_is_refused(metric):
    y, w, s = _inputs()
    sw = np.ones(8)
    sw[0] = -5.0
    with pytest.raises(ValueError, match="`sample_weight` has negative values"):
        _METRICS[metric](y, w, s, sample_weight=sw)
    with pytest.raises(ValueError, match="`sample_weight` has 3 values for 8 rows"):
        _METRICS[metric](y, w, s, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="`sample_weight` contains NaN"):
        _METRICS[metric](y, w, s, sample_weight=np.full(8, np.nan))
    with pytest.raises(ValueError, match="`sample_weight` is zero on every row"):
        _METRICS[metric](y, w, s, sample_weight=np.zeros(8))


@pytest.mark.parametrize("metric", list(_METRICS))
def test_empty_and_inconsistent_inputs_are_refused(metric):
    y, w, s = _inputs()
    with pytest.raises(ValueError, match="is empty"):
        _METRICS[metric]([], [], [])
    with pytest.raises(ValueError, match="must have the same shape"):
        _METRICS[metric](y, w, s[:5])


@pytest.mark.parametrize("scorer", [bound_scorer, strong_error_scorer])
def test_scorers_check_lengths_before_indexing(scorer):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 3))
    y = X.sum(axis=1)
    est = WeakToStrongRegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        scorer(est, X, y[:10])
