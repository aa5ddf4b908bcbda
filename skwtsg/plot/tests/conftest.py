import pytest


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; figures are closed around the test.

    Skips the test when matplotlib is not installed (the ``plot`` extra).
    """
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield plt
    plt.close("all")
