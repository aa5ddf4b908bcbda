"""Doctests of the Displays draw on the Agg backend and close their figures."""

import pytest


@pytest.fixture(autouse=True)
def _agg_backend(request):
    if not isinstance(request.node, pytest.DoctestItem):
        yield
        return
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
