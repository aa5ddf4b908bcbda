"""Input validation shared by estimators, heads, featurizers and metrics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import _safe_indexing


def check_string_column(X, *, what="string", strip=False, estimator=None):
    """One column of strings (a sequence, Series, ``(n, 1)`` array or one-column
    DataFrame) as a 1-D object array; ``what`` and ``estimator`` name the input
    in the messages, ``strip`` strips each string."""

    who = f"{type(estimator).__name__}: " if estimator is not None else ""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{who}X must be a sequence of {what}s (one per row), got a single "
            "string; wrap it in a list."
        )
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # a DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"{who}X must have one column of {what}s; got a DataFrame with "
                f"{X.shape[1]} columns."
            )
        X = X.iloc[:, 0]
    if hasattr(X, "to_numpy"):  # a Series
        X = X.to_numpy(dtype=object)
    values = np.asarray(X, dtype=object)
    if values.ndim == 2:
        if values.shape[1] != 1:
            raise ValueError(
                f"{who}X must have one column of {what}s (1-D or shape "
                f"(n_samples, 1)); got shape {values.shape}."
            )
        values = values[:, 0]
    elif values.ndim != 1:
        raise ValueError(
            f"{who}X must be 1-D or of shape (n_samples, 1) (one {what} per "
            f"row); got {values.ndim} dimensions."
        )
    out = np.empty(len(values), dtype=object)
    for i, s in enumerate(values):
        if not isinstance(s, str):
            raise ValueError(
                f"{who}row {i} of X is not a {what}: {s!r:.40} ({type(s).__name__})."
            )
        out[i] = s.strip() if strip else s
    return out


# Labeled rows and metric inputs (estimators, metrics, scorers).


def check_partially_labeled_y(
    y: ArrayLike,
    *,
    n_samples: int | None = None,
    require_labeled: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(y, labeled)``: float64 targets where a row of NaN is unlabeled (a
    partly-NaN row is refused), and the labeled mask.

    ``n_samples`` is the number of rows of ``X``; ``require_labeled``, the
    caller's name, refuses data with no labeled row.
    """
    from sklearn.utils.validation import check_array

    if y is None:
        raise ValueError("y is required, but the target y is None.")
    y_arr = check_array(
        y,
        ensure_2d=False,
        dtype=np.float64,
        ensure_all_finite="allow-nan",
        ensure_min_samples=0,
        ensure_min_features=0,  # refused below, as y's (not "features")
        input_name="y",
    )
    if y_arr.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got a {y_arr.ndim}-D array.")
    check_n_outputs(y_arr.shape[1] if y_arr.ndim == 2 else 1)
    _check_n_rows(y_arr, n_samples)
    missing = np.isnan(y_arr).reshape(y_arr.shape[0], -1)
    labeled = ~missing.all(axis=1)
    if missing[labeled].any():
        raise ValueError(
            "Input y has rows where some outputs are NaN and others are not; "
            "a row is either labeled (no NaN) or unlabeled (all NaN)."
        )
    _require(labeled, require_labeled)
    return y_arr, labeled


def check_n_outputs(n_outputs: int) -> None:
    """Refuse a 2-D ``y`` without columns: there is nothing to fit."""
    if n_outputs == 0:
        raise ValueError(
            "y has 0 columns (outputs): a 2-D y needs at least one target column."
        )


