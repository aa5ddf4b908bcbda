"""The template of the exact linear heads: ``fit``, ``predict`` and tags."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_sample_weight,
    check_is_fitted,
)
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from ._problem import _prepare_problem, _Problem, _row_blocks
from ._solvers import _safe_ratio
from ._tags import HeadTags, SkwtsgTags


def _validate_head_data(head, X, y, sample_weight, *, check_finite=True):
    """``(X, Y 2-D, y.ndim, sample_weight or None)`` of a head's ``fit`` input;
    ``check_finite=False`` leaves finiteness to :func:`_check_finite_statistics`
    (one pass over the data fewer)."""
    with config_context(assume_finite=True) if not check_finite else nullcontext():
        X, y = validate_data(
            head, X, y, dtype=np.float64, y_numeric=True, multi_output=True
        )
    y = np.asarray(y, dtype=np.float64)
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return X, Y, y.ndim, sample_weight


def _check_finite_statistics(head, problem, X, Y):
    """scikit-learn's error for non-finite ``X`` or ``Y``, looked for only when
    the column sums of the prepared problem are not finite."""
    if np.isfinite(problem.x_sum).all() and np.isfinite(problem.y_sum).all():
        return
    name = type(head).__name__
    _assert_all_finite(X, input_name="X", estimator_name=name)
    _assert_all_finite(Y, input_name="y", estimator_name=name)


@dataclass
class _Solution:
    """What a head's ``_solve`` returns: the active columns' ``coef``, the
    per-target ``certificate`` (without the intercept's), fitted attributes
    with one value per target (``per_target``) and others (``info``)."""

    coef: np.ndarray
    certificate: np.ndarray
    per_target: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def _mean_residual(problem, coef, y_offset):
    """``(mean, w_sum)``: the weighted mean of ``Y - (X - x̄) coef - y_offset``
    per target, from the column sums of the centred rows (no pass over the
    data)."""
    total = problem.y_sum - problem.w_sum * (y_offset - problem.y_offset)
    total = total - problem.x_sum @ coef
    return total / problem.w_sum, problem.w_sum


def _fit_intercept(problem, coef):
    """The intercept's offset with zero weighted mean residual, and its certificate.

    ``ȳ`` is optimal only if the centred columns sum to exactly 0, which
    rounding breaks for large means: one refinement step fixes it. The
    certificate is ``|Σ w_i r_ik| / (√(Σ w) ‖y_k‖)`` after the step.
    """
    y_offset = problem.y_offset.copy()
    delta, _ = _mean_residual(problem, coef, y_offset)
    y_offset += delta
    delta, w_sum = _mean_residual(problem, coef, y_offset)
    return y_offset, _safe_ratio(np.sqrt(w_sum) * np.abs(delta), problem.y_norms)


class _BaseHead(RegressorMixin, BaseEstimator):
    """Template ``fit``, prediction and tags shared by the exact linear heads.

    ``fit`` prepares the centred weighted problem, calls the head's
    ``_solve`` on its active columns (a :class:`_Solution`), fits the
    intercept and stores ``coef_``, ``intercept_``, ``kkt_residual_`` and the
    head's attributes (without active columns: zeros and
    ``_constant_info()``).
    """

    #: Names of the fitted attributes with one value per target.
    _per_target_attributes: tuple = ()

    def _constant_info(self) -> dict:
        """Other fitted attributes when no column is active (all constant)."""
        return {}

    def _solve(self, problem: _Problem) -> _Solution:
        raise NotImplementedError

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> _BaseHead:
        """Fit the exact solution for every target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Strong features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (for weak-to-strong training, the weak labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the squared errors.

        Returns
        -------
        self : object
            The fitted head.
        """
        X_arr, Y, y_ndim, sample_weight = _validate_head_data(
            self, X, y, sample_weight, check_finite=False
        )
        self.__dict__.pop("_statistics", None)  # a new fit forgets ``partial_fit``
        with np.errstate(invalid="ignore"):  # NaN statistics of non-finite data
            problem = _prepare_problem(
                X_arr,
                Y,
                sample_weight,
                self.fit_intercept,
                gram=self._uses_gram(*X_arr.shape),
            )
        _check_finite_statistics(self, problem, X_arr, Y)
        return self._fit_problem(problem, y_ndim)

    def _uses_gram(self, n_samples: int, n_features: int) -> bool:
        """Whether ``_solve`` needs the Gram matrix (else it reads the rows)."""
        return True

    def _fit_problem(self, problem, y_ndim):
        """Solve a prepared problem (or a statistics-only one, which fits its own
        intercept) and set the fitted attributes."""
        m = problem.n_targets
        coef = np.zeros((problem.n_features, m))
        if problem.active.any():
            solution = self._solve(problem)
            coef[problem.active] = solution.coef
        else:
            solution = _Solution(
                coef=coef,
                certificate=np.zeros(m),
                per_target={name: np.zeros(m) for name in self._per_target_attributes},
                info=self._constant_info(),
            )
        certificate = np.asarray(solution.certificate, dtype=np.float64)
        y_offset = problem.y_offset
        if self.fit_intercept:
            if isinstance(problem, _Problem):
                y_offset, intercept_cert = _fit_intercept(problem, coef)
            else:
                y_offset, intercept_cert = problem.fit_intercept(coef)
            certificate = np.maximum(certificate, intercept_cert)
        self.kkt_residual_ = float(np.max(certificate, initial=0.0))
        for name, value in solution.per_target.items():
            setattr(self, name, float(value[0]) if y_ndim == 1 else value)
        for name, value in solution.info.items():
            setattr(self, name, value)
        self._set_linear(problem, coef, y_offset, y_ndim)
        return self

    def _set_linear(self, problem, coef, y_offset, y_ndim):
        """Store ``coef_`` and ``intercept_`` in LinearRegression's shapes."""
        intercept = y_offset - problem.X_offset @ coef
        self._X_offset = problem.X_offset
        if y_ndim == 1:
            self.coef_ = coef[:, 0].copy()
            self.intercept_ = float(intercept[0])
            self._y_offset = float(y_offset[0])
        else:
            self.coef_ = np.ascontiguousarray(coef.T)
            self.intercept_ = intercept
            self._y_offset = y_offset

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict with the fitted linear head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            ``X @ coef_.T + intercept_``, evaluated as ``(X - x̄) @ coef_.T +
            ȳ`` (no cancellation when the features have large means).
        """
        check_is_fitted(self)
        X_arr = validate_data(self, X, reset=False, dtype=np.float64)
        out_shape = (X_arr.shape[0],) + self.coef_.shape[:-1]
        y_pred = np.empty(out_shape)
        for rows in _row_blocks(*X_arr.shape):
            y_pred[rows] = (
                X_arr[rows] - self._X_offset
            ) @ self.coef_.T + self._y_offset
        return y_pred

    def __sklearn_tags__(self):
        tags = SkwtsgTags.from_tags(super().__sklearn_tags__())
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = False
        tags.head_tags = HeadTags(convex=True, exact=True)
        return tags
