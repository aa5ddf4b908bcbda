import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skwtsg
from skwtsg.plot import WeakModelSelectionDisplay

# The paper's Table 3 (FreeSolv): the heuristic's pick is not the best model.
TABLE3 = pd.DataFrame(
    {
        "weak_model": ["32", "96", "64", "12", "48", "16", "24", "8"],
        "bound_mean": [-0.1588, 1.0896, 2.9062, 2.9758, 3.0038, 4.8560, 6.4952, 6.7586],
        "bound_std": [1.0254, 1.0111, 2.8130, 2.8664, 1.3063, 2.5910, 4.9463, 0.9997],
        "strong_error_mean": [
            4.9967,
            4.7828,
            3.8404,
            9.5102,
            4.5212,
            7.3637,
            6.5863,
            10.4474,
        ],
        "strong_error_std": [
            0.5656,
            2.2787,
            0.5906,
            2.4511,
            0.3936,
            1.1048,
            1.2709,
            1.6261,
        ],
    }
)


def _weak(n_components):
    # Non-linear, so the weak model is not in the strong model's span.
    return make_pipeline(PCA(n_components=n_components), FunctionTransformer(np.tanh))


@pytest.fixture(scope="module")
def search():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 6))
    y = X @ rng.normal(size=6) + 0.1 * rng.normal(size=240)
    return GridSearchCV(
        skwtsg.WeakToStrongRegressor(random_state=0),
        {"weak_featurizer": [_weak(k) for k in (1, 2, 4, 6)]},
        scoring={"bound": skwtsg.bound_scorer, "mse": "neg_mean_squared_error"},
        refit="bound",
        cv=3,
    ).fit(X, y)


def _fake_cv_results(n_splits=3):
    return {
        "params": [{"w__n_components": k, "head__alpha": 1.0} for k in (1, 2, 3)],
        "mean_test_bound": np.array([-0.9, -0.5, -0.7]),
        "std_test_bound": np.array([0.1, 0.2, 0.1]),
        "mean_test_mse": np.array([-1.2, -0.9, -0.8]),
        "std_test_mse": np.array([0.05, 0.1, 0.02]),
        "mean_test_r2": np.array([0.1, 0.3, 0.2]),
    }


def _points(display):
    return display.errorbar_.lines[0].get_xydata()


@pytest.mark.parametrize("constructor", ["init", "from_cv_results", "from_results"])
def test_display_attributes(pyplot, search, constructor):
    if constructor == "init":
        display = WeakModelSelectionDisplay(
            bound=[0.2, 0.1, 0.4], true_error=[0.5, 0.6, 0.55], labels=["a", "b", "c"]
        ).plot()
        n, pick, best = 3, 1, 0
    elif constructor == "from_cv_results":
        display = WeakModelSelectionDisplay.from_cv_results(search)
        n, pick = 4, search.best_index_
        best = int(np.argmax(search.cv_results_["mean_test_mse"]))
    else:
        display = WeakModelSelectionDisplay.from_results(TABLE3)
        n, pick, best = 8, 0, 2
    assert isinstance(display, WeakModelSelectionDisplay)
    assert display.ax_.figure is display.figure_
    assert isinstance(display.figure_, pyplot.Figure)
    points = _points(display)
    assert points.shape == (n, 2)
    assert_allclose(points[:, 0], display.bound)
    assert_allclose(points[:, 1], display.true_error)
    assert display.pick_index_ == pick and display.best_index_ == best
    assert_allclose(display.pick_.get_xydata(), points[[pick]])
    assert_allclose(display.best_.get_xydata(), points[[best]])
    assert len(display.annotations_) == n
    # The reference line is true error = bound.
    assert display.line_.get_slope() == 1.0
    assert display.ax_.get_xlabel().startswith("Bound")
    assert display.ax_.get_ylabel().startswith("True error")
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert "pick: smallest bound" in legend and "true error = bound" in legend


