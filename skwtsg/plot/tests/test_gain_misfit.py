import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import skwtsg.plot
from skwtsg import WeakToStrongRegressor
from skwtsg.plot import GainMisfitDisplay

N_TASKS = 3


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 6))
    Y = X @ rng.normal(size=(6, N_TASKS)) + 0.1 * rng.normal(size=(240, N_TASKS))
    roles = np.array(["weak"] * 80 + ["strong"] * 80 + ["eval"] * 80)
    return X, Y, roles


@pytest.fixture(scope="module")
def fitted(data):
    X, Y, roles = data
    # Non-linear weak representations: their predictions leave the strong
    # model's (linear) span, so the misfit is not zero.
    return [
        WeakToStrongRegressor(
            make_pipeline(PCA(n_components=k), FunctionTransformer(np.tanh)),
            random_state=0,
        ).fit(X, Y, roles=roles)
        for k in (1, 3)
    ]


def _results_table():
    rng = np.random.RandomState(1)
    rows = []
    for weak_model in ["hidden=8", "hidden=16", "hidden=96"]:
        for task in range(4):
            misfit = rng.uniform(0.1, 1.0)
            gain = misfit + rng.normal(scale=0.02)
            rows.append(
                {
                    "group": "synthetic",
                    "case": "2a",
                    "weak_model": weak_model,
                    "task": f"task{task}",
                    "weak_error": 2.0,
                    "strong_error": 2.0 - gain,
                    "misfit": misfit,
                    "gain": gain,
                    "bound": 2.0 - misfit,
                    "train_weak_error": 2.0,
                    "train_strong_error": 2.0 - misfit,
                    "train_misfit": misfit * 1.1,
                    "train_gain": misfit * 1.1,
                    "train_bound": 2.0 - misfit * 1.1,
                }
            )
    return pd.DataFrame(rows)


class _Fixed(RegressorMixin, BaseEstimator):
    """A 'fitted' weak-to-strong stand-in returning fixed predictions."""

    def __init__(self, y_weak, y_strong):
        self.y_weak = y_weak
        self.y_strong = y_strong

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return self.y_strong

    def predict_weak(self, X):
        return self.y_weak


def _n_points(display):
    return sum(len(s.get_offsets()) for s in display.scatter_)


def _make(constructor, data, fitted):
    """Build a display with every constructor; return (display, n_points)."""
    X, Y, roles = data
    ev = roles == "eval"
    if constructor == "init":
        return GainMisfitDisplay(misfit=[0.1, 0.5, 0.9], gain=[0.2, 0.4, 1.0]).plot(), 3
    if constructor == "from_predictions":
        est = fitted[0]
        return (
            GainMisfitDisplay.from_predictions(
                Y[ev], est.predict_weak(X[ev]), est.predict(X[ev])
            ),
            N_TASKS,
        )
    if constructor == "from_estimator":
        return (
            GainMisfitDisplay.from_estimator(fitted, X[ev], Y[ev]),
            2 * N_TASKS,
        )
    table = _results_table()
    return GainMisfitDisplay.from_results(table), len(table)


@pytest.mark.parametrize(
    "constructor", ["init", "from_predictions", "from_estimator", "from_results"]
)
def test_display_attributes(pyplot, data, fitted, constructor):
    display, n_points = _make(constructor, data, fitted)
    assert isinstance(display, GainMisfitDisplay)
    assert display.ax_.figure is display.figure_
    assert isinstance(display.figure_, pyplot.Figure)
    assert _n_points(display) == n_points
    assert np.asarray(display.misfit).shape == (n_points,)
    # The reference line is y = x and spans every point.
    xdata, ydata = display.line_.get_data()
    assert_allclose(xdata, ydata)
    assert xdata.min() <= np.min(display.misfit)
    assert xdata.max() >= max(np.max(display.misfit), np.max(display.gain))
    assert display.ax_.get_xlabel().startswith("Misfit")
    assert display.ax_.get_ylabel().startswith("Gain: weak error − strong error")
    assert "accuracy" not in display.ax_.get_ylabel()
    assert display.fit_line_ is None and display.slope_ is None


