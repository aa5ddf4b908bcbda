"""Property tests of the bootstrap intervals of the weak-to-strong diagnostics.

- Each point estimate lies inside its interval (BCa, percentile and basic
  alike), with and without weights, for one task or several.
- Intervals shrink as the evaluation sample grows: sixteen times the rows
  should give about a quarter of the width (asserted: less than 0.7 of it).
"""

import numpy as np
import pytest

pytest.importorskip("hypothesis")

from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as npst  # noqa: E402

from skwtsg.metrics import weak_to_strong_report  # noqa: E402

NAMES = ("weak_error", "strong_error", "misfit", "gain", "bound")
#: Shares of the profile's examples for the costlier properties.
QUARTER = settings(max_examples=max(10, settings.default.max_examples // 4))
HALF = settings(max_examples=max(10, settings.default.max_examples // 2))
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


@QUARTER
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


@st.composite
def skewed_samples(draw):
    """Skewed losses: exponential-like draws by inverse CDF of drawn uniforms."""
    n = draw(st.integers(20, 60))  # no resample equal to the sample itself
    uniform = st.floats(0.01, 0.99)  # losses of one scale: float32 counts hold

    def column(label):
        u = draw(npst.arrays(np.float64, n, elements=uniform, unique=True), label=label)
        return -np.log1p(-u)

    power = draw(st.sampled_from([1.0, 2.0, 3.0]), label="power")
    y = draw(npst.arrays(np.float64, n, elements=st.floats(-2, 2)), label="y")
    y_weak = y + column("weak") ** power
    y_strong = y + 0.5 * column("strong") ** power
    weights = draw(
        st.none() | npst.arrays(np.float64, (n,), elements=st.floats(0.2, 5.0))
    )
    return y, y_weak, y_strong, weights


@HALF
@given(skewed_samples(), st.integers(0, 2**31 - 1))
def test_bca_matches_scipy_on_skewed_data(sample, seed):
    """The BCa ends are scipy.stats.bootstrap's on skewed data, where the
    acceleration is far from 0: a flipped sign moves them."""
    from skwtsg.metrics.tests.test_intervals import _scipy_intervals

    y, y_weak, y_strong, w = sample
    w_ = np.ones(len(y)) if w is None else w
    # Distinct per-row losses: with tied rows some resampled means equal the
    # estimate up to rounding, and which side of it they fall (BCa's bias
    # correction counts them) depends on the order of summation.
    weak, strong, mis = (y - y_weak) ** 2, (y - y_strong) ** 2, (y_weak - y_strong) ** 2
    for loss in (weak, strong, mis, weak - strong, weak - mis):
        assume(np.unique(loss).size == loss.size)
    ref = _scipy_intervals(
        y,
        y_weak,
        y_strong,
        w_,
        seed,
        n_resamples=499,
        method="BCa",
        confidence_level=0.9,
    )
    width = ref[1] - ref[0]
    assume(np.all(np.isfinite(ref)) and np.all(width > 0))
    rep = weak_to_strong_report(
        y,
        y_weak,
        y_strong,
        sample_weight=w,
        confidence_level=0.9,
        n_resamples=499,
        method="BCa",
        random_state=np.random.default_rng(seed),
    )
    for i, name in enumerate(NAMES):
        low, high = rep[name + "_ci"]
        assert abs(low - ref[0, i]) <= 1e-5 * width[i], (name, low, ref[0, i])
        assert abs(high - ref[1, i]) <= 1e-5 * width[i], (name, high, ref[1, i])
