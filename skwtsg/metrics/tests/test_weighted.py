"""Weighted values of every metric: closed forms and repeated rows.

Each metric is a weighted mean of per-row losses, so with integer weights it
must equal the unweighted metric on rows repeated that many times, and it
must equal the closed form written with :func:`numpy.average`. Validation of
``sample_weight`` is tested elsewhere; these tests see a weight dropped from
one term of a metric.
"""

import numpy as np
import pytest

from skwtsg.metrics import (
    accuracy_pgr,
    bound,
    gain,
    kl_bound,
    kl_error,
    kl_gain,
    kl_misfit,
    misfit,
    misfit_interval,
    performance_gap_recovered,
    weak_to_strong_classification_report,
    weak_to_strong_report,
)

N = 40


def _weights(rng, n=N):
    """Integer weights 0..4, uneven enough that dropping them changes a mean."""
    w = rng.randint(0, 5, size=n)
    w[:3] = (0, 4, 1)  # at least one zero and one large weight
    return w


def _regression(seed, n_tasks=None):
    rng = np.random.RandomState(seed)
    shape = (N,) if n_tasks is None else (N, n_tasks)
    y = rng.normal(size=shape)
    y_weak = y + rng.normal(size=shape)
    y_strong = y + rng.normal(scale=0.5, size=shape) + 0.3
    y_ceiling = y + rng.normal(scale=0.2, size=shape)
    return rng, y, y_weak, y_strong, y_ceiling


def _mse(a, b, w):
    return np.average((a - b) ** 2, axis=0, weights=w)


def _repeat(w, *arrays):
    return [np.repeat(a, w, axis=0) for a in arrays]


@pytest.mark.parametrize("n_tasks", [None, 3])
def test_regression_metrics_closed_forms(n_tasks):
    rng, y, y_w, y_s, y_c = _regression(0, n_tasks)
    w = _weights(rng)
    kw = dict(sample_weight=w, multioutput="raw_values")
    weak, strong, mis = _mse(y, y_w, w), _mse(y, y_s, w), _mse(y_w, y_s, w)
    ceiling = _mse(y, y_c, w)
    np.testing.assert_allclose(misfit(y_w, y_s, **kw), mis, rtol=1e-12)
    np.testing.assert_allclose(gain(y, y_w, y_s, **kw), weak - strong, rtol=1e-12)
    np.testing.assert_allclose(bound(y, y_w, y_s, **kw), weak - mis, rtol=1e-12)
    np.testing.assert_allclose(
        performance_gap_recovered(y, y_w, y_s, y_c, **kw),
        (weak - strong) / (weak - ceiling),
        rtol=1e-12,
    )
    report = weak_to_strong_report(y, y_w, y_s, y_ceiling=y_c, **kw)
    expected = {
        "weak_error": weak,
        "strong_error": strong,
        "misfit": mis,
        "gain": weak - strong,
        "bound": weak - mis,
        "ceiling_error": ceiling,
        "pgr": (weak - strong) / (weak - ceiling),
    }
    assert report.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_allclose(report[name], value, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", [1, 2, 3]])
def test_regression_metrics_integer_weights_are_repeated_rows(multioutput):
    rng, y, y_w, y_s, y_c = _regression(1, 3)
    w = _weights(rng)
    rep = _repeat(w, y, y_w, y_s, y_c)
    weighted = dict(sample_weight=w, multioutput=multioutput)
    plain = dict(multioutput=multioutput)
    for metric, cols in (
        (misfit, [1, 2]),
        (gain, [0, 1, 2]),
        (bound, [0, 1, 2]),
        (performance_gap_recovered, [0, 1, 2, 3]),
    ):
        args = [(y, y_w, y_s, y_c)[i] for i in cols]
        np.testing.assert_allclose(
            metric(*args, **weighted),
            metric(*[rep[i] for i in cols], **plain),
            rtol=1e-12,
            err_msg=metric.__name__,
        )
    got = weak_to_strong_report(y, y_w, y_s, y_ceiling=y_c, **weighted)
    want = weak_to_strong_report(*rep[:3], y_ceiling=rep[3], **plain)
    assert got.keys() == want.keys()
    for name in got:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, err_msg=name)


def _classification(seed, k=3):
    rng = np.random.RandomState(seed)
    P_true, P_w, P_s, P_c = (rng.dirichlet(np.ones(k), size=N) for _ in range(4))
    labels = rng.randint(0, k, size=N)
    return rng, P_true, P_w, P_s, P_c, labels


