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

from typing import Any, Protocol

import numpy as np

from .._diagnostics import Diagnostics
from ..heads import check_head_convexity
from ._common import (
    FitResult,
    _check_features,
    _copy_moments,
    _fit_head,
    _fit_transform,
    _FitData,
    _is_passthrough,
    _make_featurizer,
    _num_rows,
    _warn_if_underdetermined,
)

__all__ = ["Task", "fit"]


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


def fit(
    task: Task,
    data: _FitData,
    *,
    weak_featurizer: Any,
    strong_featurizer: Any,
    weak_head: Any,
    head: Any,
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

    Returns
    -------
    result : FitResult
    """
    split, rows = data.split, data.rows
    weak_rows, strong_rows, eval_rows = (
        split.weak_rows,
        split.strong_rows,
        split.eval_rows,
    )

    weak_feat = _make_featurizer(weak_featurizer)
    Z_weak = _features(
        _fit_transform(weak_feat, rows.weak, task.weak_target(weak_rows)),
        len(weak_rows),
        "weak_featurizer",
        weak_featurizer,
    )
    _warn_if_underdetermined(weak_head, Z_weak, "weak_head", "weak")
    fitted_weak = task.fit_weak(weak_head, Z_weak, weak_rows)

    # The weak labels, and the weak model on the eval rows, in one call.
    n_strong = 0 if rows.same else len(strong_rows)
    weak_after: Any = None
    if _num_rows(rows.after_weak):
        Z_after = _features(
            weak_feat.transform(rows.after_weak),
            _num_rows(rows.after_weak),
            "weak_featurizer",
            weak_featurizer,
        )
        weak_after = task.labels(fitted_weak, Z_after)
    weak_on_weak: Any = None
    if rows.same or data.needs_weak_in_sample:
        weak_on_weak = task.labels(fitted_weak, Z_weak)
    labels: Any = weak_on_weak if rows.same else weak_after[:n_strong]

    # The strong model: weak labels only.
    strong_feat = _make_featurizer(strong_featurizer)
    Z_strong = _features(
        _fit_transform(strong_feat, rows.strong, labels),
        len(strong_rows),
        "strong_featurizer",
        strong_featurizer,
    )
    interpolates = _warn_if_underdetermined(head, Z_strong, "head", "strong")
    fitted = _fit_head(head, Z_strong, labels, data.weights(strong_rows), "head")
    check_head_convexity(fitted)  # after fit: some heads are known then
    ceiling = task.fit_ceiling(Z_strong, strong_rows)
    strong_on_strong = task.output(fitted, Z_strong)

    diagnostics = _record(
        data,
        "strong",
        strong_rows,
        task.losses(
            strong_rows,
            labels,
            strong_on_strong,
            None if ceiling is None else task.output(ceiling, Z_strong),
        ),
        task.ndim,
    )
    weak_losses = (
        dict.fromkeys(task.loss_names)
        if weak_on_weak is None
        else task.losses(weak_rows, weak_on_weak, None, None)
    )
    diagnostics += _record(data, "weak", weak_rows, weak_losses, task.ndim)
    misfit_labels = labels
    if len(eval_rows):
        Z_eval = _features(
            strong_feat.transform(rows.eval),
            len(eval_rows),
            "strong_featurizer",
            strong_featurizer,
        )
        misfit_labels = weak_after[n_strong:]
        diagnostics += _record(
            data,
            "eval",
            eval_rows,
            task.losses(
                eval_rows,
                misfit_labels,
                task.output(fitted, Z_eval),
                None if ceiling is None else task.output(ceiling, Z_eval),
            ),
            task.ndim,
        )
    return FitResult(
        weak_featurizer=weak_feat,
        strong_featurizer=strong_feat,
        weak_head=fitted_weak,
        head=fitted,
        diagnostics=diagnostics,
        roles=split.names(),
        reuse=split.reuse,
        interpolates=interpolates,
        copy_moments=_copy_moments(labels, strong_on_strong, data.weights(strong_rows)),
        label_variance=np.var(misfit_labels, axis=0),
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
