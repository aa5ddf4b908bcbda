"""scikit-learn's common estimator checks for every exact head."""

import numpy as np
import pytest
from sklearn.utils import estimator_checks, get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from skwtsg.heads import (
    BallLeastSquaresHead,
    HeadTags,
    IsotonicHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    RidgeLOOHead,
    SkwtsgTags,
    SoftmaxHead,
    get_head_tags,
)


@parametrize_with_checks(
    [
        LeastSquaresHead(),
        LeastSquaresHead(fit_intercept=False),
        LeastSquaresHead(solver="qr"),
        RidgeHead(),
        RidgeHead(solver="dual"),
        NonNegativeLeastSquaresHead(),
        BallLeastSquaresHead(radius=0.5),
    ],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "head",
    [
        LeastSquaresHead(),
        RidgeHead(),
        NonNegativeLeastSquaresHead(),
        BallLeastSquaresHead(),
        IsotonicHead(),
        RidgeLOOHead(),
        SoftmaxHead(),
    ],
)
def test_declares_convexity_in_its_tags(head):
    tags = get_tags(head)
    assert isinstance(tags, SkwtsgTags)
    from_statistics = isinstance(head, (LeastSquaresHead, RidgeHead))
    assert tags.head_tags == HeadTags(
        convex=True, exact=True, fits_from_statistics=from_statistics
    )
    assert get_head_tags(head) is not tags.head_tags  # fresh tags on each call
    assert from_statistics == hasattr(head, "fit_from_statistics")


def test_isotonic_head_declares_one_feature():
    tags = get_tags(IsotonicHead())
    assert tags.input_tags.one_d_array and not tags.input_tags.two_d_array
    x = np.array([3.0, 1.0, 2.0, 0.0])
    y = np.array([2.0, 1.0, 0.0, -1.0])
    head = IsotonicHead().fit(x, y)  # 1-D X is the one feature
    np.testing.assert_array_equal(head.predict(x), head.fit(x[:, None], y).predict(x))
    assert head.n_features_in_ == 1


# The common checks that need no data, by name.
_API_CHECKS = [
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_estimators_unfitted",
    "check_get_params_invariance",
    "check_mixin_order",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_set_params",
    "check_valid_tag_types",
]


@pytest.mark.parametrize("check", _API_CHECKS)
def test_isotonic_head_api_checks(check):
    # The common checks that need no data: parametrize_with_checks skips the
    # head (two_d_array=False), like IsotonicRegression; its behaviour on one
    # feature (fit, pickling, weights, feature names) is in test_isotonic.py.
    getattr(estimator_checks, check)("IsotonicHead", IsotonicHead())
