"""The documentation builds without warnings, and the API page is complete."""

import importlib
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Public modules whose ``__all__`` the API reference must list.
PUBLIC_MODULES = [
    "skwtsg",
    "skwtsg.metrics",
    "skwtsg.heads",
    "skwtsg.featurizers",
    "skwtsg.datasets",
    "skwtsg.plot",
    "skwtsg.experiments",
]


def _api_entries():
    """{module: [names]} of the autosummary entries in docs/api.rst."""
    entries, module, in_autosummary = {}, None, False
    for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary:
            if line.startswith("   :") or not line.strip():
                continue
            if line.startswith("   "):
                entries.setdefault(module, []).append(line.strip())
                continue
            in_autosummary = False
    return entries


def _documented_names(module):
    """Names of ``module.__all__`` that belong on the API page."""
    names = getattr(module, "__all__", [])
    # Constants (``ROLES``) and dunders (``__version__``) are not pages.
    return {
        n
        for n in names
        if not n.startswith("__") and callable(getattr(module, n, None))
    }


def test_api_reference_lists_every_public_name():
    entries = _api_entries()
    problems, modules, documented = [], {}, set()
    for name in PUBLIC_MODULES:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError as exc:  # pragma: no cover - reported below
            problems.append(f"{name} cannot be imported: {exc}")
    for name, listed in entries.items():
        for entry in listed:
            if not hasattr(modules.get(name), entry):
                problems.append(f"docs/api.rst lists {name}.{entry}, which is absent")
            else:
                documented.add(id(getattr(modules[name], entry)))
    # A name re-exported elsewhere (skwtsg.metrics.bound_scorer is
    # skwtsg.bound_scorer) is documented once.
    for name, module in modules.items():
        for public in sorted(_documented_names(module)):
            if id(getattr(module, public, None)) not in documented:
                problems.append(f"{name}.{public} is public but not in docs/api.rst")
    assert not problems, "\n".join(problems)


def test_docs_build_without_warnings(tmp_path):
    """``sphinx -W`` on a copy of docs/ and examples/, examples not run."""
    for package in ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme"):
        pytest.importorskip(package, reason="the [docs] extra is not installed")
    pytest.importorskip("matplotlib", reason="the [docs] extra is not installed")
    from sphinx.cmd.build import build_main

    source = tmp_path / "repo"
    shutil.copytree(
        DOCS,
        source / "docs",
        ignore=shutil.ignore_patterns(
            "_build", "auto_examples", "gen_modules", "sg_execution_times.rst"
        ),
    )
    shutil.copytree(ROOT / "examples", source / "examples")
    status = build_main(
        [
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-D",
            "plot_gallery=0",
            str(source / "docs"),
            str(tmp_path / "html"),
        ]
    )
    assert status == 0, "the documentation build failed or warned (see stderr)"
    html = tmp_path / "html"
    for page in [
        "index.html",
        "api.html",
        "user_guide/theory.html",
        "auto_examples/quickstart/plot_pythagoras.html",
        "gen_modules/skwtsg.plot.GainMisfitDisplay.html",
    ]:
        assert (html / page).is_file(), f"{page} was not built"
