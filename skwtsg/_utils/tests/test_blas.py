"""The BLAS thread limit: re-entrant, thread-safe, restored on errors."""

import threading

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from skwtsg._utils._blas import blas_threads, single_threaded_blas


def _blas_counts():
    return [
        lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"
    ]


@pytest.fixture
def two_threads():
    if not _blas_counts():
        pytest.skip("no BLAS found by threadpoolctl")
    with threadpool_limits(limits=2, user_api="blas"):
        yield


def test_limit_and_restore(two_threads):
    before = _blas_counts()
    assert blas_threads() == max(before)
    with single_threaded_blas():
        assert blas_threads() == 1
        with single_threaded_blas():  # nested: still 1, not restored early
            assert blas_threads() == 1
        assert blas_threads() == 1
    assert _blas_counts() == before


def test_restored_after_an_error(two_threads):
    before = _blas_counts()
    with pytest.raises(RuntimeError), single_threaded_blas():
        raise RuntimeError("boom")
    assert _blas_counts() == before


def test_other_threads_leave_the_limit_alone(two_threads):
    """Only the main thread limits: a worker's block changes nothing."""
    before = _blas_counts()
    seen = {}

    def worker():
        with single_threaded_blas():
            seen["inside"] = blas_threads()

    with single_threaded_blas():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(10)
        assert blas_threads() == 1
    assert seen["inside"] == 1  # the main thread's limit is process-wide
    assert _blas_counts() == before
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert seen["inside"] == max(before)  # no limit from a worker
    assert _blas_counts() == before
