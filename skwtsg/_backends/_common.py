"""What both backends share: featurizer and head plumbing, the fit data, warnings.

A backend fits the featurizers and heads it is given and measures the
diagnostics; these helpers check what featurizers and heads return, so that
a wrong shape, a non-numeric or non-finite value is an error naming the
component at fault, and they hold the warnings about fits where Theorem 1
says little (an underdetermined head, a strong model that copies its
labels, a negative bound).
"""

from __future__ import annotations

import inspect
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import assert_all_finite, get_tags
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    has_fit_parameter,
)
from sklearn_compat.utils._user_interface import _print_elapsed_time

from .._roles import RoleAssignment
from .._utils._validation import take_rows
from ..heads import LeastSquaresHead, RidgeHead
from ..heads._base import _BaseHead


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


# ------------------------------------------------------------ validation
# One set of checks for both backends: the in-memory fit applies them to all
# rows at once, the Dask fit to each block, so that a bad input raises the
# same error (type and message) on either path.

#: ``_check_sample_weight`` refuses all-zero weights itself (scikit-learn
#: >= 1.6); a block of zero weights is fine, so the Dask path asks it not to
#: and checks the total once every block is read.
_ALLOW_ZERO = (
    {"allow_all_zero_weights": True}
    if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters
    else {}
)


def check_weights(
    sample_weight: Any, n_rows: int, *, block: bool = False
) -> np.ndarray | None:
    """``sample_weight`` as ``fit`` accepts it: real, finite, non-negative.

    ``None`` stays ``None`` (unit weights). With ``block=True`` (some rows
    of a larger set) all-zero weights are accepted: call
    :func:`check_weight_total` on the total of every block.
    """
    if sample_weight is None:
        return None
    return _check_sample_weight(
        sample_weight,
        np.empty((n_rows, 0)),
        dtype=np.float64,
        ensure_non_negative=True,
        **(_ALLOW_ZERO if block else {}),
    )


def check_weight_total(total: float) -> None:
    """Refuse weights that are zero on every row, as :func:`check_weights` does."""
    if not total > 0:
        # scikit-learn's own error and message, as in memory
        _check_sample_weight(np.zeros(1), np.empty((1, 0)))


@contextmanager
def _numeric_rows_hint(dtype: Any):
    """Say how to encode non-numeric columns when ``X`` must be numeric."""
    try:
        yield
    except ValueError as exc:
        if dtype == "numeric" and "could not convert" in str(exc):
            raise ValueError(
                f"X must be numeric when the featurizers are 'passthrough' "
                f"({exc}); encode such columns in a featurizer (e.g. a "
                "ColumnTransformer with a OneHotEncoder)."
            ) from exc
        raise


def check_rows(X: Any, *, dtype: Any, estimator: Any) -> Any:
    """Some rows of ``X`` checked as ``fit`` checks all of them (finite values).

    The checks of the in-memory ``validate_data`` call (which also records
    the number and names of the columns), for one block of rows.
    """
    with _numeric_rows_hint(dtype):
        return check_array(
            X,
            dtype=dtype,
            ensure_all_finite=True,
            ensure_min_samples=0,
            input_name="X",
            estimator=estimator,
        )


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


def _weighted_variance(values: Any, sample_weight: np.ndarray | None) -> np.ndarray:
    """Weighted variance per column (unweighted without weights or weight)."""
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    if sample_weight is None or not sample_weight.sum():
        return np.var(values, axis=0)
    mean = np.average(values, axis=0, weights=sample_weight)
    return np.average((values - mean) ** 2, axis=0, weights=sample_weight)


