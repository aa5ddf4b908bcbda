import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import FunctionTransformer

from skwtsg.experiments import (
    Experiment,
    W2SCase,
    decomposition_summary,
    gain_misfit_fit,
    run_cases,
    run_experiment,
    selection_table,
)
from skwtsg.experiments._summary import _per_weak_error


def _case(seed=0, name="c0", group="g"):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(600, 6)) * np.linspace(3, 1, 6)
    y = X @ rng.normal(size=(6, 3))
    roles = np.repeat(["weak", "strong", "eval"], 200)
    weak = {f"pca{k}": PCA(n_components=k) for k in (1, 2, 4)}
    return W2SCase(name, X, y, roles, "passthrough", weak, group=group)


def test_gain_misfit_fit():
    fit = gain_misfit_fit([0.0, 1, 2, 3], [0.5, 2.5, 4.5, 6.5])
    assert fit["slope"] == pytest.approx(2.0)
    assert fit["intercept"] == pytest.approx(0.5)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["frac_gain_ge_misfit"] == 1.0
    assert np.isnan(gain_misfit_fit([1.0, 1.0], [1.0, 2.0])["slope"])
    with pytest.raises(ValueError, match="same length"):
        gain_misfit_fit([1.0, 2.0], [1.0])


def test_run_cases_records_every_task_and_the_ceiling():
    records = run_cases([_case()])
    assert len(records) == 3 * 3
    assert set(records["weak_model"]) == {"pca1", "pca2", "pca4"}
    np.testing.assert_allclose(
        records["gain"], records["weak_error"] - records["strong_error"]
    )
    # the strong representation is the raw features, so the target is
    # realizable: the ceiling error is ~0 and gain = misfit on training rows
    assert records["ceiling_error"].max() < 1e-20
    np.testing.assert_allclose(
        records["train_gain"], records["train_misfit"], rtol=1e-8, atol=1e-12
    )


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True])
def test_run_cases_refuses_a_bad_n_jobs(n_jobs):
    # Before: n_jobs=0 ran in one process (``n_jobs or 1``), the others
    # failed inside joblib or not at all.
    with pytest.raises(ValueError, match="`n_jobs` must be a positive int"):
        run_cases([_case()], n_jobs=n_jobs)


def test_a_perfect_weak_model_has_an_undefined_epsilon_ratio():
    # task 1's labels are all 0: every weak model fits them exactly (weak
    # error 0), so ε / weak error is undefined there: NaN on purpose, no
    # RuntimeWarning, counted and left out of the panel's ratios
    case = _case()
    case.y[:, 1] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        records = run_cases([case])
        summary = decomposition_summary(records)
    zero = records["task"] == "task1"
    assert (records.loc[zero, "train_weak_error"] == 0).all()
    assert records.loc[zero, "train_epsilon_ratio"].isna().all()
    assert records.loc[~zero, "train_epsilon_ratio"].notna().all()
    assert summary["n_ratio_undefined"] == zero.sum() == 3
    expected = (records["train_epsilon"] / records["train_weak_error"])[~zero]
    assert summary["median_epsilon_ratio"] == pytest.approx(expected.median())
    assert np.isfinite(summary["max_abs_projection_term_ratio"])
    with pytest.raises(ValueError, match="non-negative"):
        _per_weak_error([1.0], [-1.0])


def test_selection_table_ranks_by_bound():
    records = run_cases([_case(0, "s0"), _case(1, "s1")])
    table, info = selection_table(records[records["task"] == "task0"])
    assert list(table["bound_mean"]) == sorted(table["bound_mean"])
    assert table["pick"].sum() == 1 and table.index[0] == info["pick"]
    assert (table["n_cases"] == 2).all()
    assert info["pick"] == "pca4"
    # the uncertainty over the two cases (splits)
    assert (table["bound_low"] <= table["bound_mean"]).all()
    assert (table["bound_mean"] <= table["bound_high"]).all()
    assert table["p_lowest"].sum() == pytest.approx(1.0)
    assert table["pick_1se"].sum() == 1
    one_case = records[(records["task"] == "task0") & (records["case"] == "s0")]
    table, _ = selection_table(one_case)
    assert table[["bound_low", "bound_high", "p_lowest"]].isna().all().all()


