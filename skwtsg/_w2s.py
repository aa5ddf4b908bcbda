"""The weak-to-strong meta-estimator."""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import assert_all_finite
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    has_fit_parameter,
)
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from ._dask import is_dask_collection
from ._roles import (
    EVAL_SIZE_CONSTRAINTS,
    ROLES,
    STRONG_SIZE_CONSTRAINTS,
    RoleAssignment,
    assign_roles,
)
from ._utils._validation import (
    check_partially_labeled_y,
    check_real_arrays,
    take_rows,
)
from .heads import LeastSquaresHead, check_head_convexity
from .heads._base import _BaseHead
from .metrics._gain import _mse_kernel, _report_kernel

__all__ = ["WeakToStrongRegressor", "ROLES"]

_DIAGNOSTICS = ("weak_error", "strong_error", "misfit", "gain", "bound")


@dataclass(frozen=True)
class _RoleRows:
    """The inputs of each role's rows, taken from ``X`` in one indexing.

    One copy of the rows ordered weak, strong (unless they are the weak
    rows), eval; each attribute is a slice of it (a view for an array), so no
    row is copied twice.

    Attributes
    ----------
    weak, strong, eval : array-like
        The inputs of the weak, strong and eval rows.
    after_weak : array-like
        The strong rows (unless they are the weak rows) then the eval rows:
        what the weak model labels, in one call.
    same : bool
        Whether the strong rows are the weak rows (every row ``"both"``).
    """

    weak: Any
    strong: Any
    eval: Any
    after_weak: Any
    same: bool


def _take_role_rows(X: Any, split: RoleAssignment) -> _RoleRows:
    """Index ``X`` once by the rows of every role (see :class:`_RoleRows`)."""
    same = np.array_equal(split.strong_rows, split.weak_rows)
    blocks = [split.weak_rows] + ([] if same else [split.strong_rows])
    taken = take_rows(X, np.concatenate(blocks + [split.eval_rows]))
    n_weak, n_eval, n = len(split.weak_rows), len(split.eval_rows), _num_rows(taken)

    def part(start: int, stop: int) -> Any:
        return take_rows(taken, slice(start, stop))

    weak = part(0, n_weak)
    return _RoleRows(
        weak=weak,
        strong=weak if same else part(n_weak, n - n_eval),
        eval=part(n - n_eval, n),
        after_weak=part(n_weak, n),
        same=same,
    )


@dataclass(frozen=True)
class _FitData:
    """The validated training data of a weak-to-strong fit and its roles.

    Attributes
    ----------
    rows : _RoleRows
        The inputs of each role's rows as the featurizers receive them (a
        DataFrame stays one).
    y : ndarray of float64
        Targets, NaN on unlabeled rows.
    labeled : ndarray of bool
        Which rows have a label.
    sample_weight : ndarray of float64 or None
        Row weights.
    split : RoleAssignment
        The role of every row.
    """

    rows: _RoleRows
    y: np.ndarray
    labeled: np.ndarray
    sample_weight: np.ndarray | None
    split: RoleAssignment

    @classmethod
    def take(
        cls,
        X: Any,
        y: np.ndarray,
        labeled: np.ndarray,
        sample_weight: np.ndarray | None,
        split: RoleAssignment,
    ) -> _FitData:
        """The fit data with the inputs of each role taken from ``X`` once."""
        return cls(_take_role_rows(X, split), y, labeled, sample_weight, split)

    def weights(self, index: NDArray[np.intp]) -> np.ndarray | None:
        """The weights of the rows ``index`` (``None`` for unit weights)."""
        return None if self.sample_weight is None else self.sample_weight[index]

    @property
    def strong_labeled(self) -> bool:
        """Whether every strong row has a true label."""
        return bool(self.labeled[self.split.strong_rows].all())

    @property
    def needs_weak_in_sample(self) -> bool:
        """Whether the weak error is measured on the weak model's own rows.

        So when there are no eval rows and the strong rows are unlabeled.
        """
        return not len(self.split.eval_rows) and not self.strong_labeled


