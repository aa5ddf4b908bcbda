"""The classifier's ceiling as a fitted quantity: ``ceiling_error_`` and ``pgr_``."""

import pickle

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.preprocessing import FunctionTransformer

from skwtsg import WeakToStrongClassifier
from skwtsg.metrics import kl_error, weak_to_strong_classification_report

WEAK = FunctionTransformer(np.sign)  # not in the strong model's linear span


def _task(n=1500, d=5, k=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    P = softmax(X @ rng.normal(size=(d, k)) + rng.normal(size=k), axis=1)
    y = np.array([rng.choice(k, p=p) for p in P])
    w = rng.uniform(0.2, 3.0, size=n)
    return X, P, y, w


@pytest.mark.parametrize("truth", ["labels", "probabilities"])
def test_ceiling_error_is_the_ceilings_error_on_the_eval_rows(truth):
    X, P, y, w = _task()
    target = y if truth == "labels" else P
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, target, sample_weight=w)
    rows = est.roles_ == "eval"
    p_c = est.predict_ceiling_proba(X[rows])
    if truth == "labels":
        expected = log_loss(y[rows], p_c, sample_weight=w[rows], labels=est.classes_)
    else:
        expected = kl_error(P[rows], p_c, sample_weight=w[rows])
    assert est.ceiling_error_ == pytest.approx(expected, rel=1e-12)
    assert est.diagnostic_rows_["ceiling_error"] == "eval"
    # the ceiling, trained on true labels, beats the weakly-supervised head
    assert est.ceiling_error_ < est.strong_error_ < est.weak_error_


@pytest.mark.parametrize("truth", ["labels", "probabilities"])
def test_pgr_is_the_reports_pgr_on_the_same_rows(truth):
    X, P, y, w = _task(seed=1)
    target = y if truth == "labels" else P
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, target, sample_weight=w)
    gap = est.weak_error_ - est.ceiling_error_
    assert est.pgr_ == pytest.approx((est.weak_error_ - est.strong_error_) / gap)
    assert 0 < est.pgr_ < 1
    rows = est.roles_ == "eval"
    report = weak_to_strong_classification_report(
        target[rows],
        est.predict_weak_proba(X[rows]),
        est.predict_proba(X[rows]),
        p_ceiling=est.predict_ceiling_proba(X[rows]),
        labels=est.classes_ if truth == "labels" else None,
        sample_weight=w[rows],
    )
    assert est.pgr_ == pytest.approx(report["pgr"], rel=1e-12)
    assert est.ceiling_error_ == pytest.approx(report["ceiling_error"], rel=1e-12)
    if truth == "labels":
        assert est.accuracy_pgr_ == pytest.approx(report["accuracy_pgr"])
    else:  # the KL PGR needs no hard label; the accuracy PGR does
        assert np.isnan(est.accuracy_pgr_)


def test_without_eval_rows_the_ceiling_is_measured_on_its_training_rows():
    X, _, y, _ = _task(n=800)
    est = WeakToStrongClassifier(WEAK, eval_size=0, random_state=0).fit(X, y)
    rows = est.roles_ == "strong"
    p_c = est.predict_ceiling_proba(X[rows])
    assert est.ceiling_error_ == pytest.approx(
        log_loss(y[rows], p_c, labels=est.classes_), rel=1e-12
    )
    assert est.diagnostic_rows_["ceiling_error"] == "strong"
    assert est.diagnostic_rows_["pgr"] == "strong"


@pytest.mark.parametrize("how", ["ceiling_head='none'", "unlabeled strong rows"])
def test_no_ceiling_means_nan_as_for_the_ceiling_accuracy(how):
    X, _, y, _ = _task(n=900)
    if how == "unlabeled strong rows":
        y = y.astype(float)
        y[:400] = np.nan
        est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, y)
    else:
        est = WeakToStrongClassifier(WEAK, ceiling_head="none", random_state=0)
        est.fit(X, y)
    assert est.ceiling_head_ is None
    assert np.isnan(est.ceiling_accuracy_)
    assert np.isnan(est.ceiling_error_) and np.isnan(est.pgr_)
    assert np.isfinite(est.strong_error_)


def test_no_gap_gives_nan_as_the_metrics_and_the_accuracy_pgr():
    # The weak model is the ceiling: the same head, features and rows.
    X, _, y, _ = _task(n=900)
    est = WeakToStrongClassifier(
        strong_size="reuse", weak_smoothing=0.0, random_state=0
    )
    with pytest.warns(UserWarning, match="reproduces its weak labels"):
        est.fit(X, y)
    assert est.weak_error_ == est.ceiling_error_
    assert np.isnan(est.pgr_) and np.isnan(est.accuracy_pgr_)
    rows = est.roles_ == "eval"
    args = (
        y[rows],
        est.predict_weak_proba(X[rows]),
        est.predict_proba(X[rows]),
    )
    p_c = est.predict_ceiling_proba(X[rows])
    with pytest.raises(ValueError, match="no gap"):
        weak_to_strong_classification_report(*args, p_ceiling=p_c)
    report = weak_to_strong_classification_report(
        *args, p_ceiling=p_c, confidence_level=0.9, n_resamples=99, random_state=0
    )
    assert np.isnan(report["pgr"]) and report["pgr_unstable"]


def test_clone_and_pickle_keep_the_ceiling():
    X, _, y, w = _task(n=900)
    est = WeakToStrongClassifier(WEAK, random_state=0).fit(X, y, sample_weight=w)
    copy = pickle.loads(pickle.dumps(est))
    assert copy.ceiling_error_ == est.ceiling_error_ and copy.pgr_ == est.pgr_
    np.testing.assert_array_equal(
        copy.predict_ceiling_proba(X[:50]), est.predict_ceiling_proba(X[:50])
    )
    fresh = clone(est)
    assert not hasattr(fresh, "pgr_") and not hasattr(fresh, "ceiling_error_")
    fresh.fit(X, y, sample_weight=w)
    assert fresh.ceiling_error_ == est.ceiling_error_ and fresh.pgr_ == est.pgr_
