"""Scorers for weak-to-strong classifiers: choose a weak supervisor by the KL bound."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._utils._validation import check_partially_labeled_classes
from ..metrics import kl_error, kl_misfit
from ._scorer import _num_rows, _unwrap

__all__ = ["kl_bound_scorer", "kl_strong_error_scorer"]


def _unwrap_classifier(estimator, X):
    """The weak-to-strong classifier and its input, through a Pipeline."""
    return _unwrap(
        estimator, X, method="predict_weak_proba", kind="WeakToStrongClassifier"
    )


def _truth(estimator, X, y, caller) -> tuple[np.ndarray, np.ndarray]:
    truth, labeled, _, _ = check_partially_labeled_classes(
        y, n_samples=_num_rows(X), require_labeled=caller
    )
    return truth, labeled


def kl_bound_scorer(estimator: Any, X: ArrayLike, y: ArrayLike) -> float:
    """Score a fitted weak-to-strong classifier by minus its bound on held-out rows.

    Returns ``-(weak error - misfit)`` on ``(X, y)``: the weak error is
    ``E[KL(p_w ‖ p*)]`` when ``y`` holds class probabilities, the weak
    model's log-loss with class labels (on the labeled rows); the misfit
    ``E[KL(p_w ‖ p_sw)]`` is measured on every row of ``X`` (unlabeled rows
    count too). Higher is better, so ``GridSearchCV(WeakToStrongClassifier(...),
    {"weak_featurizer": [...]}, scoring=kl_bound_scorer)`` picks the weak
    supervisor whose strong student has the smallest bound.

    Parameters
    ----------
    estimator : WeakToStrongClassifier or Pipeline
        Fitted; a Pipeline ending in a WeakToStrongClassifier works too.
    X : array-like of shape (n_samples, n_features)
        Held-out inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Their class labels (missing values mark unlabeled rows) or class
        probabilities (all-NaN rows unlabeled).

    Returns
    -------
    score : float
        ``misfit - weak_error``.

    See Also
    --------
    skwtsg.metrics.kl_bound : The bound from probabilities.
    skwtsg.bound_scorer : The regression counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skwtsg import WeakToStrongClassifier, kl_bound_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(600, 6))
    >>> y = (X @ rng.normal(size=6) + 0.5 * rng.normal(size=600) > 0).astype(int)
    >>> search = GridSearchCV(
    ...     WeakToStrongClassifier(random_state=0),
    ...     {"weak_featurizer": [PCA(n_components=1), PCA(n_components=5)]},
    ...     scoring=kl_bound_scorer, cv=3,
    ... ).fit(X, y)
    >>> search.best_params_["weak_featurizer"]
    PCA(n_components=5)
    """
    estimator, X = _unwrap_classifier(estimator, X)
    truth, labeled = _truth(estimator, X, y, "kl_bound_scorer")
    p_weak = estimator.predict_weak_proba(X)
    p_strong = estimator.predict_proba(X)
    weak_error = kl_error(truth[labeled], p_weak[labeled], labels=estimator.classes_)
    return float(kl_misfit(p_weak, p_strong) - weak_error)


def kl_strong_error_scorer(estimator: Any, X: ArrayLike, y: ArrayLike) -> float:
    """Minus the strong model's error on the labeled rows of ``(X, y)``.

    The error is ``E[KL(p_sw ‖ p*)]`` for class probabilities, the log-loss
    for class labels; unlabeled rows are skipped. The check that goes beside
    :func:`kl_bound_scorer` when true labels are at hand.

    Parameters
    ----------
    estimator : WeakToStrongClassifier or Pipeline
        Fitted.
    X : array-like of shape (n_samples, n_features)
        Held-out inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels or probabilities; missing values mark unlabeled rows.

    Returns
    -------
    score : float
        ``-strong_error``.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg import WeakToStrongClassifier, kl_strong_error_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = (X[:, 0] + rng.normal(size=300) > 0).astype(float)
    >>> est = WeakToStrongClassifier(random_state=0).fit(X, y)
    >>> y[:50] = np.nan
    >>> kl_strong_error_scorer(est, X, y) < 0
    True
    """
    estimator, X = _unwrap_classifier(estimator, X)
    truth, labeled = _truth(estimator, X, y, "kl_strong_error_scorer")
    p_strong = estimator.predict_proba(X)
    return -float(
        kl_error(truth[labeled], p_strong[labeled], labels=estimator.classes_)
    )
