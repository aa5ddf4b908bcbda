"""The unchecked metric kernels the estimators call."""

import numpy as np
import pytest

from skwtsg.metrics import weak_to_strong_report


@pytest.mark.parametrize("shape", [(200,), (200, 3)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("multioutput", ["raw_values", "uniform_average", "array"])
def test_mse_kernel_is_sklearn_mean_squared_error(shape, weighted, multioutput):
    """The estimator's unchecked kernel gives mean_squared_error's exact values."""
    from sklearn.metrics import mean_squared_error

    from skwtsg.metrics._losses import _mse_kernel

    if multioutput == "array" and len(shape) == 1:
        pytest.skip("task weights are for 2-D targets only")
    rng = np.random.default_rng(3)
    a, b, c = (rng.normal(size=shape) * 10 for _ in range(3))
    w = rng.uniform(0, 2, size=shape[0]) if weighted else None
    mo = np.array([0.2, 0.3, 0.5])[: 1 if len(shape) == 1 else 3]
    mo = mo if multioutput == "array" else multioutput
    expected = mean_squared_error(a, b, sample_weight=w, multioutput=mo)
    got = _mse_kernel(a, b, w, mo, ("a", "b"))
    np.testing.assert_array_equal(got, expected)
    assert type(got) is type(expected)
    report = weak_to_strong_report(a, b, c, sample_weight=w, multioutput=mo)
    np.testing.assert_array_equal(report["weak_error"], expected)


def test_one_output_takes_a_one_weight_multioutput():
    """A 1-D target is one output: ``multioutput`` of length 1 is accepted
    and scales nothing."""
    from skwtsg.metrics import misfit

    y_weak, y_strong = [0.0, 1.0, 2.0], [0.0, 1.0, 4.0]
    assert misfit(y_weak, y_strong, multioutput=[2.0]) == misfit(y_weak, y_strong)


def test_overflow_is_refused_with_the_inputs_named():
    from skwtsg.metrics import misfit

    with pytest.raises(ValueError) as info:
        misfit([1e200, 0.0], [-1e200, 0.0])
    assert str(info.value).startswith(
        "The mean squared difference of `y_weak` and `y_strong`"
    )


def test_squared_losses_without_a_model():
    from skwtsg.metrics._losses import squared_losses

    y = np.array([0.0, 1.0])
    losses = squared_losses(y, y + 1.0, None)
    assert losses["misfit"] is None and losses["strong_error"] is None
    np.testing.assert_array_equal(losses["weak_error"], [1.0, 1.0])
    losses = squared_losses(None, y, y + 2.0)
    assert losses["weak_error"] is None and losses["strong_error"] is None
    np.testing.assert_array_equal(losses["misfit"], [4.0, 4.0])