def test_run_experiment_writes_every_output(tmp_path):
    pytest.importorskip("matplotlib")
    exp = Experiment(
        name="toy",
        make_cases=lambda quick, random_state, verbose: [_case(random_state)],
        panel_by="task",
        selection=True,
        claims={"task0": {"text": "a claim", "check": lambda info: (True, "fine")}},
    )
    result = run_experiment(exp, out=tmp_path, verbose=False)
    names = {p.name for p in result["files"]}
    for panel in ("task0", "task1", "task2"):
        assert {f"{panel}.csv", f"{panel}.png", f"{panel}_selection.csv"} <= names
    assert {"all_panels.png", "summary.json", "report.md"} <= names
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["panels"]["task0"]["agrees_with_paper"] is True
    report = (tmp_path / "report.md").read_text()
    assert "a claim" in report and "Heuristic's pick" in report
    csv = pd.read_csv(tmp_path / "task0.csv")
    assert {
        "weak_error",
        "strong_error",
        "misfit",
        "gain",
        "bound",
        "train_gain",
        "train_misfit",
        "ceiling_error",
    } <= set(csv.columns)


@pytest.mark.parametrize("n_points", [2, 5])
def test_report_and_figure_share_the_line_rule(n_points):
    # --quick panels with two points: no line in the summary, none in the figure.
    pytest.importorskip("matplotlib").use("Agg")
    import matplotlib.pyplot as plt

    from skwtsg.plot import GainMisfitDisplay

    rng = np.random.RandomState(0)
    misfit = rng.uniform(0.1, 1.0, size=n_points)
    records = pd.DataFrame(
        {"weak_model": "w", "misfit": misfit, "gain": 1.1 * misfit - 0.02}
    )
    summary = gain_misfit_fit(records["misfit"], records["gain"])
    display = GainMisfitDisplay.from_results(records, show_fit=True)
    plt.close("all")
    if n_points < 3:
        assert np.isnan(summary["slope"]) and display.fit_line_ is None
    else:
        assert display.fit_line_ is not None
        assert display.slope_ == pytest.approx(summary["slope"])
        assert display.r2_ == pytest.approx(summary["r2"])


@pytest.mark.parametrize("head", [None, "ridge", "loo"])
@pytest.mark.parametrize("roles", ["split", "both"])
def test_shared_strong_fit_gives_the_separate_fits_records(head, roles, monkeypatch):
    """One multi-output strong fit per case: the records of separate fits."""
    from dataclasses import replace

    from skwtsg.heads import RidgeHead, RidgeLOOHead
    from skwtsg.model_selection import WeakSupervisorSearch

    searches = []
    fit = WeakSupervisorSearch.fit

    def recording_fit(self, *args, **kwargs):
        fitted = fit(self, *args, **kwargs)
        # one strong head for all weak models: their labels were stacked
        searches.append(len({id(h) for h in fitted.strong_heads_.values()}))
        return fitted

    monkeypatch.setattr(WeakSupervisorSearch, "fit", recording_fit)

    case = _case(seed=3)
    if head == "ridge":
        case = replace(case, head=RidgeHead(alpha=30.0))
    elif head == "loo":
        case = replace(case, head=RidgeLOOHead(alpha_per_target=True))
    if roles == "both":
        case = replace(case, roles=np.repeat(["both", "eval"], [400, 200]))
    separate = run_cases([case, _case(seed=4, name="c1")])
    shared_case = replace(case, share_strong_fit=True)
    shared = run_cases([shared_case, _case(seed=4, name="c1")])
    # the shared case is one search, with one strong fit for its weak models
    assert searches == [1]
    times = ["fit_seconds", "ceiling_seconds"]
    # the search also gives each split's paired verdict (no separate-fit analogue)
    paired = ["paired_difference", "paired_low", "paired_high", "paired_verdict"]
    assert shared.loc[shared["case"] == "c0", "paired_verdict"].notna().all()
    assert shared.loc[shared["case"] == "c1", paired].isna().all().all()
    shared = shared.drop(columns=paired)
    shared, separate = shared.drop(columns=times), separate.drop(columns=times)
    numbers = [c for c in separate.columns if separate[c].dtype.kind == "f"]
    pd.testing.assert_frame_equal(
        shared.drop(columns=numbers), separate.drop(columns=numbers)
    )
    # Some columns are 0 in exact arithmetic (epsilon on realizable rows, the
    # gain - misfit terms): differences of errors of order 10, they differ by
    # rounding only, so they are compared on the errors' scale.
    scale = np.nanmax(np.abs(separate["weak_error"].to_numpy()))
    np.testing.assert_allclose(
        shared[numbers].to_numpy(),
        separate[numbers].to_numpy(),
        rtol=1e-10,
        atol=1e-12 * scale,
    )


