"""The one real-number, row-weight and class-probability checks of _validation.

The regression metrics, the KL metrics, the bootstrap intervals, the ridge
leave-one-out errors and ``skwtsg.heads.check_probabilities`` all go through
these helpers, so the same bad input gets the same message everywhere.
"""

import numpy as np
import pytest

from skwtsg._utils._validation import (
    as_real_float,
    check_class_probabilities,
    check_sample_weight,
    has_complex,
)
from skwtsg.heads import check_probabilities, ridge_loo_errors
from skwtsg.metrics import accuracy_pgr, kl_misfit, misfit
from skwtsg.metrics._intervals import _check_weights as interval_weights

_RNG = np.random.default_rng(0)
P = _RNG.dirichlet([1.0, 1.0, 1.0], size=6)
Y = _RNG.normal(size=6)


def test_as_real_float_converts_and_copies():
    a = np.arange(4, dtype=np.float64)
    out = as_real_float(a, "a")
    assert out.dtype == np.float64 and out is not a
    out[0] = 10.0
    assert a[0] == 0.0
    assert as_real_float([[1, 2]], "a", (2,)).shape == (1, 2)
    # Without allowed_ndim only the conversion is checked.
    assert as_real_float([], "a").shape == (0,)
    assert np.isnan(as_real_float([np.nan], "a")[0])


@pytest.mark.parametrize(
    "a, ndim, match",
    [
        (np.ones(3) + 1j, None, "`a` must be real, got complex values"),
        (np.array([1.0, 2j], dtype=object), None, "`a` must be real"),
        (["x", "y"], None, "`a` must be numeric"),
        (np.ones((2, 2)), (1,), r"`a` must be 1-D, got 2-D"),
        (np.ones(3), (2,), r"`a` must be 2-D, got 1-D"),
        (np.ones((0, 2)), (1, 2), "`a` is empty"),
        ([1.0, np.inf], (1,), "`a` contains NaN or infinity"),
    ],
)
def test_as_real_float_refuses(a, ndim, match):
    with pytest.raises(ValueError, match=match):
        as_real_float(a, "a", ndim)


def test_has_complex():
    assert has_complex(np.array([1j]))
    assert has_complex(np.array(["a", 1j], dtype=object))
    assert not has_complex(np.array(["a", 1.0], dtype=object))
    assert not has_complex(np.ones(2))


def test_check_sample_weight_accepts():
    assert check_sample_weight(None, 3) is None
    w = check_sample_weight([0, 1, 2], 3)
    assert w.dtype == np.float64 and w.tolist() == [0.0, 1.0, 2.0]
    assert check_sample_weight([1, 1], None).shape == (2,)


BAD_WEIGHTS = [
    (np.ones(6) + 1j, "`sample_weight` must be real"),
    (np.ones((6, 1)), "`sample_weight` must be 1-D"),
    (np.r_[np.nan, np.ones(5)], "`sample_weight` contains NaN or infinity"),
    (np.ones(4), r"`sample_weight` has 4 values for 6 rows; it must have shape \(6,\)"),
    (np.r_[-1.0, np.ones(5)], "`sample_weight` has negative values"),
    (np.zeros(6), "`sample_weight` is zero on every row"),
]


@pytest.mark.parametrize("sw, match", BAD_WEIGHTS)
def test_one_weight_check_for_every_metric(sw, match):
    # The regression metrics, the KL metrics, accuracy_pgr and the intervals
    # give the very same message for the same bad weights.
    messages = set()
    for call in (
        lambda: check_sample_weight(sw, 6),
        lambda: misfit(Y, Y[::-1], sample_weight=sw),
        lambda: kl_misfit(P, P[::-1], sample_weight=sw),
        lambda: accuracy_pgr(
            [0, 1] * 3, [0] * 6, [1] * 6, [0, 1] * 3, sample_weight=sw
        ),
        lambda: interval_weights(sw, 6),
    ):
        with pytest.raises(ValueError, match=match) as info:
            call()
        messages.add(str(info.value))
    assert len(messages) == 1


def test_weight_check_names_its_argument():
    X = _RNG.normal(size=(6, 2))
    with pytest.raises(ValueError, match="`intercept_weights` has negative values"):
        ridge_loo_errors(X, X[:, :1], [1.0], intercept_weights=np.r_[-1.0, np.ones(5)])
    with pytest.raises(ValueError, match="`intercept_weights` is zero on every row"):
        ridge_loo_errors(X, X[:, :1], [1.0], intercept_weights=np.zeros(6))


BAD_PROBABILITIES = [
    (P + 0.1j, "must be real"),
    (P[:, :1], "n_classes >= 2"),
    (np.r_[[[np.nan, 0.5, 0.5]], P[1:]], "contains NaN or infinity"),
    (np.r_[[[-0.5, 1.0, 0.5]], P[1:]], r"negative class probabilities on rows \[0\]"),
    (np.r_[P[:2], [[0.5, 0.5, 0.5]]], r"must sum to 1 .*rows \[2\]"),
]


@pytest.mark.parametrize("bad, match", BAD_PROBABILITIES)
def test_one_probability_check_for_heads_and_kl_metrics(bad, match):
    messages = set()
    for call in (
        lambda: check_class_probabilities(bad, "p_weak", atol=1e-6),
        lambda: check_probabilities(bad, "p_weak", atol=1e-6),
        lambda: kl_misfit(bad, bad),
    ):
        with pytest.raises(ValueError, match=match) as info:
            call()
        messages.add(str(info.value))
    assert len(messages) == 1 and "`p_weak`" in messages.pop()


def test_check_class_probabilities_columns_and_empty():
    with pytest.raises(ValueError, match=r"`q` has 3 classes \(columns\), expected 2"):
        check_class_probabilities(P, "q", atol=1e-6, n_classes=2)
    with pytest.raises(ValueError, match="`q` is empty"):
        check_class_probabilities(np.ones((0, 2)), "q", atol=1e-6)
    # The public heads.check_probabilities keeps accepting no row.
    assert check_probabilities(np.ones((0, 2))).shape == (0, 2)
    assert check_class_probabilities(P, "q", atol=1e-6).dtype == np.float64
