"""The classification reproduction: quick run through the runner and the CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from skwtsg.experiments import reproduce
from skwtsg.experiments._classification import (
    DEFAULT_PARTS,
    digits_weak_featurizers,
    make_classification_cases,
)
from skwtsg.experiments._registry import EXPERIMENTS


def test_registered():
    assert EXPERIMENTS["classification"].name == "classification"


def test_quick_run_writes_outputs_and_the_identity_holds(tmp_path):
    pytest.importorskip("torch")
    result = reproduce(
        "classification", quick=True, out=tmp_path, verbose=False, random_state=0
    )
    records = result["records"]
    assert set(records["panel"]) == set(DEFAULT_PARTS)
    # Realizable panel: gain = misfit on the strong head's training sample.
    rec = records[records["panel"] == "2a"]
    gap = (rec["train_gain"] - rec["train_misfit"]).abs()
    assert np.all(gap <= 1e-8 * rec["train_weak_error"])
    # Digits: hard labels, accuracies, a selection table.
    dig = records[records["panel"] == "digits"]
    assert dig["weak_accuracy"].between(0, 1).all()
    assert dig["accuracy_pgr"].notna().all()
    assert set(dig["weak_model"]) == set(digits_weak_featurizers())
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "selection" in summary["panels"]["digits"]
    for name in ("digits.csv", "digits_selection.csv", "report.md", "2a.csv"):
        assert (tmp_path / name).exists()
    table = pd.read_csv(tmp_path / "digits.csv")
    assert {"misfit", "gain", "bound", "strong_accuracy"} <= set(table.columns)


def test_unknown_part():
    with pytest.raises(ValueError, match="Unknown parts"):
        make_classification_cases(["2z"])


def test_cli_quick_digits(tmp_path):
    from skwtsg.__main__ import main

    argv = ["reproduce", "classification", "--quick", "--quiet", "--parts", "digits"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "digits.png").exists() or (tmp_path / "digits.csv").exists()


def test_cli_quick_essays_records_have_intervals(tmp_path):
    """`--parts essays --quick` on the shared data, embeddings from the cache
    (skipped where the cache lacks them: embedding cold takes minutes)."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("transformers")
    from skwtsg.__main__ import main
    from skwtsg.experiments._essays import default_embedding_cache
    from skwtsg.experiments._essays_classification import QUICK_RUBRICS, QUICK_WEAK
    from skwtsg.tests._shared_data import require_data_home

    home = require_data_home("text/ELLIPSE_test_scores.csv.gz")
    if not list(default_embedding_cache().glob("all-mpnet-base-v2-*-layer8-len128*")):
        pytest.skip("the quick essays embeddings are not in the cache")
    argv = ["reproduce", "classification", "--quick", "--quiet", "--parts", "essays"]
    argv += ["--data-home", str(home), "--out", str(tmp_path)]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    panels = [f"essays {r}" for r in QUICK_RUBRICS]
    assert list(summary["panels"]) == panels
    for panel in panels:
        info = summary["panels"][panel]
        assert [r["weak_model"] for r in info["pgr_table"]] == list(QUICK_WEAK)
        assert info["burns"]["n_weak_models"] == len(QUICK_WEAK)
        assert "verdict" not in info  # quick sizes are not judged
        records = pd.read_csv(tmp_path / f"{panel.replace(' ', '-')}.csv")
        for name in ("accuracy_pgr", "pgr", "gain", "misfit", "strong_accuracy"):
            low, high = records[name + "_low"], records[name + "_high"]
            value = records[name]  # NaN: a PGR whose gap is exactly 0
            assert (value.isna() | (low <= value) & (value <= high)).all()
        stable = ~records["accuracy_pgr_unstable"]
        assert records.loc[stable, "accuracy_pgr_message"].isna().all()
        # an unstable PGR says so and has no finite interval
        unstable = records[~stable]
        assert unstable["accuracy_pgr_message"].str.contains("unstable").all()
        assert (unstable["accuracy_pgr_high"] == np.inf).all()
        assert (tmp_path / f"{panel.replace(' ', '-')}.png").exists()
    report = (tmp_path / "report.md").read_text()
    assert "Burns et al." in report and "strictly above the" in report
