"""Doctests of the Displays draw on the Agg backend (no window, no display)."""

import pytest


@pytest.fixture(autouse=True)
def _agg_backend(request):
    if isinstance(request.node, pytest.DoctestItem):
        matplotlib = pytest.importorskip("matplotlib")
        matplotlib.use("Agg")