def test_from_predictions_values(pyplot):
    rng = np.random.RandomState(0)
    y_true = rng.normal(size=(50, 2))
    y_weak = y_true + rng.normal(size=(50, 2))
    y_strong = y_true + 0.3 * rng.normal(size=(50, 2))
    weights = rng.uniform(0.5, 2.0, size=50)
    display = GainMisfitDisplay.from_predictions(
        y_true, y_weak, y_strong, sample_weight=weights
    )
    for task in range(2):
        weak = np.average((y_weak[:, task] - y_true[:, task]) ** 2, weights=weights)
        strong = np.average((y_strong[:, task] - y_true[:, task]) ** 2, weights=weights)
        mis = np.average((y_strong[:, task] - y_weak[:, task]) ** 2, weights=weights)
        assert_allclose(display.misfit[task], mis)
        assert_allclose(display.gain[task], weak - strong)
    offsets = display.scatter_[0].get_offsets()
    assert_allclose(offsets[:, 0], display.misfit)
    assert_allclose(offsets[:, 1], display.gain)

    one = GainMisfitDisplay.from_predictions(y_true[:, 0], y_weak[:, 0], y_strong[:, 0])
    assert _n_points(one) == 1
    unweighted = GainMisfitDisplay.from_predictions(y_true, y_weak, y_strong)
    assert_allclose(one.misfit, unweighted.misfit[:1])


def test_from_estimator_uses_predict_and_predict_weak(pyplot):
    y_true = np.array([0.0, 1.0, 2.0, 3.0])
    y_weak = np.array([1.0, 1.0, 1.0, 1.0])
    y_strong = np.array([0.5, 1.0, 1.5, 2.0])
    est = _Fixed(y_weak, y_strong).fit(None)
    display = GainMisfitDisplay.from_estimator(est, np.zeros((4, 1)), y_true)
    assert_allclose(display.misfit, [np.mean((y_strong - y_weak) ** 2)])
    assert_allclose(
        display.gain,
        [np.mean((y_weak - y_true) ** 2) - np.mean((y_strong - y_true) ** 2)],
    )


def test_from_estimator_matches_fitted_diagnostics(pyplot, data, fitted):
    # Evaluated on the eval rows, the display shows the estimator's own
    # diagnostics (measured on those rows during fit).
    X, Y, roles = data
    ev = roles == "eval"
    display = GainMisfitDisplay.from_estimator(
        fitted, X[ev], Y[ev], labels=["PCA(1)", "PCA(3)"]
    )
    assert np.all(display.misfit > 1e-3)
    assert_allclose(display.misfit, np.concatenate([e.misfit_ for e in fitted]))
    assert_allclose(display.gain, np.concatenate([e.gain_ for e in fitted]))
    assert list(display.labels) == ["PCA(1)"] * N_TASKS + ["PCA(3)"] * N_TASKS
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["gain = misfit", "PCA(1)", "PCA(3)"]


def test_from_estimator_default_labels(pyplot, data, fitted):
    X, Y, roles = data
    several = GainMisfitDisplay.from_estimator(fitted, X, Y)
    assert [s.get_label() for s in several.scatter_] == ["model 0", "model 1"]
    single = GainMisfitDisplay.from_estimator(fitted[0], X, Y)
    assert single.labels is None and len(single.scatter_) == 1


def test_from_estimator_not_fitted(pyplot, data):
    X, Y, _ = data
    with pytest.raises(NotFittedError):
        GainMisfitDisplay.from_estimator(WeakToStrongRegressor(), X, Y)


def test_from_results_columns_and_hue(pyplot, tmp_path):
    table = _results_table()
    table.loc[0, "train_gain"] = np.nan  # e.g. unlabelled strong rows
    path = tmp_path / "results.csv"
    table.to_csv(path, index=False)
    display = GainMisfitDisplay.from_results(
        path, x="train_misfit", y="train_gain", hue=None
    )
    assert _n_points(display) == len(table) - 1
    assert_allclose(display.misfit, table["train_misfit"].to_numpy()[1:])
    assert_allclose(display.gain, table["train_gain"].to_numpy()[1:])
    assert "training" in display.ax_.get_xlabel()
    assert "training" in display.ax_.get_ylabel()
    assert len(display.scatter_) == 1

    by_model = GainMisfitDisplay.from_results(table, hue="weak_model")
    labels = [s.get_label() for s in by_model.scatter_]
    assert labels == ["hidden=8", "hidden=16", "hidden=96"]  # first appearance
    legend = [t.get_text() for t in by_model.ax_.get_legend().get_texts()]
    assert legend[1:] == labels
    for scatter, label in zip(by_model.scatter_, labels):
        rows = table[table.weak_model == label]
        assert_allclose(scatter.get_offsets()[:, 0], rows["misfit"])


