import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skwtsg import WeakToStrongRegressor
from skwtsg.metrics import (
    _intervals,
    misfit,
    misfit_interval,
    weak_to_strong_report,
)
from skwtsg.model_selection import diagnostic_intervals

NAMES = ("weak_error", "strong_error", "misfit", "gain", "bound")
BENCH_COVERAGE = Path(__file__).resolve().parents[3] / "benchmarks/bench_coverage.py"


def _bench_coverage():
    if not BENCH_COVERAGE.exists():
        pytest.skip(f"{BENCH_COVERAGE} not found (not a source checkout)")
    spec = importlib.util.spec_from_file_location("bench_coverage", BENCH_COVERAGE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data(n, n_tasks=None, seed=0, close=False):
    rng = np.random.RandomState(seed)
    shape = (n,) if n_tasks is None else (n, n_tasks)
    y = rng.normal(size=shape)
    y_weak = y + rng.normal(size=shape)
    if close:  # the strong model barely moves off its supervisor
        y_strong = y_weak + 1e-3 * rng.normal(size=shape)
    else:
        y_strong = y + 0.5 * rng.normal(size=shape) + rng.exponential(size=shape)
    return y, y_weak, y_strong, rng.uniform(0.2, 2.0, size=n)


def _scipy_intervals(y, y_weak, y_strong, w, seed, **kw):
    """The same five intervals with scipy.stats.bootstrap, paired and weighted."""

    def statistic(w, y, y_weak, y_strong, axis=-1):
        total = w.sum(axis)
        weak = np.sum(w * (y - y_weak) ** 2, axis) / total
        strong = np.sum(w * (y - y_strong) ** 2, axis) / total
        mis = np.sum(w * (y_weak - y_strong) ** 2, axis) / total
        return np.stack([weak, strong, mis, weak - strong, weak - mis])

    data = (w, *(np.asarray(a).T for a in (y, y_weak, y_strong)))
    res = stats.bootstrap(
        data,
        statistic,
        paired=True,
        vectorized=True,
        axis=-1,
        rng=np.random.default_rng(seed),
        **kw,
    )
    return np.asarray(res.confidence_interval)  # (2, 5[, n_tasks])


@pytest.mark.parametrize("method", ["BCa", "percentile", "basic"])
@pytest.mark.parametrize("n_tasks", [None, 3])
@pytest.mark.parametrize("close", [False, True])
def test_same_intervals_as_scipy_bootstrap(method, n_tasks, close):
    # Same Generator, hence the same resampled rows: the counts-times-losses
    # product and the closed-form jackknife reproduce scipy's intervals.
    y, y_weak, y_strong, w = _data(40, n_tasks, close=close)
    rep = weak_to_strong_report(
        y,
        y_weak,
        y_strong,
        sample_weight=w,
        multioutput="raw_values",
        confidence_level=0.9,
        n_resamples=999,
        method=method,
        random_state=np.random.default_rng(3),
    )
    ref = _scipy_intervals(
        y,
        y_weak,
        y_strong,
        w,
        3,
        n_resamples=999,
        method=method,
        confidence_level=0.9,
    )
    for i, name in enumerate(NAMES):
        low, high = rep[name + "_ci"]
        width = ref[1, i] - ref[0, i]
        assert np.all(width > 0)
        np.testing.assert_allclose(
            low, ref[0, i].reshape(low.shape), atol=1e-5 * width.min()
        )
        np.testing.assert_allclose(
            high, ref[1, i].reshape(high.shape), atol=1e-5 * width.min()
        )


def test_close_to_scipy_with_other_resamples():
    # Different random resamples: equal up to the Monte-Carlo error.
    y, y_weak, y_strong, w = _data(150, seed=1)
    rep = weak_to_strong_report(
        y,
        y_weak,
        y_strong,
        sample_weight=w,
        confidence_level=0.95,
        n_resamples=4999,
        random_state=0,
    )
    ref = _scipy_intervals(y, y_weak, y_strong, w, 12345, n_resamples=4999)
    for i, name in enumerate(NAMES):
        width = ref[1, i] - ref[0, i]
        assert rep[name + "_ci"] == pytest.approx(tuple(ref[:, i]), abs=0.1 * width)


def test_batches_do_not_change_the_result(monkeypatch):
    """Batches draw the same resamples: the intervals agree to float32 rounding.

    Not bitwise: the BLAS's float32 product of a batch of 7 resamples may
    round differently from that of 500 (OpenBLAS 0.3.31 does), by about
    1e-7 of the spread; a resample drawn wrongly moves the endpoints by the
    Monte-Carlo error, ~1e-2 here.
    """
    y, y_weak, y_strong, _ = _data(300, 2)
    kw = dict(
        multioutput="raw_values", confidence_level=0.95, n_resamples=500, random_state=7
    )
    whole = weak_to_strong_report(y, y_weak, y_strong, **kw)
    monkeypatch.setattr(_intervals, "_BATCH_CELLS", 300 * 7)  # batches of 7
    batched = weak_to_strong_report(y, y_weak, y_strong, **kw)
    for name in NAMES:
        np.testing.assert_allclose(
            whole[name + "_ci"], batched[name + "_ci"], rtol=1e-5, atol=1e-9
        )


def test_shapes_and_point_inside():
    y, y_weak, y_strong, w = _data(200, 4)
    raw = weak_to_strong_report(
        y,
        y_weak,
        y_strong,
        multioutput="raw_values",
        confidence_level=0.95,
        n_resamples=999,
        random_state=0,
    )
    avg = weak_to_strong_report(
        y, y_weak, y_strong, confidence_level=0.95, n_resamples=999, random_state=0
    )
    weighted = weak_to_strong_report(
        y,
        y_weak,
        y_strong,
        multioutput=[1, 0, 0, 0],
        confidence_level=0.95,
        n_resamples=999,
        random_state=0,
    )
    for name in NAMES:
        low, high = raw[name + "_ci"]
        assert low.shape == high.shape == (4,)
        assert np.all((low < raw[name]) & (raw[name] < high))
        low, high = avg[name + "_ci"]
        assert isinstance(low, float) and low < avg[name] < high
        # task weights [1, 0, 0, 0]: the first task alone
        only_first = weak_to_strong_report(
            y[:, 0],
            y_weak[:, 0],
            y_strong[:, 0],
            confidence_level=0.95,
            n_resamples=999,
            random_state=0,
        )
        assert weighted[name + "_ci"] == pytest.approx(only_first[name + "_ci"])
    assert "pgr" not in raw and "weak_error_ci" not in weak_to_strong_report(
        y, y_weak, y_strong
    )


def test_reproducible_and_random_state_kinds():
    y, y_weak, y_strong, _ = _data(100)
    kw = dict(confidence_level=0.95, n_resamples=200)
    a = weak_to_strong_report(y, y_weak, y_strong, random_state=0, **kw)
    b = weak_to_strong_report(y, y_weak, y_strong, random_state=0, **kw)
    c = weak_to_strong_report(y, y_weak, y_strong, random_state=1, **kw)
    assert a["gain_ci"] == b["gain_ci"] != c["gain_ci"]
    d = weak_to_strong_report(
        y, y_weak, y_strong, random_state=np.random.RandomState(0), **kw
    )
    assert d["gain_ci"][0] < d["gain"] < d["gain_ci"][1]


def test_zero_weight_rows_are_absent():
    y, y_weak, y_strong, w = _data(120)
    w[::3] = 0.0
    keep = w > 0
    kw = dict(confidence_level=0.95, n_resamples=300, random_state=4)
    with_zeros = weak_to_strong_report(y, y_weak, y_strong, sample_weight=w, **kw)
    without = weak_to_strong_report(
        y[keep], y_weak[keep], y_strong[keep], sample_weight=w[keep], **kw
    )
    for name in NAMES:
        assert with_zeros[name + "_ci"] == pytest.approx(without[name + "_ci"])


def test_misfit_interval_needs_no_labels():
    y, y_weak, y_strong, w = _data(150)
    kw = dict(sample_weight=w, n_resamples=500, random_state=2)
    low, high = misfit_interval(y_weak, y_strong, **kw)
    assert low < misfit(y_weak, y_strong, sample_weight=w) < high
    rep = weak_to_strong_report(y, y_weak, y_strong, confidence_level=0.95, **kw)
    assert (low, high) == pytest.approx(rep["misfit_ci"])
    low, high = misfit_interval(
        np.c_[y_weak, y_weak],
        np.c_[y_strong, y_weak],
        multioutput="raw_values",
        n_resamples=100,
        random_state=0,
    )
    assert low.shape == (2,)
    # a constant statistic: a zero-width interval at the point
    assert (low[1], high[1]) == (0.0, 0.0)


def test_constant_losses_give_the_point():
    y = np.zeros(50)
    rep = weak_to_strong_report(
        y, y + 1.0, y + 0.5, confidence_level=0.95, n_resamples=100, random_state=0
    )
    for name in NAMES:
        assert rep[name + "_ci"] == (rep[name], rep[name])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"confidence_level": 1.0}, "confidence_level"),
        ({"confidence_level": True}, "confidence_level"),
        ({"confidence_level": 0.9, "n_resamples": 0}, "n_resamples"),
        ({"confidence_level": 0.9, "n_resamples": 2.5}, "n_resamples"),
        ({"confidence_level": 0.9, "method": "student"}, "method"),
        ({"confidence_level": 0.9, "random_state": "x"}, "random_state"),
        ({"confidence_level": 0.9, "multioutput": "mean"}, "multioutput"),
        ({"confidence_level": 0.9, "sample_weight": -np.ones(10)}, "sample_weight"),
        (
            {"confidence_level": 0.9, "sample_weight": np.r_[1.0, np.zeros(9)]},
            "at least 2 rows",
        ),
    ],
)
def test_bad_parameters(kwargs, message):
    y, y_weak, y_strong, _ = _data(10)
    with pytest.raises(ValueError, match=message):
        weak_to_strong_report(y, y_weak, y_strong, **kwargs)