@pytest.mark.parametrize("alpha_per_target", [True, False])
def test_shared_strong_fit_with_leave_one_out_alphas(alpha_per_target):
    """Weak labels outside the strong span, alpha chosen by leave-one-out.

    With one alpha for all targets the head couples its columns: the shared
    fit then fits it per weak model (stacking would change the alphas).
    """
    from dataclasses import replace

    from sklearn.preprocessing import FunctionTransformer

    from skwtsg.heads import RidgeLOOHead

    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 30))
    y = X @ rng.normal(size=(30, 2)) + 3.0 * rng.normal(size=(150, 2))
    roles = np.repeat(["weak", "strong", "eval"], 50)
    weak = {f.__name__: FunctionTransformer(f) for f in (np.square, np.sin, np.tanh)}
    case = W2SCase("c", X, y, roles, "passthrough", weak)
    case = replace(case, head=RidgeLOOHead(alpha_per_target=alpha_per_target))
    separate = run_cases([case])
    shared = run_cases([replace(case, share_strong_fit=True)])
    numbers = [
        c
        for c in separate.columns
        if separate[c].dtype.kind == "f" and not c.endswith("seconds")
    ]
    np.testing.assert_allclose(
        shared[numbers].to_numpy(), separate[numbers].to_numpy(), rtol=1e-10
    )