def _kl(P, Q):
    return np.sum(P * np.log(P / Q), axis=1)


@pytest.mark.parametrize("hard", [False, True])
def test_kl_metrics_closed_forms(hard):
    rng, P_true, P_w, P_s, P_c, labels = _classification(2)
    w = _weights(rng)
    rows = np.arange(N)
    if hard:
        y = labels

        def error(P):
            return np.average(-np.log(P[rows, labels]), weights=w)

    else:
        y = P_true

        def error(P):
            return np.average(_kl(P, P_true), weights=w)

    weak, strong, ceiling = error(P_w), error(P_s), error(P_c)
    mis = np.average(_kl(P_w, P_s), weights=w)
    assert kl_misfit(P_w, P_s, sample_weight=w) == pytest.approx(mis, rel=1e-12)
    assert kl_error(y, P_w, sample_weight=w) == pytest.approx(weak, rel=1e-12)
    assert kl_error(y, P_s, sample_weight=w) == pytest.approx(strong, rel=1e-12)
    assert kl_gain(y, P_w, P_s, sample_weight=w) == pytest.approx(
        weak - strong, rel=1e-12
    )
    assert kl_bound(y, P_w, P_s, sample_weight=w) == pytest.approx(
        weak - mis, rel=1e-12
    )
    report = weak_to_strong_classification_report(
        y, P_w, P_s, p_ceiling=P_c, sample_weight=w
    )
    expected = {
        "weak_error": weak,
        "strong_error": strong,
        "misfit": mis,
        "gain": weak - strong,
        "bound": weak - mis,
        "ceiling_error": ceiling,
        "pgr": (weak - strong) / (weak - ceiling),
    }
    if hard:

        def accuracy(P):
            return np.average(P.argmax(axis=1) == labels, weights=w)

        acc_w, acc_s, acc_c = accuracy(P_w), accuracy(P_s), accuracy(P_c)
        expected.update(
            weak_accuracy=acc_w,
            strong_accuracy=acc_s,
            ceiling_accuracy=acc_c,
            accuracy_pgr=(acc_s - acc_w) / (acc_c - acc_w),
        )
    assert report.keys() == expected.keys()
    for name, value in expected.items():
        assert report[name] == pytest.approx(value, rel=1e-12), name


@pytest.mark.parametrize("hard", [False, True])
def test_kl_metrics_integer_weights_are_repeated_rows(hard):
    rng, P_true, P_w, P_s, P_c, labels = _classification(3)
    w = _weights(rng)
    y = labels if hard else P_true
    y_r, P_wr, P_sr, P_cr = _repeat(w, y, P_w, P_s, P_c)
    for metric, args, rep in (
        (kl_misfit, (P_w, P_s), (P_wr, P_sr)),
        (kl_error, (y, P_w), (y_r, P_wr)),
        (kl_error, (y, P_s), (y_r, P_sr)),
        (kl_gain, (y, P_w, P_s), (y_r, P_wr, P_sr)),
        (kl_bound, (y, P_w, P_s), (y_r, P_wr, P_sr)),
    ):
        assert metric(*args, sample_weight=w) == pytest.approx(
            metric(*rep), rel=1e-12
        ), metric.__name__
    got = weak_to_strong_classification_report(
        y, P_w, P_s, p_ceiling=P_c, sample_weight=w
    )
    want = weak_to_strong_classification_report(y_r, P_wr, P_sr, p_ceiling=P_cr)
    assert got.keys() == want.keys()
    for name in got:
        assert got[name] == pytest.approx(want[name], rel=1e-12), name


def test_accuracy_pgr_weighted():
    rng = np.random.RandomState(4)
    y = rng.randint(0, 3, size=N)

    def noisy(p):
        return np.where(rng.uniform(size=N) < p, y, rng.randint(0, 3, size=N))

    y_w, y_s, y_c = noisy(0.3), noisy(0.6), noisy(0.9)
    w = _weights(rng)
    acc_w, acc_s, acc_c = (np.average(p == y, weights=w) for p in (y_w, y_s, y_c))
    got = accuracy_pgr(y, y_w, y_s, y_c, sample_weight=w)
    assert got == pytest.approx((acc_s - acc_w) / (acc_c - acc_w), rel=1e-12)
    assert got == pytest.approx(
        accuracy_pgr(*_repeat(w, y, y_w, y_s, y_c)), rel=1e-12
    )
    # the weights matter here: without them the value differs
    assert accuracy_pgr(y, y_w, y_s, y_c) != pytest.approx(got, rel=1e-6)


