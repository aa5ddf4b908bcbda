"""BLAS threads: one cached threadpoolctl controller and a thread-safe limit.

threadpoolctl's ``threadpool_limits`` introspects the loaded libraries on
every call (about a millisecond) and sets a process-wide limit that two
Python threads entering and leaving in an interleaved order would restore
wrongly. :func:`single_threaded_blas` reuses one
:class:`threadpoolctl.ThreadpoolController` (a ~10 µs limit) and counts the
threads inside it: the first to enter sets the limit, the last to leave
restores the previous one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_STATE: dict = {"controller": None, "depth": 0, "limiter": None}


def _controller():
    """The cached :class:`threadpoolctl.ThreadpoolController` (made on first use)."""
    if _STATE["controller"] is None:
        from threadpoolctl import ThreadpoolController

        _STATE["controller"] = ThreadpoolController()
    return _STATE["controller"]


def blas_threads() -> int:
    """The number of threads the BLAS would use now (1 when none is found).

    Inside :func:`single_threaded_blas` this is 1.
    """
    with _LOCK:
        libs = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
        return max((int(lib.num_threads) for lib in libs), default=1)


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit the BLAS to one thread inside the block (re-entrant, thread-safe).

    Examples
    --------
    >>> from skwtsg._utils._blas import blas_threads, single_threaded_blas
    >>> with single_threaded_blas():
    ...     blas_threads()
    1
    """
    with _LOCK:
        if _STATE["depth"] == 0:
            _STATE["limiter"] = _controller().limit(limits=1, user_api="blas")
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0:
                _STATE["limiter"].restore_original_limits()
                _STATE["limiter"] = None