def test_color_by(pyplot):
    misfit = np.array([0.1, 0.5, 0.9, 0.3])
    eps = np.array([0.0, 0.2, 0.4, 0.1])
    display = GainMisfitDisplay(
        misfit=misfit, gain=misfit - eps, color_by=eps, color_label="ε"
    ).plot()
    assert display.colorbar_ is not None
    assert display.colorbar_.ax.get_ylabel() == "ε"
    assert_allclose(display.scatter_[0].get_array(), eps)
    assert display.scatter_[0].norm.vmin == 0.0
    assert display.scatter_[0].norm.vmax == 0.4
    # with series: one marker per series, one colour scale for all of them
    labels = ["a", "b", "a", "b"]
    both = GainMisfitDisplay(
        misfit=misfit, gain=misfit, labels=labels, color_by=eps
    ).plot()
    assert len(both.scatter_) == 2
    assert {s.norm.vmax for s in both.scatter_} == {0.4}
    assert_allclose(both.scatter_[1].get_array(), eps[[1, 3]])
    # without color_by: no colorbar
    plain = GainMisfitDisplay(misfit=misfit, gain=misfit).plot()
    assert plain.colorbar_ is None


def test_color_by_from_results_and_predictions(pyplot):
    table = _results_table()
    table["train_epsilon_ratio"] = np.linspace(0.0, 1.0, len(table))
    table.loc[1, "train_epsilon_ratio"] = np.nan
    display = GainMisfitDisplay.from_results(
        table, hue=None, color_by="train_epsilon_ratio"
    )
    assert _n_points(display) == len(table) - 1
    assert display.colorbar_.ax.get_ylabel().startswith("ε / weak error")
    y_true = np.zeros((5, 2))
    display = GainMisfitDisplay.from_predictions(
        y_true, y_true + 1.0, y_true + 0.5, color_by=[3.0, 4.0], color_label="x"
    )
    assert_allclose(display.scatter_[0].get_array(), [3.0, 4.0])
    with pytest.raises(ValueError, match="`color_by` has 1 values"):
        GainMisfitDisplay(misfit=[0.1, 0.2], gain=[0.1, 0.2], color_by=[1.0]).plot()
    with pytest.raises(ValueError, match="lacks the column"):
        GainMisfitDisplay.from_results(table, color_by="nope")
    with pytest.raises(TypeError, match="`color_by` must be a column name"):
        GainMisfitDisplay.from_results(table, color_by=3)


def test_slack_kind(pyplot):
    misfit, gain = np.array([0.1, 0.5, 0.9]), np.array([0.2, 0.4, 1.0])
    display = GainMisfitDisplay(misfit=misfit, gain=gain).plot(kind="slack_vs_misfit")
    assert_allclose(display.scatter_[0].get_offsets()[:, 1], gain - misfit)
    assert_allclose(display.line_.get_ydata(), 0.0)
    assert display.ax_.get_ylabel().startswith("Slack")


def test_show_fit(pyplot):
    misfit = np.linspace(0.1, 1.0, 10)
    display = GainMisfitDisplay(misfit=misfit, gain=2 * misfit + 0.1).plot(
        show_fit=True
    )
    assert_allclose([display.slope_, display.intercept_, display.r2_], [2, 0.1, 1])
    assert display.fit_line_ is not None
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert any(text.startswith("fit: slope 2.00") for text in legend)
    # The rule of skwtsg.metrics.fit_line: two points (or a constant misfit)
    # determine no line, so none is drawn and the numbers are NaN.
    few_points = [([0.3], [0.3]), ([0.1, 0.5], [0.2, 0.4]), ([0.2] * 3, [1, 2, 3])]
    for misfit, gain in few_points:
        few = GainMisfitDisplay(misfit=misfit, gain=gain).plot(show_fit=True)
        assert few.fit_line_ is None
        assert np.isnan([few.slope_, few.intercept_, few.r2_]).all()
        legend = [t.get_text() for t in few.ax_.get_legend().get_texts()]
        assert not any(text.startswith("fit:") for text in legend)


