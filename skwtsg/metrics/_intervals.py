"""Bootstrap confidence intervals on the weak-to-strong diagnostics.

Every diagnostic is a weighted mean of a per-row loss, so one paired
bootstrap drives all of them: with the resamples' row counts as the rows of
``C`` and the per-row losses as the columns of ``L``, the whole bootstrap is
the matrix product ``C @ L``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri

from .._utils._docstrings import fill_doc
from .._utils._validation import (
    check_multioutput,
    check_real_arrays,
    check_sample_weight,
)
from ._losses import DIAGNOSTICS, _diagnostics, _mse, squared_losses

__all__ = ["misfit_interval"]

#: The diagnostics that get an interval, in the report's order.
INTERVAL_DIAGNOSTICS = DIAGNOSTICS

_METHODS = ("bca", "percentile", "basic")

#: Rows times resamples held in memory at once (counts of one batch).
_BATCH_CELLS = 2**21


# --------------------------------------------------------------- validation
def _check_interval_params(confidence_level, n_resamples, method, *, interval=True):
    """The validated ``(confidence_level, n_resamples, method)``.

    ``interval=True``: the resamples make a bootstrap interval at
    ``confidence_level``, so there must be enough of them
    (:func:`check_enough_resamples`).
    """
    if (
        not isinstance(confidence_level, Real)
        or isinstance(confidence_level, bool)
        or not 0 < confidence_level < 1
    ):
        raise ValueError(
            f"`confidence_level` must be a number in (0, 1), got {confidence_level!r}."
        )
    if (
        not isinstance(n_resamples, Integral)
        or isinstance(n_resamples, bool)
        or n_resamples < 1
    ):
        raise ValueError(
            f"`n_resamples` must be a positive integer, got {n_resamples!r}."
        )
    if not isinstance(method, str) or method.lower() not in _METHODS:
        raise ValueError(
            f"`method` must be one of 'BCa', 'percentile' or 'basic', got {method!r}."
        )
    if interval:
        check_enough_resamples(n_resamples, confidence_level)
    return float(confidence_level), int(n_resamples), method.lower()


def min_resamples(confidence_level: float) -> int:
    """The fewest resamples that give an interval at ``confidence_level``.

    Each end of the interval is a quantile of the resamples at level
    ``alpha = (1 - confidence_level) / 2`` (BCa's levels are these, shifted
    by its bias correction and acceleration). With fewer than ``1 / alpha``
    resamples the expected number beyond that quantile is below one: the
    end is the smallest (largest) resample whatever the level asked, the
    interval is the resamples' range, and the range of ``B`` draws holds on
    average only ``(B - 1) / (B + 1)`` of their distribution, less than
    ``confidence_level``. Hence ``n_resamples * alpha >= 1``: 40 at 0.95,
    20 at 0.9, 200 at 0.99.
    """
    alpha = (1 - confidence_level) / 2
    # the tolerance keeps 1 / 0.05 (20.000000000000004 in binary) at 20
    return int(np.ceil(1 / alpha - 1e-9))


def check_enough_resamples(n_resamples: int, confidence_level: float | None) -> None:
    """Refuse too few resamples for an interval at ``confidence_level``.

    The one check of every bootstrap interval (see :func:`min_resamples`);
    ``confidence_level=None`` (no interval) checks nothing.
    """
    if confidence_level is None:
        return
    needed = min_resamples(confidence_level)
    if n_resamples < needed:
        raise ValueError(
            f"`n_resamples`={n_resamples} is too few for a {confidence_level:g} "
            f"interval: each end is a quantile at level "
            f"{(1 - confidence_level) / 2:g} of the resamples, which needs at "
            f"least {needed} of them (1 / that level); with fewer the interval "
            "is the range of the resamples, whatever the level asked. Use "
            f"n_resamples >= {needed} (the default, 9999, suits levels up to "
            "0.9997)."
        )


def check_positive_rows(keep, unit=""):
    """Refuse a bootstrap over fewer than 2 units of positive weight.

    ``keep``: the boolean mask of the units (rows, or Dask's groups of rows,
    named by ``unit`` in the message) whose weight is positive.
    """
    n_positive = int(np.count_nonzero(keep))
    if n_positive < 2:
        raise ValueError(
            "Bootstrap intervals need at least 2 rows with positive weight, got "
            f"{n_positive}{unit}."
        )


def _check_weights(sample_weight, n):
    """Row weights (ones for None), validated as the metrics validate them."""
    w = check_sample_weight(sample_weight, n)
    return np.ones(n) if w is None else w


def _generator(random_state):
    """A numpy Generator from an int, a RandomState, a Generator or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, Integral):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    raise ValueError(
        "`random_state` must be None, an int, a numpy RandomState or Generator; "
        f"got {random_state!r}."
    )


def _multioutput_weights(multioutput, n_tasks):
    """``None`` for raw values, else the weights averaging the tasks."""
    multioutput = check_multioutput(multioutput, n_tasks)
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return None
        return np.full(n_tasks, 1.0 / n_tasks)
    return multioutput / multioutput.sum()


