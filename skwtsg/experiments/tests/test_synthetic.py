"""End-to-end --quick runs of every synthetic panel through the command line."""

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from skwtsg.__main__ import main  # noqa: E402
from skwtsg.experiments import PANELS  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    assert (
        main(["reproduce", "synthetic", "--quick", "--quiet", "--out", str(out)]) == 0
    )
    return out


def test_every_panel_writes_its_outputs(quick_run):
    for panel in PANELS:
        csv = pd.read_csv(quick_run / f"{panel}.csv")
        assert len(csv) == 6  # quick: 6 tasks, one weak model
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
        } <= set(csv.columns)
        assert (quick_run / f"{panel}.png").stat().st_size > 1000
    assert (quick_run / "all_panels.png").exists()
    summary = json.loads((quick_run / "summary.json").read_text())
    assert set(summary["panels"]) == set(PANELS)
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
        a = pd.read_csv(quick_run / f"{panel}.csv").drop(columns="fit_seconds")
        b = pd.read_csv(tmp_path / f"{panel}.csv").drop(columns="fit_seconds")
        pd.testing.assert_frame_equal(a, b)


def test_quick_report_does_not_judge_the_claims(quick_run):
    summary = json.loads((quick_run / "summary.json").read_text())
    assert all("verdict" not in info for info in summary["panels"].values())
    assert "not judged at --quick sizes" in (quick_run / "report.md").read_text()
