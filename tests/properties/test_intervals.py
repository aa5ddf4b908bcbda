"""Property tests of the bootstrap intervals of the weak-to-strong diagnostics.

- Each point estimate lies inside its interval (BCa, percentile and basic
  alike), with and without weights, for one task or several.
- Intervals shrink as the evaluation sample grows: sixteen times the rows
  should give about a quarter of the width (asserted: less than 0.7 of it).
"""

import numpy as np
import pytest

pytest.importorskip("hypothesis")

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as npst  # noqa: E402

from skwtsg.metrics import weak_to_strong_report  # noqa: E402

NAMES = ("weak_error", "strong_error", "misfit", "gain", "bound")
values = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def samples(draw):
    n = draw(st.integers(10, 60))
    tasks = draw(st.sampled_from([None, 2]))
    shape = (n,) if tasks is None else (n, tasks)
    y, y_weak, y_strong = (
        draw(npst.arrays(np.float64, shape, elements=values)) for _ in range(3)
    )
    weights = draw(
        st.none() | npst.arrays(np.float64, (n,), elements=st.floats(0.1, 10.0))
    )
    return y, y_weak, y_strong, weights


@given(
    samples(),
    st.sampled_from(["BCa", "percentile", "basic"]),
    st.integers(0, 2**31 - 1),
)
def test_point_inside_interval(sample, method, seed):
    y, y_weak, y_strong, weights = sample
    rep = weak_to_strong_report(
        y,
        y_weak,
        y_strong,
        sample_weight=weights,
        multioutput="raw_values",
        confidence_level=0.95,
        n_resamples=299,
        method=method,
        random_state=seed,
    )
    for name in NAMES:
        low, high = rep[name + "_ci"]
        point = rep[name]
        tol = 1e-9 * (1 + np.abs(point))
        assert np.all(low <= point + tol), (name, low, point)
        assert np.all(point <= high + tol), (name, point, high)


@given(
    st.integers(0, 2**31 - 1),
    st.floats(0.1, 3.0),
    st.floats(0.1, 3.0),
    st.floats(0.0, 2.0),
)
def test_intervals_shrink_as_n_grows(seed, weak_noise, strong_noise, skew):
    rng = np.random.default_rng(seed)

    def widths(n):
        y = rng.normal(size=n)
        y_weak = y + weak_noise * rng.normal(size=n)
        y_strong = (
            y + strong_noise * rng.normal(size=n) + skew * rng.exponential(size=n)
        )
        rep = weak_to_strong_report(
            y,
            y_weak,
            y_strong,
            confidence_level=0.95,
            n_resamples=499,
            random_state=seed,
        )
        return np.array([np.subtract(*rep[k + "_ci"][::-1]) for k in NAMES])

    small, large = widths(100), widths(1600)
    assert np.all(large < 0.7 * small), (small, large)