# ------------------------------------------------------------------ engine
def _bootstrap_means(losses, weights, *, n_resamples, rng):
    """Bootstrap and jackknife deviations of the weighted column means.

    ``losses`` (n_rows, n_columns) has positive ``weights`` (n_rows,). Returns
    ``deltas`` (n_columns, n_resamples), ``theta*_b - theta`` per resample
    (``theta`` computed here, so that no rounding shifts a quantity without
    spread off zero), and ``jackknife`` (n_columns, n_rows), ``theta_(i) -
    theta`` leaving out row ``i``.
    """
    n, k = losses.shape
    centred = losses - np.average(losses, axis=0, weights=weights)
    # A constant has no spread, also when its rows differ by rounding only
    # (e.g. (a - (a + 1))**2): otherwise those 1e-16 differences decide on
    # which side of the estimate each resample falls, and BCa fails at random.
    rounding = 16 * np.finfo(float).eps * np.abs(losses).max(axis=0, initial=0.0)
    centred[:, np.ptp(losses, axis=0) <= rounding] = 0.0
    weighted = weights[:, None] * centred
    # float32 holds the counts exactly; on centred losses its rounding error
    # is relative to their spread, far below the Monte-Carlo error.
    weighted32 = weighted.astype(np.float32)
    weights32 = weights.astype(np.float32)[:, None]
    deltas = np.empty((n_resamples, k))
    batch = max(1, min(n_resamples, _BATCH_CELLS // n))
    counts = np.empty((batch, n), dtype=np.float32)
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        # The same draws as scipy.stats.bootstrap: row b is the b-th resample.
        index = rng.integers(0, n, size=(b, n), dtype=np.int32)
        for r in range(b):
            counts[r] = np.bincount(index[r], minlength=n)
        numerator = (counts[:b] @ weighted32).astype(float)
        denominator = (counts[:b] @ weights32).astype(float)
        deltas[start : start + b] = numerator / denominator
    total = weights.sum()
    jackknife = -weighted / (total - weights)[:, None]
    return deltas.T, jackknife.T


def _quantiles(values, levels):
    """Row-wise quantiles at per-row levels (``method="linear"``), by partition."""
    m = values.shape[1]
    h = (m - 1) * np.asarray(levels, dtype=float)
    lo = np.floor(h).astype(np.intp)
    hi = np.minimum(lo + 1, m - 1)
    out = np.empty(h.shape)
    for i, row in enumerate(values):
        kth = np.unique(np.concatenate([lo[i], hi[i]]))
        part = np.partition(row, kth)
        below, above = part[lo[i]], part[hi[i]]
        # equal neighbours (two infinite ratios among them) are the quantile:
        # interpolating between them would give inf - inf
        with np.errstate(invalid="ignore"):
            step = (h[i] - lo[i]) * (above - below)
        out[i] = np.where(above == below, below, below + step)
    return out


def _limits(theta, deltas, jackknife, confidence_level, method):
    """Interval ends by :func:`scipy.stats.bootstrap`'s formulas (Efron and
    Tibshirani 1993, 14.3 and 15.4 for BCa)."""
    alpha = (1 - confidence_level) / 2
    n_resamples = deltas.shape[1]
    if method == "bca":
        below = np.count_nonzero(deltas < 0, axis=1)
        at_or_below = np.count_nonzero(deltas <= 0, axis=1)
        z0 = ndtri((below + at_or_below) / (2 * n_resamples))
        u = jackknife.mean(axis=1, keepdims=True) - jackknife
        num = np.sum(u**3, axis=1)
        den = np.sum(u**2, axis=1) ** 1.5
        with np.errstate(divide="ignore", invalid="ignore"):
            accel = np.where(den > 0, num / (6 * den), 0.0)
        z_alpha = ndtri(alpha)
        levels = []
        for z in (z_alpha, -z_alpha):
            with np.errstate(divide="ignore", invalid="ignore"):
                levels.append(ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z))))
        levels = np.stack(levels, axis=1)
        if not np.all(np.isfinite(levels)):
            raise ValueError(
                "The BCa interval cannot be computed: the bootstrap distribution "
                "of some diagnostic lies entirely on one side of its estimate "
                "(too few rows?). Use method='percentile'."
            )
    else:
        levels = np.broadcast_to([alpha, 1 - alpha], (len(theta), 2))
    q = _quantiles(deltas, levels)
    if method == "basic":
        q = -q[:, ::-1]
    return theta + q[:, 0], theta + q[:, 1]


def _ratio_limits(means, deltas, jackknife, confidence_level, method):
    """Interval of the ratio ``(m1 - m0) / (m2 - m0)`` of three weighted means.

    ``means`` (3,) are the point means, ``deltas`` (3, n_resamples) and
    ``jackknife`` (3, n_rows) their deviations from :func:`_bootstrap_means`:
    the ratio is recomputed on every resample (and leave-one-out) from the
    resampled means, so the three stay paired. Returns the ratio and its
    ``(low, high)``; the caller checks first that the denominator's interval
    excludes 0 (otherwise the ratio's confidence set is unbounded).
    """
    m0, m1, m2 = means
    ratio = (m1 - m0) / (m2 - m0)

    def deviations(d):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = ((m1 + d[1]) - (m0 + d[0])) / ((m2 + d[2]) - (m0 + d[0])) - ratio
        # A resample whose gap is exactly 0 has no ratio; counting it as an
        # infinite one widens the interval rather than dropping the resample.
        return np.where(np.isnan(r), np.inf, r)[None, :]

    low, high = _limits(
        np.array([ratio]),
        deviations(deltas),
        deviations(jackknife),
        confidence_level,
        method,
    )
    return float(ratio), (float(low[0]), float(high[0]))


