"""The benchmark scripts of ``benchmarks/`` run (``--quick``: CPU only, tiny sizes)."""

import json
import runpy
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Every test here runs torch on one intra-op thread, then restores it."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize(
    "script", ["gpu_check.py", "bench_representations.py", "bench_synthetic.py"]
)
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
    if script == "bench_synthetic.py":
        parts = result["parts_seconds"]
        assert set(parts) >= {"representations", "fits", "ceiling fits"}
        assert sum(parts.values()) == pytest.approx(result["wall_seconds"])
        assert "sweep" in result["panels"]
    elif script == "gpu_check.py":
        assert result["timings"]["cpu"]["featurize_float32_s"] > 0
        assert result["checks"]["auto_picks_available_device"]
        # the learned-representation paths: skipped on CUDA, run on the CPU
        learned = result["learned_paths"]
        assert learned["cuda"].startswith("skipped")
        assert set(learned["cpu"]) == {
            "TorchFeaturizer(perturbed h*)",
            "SkorchFeaturizer(EarlyStopping, ValidSplit)",
            "PretrainedFeaturizer(MultiTaskFeaturizer)",
            "PretrainedFeaturizer(SkorchFeaturizer)",
        }
        assert all(r["module_device"] == "cpu" for r in learned["cpu"].values())
    else:
        assert result["heads"]["exact_train_mse"] < 1e-12
        assert set(result["pretraining"]) >= {"speedup_vs_paper"}