@dataclass(frozen=True)
class _Predictions:
    """The predictions the diagnostics need, each made once during fit.

    ``weak_on_weak`` is ``None`` unless the weak error is measured in-sample
    (or the strong rows are the weak rows); the eval predictions have no row
    without eval rows.
    """

    weak_on_weak: np.ndarray | None
    weak_on_strong: np.ndarray
    strong_on_strong: np.ndarray
    weak_on_eval: np.ndarray
    strong_on_eval: np.ndarray


class _BaseWeakToStrong(MetaEstimatorMixin, BaseEstimator):
    """What is not specific to regression: input checks, roles, predictions.

    A weak-to-strong estimator for another task (e.g. classification)
    inherits this with its own ``fit`` and diagnostics; it declares
    ``weak_featurizer``, ``strong_featurizer``, ``weak_head_``, ``head_``,
    ``eval_size``, ``strong_size`` and ``random_state`` like
    :class:`WeakToStrongRegressor`.
    """

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
        y_arr, labeled = check_partially_labeled_y(y, n_samples=X_checked.shape[0])
        self._training_dim = y_arr.ndim
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, X_checked, ensure_non_negative=True
            )
        split = assign_roles(
            labeled,
            eval_size=self.eval_size,
            strong_size=self.strong_size,
            roles=roles,
            random_state=self.random_state,
        )
        self.roles_ = split.names()
        X_rows = X if hasattr(X, "iloc") else X_checked
        return _FitData.take(X_rows, y_arr, labeled, weights, split)

    def _validate_X(self, X: ArrayLike, reset: bool) -> Any:
        dtype = self._x_dtype()
        try:
            return validate_data(
                self, X, reset=reset, dtype=dtype, ensure_all_finite=True
            )
        except ValueError as exc:
            if dtype == "numeric" and "could not convert" in str(exc):
                raise ValueError(
                    f"X must be numeric when both featurizers are 'passthrough' "
                    f"({exc}); encode such columns in a featurizer (e.g. a "
                    "ColumnTransformer with a OneHotEncoder)."
                ) from exc
            raise

    def _x_dtype(self) -> str | None:
        passthrough = _is_passthrough(self.weak_featurizer) and _is_passthrough(
            self.strong_featurizer
        )
        return "numeric" if passthrough else None

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

    def _predict_weak(self, X_rows: Any, ndim: int) -> np.ndarray:
        return _head_predict(self.weak_head_, self._features("weak", X_rows), ndim)

    def _predict_strong(self, X_rows: Any, ndim: int) -> np.ndarray:
        return _head_predict(self.head_, self._features("strong", X_rows), ndim)

    def _check_predict_input(self, X: ArrayLike) -> Any:
        check_is_fitted(self)
        X_checked = self._validate_X(X, reset=False)
        return X if hasattr(X, "iloc") else X_checked


