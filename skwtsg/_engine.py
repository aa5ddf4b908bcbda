"""The weak-to-strong engine: one template ``fit`` for every estimator.

:class:`_BaseWeakToStrong` validates the inputs, assigns the row roles,
chooses a backend (in memory, or Dask for Dask collections), lets it fit the
featurizers and heads and measure the diagnostics, and sets the fitted
attributes from what it returns. A concrete estimator
(:class:`~skwtsg.WeakToStrongRegressor`, :class:`~skwtsg.WeakToStrongClassifier`)
supplies the hooks: its target checks (:meth:`_check_targets`), its default
heads (:meth:`_heads`), its task (:meth:`_task`: the weak labels, the
per-row losses) and what it checks after a fit (:meth:`_after_fit`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, MetaEstimatorMixin
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from ._backends import _memory as memory_backend
from ._backends import is_dask_collection
from ._backends._common import (
    FitResult,
    _check_features,
    _FitData,
    _is_passthrough,
    _num_rows,
    _numeric_rows_hint,
    check_weights,
)
from ._roles import assign_roles

__all__ = ["_BaseWeakToStrong"]


class _BaseWeakToStrong(MetaEstimatorMixin, BaseEstimator):
    """The template fit, the input checks and the predictions of every estimator.

    Subclasses declare ``weak_featurizer``, ``strong_featurizer``, ``head``,
    ``weak_head``, ``eval_size``, ``strong_size`` and ``random_state`` and
    implement the hooks below.
    """

    # ------------------------------------------------------------- hooks
    def _check_heads(self) -> None:
        """Refuse heads of the wrong kind (before any data is read)."""

    def _heads(self) -> tuple[Any, Any]:
        """The unfitted weak head and strong head (defaults resolved)."""
        raise NotImplementedError

    def _check_targets(
        self, y: ArrayLike, n_samples: int, sample_weight: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Validated targets (sets what the task needs) and the labeled mask."""
        raise NotImplementedError

    def _task(self, data: _FitData) -> Any:
        """The task the backend fits (weak labels, outputs, per-row losses)."""
        raise NotImplementedError

    def _fit_dask(
        self, X: Any, y: Any, sample_weight: Any, roles: Any, weak_head: Any, head: Any
    ) -> FitResult:
        raise TypeError(
            f"{type(self).__name__} does not accept Dask collections; pass "
            "in-memory arrays or DataFrames."
        )

    def _after_fit(self, result: FitResult) -> None:
        """Checks of the fitted model (warnings)."""

    # --------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        roles: ArrayLike | None = None,
    ) -> Any:
        """Fit the weak model on true labels, then the strong head on its labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of every row. Numeric unless the featurizers accept other
            data (e.g. an ``(n_samples, 1)`` column of strings for text or
            SMILES featurizers); DataFrames are passed on to the featurizers.
            A Dask array or DataFrame is fitted block by block where the
            estimator supports it (see the user guide, "Larger than
            memory").
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels (class labels or class probabilities for a
            classifier). A missing value (NaN; an all-NaN row) marks an
            unlabeled row.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, used by every head (which must accept them) and by
            the diagnostics.
        roles : array-like of str of shape (n_samples,), default=None
            Explicit role of each row, one of ``"weak"``, ``"strong"``,
            ``"both"``, ``"eval"``; overrides ``eval_size`` and
            ``strong_size``. Unlabeled rows may only be ``"strong"``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_heads()
        weak_head, head = self._heads()
        if is_dask_collection(X):
            result = self._fit_dask(X, y, sample_weight, roles, weak_head, head)
        else:
            data = self._validate_fit_data(X, y, sample_weight, roles)
            result = memory_backend.fit(
                self._task(data),
                data,
                weak_featurizer=self.weak_featurizer,
                strong_featurizer=self.strong_featurizer,
                weak_head=weak_head,
                head=head,
            )
        self._set_fitted(result)
        self._after_fit(result)
        return self

    def _validate_fit_data(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None,
        roles: ArrayLike | None,
    ) -> _FitData:
        """Validate ``X``, ``y`` and ``sample_weight``; assign the roles."""
        X_checked = self._validate_X(X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        weights = check_weights(sample_weight, X_checked.shape[0])
        y_arr, labeled = self._check_targets(y, X_checked.shape[0], weights)
        split = assign_roles(
            labeled,
            eval_size=self.eval_size,
            strong_size=self.strong_size,
            roles=roles,
            random_state=self.random_state,
        )
        X_rows = X if hasattr(X, "iloc") else X_checked
        return _FitData.take(X_rows, y_arr, labeled, weights, split)

    def _set_fitted(self, result: FitResult) -> None:
        self.weak_featurizer_ = result.weak_featurizer
        self.strong_featurizer_ = result.strong_featurizer
        self.weak_head_ = result.weak_head
        self.head_ = result.head
        self.roles_ = result.roles
        if result.n_features_in is not None:  # the Dask backend read the columns
            self.n_features_in_ = result.n_features_in
            if result.feature_names_in is not None:
                self.feature_names_in_ = result.feature_names_in
            else:
                self.__dict__.pop("feature_names_in_", None)
        self.diagnostics_ = result.diagnostics
        values, rows, self.train_report_ = result.diagnostics.select(reuse=result.reuse)
        for name in rows:
            setattr(self, name + "_", values[name])
        self.diagnostic_rows_ = rows

    # ----------------------------------------------------------- inputs
    def _validate_X(self, X: ArrayLike, reset: bool) -> Any:
        # the checks of ``check_rows`` (the Dask path's, per block), which
        # also record the number and names of the columns
        dtype = self._x_dtype()
        with _numeric_rows_hint(dtype):
            return validate_data(
                self, X, reset=reset, dtype=dtype, ensure_all_finite=True
            )

    def _x_dtype(self) -> str | None:
        passthrough = _is_passthrough(self.weak_featurizer) and _is_passthrough(
            self.strong_featurizer
        )
        return "numeric" if passthrough else None

    def _check_predict_input(self, X: ArrayLike) -> Any:
        check_is_fitted(self)
        X_checked = self._validate_X(X, reset=False)
        return X if hasattr(X, "iloc") else X_checked

    def _features(self, side: str, X_rows: Any) -> Any:
        """The fitted ``side`` featurizer's checked features of validated rows."""
        name = f"{side}_featurizer"
        Z = getattr(self, name + "_").transform(X_rows)
        return _check_features(
            Z,
            _num_rows(X_rows),
            name,
            # "passthrough" returns the validated (finite) rows themselves
            check_finite=not _is_passthrough(getattr(self, name)),
        )
