"""One record of a weak-to-strong fit's diagnostics, mergeable across blocks.

Every diagnostic of Theorem 1 (and of its KL form) is a weighted mean of a
per-row loss over the rows of one role: the weak and the strong model's
errors over the labeled rows, the misfit over all rows. :class:`Diagnostics`
keeps, for each row set (``"weak"``: the weak model's training rows,
``"strong"``: the strong head's, ``"eval"``: the held-out rows), the row
counts, the weight sums and the weighted sums of every per-row loss. Records
of disjoint rows add up (``+``): the in-memory fit builds one per row set,
the Dask fit one per block and adds them in a tree. :meth:`report` and
:meth:`select` turn the sums into the estimators' diagnostics and
``diagnostic_rows_``; a new diagnostic is a new per-row loss (or a new
combination in :func:`_combine`), added here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics._losses import DIAGNOSTICS, _diagnostics, no_gap

__all__ = ["DIAGNOSTICS", "CEILING", "ACCURACIES", "ROW_SETS", "Diagnostics"]

#: The classifier's ceiling error and the performance gap recovered in the
#: errors (the names of :func:`~skwtsg.metrics.weak_to_strong_classification_report`).
CEILING = ("ceiling_error", "pgr")
#: The classifier's accuracies and their performance gap recovered.
ACCURACIES = ("weak_accuracy", "strong_accuracy", "ceiling_accuracy", "accuracy_pgr")
#: The row sets a record keeps apart.
ROW_SETS = ("weak", "strong", "eval")
#: The one per-row loss measured on every row (it needs no label).
_UNLABELED_LOSS = "misfit"


@dataclass(frozen=True)
class Diagnostics:
    """Per-row-set sums of the per-row losses of a weak-to-strong fit.

    Parameters
    ----------
    count : ndarray of shape (3,)
        Rows of each row set (``weak``, ``strong``, ``eval``).
    labeled_count : ndarray of shape (3,)
        Labeled rows of each row set.
    weight : ndarray of shape (3,)
        Sum of the row weights of each row set.
    labeled_weight : ndarray of shape (3,)
        Sum of the weights of its labeled rows.
    sums : dict of str to ndarray of shape (3, n_outputs)
        Weighted sums of each per-row loss: ``"misfit"`` over all rows of
        the set, every other loss (``"weak_error"``, ``"strong_error"``,
        ``"ceiling_error"``, ``"weak_correct"``...) over its labeled rows.
        NaN where a loss was not measured on that row set.
    ndim : int
        1 when the diagnostics are scalars (one output, or losses summed
        over the classes), 2 for one value per output.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg._diagnostics import Diagnostics
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> weak, strong = y + 1.0, y + 0.5
    >>> losses = {"weak_error": (y - weak) ** 2, "strong_error": (y - strong) ** 2,
    ...           "misfit": (weak - strong) ** 2}
    >>> first = Diagnostics.from_rows("eval", {k: v[:2] for k, v in losses.items()},
    ...                               np.ones(2, bool))
    >>> second = Diagnostics.from_rows("eval", {k: v[2:] for k, v in losses.items()},
    ...                                np.ones(2, bool))
    >>> report = (first + second).report("eval")
    >>> report["weak_error"], report["misfit"], report["bound"]
    (1.0, 0.25, 0.75)
    """

    count: np.ndarray
    labeled_count: np.ndarray
    weight: np.ndarray
    labeled_weight: np.ndarray
    sums: Mapping[str, np.ndarray]
    ndim: int = 1

    @classmethod
    def from_rows(
        cls,
        row_set: str,
        losses: Mapping[str, Any],
        labeled: np.ndarray,
        sample_weight: np.ndarray | None = None,
        *,
        ndim: int = 1,
        n_outputs: int | None = None,
    ) -> Diagnostics:
        """The record of some rows of one row set from their per-row losses.

        Parameters
        ----------
        row_set : {"weak", "strong", "eval"}
            The row set the rows belong to.
        losses : dict of str to array-like of shape (n_rows,) or (n_rows, n_outputs)
            Per-row losses; ``None`` marks a loss not measured here (NaN
            sums). Values on unlabeled rows of a labeled loss are ignored.
        labeled : ndarray of bool of shape (n_rows,)
            Which rows have a true label.
        sample_weight : ndarray of shape (n_rows,), default=None
            Row weights (``None``: 1 each).
        ndim : int, default=1
            See the class parameters.
        n_outputs : int, default=None
            Values of each loss per row; ``None`` reads it from the losses.
        """
        k = ROW_SETS.index(row_set)
        labeled = np.asarray(labeled, dtype=bool)
        n = labeled.shape[0]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
        width = n_outputs or max(
            (np.shape(v)[1] if np.ndim(v) == 2 else 1)
            for v in losses.values()
            if v is not None
        )
        all_labeled = bool(labeled.all())

        def one_hot(value: Any) -> np.ndarray:
            out = np.zeros((len(ROW_SETS),) + np.shape(value))
            out[k] = value
            return out

        sums = {}
        for name, values in losses.items():
            if values is None:
                sums[name] = one_hot(np.full(width, np.nan))
                continue
            L = np.asarray(values, dtype=np.float64).reshape(n, width)
            rows = slice(None) if name == _UNLABELED_LOSS or all_labeled else labeled
            sums[name] = one_hot(_weighted_sum(L[rows], w[rows], sample_weight))
        return cls(
            count=one_hot(float(n)),
            labeled_count=one_hot(float(labeled.sum())),
            weight=one_hot(float(w.sum())),
            labeled_weight=one_hot(float(w.sum() if all_labeled else w[labeled].sum())),
            sums=sums,
            ndim=ndim,
        )

    def __add__(self, other: Diagnostics) -> Diagnostics:
        """The record of the rows of both (disjoint rows, the same losses)."""
        if not isinstance(other, Diagnostics):
            return NotImplemented
        if set(self.sums) != set(other.sums) or self.ndim != other.ndim:
            raise ValueError(
                "Diagnostics of different losses cannot be added: "
                f"{sorted(self.sums)} and {sorted(other.sums)}."
            )
        return Diagnostics(
            count=self.count + other.count,
            labeled_count=self.labeled_count + other.labeled_count,
            weight=self.weight + other.weight,
            labeled_weight=self.labeled_weight + other.labeled_weight,
            sums={k: v + other.sums[k] for k, v in self.sums.items()},
            ndim=self.ndim,
        )

    def has_rows(self, row_set: str) -> bool:
        """Whether the row set has any row."""
        return bool(self.count[ROW_SETS.index(row_set)] > 0)

    def is_labeled(self, row_set: str) -> bool:
        """Whether every row of the row set has a true label."""
        k = ROW_SETS.index(row_set)
        return bool(self.labeled_count[k] == self.count[k])

    def means(self, row_set: str) -> dict[str, np.ndarray]:
        """The weighted mean of every per-row loss on a row set (per output).

        A labeled loss is NaN unless every row of the set is labeled.
        """
        k = ROW_SETS.index(row_set)
        labeled = self.is_labeled(row_set)
        out = {}
        for name, sums in self.sums.items():
            if name == _UNLABELED_LOSS:
                out[name] = _ratio(sums[k], self.weight[k], row_set)
            elif labeled:
                out[name] = _ratio(sums[k], self.labeled_weight[k], row_set)
            else:
                out[name] = np.full(sums.shape[1], np.nan)
        return out

    def report(self, row_set: str) -> dict[str, Any]:
        """The diagnostics on a row set (NaN errors where it has unlabeled rows).

        Returns
        -------
        report : dict
            :data:`DIAGNOSTICS`; :data:`CEILING` when the losses include
            ``"ceiling_error"``; :data:`ACCURACIES` when they include the
            accuracies (``"weak_correct"``...): floats when
            ``ndim`` is 1, else arrays of one value per output.
        """
        return _combine(self.means(row_set), self.ndim)

    def select(self, *, reuse: bool = False) -> tuple[dict, dict, dict]:
        """The estimator's diagnostics, where they are measured, and its train report.

        On the ``"eval"`` rows when there are any; otherwise on the strong
        head's training rows, with the weak error measured in-sample on the
        weak rows when the strong rows are unlabeled.

        Parameters
        ----------
        reuse : bool, default=False
            Whether the strong rows are the weak rows (role ``"both"``).

        Returns
        -------
        values : dict
            The diagnostics (see :meth:`report`).
        rows : dict
            For each diagnostic, the role of the rows it was measured on.
        train_report : dict
            The diagnostics on the strong head's training rows.
        """
        train = self.report("strong")
        names = [n for n in (*DIAGNOSTICS, *CEILING, *ACCURACIES) if n in train]
        if self.has_rows("eval"):
            return self.report("eval"), dict.fromkeys(names, "eval"), train
        values = dict(train)
        rows = dict.fromkeys(names, "both" if reuse else "strong")
        if not self.is_labeled("strong"):  # weak error in-sample, on the weak rows
            weak = self.report("weak")
            for name in ("weak_error", "weak_accuracy"):
                if name in values:
                    values[name] = weak[name]
                    rows[name] = "weak"
            values["bound"] = values["weak_error"] - values["misfit"]
            rows["bound"] = "weak+strong"
        return values, rows, train


def _weighted_sum(L: np.ndarray, w: np.ndarray, sample_weight: Any) -> np.ndarray:
    # The arithmetic of np.average (sum of products, or plain sums), so that
    # the means equal those of scikit-learn's metrics.
    if sample_weight is None:
        return L.sum(axis=0)
    return np.multiply(L, w[:, None]).sum(axis=0)


def _ratio(total: np.ndarray, weight: float, row_set: str) -> np.ndarray:
    if weight <= 0:
        raise ValueError(
            f"The sample weights of the {row_set} rows sum to {weight:g}: the "
            "diagnostics there are weighted means and need a positive sum."
        )
    return total / weight


def _combine(means: dict[str, np.ndarray], ndim: int) -> dict[str, Any]:
    """The diagnostics from the mean per-row losses."""

    def shaped(value: np.ndarray) -> Any:
        return float(np.mean(value)) if ndim == 1 else value

    report = _diagnostics(
        shaped(means["weak_error"]),
        shaped(means["strong_error"]),
        shaped(means["misfit"]),
    )
    if "ceiling_error" in means:
        ceiling = shaped(means["ceiling_error"])
        # (w2s - weak) / (ceiling - weak) is (weak - strong) / (weak - ceiling)
        # for errors, bit for bit: one formula for both PGRs.
        report.update(
            ceiling_error=ceiling,
            pgr=_recovered(report["weak_error"], report["strong_error"], ceiling),
        )
    if "weak_correct" in means:
        accuracy = {
            name: shaped(means[f"{name}_correct"])
            if f"{name}_correct" in means
            else float("nan")
            for name in ("weak", "strong", "ceiling")
        }
        report.update(
            weak_accuracy=accuracy["weak"],
            strong_accuracy=accuracy["strong"],
            ceiling_accuracy=accuracy["ceiling"],
            accuracy_pgr=_recovered(
                accuracy["weak"], accuracy["strong"], accuracy["ceiling"]
            ),
        )
    return report


def _recovered(weak: float, w2s: float, ceiling: float) -> float:
    """The performance gap recovered, ``(w2s - weak) / (ceiling - weak)``.

    NaN without a ceiling (NaN means) or without a gap, by the metrics' one
    rule (:func:`~skwtsg.metrics._losses.no_gap`: ``performance_gap_recovered``
    refuses such a gap, the classification report with intervals gives NaN).
    """
    if no_gap(weak, w2s, ceiling):
        return float("nan")
    return (w2s - weak) / (ceiling - weak)
