"""Every gallery example (``examples/**/plot_*.py``) runs headless.

No wall-clock limit here: a slow machine must not fail a test. How long each
example takes is measured in ``benchmarks/``.
"""

import importlib.util
import runpy
from pathlib import Path

import pytest

from skwtsg.tests._shared_data import shared_data_home

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("**/plot_*.py"))

#: Packages and data files (relative to the data home) each group needs.
NEEDS = {
    "molecules": (("rdkit",), "molecules"),
    "text": (("sentence_transformers",), "text"),
}


def _data_home():
    """``$SKWTSG_DATA``, else ``shared/data`` beside the repository, or None."""
    return shared_data_home()


@pytest.fixture
def pyplot(monkeypatch):
    matplotlib = pytest.importorskip("matplotlib", reason="examples need matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    plt.close("all")
    yield plt
    plt.close("all")


def test_there_are_examples():
    assert (EXAMPLES_DIR / "quickstart" / "plot_quickstart.py") in EXAMPLES


@pytest.mark.parametrize(
    "path", EXAMPLES, ids=[str(p.relative_to(EXAMPLES_DIR)) for p in EXAMPLES]
)
def test_example_runs(path, pyplot, tmp_path, monkeypatch):
    group = path.relative_to(EXAMPLES_DIR).parts[0]
    data_home = _data_home()
    if group in NEEDS:
        packages, folder = NEEDS[group]
        for package in packages:
            if importlib.util.find_spec(package) is None:
                pytest.skip(f"{group} examples need the {package!r} package")
        if data_home is None or not (data_home / folder).is_dir():
            pytest.skip(
                f"{group} examples need the data folder {folder}/ under "
                "$SKWTSG_DATA or ../shared/data"
            )
    if data_home is not None:
        monkeypatch.setenv("SKWTSG_DATA", str(data_home))
    monkeypatch.chdir(tmp_path)  # anything an example writes lands here
    runpy.run_path(str(path), run_name="__main__")
