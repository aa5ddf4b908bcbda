"""Tests of the exact softmax head."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from skwtsg.heads import SoftmaxHead, _softmax, check_probabilities, is_convex_head

# Without a penalty the maximum-likelihood fit does not exist on separable
# data; these checks fit hard labels of well-separated blobs (or, through
# sample_weight, a class of zero weight), so SoftmaxHead() raises the
# documented "no minimiser" ValueError. SoftmaxHead(alpha=1e-3) passes them.
_SEPARABLE = (
    "the check's data are separable: no maximum-likelihood fit exists without a "
    "penalty, and SoftmaxHead(alpha=0) raises a ValueError saying so"
)
_EXPECTED = {
    name: _SEPARABLE
    for name in [
        "check_classifiers_classes",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_estimators_pickle(readonly_memmap=True)",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_predict1d",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_non_transformer_estimators_n_iter",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weights_not_overwritten",
        "check_sample_weights_shape",
    ]
}


def _expected_failed_checks(estimator):
    return _EXPECTED if estimator.alpha == 0 else {}


@parametrize_with_checks(
    [
        SoftmaxHead(),
        SoftmaxHead(alpha=1e-3),
        SoftmaxHead(alpha=1e-3, fit_intercept=False),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_expected_failures_are_the_separable_error():
    """Each expected failure of SoftmaxHead() is the documented "no minimiser"
    ValueError (directly or as the cause a check reports), no other; and the
    penalised head passes every one of them."""
    failed = {}
    for result in check_estimator(SoftmaxHead(), on_fail=None):
        if result["status"] == "failed":
            failed[result["check_name"]] = result["exception"]
    assert set(failed) == {name.split("(")[0] for name in _EXPECTED}
    for name, exc in failed.items():
        text = f"{exc} {exc.__cause__ or ''} {exc.__context__ or ''}"
        assert "no minimiser" in text, (name, text)


def _softmax_task(n=400, d=4, k=3, scale=1.0, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    W = scale * rng.normal(size=(k, d))
    b = rng.normal(size=k)
    return X, softmax(X @ W.T + b, axis=1), rng


def test_declares_convexity():
    assert is_convex_head(SoftmaxHead()) is True


def test_matches_logistic_regression_on_hard_labels():
    X, P, rng = _softmax_task()
    y = np.array([rng.choice(3, p=p) for p in P])
    head = SoftmaxHead().fit(X, y)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert head.kkt_residual_ <= 1e-10
    np.testing.assert_allclose(head.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    # The penalty is relative to the mean loss: C = 1 / (alpha * n).
    head = SoftmaxHead(alpha=0.05).fit(X, y)
    ref = LogisticRegression(C=1 / (0.05 * len(y)), tol=1e-12, max_iter=10_000)
    ref.fit(X, y)
    np.testing.assert_allclose(head.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(head.coef_, ref.coef_, atol=1e-5)


def test_soft_labels_first_order_conditions():
    X, P, rng = _softmax_task(k=4)
    P_w = softmax(np.log(P) + rng.normal(size=P.shape), axis=1)  # not realizable
    head = SoftmaxHead().fit(X, P_w)
    resid = (P_w - head.predict_proba(X)).T @ np.hstack([X, np.ones((len(X), 1))])
    assert np.abs(resid).max() / len(X) <= 1e-9
    np.testing.assert_array_equal(head.classes_, np.arange(4))
    np.testing.assert_allclose(head.coef_.sum(axis=0), 0.0, atol=1e-10)


def test_recovers_a_realizable_truth():
    X, P, _ = _softmax_task(scale=2.0)
    head = SoftmaxHead().fit(X, P)
    np.testing.assert_allclose(head.predict_proba(X), P, rtol=1e-8, atol=1e-12)


def test_separable_raises():
    X, _, _ = _softmax_task()
    with pytest.raises(ValueError, match="no minimiser.*separable"):
        SoftmaxHead().fit(X, (X[:, 0] > 0).astype(int))
    # A penalty makes the minimiser exist.
    head = SoftmaxHead(alpha=1e-2).fit(X, (X[:, 0] > 0).astype(int))
    assert head.kkt_residual_ <= 1e-10


def test_separable_raises_with_many_classes_and_features():
    # Before: with n_classes * (features + 1) > 1500 (trust-ncg, no dense
    # Hessian) separable classes returned a saturated fit: training
    # probabilities 1 to rounding, kkt_residual_ ~1e-16, arbitrary coef_.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    X = 3 * rng.normal(size=(4, 380))[y] + 0.3 * rng.normal(size=(400, 380))
    with pytest.raises(ValueError, match="no minimiser.*separable"):
        SoftmaxHead().fit(X, y)
    assert SoftmaxHead(alpha=1e-2).fit(X, y).solver_ == "trust-ncg"


@pytest.mark.parametrize(
    "y, match",
    [
        (np.full((5, 2), 0.6), "sum to 1"),
        (np.array([[1.5, -0.5]] * 5), "negative"),
        (np.array([[np.nan, 1.0]] * 5), "NaN|infinity"),
    ],
)
def test_bad_probabilities(y, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxHead().fit(np.arange(10.0).reshape(5, 2), y)
    with pytest.raises(ValueError, match=match):
        check_probabilities(y)


def test_one_class_raises():
    with pytest.raises(ValueError, match="at least 2 classes"):
        SoftmaxHead().fit(np.arange(10.0).reshape(5, 2), np.ones(5))


def test_sample_weight_is_repetition():
    X, P, rng = _softmax_task(n=60)
    y = np.array([rng.choice(3, p=p) for p in P])
    w = rng.randint(0, 3, size=len(y))
    a = SoftmaxHead(alpha=1e-2).fit(X, y, sample_weight=w)
    b = SoftmaxHead(alpha=1e-2).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-9)


def test_binary_decision_function():
    X, P, rng = _softmax_task(k=2)
    y = np.array(["no", "yes"])[[rng.choice(2, p=p) for p in P]]
    head = SoftmaxHead().fit(X, y)
    scores = head.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_allclose(
        np.log(head.predict_proba(X)[:, 1] / head.predict_proba(X)[:, 0]), scores
    )
    np.testing.assert_array_equal(head.predict(X), np.where(scores > 0, "yes", "no"))


def test_hessian_vector_path(monkeypatch):
    X, P, _ = _softmax_task(k=5, d=6)
    dense = SoftmaxHead().fit(X, P)
    monkeypatch.setattr(_softmax, "_DENSE_MAX", 0)
    sparse = SoftmaxHead().fit(X, P)
    assert (dense.solver_, sparse.solver_) == ("trust-exact", "trust-ncg")
    assert sparse.kkt_residual_ <= 1e-10
    np.testing.assert_allclose(dense.coef_, sparse.coef_, atol=1e-8)


def test_minimum_norm_and_scale_invariance():
    X, P, _ = _softmax_task()
    X_dup = np.hstack([X, X[:, :1]])  # a duplicated column: rank deficient
    head = SoftmaxHead().fit(X_dup, P)
    assert head.rank_ == X.shape[1]
    np.testing.assert_allclose(head.coef_[:, 0], head.coef_[:, -1], atol=1e-9)
    np.testing.assert_allclose(head.predict_proba(X_dup), P, rtol=1e-8)
    # Large means and scales: same probabilities, same certificate.
    X_big = 500.0 * X + 5_000.0
    big = SoftmaxHead().fit(X_big, P)
    assert big.kkt_residual_ <= 1e-10
    np.testing.assert_allclose(big.predict_proba(X_big), P, rtol=1e-7)


def test_unreachable_certificate_raises(monkeypatch):
    X, P, _ = _softmax_task(k=4)
    monkeypatch.setattr(_softmax, "_REQUIRED_KKT", 0.0)
    with pytest.raises(ValueError, match="did not reach its optimality certificate"):
        SoftmaxHead(max_iter=1, tol=1e-300).fit(X, P)
