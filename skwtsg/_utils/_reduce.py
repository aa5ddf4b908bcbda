"""Combining many partial results pairwise, in a balanced tree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def pairwise_reduce(parts: Iterable[T], combine: Callable[[T, T], T]) -> T:
    """``combine`` the parts two by two, level after level, down to one.

    A balanced tree has depth ``log2(n)``: merges of streaming statistics add
    rounding error per level rather than per part, and Dask runs each level's
    merges in parallel (pass a ``dask.delayed`` ``combine``).

    Examples
    --------
    >>> from skwtsg._utils._reduce import pairwise_reduce
    >>> pairwise_reduce(["a", "b", "c"], lambda x, y: f"({x}{y})")
    '((ab)c)'
    """
    parts = list(parts)
    if not parts:
        raise ValueError("Nothing to combine: no part.")
    while len(parts) > 1:
        merged = [combine(a, b) for a, b in zip(parts[::2], parts[1::2])]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]
