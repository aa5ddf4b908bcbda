"""End-to-end --quick runs of every synthetic panel through the command line."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from skwtsg.__main__ import main  # noqa: E402
from skwtsg.experiments import PANELS, SWEEP, make_synthetic_cases  # noqa: E402
from skwtsg.experiments._synthetic import (  # noqa: E402
    SYNTHETIC,
    _check_sweep,
    sweep_summary,
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    assert (
        main(["reproduce", "synthetic", "--quick", "--quiet", "--out", str(out)]) == 0
    )
    return out


def test_every_panel_writes_its_outputs(quick_run):
    for panel in (*PANELS, SWEEP["name"]):
        csv = pd.read_csv(quick_run / f"{panel}.csv")
        # quick: 6 tasks, one weak model; the sweep: one case per strong net
        n_cases = len(SWEEP["strong"]) if panel == SWEEP["name"] else 1
        assert len(csv) == 6 * n_cases
        assert {
            "task",
            "weak_error",
            "strong_error",
            "misfit",
            "gain",
            "bound",
            "train_weak_error",
            "train_strong_error",
            "train_misfit",
            "train_gain",
            "ceiling_error",
            "train_epsilon",
            "train_epsilon_ratio",
            "train_projection_term",
            "train_epsilon_term",
            "train_epsilon_bound",
            "train_ls_gap",
        } <= set(csv.columns)
        # Theorem 2's decomposition adds up on the training sample
        gap = csv["train_gain"] - csv["train_misfit"]
        terms = csv["train_projection_term"] + csv["train_epsilon_term"]
        np.testing.assert_array_less(
            (gap - terms).abs(), 1e-9 * csv["train_weak_error"] + 1e-300
        )
        assert (
            csv["train_epsilon_term"].abs()
            <= csv["train_epsilon_bound"] * 1.001 + 1e-12
        ).all()
        assert (quick_run / f"{panel}.png").stat().st_size > 1000
    assert (quick_run / "all_panels.png").exists()
    assert (quick_run / "sweep_slope_vs_epsilon.png").stat().st_size > 1000
    summary = json.loads((quick_run / "summary.json").read_text())
    assert set(summary["panels"]) == {*PANELS, SWEEP["name"]}
    sweep = summary["panels"][SWEEP["name"]]["sweep"]
    assert [p["case"] for p in sweep][0] == "sweep h*"  # ε = 0: the end point
    ratios = [p["median_epsilon_ratio"] for p in sweep]
    assert ratios == sorted(ratios)
    for info in summary["panels"].values():
        assert {
            "slope",
            "intercept",
            "r2",
            "frac_gain_ge_misfit",
            "median_ratio",
        } <= set(info["eval"])
        assert info["fit_seconds"] >= 0
    assert "Quick run" in (quick_run / "report.md").read_text()


def test_realizable_inequality_is_exact_on_the_training_sample(quick_run):
    csv = pd.read_csv(quick_run / "2a.csv")
    # h_s = h*: Pythagoras holds with equality for the exact least-squares head
    np.testing.assert_allclose(
        csv["train_gain"],
        csv["train_misfit"],
        rtol=1e-6,
        atol=1e-9 * csv["train_weak_error"].max(),
    )
    assert (csv["ceiling_error"] < 1e-8 * csv["weak_error"].max()).all()


def test_same_seed_same_numbers(quick_run, tmp_path):
    assert (
        main(
            [
                "reproduce",
                "synthetic",
                "--quick",
                "--quiet",
                "--panels",
                "2a,2c",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    for panel in ("2a", "2c"):
        times = ["fit_seconds", "ceiling_seconds"]
        a = pd.read_csv(quick_run / f"{panel}.csv").drop(columns=times)
        b = pd.read_csv(tmp_path / f"{panel}.csv").drop(columns=times)
        pd.testing.assert_frame_equal(a, b)


def test_quick_report_does_not_judge_the_claims(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    assert all("verdict" not in info for info in summary["panels"].values())
    assert "not judged at --quick sizes" in (quick_run / "report.md").read_text()


def test_least_squares_panels_decompose_exactly(quick_run):
    for panel in ("2b", "2c", "3c"):
        csv = pd.read_csv(quick_run / f"{panel}.csv")
        gap = csv["train_gain"] - csv["train_misfit"]
        scale = csv["train_weak_error"]
        # least squares: no projection term, the gap is −2⟨(I−P)w, (I−P)y*⟩
        # computed from the strong features independently of the head
        assert (csv["train_projection_term"].abs() <= 1e-9 * scale).all()
        assert ((gap - csv["train_ls_gap"]).abs() <= 1e-9 * scale).all()
    summary = json.loads((quick_run / "summary.json").read_text())
    for panel in ("2a", "2b", "2c"):
        assert summary["panels"][panel]["train"]["frac_decomposition_holds"] == 1.0
    # appendix D: the non-convex head has no least-squares gap
    assert pd.read_csv(quick_run / "D-tanh.csv")["train_ls_gap"].isna().all()


def test_report_carries_the_epsilon_columns(quick_run):
    report = (quick_run / "report.md").read_text()
    assert "median ε/weak error (train)" in report
    assert "decomposition holds (train)" in report
    assert "sweep h*" in report
    # representations trained for 60 steps are flagged, panels marked
    assert "**Warning: representation" in report


def test_undertrained_representation_warns():
    with pytest.warns(UserWarning, match="is not trained"):
        cases = make_synthetic_cases(["2b"], quick=True, pretrain_steps=1)
    assert any("'pre8'" in w for w in cases[0].meta["warnings"])
    check = cases[0].meta["pretraining"]["pre8"]
    assert check["steps"] >= 1 and check["train_loss"] > 0


@pytest.mark.parametrize("name", ["epochs", "pretrain_steps", "n_jobs"])
def test_zero_counts_are_refused_not_read_as_the_default(name):
    # Before: epochs=0 trained the gradient heads for the default 1000 epochs
    # (``epochs or 1000``).
    with pytest.raises(ValueError, match=f"`{name}` must be a positive integer"):
        make_synthetic_cases(["2a"], heads="gradient", quick=True, **{name: 0})


def test_pretraining_budget_is_in_steps():
    # the same budget in steps whatever the number of rows (T * N_r)
    cases = make_synthetic_cases(["2b", "3c"], quick=True, pretrain_steps=30)
    checks = {**cases[0].meta["pretraining"], **cases[1].meta["pretraining"]}
    assert checks["pre8"]["rows"] != checks["low8"]["rows"]
    for key, check in checks.items():
        budget = 30 if key.startswith("pre") else 300  # the paper's recipe: 10x
        assert check["steps"] == budget  # MultiTaskFeaturizer(max_steps=...)
        assert check["epochs"] >= 1


def test_sweep_verdict_is_computed():
    rows = []
    for case, eps, slope in [
        ("sweep h*", 0.0, 1.0),
        ("sweep a", 0.1, 0.9),
        ("sweep b", 0.3, 0.7),
        ("sweep c", 0.5, 0.5),
    ]:
        for t in range(5):
            misfit = 1.0 + t
            rows.append(
                {
                    "case": case,
                    "misfit": misfit,
                    "gain": slope * misfit,
                    "train_epsilon": eps,
                    "train_weak_error": 1.0,
                }
            )
    info = sweep_summary(pd.DataFrame(rows))
    assert [p["case"] for p in info["sweep"]][0] == "sweep h*"
    assert info["spearman_epsilon_deviation"] == pytest.approx(1.0)
    ok, text = _check_sweep(info)
    assert ok and "does approach 1" in text
    info["sweep"][0]["slope"] = 0.8  # the end point is off: not shown
    info["sweep"] = sorted(info["sweep"], key=lambda p: p["median_epsilon_ratio"])
    ok, text = _check_sweep(info)
    assert not ok and "does not clearly" in text


def test_sweep_with_an_undefined_ratio_is_not_judged():
    # a case whose every weak error is 0 has no ε / weak error: the sweep's
    # rank correlation is undefined and the claim fails, with no warning
    rows = [
        {
            "case": case,
            "misfit": 1.0 + t,
            "gain": 1.0 + t,
            "train_epsilon": eps,
            "train_weak_error": weak,
        }
        for case, eps, weak in [("sweep h*", 0.0, 0.0), ("sweep a", 0.1, 1.0)]
        + [("sweep b", 0.3, 1.0)]
        for t in range(4)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = sweep_summary(pd.DataFrame(rows))
    first = info["sweep"][0]
    assert np.isnan(first["median_epsilon_ratio"]) and first["n_ratio_undefined"] == 4
    assert np.isnan(info["spearman_epsilon_deviation"])
    assert _check_sweep(info)[0] is False


@pytest.mark.parametrize(
    "panel, info, expected",
    [
        (
            "2a",
            {
                "eval": {"slope": 1.0, "r2": 0.995},
                "train": {"frac_gain_eq_misfit_exact": 1.0},
            },
            True,
        ),
        (
            "2a",
            {
                "eval": {"slope": 1.0, "r2": 0.995},
                "train": {"frac_gain_eq_misfit_exact": 0.99},
            },
            False,
        ),
        (
            "2b",
            {
                "eval": {"slope": 0.70, "r2": 0.9},
                "train": {"frac_decomposition_holds": 1.0},
            },
            True,
        ),
        (
            "2b",
            {
                "eval": {"slope": 0.60, "r2": 0.9},
                "train": {"frac_decomposition_holds": 1.0},
            },
            False,
        ),
        (
            "2c",
            {
                "eval": {"slope": 0.90, "r2": 0.9},
                "train": {"frac_decomposition_holds": 0.5},
            },
            False,
        ),
        ("3c", {"eval": {"slope": -0.2, "r2": 0.4}}, True),
        ("3c", {"eval": {"slope": 0.1, "r2": 0.4}}, False),
        ("D-relu", {"eval": {"slope": 0.9, "r2": 0.95}}, True),
        ("D-relu", {"eval": {"slope": 0.9, "r2": 0.5}}, False),
    ],
)
def test_claims_are_computed_from_the_numbers(panel, info, expected):
    ok, text = SYNTHETIC.claims[panel]["check"](info)
    assert ok is expected
    assert f"{info['eval']['slope']:.3f}" in text