def _fitted(n_tasks=None):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 5))
    coef = rng.normal(size=(5,) if n_tasks is None else (5, n_tasks))
    y = X @ coef + rng.normal(size=(600,) if n_tasks is None else (600, n_tasks))
    est = WeakToStrongRegressor(
        PCA(n_components=4), PCA(n_components=2), random_state=0
    ).fit(X, y)
    return est, X, y


def test_diagnostic_intervals_of_the_evaluation_rows():
    est, X, y = _fitted()
    mask = est.roles_ == "eval"
    rep = diagnostic_intervals(est, X[mask], y[mask], n_resamples=500, random_state=0)
    for name in NAMES:
        assert rep[name] == pytest.approx(getattr(est, name + "_"))
        low, high = rep[name + "_ci"]
        assert low < rep[name] < high
    same = weak_to_strong_report(
        y[mask],
        est.predict_weak(X[mask]),
        est.predict(X[mask]),
        confidence_level=0.95,
        n_resamples=500,
        random_state=0,
    )
    assert rep.keys() == same.keys()
    for key, value in rep.items():
        np.testing.assert_allclose(value, same[key])


def test_diagnostic_intervals_pipeline_tasks_and_no_labels():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(400, 4))
    y = X @ rng.normal(size=(4, 2))
    pipe = make_pipeline(
        StandardScaler(), WeakToStrongRegressor(PCA(n_components=1), random_state=0)
    ).fit(X, y)
    rep = diagnostic_intervals(pipe, X, y, n_resamples=200, random_state=0)
    assert rep["gain_ci"][0].shape == (2,)  # like the fitted attributes
    assert (
        np.ndim(
            diagnostic_intervals(
                pipe,
                X,
                y,
                multioutput="uniform_average",
                n_resamples=200,
                random_state=0,
            )["gain"]
        )
        == 0
    )
    unlabeled = diagnostic_intervals(pipe, X, n_resamples=200, random_state=0)
    assert set(unlabeled) == {"misfit", "misfit_ci"}
    np.testing.assert_allclose(unlabeled["misfit"], rep["misfit"])
    y_nan = y.copy()
    y_nan[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        diagnostic_intervals(pipe, X, y_nan)
    with pytest.raises(TypeError, match="predict_weak"):
        diagnostic_intervals(StandardScaler().fit(X), X, y)


def test_coverage_quick():
    # A few replications of benchmarks/bench_coverage.py's design (the full run,
    # 500 replications, is in the benchmark and in the slow test below).
    bench = _bench_coverage()
    est, draw = bench.make_problem(0)
    truth = bench.population(est, draw, 300_000, 1)
    cov = bench.coverage(est, draw, truth, 200, 60, 499, "BCa", 2)
    for name in ("misfit", "gain", "bound"):
        assert 0.8 <= cov[name]["coverage"] <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("n_eval", [200, 2000])
def test_coverage_500_replications(n_eval):
    bench = _bench_coverage()
    est, draw = bench.make_problem(0)
    truth = bench.population(est, draw, 2_000_000, 1)
    cov = bench.coverage(est, draw, truth, n_eval, 500, 999, "BCa", 2 + n_eval)
    for name in ("misfit", "gain", "bound"):
        assert 0.92 <= cov[name]["coverage"] <= 0.98, (name, cov[name])


def test_quantiles_at_the_ends_are_the_extremes():
    """Levels 0 and 1 (BCa's levels can round to them) read the smallest and
    the largest resample, like numpy's linear quantile."""
    rng = np.random.RandomState(0)
    values = rng.normal(size=(4, 50))
    # 0.99 of 49 steps falls in the last step: the upper neighbour is the last
    levels = np.array([[0.0, 1.0], [0.3, 0.97], [0.99, 0.5], [1.0, 0.01]])
    got = _intervals._quantiles(values, levels)
    want = [np.quantile(v, lv) for v, lv in zip(values, levels)]
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_bca_of_constant_losses_raises_no_warning():
    """A diagnostic without spread has no acceleration (0/0 is not computed
    into a warning) and its interval is the point."""
    import warnings

    y = np.zeros(50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = weak_to_strong_report(
            y, y + 1.0, y + np.r_[0.5, np.zeros(49)], confidence_level=0.9,
            n_resamples=200, random_state=0,
        )
    assert rep["weak_error_ci"] == (1.0, 1.0)


def test_bca_one_sided_bootstrap_message():
    """Every resample on one side of the estimate: the exact error, and no
    numpy warning on the way (the infinite bias is expected). (Too few
    resamples are refused before, so the limits are called directly.)"""
    import warnings

    from skwtsg.metrics._intervals import _limits

    message = (
        "The BCa interval cannot be computed: the bootstrap distribution of "
        "some diagnostic lies entirely on one side of its estimate (too few "
        "rows?). Use method='percentile'."
    )
    deltas = -np.linspace(1.0, 2.0, 40)[None, :]
    jackknife = np.linspace(-1.0, 1.0, 30)[None, :]
    with warnings.catch_warnings(), pytest.raises(ValueError) as info:
        warnings.simplefilter("error")
        _limits(np.zeros(1), deltas, jackknife, 0.9, "bca")
    assert str(info.value) == message


def test_random_state_kinds_reproduce_and_bad_kinds_are_named():
    y, y_weak, y_strong, _ = _data(60)
    kw = dict(n_resamples=99, method="percentile")

    def interval(random_state):
        return misfit_interval(y_weak, y_strong, random_state=random_state, **kw)

    assert interval(np.random.RandomState(3)) == interval(np.random.RandomState(3))
    assert interval(np.random.RandomState(3)) != interval(np.random.RandomState(4))
    message = (
        "`random_state` must be None, an int, a numpy RandomState or Generator; "
        "got 'x'."
    )
    with pytest.raises(ValueError) as info:
        interval("x")
    assert str(info.value) == message
    with pytest.raises(ValueError, match="`confidence_level` must be a number"):
        misfit_interval(y_weak, y_strong, confidence_level="0.9")


def test_resample_count_messages():
    from skwtsg.metrics._intervals import _check_interval_params, check_enough_resamples

    for bad in (True, 50.0, 0):
        with pytest.raises(
            ValueError,
            match="^"
            + re.escape(f"`n_resamples` must be a positive integer, got {bad!r}.")
            + "$",
        ):
            _check_interval_params(0.95, bad, "BCa")
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "`n_resamples`=39 is too few for a 0.95 interval: each end is a quantile "
            "at level 0.025 of the resamples, which needs at least 40 of them (1 / "
            "that level); with fewer the interval is the range of the resamples, "
            "whatever the level asked. Use n_resamples >= 40 (the default, 9999, "
            "suits levels up to 0.9997)."
        )
        + "$",
    ):
        check_enough_resamples(39, 0.95)
    check_enough_resamples(40, 0.95)


