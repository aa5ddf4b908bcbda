"""Tests of WeakToStrongClassifier."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skwtsg import WeakToStrongClassifier, kl_bound_scorer, kl_strong_error_scorer
from skwtsg.heads import SoftmaxHead
from skwtsg.metrics import kl_error, kl_misfit
from skwtsg.tests.test_common import expected_failed_checks


@parametrize_with_checks(
    [
        WeakToStrongClassifier(random_state=0),
        WeakToStrongClassifier(
            PCA(n_components=1),
            weak_head=LogisticRegression(),
            ceiling_head="none",
            strong_size="reuse",
            eval_size=0,
        ),
    ],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _task(n=1500, d=5, k=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    P = softmax(X @ rng.normal(size=(d, k)) + rng.normal(size=k), axis=1)
    y = np.array([rng.choice(k, p=p) for p in P])
    return X, P, y


WEAK = FunctionTransformer(np.sign)  # not in the strong model's linear span


def test_kl_identity_on_the_training_sample():
    X, P, _ = _task()
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, P)
    r = est.train_report_
    assert r["misfit"] > 0.01
    assert abs(r["gain"] - r["misfit"]) <= 1e-8 * r["weak_error"]
    # The attributes are measured on the eval rows, in the KL sense.
    rows = est.roles_ == "eval"
    p_w, p_s = est.predict_weak_proba(X[rows]), est.predict_proba(X[rows])
    assert est.weak_error_ == pytest.approx(kl_error(P[rows], p_w))
    assert est.misfit_ == pytest.approx(kl_misfit(p_w, p_s))
    assert est.bound_ == pytest.approx(est.weak_error_ - est.misfit_)
    assert np.isnan(est.weak_accuracy_) and np.isnan(est.accuracy_pgr_)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    assert est.diagnostic_rows_["misfit"] == "eval"


def test_hard_labels_strings_and_accuracy_pgr():
    X, _, y = _task()
    names = np.array(["ant", "bee", "cat"])[y]
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, names)
    np.testing.assert_array_equal(est.classes_, ["ant", "bee", "cat"])
    assert set(est.predict(X[:20])) <= set(names)
    rows = est.roles_ == "eval"
    acc_w = np.mean(est.predict_weak(X[rows]) == names[rows])
    acc_s = np.mean(est.predict(X[rows]) == names[rows])
    assert est.weak_accuracy_ == pytest.approx(acc_w)
    assert est.strong_accuracy_ == pytest.approx(acc_s)
    assert est.strong_accuracy_ > est.weak_accuracy_
    gap = est.ceiling_accuracy_ - est.weak_accuracy_
    assert est.accuracy_pgr_ == pytest.approx((acc_s - acc_w) / gap)
    # Errors are log-losses against the labels.
    p_w = est.predict_weak_proba(X[rows])
    assert est.weak_error_ == pytest.approx(
        kl_error(names[rows], p_w, labels=est.classes_)
    )
    assert est.score(X[rows], names[rows]) == pytest.approx(acc_s)


@pytest.mark.parametrize(
    "labels, missing",
    [
        (np.array([0.0, 1.0, 2.0]), np.nan),
        (np.array(["a", "b", "c"], dtype=object), None),
        (np.array(["a", "b", "c"], dtype=object), pd.NA),
    ],
)
def test_unlabeled_rows(labels, missing):
    X, _, y = _task(n=900)
    y = labels[y].astype(object if labels.dtype == object else float)
    y[:400] = missing
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, y)
    assert np.all(est.roles_[:400] == "strong")
    assert est.ceiling_head_ is None  # the strong rows have no labels
    assert np.isnan(est.ceiling_accuracy_) and np.isfinite(est.strong_error_)
    assert len(est.classes_) == 3


def test_unlabeled_rows_of_probabilities_and_no_eval_rows():
    X, P, _ = _task(n=900)
    P = P.copy()
    P[:400] = np.nan
    est = WeakToStrongClassifier(WEAK, eval_size=0, random_state=0).fit(X, P)
    assert np.isnan(est.strong_error_) and np.isfinite(est.weak_error_)
    assert est.diagnostic_rows_["bound"] == "weak+strong"


def test_weak_head_logistic_regression_and_missing_class():
    X, _, y = _task(n=600)
    est = WeakToStrongClassifier(WEAK, weak_head=LogisticRegression(), random_state=0)
    est.fit(X, y)
    assert est.weak_head_.classes_.tolist() == [0, 1, 2]
    y = y.copy()
    roles = np.where(np.arange(len(y)) < 300, "weak", "strong")
    y[(roles == "weak") & (y == 2)] = 0  # class 2 absent from the weak rows
    with pytest.raises(ValueError, match="have no row there"):
        est.fit(X, y, roles=roles)
    # A SoftmaxHead weak head keeps a column for every class.
    WeakToStrongClassifier(WEAK, random_state=0).fit(X, y, roles=roles)


def test_bad_targets():
    X = np.random.RandomState(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="Unknown label type"):
        WeakToStrongClassifier().fit(X, np.linspace(0, 1, 50))
    with pytest.raises(ValueError, match="sum to 1"):
        WeakToStrongClassifier().fit(X, np.full((50, 3), 0.5))
    with pytest.raises(ValueError, match="1 class"):
        WeakToStrongClassifier().fit(X, np.ones(50))
    P = np.full((50, 2), 0.5)
    P[0, 0] = np.nan
    with pytest.raises(ValueError, match="some class probabilities are NaN"):
        WeakToStrongClassifier().fit(X, P)


def test_grid_search_picks_weak_supervisor_by_bound():
    X, _, y = _task(n=1500, d=6)
    search = GridSearchCV(
        WeakToStrongClassifier(random_state=0),
        {"weak_featurizer": [PCA(n_components=1), FunctionTransformer(np.sign)]},
        scoring={"bound": kl_bound_scorer, "strong": kl_strong_error_scorer},
        refit="bound",
        cv=3,
    ).fit(X, y)
    res = search.cv_results_
    # The bound's choice is the one with the smaller strong log-loss.
    assert np.argmax(res["mean_test_bound"]) == np.argmax(res["mean_test_strong"])


def test_scorers_skip_unlabeled_rows():
    X, _, y = _task(n=600)
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, y)
    y_part = y.astype(float)
    y_part[:100] = np.nan
    full = kl_bound_scorer(est, X, y)
    part = kl_bound_scorer(est, X, y_part)
    p_w, p_s = est.predict_weak_proba(X), est.predict_proba(X)
    expected = kl_misfit(p_w, p_s) - kl_error(y[100:], p_w[100:])
    assert part == pytest.approx(expected) and np.isfinite(full)
    with pytest.raises(TypeError, match="predict_weak_proba"):
        kl_bound_scorer(SoftmaxHead().fit(X, y), X, y)


@pytest.mark.parametrize(
    "labeler",
    ["tree", "knn"],
)
def test_cheap_labelers_that_rule_out_classes(labeler):
    """Trees and nearest neighbours give probability 0 to classes: the
    supervisor is then mixed with the uniform distribution ("auto"), and the
    KL identity holds for that supervisor on the strong head's rows."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    from skwtsg import WeakToStrongClassifier
    from skwtsg.heads import SoftmaxHead

    X, y = load_breast_cancer(return_X_y=True)
    weak = (
        DecisionTreeClassifier(max_depth=2, random_state=0)
        if labeler == "tree"
        else KNeighborsClassifier(20)
    )
    est = WeakToStrongClassifier(
        strong_featurizer=StandardScaler(),
        weak_head=weak,
        head=SoftmaxHead(alpha=1e-2),
        random_state=0,
    ).fit(X, y)
    assert est.weak_smoothing_ == pytest.approx(1e-3)
    assert np.isfinite([est.weak_error_, est.strong_error_, est.misfit_]).all()
    P = est.predict_weak_proba(X)
    assert P.min() >= 1e-3 / 2 and np.allclose(P.sum(axis=1), 1.0)
    # the default softmax weak head never rules out a class: no smoothing
    default = WeakToStrongClassifier(
        make_pipeline(StandardScaler(), PCA(2)), random_state=0
    ).fit(X, y)
    assert default.weak_smoothing_ == 0.0
    # an explicit 0 keeps the old error, which names the fix
    with pytest.raises(ValueError, match="weak_smoothing"):
        WeakToStrongClassifier(weak_head=weak, weak_smoothing=0.0, random_state=0).fit(
            X, y
        )
