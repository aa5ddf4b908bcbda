"""Backends: where a weak-to-strong fit runs (in memory, or Dask).

A backend fits the featurizers and heads it is given and measures the
diagnostics (:class:`~skwtsg._diagnostics.Diagnostics`); it knows the heads
and the diagnostics, never the estimators, and sets no estimator's
attributes: it returns a :class:`~skwtsg._backends._common.FitResult`. The
estimators choose one inside ``fit`` (:func:`is_dask_collection`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["is_dask_collection"]


def is_dask_collection(X: Any) -> bool:
    """Whether ``X`` is a Dask collection (without importing Dask otherwise)."""
    if not type(X).__module__.startswith("dask"):
        return False
    import dask

    return bool(dask.is_dask_collection(X))
