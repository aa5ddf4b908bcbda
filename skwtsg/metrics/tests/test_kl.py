"""Tests of the classification (KL) metrics."""

import numpy as np
import pytest
from sklearn.metrics import log_loss

from skwtsg.metrics import (
    accuracy_pgr,
    kl_bound,
    kl_error,
    kl_gain,
    kl_misfit,
    weak_to_strong_classification_report,
)


def _proba(rng, n=30, k=3):
    P = rng.dirichlet(np.ones(k), size=n)
    return P


def test_kl_misfit_definition_and_weights():
    rng = np.random.RandomState(0)
    P, Q = _proba(rng), _proba(rng)
    expected = np.mean(np.sum(P * np.log(P / Q), axis=1))
    assert kl_misfit(P, Q) == pytest.approx(expected, rel=1e-12)
    assert kl_misfit(P, P) == 0.0
    w = rng.randint(0, 3, size=len(P))
    assert kl_misfit(P, Q, sample_weight=w) == pytest.approx(
        kl_misfit(np.repeat(P, w, axis=0), np.repeat(Q, w, axis=0)), rel=1e-12
    )


def test_kl_error_orientation_and_log_loss():
    rng = np.random.RandomState(1)
    P_true, P = _proba(rng), _proba(rng)
    # The model's probabilities first.
    assert kl_error(P_true, P) == pytest.approx(kl_misfit(P, P_true))
    y = rng.randint(0, 3, size=len(P))
    assert kl_error(y, P) == pytest.approx(log_loss(y, P, labels=[0, 1, 2]))
    names = np.array(["cat", "dog", "eel"])
    assert kl_error(names[y], P, labels=names) == pytest.approx(kl_error(y, P))
    # Labels in another order than sorted: read through `labels`.
    perm = [2, 0, 1]
    assert kl_error(names[y], P[:, perm], labels=names[perm]) == pytest.approx(
        kl_error(y, P)
    )


def test_gain_bound_report_consistent():
    rng = np.random.RandomState(2)
    P_true, P_w, P_s, P_c = (_proba(rng) for _ in range(4))
    rep = weak_to_strong_classification_report(P_true, P_w, P_s, p_ceiling=P_c)
    assert rep["gain"] == pytest.approx(kl_gain(P_true, P_w, P_s))
    assert rep["bound"] == pytest.approx(kl_bound(P_true, P_w, P_s))
    assert rep["bound"] == pytest.approx(rep["weak_error"] - rep["misfit"])
    assert "weak_accuracy" not in rep and "accuracy_pgr" not in rep
    assert rep["pgr"] == pytest.approx(
        (rep["weak_error"] - rep["strong_error"])
        / (rep["weak_error"] - rep["ceiling_error"])
    )
    y = rng.randint(0, 3, size=len(P_w))
    rep = weak_to_strong_classification_report(y, P_w, P_s, p_ceiling=P_c)
    acc = [np.mean(P.argmax(1) == y) for P in (P_w, P_s, P_c)]
    assert rep["weak_accuracy"] == acc[0] and rep["ceiling_accuracy"] == acc[2]
    assert rep["accuracy_pgr"] == pytest.approx(
        accuracy_pgr(y, P_w.argmax(1), P_s.argmax(1), P_c.argmax(1))
    )
    assert rep["accuracy_pgr"] == pytest.approx((acc[1] - acc[0]) / (acc[2] - acc[0]))


def test_accuracy_pgr_no_gap_raises():
    # Before: NaN, unlike performance_gap_recovered (which raises).
    with pytest.raises(ValueError, match="accuracy_pgr is undefined"):
        accuracy_pgr([0, 1], [0, 1], [0, 0], [0, 1])


@pytest.mark.parametrize(
    "P, match",
    [
        ([[0.5, 0.6]], "sum to 1"),
        ([[-0.1, 1.1]], "negative"),
        ([[np.nan, 1.0]], "NaN"),
        ([0.5, 0.5], "shape"),
    ],
)
def test_bad_probabilities(P, match):
    with pytest.raises(ValueError, match=match):
        kl_misfit(P, [[0.5, 0.5]])


def test_infinite_values_are_errors():
    with pytest.raises(ValueError, match="infinite"):
        kl_misfit([[0.5, 0.5]], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="infinite"):
        kl_error([1], [[1.0, 0.0]])


def test_label_errors():
    P = [[0.5, 0.5], [0.2, 0.8]]
    with pytest.raises(ValueError, match="pass `labels`"):
        kl_error(["a", "a"], P)
    with pytest.raises(ValueError, match="not in `labels`"):
        kl_error(["a", "c"], P, labels=["a", "b"])
    with pytest.raises(ValueError, match="rows"):
        kl_error([0, 1, 1], P)