def test_a_quick_run_says_so_and_keeps_its_warnings_in_the_report(
    tmp_path, capsys, monkeypatch
):
    """One line says what a quick run is; the library's warnings go to the
    report, counted, not to the terminal; console and report print one wall
    time, measured around the whole run."""
    pytest.importorskip("matplotlib")
    from skwtsg import __main__
    from skwtsg.experiments import EXPERIMENTS

    def make_cases(quick, random_state, verbose):
        for _ in range(3):
            warnings.warn("representation 'x' is not trained", UserWarning)
        return [_case(random_state)]

    toy = Experiment(name="toy", make_cases=make_cases, panel_by="task")
    monkeypatch.setitem(EXPERIMENTS, "toy", toy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none may escape to the terminal
        status = __main__.main(["reproduce", "toy", "--quick", "--out", str(tmp_path)])
    assert status == 0
    console = capsys.readouterr()
    assert console.out.splitlines()[0] == __main__.QUICK_NOTE
    assert "not trained" not in console.out + console.err
    report = (tmp_path / "report.md").read_text()
    assert "- UserWarning (3x): representation 'x' is not trained" in report
    summary = json.loads((tmp_path / "summary.json").read_text())
    wall = f"{summary['wall_seconds']:.1f} s"
    assert f"wall time of the run {wall}" in report
    assert f"records in {wall}" in console.out
    assert summary["wall_seconds"] >= summary["compute_seconds"]


def test_panel_figures_keep_titles_colour_bars_and_legends_clear():
    """A colour bar of tiny values writes no offset ("1e-28") over the title; a
    long title fits its panel; a legend of many series leaves the points."""
    plt = pytest.importorskip("matplotlib.pyplot")
    from skwtsg.experiments._report import _draw_panel

    rng = np.random.RandomState(0)
    rec = pd.DataFrame(
        {
            "weak_model": np.repeat([f"model {i}" for i in range(5)], 6),
            "misfit": rng.uniform(0, 1, 30),
            "gain": rng.uniform(-1, 1, 30),
            "train_epsilon_ratio": rng.uniform(1e-28, 5e-28, 30),
        }
    )
    toy = Experiment(name="toy", make_cases=lambda **_: [])
    fig, axes = plt.subplots(1, 3, figsize=(14.4, 3.9))
    title = "ε sweep: 2b with h_s pretrained for 1/64-1 of its budget, and h*"
    disp = _draw_panel(axes[0], rec, title, toy, "weak_model", "train_epsilon_ratio")
    fig.tight_layout()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert disp.colorbar_.ax.yaxis.get_offset_text().get_text() == ""
    title_box = disp.ax_.title.get_window_extent(renderer)
    assert title_box.x0 >= 0 and title_box.x1 <= fig.bbox.width
    legend_box = disp.ax_.get_legend().get_window_extent(renderer)
    points = disp.ax_.transData.transform(rec[["misfit", "gain"]].to_numpy())
    assert not legend_box.count_contains(points)
    plt.close(fig)


def test_shared_fit_selection_is_paired_over_evaluation_rows(tmp_path):
    """Cases that share their strong fit: the records carry each split's paired
    verdict, and the selection table pairs the splits' evaluation rows instead
    of resampling the splits (no P(lowest))."""
    pytest.importorskip("matplotlib")

    def make_cases(quick, random_state, verbose):
        cases = []
        for seed in (0, 1, 2):
            case = _case(seed, f"s{seed}")
            case.y = case.y[:, 0]
            case.roles = np.where(case.roles == "weak", "both", case.roles)
            case.share_strong_fit = True
            case.strong_featurizer = FunctionTransformer(np.tanh)  # not the span
            cases.append(case)
        return cases

    exp = Experiment(name="toy", make_cases=make_cases, selection=True)
    result = run_experiment(exp, out=tmp_path, verbose=False)
    records = result["records"]
    assert {"paired_difference", "paired_low", "paired_high"} <= set(records)
    for _, rec in records.groupby("case"):
        pick = rec.loc[rec["bound"].idxmin()]
        assert pick["paired_verdict"] == "the pick" and pick["paired_difference"] == 0
    (info,) = result["summary"]["panels"].values()
    table = pd.DataFrame(info["selection_table"]).set_index("weak_model")
    assert "p_lowest" not in table and "bound_low" not in table
    others = table[~table["pick"]]
    # each split weighted equally: the pooled difference is that of the means
    np.testing.assert_allclose(
        others["difference"],
        others["bound_mean"] - table.loc[table["pick"], "bound_mean"].iloc[0],
    )
    assert (others["difference_low"] <= others["difference"]).all()
    assert (others["difference"] <= others["difference_high"]).all()
    assert all(v.endswith("of 3 splits") for v in others["split_verdicts"])
    sel = info["selection"]
    assert len(sel["verdicts"]) == 2 and "test molecules" in sel["unit"]
    report = (tmp_path / "report.md").read_text()
    assert "P(lowest)" not in report and sel["verdicts"][0] in report


def test_paired_selection_equal_splits_weights():
    from skwtsg.experiments import paired_selection

    rng = np.random.default_rng(1)

    def split(n, shift):
        y = rng.normal(size=n)
        weak = {"a": y + rng.normal(size=n), "b": y + shift + rng.normal(size=n)}
        return {"y": y, "weak": weak, "strong": {k: 0.5 * v for k, v in weak.items()}}

    splits = [split(400, 0.0), split(50, 2.0)]
    table = paired_selection(splits, "a", n_resamples=999)

    def bound(p, k):
        w, s = p["weak"][k], p["strong"][k]
        return np.mean((p["y"] - w) ** 2) - np.mean((w - s) ** 2)

    expected = np.mean([bound(p, "b") - bound(p, "a") for p in splits])
    assert table.loc["b", "difference"] == pytest.approx(expected)
    assert table.loc["a", "verdict"] == "the pick"
    assert table.attrs["reference"] == "a"