class WeakToStrongRegressor(RegressorMixin, _BaseWeakToStrong):
    """Train a strong model on a weak model's labels and measure the gain.

    A weak model ``f_w∘h_w`` (``weak_featurizer`` then ``weak_head``) is fitted
    on true labels. It then labels the strong model's training rows, and the
    strong head ``f_sw`` (``head``) is fitted on the strong representation
    ``h_s`` (``strong_featurizer``) against those weak labels only: no true
    label ever reaches the strong featurizer or head. When the head is the
    exact least-squares minimiser over a convex set that contains the target,
    Theorem 1 of Charikar et al. (2024) holds::

        err(strong) <= err(weak) - misfit

    so the fitted ``gain_`` is at least ``misfit_`` and ``bound_`` bounds the
    strong model's error without any true label on the strong side.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    weak_featurizer : transformer or "passthrough", default="passthrough"
        The weak representation ``h_w``: any scikit-learn transformer or
        Pipeline. It is cloned and fitted on the weak model's rows, with their
        true labels.
    strong_featurizer : transformer or "passthrough", default="passthrough"
        The strong representation ``h_s``. It is cloned and fitted on the
        strong model's rows with the *weak* labels as ``y``. Wrap an
        already-fitted representation in :class:`sklearn.frozen.FrozenEstimator`
        to keep it fixed.
    head : regressor, default=None
        The strong model's head, a regressor over a convex set ``F_s``;
        ``None`` means :class:`skwtsg.heads.LeastSquaresHead` (exact least
        squares with intercept). A head not known to be a projection onto a
        convex set raises a ``UserWarning`` saying Theorem 1 does not apply.
    weak_head : regressor, default=None
        The weak model's head ``f_w``; ``None`` means a clone of ``head``.
    eval_size : float or int, default=0.2
        Labeled rows held out from both models to measure the diagnostics
        (ignored when ``roles`` is passed to :meth:`fit`). A float is a
        fraction of the labeled rows (rounded up), an int a count; 0 measures
        them on the strong model's training rows instead (see Notes).
    strong_size : float, int or "reuse", default=0.5
        When every row is labeled, how the labeled rows not held out for
        evaluation are divided: a float is the fraction (rounded up), an int
        the count, of rows given to the strong model (their labels are
        hidden from it and only used afterwards to measure its error); the
        rest train the weak model. ``"reuse"`` trains both models on the same
        rows (the weak labels are then made on the weak model's own training
        inputs, as in the paper's molecular experiments). Ignored when some
        rows are unlabeled (they are the strong model's rows) or when
        ``roles`` is passed to :meth:`fit`.
    random_state : int, RandomState instance or None, default=None
        Controls the random division of rows between roles. Pass an int for
        reproducible output across calls.

    Attributes
    ----------
    weak_featurizer_ : transformer
        Fitted clone of ``weak_featurizer``.
    strong_featurizer_ : transformer
        Fitted clone of ``strong_featurizer``.
    weak_head_ : regressor
        Fitted weak head ``f_w``.
    head_ : regressor
        Fitted strong head ``f_sw``.
    roles_ : ndarray of str of shape (n_samples,)
        The role each training row played: ``"weak"``, ``"strong"``,
        ``"both"`` or ``"eval"``.
    weak_error_ : float or ndarray of shape (n_tasks,)
        Mean squared error of the weak model against the true labels.
    strong_error_ : float or ndarray of shape (n_tasks,)
        Mean squared error of the strong model against the true labels; NaN
        when there are no ``"eval"`` rows and some strong rows are unlabeled.
    misfit_ : float or ndarray of shape (n_tasks,)
        Mean squared distance between the strong and weak models'
        predictions. Needs no true label.
    gain_ : float or ndarray of shape (n_tasks,)
        ``weak_error_ - strong_error_``.
    bound_ : float or ndarray of shape (n_tasks,)
        ``weak_error_ - misfit_``: Theorem 1's upper bound on
        ``strong_error_``.
    diagnostic_rows_ : dict
        For each diagnostic, the role of the rows it was measured on:
        ``"eval"``, ``"strong"``, ``"both"`` (the strong rows, which also
        trained the weak model: its error there is in-sample), ``"weak"``, or
        ``"weak+strong"`` for a bound combining a weak error on the weak rows
        with a misfit on the strong rows.
    train_report_ : dict
        The diagnostics on the strong model's training rows, the finite
        sample on which Theorem 1 holds exactly for an exact head (errors
        and gain are NaN where those rows are unlabeled).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    skwtsg.bound_scorer : Scorer choosing a weak supervisor by the bound.
    skwtsg.heads.LeastSquaresHead : The default exact head.

    Notes
    -----
    Data roles. Rows whose ``y`` is NaN (all outputs NaN) are *unlabeled*:
    they are the strong model's training rows and receive weak labels. The
    labeled rows are divided, with ``random_state``, into ``"eval"`` rows
    (``eval_size``), then ``"weak"`` and ``"strong"`` rows (``strong_size``)
    when no row is unlabeled. Pass ``roles`` to :meth:`fit` to set them
    yourself.

    Where the diagnostics are measured: on the ``"eval"`` rows when there
    are any (neither model was fitted on them). Without them, on the strong
    model's training rows (their true labels, when they have any, are used
    only there); when those rows are unlabeled, ``weak_error_`` is measured
    on the weak model's own training rows (in-sample) and ``strong_error_``
    and ``gain_`` are NaN. ``diagnostic_rows_`` records which.

    References
    ----------
    .. [1] M. Charikar, C. Pabbaraju and K. Shiragur, "Quantifying the Gain in
       Weak-to-Strong Generalization", NeurIPS 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skwtsg import WeakToStrongRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(400, 5))
    >>> y = X @ np.array([1.0, 2.0, 0.0, -1.0, 0.5])
    >>> est = WeakToStrongRegressor(PCA(n_components=2), random_state=0).fit(X, y)
    >>> bool(est.gain_ >= est.misfit_ - 1e-9)
    True
    >>> est.predict(X[:2]).shape
    (2,)
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
        "head": [HasMethods(["fit", "predict"]), None],
        "weak_head": [HasMethods(["fit", "predict"]), None],
        "eval_size": list(EVAL_SIZE_CONSTRAINTS),
        "strong_size": list(STRONG_SIZE_CONSTRAINTS),
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        weak_featurizer: Any = "passthrough",
        strong_featurizer: Any = "passthrough",
        *,
        head: Any = None,
        weak_head: Any = None,
        eval_size: float | int = 0.2,
        strong_size: float | int | str = 0.5,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.weak_featurizer = weak_featurizer
        self.strong_featurizer = strong_featurizer
        self.head = head
        self.weak_head = weak_head
        self.eval_size = eval_size
        self.strong_size = strong_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        roles: ArrayLike | None = None,
    ) -> WeakToStrongRegressor:
        """Fit the weak model on true labels, then the strong head on its labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of every row. Numeric unless the featurizers accept other
            data (e.g. an ``(n_samples, 1)`` column of strings for text or
            SMILES featurizers); DataFrames are passed on to the featurizers.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels. NaN marks an unlabeled row (every output NaN).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, used by both heads (which must accept them) and by
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
        _check_regressor_heads(self)
        if is_dask_collection(X):
            from . import _dask

            return _dask.fit(self, X, y, sample_weight, roles)
        data = self._validate_fit_data(X, y, sample_weight, roles)
        head = self.head if self.head is not None else LeastSquaresHead()
        weak_head = self.weak_head if self.weak_head is not None else head
        split, rows = data.split, data.rows
        weak_rows, strong_rows = split.weak_rows, split.strong_rows
        ndim = self._training_dim

        # The weak model: true labels.
        self.weak_featurizer_ = _make_featurizer(self.weak_featurizer)
        Z_weak = _fit_transform(self.weak_featurizer_, rows.weak, data.y[weak_rows])
        Z_weak = _check_features(
            Z_weak,
            len(weak_rows),
            "weak_featurizer",
            check_finite=not _is_passthrough(self.weak_featurizer),
        )
        _warn_if_underdetermined(weak_head, Z_weak, "weak_head", "weak")
        self.weak_head_ = _fit_head(
            weak_head, Z_weak, data.y[weak_rows], data.weights(weak_rows), "weak_head"
        )

        # The weak labels, and the weak model on the eval rows, in one call.
        n_strong = 0 if rows.same else len(strong_rows)
        no_rows = np.empty((0,) + data.y.shape[1:])
        weak_after = (
            self._predict_weak(rows.after_weak, ndim)
            if _num_rows(rows.after_weak)
            else no_rows
        )
        weak_on_weak = None
        if rows.same or data.needs_weak_in_sample:
            weak_on_weak = _head_predict(self.weak_head_, Z_weak, ndim)
        y_weak_labels = (
            weak_on_weak  # all "both": the labels reuse Z_weak
            if rows.same and weak_on_weak is not None
            else weak_after[:n_strong]
        )

        # The strong model: weak labels only.
        self.strong_featurizer_ = _make_featurizer(self.strong_featurizer)
        Z_strong = _fit_transform(self.strong_featurizer_, rows.strong, y_weak_labels)
        Z_strong = _check_features(
            Z_strong,
            len(strong_rows),
            "strong_featurizer",
            check_finite=not _is_passthrough(self.strong_featurizer),
        )
        interpolates = _warn_if_underdetermined(head, Z_strong, "head", "strong")
        self.head_ = _fit_head(
            head, Z_strong, y_weak_labels, data.weights(strong_rows), "head"
        )
        check_head_convexity(self.head_)  # after fit: some heads are known then

        has_eval = bool(len(split.eval_rows))
        predictions = _Predictions(
            weak_on_weak=weak_on_weak,
            weak_on_strong=y_weak_labels,
            strong_on_strong=_head_predict(self.head_, Z_strong, ndim),
            weak_on_eval=weak_after[n_strong:],
            strong_on_eval=(
                self._predict_strong(rows.eval, ndim) if has_eval else no_rows
            ),
        )
        if not interpolates:  # that warning already says the strong model copies
            _warn_if_copied(
                predictions.weak_on_strong,
                predictions.strong_on_strong,
                data.weights(strong_rows),
            )
        self._set_diagnostics(data, predictions)
        misfit_labels = (  # the weak labels on the rows of misfit_
            predictions.weak_on_strong if not has_eval else predictions.weak_on_eval
        )
        _warn_if_negative_bound(
            self.bound_,
            (self.weak_error_, self.misfit_, np.var(misfit_labels, axis=0)),
            self.diagnostic_rows_["bound"],
        )
        return self

    def _set_diagnostics(self, data: _FitData, pred: _Predictions) -> None:
        """Set ``train_report_``, the diagnostics and ``diagnostic_rows_``."""
        split = data.split
        strong_role = "both" if split.reuse else "strong"
        # On the strong model's own training rows (Theorem 1's finite sample).
        strong_labeled = data.strong_labeled
        self.train_report_ = self._report(
            data,
            split.strong_rows,
            pred.weak_on_strong,
            pred.strong_on_strong,
            labeled=strong_labeled,
        )
        if len(split.eval_rows):
            rep = self._report(
                data, split.eval_rows, pred.weak_on_eval, pred.strong_on_eval
            )
            rows = dict.fromkeys(_DIAGNOSTICS, "eval")
        else:
            rep = dict(self.train_report_)
            rows = dict.fromkeys(_DIAGNOSTICS, strong_role)
            if not strong_labeled:  # weak error in-sample, on the weak rows
                rep["weak_error"] = mean_squared_error(
                    data.y[split.weak_rows],
                    pred.weak_on_weak,
                    sample_weight=data.weights(split.weak_rows),
                    multioutput=_multioutput(data.y),
                )
                rep["bound"] = rep["weak_error"] - rep["misfit"]
                rows.update(weak_error="weak", bound="weak+strong")
        for name in _DIAGNOSTICS:
            setattr(self, name + "_", rep[name])
        self.diagnostic_rows_ = rows

    def _report(
        self,
        data: _FitData,
        rows: NDArray[np.intp],
        y_weak: np.ndarray,
        y_strong: np.ndarray,
        *,
        labeled: bool = True,
    ) -> dict[str, Any]:
        """The diagnostics on ``rows`` (NaN errors where they are unlabeled)."""
        kwargs = dict(
            sample_weight=data.weights(rows), multioutput=_multioutput(data.y)
        )
        # The validated fit data: the metrics' kernels, without their checks.
        if labeled:
            return _report_kernel(data.y[rows], y_weak, y_strong, **kwargs)
        nan = _nan_like(data.y)
        return {
            "weak_error": nan,
            "strong_error": nan,
            "misfit": _mse_kernel(
                y_weak, y_strong, names=("y_weak", "y_strong"), **kwargs
            ),
            "gain": nan,
            "bound": nan,
        }

    # -------------------------------------------------------------- predict
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict with the weakly-supervised strong model ``f_sw∘h_s``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            Strong model's predictions.
        """
        if is_dask_collection(X):
            from . import _dask

            check_is_fitted(self)
            return _dask.predict(self, X, "strong")
        X = self._check_predict_input(X)
        return self._predict_strong(X, self._training_dim)

    def predict_weak(self, X: ArrayLike) -> np.ndarray:
        """Predict with the weak supervisor ``f_w∘h_w``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            Weak model's predictions.
        """
        if is_dask_collection(X):
            from . import _dask

            check_is_fitted(self)
            return _dask.predict(self, X, "weak")
        X = self._check_predict_input(X)
        return self._predict_weak(X, self._training_dim)

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """R² of the strong model on the labeled rows of ``(X, y)``.

        Rows whose ``y`` is NaN (unlabeled) are skipped, as in :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels; NaN marks unlabeled rows.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            :func:`sklearn.metrics.r2_score` of :meth:`predict` on the labeled
            rows.
        """
        if is_dask_collection(X):
            from . import _dask

            check_is_fitted(self)
            return _dask.score(self, X, y, sample_weight)
        X = self._check_predict_input(X)
        y, labeled = check_partially_labeled_y(
            y, n_samples=_num_rows(X), require_labeled="score"
        )
        y_pred = self._predict_strong(X, y.ndim)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, y)[labeled]
        (y_true, y_pred), sw = check_real_arrays(
            {"y": y[labeled], "y_pred": y_pred[labeled]}, sample_weight=sw
        )
        return float(r2_score(y_true, y_pred, sample_weight=sw))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = False
        # The strong model learns from a weak supervisor only: with a poor
        # weak representation its score is poor by design.
        tags.regressor_tags.poor_score = not _is_passthrough(self.weak_featurizer)
        return tags


#: The strong model copies its weak labels when its misfit on its own training
#: rows is at most this fraction of their variance: an exact copy leaves only
#: rounding (about 1e-30 of it), a real misfit is many orders larger.
_COPY_RTOL = 1e-12
#: Below this many rows per feature unregularised least squares is badly
#: determined: the variance of its fit on new rows, about ``d / (n - d - 1)``
#: times the noise variance, is then more than half the noise variance (all
#: of it near n = 2d). On load_diabetes with degree-2 strong features (141
#: strong rows, 65 features: 2.2 per feature) bounds were negative with fold
#: standard deviations in the thousands, ranked against the true error.
_MIN_ROWS_PER_FEATURE = 3
_REGULARISE = (
    "use a regularised head (e.g. RidgeHead, its alpha chosen on the weak "
    "labels: see the user guide, 'Choosing a weak supervisor') or more rows"
)


def _is_unregularised_least_squares(head: Any) -> bool:
    from sklearn.linear_model import LinearRegression

    from .heads import RidgeHead

    if isinstance(head, (LeastSquaresHead, LinearRegression)):
        return True
    return isinstance(head, RidgeHead) and float(head.alpha) == 0.0


def _warn_if_underdetermined(head: Any, Z: Any, name: str, side: str) -> bool:
    """Warn when unregularised least squares has too few rows per feature.

    Returns True when the head interpolates its labels (no more rows than
    features).
    """
    if not _is_unregularised_least_squares(head):
        return False
    n_rows, n_features = Z.shape
    if n_rows <= n_features:
        warnings.warn(
            f"`{name}` is unregularised least squares fitted on {n_rows} "
            f"{side} rows with {n_features} features: it interpolates its labels"
            + (
                ", so the misfit is 0 and the strong model copies the weak one"
                if side == "strong"
                else ""
            )
            + ". Give it more rows or use a regularised head (e.g. RidgeHead).",
            UserWarning,
            stacklevel=3,
        )
        return True
    if n_rows < _MIN_ROWS_PER_FEATURE * n_features:
        warnings.warn(
            f"`{name}` is unregularised least squares fitted on {n_rows} "
            f"{side} rows with {n_features} features (fewer than "
            f"{_MIN_ROWS_PER_FEATURE} rows per feature): it is badly determined, "
            "so its predictions on new rows are noisy, and the misfit, gain and "
            "bound vary from split to split (the bound can even be negative) and "
            f"rank weak supervisors poorly. To fix it, {_REGULARISE}.",
            UserWarning,
            stacklevel=3,
        )
    return False


def _warn_if_copied(
    y_weak: np.ndarray, y_strong: np.ndarray, sample_weight: np.ndarray | None
) -> None:
    """Warn when the strong model reproduces its weak labels (zero gain)."""
    y_weak = np.asarray(y_weak, dtype=np.float64).reshape(len(y_weak), -1)
    y_strong = np.asarray(y_strong, dtype=np.float64).reshape(len(y_strong), -1)
    if len(y_weak) == 0 or (sample_weight is not None and not sample_weight.sum()):
        return
    centred = y_weak - np.average(y_weak, axis=0, weights=sample_weight)
    variance = np.average(centred**2, axis=0, weights=sample_weight)
    gap = np.average((y_strong - y_weak) ** 2, axis=0, weights=sample_weight)
    _warn_if_copied_from_moments(variance, gap)


def _warn_if_copied_from_moments(variance: np.ndarray, gap: np.ndarray) -> None:
    """``_warn_if_copied`` from the weak labels' variance and the misfit per task."""
    copied = (variance > 0) & (gap <= _COPY_RTOL * variance)
    if not copied.any():
        return
    ratio = float(np.max(gap[copied] / variance[copied]))
    tasks = "" if copied.size == 1 else f" ({int(copied.sum())} of {copied.size} tasks)"
    warnings.warn(
        f"The strong model reproduces its weak labels{tasks}: its misfit on its "
        f"training rows is {ratio:.1g} times their variance. The weak model "
        "lies in the span of the strong model (e.g. a linear model on some of "
        "the strong features, or a PCA of them), so the strong head copies it "
        "and the gain is 0. Use a weak model outside the strong span: a weak "
        "representation the strong one cannot express, or a weak head of "
        "another family, e.g. weak_head=DecisionTreeRegressor(max_depth=2).",
        UserWarning,
        stacklevel=3,
    )


