"""Scorers for model selection by the paper's heuristic."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._utils._validation import check_partially_labeled_y
from ..metrics import misfit
from ..metrics._losses import _mse

__all__ = ["bound_scorer", "misfit_scorer", "strong_error_scorer"]


def _unwrap(estimator, X, *, method="predict_weak", kind="WeakToStrongRegressor"):
    """The weak-to-strong step and its input, through a Pipeline's transforms.

    ``method`` is what the scorer calls on the step (``predict_weak`` for the
    regressor's scorers, ``predict_weak_proba`` for the classifier's), ``kind``
    the estimator named in the error.
    """
    check_is_fitted(estimator)
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    if not hasattr(estimator, method):
        raise TypeError(
            f"{type(estimator).__name__} has no `{method}`: these weak-to-strong "
            f"scorers need a {kind} (or a Pipeline ending in one)."
        )
    if method == "predict_weak" and is_classifier(estimator):
        # Squared errors of predicted class labels would be meaningless.
        raise TypeError(
            f"{type(estimator).__name__} is a classifier: these squared-error "
            f"diagnostics need a {kind}; use skwtsg.kl_bound_scorer, "
            "kl_strong_error_scorer or skwtsg.metrics.kl_misfit for classifiers."
        )
    return estimator, X


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _aligned(y_pred, y):
    """Predictions shaped like ``y``: (n,) and (n, 1) are the same task."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return y_pred.reshape(y.shape) if y_pred.size == y.size else y_pred


def bound_scorer(estimator: Any, X: ArrayLike, y: ArrayLike) -> float:
    """Score a fitted weak-to-strong model by minus its bound on held-out rows.

    Returns ``-(weak error - misfit)`` measured on ``(X, y)``: the negative of
    Theorem 1's upper bound on the strong model's error. It needs true labels
    only for the weak model: the misfit is measured on every row of ``X``
    (rows whose ``y`` is NaN count too), the weak error on the labeled rows.
    Higher is better, so ``GridSearchCV(..., scoring=bound_scorer)`` picks the
    weak supervisor with the smallest bound, the paper's heuristic
    (Section 5.2, Tables 1-3). For several tasks the bound is averaged.

    Parameters
    ----------
    estimator : WeakToStrongRegressor or Pipeline
        Fitted; a Pipeline ending in a WeakToStrongRegressor works too.
    X : array-like of shape (n_samples, n_features)
        Held-out inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Their true labels; NaN marks unlabeled rows.

    Returns
    -------
    score : float
        ``misfit - weak_error``.

    See Also
    --------
    skwtsg.metrics.bound : The bound from predictions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skwtsg import WeakToStrongRegressor, bound_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 6))
    >>> y = X @ rng.normal(size=6)
    >>> search = GridSearchCV(
    ...     WeakToStrongRegressor(random_state=0),
    ...     {"weak_featurizer": [PCA(n_components=1), PCA(n_components=4)]},
    ...     scoring=bound_scorer, cv=3,
    ... ).fit(X, y)
    >>> search.best_params_["weak_featurizer"]
    PCA(n_components=4)
    """
    estimator, X = _unwrap(estimator, X)
    y, labeled = check_partially_labeled_y(
        y, n_samples=_num_rows(X), require_labeled="bound_scorer"
    )
    y_weak = _aligned(estimator.predict_weak(X), y)
    y_strong = _aligned(estimator.predict(X), y)
    weak_error = _mse(
        y[labeled], y_weak[labeled], None, "uniform_average", ("y", "y_weak")
    )
    return float(misfit(y_weak, y_strong) - weak_error)


def misfit_scorer(estimator: Any, X: ArrayLike, y: ArrayLike | None = None) -> float:
    """Score a fitted weak-to-strong model by its misfit on ``X`` (no labels).

    Higher misfit means, by Theorem 1, a larger guaranteed gain over the weak
    supervisor (for a fixed weak error).

    Parameters
    ----------
    estimator : WeakToStrongRegressor
        Fitted.
    X : array-like of shape (n_samples, n_features)
        Inputs.
    y : ignored
        Present for the scorer signature.

    Returns
    -------
    score : float
        The misfit, averaged over tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skwtsg import WeakToStrongRegressor, misfit_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4)); y = X.sum(axis=1)
    >>> est = WeakToStrongRegressor(PCA(n_components=1), random_state=0).fit(X, y)
    >>> misfit_scorer(est, X) > 0
    True
    """
    estimator, X = _unwrap(estimator, X)
    return float(misfit(estimator.predict_weak(X), estimator.predict(X)))


def strong_error_scorer(estimator: Any, X: ArrayLike, y: ArrayLike) -> float:
    """Minus the strong model's mean squared error on the labeled rows of ``(X, y)``.

    The check that goes beside :func:`bound_scorer` when true labels are at
    hand: unlike ``"neg_mean_squared_error"`` it skips rows whose ``y`` is NaN
    (unlabeled) instead of failing on them. For several tasks the error is
    averaged.

    Parameters
    ----------
    estimator : WeakToStrongRegressor or Pipeline
        Fitted.
    X : array-like of shape (n_samples, n_features)
        Held-out inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels; NaN marks unlabeled rows.

    Returns
    -------
    score : float
        ``-mean((predict(X) - y)^2)`` over labeled rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skwtsg import WeakToStrongRegressor, strong_error_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 4)); y = X.sum(axis=1)
    >>> est = WeakToStrongRegressor(PCA(n_components=2), random_state=0).fit(X, y)
    >>> y[:50] = np.nan
    >>> strong_error_scorer(est, X, y) < 0
    True
    """
    estimator, X = _unwrap(estimator, X)
    y, labeled = check_partially_labeled_y(
        y, n_samples=_num_rows(X), require_labeled="strong_error_scorer"
    )
    y_strong = _aligned(estimator.predict(X), y)
    return -float(
        _mse(y[labeled], y_strong[labeled], None, "uniform_average", ("y", "y_strong"))
    )
