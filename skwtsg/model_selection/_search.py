"""Several weak supervisors on one strong representation."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from .._backends import _memory
from .._backends._common import (
    _as_output,
    _copy_moments,
    _fit_head,
    _FitData,
    _head_predict,
    _is_fixed_weak_model,
    _is_passthrough,
    _warn_if_copied_from_moments,
    _warn_if_negative_bound,
    _warn_if_underdetermined,
)
from .._diagnostics import DIAGNOSTICS
from .._engine import check_fit_inputs, check_X
from .._roles import (
    EVAL_SIZE_CONSTRAINTS,
    STRONG_SIZE_CONSTRAINTS,
    assign_roles,
)
from .._utils._docstrings import fill_doc
from .._utils._validation import check_partially_labeled_y
from .._w2s import _RegressionTask
from ..heads import (
    LeastSquaresHead,
    NonNegativeLeastSquaresHead,
    RidgeHead,
    RidgeLOOHead,
    check_head_convexity,
)
from ..metrics import paired_bound_differences
from ..metrics._intervals import check_enough_resamples
from ..metrics._paired import BOUND_HELD_NOTE
from . import _ensemble

__all__ = ["WeakSupervisorSearch"]


@fill_doc
class WeakSupervisorSearch(RegressorMixin, MetaEstimatorMixin, BaseEstimator):
    """Compare weak supervisors of one strong model, and keep the best by the bound.

    Each weak supervisor is fitted on the weak rows' true labels (or used as
    it is, when frozen) and labels the strong rows; the strong representation
    is fitted and computed once, and the strong head is fitted on every
    supervisor's labels at once, as one multi-output problem when it fits
    each output column on its own (the exact linear heads). Each
    supervisor's diagnostics are those of one
    :class:`~skwtsg.WeakToStrongRegressor` with that supervisor on the same
    roles (to rounding), for the cost of one strong fit. The supervisor with
    the smallest bound ``weak error - misfit`` (Theorem 1) is kept:
    :meth:`predict` uses the strong model trained on its labels.

    With ``combine``, the supervisors are also mixed into one: the weak
    supervisor ``sum_k w_k f_k`` (``w`` on the simplex), whose strong model,
    for a head linear in its labels, is ``sum_k w_k s_k`` with ``s_k`` the
    strong model trained on supervisor ``k``'s labels. ``combine="bound"``
    chooses the ``w`` with the smallest bound, exactly (a quadratic
    programme over the simplex, see :ref:`ensembles`), and
    :meth:`predict` then uses the mixture's strong model.

    Read more in the :ref:`User Guide <selection>`.

    Parameters
    ----------
    weak_supervisors : dict of str to estimator or (featurizer, head)
        The candidates, by name. A regressor is fitted on the weak rows'
        inputs (as ``weak_head`` of a ``WeakToStrongRegressor`` with a
        ``"passthrough"`` weak featurizer); a fitted model wrapped in
        :class:`sklearn.frozen.FrozenEstimator` is used as it is; a
        ``(featurizer, head)`` pair is a weak featurizer and a weak head.
    strong_featurizer : transformer or "passthrough", default="passthrough"
        The strong representation ``h_s``, fitted once on the strong rows'
        inputs without any label (so a featurizer that learns from its ``y``
        is not trained on weak labels here; wrap a pretrained one in
        :class:`~sklearn.frozen.FrozenEstimator`).
    head : regressor, default=None
        The strong head; ``None`` means
        :class:`~skwtsg.heads.LeastSquaresHead`.
    eval_size : float or int, default=0.2
        Labeled rows held out to measure the diagnostics, as in
        :class:`~skwtsg.WeakToStrongRegressor` (ignored with ``roles``).
    strong_size : float, int or "reuse", default=0.5
        How the other labeled rows are divided between the strong and the
        weak models, as in :class:`~skwtsg.WeakToStrongRegressor`. When
        every supervisor is frozen (a frozen model, or a pair of frozen
        featurizer and head) no row is given to a weak model: every labeled
        row not held out is a strong row.
    random_state : int, RandomState instance or None, default=None
        Controls the random division of rows between roles and seeds the
        bootstraps of the intervals.
    combine : {"bound", "uniform"} or None, default=None
        Mix the supervisors into one: ``"bound"`` with the weights that
        minimise the mixture's bound ``weak_error(w) - misfit(w)`` over the
        simplex, ``"uniform"`` with equal weights; ``None`` does not mix.
        One set of weights per output of a 2-D ``y``. Needs a ``head`` whose
        fit is linear in its labels: :class:`~skwtsg.heads.LeastSquaresHead`,
        :class:`~skwtsg.heads.RidgeHead`, or :class:`~skwtsg.heads.RidgeLOOHead`
        with a single alpha; ``"bound"`` takes at most 16 supervisors.
    confidence_level : float or None, default=0.95
        The level of the bootstrap intervals over the evaluation rows: each
        supervisor's bound minus the pick's, resampled in pairs
        (:func:`~skwtsg.metrics.paired_bound_differences`), and with
        ``combine`` the mixture's diagnostics (``mixture_intervals_``);
        ``None`` computes none.
    n_resamples : int, default=9999
        Bootstrap resamples of those intervals.

    Attributes
    ----------
    results_ : DataFrame
        One row per supervisor (index ``weak_supervisor``, in the order of
        ``weak_supervisors``): ``weak_error``, ``strong_error``, ``misfit``,
        ``gain``, ``bound`` (each the mean over outputs for a 2-D ``y``),
        ``rank`` by the bound (1 is the smallest) and, with evaluation rows
        and a ``confidence_level``, ``bound_difference`` (minus the pick's),
        its paired interval ``difference_low``, ``difference_high`` and a
        ``verdict`` in words ("indistinguishable at 95%"...); ``attrs["unit"]``
        says what the intervals resample. With evaluation rows,
        ``bound_held``: whether the strong model's true error on them was at
        most its bound (``attrs["bound_held"]`` says what a failure means in
        Theorem 2's terms).
    reports_ : dict of str to dict
        Each supervisor's diagnostics as a ``WeakToStrongRegressor`` sets
        them (floats, or arrays of one value per output).
    train_reports_ : dict of str to dict
        Each supervisor's diagnostics on the strong head's training rows.
    diagnostic_rows_ : dict
        For each diagnostic, the role of the rows it was measured on (the
        same for every supervisor).
    best_ : str
        The supervisor with the smallest bound.
    weak_models_ : dict of str to tuple
        Each supervisor's fitted ``(featurizer, head)``.
    strong_featurizer_ : transformer
        The fitted strong featurizer.
    strong_heads_ : dict of str to regressor
        The fitted strong head of each supervisor; one object for all of
        them when it was fitted on all label sets at once (its outputs for a
        supervisor are then ``output_columns_[name]``).
    output_columns_ : dict of str to slice
        The columns of ``strong_heads_[name].predict`` that belong to each
        supervisor.
    roles_ : ndarray of str of shape (n_samples,)
        The role of every training row.
    weights_ : ndarray of shape (n_supervisors,) or (n_outputs, n_supervisors)
        With ``combine``: the mixture's weights, in the order of
        ``weak_supervisors`` (one row per output of a 2-D ``y``).
    mixture_report_ : dict
        With ``combine``: the mixture's diagnostics (the keys of a
        ``reports_`` entry), measured on the rows of ``diagnostic_rows_``.
    mixture_train_report_ : dict
        With ``combine``: the same on the strong head's training rows.
    mixture_intervals_ : dict or None
        With ``combine``, ``confidence_level`` and eval rows: a bootstrap
        interval over the eval rows, ``(low, high)``, of each diagnostic of
        the mixture, keyed ``"<name>_ci"``; otherwise None.
    mixture_forms_ : dict of str to ndarray
        With ``combine``: for each diagnostic, the matrix ``G`` of shape
        (n_supervisors, n_supervisors) (one per output of a 2-D ``y``)
        such that the mixture with weights ``w`` has that diagnostic
        ``w @ G @ w``.
    qp_certificate_ : dict or None
        With ``combine="bound"``: the quadratic programme's certificate
        (``value``, ``kkt_residual``, ``vertex_gap``, ``convex``,
        ``n_faces``, ``method``; see :ref:`ensembles`); None otherwise.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when they are all strings.

    See Also
    --------
    skwtsg.WeakToStrongRegressor : One weak supervisor.
    skwtsg.metrics.rank_weak_supervisors : Rank by the bound across splits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skwtsg import WeakSupervisorSearch
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(600, 5))
    >>> y = X @ rng.normal(size=5)
    >>> search = WeakSupervisorSearch(
    ...     {"signs": (FunctionTransformer(np.sign), None),
    ...      "tree": DecisionTreeRegressor(max_depth=2, random_state=0)},
    ...     random_state=0,
    ... ).fit(X, y)
    >>> search.best_
    'signs'
    >>> list(search.results_.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['weak_error', 'strong_error', 'misfit', 'gain', 'bound', 'rank',
     'bound_difference', 'difference_low', 'difference_high', 'verdict',
     'bound_held']
    >>> search.results_.loc["tree", "verdict"]
    'indistinguishable at 95%'
    >>> mixed = search.set_params(combine="bound").fit(X, y)
    >>> bool(mixed.mixture_report_["bound"] <= mixed.results_["bound"].min())
    True
    """

    _parameter_constraints: dict = {
        "weak_supervisors": [dict],
        "strong_featurizer": [
            HasMethods(["fit", "transform"]),
            StrOptions({"passthrough"}),
        ],
        "head": [HasMethods(["fit", "predict"]), None],
        "eval_size": list(EVAL_SIZE_CONSTRAINTS),
        "strong_size": list(STRONG_SIZE_CONSTRAINTS),
        "random_state": ["random_state"],
        "combine": [StrOptions(set(_ensemble.COMBINE_OPTIONS)), None],
        "confidence_level": [Interval(Real, 0, 1, closed="neither"), None],
        "n_resamples": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        weak_supervisors: dict[str, Any],
        strong_featurizer: Any = "passthrough",
        *,
        head: Any = None,
        eval_size: float | int = 0.2,
        strong_size: float | int | str = 0.5,
        random_state: int | np.random.RandomState | None = None,
        combine: str | None = None,
        confidence_level: float | None = 0.95,
        n_resamples: int = 9999,
    ) -> None:
        self.weak_supervisors = weak_supervisors
        self.strong_featurizer = strong_featurizer
        self.head = head
        self.eval_size = eval_size
        self.strong_size = strong_size
        self.random_state = random_state
        self.combine = combine
        self.confidence_level = confidence_level
        self.n_resamples = n_resamples

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        roles: ArrayLike | None = None,
    ) -> WeakSupervisorSearch:
        """Fit every weak supervisor, the strong representation once, and the heads.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs of every row (DataFrames are passed on to the featurizers).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels; NaN marks an unlabeled row (a strong row).
        {fit_weights_roles}

        Returns
        -------
        self : object
            Fitted search.
        """
        supervisors = _check_supervisors(self.weak_supervisors)
        check_enough_resamples(self.n_resamples, self.confidence_level)
        data = self._validate_fit_data(X, y, sample_weight, roles, supervisors)
        # (Any: _RegressionTask.loss_names is a tuple of three str, the Task
        # protocol's a tuple[str, ...], which mypy takes as incompatible)
        task: Any = _RegressionTask(data)
        head = LeastSquaresHead() if self.head is None else self.head
        if self.combine is not None:
            _ensemble.check_combinable_head(head)
            if self.combine == "bound":
                _ensemble.check_n_supervisors(len(supervisors))
        sides = {
            name: _memory.fit_weak(
                task, data, weak_featurizer=featurizer, weak_head=weak_head
            )
            for name, (featurizer, weak_head) in supervisors.items()
        }
        split = data.split
        self.strong_featurizer_, Z_strong, Z_eval = _memory.fit_strong_featurizer(
            data, self.strong_featurizer, None
        )
        interpolates = _warn_if_underdetermined(head, Z_strong, "head", "strong")
        weights = data.weights(split.strong_rows)
        width = 1 if data.y.ndim == 1 else data.y.shape[1]
        if _fits_columns_separately(head):
            labels = np.hstack(
                [s.labels.reshape(len(split.strong_rows), -1) for s in sides.values()]
            )
            stacked = _fit_head(head, Z_strong, labels, weights, "head")
            self.strong_heads_ = dict.fromkeys(sides, stacked)
            self.output_columns_ = {
                name: slice(i * width, (i + 1) * width) for i, name in enumerate(sides)
            }
        else:
            self.strong_heads_ = {
                name: _fit_head(head, Z_strong, s.labels, weights, "head")
                for name, s in sides.items()
            }
            self.output_columns_ = dict.fromkeys(sides, slice(None))
        check_head_convexity(next(iter(self.strong_heads_.values())))

        outputs: dict[tuple[int, int], Any] = {}  # one prediction per head

        def output(name: str, Z: Any) -> Any:
            if Z is None:
                return None
            fitted = self.strong_heads_[name]
            key = (id(fitted), id(Z))
            if key not in outputs:
                outputs[key] = _head_predict(fitted, Z, 2)
            return _as_output(outputs[key][:, self.output_columns_[name]], task.ndim)

        self.reports_, self.train_reports_, self.weak_models_ = {}, {}, {}
        strong_outputs = []
        for name, side in sides.items():
            strong = output(name, Z_strong), output(name, Z_eval)
            strong_outputs.append(strong)
            record = _memory.diagnostics(task, data, side, strong)
            values, self.diagnostic_rows_, self.train_reports_[name] = record.select(
                reuse=split.reuse
            )
            self.reports_[name] = values
            self.weak_models_[name] = (side.featurizer, side.head)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                moments = _copy_moments(side.labels, strong[0], weights)
                if not interpolates and moments is not None:
                    _warn_if_copied_from_moments(*moments)
                _warn_if_negative_bound(
                    values["bound"],
                    (
                        values["weak_error"],
                        values["misfit"],
                        np.var(
                            side.labels if side.on_eval is None else side.on_eval,
                            axis=0,
                        ),
                    ),
                    self.diagnostic_rows_["bound"],
                )
            for w in caught:
                warnings.warn(f"Weak supervisor {name!r}: {w.message}", w.category, 2)
        self.results_ = _results(self.reports_)
        self.best_ = str(self.results_["bound"].idxmin())
        if self.confidence_level is not None and len(split.eval_rows) > 1:
            pairs = paired_bound_differences(
                data.y[split.eval_rows],
                {k: side.on_eval for k, side in sides.items()},
                {k: out[1] for k, out in zip(sides, strong_outputs)},
                reference=self.best_,
                sample_weight=data.weights(split.eval_rows),
                confidence_level=self.confidence_level,
                n_resamples=self.n_resamples,
                random_state=self.random_state,
            )
            self.results_ = self.results_.join(pairs.drop(columns="bound"))
            self.results_.attrs.update(pairs.attrs)
        if self.diagnostic_rows_["strong_error"] == "eval":  # truth held out
            self.results_["bound_held"] = (
                self.results_["strong_error"] <= self.results_["bound"]
            )
            self.results_.attrs["bound_held"] = BOUND_HELD_NOTE
        for attribute in _ensemble.MIXTURE_ATTRIBUTES:  # of an earlier fit
            self.__dict__.pop(attribute, None)
        if self.combine is not None:
            mixture = _ensemble.fit_mixture(
                self.combine,
                task,
                data,
                list(sides.values()),
                strong_outputs,
                confidence_level=self.confidence_level,
                n_resamples=self.n_resamples,
                random_state=self.random_state,
            )
            for attribute, value in mixture.items():
                setattr(self, attribute, value)
        return self

    def _validate_fit_data(self, X, y, sample_weight, roles, supervisors):
        X_rows, n_samples, weights = check_fit_inputs(
            self, X, y, sample_weight, numeric=self._numeric_X()
        )
        y_arr, labeled = check_partially_labeled_y(y, n_samples=n_samples)
        self._training_dim = y_arr.ndim
        split = assign_roles(
            labeled,
            eval_size=self.eval_size,
            strong_size=self.strong_size,
            roles=roles,
            random_state=self.random_state,
            fixed_weak=all(_is_fixed_weak_model(*sup) for sup in supervisors.values()),
        )
        self.roles_ = split.names()
        return _FitData.take(X_rows, y_arr, labeled, weights, split)

    def predict(self, X: ArrayLike, supervisor: str | None = None) -> np.ndarray:
        """Predict with the strong model trained on a supervisor's labels.

        By default the chosen one: with ``combine`` the mixture's strong
        model ``sum_k w_k s_k(X)``, otherwise the best supervisor's
        (``best_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        supervisor : str, default=None
            The weak supervisor whose labels trained the strong model;
            ``None``: the chosen one.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X_rows = self._check_X(X)
        if supervisor is None and hasattr(self, "weights_"):
            outputs = _ensemble.mixture_predictions(self, X_rows)
            return _ensemble.mix(outputs, self.weights_, self._training_dim)
        name = self._supervisor(supervisor)
        Z = self.strong_featurizer_.transform(X_rows)
        pred = _head_predict(self.strong_heads_[name], Z, 2)
        return _as_output(pred[:, self.output_columns_[name]], self._training_dim)

    def predict_weak(self, X: ArrayLike, supervisor: str | None = None) -> np.ndarray:
        """Predict with a weak supervisor.

        By default the one of :meth:`predict`: with ``combine`` the mixture
        ``sum_k w_k f_k(X)``, otherwise ``best_``. With :meth:`predict` it
        makes the search work with :func:`~skwtsg.bound_scorer` and
        :func:`~skwtsg.model_selection.diagnostic_intervals`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        supervisor : str, default=None
            The weak supervisor; ``None``: the chosen one.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X_rows = self._check_X(X)
        if supervisor is None and hasattr(self, "weights_"):
            outputs = _ensemble.mixture_predictions(self, X_rows, weak=True)
            return _ensemble.mix(outputs, self.weights_, self._training_dim)
        featurizer, head = self.weak_models_[self._supervisor(supervisor)]
        return _head_predict(head, featurizer.transform(X_rows), self._training_dim)

    def _supervisor(self, supervisor: str | None) -> str:
        check_is_fitted(self)
        if supervisor is None:
            return self.best_
        if supervisor not in self.reports_:
            raise ValueError(
                f"Unknown weak supervisor {supervisor!r}; the supervisors are "
                f"{sorted(self.reports_)}."
            )
        return supervisor

    def _check_X(self, X: ArrayLike) -> Any:
        check_is_fitted(self)
        return check_X(self, X, numeric=self._numeric_X(), reset=False)

    def _numeric_X(self) -> bool:
        supervisors = _check_supervisors(self.weak_supervisors).values()
        return _is_passthrough(self.strong_featurizer) and all(
            _is_passthrough(f) for f, _ in supervisors
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        tags.regressor_tags.poor_score = True  # weak supervision by design
        return tags


def _check_supervisors(supervisors: Any) -> dict[str, tuple[Any, Any]]:
    """Each supervisor as a ``(weak featurizer, weak head)`` pair."""
    if not supervisors:
        raise ValueError("`weak_supervisors` must name at least one weak supervisor.")
    out = {}
    for name, model in supervisors.items():
        if not isinstance(name, str):
            raise TypeError(
                f"`weak_supervisors` keys must be strings, got {type(name).__name__}."
            )
        if isinstance(model, tuple):
            if len(model) != 2:
                raise ValueError(
                    f"`weak_supervisors[{name!r}]` must be a (featurizer, head) "
                    f"pair, got a tuple of {len(model)}."
                )
            featurizer, head = model
            head = LeastSquaresHead() if head is None else head
        else:
            featurizer, head = "passthrough", model
        if not (hasattr(head, "fit") and hasattr(head, "predict")):
            raise TypeError(
                f"`weak_supervisors[{name!r}]` must be a regressor (fit, predict) "
                f"or a (featurizer, head) pair, got {type(head).__name__}."
            )
        out[name] = (featurizer, head)
    return out


#: Heads that fit each output column as they would fit it alone: their label
#: sets can be stacked into one multi-output fit.
_COLUMNWISE_HEADS = (LeastSquaresHead, RidgeHead, NonNegativeLeastSquaresHead)


def _fits_columns_separately(head: Any) -> bool:
    """Whether ``head`` fits each target column as it would fit it alone.

    True for the exact linear heads, and for
    :class:`~skwtsg.heads.RidgeLOOHead` with ``alpha_per_target=True``
    (otherwise one penalty is chosen for all columns, from their mean
    leave-one-out error, and stacking label sets would change it).
    """
    if type(head) in _COLUMNWISE_HEADS:
        return True
    return type(head) is RidgeLOOHead and bool(head.alpha_per_target)


def _results(reports: dict[str, dict]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            name: {k: float(np.mean(rep[k])) for k in DIAGNOSTICS}
            for name, rep in reports.items()
        }
    ).T
    table.index.name = "weak_supervisor"
    table["rank"] = table["bound"].rank(method="min").astype(int)
    return table