#: ``bound_ = weak_error_ - misfit_`` is a difference of two computed mean
#: squares. When they agree (Theorem 1 with equality, or an exact weak model
#: where both are rounding, ~1e-30 of the labels' variance) it is rounding
#: either side of 0. A bound is negative when it is below ``-_BOUND_RTOL``
#: times the largest of the weak error, the misfit and the variance of the
#: weak labels it is measured on: a bound closer to 0 is at most 1e-10 of
#: the errors and labels involved, rounding or too small to matter.
_BOUND_RTOL = 1e-10


def _warn_if_negative_bound(bound: Any, scales: tuple, rows: str) -> None:
    """Warn when ``bound_`` (an upper bound on an MSE) is below zero.

    Beyond rounding: per task, below ``-_BOUND_RTOL`` times the largest of
    ``scales`` (the weak error, the misfit and the weak labels' variance).
    """
    values = np.atleast_1d(np.asarray(bound, dtype=np.float64))
    scale = np.maximum.reduce(
        np.broadcast_arrays(*(np.abs(np.asarray(x, dtype=np.float64)) for x in scales))
    )
    if not np.any(values < -_BOUND_RTOL * scale):
        return
    warnings.warn(
        f"bound_ is negative ({float(np.min(values)):.4g}, on the {rows} rows): "
        "a bound on a mean squared error below zero says nothing about the "
        "strong model's error, and bounds like it rank weak supervisors poorly. "
        "Theorem 2's error terms are large here, most often because the strong "
        f"head is badly determined (few rows per feature): {_REGULARISE}.",
        UserWarning,
        stacklevel=3,
    )


