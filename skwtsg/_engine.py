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
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils._user_interface import _print_elapsed_time
from sklearn_compat.utils.validation import validate_data

from ._backends import _memory as memory_backend
from ._backends import is_dask_collection
from ._backends._common import (
    FitResult,
    Progress,
    _check_features,
    _FitData,
    _is_fixed_weak_model,
    _is_passthrough,
    _num_rows,
    _numeric_rows_hint,
    check_weights,
)
from ._roles import EVAL_SIZE_CONSTRAINTS, STRONG_SIZE_CONSTRAINTS, assign_roles
from ._utils._docstrings import fill_doc

__all__ = ["_BaseWeakToStrong", "check_X", "check_fit_inputs"]


@fill_doc
class _BaseWeakToStrong(MetaEstimatorMixin, BaseEstimator):
    """The template fit, the input checks and the predictions of every estimator.

    Subclasses declare ``weak_featurizer``, ``strong_featurizer``, ``head``,
    ``weak_head``, ``eval_size``, ``strong_size``, ``random_state`` and
    ``verbose`` (with
    the constraints below, and those of their heads) and implement the hooks
    below.
    """

    _parameter_constraints: dict = {
        "weak_featurizer": [
            HasMethods(["fit", "transform"]),
            StrOptions({"passthrough"}),
        ],
        "strong_featurizer": [
            HasMethods(["fit", "transform"]),
            StrOptions({"passthrough"}),
        ],
        "eval_size": list(EVAL_SIZE_CONSTRAINTS),
        "strong_size": list(STRONG_SIZE_CONSTRAINTS),
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

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

    def _after_fit(self, result: FitResult, task: Any) -> None:
        """What the estimator keeps of its task, and checks of the fit (warnings).

        ``task`` is what :meth:`_task` returned (``None`` on Dask inputs).
        """

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
        {fit_weights_roles}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_heads()
        weak_head, head = self._heads()
        task = None
        progress = Progress(type(self).__name__, self.verbose)
        if is_dask_collection(X):
            # the Dask backend's passes interleave the stages: one line
            with _print_elapsed_time(
                progress.estimator,
                "fit on Dask collections" if self.verbose else None,
            ):
                result = self._fit_dask(X, y, sample_weight, roles, weak_head, head)
        else:
            data = self._validate_fit_data(X, y, sample_weight, roles)
            task = self._task(data)
            result = memory_backend.fit(
                task,
                data,
                weak_featurizer=self.weak_featurizer,
                strong_featurizer=self.strong_featurizer,
                weak_head=weak_head,
                head=head,
                progress=progress,
            )
        self._set_fitted(result)
        self._after_fit(result, task)
        return self

    def _validate_fit_data(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None,
        roles: ArrayLike | None,
    ) -> _FitData:
        """Validate ``X``, ``y`` and ``sample_weight``; assign the roles."""
        X_rows, n_samples, weights = check_fit_inputs(
            self, X, y, sample_weight, numeric=self._numeric_X()
        )
        y_arr, labeled = self._check_targets(y, n_samples, weights)
        split = assign_roles(
            labeled,
            eval_size=self.eval_size,
            strong_size=self.strong_size,
            roles=roles,
            random_state=self.random_state,
            fixed_weak=_is_fixed_weak_model(self.weak_featurizer, self._heads()[0]),
        )
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
    def _numeric_X(self) -> bool:
        return _is_passthrough(self.weak_featurizer) and _is_passthrough(
            self.strong_featurizer
        )

    def _check_predict_input(self, X: ArrayLike) -> Any:
        check_is_fitted(self)
        return check_X(self, X, numeric=self._numeric_X(), reset=False)

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


def check_X(estimator: Any, X: ArrayLike, *, numeric: bool, reset: bool) -> Any:
    """Validate ``X`` for ``estimator``; the rows as the featurizers get them.

    ``numeric`` when every featurizer is "passthrough" (the heads see ``X``
    itself); otherwise the featurizers may take other data (strings), and a
    DataFrame is passed on as it is, once checked.
    """
    dtype = "numeric" if numeric else None
    with _numeric_rows_hint(dtype):
        X_checked = validate_data(
            estimator, X, reset=reset, dtype=dtype, ensure_all_finite=True
        )
    return X if hasattr(X, "iloc") else X_checked


def check_fit_inputs(
    estimator: Any,
    X: ArrayLike,
    y: ArrayLike | None,
    sample_weight: ArrayLike | None,
    *,
    numeric: bool,
) -> tuple[Any, int, np.ndarray | None]:
    """Validate the inputs of ``fit``: the rows, their count and the weights."""
    X_rows = check_X(estimator, X, numeric=numeric, reset=True)
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target "
            "y is None."
        )
    n_samples = _num_rows(X_rows)
    return X_rows, n_samples, check_weights(sample_weight, n_samples)
