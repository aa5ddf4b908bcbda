"""Fixtures shared by the test modules of every subpackage."""

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's torch code on one intra-op thread, then restore.

    The networks in the tests are tiny: one thread is much faster than two on
    a loaded 2-core machine.
    """
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