@pytest.mark.parametrize("scale", [1e-4, 1e-10])
def test_small_varying_losses_keep_their_spread(scale):
    # Only rounding-size spread, relative to each column's own magnitude, is
    # treated as constant: tiny but varying squared errors (beside a huge
    # constant one) keep an interval of positive width.
    rng = np.random.default_rng(0)
    y = np.zeros(50)
    rep = weak_to_strong_report(
        y, y + 1e4, scale * rng.normal(size=50), confidence_level=0.9,
        n_resamples=200, random_state=0,
    )
    low, high = rep["strong_error_ci"]
    assert 0 < low < rep["strong_error"] < high


def test_ratio_limits_count_a_resample_without_gap_as_infinite():
    """A resample whose gap (denominator) is exactly 0 has no ratio: it counts
    as an infinite one (never NaN), silently (no numpy warning), and the
    method asked for is the one used."""
    import warnings

    from skwtsg.metrics._intervals import _limits, _ratio_limits

    means = np.array([0.0, 1.0, 2.0])  # ratio (1 - 0) / (2 - 0) = 0.5
    rng = np.random.default_rng(0)
    deltas = rng.normal(scale=0.1, size=(3, 40))
    deltas[:, 0] = [0.0, -1.0, -2.0]  # gap 0 and numerator 0: 0 / 0
    deltas[:, 1] = [0.0, 0.0, -2.0]  # gap 0 and numerator 1: 1 / 0
    jackknife = rng.normal(scale=0.01, size=(3, 30))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratio, (low, high) = _ratio_limits(means, deltas, jackknife, 0.96, "percentile")
        _, (basic_low, basic_high) = _ratio_limits(
            means, deltas, jackknife, 0.96, "basic"
        )
    assert ratio == 0.5
    # two infinite resamples of 40: the upper 0.98 quantile interpolates to one
    assert high == np.inf and np.isfinite(low)
    # "basic" reflects the percentile ends about the estimate
    assert basic_low == -np.inf and np.isfinite(basic_high)
    finite = deltas[:, 2:]
    r = (1 + finite[1] - finite[0]) / (2 + finite[2] - finite[0]) - 0.5
    devs = np.concatenate([[np.inf, np.inf], r])[None, :]
    jack = (1 + jackknife[1] - jackknife[0]) / (2 + jackknife[2] - jackknife[0]) - 0.5
    expected = _limits(np.array([0.5]), devs, jack[None, :], 0.96, "percentile")
    assert low == pytest.approx(expected[0][0], rel=1e-12)
