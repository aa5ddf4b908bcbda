"""Pretrain, then freeze: a featurizer fitted on its own data inside ``fit``."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import get_tags
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _num_features, check_is_fitted, check_memory
from sklearn_compat.base import _fit_context

__all__ = ["PretrainedFeaturizer"]


def _pretrain(featurizer: Any, X: Any, y: Any) -> Any:
    """``featurizer`` fitted on the pretraining data (cached by ``memory``)."""
    return featurizer.fit(X) if y is None else featurizer.fit(X, y)


def _featurizer_has(name: str):
    def check(self):
        inner = getattr(self, "featurizer_", self.featurizer)
        return hasattr(inner, name)

    return check


class PretrainedFeaturizer(MetaEstimatorMixin, TransformerMixin, BaseEstimator):
    """Pretrain a featurizer on its own data, then use it as a fixed one.

    ``fit(X, y)`` fits a clone of ``featurizer`` on ``(X_pretrain,
    y_pretrain)`` only: the ``X`` and ``y`` it is given (inside
    :class:`~skwtsg.WeakToStrongRegressor`, the strong rows and their *weak*
    labels) are read only to check the number of features, never learned
    from. ``transform`` is the pretrained featurizer's. So the strong
    representation ``h_s`` is fixed before it meets the weak labels, as
    Theorem 1 assumes, and, unlike a pretrained featurizer wrapped in
    :class:`sklearn.frozen.FrozenEstimator`, its own parameters stay
    searchable: ``strong_featurizer__featurizer__module__n_layers`` in a
    :class:`~sklearn.model_selection.GridSearchCV` pretrains each candidate
    architecture on the pretraining data and scores it, e.g. by
    :func:`skwtsg.bound_scorer`.

    Parameters
    ----------
    featurizer : transformer
        The featurizer to pretrain (e.g. a
        :class:`MultiTaskFeaturizer` or a :class:`SkorchFeaturizer`);
        cloned, never modified.
    X_pretrain : array-like of shape (n_pretrain_samples, n_features)
        The pretraining inputs; the same features as the ``X`` of ``fit``
        and ``transform``.
    y_pretrain : array-like of shape (n_pretrain_samples,) or \
(n_pretrain_samples, n_tasks), default=None
        The pretraining labels (``None``: ``featurizer.fit(X_pretrain)``);
        checked by ``featurizer`` (a :class:`MultiTaskFeaturizer` takes NaN
        for a task a row has no label of).
    memory : str, joblib.Memory or None, default=None
        Caches the pretrained featurizer, as
        :class:`~sklearn.pipeline.Pipeline`'s ``memory``: a grid search
        refits the estimator once per fold, but pretraining does not depend
        on the fold, so with a cache each candidate is pretrained once. The
        cache is keyed by ``featurizer``'s parameters and the pretraining
        data: give the featurizer a fixed ``random_state``.

    Attributes
    ----------
    featurizer_ : transformer
        The pretrained clone of ``featurizer``; ``transform`` uses it as is.
    n_features_in_ : int
        Number of features of the pretraining data (when ``featurizer``
        records it).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the pretraining data's features, when ``featurizer`` records
        them.

    See Also
    --------
    sklearn.frozen.FrozenEstimator : Keeps an already-fitted featurizer as
        it is (its parameters are then hidden from searches).
    MultiTaskFeaturizer : The paper's multi-task pretraining.
    SkorchFeaturizer : A representation trained with skorch.

    Notes
    -----
    Why a meta-transformer rather than metadata routing of the pretraining
    data to ``fit``: the pretraining rows are not the rows of ``X``. Routed
    metadata is sample-aligned, so a grid search splits any routed array
    with as many rows as ``X`` by its folds (silently, when the counts
    happen to match), routing must be
    enabled globally, and every estimator between the search and the
    featurizer must request it. The pretraining data is part of what the
    representation *is*, so it belongs to the featurizer's parameters, and
    ``clone`` and nested ``get_params``/``set_params`` then need nothing
    else. A clone copies ``X_pretrain``: keep the pretraining data of a size
    that can be copied once per candidate and fold.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skwtsg.featurizers import PretrainedFeaturizer
    >>> rng = np.random.default_rng(0)
    >>> X_pre = rng.normal(size=(200, 5)) * [5, 4, 3, 2, 1]
    >>> feat = PretrainedFeaturizer(PCA(n_components=2), X_pre)
    >>> X, y = rng.normal(size=(10, 5)), rng.normal(size=10)
    >>> Z = feat.fit(X, y).transform(X)  # PCA of X_pre; X, y only checked
    >>> bool(np.allclose(Z, PCA(n_components=2).fit(X_pre).transform(X)))
    True
    >>> sorted(feat.get_params())[:3]
    ['X_pretrain', 'featurizer', 'featurizer__copy']
    """

    _parameter_constraints: dict = {
        "featurizer": [HasMethods(["fit", "transform"])],
        "X_pretrain": ["array-like"],
        "y_pretrain": ["array-like", None],
        "memory": [None, str, HasMethods(["cache"])],
    }

    def __init__(
        self,
        featurizer: Any,
        X_pretrain: ArrayLike,
        y_pretrain: ArrayLike | None = None,
        *,
        memory: Any = None,
    ) -> None:
        self.featurizer = featurizer
        self.X_pretrain = X_pretrain
        self.y_pretrain = y_pretrain
        self.memory = memory

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> PretrainedFeaturizer:
        """Pretrain a clone of ``featurizer`` on the pretraining data only.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows the featurizer will transform; only their number of
            features is checked against the pretraining data's.
        y : array-like, default=None
            Ignored: inside a weak-to-strong fit these are the weak labels,
            which the representation must not learn from.

        Returns
        -------
        self : PretrainedFeaturizer
            Fitted transformer.
        """
        pretrain = check_memory(self.memory).cache(_pretrain)
        self.featurizer_ = pretrain(
            clone(self.featurizer), self.X_pretrain, self.y_pretrain
        )
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.featurizer_, name):
                setattr(self, name, getattr(self.featurizer_, name))
            else:
                self.__dict__.pop(name, None)
        expected = getattr(self, "n_features_in_", None)
        try:
            n_features = _num_features(X)
        except TypeError:  # e.g. a 1-D sequence of strings: the featurizer's
            n_features = None
        if expected is not None and n_features not in (None, expected):
            raise ValueError(
                f"X has {n_features} features, but `X_pretrain` has {expected}: "
                "the featurizer is pretrained on X_pretrain and must transform "
                "rows with the same features."
            )
        return self

    def transform(self, X: ArrayLike) -> Any:
        """Featurize ``X`` with the pretrained featurizer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, with the pretraining data's features.

        Returns
        -------
        X_new : array-like of shape (n_samples, n_features_out)
            ``featurizer_.transform(X)``.
        """
        check_is_fitted(self)
        return self.featurizer_.transform(X)

    @available_if(_featurizer_has("get_feature_names_out"))
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The pretrained featurizer's output feature names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Passed to ``featurizer_.get_feature_names_out``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``featurizer_.get_feature_names_out(input_features)``.
        """
        check_is_fitted(self)
        return self.featurizer_.get_feature_names_out(input_features)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "featurizer_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.featurizer)
        tags.input_tags = inner.input_tags
        if inner.transformer_tags is not None:
            tags.transformer_tags = inner.transformer_tags
        # it learns from X_pretrain, never from the y of fit
        tags.target_tags.required = False
        return tags
