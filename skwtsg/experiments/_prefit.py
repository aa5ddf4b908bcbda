"""Fitting the weak featurizers of cases that share their strong fit, once,
in parallel processes, and the plumbing of the runner's fits (torch threads,
progress bars)."""

from __future__ import annotations

import contextlib
import time

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from .._utils._validation import take_rows


def _prefit_weak_featurizers(cases, *, n_jobs, verbose):
    """Fit the weak featurizers of ``cases`` on their weak rows (true labels).

    Exactly the fit :class:`~skwtsg.WeakToStrongRegressor` makes (a clone,
    ``fit`` on the ``"weak"`` and ``"both"`` rows with their labels), in
    ``n_jobs`` processes, the largest first (rows times ``hidden_size``, a
    proxy of the cost) so that the processes finish together; a fit found
    in its case's ``weak_fit_cache`` is loaded here instead; a frozen one
    (:class:`~sklearn.frozen.FrozenEstimator`) is used as it is. Returns, per
    case (by ``id``), a dict of label to ``(fitted featurizer, seconds)``
    (the fit's, or the load's).
    """
    tasks = []
    for case in cases:
        if case.kind != "regression" or case.roles is None:
            raise ValueError(
                f"Case {case.name!r}: share_strong_fit needs a regression case "
                "with explicit roles."
            )
        weak_rows = np.flatnonzero(np.isin(case.roles, ("weak", "both")))
        X_weak = take_rows(case.X, weak_rows)
        y_weak = np.asarray(case.y, dtype=float)[weak_rows]
        fit = _cached_weak_fit(case.weak_fit_cache)
        for label, weak in case.weak_featurizers.items():
            if isinstance(weak, FrozenEstimator):  # pretrained: used as it is
                tasks.append((id(case), label, None, (weak,)))
                continue
            args = (weak, X_weak, y_weak, case.meta.get("torch_threads"))
            if case.weak_fit_cache is not None:
                args += (_weak_fit_fingerprint(weak),)
            tasks.append((id(case), label, fit, args))
    if not tasks:
        return {}
    from joblib import Parallel, delayed

    results: list = [None] * len(tasks)
    todo = []
    for i, (_, _, fit, args) in enumerate(tasks):
        if fit is None:
            results[i] = (args[0], 0.0)
        elif hasattr(fit, "check_call_in_cache") and fit.check_call_in_cache(*args):
            start = time.perf_counter()
            fitted = fit(*args)  # a load
            results[i] = (fitted, time.perf_counter() - start)
        else:
            todo.append(i)
    todo.sort(key=lambda i: -_fit_cost(*tasks[i][3][:2]))
    fitted = Parallel(n_jobs=n_jobs, batch_size=1)(
        delayed(_timed)(tasks[i][2], *tasks[i][3])
        for i in _progress(todo, verbose, "weak featurizers")
    )
    for i, result in zip(todo, fitted):
        results[i] = result
    out: dict = {}
    for (key, label, *_), result in zip(tasks, results):
        out.setdefault(key, {})[label] = result
    return out


def _fit_weak_featurizer(weak, X, y, threads, fingerprint=None):
    """``clone(weak).fit(X, y)`` with ``threads`` torch threads.

    ``fingerprint`` (:func:`_weak_fit_fingerprint`) is not used: it is
    part of the persistent cache's key.
    """
    with _threads(threads):
        return clone(weak).fit(X, y)


def _timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def _cached_weak_fit(location):
    """:func:`_fit_weak_featurizer`, cached in ``location`` (None: not)."""
    if location is None:
        return _fit_weak_featurizer
    from .._utils._cache import fit_memory

    return fit_memory(location).cache(_fit_weak_featurizer)


def _weak_fit_fingerprint(weak):
    """The cache key's part beyond the arguments: versions and source files."""
    from .._utils import _torch
    from .._utils._cache import code_fingerprint

    # the training loop (imported lazily by the featurizers)
    return code_fingerprint(type(weak), _torch.__file__)


def _fit_cost(weak, X):
    """A proxy of a weak featurizer fit's cost, to dispatch the largest first."""
    size = getattr(weak, "hidden_size", None)
    return _num_rows(X) * (size if isinstance(size, int) and size > 0 else 1)


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _threads(n_threads):
    """torch's thread count during a case's fits (unchanged when None)."""
    if n_threads is None:
        return contextlib.nullcontext()
    from .._utils._torch import _torch_threads

    return _torch_threads(n_threads)


def _progress(iterable, verbose, desc):
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is in every extra
        return iterable
    return tqdm(iterable, desc=desc, leave=False)
