"""IsotonicHead against scikit-learn's IsotonicRegression."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.isotonic import IsotonicRegression

from skwtsg.heads import IsotonicHead


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(-3, 3, size=150), 1)  # many ties
    Y = np.column_stack([np.tanh(x), -(x**3), np.zeros_like(x)])
    Y = Y + rng.normal(scale=0.5, size=Y.shape)
    w = rng.uniform(0, 2, size=150)
    w[:10] = 0.0
    return x.reshape(-1, 1), Y, w


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("increasing", [True, False])
def test_matches_isotonic_regression(data, increasing, weighted):
    X, Y, w = data
    w = w if weighted else None
    head = IsotonicHead(increasing=increasing).fit(X, Y, sample_weight=w)
    assert head.kkt_residual_ <= 1e-8
    X_new = np.linspace(-4, 4, 101).reshape(-1, 1)  # beyond the range: clipped
    pred = head.predict(np.vstack([X, X_new]))
    assert pred.shape == (251, 3)
    for k in range(3):
        ref = IsotonicRegression(increasing=increasing, out_of_bounds="clip")
        ref.fit(X[:, 0], Y[:, k], sample_weight=w)
        assert_allclose(
            pred[:, k], ref.predict(np.vstack([X, X_new])[:, 0]), atol=1e-12
        )
        single = IsotonicHead(increasing=increasing).fit(X, Y[:, k], sample_weight=w)
        assert single.predict(X).shape == (150,)
        assert_allclose(single.predict(X), pred[:150, k])


def test_monotone_and_optimal(data):
    X, Y, w = data
    head = IsotonicHead().fit(X, Y, sample_weight=w)
    assert (np.diff(head.y_thresholds_, axis=0) >= 0).all()
    assert (np.diff(head.X_thresholds_) > 0).all()
    # the projection onto a cone: the residual is orthogonal to the fit
    r = (Y - head.predict(X)) * w[:, None]
    assert_allclose(np.sum(r * head.predict(X), axis=0), 0.0, atol=1e-9)
    assert_allclose(r.sum(axis=0), 0.0, atol=1e-9)


def test_certificate_detects_a_wrong_fit():
    from skwtsg.heads._isotonic import _isotonic_violation

    y = np.array([0.0, 2.0, 1.0, 3.0])
    w = np.ones(4)
    assert _isotonic_violation(y, np.array([0.0, 1.5, 1.5, 3.0]), w) <= 1e-15
    assert _isotonic_violation(y, np.array([0.0, 1.4, 1.6, 3.0]), w) > 1e-3
    assert _isotonic_violation(y, np.array([0.0, 1.5, 1.5, 2.9]), w) > 1e-3


def test_several_features_raise(data):
    X, Y, _ = data
    with pytest.raises(ValueError, match="X with exactly 1 feature; got X with 2"):
        IsotonicHead().fit(np.hstack([X, X]), Y)


def test_wrong_number_of_features_at_predict(data):
    X, Y, _ = data
    head = IsotonicHead().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        head.predict(np.hstack([X, X]))


def test_sample_weight_is_repetition(data):
    X, Y, _ = data
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 3, size=len(X))
    weighted = IsotonicHead().fit(X, Y, sample_weight=counts.astype(float))
    repeated = IsotonicHead().fit(np.repeat(X, counts, 0), np.repeat(Y, counts, 0))
    assert_allclose(weighted.predict(X), repeated.predict(X), atol=1e-12)


def test_clone_pickle_and_refit(data):
    X, Y, _ = data
    head = IsotonicHead(increasing=False).fit(X, Y[:, 1])
    restored = pickle.loads(pickle.dumps(head))
    assert_allclose(restored.predict(X), head.predict(X))
    refit = clone(head).fit(X, Y[:, 1])
    assert_allclose(refit.predict(X), head.predict(X))
    assert head.n_features_in_ == 1


def test_feature_names(data):
    pd = pytest.importorskip("pandas")
    X, Y, _ = data
    head = IsotonicHead().fit(pd.DataFrame(X, columns=["z"]), Y[:, 0])
    assert list(head.feature_names_in_) == ["z"]


@pytest.mark.parametrize("increasing", ["auto", 1.5, None])
def test_invalid_increasing(data, increasing):
    X, Y, _ = data
    with pytest.raises(ValueError, match="'increasing' parameter"):
        IsotonicHead(increasing=increasing).fit(X, Y)
