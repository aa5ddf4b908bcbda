"""The in-memory backend: a weak-to-strong fit on arrays and DataFrames.

The weak featurizer and head are fitted on the weak rows' true labels; the
weak model labels the strong rows and the eval rows in one call; the strong
featurizer and head are fitted on those labels only; every diagnostic is
then a :class:`~skwtsg._diagnostics.Diagnostics` of per-row losses. What
differs between regression and classification (the weak labels: values or
probabilities; the per-row losses; a ceiling fitted on true labels) comes
from the estimator's *task* (see :class:`Task`), so this module knows no
estimator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .._diagnostics import Diagnostics
from ..heads import check_head_convexity
from ._common import (
    FitResult,
    Progress,
    _check_features,
    _copy_moments,
    _fit_head,
    _fit_transform,
    _FitData,
    _is_passthrough,
    _make_featurizer,
    _num_rows,
    _warn_if_learns_from_labels,
    _warn_if_underdetermined,
    _weighted_variance,
)

__all__ = [
    "Task",
    "WeakSide",
    "diagnostics",
    "fit",
    "fit_strong_featurizer",
    "fit_weak",
]


class Task(Protocol):
    """What an estimator tells a backend about its learning task."""

    #: 1 when the diagnostics are scalars, 2 for one value per output.
    ndim: int
    #: The names of the per-row losses :meth:`losses` returns.
    loss_names: tuple[str, ...]

    def weak_target(self, rows: np.ndarray) -> Any:
        """The true labels the weak featurizer and head are fitted on."""

    def fit_weak(self, head: Any, Z: Any, rows: np.ndarray) -> Any:
        """The weak head fitted on the true labels of ``rows``."""

    def labels(self, weak_head: Any, Z: Any) -> np.ndarray:
        """The weak labels (values, or probabilities) of features ``Z``."""

    def output(self, head: Any, Z: Any) -> np.ndarray:
        """The strong model's output on ``Z``, comparable with the labels."""

    def fit_ceiling(self, Z: Any, rows: np.ndarray) -> Any:
        """A head fitted on the strong rows' true labels, or ``None``."""

    def losses(
        self,
        rows: np.ndarray,
        weak: Any,
        strong: Any,
        ceiling: Any,
    ) -> dict[str, Any]:
        """Per-row losses of ``rows`` (see ``Diagnostics.from_rows``)."""


@dataclass
class WeakSide:
    """A fitted weak model and its labels, made once.

    Attributes
    ----------
    featurizer, head : estimator
        The fitted weak featurizer and head.
    labels : ndarray
        The weak labels of the strong rows.
    on_eval : ndarray or None
        The weak model on the eval rows (``None`` without eval rows).
    on_weak : ndarray or None
        The weak model on its own rows, when the diagnostics need it (all
        rows ``"both"``, or no eval rows and unlabeled strong rows).
    """

    featurizer: Any
    head: Any
    labels: Any
    on_eval: Any
    on_weak: Any


def fit_weak(
    task: Task,
    data: _FitData,
    *,
    weak_featurizer: Any,
    weak_head: Any,
    progress: Progress | None = None,
) -> WeakSide:
    """Fit the weak model on the weak rows' true labels and make its labels."""
    progress = progress or Progress("", 0)
    rows, weak_rows = data.rows, data.split.weak_rows
    featurizer = _make_featurizer(weak_featurizer, "weak_featurizer")
    featurizer = progress.forward(featurizer)
    with progress.stage("weak featurizer"):
        if len(weak_rows):
            Z_weak = _features(
                _fit_transform(featurizer, rows.weak, task.weak_target(weak_rows)),
                len(weak_rows),
                "weak_featurizer",
                weak_featurizer,
            )
        else:  # a fixed weak model learns from no row: nothing to transform (a
            # fitted scikit-learn transformer refuses 0 rows)
            Z_weak = np.empty((0, 0))
    with progress.stage("weak head"):
        featurizers = (weak_featurizer, featurizer)
        return _weak_labels(task, data, weak_head, featurizers, Z_weak)


def _weak_labels(
    task: Task,
    data: _FitData,
    weak_head: Any,
    featurizers: tuple[Any, Any],
    Z_weak: Any,
) -> WeakSide:
    """The weak head fitted on ``Z_weak``, and the labels it makes;
    ``featurizers``: the weak featurizer as given, and fitted."""
    split, rows = data.split, data.rows
    weak_rows, strong_rows = split.weak_rows, split.strong_rows
    weak_featurizer, featurizer = featurizers
    _warn_if_underdetermined(weak_head, Z_weak, "weak_head", "weak")
    fitted = task.fit_weak(weak_head, Z_weak, weak_rows)

    # The weak labels, and the weak model on the eval rows, in one call.
    n_strong = 0 if rows.same else len(strong_rows)
    after: Any = None
    if _num_rows(rows.after_weak):
        Z_after = _features(
            featurizer.transform(rows.after_weak),
            _num_rows(rows.after_weak),
            "weak_featurizer",
            weak_featurizer,
        )
        after = task.labels(fitted, Z_after)
    on_weak: Any = None
    if rows.same or data.needs_weak_in_sample:
        on_weak = task.labels(fitted, Z_weak)
    return WeakSide(
        featurizer=featurizer,
        head=fitted,
        labels=on_weak if rows.same else after[:n_strong],
        on_eval=after[n_strong:] if len(split.eval_rows) else None,
        on_weak=on_weak,
    )