def check_real_arrays(
    arrays: dict[str, ArrayLike],
    *,
    sample_weight: ArrayLike | None = None,
) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Same-shaped real 1-D or 2-D inputs of a metric, by name, as float64
    (complex refused, not cast), and the checked ``sample_weight``."""
    out = [as_real_float(a, name, (1, 2)) for name, a in arrays.items()]
    names = list(arrays)
    for name, a in zip(names[1:], out[1:]):
        if a.shape != out[0].shape:
            raise ValueError(
                f"`{names[0]}` and `{name}` must have the same shape, got "
                f"{out[0].shape} and {a.shape}."
            )
    weights = check_sample_weight(sample_weight, out[0].shape[0] if out else None)
    return out, weights


def as_real_float(
    a: ArrayLike, name: str, allowed_ndim: tuple[int, ...] | None = None
) -> np.ndarray:
    """``a`` as a new float64 array; complex values and non-numbers refused.

    With ``allowed_ndim``, also require one of these dimensions, a row and
    finite values. The messages name ``name``.
    """
    arr = np.asarray(a)
    if has_complex(arr):
        raise ValueError(f"`{name}` must be real, got complex values.")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be numeric ({exc}).") from exc
    if allowed_ndim is None:
        return arr
    if arr.ndim not in allowed_ndim:
        dims = " or ".join(f"{d}-D" for d in allowed_ndim)
        raise ValueError(f"`{name}` must be {dims}, got {arr.ndim}-D.")
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}` is empty.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or infinity.")
    return arr


def has_complex(arr: np.ndarray) -> bool:
    """Whether ``arr`` holds complex values (dtype, or in an object array)."""
    return arr.dtype.kind == "c" or (
        arr.dtype == object and any(isinstance(v, complex) for v in arr.flat)
    )


def check_class_probabilities(
    P: ArrayLike,
    name: str,
    *,
    atol: float,
    n_classes: int | None = None,
    ensure_non_empty: bool = True,
) -> np.ndarray:
    """Class probabilities, one row per sample, as float64: 2-D with at least 2
    columns (``n_classes`` if given), finite, non-negative, rows summing to 1
    within ``atol``."""
    P = as_real_float(P, name)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(
            f"`{name}` must be class probabilities of shape (n_samples, "
            f"n_classes) with n_classes >= 2, got shape {P.shape}."
        )
    if n_classes is not None and P.shape[1] != n_classes:
        raise ValueError(
            f"`{name}` has {P.shape[1]} classes (columns), expected {n_classes}."
        )
    if ensure_non_empty and P.shape[0] == 0:
        raise ValueError(f"`{name}` is empty.")
    if not np.all(np.isfinite(P)):
        raise ValueError(f"`{name}` contains NaN or infinity.")
    if np.any(P < 0):
        rows = np.flatnonzero((P < 0).any(axis=1))[:5].tolist()
        raise ValueError(f"`{name}` has negative class probabilities on rows {rows}.")
    dev = np.abs(P.sum(axis=1) - 1.0)
    if np.any(dev > atol):
        rows = np.flatnonzero(dev > atol)[:5].tolist()
        raise ValueError(
            f"The rows of `{name}` must sum to 1 (class probabilities); rows "
            f"{rows} do not (largest deviation {dev.max():.3g})."
        )
    return P


def check_sample_weight(
    sample_weight: ArrayLike | None,
    n_samples: int | None,
    *,
    name: str = "sample_weight",
) -> np.ndarray | None:
    """Row weights as float64 (None stays None): real, finite, 1-D with
    ``n_samples`` entries (any when None), non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = as_real_float(sample_weight, name, (1,))
    if n_samples is not None and w.shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"`{name}` has {w.shape[0]} values for {n_samples} rows; it must "
            f"have shape ({n_samples},)."
        )
    if (w < 0).any():
        raise ValueError(f"`{name}` has negative values; weights must be non-negative.")
    if not w.any():
        raise ValueError(
            f"`{name}` is zero on every row; the weights must not all be zero."
        )
    return w


