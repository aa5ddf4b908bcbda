import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, PredefinedSplit

from skwtsg import WeakToStrongRegressor, bound_scorer
from skwtsg.metrics import bound, rank_weak_supervisors, weak_to_strong_report


def _records():
    # three weak models on three splits; "b" is lowest on every split but one
    bounds = {"a": [1.0, 1.2, 1.1], "b": [0.5, 0.9, 0.6], "c": [0.55, 0.8, 0.7]}
    rows = [
        {"weak_model": m, "case": f"random{s}", "bound": b, "strong_error": b + 1}
        for m, values in bounds.items()
        for s, b in zip((122, 123, 124), values)
    ]
    return pd.DataFrame(rows), bounds


def test_records_over_splits():
    records, bounds = _records()
    ranking = rank_weak_supervisors(records, random_state=0)
    assert list(ranking.index) == ["b", "c", "a"]
    values = np.array(bounds["b"])
    se = values.std(ddof=1) / np.sqrt(3)
    half = stats.t.ppf(0.975, 2) * se
    row = ranking.loc["b"]
    assert row["bound_mean"] == pytest.approx(values.mean())
    assert row["bound_std"] == pytest.approx(values.std())
    assert row["bound_se"] == pytest.approx(se)
    assert (row["bound_low"], row["bound_high"]) == pytest.approx(
        (values.mean() - half, values.mean() + half)
    )
    assert row["strong_error_mean"] == pytest.approx(values.mean() + 1)
    assert ranking["p_lowest"].sum() == pytest.approx(1.0)
    assert ranking.loc["a", "p_lowest"] == 0.0
    assert ranking.loc["b", "p_lowest"] > ranking.loc["c", "p_lowest"] > 0
    assert ranking["pick"].tolist() == [True, False, False]
    # within one SE of "b", the simpler of b and c: complexity decides
    assert ranking.loc["b", "pick_1se"]
    by_complexity = rank_weak_supervisors(records, complexity=[1, 3, 2], random_state=0)
    assert by_complexity.loc["c", "pick_1se"]
    assert by_complexity["position"].tolist() == [1, 2, 0]


def test_lowest_probability_by_exact_enumeration():
    # two splits, two candidates: resamples {1,1}, {1,2}, {2,2} with
    # probabilities 1/4, 1/2, 1/4; "x" is lower on split 1 and in {1,2}.
    records = pd.DataFrame(
        {
            "weak_model": ["x", "x", "y", "y"],
            "case": [1, 2, 1, 2],
            "bound": [0.0, 1.0, 0.5, 0.6],
        }
    )
    ranking = rank_weak_supervisors(records, n_resamples=20000, random_state=0)
    assert ranking.loc["x", "p_lowest"] == pytest.approx(0.75, abs=0.02)
    assert "strong_error_mean" not in ranking


def test_cv_results_match_the_records():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=240)
    search = GridSearchCV(
        WeakToStrongRegressor(random_state=0),
        {"weak_featurizer": [PCA(n_components=k) for k in (1, 2, 4)]},
        scoring={"bound": bound_scorer, "mse": "neg_mean_squared_error"},
        refit="bound",
        cv=PredefinedSplit(np.repeat([0, 1, 2], 80)),
    ).fit(X, y)
    ranking = rank_weak_supervisors(search, random_state=0)
    res = search.cv_results_
    assert ranking["bound_mean"].to_numpy() == pytest.approx(
        np.sort(-res["mean_test_bound"])
    )
    assert ranking.loc[ranking["pick"], "position"].item() == search.best_index_
    np.testing.assert_allclose(
        ranking.sort_values("position")["bound_std"], res["std_test_bound"]
    )
    np.testing.assert_allclose(
        ranking.sort_values("position")["strong_error_mean"], -res["mean_test_mse"]
    )
    # the same numbers from records built from the per-split scores
    records = pd.DataFrame(
        [
            {"weak_model": str(p), "case": k, "bound": -res[f"split{k}_test_bound"][i]}
            for i, p in enumerate(res["params"])
            for k in range(3)
        ]
    )
    from_records = rank_weak_supervisors(records, random_state=0)
    np.testing.assert_allclose(from_records["bound_low"], ranking["bound_low"])
    np.testing.assert_allclose(from_records["p_lowest"], ranking["p_lowest"])