def _copy_moments(
    y_weak: np.ndarray, y_strong: np.ndarray, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The weak labels' weighted variance and the misfit, per output.

    What :func:`_warn_if_copied_from_moments` reads (``None`` when there is
    no row or no weight).
    """
    y_weak = np.asarray(y_weak, dtype=np.float64).reshape(len(y_weak), -1)
    y_strong = np.asarray(y_strong, dtype=np.float64).reshape(len(y_strong), -1)
    if len(y_weak) == 0 or (sample_weight is not None and not sample_weight.sum()):
        return None
    centred = y_weak - np.average(y_weak, axis=0, weights=sample_weight)
    variance = np.average(centred**2, axis=0, weights=sample_weight)
    gap = np.average((y_strong - y_weak) ** 2, axis=0, weights=sample_weight)
    return variance, gap


def _warn_if_copied_from_moments(
    variance: np.ndarray, gap: np.ndarray, *, dask: bool = False
) -> None:
    """Warn when the strong model reproduces its weak labels (zero gain).

    From the weak labels' variance and the misfit on the strong rows, per
    output (:func:`_copy_moments`).
    """
    copied = (variance > 0) & (gap <= _COPY_RTOL * variance)
    if not copied.any():
        return
    ratio = float(np.max(gap[copied] / variance[copied]))
    tasks = "" if copied.size == 1 else f" ({int(copied.sum())} of {copied.size} tasks)"
    tree = "DecisionTreeRegressor(max_depth=2)"
    if dask:  # the Dask path fits no tree: a fitted one, frozen
        tree = f"FrozenEstimator({tree}.fit(X_sample, y_sample))"
    _warn_copied(
        f"{tasks}: its misfit on its training rows is {ratio:.1g} times their variance",
        f"weak_head={tree}",
    )


#: A KL misfit (in nats, scale-free) at most this is a copy: rounding of an
#: exact copy is about 1e-16, a real misfit many orders larger.
_KL_COPY_ATOL = 1e-10


def _warn_if_copied_kl(misfit: float) -> None:
    """Warn when a classifier's strong head reproduces the weak probabilities."""
    if misfit <= _KL_COPY_ATOL:
        _warn_copied(
            f": its KL misfit on its training rows is {misfit:.1g} nats",
            "weak_head=DecisionTreeClassifier(max_depth=2)",
        )


def _warn_copied(detail: str, example: str) -> None:
    warnings.warn(
        f"The strong model reproduces its weak labels{detail}. The weak model "
        "lies in the span of the strong model (e.g. a linear model on some of "
        "the strong features, or a PCA of them), so the strong head copies it "
        "and the gain is 0. Use a weak model outside the strong span: a weak "
        "representation the strong one cannot express, or a weak head of "
        f"another family, e.g. {example}.",
        UserWarning,
        stacklevel=4,
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


def _is_fixed_weak_model(featurizer: Any, head: Any) -> bool:
    """Whether a weak model learns nothing from its rows (it is fitted already).

    Its featurizer is "passthrough" or frozen, its head a
    :class:`~sklearn.frozen.FrozenEstimator`.
    """
    fixed = _is_passthrough(featurizer) or isinstance(featurizer, FrozenEstimator)
    return fixed and isinstance(head, FrozenEstimator)


def _is_passthrough(featurizer: Any) -> bool:
    return isinstance(featurizer, str) and featurizer == "passthrough"


def _make_featurizer(featurizer, name=None):
    """An unfitted clone of ``featurizer`` (``name``: warn if it was fitted)."""
    if _is_passthrough(featurizer):
        return FunctionTransformer(None, accept_sparse=True)
    if name is not None and _is_fitted(featurizer):
        warnings.warn(
            f"`{name}` ({type(featurizer).__name__}) is already fitted; like any "
            "scikit-learn meta-estimator, the estimator fits a clone of it again "
            "on its own rows. To keep a fitted (e.g. pretrained) representation "
            "as it is, pass it wrapped in sklearn.frozen.FrozenEstimator.",
            UserWarning,
            stacklevel=4,
        )
    return clone(featurizer)


#: The stages of a fit that ``verbose`` reports, in order, and what each does.
STAGES = {
    "weak featurizer": "weak featurizer fitted on the weak rows",
    "weak head": "weak head fitted on true labels, weak labels made",
    "strong featurizer": "strong featurizer fitted, strong rows featurized",
    "strong head": "strong head fitted on the weak labels",
    "diagnostics": "diagnostics measured",
}


class Progress:
    """``stage(name)``: a context that prints the stage's time when ``verbose``.

    The lines are scikit-learn's (``Pipeline(verbose=True)``'s format):
    ``[WeakToStrongRegressor] ... (step 1 of 5) weak featurizer ..., total=
    0.1s``.
    """

    def __init__(self, estimator: str, verbose: int) -> None:
        self.estimator = estimator
        self.verbose = verbose

    def stage(self, name: str) -> Any:
        if not self.verbose:
            return nullcontext()
        step = list(STAGES).index(name) + 1
        message = f"(step {step} of {len(STAGES)}) {STAGES[name]}"
        return _print_elapsed_time(self.estimator, message)

    def forward(self, featurizer: Any) -> Any:
        """``featurizer`` (a fresh clone) with every silent ``verbose``
        parameter of it and of its inner estimators set to this verbosity,
        so that a long pretraining or training reports too."""
        if not self.verbose or isinstance(featurizer, FrozenEstimator):
            return featurizer  # a frozen featurizer is not fitted again
        try:
            params = featurizer.get_params(deep=True)
        except (AttributeError, TypeError):  # a duck-typed featurizer
            return featurizer
        silent = {
            key: (True if isinstance(value, bool) else self.verbose)
            for key, value in params.items()
            if (key == "verbose" or key.endswith("__verbose"))
            and isinstance(value, (bool, int, np.integer))
            and not value
            and not _inside_frozen(key, params)
        }
        return featurizer.set_params(**silent) if silent else featurizer


def _inside_frozen(key: str, params: dict) -> bool:
    """Whether the parameter ``key`` belongs to a FrozenEstimator's estimator."""
    parts = key.split("__")
    return any(
        isinstance(params.get("__".join(parts[:i])), FrozenEstimator)
        for i in range(1, len(parts))
    )


def _is_fitted(estimator: Any) -> bool:
    """Whether a transformer that needs fitting was fitted (not a frozen one)."""
    if isinstance(estimator, FrozenEstimator) or not hasattr(estimator, "fit"):
        return False
    try:
        if not get_tags(estimator).requires_fit:
            return False
        check_is_fitted(estimator)
    except (NotFittedError, TypeError, AttributeError):
        return False
    return True


def _warn_if_learns_from_labels(featurizer: Any) -> None:
    """Warn when the strong featurizer would be trained on the weak labels."""
    if _is_passthrough(featurizer) or isinstance(featurizer, FrozenEstimator):
        return
    try:
        learns = get_tags(featurizer).target_tags.required
    except (TypeError, AttributeError):  # a duck-typed featurizer
        return
    if learns:
        warnings.warn(
            f"`strong_featurizer` ({type(featurizer).__name__}) learns from its "
            "y, which here are the weak labels: the strong representation is "
            "then trained to imitate the weak model instead of being fixed, as "
            "Theorem 1 assumes, and the bound need not hold. Pretrain it on its "
            "own data and pass it wrapped in sklearn.frozen.FrozenEstimator (see "
            "the user guide, 'Representations').",
            UserWarning,
            stacklevel=4,
        )


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


def _head_predict(head, Z, ndim, name="head"):
    """A fitted head's predictions on checked features, shaped like ``y``.

    Non-finite predictions are an error that names the head (``name``): any
    head's output is checked, not only the library's.
    """
    with _checked_features_context(head):
        pred = _as_output(head.predict(Z), ndim)
    _check_finite_output(pred, head, name, "predicted")
    return pred


def _check_finite_output(values, head, name, verb):
    bad = ~np.isfinite(values)
    if bad.any():
        rows = np.flatnonzero(bad.reshape(len(values), -1).any(axis=1))
        kind = type(head).__name__
        if isinstance(head, FrozenEstimator):  # name the model it wraps
            kind = f"{kind}({type(head.estimator).__name__})"
        raise ValueError(
            f"`{name}` ({kind}) {verb} NaN or infinite values on "
            f"{len(rows)} of {len(values)} rows (the first: {rows[:5].tolist()}); "
            "nothing is dropped silently: fix the head or its features."
        )


def _fit_head(head, Z, y, sample_weight, name):
    if isinstance(head, FrozenEstimator):  # fitted elsewhere, used as it is
        return head
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


@dataclass
class FitResult:
    """What a backend's fit returns; the estimator sets its attributes from it.

    Attributes
    ----------
    weak_featurizer, strong_featurizer : transformer
        The fitted featurizers.
    weak_head, head : estimator
        The fitted weak and strong heads.
    diagnostics : Diagnostics
        The per-row-set sums of every per-row loss.
    roles : ndarray of str or Dask array
        The role of every row.
    reuse : bool
        Whether the strong rows are the weak rows.
    interpolates : bool
        Whether the strong head interpolates its labels (it was warned).
    copy_moments : tuple of ndarray or None
        The weak labels' weighted variance and the misfit on the strong rows.
    label_variance : ndarray
        The weighted variance of the weak labels on the rows of the misfit,
        the scale of "negative beyond rounding" for the bound.
    n_features_in : int or None
        Columns of ``X`` (the Dask backend; in memory, validation sets it).
    feature_names_in : ndarray or None
        Their names, when they are all strings (the Dask backend).
    """

    weak_featurizer: Any
    strong_featurizer: Any
    weak_head: Any
    head: Any
    diagnostics: Any
    roles: Any
    reuse: bool
    interpolates: bool = False
    copy_moments: tuple | None = None
    label_variance: Any = None
    n_features_in: int | None = None
    feature_names_in: Any = None