def test_from_cv_results_values(pyplot, search):
    results = search.cv_results_
    display = WeakModelSelectionDisplay.from_cv_results(search)
    assert_allclose(display.bound, -results["mean_test_bound"])
    assert_allclose(display.bound_std, results["std_test_bound"])
    assert_allclose(display.true_error, -results["mean_test_mse"])
    assert_allclose(display.true_error_std, results["std_test_mse"])
    assert [a.get_text() for a in display.annotations_] == [
        f"n_components={k}" for k in (1, 2, 4, 6)
    ]
    # Error bars: one horizontal and one vertical segment per candidate.
    assert len(display.errorbar_.lines[2]) == 2


def test_from_cv_results_dict_and_options(pyplot):
    results = _fake_cv_results()
    # A third scorer (r2) does not hide the one named "mse".
    default = WeakModelSelectionDisplay.from_cv_results(results)
    assert_allclose(default.true_error, [1.2, 0.9, 0.8])
    # Without a recognisable name, the error says what to pass.
    renamed = {k.replace("_mse", "_err"): v for k, v in results.items()}
    with pytest.raises(ValueError, match="`true_error` is needed.*true_error='err'"):
        WeakModelSelectionDisplay.from_cv_results(renamed)
    display = WeakModelSelectionDisplay.from_cv_results(results, true_error="mse")
    assert_allclose(display.true_error, [1.2, 0.9, 0.8])
    assert_allclose(display.true_error_std, [0.05, 0.1, 0.02])
    assert display.pick_index_ == 1 and display.best_index_ == 2
    # Only the varying parameter is written, with the last part of its key.
    assert [a.get_text() for a in display.annotations_] == [
        "n_components=1",
        "n_components=2",
        "n_components=3",
    ]
    given = WeakModelSelectionDisplay.from_cv_results(
        results, true_error=[0.3, 0.2, 0.1], labels=["x", "y", "z"], annotate=False
    )
    assert_allclose(given.true_error, [0.3, 0.2, 0.1])
    assert given.true_error_std is None and given.annotations_ == []
    assert given.best_index_ == 2


def test_params_labels():
    from sklearn.linear_model import Ridge

    from skwtsg.plot._search import _params_labels

    labels = _params_labels(
        [
            {"weak_featurizer": _weak(1), "head": Ridge(alpha=1.0)},
            {"weak_featurizer": _weak(2), "head": Ridge(alpha=1.0)},
            {"weak_featurizer": PCA(2), "head": Ridge(alpha=2.0)},
        ]
    )
    # The class varies, then the pipeline's n_components, then alpha.
    assert labels == [
        "Pipeline, n_components=1, alpha=1.0",
        "Pipeline, n_components=2, alpha=1.0",
        "PCA, alpha=2.0",
    ]
    # Candidates that differ only in ways a label cannot show get numbers.
    same = _params_labels([{"a": np.zeros(50)}, {"a": np.r_[np.zeros(49), 1]}])
    assert same[0].startswith("0: ") and same[1].startswith("1: ")


def test_from_cv_results_single_metric(pyplot):
    results = {
        "params": [{"a": 1}, {"a": 2}],
        "mean_test_score": np.array([-0.4, -0.2]),
        "std_test_score": np.array([0.0, 0.0]),
    }
    with pytest.raises(ValueError, match="`true_error` is needed"):
        WeakModelSelectionDisplay.from_cv_results(results)
    display = WeakModelSelectionDisplay.from_cv_results(results, true_error=[1.0, 2.0])
    assert_allclose(display.bound, [0.4, 0.2])
    assert display.pick_index_ == 1


def test_from_cv_results_bad_input(pyplot):
    results = _fake_cv_results()
    with pytest.raises(ValueError, match="`bound`: the search has no scorer"):
        WeakModelSelectionDisplay.from_cv_results(results, bound="nope")
    with pytest.raises(ValueError, match="`true_error`: the search has no scorer"):
        WeakModelSelectionDisplay.from_cv_results(results, true_error="nope")
    with pytest.raises(ValueError, match="`true_error` must have one value"):
        WeakModelSelectionDisplay.from_cv_results(results, true_error=[1.0])
    with pytest.raises(ValueError, match="no `cv_results_`"):
        WeakModelSelectionDisplay.from_cv_results(
            GridSearchCV(skwtsg.WeakToStrongRegressor(), {})
        )