def test_predictions_over_rows():
    rng = np.random.RandomState(1)
    y = rng.normal(size=400)
    preds = {
        "noisy": (y + rng.normal(size=400), y + 0.5 * rng.normal(size=400)),
        "good": (y + 0.3 * rng.normal(size=400), y + 0.2 * rng.normal(size=400)),
    }
    ranking = rank_weak_supervisors(preds, y_true=y, n_resamples=2000, random_state=0)
    # bounds -0.25 (noisy: weak error 1, misfit 1.25) and -0.04 (good)
    assert list(ranking.index) == ["noisy", "good"]
    assert ranking.loc["noisy", "p_lowest"] > 0.99
    for name, (y_weak, y_strong) in preds.items():
        rep = weak_to_strong_report(
            y,
            y_weak,
            y_strong,
            confidence_level=0.95,
            n_resamples=2000,
            random_state=0,
        )
        assert ranking.loc[name, "bound_mean"] == pytest.approx(
            bound(y, y_weak, y_strong)
        )
        low, high = rep["bound_ci"]
        assert ranking.loc[name, "bound_low"] < ranking.loc[name, "bound_mean"]
        assert ranking.loc[name, "bound_high"] - ranking.loc[name, "bound_low"] == (
            pytest.approx(high - low, rel=0.1)
        )


@pytest.mark.parametrize(
    "results, kwargs, error, message",
    [
        ([1, 2], {}, TypeError, "results"),
        ({"a": (np.zeros(3), np.zeros(3))}, {}, ValueError, "y_true"),
        ({"a": np.zeros(3)}, {"y_true": np.zeros(3)}, ValueError, "pair"),
        (
            {"a": (np.zeros(3), np.zeros(4))},
            {"y_true": np.zeros(3)},
            ValueError,
            "shape",
        ),
        ({"mean_test_x": [0.0]}, {}, ValueError, "no scorer named 'score'"),
        (
            pd.DataFrame({"weak_model": ["a"], "bound": [1.0]}),
            {},
            ValueError,
            "case",
        ),
        (
            pd.DataFrame({"weak_model": ["a", "a"], "case": [1, 1], "bound": [1, 2]}),
            {},
            ValueError,
            "one task at a time",
        ),
        (
            pd.DataFrame({"weak_model": ["a"], "case": [1], "bound": [1.0]}),
            {},
            ValueError,
            "at least 2 splits",
        ),
        (
            pd.DataFrame(
                {"weak_model": ["a", "a", "b"], "case": [1, 2, 1], "bound": [1, 2, 3]}
            ),
            {},
            ValueError,
            "paired",
        ),
    ],
)
def test_bad_input(results, kwargs, error, message):
    with pytest.raises(error, match=message):
        rank_weak_supervisors(results, **kwargs)


def test_bad_complexity():
    records, _ = _records()
    with pytest.raises(ValueError, match="complexity"):
        rank_weak_supervisors(records, complexity=[1, 2])


