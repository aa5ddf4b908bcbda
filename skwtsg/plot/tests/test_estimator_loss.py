"""The Displays measure an estimator in its own loss (KL for a classifier)."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import skwtsg
from skwtsg import WeakToStrongClassifier, WeakToStrongRegressor
from skwtsg.plot import GainMisfitDisplay, WeakModelSelectionDisplay

pytest.importorskip("matplotlib")


def _fitted(kind):
    if kind == "classifier":
        X, y = load_breast_cancer(return_X_y=True)
        weak = DecisionTreeClassifier(max_depth=2, random_state=0)
        est = WeakToStrongClassifier(weak_head=weak, random_state=0)
    else:
        X, y = load_diabetes(return_X_y=True)
        weak = DecisionTreeRegressor(max_depth=2, random_state=0)
        est = WeakToStrongRegressor(weak_head=weak, random_state=0)
    est.fit(X, y)
    assert set(est.diagnostic_rows_[k] for k in ("misfit", "gain", "bound")) == {
        "eval"
    }
    held_out = np.asarray(est.roles_) == "eval"
    return est, X[held_out], y[held_out]


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_displays_show_the_estimators_own_diagnostics(pyplot, kind):
    est, X_eval, y_eval = _fitted(kind)
    gm = GainMisfitDisplay.from_estimator(est, X_eval, y_eval)
    np.testing.assert_allclose(gm.misfit, [est.misfit_], rtol=1e-10)
    np.testing.assert_allclose(gm.gain, [est.gain_], rtol=1e-10)
    sel = WeakModelSelectionDisplay.from_estimator([est], X_eval, y_eval)
    np.testing.assert_allclose(sel.bound, [est.bound_], rtol=1e-10)
    np.testing.assert_allclose(sel.true_error, [est.strong_error_], rtol=1e-10)
    titles = [
        gm.ax_.get_xlabel(),
        gm.ax_.get_ylabel(),
        sel.ax_.get_xlabel(),
        sel.ax_.get_ylabel(),
    ]
    named = "log-loss" if kind == "classifier" else "MSE"
    assert all(t.startswith("Misfit") or named in t for t in titles), titles
    if kind == "classifier":
        assert not any("MSE" in t or "²" in t for t in titles), titles


def test_mixed_losses_and_kl_intervals_are_refused(pyplot):
    clf, X_c, y_c = _fitted("classifier")
    reg, _, _ = _fitted("regressor")
    with pytest.raises(ValueError, match="mixes classifiers"):
        GainMisfitDisplay.from_estimator([clf, reg], X_c, y_c)
    with pytest.raises(ValueError, match="confidence_level"):
        WeakModelSelectionDisplay.from_estimator(
            [clf], X_c, y_c, confidence_level=0.9
        )


def test_from_cv_results_names_the_searchs_loss(pyplot):
    X, y = load_breast_cancer(return_X_y=True)
    search = GridSearchCV(
        WeakToStrongClassifier(random_state=0),
        {"weak_featurizer": [PCA(1), PCA(2)]},
        scoring={
            "bound": skwtsg.kl_bound_scorer,
            "strong_error": skwtsg.kl_strong_error_scorer,
        },
        refit="bound",
        cv=2,
    ).fit(X[:200], y[:200])
    display = WeakModelSelectionDisplay.from_cv_results(search)
    assert "log-loss" in display.ax_.get_xlabel()
    assert "MSE" not in display.ax_.get_ylabel()
    unknown = WeakModelSelectionDisplay.from_cv_results(search.cv_results_)
    assert "MSE" not in unknown.ax_.get_xlabel()
    assert "std over splits" in unknown.errorbar_.get_label()


def test_selection_display_writes_each_verdict(pyplot):
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import RepeatedKFold

    X, y = load_diabetes(return_X_y=True)
    search = GridSearchCV(
        WeakToStrongRegressor(random_state=0),
        {"weak_featurizer": [PCA(2), PCA(8)]},
        scoring={"bound": skwtsg.bound_scorer, "mse": "neg_mean_squared_error"},
        refit="bound",
        cv=RepeatedKFold(n_splits=3, n_repeats=2, random_state=0),
    ).fit(X, y)
    display = WeakModelSelectionDisplay.from_cv_results(search, confidence_level=0.95)
    texts = [a.get_text() for a in display.annotations_]
    assert any(t.endswith(": the pick") for t in texts), texts
    assert any(t.endswith("at 95%") for t in texts), texts
    assert "t interval over splits" in display.errorbar_.get_label()
