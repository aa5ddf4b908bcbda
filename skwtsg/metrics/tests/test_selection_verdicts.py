"""Every selection output says whether the pick is real: readable labels,
paired differences with the pick, their unit, a verdict, and how often the
bound held."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, RepeatedKFold
from sklearn.tree import DecisionTreeRegressor

from skwtsg import WeakSupervisorSearch, WeakToStrongRegressor, bound_scorer
from skwtsg.experiments import selection_table
from skwtsg.metrics import rank_weak_supervisors


@pytest.fixture(scope="module")
def search():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6)) * [3, 2, 1, 1, 0.3, 0.2]
    y = X @ rng.normal(size=6) + rng.normal(size=300)
    return GridSearchCV(
        WeakToStrongRegressor(random_state=0),
        {"weak_featurizer": [PCA(n_components=k) for k in (3, 4, 5)]},
        scoring={"bound": bound_scorer, "mse": "neg_mean_squared_error"},
        refit="bound",
        cv=RepeatedKFold(n_splits=3, n_repeats=2, random_state=0),
    ).fit(X, y)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_ranking_over_splits(search):
    ranking = rank_weak_supervisors(search, random_state=0)
    assert list(ranking.index) == [
        "n_components=5",
        "n_components=4",
        "n_components=3",
    ]
    assert ranking["bound_mean"].is_monotonic_increasing
    assert "splits" in ranking.attrs["unit"]
    assert "Theorem 2" in ranking.attrs["bound_held"]
    results = search.cv_results_
    splits = [k for k in results if k.startswith("split") and k.endswith("_bound")]
    bounds = -np.column_stack([results[k] for k in splits])
    errors = -np.column_stack([results[k.replace("_bound", "_mse")] for k in splits])
    for _, row in ranking.iterrows():
        i = row["position"]
        np.testing.assert_allclose(row["bound_held"], np.mean(errors[i] <= bounds[i]))
        if row["pick"]:
            assert row["verdict"] == "the pick"
            continue
        pick = ranking.loc[ranking["pick"], "position"].iloc[0]
        diff = bounds[i] - bounds[pick]
        low, high = stats.ttest_1samp(diff, 0).confidence_interval(0.95)
        np.testing.assert_allclose(
            [row["difference_low"], row["difference_high"]], [low, high]
        )
        word = "higher" if low > 0 else "lower" if high < 0 else "indistinguishable"
        assert row["verdict"] == f"{word} at 95%"


def test_ranking_over_rows_and_the_search_agree_on_the_words():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(600, 5))
    y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=600)
    search = WeakSupervisorSearch(
        {
            "depth 1": DecisionTreeRegressor(max_depth=1, random_state=0),
            "depth 3": DecisionTreeRegressor(max_depth=3, random_state=0),
        },
        random_state=0,
        n_resamples=999,
    ).fit(X, y)
    results = search.results_
    assert "Theorem 2" in results.attrs["bound_held"]
    np.testing.assert_array_equal(
        results["bound_held"], results["strong_error"] <= results["bound"]
    )
    held_out = search.roles_ == "eval"
    predictions = {
        name: (
            search.predict_weak(X[held_out], name),
            search.predict(X[held_out], name),
        )
        for name in results.index
    }
    ranking = rank_weak_supervisors(
        predictions, y_true=y[held_out], n_resamples=999, random_state=0
    )
    assert ranking.index[0] == search.best_
    assert "rows" in ranking.attrs["unit"]
    assert set(ranking["verdict"]) <= {
        "the pick",
        "higher at 95%",
        "indistinguishable at 95%",
    }
    np.testing.assert_allclose(
        ranking["bound_difference"], ranking["bound_mean"] - ranking["bound_mean"].min()
    )


def test_selection_table_carries_the_paired_comparison():
    records = pd.DataFrame(
        {
            "weak_model": ["a"] * 3 + ["b"] * 3,
            "case": ["s1", "s2", "s3"] * 2,
            "bound": [1.0, 1.3, 0.9, 0.5, 0.6, 0.4],
            "strong_error": [0.9, 1.4, 1.0, 0.6, 0.5, 0.3],
        }
    )
    table, _ = selection_table(records)
    assert table.loc["b", "verdict"] == "the pick"
    assert table.loc["a", "verdict"] == "higher at 95%"
    np.testing.assert_allclose(table.loc["a", "bound_held"], 1 / 3)
    np.testing.assert_allclose(table.loc["b", "bound_held"], 2 / 3)
