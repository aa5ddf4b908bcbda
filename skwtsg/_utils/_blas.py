"""BLAS threads: one cached threadpoolctl controller and a one-thread limit.

Reusing one :class:`threadpoolctl.ThreadpoolController` makes a limit cheap.
The limit is process-wide for OpenBLAS, so it is applied in the main thread
only (elsewhere a block runs with the threads it has).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_STATE: dict = {"controller": None, "depth": 0}  # depth: main thread only
_LOCK = threading.Lock()


def _controller():
    """The cached :class:`threadpoolctl.ThreadpoolController`, made on first use
    (after numpy is imported, so that it finds numpy's BLAS)."""
    with _LOCK:
        if _STATE["controller"] is None:
            from threadpoolctl import ThreadpoolController

            _STATE["controller"] = ThreadpoolController()
        return _STATE["controller"]


def blas_threads() -> int:
    """The number of threads the BLAS would use now (1 when none is found)."""
    libs = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    return max((int(lib.num_threads) for lib in libs), default=1)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit the BLAS to one thread inside the block (main thread only).

    For many small dense operations; blocks nest, and the previous limit is
    restored on leaving.

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
