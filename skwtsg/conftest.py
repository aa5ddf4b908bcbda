"""Fixtures shared by the test modules of every subpackage, and doctest skips."""

import pytest

try:
    from pytest import DoctestItem
except ImportError:  # older pytest: not yet exported
    from _pytest.doctest import DoctestItem

from skwtsg.tests._optional import require_all, skip_reason


def pytest_collection_modifyitems(config, items):
    """Skip the doctests whose optional extra is not installed.

    Which doctest needs which package is listed in
    ``skwtsg/tests/_optional.py``; with only ``skwtsg[dev]`` installed the
    suite is green with those doctests skipped. Under ``SKWTSG_REQUIRE_ALL=1``
    (``make test``) nothing is skipped: a missing extra fails its doctests.
    """
    if require_all():
        return
    for item in items:
        if isinstance(item, DoctestItem):
            reason = skip_reason(item.name)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


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
