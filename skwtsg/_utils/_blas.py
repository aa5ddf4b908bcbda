"""BLAS threads: one cached threadpoolctl controller and a one-thread limit.

threadpoolctl's ``threadpool_limits`` introspects the loaded libraries on
every call (about a millisecond); :func:`single_threaded_blas` reuses one
:class:`threadpoolctl.ThreadpoolController` (a ~10 µs limit). The limit is
process-wide for OpenBLAS's own threads, and threadpoolctl lets one thread
at a time control it, so that two threads entering and leaving in an
interleaved order cannot leave it set wrongly: the limit is applied in the
main thread only (elsewhere the block runs with the threads it has).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_STATE: dict = {"controller": None, "depth": 0}  # depth: main thread only
_LOCK = threading.Lock()


def _controller():
    """The cached :class:`threadpoolctl.ThreadpoolController` (made on first use).

    Made after numpy is imported (the caller uses numpy), so that it finds
    numpy's BLAS.
    """
    with _LOCK:
        if _STATE["controller"] is None:
            from threadpoolctl import ThreadpoolController

            _STATE["controller"] = ThreadpoolController()
        return _STATE["controller"]


def blas_threads() -> int:
    """The number of threads the BLAS would use now (1 when none is found).

    Inside :func:`single_threaded_blas` (in the main thread) this is 1.
    """
    libs = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    return max((int(lib.num_threads) for lib in libs), default=1)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit the BLAS to one thread inside the block (main thread only).

    For many small dense operations, whose calls the BLAS's own threads
    would spend synchronising. Nested blocks are fine; the previous limit is
    restored on leaving, also after an error. In another thread the block
    runs unchanged: OpenBLAS's limit is process-wide, and threads changing
    it in turn could leave it set wrongly.

    Examples
    --------
    >>> from skwtsg._utils._blas import blas_threads, single_threaded_blas
    >>> with single_threaded_blas():
    ...     blas_threads()
    1
    """
    if threading.current_thread() is not threading.main_thread() or _STATE["depth"]:
        yield  # another thread, or inside a block already: nothing to change
        return
    _STATE["depth"] += 1
    try:
        with _controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _STATE["depth"] -= 1
