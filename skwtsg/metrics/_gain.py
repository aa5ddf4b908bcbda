"""The quantities of Theorems 1 and 2, from predictions.

Errors are (weighted) mean squared distances; ``y_true`` comes first, and
``multioutput`` is :func:`sklearn.metrics.mean_squared_error`'s.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from .._utils._docstrings import fill_doc
from .._utils._validation import check_finite_result
from ._intervals import _report_intervals
from ._losses import PGR_GAP_RTOL, _combine_tasks, _diagnostics, _mse, no_gap

__all__ = [
    "misfit",
    "gain",
    "bound",
    "performance_gap_recovered",
    "weak_to_strong_report",
]


#: ``multioutput`` as in :func:`sklearn.metrics.mean_squared_error`.
MultiOutput = Literal["raw_values", "uniform_average"] | ArrayLike


@fill_doc
def misfit(
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: MultiOutput = "uniform_average",
) -> float | np.ndarray:
    """Misfit of the strong model to its weak supervisor (no true label needed).

    ``E[(f_sw∘h_s(x) - f_w∘h_w(x))^2]``, the strong model's error on the weak
    labels.

    Parameters
    ----------
    y_weak, y_strong : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Predictions of the weak model ``f_w∘h_w`` and of the strong model
        ``f_sw∘h_s``.
    {sample_weight_multioutput}

    Returns
    -------
    misfit : float or ndarray of shape (n_tasks,)

    Examples
    --------
    >>> from skwtsg.metrics import misfit
    >>> misfit([0.0, 1.0, 2.0], [0.0, 1.0, 4.0])
    1.333...
    """
    return _mse(y_weak, y_strong, sample_weight, multioutput, ("y_weak", "y_strong"))


@fill_doc
def gain(
    y_true: ArrayLike,
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: MultiOutput = "uniform_average",
) -> float | np.ndarray:
    """Gain of the strong model over its weak supervisor: weak − strong error.

    Theorem 1: at least the :func:`misfit` when the strong head is the exact
    least-squares projection onto a convex set that contains the target.

    Parameters
    ----------
    y_true, y_weak, y_strong : array-like of shape (n_samples,) or \
            (n_samples, n_tasks)
        True labels, and the weak and the strong model's predictions.
    {sample_weight_multioutput}

    Returns
    -------
    gain : float or ndarray of shape (n_tasks,)

    Examples
    --------
    >>> from skwtsg.metrics import gain, misfit
    >>> y_weak, y_strong = [2.0, -2.0], [1.0, -1.0]
    >>> gain([0.0, 0.0], y_weak, y_strong), misfit(y_weak, y_strong)
    (3.0, 1.0)
    """
    kw: dict[str, Any] = dict(sample_weight=sample_weight, multioutput=multioutput)
    weak = _mse(y_true, y_weak, names=("y_true", "y_weak"), **kw)
    strong = _mse(y_true, y_strong, names=("y_true", "y_strong"), **kw)
    return weak - strong


@fill_doc
def bound(
    y_true: ArrayLike,
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: MultiOutput = "uniform_average",
) -> float | np.ndarray:
    """Theorem 1's upper bound on the strong model's error: weak error − misfit.

    The paper's heuristic (Tables 1-3) picks the weak supervisor whose strong
    student has the smallest bound; true labels are needed only for the
    weak error.

    Parameters
    ----------
    y_true, y_weak, y_strong : array-like of shape (n_samples,) or \
            (n_samples, n_tasks)
        True labels (of the rows the weak model is judged on), and the weak
        and the strong model's predictions.
    {sample_weight_multioutput}

    Returns
    -------
    bound : float or ndarray of shape (n_tasks,)

    Examples
    --------
    >>> from skwtsg.metrics import bound
    >>> y_true = [[0.0, 1.0], [0.0, 1.0]]
    >>> bound(y_true, [[2.0, 1.0], [-2.0, 3.0]], [[1.0, 1.0], [-1.0, 2.0]],
    ...       multioutput="raw_values")
    array([3. , 1.5])
    """
    kw: dict[str, Any] = dict(sample_weight=sample_weight, multioutput=multioutput)
    weak = _mse(y_true, y_weak, names=("y_true", "y_weak"), **kw)
    return weak - _mse(y_weak, y_strong, names=("y_weak", "y_strong"), **kw)


@fill_doc
def performance_gap_recovered(
    y_true: ArrayLike,
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    y_ceiling: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: MultiOutput = "uniform_average",
) -> float | np.ndarray:
    """Performance gap recovered (PGR, Burns et al. 2023), for errors.

    ``(err_weak - err_w2s) / (err_weak - err_ceiling)``, the ceiling being the
    strong model trained on true labels: 1 is as good as the ceiling, 0 no
    better than the weak supervisor.

    Parameters
    ----------
    y_true, y_weak, y_strong, y_ceiling : array-like of shape (n_samples,) \
            or (n_samples, n_tasks)
        True labels, and the predictions of the weak model, of the
        weakly-supervised strong model and of the ceiling.
    {sample_weight}
    multioutput : {"raw_values", "uniform_average"} or array-like, \
            default="uniform_average"
        How to combine tasks: the ratio is taken per task, then averaged.

    Returns
    -------
    pgr : float or ndarray of shape (n_tasks,)

    Raises
    ------
    ValueError
        When a task's weak error equals its ceiling error (to within 1e-10
        of the errors, rounding): there is no gap to recover and the ratio
        is undefined. A larger gap that is still small next to the errors'
        sampling spread gives an equally noisy ratio.

    Examples
    --------
    >>> from skwtsg.metrics import performance_gap_recovered
    >>> performance_gap_recovered([0, 0], [2, -2], [1, -1], [0, 0])
    0.75
    """
    kw: dict[str, Any] = dict(sample_weight=sample_weight, multioutput="raw_values")
    weak = _mse(y_true, y_weak, names=("y_true", "y_weak"), **kw)
    w2s = _mse(y_true, y_strong, names=("y_true", "y_strong"), **kw)
    ceiling = _mse(y_true, y_ceiling, names=("y_true", "y_ceiling"), **kw)
    gap = weak - ceiling
    none = no_gap(weak, w2s, ceiling)  # rounding, or too small to matter
    if none.any():
        tasks = np.flatnonzero(none).tolist()
        raise ValueError(
            "performance_gap_recovered is undefined: the weak error equals the "
            f"ceiling error for task(s) {tasks} (no gap to recover: "
            f"|weak - ceiling| = {float(np.max(np.abs(gap[none]))):.3g}, at most "
            f"{PGR_GAP_RTOL:g} times the errors: rounding, or too small to matter)."
        )
    pgr = check_finite_result((weak - w2s) / gap, "The performance gap recovered")
    return _combine_tasks(pgr, multioutput)


@fill_doc
def weak_to_strong_report(
    y_true: ArrayLike,
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    *,
    y_ceiling: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    multioutput: MultiOutput = "uniform_average",
    confidence_level: float | None = None,
    n_resamples: int = 9999,
    method: str = "BCa",
    random_state: Any = None,
) -> dict[str, Any]:
    """Every weak-to-strong diagnostic at once, optionally with intervals.

    Parameters
    ----------
    y_true, y_weak, y_strong : array-like of shape (n_samples,) or \
            (n_samples, n_tasks)
        True labels, and the weak and the strong model's predictions.
    y_ceiling : array-like of the same shape, default=None
        Predictions of the strong model trained on true labels; adds
        ``"ceiling_error"`` and ``"pgr"`` to the report.
    {sample_weight_multioutput}
    confidence_level : float, default=None
        With a level such as 0.95, also a bootstrap interval ``"<name>_ci"``
        for each of the five diagnostics, all from one paired resample of
        the rows.
    {bootstrap}

    Returns
    -------
    report : dict
        ``weak_error``, ``strong_error``, ``misfit``, ``gain``, ``bound``
        (and ``ceiling_error``, ``pgr``), each a float or per-task array;
        with ``confidence_level``, also ``weak_error_ci``, ...,
        ``bound_ci``, each a ``(low, high)`` pair of floats (of arrays of
        shape (n_tasks,) for ``multioutput="raw_values"``).

    See Also
    --------
    misfit_interval : The misfit's interval, without true labels.
    diagnostic_intervals : The intervals of a fitted estimator.

    Notes
    -----
    The intervals are those of :func:`scipy.stats.bootstrap` with
    ``paired=True`` (the same resamples for the same Generator, the same BCa
    formulas), computed by one matrix product of the resamples' row counts
    and the per-row losses. Read more in the :ref:`User Guide <uncertainty>`.

    Examples
    --------
    >>> from skwtsg.metrics import weak_to_strong_report
    >>> r = weak_to_strong_report([0.0, 0.0], [2.0, -2.0], [1.0, -1.0])
    >>> {k: float(v) for k, v in r.items()}
    {'weak_error': 4.0, 'strong_error': 1.0, 'misfit': 1.0, 'gain': 3.0, 'bound': 3.0}
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> y = rng.normal(size=400)
    >>> y_weak = y + rng.normal(size=400)
    >>> y_strong = y + rng.normal(scale=0.5, size=400)
    >>> r = weak_to_strong_report(
    ...     y, y_weak, y_strong, confidence_level=0.95, random_state=0)
    >>> low, high = r["gain_ci"]
    >>> bool(low < r["gain"] < high)
    True
    """
    kw: dict[str, Any] = dict(sample_weight=sample_weight, multioutput=multioutput)
    weak = _mse(y_true, y_weak, names=("y_true", "y_weak"), **kw)
    strong = _mse(y_true, y_strong, names=("y_true", "y_strong"), **kw)
    mis = _mse(y_weak, y_strong, names=("y_weak", "y_strong"), **kw)
    report = _diagnostics(weak, strong, mis)
    if y_ceiling is not None:
        report["ceiling_error"] = _mse(
            y_true, y_ceiling, names=("y_true", "y_ceiling"), **kw
        )
        report["pgr"] = performance_gap_recovered(
            y_true, y_weak, y_strong, y_ceiling, **kw
        )
    if confidence_level is not None:
        report.update(
            _report_intervals(
                y_true,
                y_weak,
                y_strong,
                report,
                confidence_level=confidence_level,
                n_resamples=n_resamples,
                method=method,
                random_state=random_state,
                **kw,
            )
        )
    return report
