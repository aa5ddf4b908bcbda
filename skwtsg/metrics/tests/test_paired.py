"""Paired intervals of bound differences: scipy's bootstrap, and their verdicts."""

import re

import numpy as np
import pytest
from scipy import stats

from skwtsg.metrics import paired_bound_differences
from skwtsg.metrics._paired import SPLIT_UNIT, UNIT, _paired_table


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


def _four_supervisors(n=120, seed=0):
    """A reference ("mid"), one clearly worse, one clearly better, and a twin
    of the reference (its per-row differences are exactly 0)."""
    y, weak, strong = _supervisors(n, {"mid": 0.6, "worse": 1.5, "better": 0.2}, seed)
    weak["twin"], strong["twin"] = weak["mid"].copy(), strong["mid"].copy()
    return y, weak, strong


def test_table_by_hand_weights_verdicts_and_layout():
    y, weak, strong = _four_supervisors()
    names = list(weak)
    w = np.random.default_rng(5).uniform(0.5, 2.0, size=y.size)
    w[::7] = 0.0  # rows of zero weight are dropped, not resampled
    table = paired_bound_differences(
        y,
        weak,
        strong,
        reference="mid",
        sample_weight=w,
        confidence_level=0.9,
        n_resamples=999,
        method="percentile",
        random_state=4,
    )
    per_row = {k: (y - weak[k]) ** 2 - (weak[k] - strong[k]) ** 2 for k in names}
    bound = [np.sum(w * per_row[k]) / np.sum(w) for k in names]
    assert table.index.tolist() == names and table.index.name == "weak_supervisor"
    assert table.columns.tolist() == [
        "bound",
        "bound_difference",
        "difference_low",
        "difference_high",
        "verdict",
    ]
    np.testing.assert_allclose(table["bound"], bound, rtol=1e-12)
    np.testing.assert_allclose(
        table["bound_difference"], np.subtract(bound, bound[0]), rtol=1e-12, atol=1e-15
    )
    assert table.attrs == {"unit": UNIT, "reference": "mid"}
    # The interval of "worse" is scipy's paired bootstrap of the weighted mean
    # difference over the rows of positive weight.
    keep = w > 0
    for method in ["percentile", "basic"]:
        ref = stats.bootstrap(
            (w[keep], (per_row["worse"] - per_row["mid"])[keep]),
            lambda w, d, axis=-1: np.sum(w * d, axis) / np.sum(w, axis),
            paired=True,
            vectorized=True,
            n_resamples=999,
            confidence_level=0.9,
            method=method,
            rng=np.random.default_rng(4),
        ).confidence_interval
        got = paired_bound_differences(
            y,
            weak,
            strong,
            reference="mid",
            sample_weight=w,
            confidence_level=0.9,
            n_resamples=999,
            method=method,
            random_state=4,
        ).loc["worse"]
        tol = 1e-5 * (ref.high - ref.low)  # as in the test above
        assert got["difference_low"] == pytest.approx(ref.low, abs=tol)
        assert got["difference_high"] == pytest.approx(ref.high, abs=tol)
    assert table["difference_low"].dtype == float == table["difference_high"].dtype
    assert np.isnan(table.loc["mid", ["difference_low", "difference_high"]]).all()
    assert table.loc["twin", ["difference_low", "difference_high"]].tolist() == [0, 0]
    assert table["verdict"].tolist() == [
        "the pick",
        "higher at 90%",
        "lower at 90%",
        "indistinguishable at 90%",
    ]
    dropped = paired_bound_differences(
        y[keep],
        {k: v[keep] for k, v in weak.items()},
        {k: v[keep] for k, v in strong.items()},
        reference="mid",
        sample_weight=w[keep],
        confidence_level=0.9,
        n_resamples=999,
        method="percentile",
        random_state=4,
    )
    cols = ["difference_low", "difference_high"]
    np.testing.assert_array_equal(table[cols], dropped[cols])


def test_default_reference_t_intervals_and_reference_error():
    y, weak, strong = _four_supervisors(seed=1)
    names = list(weak)
    values = np.column_stack(
        [(y - weak[k]) ** 2 - (weak[k] - strong[k]) ** 2 for k in names]
    )
    table = _paired_table(
        values,
        np.ones(y.size),
        names,
        reference=None,
        unit=SPLIT_UNIT,
        confidence_level=0.8,
        n_resamples=99,
        method="t",
        random_state=None,
    )
    assert table.attrs == {"unit": SPLIT_UNIT, "reference": "better"}
    diff = values[:, 1] - values[:, 2]  # worse minus the pick
    ci = stats.ttest_1samp(diff, 0.0).confidence_interval(0.8)
    assert table.loc["worse", "difference_low"] == pytest.approx(ci.low, rel=1e-9)
    assert table.loc["worse", "difference_high"] == pytest.approx(ci.high, rel=1e-9)
    assert table.loc["better", "verdict"] == "the pick"
    assert table.loc["worse", "verdict"] == "higher at 80%"
    with pytest.raises(ValueError, match=r"^`reference` 'z' is not among \['mid', "):
        paired_bound_differences(y, weak, strong, reference="z")


def test_documented_defaults_and_messages():
    y, weak, strong = _supervisors(40, {"a": 0.5, "b": 0.9})
    default = paired_bound_differences(y, weak, strong, random_state=2)
    explicit = paired_bound_differences(
        y, weak, strong, n_resamples=9999, method="BCa", random_state=2
    )
    cols = ["difference_low", "difference_high"]
    np.testing.assert_array_equal(default[cols], explicit[cols])
    msg = (
        "`y_weak` and `y_strong` must name the same supervisors, at least one; "
        "got ['a', 'b'] and ['a']."
    )
    with pytest.raises(ValueError, match=f"^{re.escape(msg)}$"):
        paired_bound_differences(y, weak, {"a": strong["a"]})
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match=r"^`y_true` contains NaN"):
        paired_bound_differences(bad, weak, strong)


def test_several_outputs_average_the_per_entry_values():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 3))
    weak = {"a": y + 0.3 * rng.normal(size=y.shape), "b": y + rng.normal(size=y.shape)}
    strong = {k: 0.5 * (v + y) for k, v in weak.items()}
    table = paired_bound_differences(
        y, weak, strong, n_resamples=199, method="percentile", random_state=0
    )
    bound = [np.mean((y - weak[k]) ** 2 - (weak[k] - strong[k]) ** 2) for k in "ab"]
    np.testing.assert_allclose(table["bound"], bound, rtol=1e-12)