def test_rows_weighted_multitask_against_the_bootstrap_by_hand():
    # two tasks, uneven weights: every column is the weighted mean over the
    # kept rows of the per-row mean over tasks, the SE the spread of the
    # same resamples (drawn first from the generator), the interval BCa's
    from skwtsg.metrics._intervals import _bootstrap_means, _limits

    rng = np.random.RandomState(3)
    n = 60
    y = rng.normal(size=(n, 2))
    preds = {
        "wide": (y + rng.normal(size=(n, 2)), y + 0.4 * rng.normal(size=(n, 2))),
        "tight": [y + 0.5 * rng.normal(size=(n, 2)), y + 0.1 * rng.normal(size=(n, 2))],
    }
    w = rng.uniform(0.5, 3.0, size=n)
    w[:5] = 0.0  # rows of zero weight are left out
    ranking = rank_weak_supervisors(
        preds,
        y_true=y,
        sample_weight=w,
        n_resamples=999,
        confidence_level=0.9,
        random_state=0,
    ).sort_values("position")
    assert ranking.index.name == "candidate"
    assert list(ranking.index) == ["wide", "tight"]
    assert ranking["position"].tolist() == [0, 1]
    keep = w > 0
    bounds = np.column_stack(
        [
            ((y - yw) ** 2).mean(axis=1) - ((yw - ys) ** 2).mean(axis=1)
            for yw, ys in preds.values()
        ]
    )[keep]
    errors = np.column_stack(
        [((y - ys) ** 2).mean(axis=1) for _, ys in preds.values()]
    )[keep]
    mean = (w[keep] @ bounds) / w[keep].sum()
    np.testing.assert_allclose(ranking["bound_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(
        ranking["strong_error_mean"], (w[keep] @ errors) / w[keep].sum(), rtol=1e-12
    )
    deltas, jackknife = _bootstrap_means(
        bounds, w[keep], n_resamples=999, rng=np.random.default_rng(0)
    )
    se = np.sqrt(((deltas - deltas.mean(axis=1, keepdims=True)) ** 2).sum(axis=1) / 998)
    np.testing.assert_allclose(ranking["bound_se"], se, rtol=1e-10)
    low, high = _limits(mean, deltas, jackknife, 0.9, "bca")
    np.testing.assert_allclose(ranking["bound_low"], low, rtol=1e-10)
    np.testing.assert_allclose(ranking["bound_high"], high, rtol=1e-10)


def test_rows_two_rows_of_positive_weight_are_enough():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    shift = np.array([0.5, 0.5, 0.0, 0.0])
    preds = {
        "a": (y + [1.0, 2.0, 0, 0], y + shift),
        "b": (y + [0.5, 0.1, 0, 0], y + shift),
    }
    w = [1.0, 1.0, 0.0, 0.0]
    ranking = rank_weak_supervisors(
        preds, y_true=y, sample_weight=w, n_resamples=999, method="percentile",
        random_state=0,
    )
    # weak errors 1 and 4, misfits 0.25 and 2.25 on the two kept rows
    assert ranking.loc["a", "bound_mean"] == pytest.approx(1.25)
    with pytest.raises(
        ValueError,
        match=r"^Ranking over rows needs at least 2 rows of positive weight\.$",
    ):
        rank_weak_supervisors(
            preds, y_true=y, sample_weight=[1.0, 0, 0, 0], n_resamples=999
        )


def test_rows_overflow_is_an_error_without_warnings():
    big = np.full(4, 1e200)
    y = np.zeros(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            ValueError,
            match=r"^The per-row bound of 'a' is not finite \(float64 overflow\)",
        ):
            rank_weak_supervisors({"a": (big, -big)}, y_true=y, n_resamples=999)


@pytest.mark.parametrize(
    "preds, y_true, message",
    [
        ({"a": (np.zeros(3), np.zeros(3))}, None,
         "`y_true` is needed to rank a mapping of predictions by the bound."),
        ({"a": (np.zeros(3), np.zeros(3), np.zeros(3))}, np.zeros(3),
         "`results`['a'] must be a pair (y_weak, y_strong)."),
        ({"a": (np.zeros(4), np.zeros(4))}, np.zeros(3),
         "The predictions of 'a' must have the shape of `y_true`, (3, 1)."),
        ({"a": (np.zeros((3, 2)), np.zeros((3, 2)))}, np.zeros(3),
         "The predictions of 'a' must have the shape of `y_true`, (3, 1)."),
    ],
)
def test_rows_bad_input_messages(preds, y_true, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        rank_weak_supervisors(preds, y_true=y_true, n_resamples=999)


def test_rows_y_true_is_named():
    with pytest.raises(ValueError, match="`y_true`"):
        rank_weak_supervisors(
            {"a": (np.zeros(3), np.zeros(3))},
            y_true=[0.0, np.nan, 1.0],
            n_resamples=999,
        )


def _split_records(bounds, errors=None):
    rows = []
    for m, values in bounds.items():
        for s, b in enumerate(values):
            row = {"weak_model": m, "case": s, "bound": b}
            if errors is not None:
                row["strong_error"] = errors[m][s]
            rows.append(row)
    return pd.DataFrame(rows)


def test_splits_strong_error_spread_and_labels():
    bounds = {"a": [1.0, 2.0, 4.0], "b": [0.0, 0.5, 0.7]}
    errors = {"a": [1.0, 1.0, 1.0], "b": [0.0, 3.0, 9.0]}
    ranking = rank_weak_supervisors(_split_records(bounds, errors), random_state=0)
    assert ranking.index.name == "weak_model"
    for m in bounds:
        assert ranking.loc[m, "strong_error_std"] == pytest.approx(np.std(errors[m]))
        assert ranking.loc[m, "strong_error_mean"] == pytest.approx(
            np.mean(errors[m])
        )


def test_splits_tied_candidates_share_p_lowest():
    # "a" and "b" are equal on every split: in every resample they tie
    bounds = {"a": [0.1, 0.3, 0.2], "b": [0.1, 0.3, 0.2], "c": [5.0, 6.0, 7.0]}
    ranking = rank_weak_supervisors(_split_records(bounds), random_state=0)
    assert ranking["p_lowest"].tolist() == [0.5, 0.5, 0.0]


def test_splits_p_lowest_of_a_skewed_candidate():
    # x = 0, 0, 0, 6 (mean 1.5) against a constant 1.4: x's resampled mean,
    # 1.5 k with k draws of the 6 among 4, is lower only when k = 0
    bounds = {"x": [0.0, 0.0, 0.0, 6.0], "y": [1.4] * 4}
    ranking = rank_weak_supervisors(
        _split_records(bounds), n_resamples=20000, random_state=0
    )
    assert ranking.loc["x", "p_lowest"] == pytest.approx(0.75**4, abs=0.02)


def test_one_se_rule_includes_the_edge():
    # "b": mean 1, SE sqrt(2) / sqrt(2) = 1; "c" at exactly mean 2 is within
    bounds = {"b": [0.0, 2.0], "c": [2.0, 2.0]}
    ranking = rank_weak_supervisors(
        _split_records(bounds), complexity=[2, 1], random_state=0
    )
    assert ranking.loc["b", "bound_se"] == 1.0
    assert ranking.loc["c", "bound_mean"] == 2.0
    assert ranking["pick_1se"].tolist() == [False, True]


@pytest.mark.parametrize(
    "records, message",
    [
        (
            pd.DataFrame({"weak_model": ["a"], "case": [1], "bound": [1.0]}),
            "The bound's uncertainty over splits needs at least 2 splits, got 1.",
        ),
        (
            _split_records({"a": [1.0, np.inf]}),
            "`results` holds a non-finite bound.",
        ),
        (
            _split_records({"a": [1.0, 2.0]}, {"a": [1.0, -np.inf]}),
            "`results` holds a non-finite strong error.",
        ),
        (
            pd.DataFrame({"weak_model": ["a", "a"], "case": [1, 1], "bound": [1, 2]}),
            "`results` (records) has several rows for one (weak_model, case) "
            "pair: rank one task at a time (select one panel).",
        ),
    ],
)
def test_splits_bad_input_messages(records, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        rank_weak_supervisors(records)


@pytest.mark.parametrize(
    "values",
    [
        [1e200, -1e200],  # the spread overflows
        # the sums of the mean overflow both ways: inf - inf
        [1e308, -1e308] + [0.0] * 6 + [1e308, -1e308] + [0.0] * 6,
    ],
)
def test_splits_overflow_is_an_error_without_warnings(values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            ValueError,
            match=r"^The spread of the bounds over splits is not finite \(float64 ",
        ):
            rank_weak_supervisors(
                _split_records({"a": values, "b": [0.0] * len(values)})
            )


def _cv_results(params=True):
    # two candidates, two splits, scorers "loss" (the bound) and "err"
    res = {
        "mean_test_loss": np.array([-1.0, -2.0]),
        "split0_test_loss": np.array([-1.0, -1.5]),
        "split1_test_loss": np.array([-1.0, -2.5]),
        "mean_test_err": np.array([-3.0, -4.0]),
        "split0_test_err": np.array([-3.0, -4.0]),
        "split1_test_err": np.array([-3.0, -4.0]),
    }
    if params:
        res["params"] = [{"k": 1}, {"k": 2}]
    return res


def test_cv_results_named_scorers_without_params():
    ranking = rank_weak_supervisors(
        _cv_results(params=False), bound="loss", true_error="err", random_state=0
    ).sort_values("position")
    assert ranking.index.name == "candidate"
    assert ranking.index.tolist() == [0, 1]
    np.testing.assert_allclose(ranking["bound_mean"], [1.0, 2.0])
    np.testing.assert_allclose(ranking["strong_error_mean"], [3.0, 4.0])
    labelled = rank_weak_supervisors(_cv_results(), bound="loss", random_state=0)
    assert labelled.index.name == "candidate"
    assert labelled.index.tolist() == ["k=1", "k=2"]
    # the only other scorer is the true error
    np.testing.assert_allclose(labelled["strong_error_mean"], [3.0, 4.0])


@pytest.mark.parametrize(
    "results, kwargs, message",
    [
        (
            {"mean_test_x": [0.0]},
            {},
            "`bound`: the search has no scorer named 'score' (it has ['x']); "
            "score it with skwtsg.bound_scorer.",
        ),
        (
            _cv_results(),
            {"bound": "loss", "true_error": "mse"},
            "`true_error`: the search has no scorer named 'mse' (it has "
            "['loss', 'err']).",
        ),
        (
            {"mean_test_score": [0.0], "split0_test_other": [1.0]},
            {},
            "`results` has no per-split scores for 'score'.",
        ),
    ],
)
def test_cv_results_bad_input_messages(results, kwargs, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        rank_weak_supervisors(results, **kwargs)


def test_a_search_without_test_scores_is_refused():
    from skwtsg.metrics._selection import _bound_scorer

    with pytest.raises(
        ValueError,
        match=r"^The search has no test scores \(no 'mean_test_\*' key\)\.$",
    ):
        _bound_scorer({"params": [{}]}, None)
