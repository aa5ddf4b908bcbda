"""The map of doctests that need an optional extra stays true to the code."""

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from skwtsg.tests._optional import DOCTEST_NEEDS, EXTRA_OF, needed_by, skip_reason

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _resolve(dotted):
    """The module or object named ``dotted``; LookupError when absent."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            obj = importlib.import_module(module_name)
            for attr in parts[cut:]:
                if not hasattr(obj, attr):
                    raise LookupError(f"{module_name} has no {attr!r}")
                obj = getattr(obj, attr)
            return obj
    raise LookupError(f"no module {dotted!r}")


@pytest.mark.parametrize("name", sorted(DOCTEST_NEEDS))
def test_every_entry_names_something_that_exists(name):
    # A module that was moved or renamed leaves a stale entry here, and its
    # doctests would then fail in a core-only install.
    _resolve(name)


def test_every_needed_package_has_an_extra():
    for packages in DOCTEST_NEEDS.values():
        for package in packages:
            assert package in EXTRA_OF, f"{package} has no extra in EXTRA_OF"


def test_extras_install_what_the_map_says():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    for package, extra in EXTRA_OF.items():
        distributions = {
            re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()
            for requirement in extras[extra]
        }
        assert package.replace("_", "-") in distributions, (package, extra)


def test_longest_prefix_wins_and_needs_whole_components():
    assert needed_by("skwtsg.plot._gain_misfit.GainMisfitDisplay.plot") == (
        "matplotlib",
    )
    assert needed_by("skwtsg.featurizers._molecules.cache_info") == ()
    assert needed_by("skwtsg.featurizers._nets.MLP") == ("torch",)
    # "skwtsg.plot" must not match a module that merely starts with those letters
    assert needed_by("skwtsg.plotting_helpers.f") == ()
    assert needed_by("skwtsg._w2s.WeakToStrongRegressor") == ()


def test_skip_reason_names_the_missing_packages_and_the_extra():
    name = "skwtsg.featurizers._smiles.SmilesTransformerFeaturizer"
    assert skip_reason(name, installed=lambda package: True) is None
    reason = skip_reason(name, installed=lambda package: package != "rdkit")
    assert reason == "needs rdkit (optional): pip install 'skwtsg[chem]'"
    reason = skip_reason(name, installed=lambda package: False)
    assert reason == "needs torch, rdkit (optional): pip install 'skwtsg[chem,torch]'"


def test_require_all_turns_missing_extras_and_data_into_failures(monkeypatch):
    from skwtsg.tests import _shared_data
    from skwtsg.tests._optional import (
        REQUIRE_ALL_ENV,
        REQUIRE_DATA_ENV,
        strict_importorskip,
    )

    strict = strict_importorskip(pytest.importorskip)
    monkeypatch.setenv("SKWTSG_DATA", "/nonexistent")
    monkeypatch.setattr(_shared_data, "REPO_ROOT", _shared_data.Path("/nonexistent/x"))
    monkeypatch.delenv(REQUIRE_ALL_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_DATA_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception):
        strict("no_such_module_skwtsg")
    with pytest.raises(pytest.skip.Exception):
        _shared_data.missing_data("no/such/file.csv")
    assert _shared_data.data_mark("no/such/file.csv").args == (True,)
    monkeypatch.setenv(REQUIRE_ALL_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="no_such_module_skwtsg"):
        strict("no_such_module_skwtsg")
    with pytest.raises(pytest.skip.Exception):  # not an extra: may skip
        strict("tomllib.no_such_module")
    # extras are required by make test; data only where CI has it beside
    with pytest.raises(pytest.skip.Exception):
        _shared_data.missing_data("no/such/file.csv")
    monkeypatch.setenv(REQUIRE_DATA_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="no/such/file.csv"):
        _shared_data.missing_data("no/such/file.csv")
    with pytest.raises(pytest.fail.Exception, match="no/such/file.csv"):
        _shared_data.data_mark("no/such/file.csv")
    assert strict("numpy") is __import__("numpy")