def check_partially_labeled_classes(
    y: ArrayLike,
    *,
    n_samples: int | None = None,
    require_labeled: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(y, labeled, classes, Y)`` of classification targets with unlabeled rows.

    ``y`` holds class labels (a value :func:`pandas.isna` calls missing marks
    an unlabeled row) or class probabilities (2-D, an all-NaN row
    unlabeled). ``Y`` is the one-hot labels or the probabilities, zero on
    unlabeled rows; ``classes`` the sorted labels, or ``arange(n_classes)``.
    """
    import pandas as pd
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import column_or_1d

    if y is None:
        raise ValueError("y is required, but the target y is None.")
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.dtype.kind in "fiub" and arr.ndim == 2 and arr.shape[1] >= 2:
        P = arr.astype(np.float64)
        _check_n_rows(P, n_samples)
        missing = np.isnan(P)
        labeled: np.ndarray = np.asarray(~missing.all(axis=1), dtype=bool)
        if missing[labeled].any():
            raise ValueError(
                "Input y has rows where some class probabilities are NaN and "
                "others are not; a row is either labeled (no NaN) or unlabeled "
                "(all NaN)."
            )
        _require(labeled, require_labeled)
        lab = P[labeled]
        if not np.all(np.isfinite(lab)) or np.any(lab < 0):
            raise ValueError(
                "y holds class probabilities, which must be finite and non-negative."
            )
        dev = np.abs(lab.sum(axis=1) - 1.0)
        if np.any(dev > 1e-6):
            rows = np.flatnonzero(labeled)[dev > 1e-6][:5].tolist()
            raise ValueError(
                "y holds class probabilities (2-D, several columns), whose rows "
                f"must sum to 1; rows {rows} do not (largest deviation "
                f"{dev.max():.3g}). Pass class labels as a 1-D array."
            )
        Y = np.where(labeled[:, None], P, 0.0)
        return P, labeled, np.arange(P.shape[1]), Y
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = column_or_1d(arr, warn=True)
    if arr.ndim != 1:
        raise ValueError(
            "y must be class labels of shape (n_samples,) or class probabilities "
            f"of shape (n_samples, n_classes), got shape {arr.shape}."
        )
    _check_n_rows(arr, n_samples)
    labeled = ~np.asarray(pd.isna(arr), dtype=bool)
    _require(labeled, require_labeled)
    values = arr[labeled]
    if values.dtype == object:
        values = np.asarray(values.tolist())
    check_classification_targets(values)
    classes, codes = np.unique(values, return_inverse=True)
    if classes.size < 2 and require_labeled is None:
        raise ValueError(
            f"y has 1 class ({classes.tolist()}) on its labeled rows; a "
            "classifier needs at least 2 classes."
        )
    Y = np.zeros((arr.shape[0], classes.size))
    Y[np.flatnonzero(labeled), codes] = 1.0
    return arr, labeled, classes, Y


def _check_n_rows(y, n_samples):
    if n_samples is not None and y.shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: X has "
            f"{n_samples} rows and y has {y.shape[0]}."
        )
    if y.shape[0] == 0:
        raise ValueError("y is empty: it has 0 rows.")


def _require(labeled, caller):
    if caller is not None and not labeled.any():
        raise ValueError(f"{caller} needs labeled rows, but every row of y is NaN.")


# Metric options and results.


def check_multioutput(multioutput, n_outputs: int):
    """A metric's ``multioutput``: ``"raw_values"``, ``"uniform_average"``, or
    one finite, non-negative task weight per output, not all zero."""
    if isinstance(multioutput, str):
        if multioutput not in ("raw_values", "uniform_average"):
            raise ValueError(
                "`multioutput` must be 'raw_values', 'uniform_average' or an "
                f"array of task weights, got {multioutput!r}."
            )
        return multioutput
    weights = as_real_float(multioutput, "multioutput", (1,))
    if weights.shape[0] != n_outputs:
        raise ValueError(
            f"`multioutput` has {weights.shape[0]} weights for {n_outputs} "
            "tasks; pass one weight per task."
        )
    if (weights < 0).any():
        raise ValueError("`multioutput` has negative task weights.")
    if not weights.any():
        raise ValueError("`multioutput` weights are zero for every task.")
    return weights


def check_finite_result(value, what: str):
    """``value``, or a ValueError naming ``what`` when it overflowed to inf or NaN."""
    if not np.all(np.isfinite(value)):
        raise ValueError(
            f"{what} is not finite (float64 overflow): the inputs are too "
            "large in magnitude; rescale them (e.g. standardise the targets)."
        )
    return value


def check_bool(value, name: str) -> bool:
    """A ``bool`` parameter, never cast: a TypeError naming ``name`` otherwise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"`{name}` must be a bool, got {value!r} ({type(value).__name__})."
        )
    return bool(value)


def take_rows(X, index):
    """The rows ``index`` of ``X``: scikit-learn's ``_safe_indexing``, by
    :meth:`numpy.ndarray.take` (faster) for an array, a view for a slice.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg._utils._validation import take_rows
    >>> take_rows(np.arange(6).reshape(3, 2), np.array([2, 0]))
    array([[4, 5],
           [0, 1]])
    """
    if isinstance(X, np.ndarray):
        return X[index] if isinstance(index, slice) else X.take(index, axis=0)
    return _safe_indexing(X, index)