def _is_classifier(estimator):
    try:
        return is_classifier(estimator)
    except (AttributeError, TypeError):  # a duck-typed head without sklearn tags
        return False


def _check_regressor_heads(estimator: Any) -> None:
    """Refuse a classifier as ``head`` or ``weak_head``."""
    for name in ("head", "weak_head"):
        head = getattr(estimator, name)
        if head is not None and _is_classifier(head):
            raise ValueError(
                f"`{name}` must be a regressor, got the classifier "
                f"{type(head).__name__}: the theory is about "
                "least-squares regression."
            )


def _is_passthrough(featurizer: Any) -> bool:
    return isinstance(featurizer, str) and featurizer == "passthrough"


def _make_featurizer(featurizer):
    if _is_passthrough(featurizer):
        return FunctionTransformer(None, accept_sparse=True)
    return clone(featurizer)


def _fit_transform(featurizer, X, y):
    # FrozenEstimator has no fit_transform: fall back to fit then transform.
    if hasattr(featurizer, "fit_transform"):
        return featurizer.fit_transform(X, y)
    return featurizer.fit(X, y).transform(X)


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_features(Z, n_rows, name, *, check_finite=True):
    """Check a featurizer's output: 2-D, one row per input row, finite.

    ``check_finite=False`` skips the finiteness check, for features that are
    validated rows already (a "passthrough" featurizer).
    """
    if not sparse.issparse(Z):
        Z = np.asarray(Z)
    if Z.ndim != 2:
        raise ValueError(
            f"`{name}` must return a 2-D array of features, got shape {Z.shape}."
        )
    if Z.shape[0] != n_rows:
        raise ValueError(
            f"`{name}` returned {Z.shape[0]} rows for {n_rows} input rows; a "
            "featurizer must return one row of features per input row."
        )
    values = Z.data if sparse.issparse(Z) else Z
    if values.dtype.kind not in "fiub":
        try:  # object arrays of numbers are numbers
            Z = check_array(
                Z,
                accept_sparse=True,
                dtype=np.float64,
                ensure_all_finite=False,
                ensure_2d=False,
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"`{name}` returned features of dtype {values.dtype} that are not "
                f"numeric ({exc}); heads need numeric features."
            ) from exc
        values = Z.data if sparse.issparse(Z) else Z
    if check_finite and not np.all(np.isfinite(values)):
        raise ValueError(
            f"`{name}` returned NaN or infinite features; fix the featurizer or "
            "its input (nothing is dropped silently)."
        )
    return Z