def _row_losses(y_true, y_weak, y_strong):
    """Per-row losses of each diagnostic, each of shape (n_rows, n_tasks)."""
    losses = squared_losses(y_true, y_weak, y_strong)
    if y_true is None:
        return {"misfit": losses["misfit"]}
    return _diagnostics(losses["weak_error"], losses["strong_error"], losses["misfit"])


def _report_intervals(
    y_true,
    y_weak,
    y_strong,
    report,
    *,
    sample_weight,
    multioutput,
    confidence_level,
    n_resamples,
    method,
    random_state,
):
    """The ``"<name>_ci"`` entries for the point values in ``report``."""
    confidence_level, n_resamples, method = _check_interval_params(
        confidence_level, n_resamples, method
    )
    arrays = [
        None if a is None else np.asarray(a, dtype=float)
        for a in (y_true, y_weak, y_strong)
    ]
    arrays = [None if a is None else a.reshape(a.shape[0], -1) for a in arrays]
    n, n_tasks = arrays[1].shape
    w = _check_weights(sample_weight, n)
    keep = w > 0
    check_positive_rows(keep)
    task_weights = _multioutput_weights(multioutput, n_tasks)
    losses = _row_losses(*arrays)
    if task_weights is not None:  # a task average is the mean of row averages
        losses = {k: (loss @ task_weights)[:, None] for k, loss in losses.items()}
    names = [name for name in INTERVAL_DIAGNOSTICS if name in losses]
    theta = np.concatenate([np.atleast_1d(report[name]) for name in names])
    L = np.concatenate([losses[name][keep] for name in names], axis=1)
    return _loss_intervals(
        L,
        w[keep],
        theta,
        names,
        averaged=task_weights is not None,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        method=method,
        random_state=random_state,
    )


def _loss_intervals(
    L,
    w,
    theta,
    names,
    *,
    averaged,
    confidence_level,
    n_resamples,
    method,
    random_state,
):
    """The ``"<name>_ci"`` entries from per-row losses ``L`` (one column per
    diagnostic and task) and positive weights ``w`` (rows may be groups)."""
    deltas, jackknife = _bootstrap_means(
        L, w, n_resamples=n_resamples, rng=_generator(random_state)
    )
    low, high = _limits(theta, deltas, jackknife, confidence_level, method)
    width = L.shape[1] // len(names)
    out = {}
    for i, name in enumerate(names):
        part = slice(i * width, (i + 1) * width)
        if not averaged:
            out[name + "_ci"] = (low[part], high[part])
        else:
            out[name + "_ci"] = (float(low[part][0]), float(high[part][0]))
    return out


# ------------------------------------------------------------------ public
@fill_doc
def misfit_interval(
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: str | ArrayLike = "uniform_average",
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    method: str = "BCa",
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> tuple[Any, Any]:
    """Bootstrap confidence interval on the misfit, without any true label.

    Parameters
    ----------
    y_weak, y_strong : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Predictions of the weak and the strong model.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights, resampled with their rows; rows of zero weight are left
        out, as if absent.
    multioutput : {"raw_values", "uniform_average"} or array-like, \
            default="uniform_average"
        How to combine tasks, as in :func:`skwtsg.metrics.misfit`.
    confidence_level : float, default=0.95
        Confidence level of the two-sided interval.
    {bootstrap}

    Returns
    -------
    interval : tuple of (float, float) or of two ndarrays of shape (n_tasks,)
        ``(low, high)``; arrays for ``multioutput="raw_values"``.

    See Also
    --------
    weak_to_strong_report : Every diagnostic, with ``confidence_level`` set.
    diagnostic_intervals : The intervals of a fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.metrics import misfit, misfit_interval
    >>> rng = np.random.RandomState(0)
    >>> y_weak = rng.normal(size=500)
    >>> y_strong = y_weak + rng.normal(scale=0.5, size=500)
    >>> low, high = misfit_interval(y_weak, y_strong, random_state=0)
    >>> bool(low < misfit(y_weak, y_strong) < high)
    True
    >>> round(low, 2), round(high, 2)
    (0.21, 0.27)
    """
    (weak, strong), _ = check_real_arrays(
        {"y_weak": y_weak, "y_strong": y_strong}, sample_weight=sample_weight
    )
    point = _mse(weak, strong, sample_weight, multioutput, ("y_weak", "y_strong"))
    return _report_intervals(
        None,
        weak,
        strong,
        {"misfit": point},
        sample_weight=sample_weight,
        multioutput=multioutput,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        method=method,
        random_state=random_state,
    )["misfit_ci"]
