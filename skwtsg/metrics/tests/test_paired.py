"""Paired intervals of bound differences: scipy's bootstrap, and their verdicts."""

import numpy as np
import pytest
from scipy import stats

from skwtsg.metrics import paired_bound_differences


def _supervisors(n, noise, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    weak = {k: y + s * rng.normal(size=n) for k, s in noise.items()}
    strong = {k: 0.6 * v + 0.4 * y + 0.1 * rng.normal(size=n) for k, v in weak.items()}
    return y, weak, strong


@pytest.mark.parametrize("method", ["BCa", "percentile"])
def test_same_interval_as_scipy_paired_bootstrap(method):
    y, weak, strong = _supervisors(60, {"a": 0.5, "b": 0.8})
    w = np.random.default_rng(1).uniform(0.2, 2.0, size=60)
    table = paired_bound_differences(
        y,
        weak,
        strong,
        reference="a",
        sample_weight=w,
        n_resamples=999,
        confidence_level=0.9,
        method=method,
        random_state=np.random.default_rng(3),
    )

    def bound(w, y, wk, sk):
        return np.sum(w * ((y - wk) ** 2 - (wk - sk) ** 2), -1) / w.sum(-1)

    def statistic(w, y, wa, sa, wb, sb, axis=-1):
        return bound(w, y, wb, sb) - bound(w, y, wa, sa)

    ref = stats.bootstrap(
        (w, y, weak["a"], strong["a"], weak["b"], strong["b"]),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=999,
        confidence_level=0.9,
        method=method,
        rng=np.random.default_rng(3),
    ).confidence_interval
    width = ref.high - ref.low
    assert table.loc["b", "difference_low"] == pytest.approx(ref.low, abs=1e-5 * width)
    assert table.loc["b", "difference_high"] == pytest.approx(
        ref.high, abs=1e-5 * width
    )
    point = statistic(w, y, weak["a"], strong["a"], weak["b"], strong["b"])
    assert table.loc["b", "bound_difference"] == pytest.approx(point, rel=1e-12)
    assert np.isnan(table.loc["a", "difference_low"])
    assert table.attrs["reference"] == "a" and "pairs" in table.attrs["unit"]


def test_verdicts_over_repeated_samples():
    """Equal supervisors are told apart in about 5% of samples at 95%;
    clearly different ones almost always."""
    equal = different = 0
    for seed in range(40):
        y, weak, strong = _supervisors(300, {"a": 0.6, "b": 0.6, "c": 1.2}, seed)
        table = paired_bound_differences(
            y, weak, strong, reference="a", n_resamples=499, random_state=seed
        )
        equal += table.loc["b", "verdict"] != "indistinguishable at 95%"
        different += table.loc["c", "verdict"] == "higher at 95%"
    assert equal <= 6 and different >= 38


def test_default_reference_is_the_smallest_bound_and_bad_input():
    y, weak, strong = _supervisors(80, {"a": 1.0, "b": 0.3})
    table = paired_bound_differences(y, weak, strong, n_resamples=199, random_state=0)
    assert table.attrs["reference"] == "b" and table.loc["b", "verdict"] == "the pick"
    with pytest.raises(ValueError, match="same supervisors"):
        paired_bound_differences(y, weak, {"a": strong["a"]})
    with pytest.raises(ValueError, match="`reference` 'z'"):
        paired_bound_differences(y, weak, strong, reference="z")
    with pytest.raises(ValueError, match="n_resamples"):
        paired_bound_differences(y, weak, strong, n_resamples=0)
