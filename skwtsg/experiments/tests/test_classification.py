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
