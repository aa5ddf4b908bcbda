"""Weak-to-strong metrics for classification, in the KL sense.

A model's error is ``E[KL(p_model ‖ p*)]`` (the model first: the order of the
identity ``KL(p_w ‖ p*) = KL(p_w ‖ p_sw) + KL(p_sw ‖ p*)``, see
:ref:`theory_kl`), or the log-loss ``E[-log p_model(y)]`` on hard labels; the
misfit is ``E[KL(p_w ‖ p_sw)]``. ``y_true`` (first) is class probabilities of
shape (n_samples, n_classes) or labels of shape (n_samples,), read against
the probability columns through ``labels``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import kl_div

from .._utils._docstrings import fill_doc
from .._utils._validation import (
    check_class_probabilities,
    check_sample_weight,
    has_complex,
)
from ._kl_intervals import _classification_intervals
from ._losses import _diagnostics, no_gap

__all__ = [
    "accuracy_pgr",
    "kl_bound",
    "kl_error",
    "kl_gain",
    "kl_misfit",
    "weak_to_strong_classification_report",
]

#: Tolerance on the row sums of class probabilities.
_ROW_SUM_ATOL = 1e-6


def _check_proba(P, name, n_classes=None):
    """Class probabilities as float64 (n, K): finite, >= 0, rows summing to 1."""
    return check_class_probabilities(P, name, atol=_ROW_SUM_ATOL, n_classes=n_classes)


def _is_proba(y_true):
    return np.ndim(y_true) == 2 and np.shape(y_true)[1] >= 2


def _label_codes(y_true, n_classes, labels):
    """Column index of each label: through ``labels``, else 0..K-1 or sorted."""
    y = _label_vector(
        y_true,
        "y_true",
        "labels of shape (n_samples,) or probabilities of shape (n_samples, n_classes)",
    )
    if labels is None:
        if y.dtype.kind in "iu" and y.size and y.min() >= 0 and y.max() < n_classes:
            return y.astype(np.intp)
        labels = np.unique(y)
        if labels.size != n_classes:
            raise ValueError(
                f"`y_true` has {labels.size} distinct labels but the probabilities "
                f"have {n_classes} columns: pass `labels`, the class of each "
                "column (e.g. the estimator's classes_)."
            )
    labels = np.asarray(labels)
    if labels.shape != (n_classes,):
        raise ValueError(
            f"`labels` must list the {n_classes} classes of the probability "
            f"columns, got shape {labels.shape}."
        )
    _check_labels_real(labels, "labels")
    if np.unique(labels).size != n_classes or _has_nan(labels):
        raise ValueError(
            f"`labels` must be {n_classes} distinct classes (no NaN), one per "
            f"probability column; got {labels.tolist()}."
        )
    order = np.argsort(labels, kind="stable")
    pos = np.searchsorted(labels[order], y)
    pos = np.clip(pos, 0, n_classes - 1)
    codes = order[pos]
    unknown = labels[codes] != y
    if np.any(unknown):
        bad = np.unique(y[unknown])[:5].tolist()
        raise ValueError(f"`y_true` has labels {bad} not in `labels`.")
    return codes


def _label_vector(y, name, what="class labels of shape (n_samples,)"):
    """``y`` as a 1-D, non-empty array of real labels (a single column too)."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be {what}, got shape {arr.shape}.")
    _check_labels_real(arr, name)
    if arr.shape[0] == 0:
        raise ValueError(f"`{name}` is empty.")
    return arr


def _check_labels_real(y, name):
    if has_complex(y):
        raise ValueError(f"`{name}` must be real class labels, got complex values.")


def _has_nan(a):
    return a.dtype.kind == "f" and bool(np.isnan(a).any())


def _kl_rows(P, Q, names):
    """``KL(P_i ‖ Q_i)`` per row; infinite values are errors."""
    kl = kl_div(P, Q).sum(axis=1)  # p log(p/q) - p + q: every term >= 0
    if not np.all(np.isfinite(kl)):
        rows = np.flatnonzero(~np.isfinite(kl))[:5].tolist()
        raise ValueError(
            f"KL({names[0]} ‖ {names[1]}) is infinite on rows {rows}: "
            f"`{names[1]}` gives probability 0 to a class that `{names[0]}` does "
            "not."
        )
    return kl


