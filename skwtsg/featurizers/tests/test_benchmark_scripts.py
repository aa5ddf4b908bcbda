"""The torch benchmark scripts run (``--quick``: CPU only, tiny sizes)."""

import json
import runpy
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see skwtsg/conftest.py)."""


@pytest.mark.parametrize("script", ["gpu_check.py", "bench_representations.py"])
def test_script_runs_quick(script, tmp_path, monkeypatch):
    path = BENCHMARKS / script
    if not path.exists():
        pytest.skip(f"{path} not found (not a source checkout)")
    out = tmp_path / "out.json"
    monkeypatch.setattr(sys, "argv", [str(path), "--quick", "--out", str(out)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(path), run_name="__main__")
    assert exit_info.value.code == 0
    result = json.loads(out.read_text())
    if script == "gpu_check.py":
        assert result["timings"]["cpu"]["featurize_float32_s"] > 0
        assert result["checks"]["auto_picks_available_device"]
    else:
        assert result["heads"]["exact_train_mse"] < 1e-12
        assert set(result["pretraining"]) >= {"speedup_vs_paper"}