def test_from_results_pick_column_and_csv(pyplot, tmp_path):
    table = TABLE3.assign(pick=[False, False, True] + [False] * 5)
    path = tmp_path / "table3.csv"
    table.to_csv(path, index=False)
    display = WeakModelSelectionDisplay.from_results(path)
    assert display.pick_index_ == 2
    assert [a.get_text() for a in display.annotations_] == list(TABLE3.weak_model)
    # The std columns are optional.
    bare = WeakModelSelectionDisplay.from_results(
        TABLE3.drop(columns=["bound_std", "strong_error_std"])
    )
    assert bare.bound_std is None and bare.true_error_std is None
    assert _points(bare).shape == (8, 2)
    # selection_table() keeps the weak models in the index.
    indexed = WeakModelSelectionDisplay.from_results(table.set_index("weak_model"))
    assert indexed.pick_index_ == 2
    assert [a.get_text() for a in indexed.annotations_] == list(TABLE3.weak_model)


def test_from_results_bad_input(pyplot):
    with pytest.raises(ValueError, match="`table` lacks the column"):
        WeakModelSelectionDisplay.from_results(TABLE3.drop(columns="bound_mean"))
    with pytest.raises(ValueError, match="'pick' column must be True on exactly"):
        WeakModelSelectionDisplay.from_results(TABLE3.assign(pick=True))
    with pytest.raises(TypeError, match="`table` must be a pandas DataFrame"):
        WeakModelSelectionDisplay.from_results({"weak_model": ["a"]})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bound": [0.1, 0.2], "true_error": [0.3]}, "`true_error` has 1 values"),
        ({"bound": [0.1], "true_error": [-0.3]}, "`true_error` must be non-neg"),
        ({"bound": [np.inf], "true_error": [0.3]}, "`bound` contains NaN or inf"),
        ({"bound": [0.1], "true_error": [0.3], "bound_std": [1, 2]}, "`bound_std`"),
        (
            {"bound": [0.1], "true_error": [0.3], "true_error_std": [-1]},
            "`true_error_std` must be finite and non-negative",
        ),
        ({"bound": [0.1], "true_error": [0.3], "pick": 1}, "`pick` must be None"),
        ({"bound": [0.1], "true_error": [0.3], "labels": ["a", "b"]}, "`labels`"),
    ],
)
def test_plot_bad_input(pyplot, kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeakModelSelectionDisplay(**kwargs).plot()


def test_plot_on_given_axes_without_legend(pyplot):
    fig, ax = pyplot.subplots()
    display = WeakModelSelectionDisplay(bound=[0.1, 0.2], true_error=[0.3, 0.1]).plot(
        ax=ax, legend=False, errorbar_kwargs={"color": "green"}
    )
    assert display.ax_ is ax and display.figure_ is fig
    assert ax.get_legend() is None
    assert display.annotations_ == []  # no labels, nothing written
    assert display.errorbar_.lines[0].get_color() == "green"


def test_labels_do_not_overlap(pyplot):
    # Candidates whose points nearly coincide (the ESOL figure's k=32, k=48).
    bound = np.array([0.10, 0.101, 0.102, 0.5, 0.103])
    error = np.array([1.00, 1.001, 1.002, 1.3, 1.0015])
    display = WeakModelSelectionDisplay(
        bound=bound, true_error=error, labels=[f"k={k}" for k in (16, 32, 48, 64, 96)]
    ).plot()
    renderer = display.figure_.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in display.annotations_]
    assert len(boxes) == 5
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (i, j)