def _log_loss_rows(codes, P, name):
    p = P[np.arange(P.shape[0]), codes]
    if np.any(p <= 0):
        rows = np.flatnonzero(p <= 0)[:5].tolist()
        raise ValueError(
            f"The log-loss of `{name}` is infinite: it gives probability 0 to the "
            f"true class on rows {rows}."
        )
    return -np.log(p)


def _mean(values, w):
    return float(np.average(values, weights=w))


def _error_rows(y_true, P, name, labels):
    if _is_proba(y_true):
        Y = _check_proba(y_true, "y_true", P.shape[1])
        if Y.shape[0] != P.shape[0]:
            raise ValueError(
                f"`y_true` and `{name}` have {Y.shape[0]} and {P.shape[0]} rows."
            )
        return _kl_rows(P, Y, (name, "y_true"))
    n_true = np.shape(y_true)[0] if np.ndim(y_true) else 0
    if n_true != P.shape[0]:  # before reading the labels
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"`y_true` has {n_true} rows and `{name}` {P.shape[0]}."
        )
    codes = _label_codes(y_true, P.shape[1], labels)
    return _log_loss_rows(codes, P, name)


@fill_doc
def kl_misfit(
    p_weak: ArrayLike,
    p_strong: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """KL misfit of the strong model to its weak supervisor, ``E[KL(p_w ‖ p_sw)]``.

    Parameters
    ----------
    p_weak, p_strong : array-like of shape (n_samples, n_classes)
        The weak and the strong model's class probabilities (same columns).
    {sample_weight}

    Returns
    -------
    misfit : float
        Non-negative; 0 when the two models agree.

    Examples
    --------
    >>> from skwtsg.metrics import kl_misfit
    >>> round(kl_misfit([[0.5, 0.5]], [[0.25, 0.75]]), 4)
    0.1438
    """
    P = _check_proba(p_weak, "p_weak")
    Q = _check_proba(p_strong, "p_strong", P.shape[1])
    if P.shape[0] != Q.shape[0]:
        raise ValueError(
            f"`p_weak` and `p_strong` have {P.shape[0]} and {Q.shape[0]} rows."
        )
    w = check_sample_weight(sample_weight, P.shape[0])
    return _mean(_kl_rows(P, Q, ("p_weak", "p_strong")), w)


@fill_doc
def kl_error(
    y_true: ArrayLike,
    p_pred: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """A model's error: ``E[KL(p_pred ‖ p*)]``, or the log-loss on hard labels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes) or (n_samples,)
        The truth's class probabilities ``p*`` (rows summing to 1), or class
        labels.
    p_pred : array-like of shape (n_samples, n_classes)
        The model's class probabilities.
    labels : array-like of shape (n_classes,), default=None
        The class of each column, for label ``y_true``; by default labels
        ``0..n_classes-1`` are column indices, others match sorted columns.
    {sample_weight}

    Returns
    -------
    error : float

    Examples
    --------
    >>> from skwtsg.metrics import kl_error
    >>> round(kl_error([[0.5, 0.5]], [[0.25, 0.75]]), 4)
    0.1308
    >>> round(kl_error(["b"], [[0.25, 0.75]], labels=["a", "b"]), 4)
    0.2877
    """
    P = _check_proba(p_pred, "p_pred")
    w = check_sample_weight(sample_weight, P.shape[0])
    return _mean(_error_rows(y_true, P, "p_pred", labels), w)


@fill_doc
def kl_gain(
    y_true: ArrayLike,
    p_weak: ArrayLike,
    p_strong: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Gain of the strong model: ``kl_error(weak) - kl_error(strong)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes) or (n_samples,)
        True class probabilities, or labels (see :func:`kl_error`).
    p_weak, p_strong : array-like of shape (n_samples, n_classes)
        The weak and the strong model's class probabilities.
    labels : array-like of shape (n_classes,), default=None
        The class of each column, for label ``y_true``.
    {sample_weight}

    Returns
    -------
    gain : float

    Examples
    --------
    >>> from skwtsg.metrics import kl_gain
    >>> round(kl_gain([[0.5, 0.5]], [[0.1, 0.9]], [[0.4, 0.6]]), 4)
    0.3479
    """
    report = weak_to_strong_classification_report(
        y_true, p_weak, p_strong, labels=labels, sample_weight=sample_weight
    )
    return report["gain"]


@fill_doc
def kl_bound(
    y_true: ArrayLike,
    p_weak: ArrayLike,
    p_strong: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
) -> float:
    """The bound on the strong model's error: ``kl_error(weak) - kl_misfit``.

    Exact on the strong head's training sample for the unconstrained
    softmax head and realizable ``p*``; an upper bound for a head over a
    convex set of parameters.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes) or (n_samples,)
        True class probabilities, or labels (see :func:`kl_error`).
    p_weak, p_strong : array-like of shape (n_samples, n_classes)
        The weak and the strong model's class probabilities.
    labels : array-like of shape (n_classes,), default=None
        The class of each column, for label ``y_true``.
    {sample_weight}

    Returns
    -------
    bound : float

    Examples
    --------
    >>> from skwtsg.metrics import kl_bound
    >>> round(kl_bound([[0.5, 0.5]], [[0.1, 0.9]], [[0.4, 0.6]]), 4)
    0.1418
    """
    report = weak_to_strong_classification_report(
        y_true, p_weak, p_strong, labels=labels, sample_weight=sample_weight
    )
    return report["bound"]


@fill_doc
def accuracy_pgr(
    y_true: ArrayLike,
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    y_ceiling: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
) -> float:
    """Performance gap recovered in accuracy (Burns et al., 2023).

    ``(acc(w2s) - acc(weak)) / (acc(ceiling) - acc(weak))``, the ceiling being
    the strong model trained on true labels; a ValueError when the ceiling
    is exactly as accurate as the weak model.

    Parameters
    ----------
    y_true, y_weak, y_strong, y_ceiling : array-like of shape (n_samples,)
        True class labels, and the labels predicted by the weak model, the
        weakly-supervised strong model and the ceiling.
    {sample_weight}

    Returns
    -------
    pgr : float

    References
    ----------
    .. [1] C. Burns et al., "Weak-to-Strong Generalization: Eliciting Strong
       Capabilities With Weak Supervision", arXiv:2312.09390, 2023.

    Examples
    --------
    >>> from skwtsg.metrics import accuracy_pgr
    >>> accuracy_pgr([0, 1, 1, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0])
    0.5
    """
    truth = _check_hard_labels(y_true, "y_true")
    w = check_sample_weight(sample_weight, truth.shape[0])
    acc = []
    for name, y_pred in (
        ("y_weak", y_weak),
        ("y_strong", y_strong),
        ("y_ceiling", y_ceiling),
    ):
        pred = _check_hard_labels(y_pred, name)
        if pred.shape != truth.shape:
            raise ValueError(
                f"`{name}` must have the shape of `y_true` {truth.shape}, got "
                f"{pred.shape}."
            )
        acc.append(_mean(pred == truth, w))
    weak, w2s, ceiling = acc
    return _gap_recovered(weak, w2s, ceiling, "accuracy_pgr", "accuracy")


def _check_hard_labels(y, name):
    """1-D, non-empty, real class labels with no missing value."""
    import pandas as pd

    arr = _label_vector(y, name)
    missing = np.asarray(pd.isna(arr), dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise ValueError(
            f"`{name}` has missing labels (NaN or None) on rows {rows}: pass "
            "labeled rows only."
        )
    return arr


def _gap_recovered(weak, w2s, ceiling, what, quantity):
    """``(w2s - weak) / (ceiling - weak)``; a ValueError when there is no gap."""
    gap = ceiling - weak
    if no_gap(weak, w2s, ceiling):
        raise ValueError(
            f"{what} is undefined: the ceiling's {quantity} equals the weak "
            "model's, so there is no gap to recover."
        )
    return (w2s - weak) / gap


@fill_doc
def weak_to_strong_classification_report(
    y_true: ArrayLike,
    p_weak: ArrayLike,
    p_strong: ArrayLike,
    *,
    p_ceiling: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    confidence_level: float | None = None,
    n_resamples: int = 9999,
    method: str = "BCa",
    random_state: Any = None,
) -> dict[str, Any]:
    """Every weak-to-strong diagnostic for classifiers at once, optionally
    with intervals.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes) or (n_samples,)
        True class probabilities (KL errors), or class labels (log-loss
        errors, plus accuracies).
    p_weak, p_strong : array-like of shape (n_samples, n_classes)
        The weak and the weakly-supervised strong model's class probabilities.
    p_ceiling : array-like of shape (n_samples, n_classes), default=None
        The strong model trained on true labels; adds ``ceiling_error`` and
        ``pgr`` (and ``ceiling_accuracy``, ``accuracy_pgr`` with labels).
    labels : array-like of shape (n_classes,), default=None
        The class of each column, for label ``y_true`` (see
        :func:`kl_error`).
    {sample_weight}
    confidence_level : float, default=None
        With a level such as 0.95, also a paired bootstrap interval
        ``"<name>_ci"`` for every entry, all from one resample of the rows
        (the weak, weakly-supervised and ceiling predictions of a row drawn
        together), and for each PGR its gap, a flag and a message (see
        Returns).
    {bootstrap}

    Returns
    -------
    report : dict
        ``weak_error``, ``strong_error``, ``misfit``, ``gain``, ``bound``;
        with labels also ``weak_accuracy`` and ``strong_accuracy``; with
        ``p_ceiling`` also ``ceiling_error``, ``pgr`` and, with labels,
        ``ceiling_accuracy`` and ``accuracy_pgr`` (a ValueError when a gap
        is zero, unless ``confidence_level`` is set: then NaN, flagged
        unstable). Each a float. With ``confidence_level``, also
        ``<name>_ci``, a ``(low, high)`` pair of floats, for each of them,
        and for each PGR (``pgr`` and ``accuracy_pgr``): ``<pgr>_gap``, its
        denominator (``weak_error - ceiling_error``, ``ceiling_accuracy -
        weak_accuracy``), with ``<pgr>_gap_ci``; ``<pgr>_unstable``, True
        when the gap's interval contains 0, and ``<pgr>_message``, a
        sentence saying why (``None`` when stable). An unstable PGR's
        interval is ``(-inf, inf)``: with a denominator that may be 0 the
        ratio's confidence set is unbounded, and its point value is no
        measurement.

    Examples
    --------
    >>> from skwtsg.metrics import weak_to_strong_classification_report
    >>> r = weak_to_strong_classification_report(
    ...     [0, 1], [[0.6, 0.4], [0.6, 0.4]], [[0.7, 0.3], [0.4, 0.6]])
    >>> {k: round(v, 3) for k, v in r.items()}
    {'weak_error': 0.714, 'strong_error': 0.434, 'misfit': 0.052, 'gain': 0.28,
     'bound': 0.662, 'weak_accuracy': 0.5, 'strong_accuracy': 1.0}

    With intervals, on 400 rows where the weak model is right 60% of the
    time, the weakly-supervised one 70% and the ceiling 80%:

    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> y = rng.randint(2, size=400)
    >>> def model(accuracy):  # right with this probability, 0.8 confident
    ...     right = rng.uniform(size=400) < accuracy
    ...     p1 = np.where(right == (y == 1), 0.8, 0.2)
    ...     return np.column_stack([1 - p1, p1])
    >>> r = weak_to_strong_classification_report(
    ...     y, model(0.6), model(0.7), p_ceiling=model(0.8),
    ...     confidence_level=0.95, random_state=0)
    >>> low, high = r["accuracy_pgr_ci"]
    >>> bool(low < r["accuracy_pgr"] < high), r["accuracy_pgr_unstable"]
    (True, False)
    """
    if confidence_level is None:
        return _classification_report(
            y_true,
            p_weak,
            p_strong,
            p_ceiling=p_ceiling,
            labels=labels,
            sample_weight=sample_weight,
        )
    report, per_row, weights = _classification_report(
        y_true,
        p_weak,
        p_strong,
        p_ceiling=p_ceiling,
        labels=labels,
        sample_weight=sample_weight,
        undefined_pgr="nan",
        rows=True,
    )
    return _classification_intervals(
        report,
        per_row,
        weights,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        method=method,
        random_state=random_state,
    )


def _classification_report(
    y_true,
    p_weak,
    p_strong,
    *,
    p_ceiling=None,
    labels=None,
    sample_weight=None,
    undefined_pgr="raise",
    rows=False,
):
    """The report; ``undefined_pgr="nan"``: NaN for a PGR without a gap.

    ``rows=True`` also returns the per-row values of every mean (a dict of
    arrays of shape (n_samples,), keyed like the report) and the weights.
    """
    P_w = _check_proba(p_weak, "p_weak")
    P_s = _check_proba(p_strong, "p_strong", P_w.shape[1])
    if P_w.shape[0] != P_s.shape[0]:
        raise ValueError(
            f"`p_weak` and `p_strong` have {P_w.shape[0]} and {P_s.shape[0]} rows."
        )
    w = check_sample_weight(sample_weight, P_w.shape[0])
    per_row = {
        "weak_error": _error_rows(y_true, P_w, "p_weak", labels),
        "strong_error": _error_rows(y_true, P_s, "p_strong", labels),
        "misfit": _kl_rows(P_w, P_s, ("p_weak", "p_strong")),
    }
    hard = not _is_proba(y_true)
    if hard:
        codes = _label_codes(y_true, P_w.shape[1], labels)
        per_row["weak_accuracy"] = (P_w.argmax(axis=1) == codes).astype(float)
        per_row["strong_accuracy"] = (P_s.argmax(axis=1) == codes).astype(float)
    if p_ceiling is not None:
        P_c = _check_proba(p_ceiling, "p_ceiling", P_w.shape[1])
        if P_c.shape[0] != P_w.shape[0]:
            raise ValueError(
                f"`p_weak` and `p_ceiling` have {P_w.shape[0]} and {P_c.shape[0]} rows."
            )
        per_row["ceiling_error"] = _error_rows(y_true, P_c, "p_ceiling", labels)
        if hard:
            per_row["ceiling_accuracy"] = (P_c.argmax(axis=1) == codes).astype(float)
    mean = {k: _mean(v, w) for k, v in per_row.items()}
    report = _diagnostics(mean["weak_error"], mean["strong_error"], mean["misfit"])
    for name in ("weak_accuracy", "strong_accuracy"):
        if name in mean:
            report[name] = mean[name]
    if p_ceiling is not None:
        report["ceiling_error"] = mean["ceiling_error"]
        report["pgr"] = _pgr_or_nan(
            -report["weak_error"],
            -report["strong_error"],
            -report["ceiling_error"],
            "The pgr",
            "error",
            undefined_pgr,
        )
        if hard:
            report["ceiling_accuracy"] = mean["ceiling_accuracy"]
            report["accuracy_pgr"] = _pgr_or_nan(
                report["weak_accuracy"],
                report["strong_accuracy"],
                report["ceiling_accuracy"],
                "The accuracy_pgr",
                "accuracy",
                undefined_pgr,
            )
    if rows:
        return report, per_row, (np.ones(P_w.shape[0]) if w is None else w)
    return report


def _pgr_or_nan(weak, w2s, ceiling, what, quantity, undefined_pgr):
    if undefined_pgr == "nan" and no_gap(weak, w2s, ceiling):
        return float("nan")
    return _gap_recovered(weak, w2s, ceiling, what, quantity)