def _checked_features_context(head):
    """Skip the finiteness check of an exact linear head on checked features.

    Inside a weak-to-strong estimator a head's features are validated rows or
    checked featurizer output (:func:`_check_features`), so the head need
    not scan them again; a head of another kind (e.g. a Pipeline that
    transforms its input) keeps its own checks.
    """
    if isinstance(head, _BaseHead):
        return config_context(assume_finite=True)
    return nullcontext()


def _head_predict(head, Z, ndim):
    """A fitted head's predictions on checked features, shaped like ``y``."""
    with _checked_features_context(head):
        return _as_output(head.predict(Z), ndim)


def _fit_head(head, Z, y, sample_weight, name):
    head = clone(head)
    side = "weak_featurizer" if name == "weak_head" else "strong_featurizer"
    kwargs = {}
    if sample_weight is not None:
        if not has_fit_parameter(head, "sample_weight"):
            raise ValueError(
                f"`{name}` ({type(head).__name__}) does not accept sample_weight, "
                "but sample_weight was passed to fit."
            )
        kwargs["sample_weight"] = sample_weight
    try:
        if isinstance(head, _BaseHead):
            # y (weak labels on the strong side) is not checked yet
            assert_all_finite(y, input_name="y", estimator_name=type(head).__name__)
        with _checked_features_context(head):
            return head.fit(Z, y, **kwargs)
    except ValueError as exc:
        default = " (default: a clone of `head`)" if name == "weak_head" else ""
        raise ValueError(
            f"Fitting `{name}`{default} on the {Z.shape[1]} features of "
            f"`{side}` failed: {exc}"
        ) from exc


def _as_output(y_pred, ndim):
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] == 1:
        return y_pred.ravel()
    if ndim == 2 and y_pred.ndim == 1:
        return y_pred.reshape(-1, 1)
    return y_pred


def _multioutput(y):
    return "raw_values" if y.ndim == 2 else "uniform_average"


def _nan_like(y):
    return np.full(y.shape[1], np.nan) if y.ndim == 2 else float("nan")
