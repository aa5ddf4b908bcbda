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
