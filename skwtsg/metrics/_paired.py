"""Is a choice of weak supervisor real? Paired intervals of bound differences."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from .._utils._validation import check_real_arrays
from ._intervals import _check_interval_params, _check_weights, _loss_intervals

__all__ = ["paired_bound_differences"]

#: What the intervals resample, said in every table they go to.
UNIT = "evaluation rows, resampled in pairs (the same rows for every supervisor)"
#: The unit of the intervals over cross-validation splits (or cases).
SPLIT_UNIT = (
    "splits, paired (the same splits for every supervisor); Student's t over "
    "the per-split differences; splits that share rows make it too narrow"
)

#: What ``bound_held`` (the share of held-out comparisons in which the strong
#: model's true error was at most its bound) means, said beside it.
BOUND_HELD_NOTE = (
    "bound_held: the share of held-out comparisons (splits, or the evaluation "
    "rows) in which the strong model's true error was at most its bound. "
    "Theorem 1 makes the bound exact only when the strong class can fit the "
    "truth (its head fitted on the true labels has error epsilon = 0) and the "
    "head projects onto a convex set; Theorem 2 adds a term of order "
    "sqrt(epsilon). A bound that often fails says epsilon (or the noise of "
    "the held-out means) is not negligible: read the bound as a ranking "
    "heuristic there, not as a guarantee."
)


def paired_bound_differences(
    y_true: ArrayLike,
    y_weak: Mapping[str, ArrayLike],
    y_strong: Mapping[str, ArrayLike],
    *,
    reference: str | None = None,
    sample_weight: ArrayLike | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    method: str = "BCa",
    random_state: Any = None,
) -> pd.DataFrame:
    """Each weak supervisor's bound minus the pick's, with paired intervals.

    Every supervisor's bound ``weak error - misfit`` is a mean over the same
    rows of a per-row value, ``(y - y_weak)² - (y_weak - y_strong)²``; the
    difference from the reference supervisor (by default the one with the
    smallest bound: the pick) is the mean of the per-row differences. Its
    interval resamples the rows **in pairs**: the same bootstrap rows for
    every supervisor, so that what the supervisors share (hard rows, easy
    rows) cancels. An interval that contains 0 says the two supervisors are
    not told apart at that confidence level by these rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True labels of the evaluation rows.
    y_weak, y_strong : dict of str to array-like of the shape of ``y_true``
        Each supervisor's weak predictions, and the predictions of the strong
        model trained on its labels, on the same rows.
    reference : str, default=None
        The supervisor the others are compared with; ``None``: the smallest
        bound.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    confidence_level : float, default=0.95
        Of the intervals.
    n_resamples : int, default=9999
        Bootstrap resamples.
    method : {"BCa", "percentile", "basic"}, default="BCa"
        As in :func:`scipy.stats.bootstrap`.
    random_state : int, RandomState, Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    table : DataFrame
        Indexed by supervisor, in the order of ``y_weak``: ``bound``,
        ``bound_difference`` (minus the reference's), ``difference_low`` and
        ``difference_high`` (the interval; NaN for the reference) and
        ``verdict`` in words. Its ``attrs["unit"]`` states what was
        resampled, ``attrs["reference"]`` the reference.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.metrics import paired_bound_differences
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=400)
    >>> weak = {"good": y + 0.5 * rng.normal(size=400), "bad": y + rng.normal(size=400)}
    >>> strong = {k: 0.5 * (v + y) for k, v in weak.items()}
    >>> table = paired_bound_differences(y, weak, strong, random_state=0)
    >>> table["verdict"].tolist()
    ['the pick', 'higher at 95%']
    """
    names = list(y_weak)
    if not names or set(names) != set(y_strong):
        raise ValueError(
            "`y_weak` and `y_strong` must name the same supervisors, at least one; "
            f"got {sorted(y_weak)} and {sorted(y_strong)}."
        )
    confidence_level, n_resamples, method = _check_interval_params(
        confidence_level, n_resamples, method
    )
    arrays = {"y_true": y_true}
    for name in names:
        arrays[f"y_weak[{name!r}]"] = y_weak[name]
        arrays[f"y_strong[{name!r}]"] = y_strong[name]
    checked, _ = check_real_arrays(arrays, sample_weight=sample_weight)
    y, rest = checked[0], checked[1:]
    n = y.shape[0]
    w = _check_weights(sample_weight, n)
    per_row = np.column_stack(
        [
            np.mean(((y - weak) ** 2 - (weak - strong) ** 2).reshape(n, -1), axis=1)
            for weak, strong in zip(rest[::2], rest[1::2])
        ]
    )
    return _paired_table(
        per_row,
        w,
        names,
        reference=reference,
        unit=UNIT,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        method=method,
        random_state=random_state,
    )


def _paired_table(
    values: np.ndarray,
    w: np.ndarray,
    names: list[str],
    *,
    reference: str | None,
    unit: str,
    confidence_level: float,
    n_resamples: int,
    method: str,
    random_state: Any,
) -> pd.DataFrame:
    """The table of :func:`paired_bound_differences` from per-unit bounds.

    ``values`` holds one bound per unit (row, or split) and supervisor, of
    shape ``(n_units, n_supervisors)``, with weights ``w`` of the units.
    ``method="t"`` gives Student's t interval of the mean paired difference
    (units of equal weight: few units, such as cross-validation splits, for
    which a bootstrap has too few distinct resamples); the others resample
    the units in pairs.
    """
    keep = w > 0
    values, w = values[keep], w[keep]
    bounds = np.average(values, axis=0, weights=w)
    if reference is None:
        reference = names[int(np.argmin(bounds))]
    elif reference not in names:
        raise ValueError(f"`reference` {reference!r} is not among {names}.")
    ref = names.index(reference)
    diffs = values - values[:, [ref]]
    theta = bounds - bounds[ref]
    others = [i for i in range(len(names)) if i != ref]
    low = np.full(len(names), np.nan)
    high = np.full(len(names), np.nan)
    if others and method == "t":
        n_units = diffs.shape[0]
        sd = diffs[:, others].std(axis=0, ddof=1)
        half = stats.t.ppf((1 + confidence_level) / 2, n_units - 1) * sd
        low[others] = theta[others] - half / np.sqrt(n_units)
        high[others] = theta[others] + half / np.sqrt(n_units)
    elif others:
        out = _loss_intervals(
            diffs[:, others],
            w,
            theta[others],
            [names[i] for i in others],
            averaged=True,
            confidence_level=confidence_level,
            n_resamples=n_resamples,
            method=method,
            random_state=random_state,
        )
        for i in others:
            low[i], high[i] = out[names[i] + "_ci"]
    level = f"{100 * confidence_level:g}%"
    verdict = [
        "the pick"
        if i == ref
        else f"higher at {level}"
        if low[i] > 0
        else f"lower at {level}"
        if high[i] < 0
        else f"indistinguishable at {level}"
        for i in range(len(names))
    ]
    table = pd.DataFrame(
        {
            "bound": bounds,
            "bound_difference": theta,
            "difference_low": low,
            "difference_high": high,
            "verdict": verdict,
        },
        index=pd.Index(names, name="weak_supervisor"),
    )
    table.attrs.update(unit=unit, reference=reference)
    return table
