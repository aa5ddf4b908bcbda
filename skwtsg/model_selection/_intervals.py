"""Diagnostics of a fitted weak-to-strong estimator, with bootstrap intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from .._backends import is_dask_collection
from .._utils._validation import check_partially_labeled_y
from ..metrics import misfit, misfit_interval, weak_to_strong_report
from ._scorer import _aligned, _num_rows, _unwrap

__all__ = ["diagnostic_intervals"]


def diagnostic_intervals(
    estimator: Any,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: str | ArrayLike | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    method: str = "BCa",
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> dict:
    """Diagnostics of a fitted weak-to-strong model on ``(X, y)``, with intervals.

    The weak model's and the strong model's predictions on ``X``
    (``estimator.predict_weak(X)``, ``estimator.predict(X)``) go to
    :func:`weak_to_strong_report` with ``confidence_level`` set, or, when
    ``y`` is None, to :func:`misfit_interval`.

    The intervals capture the uncertainty of the **evaluation sample**: which
    rows happened to be drawn for ``(X, y)``, with the fitted models held
    fixed. They say how far the measured misfit, gain and bound of *these*
    models may be from their values on the whole population. They do not
    capture how the diagnostics would change if the models were refitted on
    other training rows; for that, refit over splits with
    :func:`sklearn.model_selection.cross_validate` and the skwtsg scorers
    (see the :ref:`user guide <uncertainty>`).

    With Dask inputs (a model fitted on the Dask path, ``X`` a Dask array
    or DataFrame) the rows are not gathered: they are divided into 4096
    groups by a hash of their global index and ``random_state``, and the
    groups are resampled (see the user guide's page
    :ref:`larger_than_memory`). The point values are those of the rows.

    The estimator does not keep its training data. For the intervals of the
    ``"eval"`` rows of the fit itself (the rows of ``estimator.gain_`` and
    the other fitted diagnostics when ``diagnostic_rows_`` says ``"eval"``),
    pass those rows: ``mask = estimator.roles_ == "eval"``, then
    ``diagnostic_intervals(estimator, X[mask], y[mask])``.

    Parameters
    ----------
    estimator : WeakToStrongRegressor or Pipeline
        Fitted; a Pipeline ending in a WeakToStrongRegressor works too.
    X : array-like of shape (n_samples, n_features)
        Held-out inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
        Their true labels (no NaN). ``None`` gives the misfit alone, which
        needs no label.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    multioutput : {"raw_values", "uniform_average"}, array-like or None, \
            default=None
        How to combine tasks; ``None`` does as the estimator's fitted
        diagnostics: a float for one task, one value per task for several.
    confidence_level : float, default=0.95
        Confidence level of the two-sided intervals.
    n_resamples : int, default=9999
        Number of bootstrap resamples: at least ``2 / (1 - confidence_level)``
        (40 at 0.95).
    method : {"BCa", "percentile", "basic"}, default="BCa"
        Interval type, as in :func:`scipy.stats.bootstrap`.
    random_state : int, RandomState instance, Generator or None, default=None
        Seeds the resampling.

    Returns
    -------
    report : dict
        ``weak_error``, ``strong_error``, ``misfit``, ``gain``, ``bound``
        and, for each, ``"<name>_ci"``: a ``(low, high)`` pair (only
        ``misfit`` and ``misfit_ci`` when ``y`` is None).

    See Also
    --------
    weak_to_strong_report : The same from predictions.
    rank_weak_supervisors : Compare several weak supervisors.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skwtsg import WeakToStrongRegressor
    >>> from skwtsg.model_selection import diagnostic_intervals
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(1000, 5))
    >>> y = X @ np.array([1.0, 2.0, 0.0, -1.0, 0.5]) + rng.normal(size=1000)
    >>> est = WeakToStrongRegressor(PCA(n_components=2), random_state=0)
    >>> est = est.fit(X[:500], y[:500])
    >>> rep = diagnostic_intervals(est, X[500:], y[500:], random_state=0)
    >>> low, high = rep["bound_ci"]
    >>> bool(low < rep["bound"] < high)
    True
    >>> sorted(diagnostic_intervals(est, X[500:], random_state=0))
    ['misfit', 'misfit_ci']
    """
    kw: dict[str, Any] = dict(
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        method=method,
        random_state=random_state,
    )
    step, Xt = _unwrap(estimator, X)
    if is_dask_collection(Xt):
        from .._backends import _dask

        check_is_fitted(step)
        return _dask.diagnostic_intervals(
            Xt,
            y,
            model=(
                step.weak_featurizer_,
                step.weak_head_,
                step.strong_featurizer_,
                step.head_,
            ),
            ndim=step._training_dim,
            expected=(
                step.n_features_in_,
                getattr(step, "feature_names_in_", None),
                type(step).__name__,
            ),
            sample_weight=sample_weight,
            multioutput=multioutput,
            **kw,
        )
    y_weak = np.asarray(step.predict_weak(Xt), dtype=float)
    y_strong = np.asarray(step.predict(Xt), dtype=float)
    if y is None:
        if multioutput is None:
            multioutput = "raw_values" if y_weak.ndim == 2 else "uniform_average"
        point = misfit(
            y_weak, y_strong, sample_weight=sample_weight, multioutput=multioutput
        )
        return {
            "misfit": point,
            "misfit_ci": misfit_interval(
                y_weak,
                y_strong,
                multioutput=multioutput,
                sample_weight=sample_weight,
                **kw,
            ),
        }
    y_true, labeled = check_partially_labeled_y(y, n_samples=_num_rows(Xt))
    if not labeled.all():
        raise ValueError(
            "`y` contains NaN: pass only labeled rows, or y=None for the misfit "
            "alone (it needs no label)."
        )
    if multioutput is None:
        multioutput = "raw_values" if y_true.ndim == 2 else "uniform_average"
    return weak_to_strong_report(
        y_true,
        _aligned(y_weak, y_true),
        _aligned(y_strong, y_true),
        multioutput=multioutput,
        sample_weight=sample_weight,
        **kw,
    )
