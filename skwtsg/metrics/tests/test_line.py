"""The one line-fitting rule."""

import numpy as np
import pytest
from scipy import stats

from skwtsg.metrics import LineFit, fit_line
from skwtsg.metrics._line import MIN_LINE_POINTS


def test_matches_linregress():
    rng = np.random.RandomState(0)
    x = rng.uniform(size=20)
    y = 2 * x + 0.3 + 0.1 * rng.normal(size=20)
    fit = fit_line(x, y)
    ref = stats.linregress(x, y)
    assert isinstance(fit, LineFit) and fit.fitted
    assert fit.slope == pytest.approx(ref.slope)
    assert fit.intercept == pytest.approx(ref.intercept)
    assert fit.r2 == pytest.approx(ref.rvalue**2)
    assert fit.n_points == 20


@pytest.mark.parametrize(
    "x, y",
    [([1.0, 2.0], [0.0, 5.0]), ([1.0], [1.0]), ([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])],
)
def test_no_line_when_the_points_do_not_determine_one(x, y):
    fit = fit_line(x, y)
    assert not fit.fitted
    assert np.isnan([fit.slope, fit.intercept, fit.r2]).all()
    assert fit.n_points == len(x)


def test_three_points_is_enough():
    assert MIN_LINE_POINTS == 3
    assert fit_line([0.0, 1.0, 2.0], [0.0, 1.0, 2.0]).fitted


def test_bad_input():
    with pytest.raises(ValueError, match="same length"):
        fit_line([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="`y` contains NaN"):
        fit_line([1.0, 2.0, 3.0], [1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match=r"^`x` contains NaN or infinite values"):
        fit_line([1.0, np.inf, 3.0], [1.0, 2.0, 2.0])
