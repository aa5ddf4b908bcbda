"""Sphinx configuration of the skwtsg documentation.

Build with ``make docs`` (every example is run) or, without running the
examples, ``python -m sphinx -W -b html -D plot_gallery=0 docs docs/_build/html``.
"""

import os
import sys
import warnings
from pathlib import Path

from sphinx_gallery.sorting import ExplicitOrder

HERE = Path(__file__).resolve().parent
# Document the checkout next to this folder, even when it is not installed.
if (HERE.parent / "skwtsg" / "__init__.py").exists():
    sys.path.insert(0, str(HERE.parent))
# Examples that read data find it in the shared data folder beside the clone
# unless SKWTSG_DATA says otherwise (without either, they are left out below).
_SHARED_DATA = HERE.parent.parent / "shared" / "data"
if _SHARED_DATA.is_dir():
    os.environ.setdefault("SKWTSG_DATA", str(_SHARED_DATA))

import skwtsg

project = "skwtsg"
author = "The skwtsg developers"
copyright = "2025, The skwtsg developers"
release = skwtsg.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax served from the built site (_static/mathjax), not from a CDN:
    # the maths renders offline.
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "sg_execution_times.rst"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary / numpydoc ---------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- intersphinx ------------------------------------------------------------
# Links to Python, scikit-learn, NumPy, SciPy, pandas and PyTorch resolve
# when their inventories can be downloaded (or were cached by an earlier
# build); offline, they are plain text and the -W build still passes (see
# _intersphinx.py). Terms used in docstrings (``:term:`fit```) resolve to
# glossary.rst.
sys.path.insert(0, str(HERE))
from _intersphinx import intersphinx_mapping as _intersphinx_mapping
from sphinx.util import logging as _sphinx_logging

intersphinx_mapping, _notes = _intersphinx_mapping(HERE / "_build" / "intersphinx")
for _note in _notes:
    _sphinx_logging.getLogger("conf").info(_note)

# -- sphinx-gallery ---------------------------------------------------------
# Examples that read data run only when their files are in the data folder
# ($SKWTSG_DATA, else ~/skwtsg_data): without them the gallery leaves them
# out, so the documentation builds offline with no data configured. Include
# them with ``SKWTSG_DATA=/path/to/data make docs``.
import _gallery_data
from skwtsg.datasets import get_data_home

_NO_DATA = _gallery_data.examples_without_data(get_data_home())
if _NO_DATA:
    _sphinx_logging.getLogger("conf").info(
        f"gallery: leaving out {', '.join(_NO_DATA)}: their data files are not "
        f"in {get_data_home()} (set SKWTSG_DATA to include them)"
    )
# ``-D plot_gallery=0`` renders the examples without running them.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "subsection_order": ExplicitOrder(
        [
            "../examples/quickstart",
            "../examples/synthetic",
            "../examples/molecules",
            "../examples/text",
            "*",
        ]
    ),
    "within_subsection_order": "FileNameSortKey",
    # Only plot_*.py files are run; other scripts are shown as code.
    "filename_pattern": r"/plot_",
    # Examples whose data files are absent are left out (_gallery_data.py).
    "ignore_pattern": _gallery_data.ignore_pattern(r"__init__\.py|/_", _NO_DATA),
    "doc_module": ("skwtsg",),
    "backreferences_dir": "gen_modules/backreferences",
    # The timing pages load jQuery and DataTables from CDNs: the site must
    # work offline (benchmarks/ measures how long each example takes).
    "write_computation_times": False,
    "download_all_examples": False,
    "show_memory": False,
    "matplotlib_animations": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 1,
}

# Examples run headless.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)

# -- HTML -------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skwtsg {release}"
html_static_path = ["_static"]
html_css_files = ["skwtsg.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"changelog": [], "getting_started": []}
# The API pages (gen_modules/) have no right-hand column: _templates/class.rst
# and function.rst set :html_theme.sidebar_secondary.remove:.
html_show_sourcelink = False


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
