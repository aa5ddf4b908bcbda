"""scikit-learn's common estimator checks for every exact head."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skwtsg.heads import (
    BallLeastSquaresHead,
    IsotonicHead,
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
)

# IsotonicHead takes exactly one feature (a function of one strong feature);
# these checks fit it on data with several features, where it must raise.
# Its behaviour on one feature is tested in test_isotonic.py instead.
_ONE_FEATURE = "IsotonicHead needs X with exactly 1 feature; the check uses several"
_ISOTONIC_EXPECTED_FAILURES = {
    name: _ONE_FEATURE
    for name in [
        "check_all_zero_sample_weights_error",
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
        "check_regressor_data_not_an_array",
        "check_regressor_multioutput",
        "check_regressors_int",
        "check_regressors_no_decision_function",
        "check_regressors_train",
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weights_list",
        "check_sample_weights_not_an_array",
        "check_sample_weights_not_overwritten",
        "check_sample_weights_pandas_series",
        "check_sample_weights_shape",
        "check_supervised_y_2d",
    ]
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, IsotonicHead):
        return _ISOTONIC_EXPECTED_FAILURES
    return {}


@parametrize_with_checks(
    [
        LeastSquaresHead(),
        LeastSquaresHead(fit_intercept=False),
        RidgeHead(),
        NonNegativeLeastSquaresHead(),
        BallLeastSquaresHead(radius=0.5),
        IsotonicHead(),
    ],
    expected_failed_checks=_expected_failed_checks,
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
    ],
)
def test_declares_convexity(head):
    assert type(head)._skwtsg_convex is True
