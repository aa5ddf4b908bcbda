"""A fit with integer ``sample_weight`` is the fit on rows repeated that often.

Roles are drawn per row, so the comparison passes the roles explicitly
(repeated with their rows): every head, featurizer and diagnostic then sees
the same weighted problem twice, once as weights and once as copies.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import PolynomialFeatures

from skwtsg import WeakToStrongClassifier, WeakToStrongRegressor
from skwtsg.heads import (
    BallLeastSquaresHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    SoftmaxHead,
)

DIAGNOSTICS = ("weak_error", "strong_error", "misfit", "gain", "bound")


def _roles(n, rng, with_eval=True):
    names = ["weak", "strong", "eval"] if with_eval else ["weak", "strong"]
    roles = np.resize(names, n)
    rng.shuffle(roles)
    return roles


def _weights(n, rng):
    w = rng.randint(1, 5, size=n)
    w[:4] = (1, 4, 2, 3)
    return w


def _assert_same_fit(weighted, repeated, X):
    for name in DIAGNOSTICS:
        np.testing.assert_allclose(
            getattr(weighted, name + "_"),
            getattr(repeated, name + "_"),
            rtol=1e-8,
            atol=1e-12,
            err_msg=name,
        )
    assert weighted.diagnostic_rows_ == repeated.diagnostic_rows_
    for name in weighted.train_report_:
        np.testing.assert_allclose(
            weighted.train_report_[name],
            repeated.train_report_[name],
            rtol=1e-8,
            atol=1e-12,
            err_msg="train_report_ " + name,
        )
    np.testing.assert_allclose(
        weighted.diagnostics_.weight, repeated.diagnostics_.weight, rtol=1e-12
    )


@pytest.mark.parametrize(
    "head",
    [
        LeastSquaresHead(),
        RidgeHead(alpha=3.0),
        NonNegativeLeastSquaresHead(),
        BallLeastSquaresHead(radius=0.5),
    ],
    ids=lambda h: type(h).__name__,
)
@pytest.mark.parametrize("with_eval", [True, False])
def test_regressor_weights_are_repeated_rows(head, with_eval):
    rng = np.random.RandomState(0)
    n = 90
    X = rng.normal(size=(n, 4)) + 3.0  # off-centre: the intercept matters
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + X[:, 0] ** 2 + rng.normal(size=n)
    roles, w = _roles(n, rng, with_eval), _weights(n, rng)

    def make():
        # a weak model outside the strong head's class: the misfit is not 0
        return WeakToStrongRegressor(
            PolynomialFeatures(2), weak_head=LeastSquaresHead(), head=head
        )

    weighted = make().fit(X, y, sample_weight=w, roles=roles)
    weighted = {
        "model": weighted,
        "pred": weighted.predict(X),
        "weak": weighted.predict_weak(X),
    }
    Xr, yr, rr = (np.repeat(a, w, axis=0) for a in (X, y, roles))
    repeated = make().fit(Xr, yr, roles=rr)
    _assert_same_fit(weighted["model"], repeated, X)
    np.testing.assert_allclose(weighted["pred"], repeated.predict(X), rtol=1e-8)
    np.testing.assert_allclose(weighted["weak"], repeated.predict_weak(X), rtol=1e-8)
    # And the weights matter: the unweighted fit differs.
    plain = make().fit(X, y, roles=roles)
    assert not np.isclose(plain.misfit_, repeated.misfit_, rtol=1e-6)
    assert not np.isclose(plain.weak_error_, repeated.weak_error_, rtol=1e-6)


@pytest.mark.parametrize("labels", ["hard", "proba"])
def test_classifier_weights_are_repeated_rows(labels):
    rng = np.random.RandomState(1)
    n, k = 120, 3
    X = rng.normal(size=(n, 3))
    logits = X @ rng.normal(size=(3, k))
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = P if labels == "proba" else np.array([rng.choice(k, p=p) for p in P])
    roles, w = _roles(n, rng), _weights(n, rng)

    def make():
        return WeakToStrongClassifier(
            weak_head=SoftmaxHead(alpha=1e-2),
            head=SoftmaxHead(alpha=1e-2),
            ceiling_head=SoftmaxHead(alpha=1e-2),
            weak_smoothing=0.01,
            random_state=0,
        )

    weighted = make().fit(X, y, sample_weight=w, roles=roles)
    Xr, yr, rr = (np.repeat(a, w, axis=0) for a in (X, y, roles))
    repeated = make().fit(Xr, yr, roles=rr)
    _assert_same_fit(weighted, repeated, X)
    names = ["accuracy_pgr"]
    if labels == "hard":
        names += ["weak_accuracy", "strong_accuracy", "ceiling_accuracy"]
    for name in names:
        np.testing.assert_allclose(
            getattr(weighted, name + "_"),
            getattr(repeated, name + "_"),
            rtol=1e-8,
            err_msg=name,
        )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6, atol=1e-9
    )
    plain = make().fit(X, y, roles=roles)
    assert not np.isclose(plain.misfit_, repeated.misfit_, rtol=1e-6)


def test_classifier_auto_smoothing_with_weights():
    """``weak_smoothing="auto"`` decides from the weak model's probabilities;
    weights equal to repeated rows give the same choice and diagnostics."""
    rng = np.random.RandomState(2)
    n = 90
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    roles, w = _roles(n, rng), _weights(n, rng)
    est = WeakToStrongClassifier(
        weak_head=LogisticRegression(C=0.5), head=SoftmaxHead(alpha=0.1)
    )
    weighted = est.fit(X, y, sample_weight=w, roles=roles)
    Xr, yr, rr = (np.repeat(a, w, axis=0) for a in (X, y, roles))
    repeated = WeakToStrongClassifier(
        weak_head=LogisticRegression(C=0.5), head=SoftmaxHead(alpha=0.1)
    ).fit(Xr, yr, roles=rr)
    assert weighted.weak_smoothing_ == repeated.weak_smoothing_
    _assert_same_fit(weighted, repeated, X)
