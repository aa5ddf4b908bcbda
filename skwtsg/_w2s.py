"""The weak-to-strong meta-estimator for regression (squared loss)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin, is_classifier
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._backends import is_dask_collection
from ._backends._common import (
    FitResult,
    _fit_head,
    _FitData,
    _head_predict,
    _is_passthrough,
    _num_rows,
    _warn_if_copied_from_moments,
    _warn_if_negative_bound,
)
from ._engine import _BaseWeakToStrong
from ._roles import ROLES
from ._utils._docstrings import fill_doc
from ._utils._validation import check_partially_labeled_y, check_real_arrays
from .heads import LeastSquaresHead
from .metrics._losses import squared_losses

__all__ = ["WeakToStrongRegressor", "ROLES"]


class _RegressionTask:
    """Weak labels are the weak model's values; losses are squared errors."""

    loss_names: tuple[str, ...] = ("weak_error", "strong_error", "misfit")

    def __init__(self, data: _FitData) -> None:
        self.data = data
        self.ndim = data.y.ndim

    def weak_target(self, rows: np.ndarray) -> np.ndarray:
        return self.data.y[rows]

    def fit_weak(self, head: Any, Z: Any, rows: np.ndarray) -> Any:
        return _fit_head(
            head, Z, self.data.y[rows], self.data.weights(rows), "weak_head"
        )

    def labels(self, weak_head: Any, Z: Any) -> np.ndarray:
        return _head_predict(weak_head, Z, self.ndim, "weak_head")

    def output(self, head: Any, Z: Any) -> np.ndarray:
        return _head_predict(head, Z, self.ndim)

    def fit_ceiling(self, Z: Any, rows: np.ndarray) -> Any:
        return None

    def losses(
        self, rows: np.ndarray, weak: Any, strong: Any, ceiling: Any
    ) -> dict[str, Any]:
        y = self.data.y[rows]
        return squared_losses(y, weak, strong)


@fill_doc
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
    {w2s_random_state_verbose}

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
    diagnostics_ : Diagnostics
        The record every diagnostic is computed from: per row set (weak,
        strong, eval), the row counts, weight sums and weighted sums of the
        per-row losses; see :ref:`contributing` to add a diagnostic.
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
        **_BaseWeakToStrong._parameter_constraints,
        "head": [HasMethods(["fit", "predict"]), None],
        "weak_head": [HasMethods(["fit", "predict"]), None],
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
        verbose: int = 0,
    ) -> None:
        self.weak_featurizer = weak_featurizer
        self.strong_featurizer = strong_featurizer
        self.head = head
        self.weak_head = weak_head
        self.eval_size = eval_size
        self.strong_size = strong_size
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- hooks
    def _check_heads(self) -> None:
        for name in ("head", "weak_head"):
            head = getattr(self, name)
            if head is not None and _is_classifier(head):
                raise ValueError(
                    f"`{name}` must be a regressor, got the classifier "
                    f"{type(head).__name__}: the theory is about "
                    "least-squares regression."
                )

    def _heads(self) -> tuple[Any, Any]:
        head = self.head if self.head is not None else LeastSquaresHead()
        return (self.weak_head if self.weak_head is not None else head), head

    def _check_targets(self, y, n_samples, sample_weight):
        y_arr, labeled = check_partially_labeled_y(y, n_samples=n_samples)
        self._training_dim = y_arr.ndim
        return y_arr, labeled

    def _task(self, data: _FitData) -> _RegressionTask:
        return _RegressionTask(data)

    def _fit_dask(self, X, y, sample_weight, roles, weak_head, head) -> FitResult:
        from ._backends import _dask

        result = _dask.fit(
            X,
            y,
            sample_weight,
            roles,
            weak_featurizer=self.weak_featurizer,
            strong_featurizer=self.strong_featurizer,
            weak_head=weak_head,
            head=head,
            eval_size=self.eval_size,
            strong_size=self.strong_size,
            random_state=self.random_state,
            x_dtype="numeric" if self._numeric_X() else None,
            estimator=type(self).__name__,
        )
        self._training_dim = result.diagnostics.ndim
        return result

    def _after_fit(self, result: FitResult, task: Any) -> None:
        # the interpolation warning already says the strong model copies
        if not result.interpolates and result.copy_moments is not None:
            _warn_if_copied_from_moments(*result.copy_moments, dask=task is None)
        _warn_if_negative_bound(
            self.bound_,
            (self.weak_error_, self.misfit_, result.label_variance),
            self.diagnostic_rows_["bound"],
        )

    # -------------------------------------------------------------- predict
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict with the weakly-supervised strong model ``f_sw∘h_s``.

        {predict_values}
        """
        if is_dask_collection(X):
            return self._dask_predict(X, "strong")
        X = self._check_predict_input(X)
        return self._predict(X, "strong", self._training_dim)

    def predict_weak(self, X: ArrayLike) -> np.ndarray:
        """Predict with the weak supervisor ``f_w∘h_w``.

        {predict_values}
        """
        if is_dask_collection(X):
            return self._dask_predict(X, "weak")
        X = self._check_predict_input(X)
        return self._predict(X, "weak", self._training_dim)

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
            from ._backends import _dask

            return _dask.r2_score(self._dask_predict(X, "strong"), y, sample_weight)
        X = self._check_predict_input(X)
        y, labeled = check_partially_labeled_y(
            y, n_samples=_num_rows(X), require_labeled="score"
        )
        y_pred = self._predict(X, "strong", y.ndim)
        sw = None
        if sample_weight is not None:
            sw = _check_sample_weight(sample_weight, y)[labeled]
        (y_true, y_pred), sw = check_real_arrays(
            {"y": y[labeled], "y_pred": y_pred[labeled]}, sample_weight=sw
        )
        return float(r2_score(y_true, y_pred, sample_weight=sw))

    def _predict(self, X_rows: Any, which: str, ndim: int) -> np.ndarray:
        head = self.head_ if which == "strong" else self.weak_head_
        name = "head" if which == "strong" else "weak_head"
        return _head_predict(head, self._features(which, X_rows), ndim, name)

    def _dask_predict(self, X: Any, which: str) -> Any:
        from ._backends import _dask

        check_is_fitted(self)
        return _dask.predict(
            X,
            getattr(self, f"{which}_featurizer_"),
            self.head_ if which == "strong" else self.weak_head_,
            name=f"{which}_featurizer",
            ndim=self._training_dim,
            n_features_in=self.n_features_in_,
            feature_names_in=getattr(self, "feature_names_in_", None),
            estimator=type(self).__name__,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = False
        # The strong model learns from a weak supervisor only: with a poor
        # weak representation its score is poor by design.
        tags.regressor_tags.poor_score = not _is_passthrough(self.weak_featurizer)
        return tags


def _is_classifier(estimator):
    try:
        return is_classifier(estimator)
    except (AttributeError, TypeError):  # a duck-typed head without sklearn tags
        return False
