"""The Diagnostics record: sums that merge, means that equal the metrics."""

import numpy as np
import pytest

from skwtsg._diagnostics import Diagnostics
from skwtsg.metrics import weak_to_strong_classification_report, weak_to_strong_report
from skwtsg.metrics._kl import _error_rows, _kl_rows
from skwtsg.metrics._losses import squared_losses


def _rows(n=50, n_outputs=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, n_outputs))
    weak = y + rng.normal(size=y.shape)
    strong = y + 0.5 * rng.normal(size=y.shape)
    w = rng.uniform(0.1, 3.0, size=n)
    return y, weak, strong, w


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ndim", [1, 2])
def test_report_is_the_weighted_report_of_the_rows(weighted, ndim):
    y, weak, strong, w = _rows(n_outputs=1 if ndim == 1 else 3)
    if ndim == 1:
        y, weak, strong = y.ravel(), weak.ravel(), strong.ravel()
    w = w if weighted else None
    record = Diagnostics.from_rows(
        "eval", squared_losses(y, weak, strong), np.ones(len(y), bool), w, ndim=ndim
    )
    expected = weak_to_strong_report(
        y,
        weak,
        strong,
        sample_weight=w,
        multioutput="raw_values" if ndim == 2 else "uniform_average",
    )
    report = record.report("eval")
    for key, value in expected.items():
        np.testing.assert_allclose(report[key], value, rtol=1e-13)


def test_classification_parts_add_up_to_the_report_ceiling_included():
    rng = np.random.default_rng(2)
    n, k = 80, 3
    y = rng.integers(k, size=n)
    P = {
        name: rng.dirichlet(np.ones(k), size=n)
        for name in ("weak", "strong", "ceiling")
    }
    w = rng.uniform(0.1, 3.0, size=n)
    losses = {
        "weak_error": _error_rows(y, P["weak"], "p_weak", None),
        "strong_error": _error_rows(y, P["strong"], "p_strong", None),
        "misfit": _kl_rows(P["weak"], P["strong"], ("p_weak", "p_strong")),
        "ceiling_error": _error_rows(y, P["ceiling"], "p_ceiling", None),
        **{
            f"{name}_correct": (P[name].argmax(axis=1) == y).astype(float) for name in P
        },
    }

    def record(rows):
        return Diagnostics.from_rows(
            "eval",
            {key: v[rows] for key, v in losses.items()},
            np.ones(n, bool)[rows],
            w[rows],
        )

    report = (record(slice(0, 30)) + record(slice(30, n))).report("eval")
    expected = weak_to_strong_classification_report(
        y, P["weak"], P["strong"], p_ceiling=P["ceiling"], sample_weight=w
    )
    assert set(report) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(report[key], value, rtol=1e-12)


def test_integer_weights_are_repeated_rows():
    y, weak, strong, _ = _rows()
    counts = np.random.default_rng(1).integers(0, 4, size=len(y))
    counts[0] = 1
    weighted = Diagnostics.from_rows(
        "strong",
        squared_losses(y, weak, strong),
        np.ones(len(y), bool),
        counts.astype(float),
        ndim=2,
    )
    r = np.repeat(np.arange(len(y)), counts)
    repeated = Diagnostics.from_rows(
        "strong",
        squared_losses(y[r], weak[r], strong[r]),
        np.ones(len(r), bool),
        ndim=2,
    )
    for key, value in repeated.report("strong").items():
        np.testing.assert_allclose(weighted.report("strong")[key], value, rtol=1e-12)


def test_records_of_parts_add_up_to_the_record_of_all_rows():
    y, weak, strong, w = _rows(n=60)
    labeled = np.ones(60, bool)
    labeled[::7] = False
    losses = squared_losses(y, weak, strong)

    def record(rows, row_set="strong"):
        return Diagnostics.from_rows(
            row_set,
            {k: v[rows] for k, v in losses.items()},
            labeled[rows],
            w[rows],
            ndim=2,
        )

    whole = record(slice(None))
    parts = record(slice(0, 25)) + record(slice(25, 60))
    np.testing.assert_allclose(parts.weight, whole.weight, rtol=1e-14)
    for key in losses:
        np.testing.assert_allclose(parts.sums[key], whole.sums[key], rtol=1e-13)
    # unlabeled rows: errors NaN, the misfit over every row
    report = whole.report("strong")
    assert np.isnan(report["weak_error"]).all() and np.isnan(report["gain"]).all()
    expected = np.average((weak - strong) ** 2, axis=0, weights=w)
    np.testing.assert_allclose(report["misfit"], expected, rtol=1e-13)


def test_select_measures_where_the_estimator_says():
    y, weak, strong, _ = _rows(n=30, n_outputs=1)
    y, weak, strong = y.ravel(), weak.ravel(), strong.ravel()
    ones = np.ones(10, bool)

    def part(row_set, rows, labeled=ones, with_strong=True):
        losses = squared_losses(
            y[rows], weak[rows], strong[rows] if with_strong else None
        )
        return Diagnostics.from_rows(row_set, losses, labeled)

    weak_rows, strong_rows, eval_rows = slice(0, 10), slice(10, 20), slice(20, 30)
    with_eval = part("weak", weak_rows, with_strong=False) + part("strong", strong_rows)
    with_eval += part("eval", eval_rows)
    values, rows, train = with_eval.select()
    assert set(rows.values()) == {"eval"}
    assert values["misfit"] == pytest.approx(np.mean((weak[20:] - strong[20:]) ** 2))
    assert train["misfit"] == pytest.approx(np.mean((weak[10:20] - strong[10:20]) ** 2))
    # no eval rows, unlabeled strong rows: the weak error on the weak rows
    unlabeled = part("weak", weak_rows, with_strong=False) + part(
        "strong", strong_rows, labeled=np.zeros(10, bool)
    )
    values, rows, _ = unlabeled.select()
    assert rows["weak_error"] == "weak" and rows["bound"] == "weak+strong"
    assert values["weak_error"] == pytest.approx(np.mean((y[:10] - weak[:10]) ** 2))
    assert values["bound"] == pytest.approx(values["weak_error"] - values["misfit"])
    assert np.isnan(values["strong_error"])
    _, rows, _ = part("strong", strong_rows).select(reuse=True)
    assert set(rows.values()) == {"both"}


def test_zero_weight_sum_and_mismatched_records_are_errors():
    y, weak, strong, _ = _rows(n=5, n_outputs=1)
    losses = squared_losses(y, weak, strong)
    zero = Diagnostics.from_rows("eval", losses, np.ones(5, bool), np.zeros(5))
    with pytest.raises(ValueError, match="eval rows sum to 0"):
        zero.report("eval")
    other = Diagnostics.from_rows(
        "eval", {"misfit": losses["misfit"]}, np.ones(5, bool)
    )
    with pytest.raises(ValueError, match="different losses"):
        zero + other