def fit_strong_featurizer(
    data: _FitData,
    strong_featurizer: Any,
    labels: Any,
    progress: Progress | None = None,
) -> tuple[Any, Any, Any]:
    """The fitted strong featurizer, its features of the strong and eval rows."""
    progress = progress or Progress("", 0)
    featurizer = _make_featurizer(strong_featurizer, "strong_featurizer")
    featurizer = progress.forward(featurizer)
    if labels is not None:
        _warn_if_learns_from_labels(strong_featurizer)
    split, rows = data.split, data.rows
    Z_strong = _features(
        _fit_transform(featurizer, rows.strong, labels),
        len(split.strong_rows),
        "strong_featurizer",
        strong_featurizer,
    )
    Z_eval = None
    if len(split.eval_rows):
        Z_eval = _features(
            featurizer.transform(rows.eval),
            len(split.eval_rows),
            "strong_featurizer",
            strong_featurizer,
        )
    return featurizer, Z_strong, Z_eval


def diagnostics(
    task: Task,
    data: _FitData,
    weak: WeakSide,
    strong: tuple[Any, Any],
    ceiling: tuple[Any, Any] = (None, None),
) -> Diagnostics:
    """The record of every row set from the models' outputs.

    ``strong`` and ``ceiling`` are the outputs on the strong rows and on the
    eval rows (``None`` without eval rows or without a ceiling).
    """
    split = data.split
    record = _record(
        data,
        "strong",
        split.strong_rows,
        task.losses(split.strong_rows, weak.labels, strong[0], ceiling[0]),
        task.ndim,
    )
    weak_losses = (
        dict.fromkeys(task.loss_names)
        if weak.on_weak is None
        else task.losses(split.weak_rows, weak.on_weak, None, None)
    )
    record += _record(data, "weak", split.weak_rows, weak_losses, task.ndim)
    if len(split.eval_rows):
        losses = task.losses(split.eval_rows, weak.on_eval, strong[1], ceiling[1])
        record += _record(data, "eval", split.eval_rows, losses, task.ndim)
    return record


def fit(
    task: Task,
    data: _FitData,
    *,
    weak_featurizer: Any,
    strong_featurizer: Any,
    weak_head: Any,
    head: Any,
    progress: Progress | None = None,
) -> FitResult:
    """Fit the weak model on true labels, then the strong head on its labels.

    Parameters
    ----------
    task : Task
        The estimator's task.
    data : _FitData
        The validated rows and their roles.
    weak_featurizer, strong_featurizer : transformer or "passthrough"
        Cloned, then fitted.
    weak_head, head : estimator
        Cloned, then fitted.
    progress : Progress or None, default=None
        Reports each stage's time (and makes the featurizers report) when
        verbose.

    Returns
    -------
    result : FitResult
    """
    split = data.split
    progress = progress or Progress("", 0)
    weak = fit_weak(
        task,
        data,
        weak_featurizer=weak_featurizer,
        weak_head=weak_head,
        progress=progress,
    )
    # The strong model: weak labels only.
    with progress.stage("strong featurizer"):
        strong_feat, Z_strong, Z_eval = fit_strong_featurizer(
            data, strong_featurizer, weak.labels, progress
        )
    with progress.stage("strong head"):
        interpolates = _warn_if_underdetermined(head, Z_strong, "head", "strong")
        fitted = _fit_head(
            head, Z_strong, weak.labels, data.weights(split.strong_rows), "head"
        )
        check_head_convexity(fitted)  # after fit: some heads are known then
        ceiling = task.fit_ceiling(Z_strong, split.strong_rows)

    def outputs(model: Any) -> tuple[Any, Any]:
        if model is None:
            return None, None
        on_strong = task.output(model, Z_strong)
        return on_strong, None if Z_eval is None else task.output(model, Z_eval)

    with progress.stage("diagnostics"):
        strong = outputs(fitted)
        record = diagnostics(task, data, weak, strong, outputs(ceiling))
    return FitResult(
        weak_featurizer=weak.featurizer,
        strong_featurizer=strong_feat,
        weak_head=weak.head,
        head=fitted,
        diagnostics=record,
        roles=split.names(),
        reuse=split.reuse,
        interpolates=interpolates,
        copy_moments=_copy_moments(
            weak.labels, strong[0], data.weights(split.strong_rows)
        ),
        # weighted, as the bound it is the scale of
        label_variance=(
            _weighted_variance(weak.labels, data.weights(split.strong_rows))
            if weak.on_eval is None
            else _weighted_variance(weak.on_eval, data.weights(split.eval_rows))
        ),
    )


def _features(Z: Any, n_rows: int, name: str, featurizer: Any) -> Any:
    # "passthrough" returns the validated (finite) rows themselves
    return _check_features(
        Z, n_rows, name, check_finite=not _is_passthrough(featurizer)
    )


def _record(data, row_set, index, losses, ndim):
    n_outputs = data.y.shape[1] if data.y.ndim == 2 and ndim == 2 else 1
    return Diagnostics.from_rows(
        row_set,
        losses,
        data.labeled[index],
        data.weights(index),
        ndim=ndim,
        n_outputs=n_outputs,
    )