def test_weights_change_every_value():
    """The data above are such that ignoring the weights changes each metric:
    the closed-form tests could not pass with a weight dropped."""
    rng, y, y_w, y_s, y_c = _regression(0, 3)
    w = _weights(rng)
    weighted = weak_to_strong_report(y, y_w, y_s, y_ceiling=y_c, sample_weight=w)
    plain = weak_to_strong_report(y, y_w, y_s, y_ceiling=y_c)
    for name in weighted:
        assert weighted[name] != pytest.approx(plain[name], rel=1e-6), name
    rng, P_true, P_w, P_s, P_c, labels = _classification(2)
    w = _weights(rng)
    for y in (P_true, labels):
        weighted = weak_to_strong_classification_report(
            y, P_w, P_s, p_ceiling=P_c, sample_weight=w
        )
        plain = weak_to_strong_classification_report(y, P_w, P_s, p_ceiling=P_c)
        for name in weighted:
            assert weighted[name] != pytest.approx(plain[name], rel=1e-6), name


@pytest.mark.parametrize("method", ["BCa", "percentile", "basic"])
def test_misfit_interval_weights_deterministic_parts(method):
    """The bootstrap draws rows, so integer weights are not repeated rows; but
    zero-weight rows are absent rows, a constant weight is no weight, and the
    interval is built around the weighted misfit."""
    rng = np.random.RandomState(5)
    y_w = rng.normal(size=N)
    y_s = y_w + rng.normal(scale=0.5, size=N)
    w = rng.uniform(0.5, 3.0, size=N)
    w[[2, 7, 11]] = 0.0
    kw = dict(n_resamples=499, method=method)
    keep = w > 0
    got = misfit_interval(y_w, y_s, sample_weight=w, random_state=0, **kw)
    absent = misfit_interval(
        y_w[keep], y_s[keep], sample_weight=w[keep], random_state=0, **kw
    )
    np.testing.assert_allclose(got, absent, rtol=1e-12)
    constant = misfit_interval(y_w, y_s, sample_weight=np.full(N, 3.0), random_state=1)
    np.testing.assert_allclose(
        constant, misfit_interval(y_w, y_s, random_state=1), rtol=1e-6
    )
    # The interval moves with the weights: its centre follows the weighted
    # misfit, not the unweighted one.
    point = np.average((y_w - y_s) ** 2, weights=w)
    plain = misfit_interval(y_w[keep], y_s[keep], random_state=0, **kw)
    assert not np.allclose(got, plain, rtol=1e-6)
    assert got[0] < point < got[1]


@pytest.mark.parametrize("multioutput", ["uniform_average", [1.0, 2.0, 5.0]])
def test_task_weighted_intervals_match_scipy(multioutput):
    """Intervals of task averages: scipy's bootstrap of the weighted average
    of the per-task diagnostics (the task weights normalised)."""
    from scipy import stats

    rng, y, y_w, y_s, _ = _regression(6, 3)
    w = rng.uniform(0.5, 2.0, size=N)
    task_w = np.ones(3) if isinstance(multioutput, str) else np.asarray(multioutput)
    rep = weak_to_strong_report(
        y,
        y_w,
        y_s,
        sample_weight=w,
        multioutput=multioutput,
        confidence_level=0.9,
        n_resamples=999,
        random_state=np.random.default_rng(4),
    )

    def statistic(w, y, y_w, y_s, axis=-1):
        # tasks on the first axis, rows on the last, resamples between
        def mse(a, b):
            per_task = np.sum(w * (a - b) ** 2, axis) / w.sum(axis)
            return np.average(per_task, axis=0, weights=task_w)

        weak, strong, mis = mse(y, y_w), mse(y, y_s), mse(y_w, y_s)
        return np.stack([weak, strong, mis, weak - strong, weak - mis])

    ref = stats.bootstrap(
        (w, y.T, y_w.T, y_s.T),
        statistic,
        paired=True,
        vectorized=True,
        axis=-1,
        n_resamples=999,
        confidence_level=0.9,
        rng=np.random.default_rng(4),
    ).confidence_interval
    names = ("weak_error", "strong_error", "misfit", "gain", "bound")
    for i, name in enumerate(names):
        width = ref.high[i] - ref.low[i]
        assert rep[name] == pytest.approx(statistic(w, y.T, y_w.T, y_s.T)[i])
        np.testing.assert_allclose(
            rep[name + "_ci"],
            (ref.low[i], ref.high[i]),
            atol=1e-5 * width,
            err_msg=name,
        )


