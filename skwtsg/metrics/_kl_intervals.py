"""Paired bootstrap intervals of the classification report, PGRs included.

Every entry of :func:`~skwtsg.metrics.weak_to_strong_classification_report`
is a weighted mean of a per-row value, or (the PGRs) a ratio of differences
of three such means. One resample of the evaluation rows, drawn by
:func:`~skwtsg.metrics._intervals._bootstrap_means` (the engine of every
interval), gives all of them: the weak, the weakly-supervised and the
ceiling predictions of a row are drawn together, and each PGR is recomputed
from the resampled means on every resample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._intervals import (
    _bootstrap_means,
    _check_interval_params,
    _generator,
    _limits,
    _ratio_limits,
    check_positive_rows,
)

#: Each PGR: (its gap's name, the means it compares: weak, w2s, ceiling,
#: the quantity in words).
PGRS = {
    "pgr": ("pgr_gap", ("weak_error", "strong_error", "ceiling_error"), "error"),
    "accuracy_pgr": (
        "accuracy_pgr_gap",
        ("weak_accuracy", "strong_accuracy", "ceiling_accuracy"),
        "accuracy",
    ),
}


def _classification_intervals(
    report: dict[str, Any],
    per_row: dict[str, np.ndarray],
    weights: np.ndarray,
    *,
    confidence_level: Any,
    n_resamples: Any,
    method: Any,
    random_state: Any,
) -> dict[str, Any]:
    """``report`` with ``"<name>_ci"`` for every entry, and each PGR's gap,
    ``_unstable`` flag and ``_message``."""
    confidence_level, n_resamples, method = _check_interval_params(
        confidence_level, n_resamples, method
    )
    keep = weights > 0
    check_positive_rows(keep)
    columns = dict(per_row)
    columns["gain"] = per_row["weak_error"] - per_row["strong_error"]
    columns["bound"] = per_row["weak_error"] - per_row["misfit"]
    pgrs = [name for name in PGRS if name in report]
    for name in pgrs:
        gap, (weak, _, ceiling), _ = PGRS[name]
        sign = 1.0 if name == "accuracy_pgr" else -1.0  # the gap is positive
        columns[gap] = sign * (per_row[ceiling] - per_row[weak])
    names = list(columns)
    L = np.column_stack([columns[k] for k in names])[keep]
    w = weights[keep]
    deltas, jackknife = _bootstrap_means(
        L, w, n_resamples=n_resamples, rng=_generator(random_state)
    )
    out = dict(report)
    for name in pgrs:
        gap = PGRS[name][0]
        out[gap] = float(np.average(L[:, names.index(gap)], weights=w))
    theta = np.array([out[k] for k in names], dtype=float)
    low, high = _limits(theta, deltas, jackknife, confidence_level, method)
    for i, name in enumerate(names):
        out[name + "_ci"] = (float(low[i]), float(high[i]))
    level = f"{100 * confidence_level:g}%"
    for name in pgrs:
        gap, means, quantity = PGRS[name]
        gap_low, gap_high = out[gap + "_ci"]
        # The ends are accurate to float32 rounding of the spread (see
        # _bootstrap_means): a resample with no gap lands within it of 0.
        tol = 1e-6 * (gap_high - gap_low)
        unstable = not (gap_low > tol or gap_high < -tol)
        out[name + "_unstable"] = unstable
        if unstable:
            out[name + "_ci"] = (-np.inf, np.inf)
            out[name + "_message"] = (
                f"{name} is unstable: the {level} interval of its gap (ceiling "
                f"vs weak {quantity}), [{gap_low:.4g}, {gap_high:.4g}], contains "
                f"0, so the ratio's confidence set is unbounded and its value "
                f"{out[name]:.4g} is not a measurement; evaluate on more rows."
            )
        else:
            index = [names.index(k) for k in means]
            _, out[name + "_ci"] = _ratio_limits(
                theta[index],
                deltas[index],
                jackknife[index],
                confidence_level,
                method,
            )
            out[name + "_message"] = None
    return out
