"""The shared docstring fragments are filled in, and nowhere left as ``{name}``."""

import importlib
import inspect
import re

import pytest

from skwtsg._utils._docstrings import SHARED, fill_doc, fill_doc_with

PUBLIC = [
    "skwtsg",
    "skwtsg.featurizers",
    "skwtsg.heads",
    "skwtsg.metrics",
    "skwtsg.datasets",
    "skwtsg.plot",
    "skwtsg.experiments",
    "skwtsg.model_selection",
]
PLACEHOLDER = re.compile(r"^\s*\{\w+\}\s*$", re.MULTILINE)


def _documented(module_name):
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if obj is None:
            continue
        yield f"{module_name}.{name}", obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if callable(member) and not attr.startswith("_"):
                    yield f"{module_name}.{name}.{attr}", member


@pytest.mark.parametrize("module_name", PUBLIC)
def test_no_placeholder_left(module_name):
    left = [
        name
        for name, obj in _documented(module_name)
        if PLACEHOLDER.search(getattr(obj, "__doc__", None) or "")
    ]
    assert not left


def test_fill_doc_indents_nested_fragments_and_methods():
    @fill_doc_with(mine="x : int\n    {sample_weight}")
    class Demo:
        """Demo.

        Parameters
        ----------
        {mine}
        """

        def method(self):
            """Method.

            {features_in}
            """

    assert "        x : int\n            sample_weight : array-like" in Demo.__doc__
    assert "n_features_in_ : int" in Demo.method.__doc__
    assert set(SHARED) >= {"sample_weight", "features_in"}

    def plain():
        """No placeholder."""

    assert fill_doc(plain).__doc__ == "No placeholder."