def test_integer_inputs_give_the_intervals_of_floats():
    """Integer predictions are read as floats: no integer overflow in the
    per-row losses of the bootstrap (int8 squares overflow)."""
    rng = np.random.RandomState(7)
    y = rng.randint(-100, 100, size=N).astype(np.int8)
    y_w = rng.randint(-100, 100, size=N).astype(np.int8)
    y_s = rng.randint(-100, 100, size=N).astype(np.int8)
    kw = dict(confidence_level=0.9, n_resamples=199, method="percentile")
    got = weak_to_strong_report(y, y_w, y_s, random_state=0, **kw)
    want = weak_to_strong_report(
        y.astype(float), y_w.astype(float), y_s.astype(float), random_state=0, **kw
    )
    for name in ("misfit", "gain", "bound"):
        np.testing.assert_allclose(got[name + "_ci"], want[name + "_ci"], rtol=1e-12)
    np.testing.assert_allclose(
        misfit_interval(y_w, y_s, random_state=0, **kw),
        misfit_interval(y_w.astype(float), y_s.astype(float), random_state=0, **kw),
        rtol=1e-12,
    )


def test_two_rows_of_positive_weight_are_enough():
    """At least 2 rows of positive weight: exactly 2 give an interval, 1 is
    refused with the message saying so."""
    y_w, y_s = np.array([0.0, 1.0, 2.0, 5.0]), np.array([0.5, 0.0, 2.5, 3.0])
    low, high = misfit_interval(
        y_w,
        y_s,
        sample_weight=[0, 1, 0, 2],
        n_resamples=99,
        method="percentile",
        random_state=0,
    )
    assert 0.25 <= low <= high <= 4.0  # between the two rows' squared gaps
    with pytest.raises(
        ValueError,
        match=r"^Bootstrap intervals need at least 2 rows with positive weight, "
        r"got 1\.$",
    ):
        misfit_interval(y_w, y_s, sample_weight=[0, 1, 0, 0], random_state=0)


def _report_error(**kwargs):
    with pytest.raises(ValueError) as info:
        weak_to_strong_classification_report(**kwargs)
    return str(info.value)


@pytest.mark.parametrize("name", ["y_true", "p_weak", "p_strong", "p_ceiling"])
def test_classification_report_errors_name_the_input_and_rows(name):
    """Every probability input of the report is checked on its own, and its
    error names it and the rows at fault (the exact message)."""
    P = np.full((7, 2), 0.5)
    inputs = {"y_true": P, "p_weak": P, "p_strong": P, "p_ceiling": P}
    wide = np.full((7, 3), 1 / 3)
    message = _report_error(**{**inputs, name: wide})
    if name == "p_weak":  # the weak model's columns are the reference
        assert message == "`p_strong` has 2 classes (columns), expected 3."
    else:
        assert message == f"`{name}` has 3 classes (columns), expected 2."
    bad = P.copy()
    bad[[2, 6]] = [0.9, 0.3]
    message = _report_error(**{**inputs, name: bad})
    assert message == (
        f"The rows of `{name}` must sum to 1 (class probabilities); rows [2, 6] "
        "do not (largest deviation 0.2)."
    )


def test_classification_report_infinite_terms_name_their_rows():
    P = np.full((8, 2), 0.5)
    zero = P.copy()
    zero[[1, 3, 4, 5, 6, 7]] = [1.0, 0.0]  # six rows: the first five are named
    assert _report_error(y_true=P, p_weak=P, p_strong=zero) == (
        "KL(p_weak ‖ p_strong) is infinite on rows [1, 3, 4, 5, 6]: `p_strong` "
        "gives probability 0 to a class that `p_weak` does not."
    )
    assert _report_error(y_true=np.ones(8, dtype=int), p_weak=zero, p_strong=P) == (
        "The log-loss of `p_weak` is infinite: it gives probability 0 to the true "
        "class on rows [1, 3, 4, 5, 6]."
    )
    assert _report_error(y_true=zero[:, ::-1], p_weak=P, p_strong=P) == (
        "KL(p_weak ‖ y_true) is infinite on rows [1, 3, 4, 5, 6]: `y_true` gives "
        "probability 0 to a class that `p_weak` does not."
    )