def test_from_predictions_and_from_estimator(pyplot):
    from sklearn.decomposition import PCA

    from skwtsg import WeakToStrongRegressor
    from skwtsg.metrics import weak_to_strong_report

    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 5))
    y = X @ rng.normal(size=5)
    models = [
        WeakToStrongRegressor(PCA(k), random_state=0).fit(X[:160], y[:160])
        for k in (1, 2, 4)
    ]
    display = WeakModelSelectionDisplay.from_estimator(models, X[160:], y[160:])
    for i, model in enumerate(models):
        report = weak_to_strong_report(
            y[160:], model.predict_weak(X[160:]), model.predict(X[160:])
        )
        assert display.bound[i] == pytest.approx(report["bound"])
        assert display.true_error[i] == pytest.approx(report["strong_error"])
    assert [a.get_text() for a in display.annotations_] == [
        "model 0",
        "model 1",
        "model 2",
    ]
    with pytest.raises(ValueError, match="`y_weak` has 2 candidates"):
        WeakModelSelectionDisplay.from_predictions(y, [y, y], [y])


def test_style_aliases(pyplot):
    display = WeakModelSelectionDisplay(bound=[0.1, 0.2], true_error=[0.3, 0.2]).plot(
        errorbar_kwargs={"c": "red"}, line_kwargs={"ls": ":"}
    )
    assert display.errorbar_.lines[0].get_color() == "red"
    assert display.line_.get_linestyle() == ":"


def _xerr(display):
    """The horizontal extents (left, right) of the error bars, per candidate."""
    segments = display.errorbar_.lines[2][0].get_segments()
    return np.array([[s[0][0], s[1][0]] for s in segments])


def test_intervals_as_error_bars(pyplot, search):
    from skwtsg.metrics import rank_weak_supervisors

    display = WeakModelSelectionDisplay.from_cv_results(search, confidence_level=0.9)
    ranking = rank_weak_supervisors(search, confidence_level=0.9).sort_values(
        "position"
    )
    assert_allclose(_xerr(display), ranking[["bound_low", "bound_high"]].to_numpy())
    assert display.bound_std is None
    # without a level: the standard deviation over splits, as before
    plain = WeakModelSelectionDisplay.from_cv_results(search)
    bound = -search.cv_results_["mean_test_bound"]
    std = search.cv_results_["std_test_bound"]
    assert_allclose(_xerr(plain), np.c_[bound - std, bound + std])


def test_intervals_from_predictions_and_tables(pyplot):

    from skwtsg import WeakToStrongRegressor
    from skwtsg.metrics import weak_to_strong_report

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=300)
    models = [
        WeakToStrongRegressor(_weak(k), random_state=0).fit(X[:150], y[:150])
        for k in (1, 3)
    ]
    display = WeakModelSelectionDisplay.from_estimator(
        models, X[150:], y[150:], confidence_level=0.95, random_state=0
    )
    for i, model in enumerate(models):
        report = weak_to_strong_report(
            y[150:],
            model.predict_weak(X[150:]),
            model.predict(X[150:]),
            confidence_level=0.95,
            random_state=0,
        )
        assert_allclose(_xerr(display)[i], report["bound_ci"])
    table = TABLE3.assign(
        bound_low=TABLE3["bound_mean"] - 1.0, bound_high=TABLE3["bound_mean"] + 2.0
    )
    from_table = WeakModelSelectionDisplay.from_results(table)
    assert_allclose(_xerr(from_table), table[["bound_low", "bound_high"]].to_numpy())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bound_ci": [[0.0, 1.0, 2.0]]}, r"shape \(1, 2\)"),
        ({"bound_ci": [[0.2, 1.0]]}, "must hold its candidate's value"),
        ({"bound_ci": [[np.nan, 1.0]]}, "must be finite"),
        ({"bound_ci": [[0.0, 1.0]], "bound_std": [0.1]}, "not both"),
    ],
)
def test_bad_intervals(pyplot, kwargs, match):
    with pytest.raises(ValueError, match=match):
        WeakModelSelectionDisplay(bound=[0.1], true_error=[0.3], **kwargs).plot()
