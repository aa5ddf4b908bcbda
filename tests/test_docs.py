"""The documentation builds without warnings, offline, and the API page is complete."""

import importlib
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Public modules whose ``__all__`` the API reference must list.
PUBLIC_MODULES = [
    "skwtsg",
    "skwtsg.metrics",
    "skwtsg.model_selection",
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
    # A name re-exported elsewhere (skwtsg.model_selection.bound_scorer is
    # skwtsg.bound_scorer) is documented once.
    for name, module in modules.items():
        for public in sorted(_documented_names(module)):
            if id(getattr(module, public, None)) not in documented:
                problems.append(f"{name}.{public} is public but not in docs/api.rst")
    assert not problems, "\n".join(problems)


class _ExternalResources(HTMLParser):
    """Scripts, stylesheets, images and frames a page loads from another host."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" not in (attrs.get("rel") or ""):
            return  # a hyperlink-like <link> (canonical, search...) loads nothing
        url = {"script": "src", "link": "href", "img": "src", "iframe": "src"}
        value = attrs.get(url.get(tag, ""), None) or ""
        if "://" in value or value.startswith("//"):
            self.found.append(f"<{tag}> {value}")


def _external_resources(html_dir):
    """``{page: [resources]}`` of every built page that loads from elsewhere."""
    offenders = {}
    for page in sorted(html_dir.rglob("*.html")):
        parser = _ExternalResources()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.found:
            offenders[str(page.relative_to(html_dir))] = parser.found
    return offenders


def test_external_resource_finder_finds_a_cdn_script(tmp_path):
    (tmp_path / "a.html").write_text(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//cdn.example/x.css">'
        '<link rel="canonical" href="https://example.org/a.html">'
        '<script src="_static/mathjax/tex-chtml.js"></script>',
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text("<p>no scripts</p>", encoding="utf-8")
    assert _external_resources(tmp_path) == {
        "a.html": ["<script> https://cdn.example/x.js", "<link> //cdn.example/x.css"]
    }


def test_intersphinx_offline_leaves_out_uncached_and_uses_cached(tmp_path):
    pytest.importorskip("sphinx", reason="the [docs] extra is not installed")
    sys.path.insert(0, str(DOCS))
    try:
        from _intersphinx import intersphinx_mapping
    finally:
        sys.path.remove(str(DOCS))
    # an inventory served from a folder stands in for a documentation site
    site = tmp_path / "site"
    site.mkdir()
    (site / "objects.inv").write_bytes(
        b"# Sphinx inventory version 2\n# Project: x\n# Version: 1\n"
        b"# The remainder of this file is compressed using zlib.\n"
    )
    projects = {
        "up": site.as_uri() + "/",
        "down": (tmp_path / "missing").as_uri() + "/",
    }
    cache = tmp_path / "cache"
    mapping, notes = intersphinx_mapping(cache, projects, offline=False)
    assert mapping == {"up": (projects["up"], str(cache / "up-objects.inv"))}
    assert len(notes) == 1 and "down inventory unavailable" in notes[0]
    # offline later: the cached copy still serves, and says so
    mapping, notes = intersphinx_mapping(cache, projects, offline=True)
    assert list(mapping) == ["up"]
    assert any("up inventory not refreshed" in note for note in notes)
    # a page that is not an inventory (a captive portal, say) is not cached
    (site / "objects.inv").write_text("<html>log in first</html>", encoding="utf-8")
    mapping, notes = intersphinx_mapping(tmp_path / "cache2", projects, offline=False)
    assert mapping == {}
    assert any("not a Sphinx inventory" in note for note in notes)


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """``sphinx -W`` offline on a copy of docs/ and examples/, examples not run.

    Returns ``(status, html_dir)``.
    """
    for package in ("sphinx", "sphinx_gallery", "numpydoc", "pydata_sphinx_theme"):
        pytest.importorskip(package, reason="the [docs] extra is not installed")
    pytest.importorskip(
        "sphinx-mathjax-offline", reason="the [docs] extra is not installed"
    )
    pytest.importorskip("matplotlib", reason="the [docs] extra is not installed")
    from sphinx.cmd.build import build_main

    tmp_path = tmp_path_factory.mktemp("docs")
    source = tmp_path / "repo"
    shutil.copytree(
        DOCS,
        source / "docs",
        ignore=shutil.ignore_patterns(
            "_build", "auto_examples", "gen_modules", "sg_execution_times.rst"
        ),
    )
    shutil.copytree(ROOT / "examples", source / "examples")
    with pytest.MonkeyPatch.context() as monkeypatch:
        # as on a machine without network: no inventory can be downloaded
        monkeypatch.setenv("SKWTSG_DOCS_OFFLINE", "1")
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
    return status, tmp_path / "html"


def test_docs_build_without_warnings(built_docs):
    """The build passes ``-W`` offline, and no page loads from another host.

    The maths is rendered by the MathJax copy in ``_static/mathjax``.
    """
    status, html = built_docs
    assert status == 0, "the documentation build failed or warned (see stderr)"
    for page in [
        "index.html",
        "api.html",
        "user_guide/theory.html",
        "auto_examples/quickstart/plot_pythagoras.html",
        "gen_modules/skwtsg.plot.GainMisfitDisplay.html",
    ]:
        assert (html / page).is_file(), f"{page} was not built"
    offenders = _external_resources(html)
    assert not offenders, f"pages load from other hosts: {offenders}"
    theory = (html / "user_guide" / "theory.html").read_text(encoding="utf-8")
    assert 'src="../_static/mathjax/tex-chtml.js"' in theory
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    # API pages: no right-hand column for a long title to run under
    for page in (html / "gen_modules").glob("skwtsg.*.html"):
        assert "bd-sidebar-secondary" not in page.read_text(encoding="utf-8"), page
    assert "bd-sidebar-secondary" in theory  # other pages keep theirs


def _maths_checker():
    sys.path.insert(0, str(DOCS))
    try:
        import check_rendered_maths
    finally:
        sys.path.remove(str(DOCS))
    return check_rendered_maths


def test_rendered_maths_reader():
    checker = _maths_checker()
    before = '<p><span class="math notranslate nohighlight">\\(f_w\\)</span></p>'
    after = (
        '<p><span class="math notranslate nohighlight">'
        '<mjx-container class="MathJax"></mjx-container></span></p>'
    )
    assert checker.rendered_maths(before) == (0, ["\\(f_w\\)"])
    assert checker.rendered_maths(after) == (1, [])


def test_theory_page_maths_renders_in_chromium(built_docs, tmp_path):
    """Headless Chromium, network off, typesets every formula of the theory page."""
    checker = _maths_checker()
    browser = checker.find_browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium)")
    status, html = built_docs
    assert status == 0
    typeset, raw = checker.check_page(
        html / "user_guide" / "theory.html", tmp_path / "theory.png", browser
    )
    assert typeset >= 10 and raw == [], (typeset, raw[:3])
    assert (tmp_path / "theory.png").stat().st_size > 10_000


def _code_blocks(rst_text):
    """The Python code blocks of a reST page, dedented, in order."""
    blocks = []
    for chunk in rst_text.split(".. code-block:: python\n")[1:]:
        lines = []
        for line in chunk.splitlines()[1:]:
            if line and not line.startswith("   "):
                break
            lines.append(line[3:])
        blocks.append("\n".join(lines))
    return blocks


def test_selection_guide_regularised_head_snippet_runs():
    """The selection guide's recipe for a ridge penalty runs as printed."""
    text = (DOCS / "user_guide" / "selection.rst").read_text(encoding="utf-8")
    section = text.split(".. _selection_regularised:")[1]
    namespace = {}
    exec(compile(_code_blocks(section)[0], "selection.rst", "exec"), namespace)
    alpha, model = namespace["alpha"], namespace["model"]
    assert alpha > 0
    assert model.head.alpha == alpha


def test_the_gallery_builds_without_data(tmp_path):
    """With no data folder, the examples that read data are left out of the
    gallery (so ``make docs`` passes offline); every example that reads data
    is known, and none that does not is left out."""
    sys.path.insert(0, str(DOCS))
    try:
        gallery_data = importlib.import_module("_gallery_data")
    finally:
        sys.path.remove(str(DOCS))
    examples = sorted((ROOT / "examples").glob("*/plot_*.py"))
    if not examples:
        pytest.skip("no examples folder (not a source checkout)")
    reads_data = {
        str(p.relative_to(ROOT / "examples"))
        for p in examples
        if re.search(r"\bfetch_\w+\(|get_data_home\(", p.read_text())
    }
    assert reads_data == set(gallery_data.NEEDS_DATA)
    missing = gallery_data.examples_without_data(tmp_path)
    assert set(missing) == reads_data
    pattern = gallery_data.ignore_pattern(r"__init__\.py", missing)
    left_out = {p.name for p in examples if re.search(pattern, p.name)}
    assert left_out == {Path(e).name for e in reads_data}
    for example, files in gallery_data.NEEDS_DATA.items():
        for name in files:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text("")
    assert gallery_data.examples_without_data(tmp_path) == []


def test_readme_theorem_states_its_assumptions():
    """The two-line theorem names realizability, and the equality on the
    training rows is not claimed for a representation that is not realizable."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    theorem = text.split("**The theorem in two lines.**")[1].split("## ")[0]
    assert "realizability" in theorem and "Theorem 2" in theorem
    assert "exact for the exact minimiser" not in theorem
    rows = text.split("On the strong head's own")[1].split("\n\n")[0]
    assert "express the truth" in rows and "not realizable" in rows


def test_representations_guide_explains_pretrain_then_freeze():
    text = (DOCS / "user_guide" / "representations.rst").read_text(encoding="utf-8")
    section = text.split("Pretrain, then freeze\n=====================")[1]
    section = section.split("\nMolecules\n")[0]
    for needed in (
        "Trained on the weak labels",
        "Theorem 1",
        "Theorem 2",
        "FrozenEstimator",
        "PretrainedFeaturizer",
        "strong_featurizer__featurizer__module__n_layers",
        "bound_scorer",
    ):
        assert needed in section, needed
    assert "does not\nseed the featurizers" in text or "not seed" in text