def test_plot_on_given_axes_and_kwargs(pyplot):
    fig, (left, right) = pyplot.subplots(1, 2)
    display = GainMisfitDisplay(misfit=[0.1, 0.2], gain=[0.1, 0.3]).plot(
        ax=right, scatter_kwargs={"color": "red"}, line_kwargs={"color": "green"}
    )
    assert display.ax_ is right and display.figure_ is fig
    assert not left.collections
    assert display.line_.get_color() == "green"
    assert_allclose(display.scatter_[0].get_facecolor()[0][:3], [1, 0, 0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"misfit": [0.1, 0.2], "gain": [0.1]}, "`gain` has 1 values"),
        ({"misfit": [0.1, -0.2], "gain": [0.1, 0.2]}, "`misfit` must be non-neg"),
        ({"misfit": [0.1, np.nan], "gain": [0.1, 0.2]}, "`misfit` contains NaN"),
        ({"misfit": [], "gain": []}, "`misfit` is empty"),
        ({"misfit": [0.1, 0.2], "gain": [0.1, 0.2], "labels": ["a"]}, "`labels`"),
    ],
)
def test_plot_bad_input(pyplot, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GainMisfitDisplay(**kwargs).plot()


def test_plot_bad_kind(pyplot):
    with pytest.raises(ValueError, match="`kind` must be one of"):
        GainMisfitDisplay(misfit=[0.1], gain=[0.1]).plot(kind="residuals")


@pytest.mark.parametrize(
    "shapes, match",
    [
        (((10,), (9,), (10,)), "`y_true` and `y_weak` must have the same shape"),
        (((10, 2), (10, 2), (10, 3)), "`y_true` and `y_strong` must have the same"),
        (((10, 2, 1), (10, 2), (10, 2)), "`y_true` must be 1-D or 2-D"),
    ],
)
def test_from_predictions_bad_shapes(pyplot, shapes, match):
    y_true, y_weak, y_strong = (np.ones(s) for s in shapes)
    with pytest.raises(ValueError, match=match):
        GainMisfitDisplay.from_predictions(y_true, y_weak, y_strong)


def test_from_predictions_bad_values(pyplot):
    y = np.arange(4.0)
    with pytest.raises(ValueError, match="`y_true` contains NaN"):
        GainMisfitDisplay.from_predictions([0, np.nan, 1, 2], y, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GainMisfitDisplay.from_predictions(y, y, y, sample_weight=[1, 1])
    with pytest.raises(ValueError, match="`sample_weight` must be non-negative"):
        GainMisfitDisplay.from_predictions(y, y, y, sample_weight=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="`labels`"):
        GainMisfitDisplay.from_predictions(y, y, y, labels=["a", "b"])


def test_from_estimator_bad_input(pyplot, data, fitted):
    X, Y, _ = data
    with pytest.raises(ValueError, match="`labels` has 1 entries for 2"):
        GainMisfitDisplay.from_estimator(fitted, X, Y, labels=["only one"])
    with pytest.raises(ValueError, match="`estimators` is empty"):
        GainMisfitDisplay.from_estimator([], X, Y)
    no_weak = _Fixed(None, None).fit(None)
    no_weak.predict_weak = None
    with pytest.raises(TypeError, match="predict_weak"):
        GainMisfitDisplay.from_estimator(no_weak, X, Y)


def test_from_results_bad_input(pyplot):
    table = _results_table()
    with pytest.raises(ValueError, match="`results` lacks the column"):
        GainMisfitDisplay.from_results(table, x="nonexistent")
    with pytest.raises(ValueError, match="`results` lacks the column"):
        GainMisfitDisplay.from_results(table.drop(columns="weak_model"))
    with pytest.raises(TypeError, match="`results` must be a pandas DataFrame"):
        GainMisfitDisplay.from_results(table.to_numpy())
    with pytest.raises(ValueError, match="no row where both"):
        GainMisfitDisplay.from_results(table.assign(gain=np.nan))
    table.loc[2, "misfit"] = -0.1
    with pytest.raises(ValueError, match="`misfit` must be non-negative"):
        GainMisfitDisplay.from_results(table)


@pytest.mark.parametrize("name", ["_gain_misfit", "_selection"])
def test_modules_import_without_matplotlib(monkeypatch, name):
    # With matplotlib unimportable, a fresh copy of each module still loads
    # (matplotlib is imported lazily, in plot()) and plot() says what to do.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    path = Path(skwtsg.plot.__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(
        f"skwtsg.plot.{name}_without_matplotlib", path
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    display = (
        module.GainMisfitDisplay(misfit=[0.1], gain=[0.1])
        if name == "_gain_misfit"
        else module.WeakModelSelectionDisplay(bound=[0.1], true_error=[0.1])
    )
    match = r"requires matplotlib.*pip install skwtsg\[plot\]"
    with pytest.raises(ImportError, match=match):
        display.plot()
