"""Ranking weak supervisors by the bound, knowing its uncertainty."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from .._utils._docstrings import fill_doc
from .._utils._validation import as_real_float, check_finite_result, check_real_arrays
from ._intervals import (
    _bootstrap_means,
    _check_interval_params,
    _check_weights,
    _generator,
    _limits,
    check_enough_resamples,
)
from ._labels import _params_labels
from ._paired import (
    BOUND_HELD_NOTE,
    SPLIT_UNIT,
    _paired_table,
    paired_bound_differences,
)

__all__ = ["rank_weak_supervisors"]

_SPLIT_KEY = re.compile(r"^split(\d+)_test_(.+)$")


def _bound_scorer(results, bound, hint="score it with skwtsg.bound_scorer"):
    """The test scorers of ``cv_results_`` and the name of the bound's."""
    names = [k[len("mean_test_") :] for k in results if k.startswith("mean_test_")]
    if not names:
        raise ValueError("The search has no test scores (no 'mean_test_*' key).")
    if bound is None:
        bound = "bound" if "bound" in names else "score"
    if bound not in names:
        raise ValueError(
            f"`bound`: the search has no scorer named {bound!r} (it has {names}); "
            f"{hint}."
        )
    return names, bound


def _from_cv_results(results, bound, true_error):
    """Per-split bounds (and true errors) of each candidate of a search."""
    names, bound = _bound_scorer(results, bound)
    if true_error is None:
        others = [name for name in names if name != bound]
        true_error = others[0] if len(others) == 1 else None
    elif true_error not in names:
        raise ValueError(
            f"`true_error`: the search has no scorer named {true_error!r} (it has "
            f"{names})."
        )

    def splits(name):
        keys = sorted(
            (int(m.group(1)), k)
            for k in results
            if (m := _SPLIT_KEY.match(k)) and m.group(2) == name
        )
        if not keys:
            raise ValueError(f"`results` has no per-split scores for {name!r}.")
        columns = [_split_scores(results[k], k) for _, k in keys]
        if len({c.shape for c in columns}) > 1:
            raise ValueError(
                f"`results`: the per-split scores of {name!r} do not all have one "
                "value per candidate."
            )
        return -np.column_stack(columns)

    n = len(results["mean_test_" + bound])
    # what varies between candidates ("n_components=3"), not their reprs
    labels = _params_labels(results["params"]) if "params" in results else None
    index = pd.Index(labels if labels is not None else range(n), name="candidate")
    errors = None if true_error is None else splits(true_error)
    return index, splits(bound), errors


def _split_scores(values, key):
    """One split's scores as float64, complex and non-numbers refused."""
    arr = np.asarray(values)
    if arr.dtype.kind == "c":
        raise ValueError(f"`results`[{key!r}] must be real, got complex values.")
    try:
        return arr.astype(np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`results`[{key!r}] must be numeric ({exc}).") from exc


def _from_records(records, split):
    """Per-split bounds and true errors from the runner's records."""
    missing = [c for c in ("weak_model", "bound", split) if c not in records.columns]
    if missing:
        raise ValueError(f"`results` (records) lacks the columns {missing}.")
    duplicated = records.duplicated(["weak_model", split])
    if duplicated.any():
        raise ValueError(
            "`results` (records) has several rows for one (weak_model, "
            f"{split}) pair: rank one task at a time (select one panel)."
        )
    order = pd.unique(records["weak_model"])

    def table(column):
        wide = records.pivot(index="weak_model", columns=split, values=column)
        wide = wide.loc[order]
        if wide.isna().any().any():
            raise ValueError(
                f"`results` (records): every weak model needs a {column!r} on "
                f"every {split!r} (the comparison is paired)."
            )
        try:
            return wide.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"`results` (records): the {column!r} column must be numeric ({exc})."
            ) from exc

    errors = table("strong_error") if "strong_error" in records.columns else None
    index = pd.Index([str(m) for m in order], name="weak_model")
    return index, table("bound"), errors


def _one_se_pick(mean, se, complexity):
    """The simplest candidate whose mean is within one SE of the smallest."""
    best = int(np.argmin(mean))
    within = np.flatnonzero(mean <= mean[best] + se[best])
    # lexsort: the last key is the primary one
    return int(within[np.lexsort((mean[within], complexity[within]))[0]])


def _lowest_probability(theta, deltas):
    """Share of resamples in which each candidate has the lowest value (ties split)."""
    values = theta[:, None] + deltas
    lowest = values == values.min(axis=0, keepdims=True)
    return (lowest / lowest.sum(axis=0, keepdims=True)).mean(axis=1)


@fill_doc
def rank_weak_supervisors(
    results: Any,
    *,
    y_true: ArrayLike | None = None,
    sample_weight: ArrayLike | None = None,
    bound: str | None = None,
    true_error: str | None = None,
    split: str = "case",
    complexity: ArrayLike | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    method: str = "BCa",
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Rank candidate weak supervisors by their bound, with its uncertainty.

    For each candidate: how well its mean bound (weak error − misfit) is
    known, how likely it is to be the smallest, and the one-standard-error
    pick beside the plain pick. Over splits the interval is Student's t
    (``n_splits - 1`` degrees of freedom); over rows, the paired bootstrap of
    :func:`weak_to_strong_report`. ``p_lowest`` is the share of paired
    bootstrap resamples in which the candidate's mean bound is the lowest.
    Read more in the :ref:`User Guide <selection>`.

    Parameters
    ----------
    results : GridSearchCV, dict, DataFrame or mapping
        A fitted search (or its ``cv_results_``) scored with
        :func:`skwtsg.bound_scorer`; the records of
        :func:`skwtsg.experiments.run_cases` for one task (one row per weak
        model and ``split``); or a mapping ``name -> (y_weak, y_strong)`` of
        predictions on the rows of ``y_true``.
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks), \
            default=None
        True labels of the rows, for a mapping of predictions (ignored
        otherwise).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights, for a mapping of predictions.
    bound : str, default=None
        Name of the bound scorer in a search; ``None`` uses ``"bound"`` for
        a multi-metric search, ``"score"`` for a single-metric one.
    true_error : str, default=None
        Name of the scorer whose negation is the strong model's error
        (e.g. ``"mse"`` for ``"neg_mean_squared_error"``); ``None`` uses the
        search's only other scorer, if it has exactly one.
    split : str, default="case"
        The records' column naming the split.
    complexity : array-like of shape (n_candidates,), default=None
        For the one-standard-error rule, smaller is simpler; ``None``: the
        candidates' order.
    confidence_level : float, default=0.95
        Confidence level of the intervals.
    {bootstrap}

    Returns
    -------
    ranking : DataFrame
        One row per candidate, sorted by ``bound_mean`` from the smallest
        (the pick) up, ties in input order. Its index is readable labels:
        the parameters that vary between a search's candidates
        (``"n_components=3"``), the records' weak models, the mapping's
        names. Columns: ``position`` (its index among the inputs),
        ``bound_mean``, ``bound_std`` (over splits, ``ddof=0``),
        ``bound_se``, ``bound_low``, ``bound_high``, ``p_lowest``,
        ``strong_error_mean`` and ``strong_error_std`` (when known),
        ``pick`` (smallest mean bound), ``pick_1se`` (simplest within one
        standard error of it); the paired comparison with the pick of
        :func:`paired_bound_differences`: ``bound_difference`` (minus the
        pick's), its interval ``difference_low``, ``difference_high`` (NaN
        on the pick's own row) and ``verdict`` in words ("indistinguishable
        at 95%"), with ``attrs["unit"]`` saying what the interval is over
        (splits: Student's t of the per-split differences; rows: the paired
        bootstrap); and,
        when true errors are known, ``bound_held``: the share of splits (or
        1.0/0.0 on the rows) in which the true strong error was at most the
        bound, explained in ``attrs["bound_held"]``.

    See Also
    --------
    skwtsg.bound_scorer : The scorer to search with.
    skwtsg.plot.WeakModelSelectionDisplay : Draws the ranking.

    Notes
    -----
    Cross-validation splits share training rows, so the t interval over
    them is too narrow (Nadeau and Bengio, 2003). The intervals over rows
    hold the fitted models fixed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import GridSearchCV, RepeatedKFold
    >>> from skwtsg import WeakToStrongRegressor, bound_scorer
    >>> from skwtsg.metrics import rank_weak_supervisors
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 6)) * [3, 2, 1, 1, 0.3, 0.2]
    >>> y = X @ rng.normal(size=6) + rng.normal(size=300)
    >>> search = GridSearchCV(
    ...     WeakToStrongRegressor(random_state=0),
    ...     {"weak_featurizer": [PCA(n_components=k) for k in (3, 4, 5)]},
    ...     scoring={"bound": bound_scorer, "mse": "neg_mean_squared_error"},
    ...     refit="bound",
    ...     cv=RepeatedKFold(n_splits=3, n_repeats=2, random_state=0),
    ... ).fit(X, y)
    >>> ranking = rank_weak_supervisors(search, random_state=0)
    >>> columns = ["bound_mean", "bound_low", "bound_high", "p_lowest", "pick",
    ...            "pick_1se"]
    >>> ranking.set_index("position")[columns].round(2)
              bound_mean  bound_low  bound_high  p_lowest   pick  pick_1se
    position
    2               0.97       0.80        1.13       1.0   True     False
    1               1.00       0.82        1.18       0.0  False      True
    0               4.42       3.40        5.44       0.0  False     False
    >>> ranking[["bound_difference", "verdict", "bound_held"]].round(2)
                    bound_difference        verdict  bound_held
    candidate
    n_components=5              0.00       the pick        0.67
    n_components=4              0.03  higher at 95%        0.83
    n_components=3              3.45  higher at 95%        1.00
    """
    # over splits the interval is Student's t, the resamples only give
    # p_lowest: how many an interval needs is checked over rows
    confidence_level, n_resamples, method = _check_interval_params(
        confidence_level, n_resamples, method, interval=False
    )
    rng = _generator(random_state)
    if hasattr(results, "cv_results_"):
        results = results.cv_results_
    if isinstance(results, pd.DataFrame):
        index, bounds, errors = _from_records(results, split)
        over_splits = True
    elif isinstance(results, Mapping) and any(
        str(k).startswith("mean_test_") for k in results
    ):
        index, bounds, errors = _from_cv_results(results, bound, true_error)
        over_splits = True
    elif isinstance(results, Mapping):
        over_splits = False
    else:
        raise TypeError(
            "`results` must be a fitted search, its cv_results_, the runner's "
            "records (DataFrame) or a mapping name -> (y_weak, y_strong); got "
            f"{type(results).__name__}."
        )
    n_candidates = len(results) if not over_splits else bounds.shape[0]
    if n_candidates < 1:
        raise ValueError("`results` holds no candidate.")
    if over_splits:
        table = _rank_over_splits(
            index, bounds, errors, confidence_level, n_resamples, rng
        )
    else:
        table = _rank_over_rows(
            results,
            y_true,
            sample_weight,
            confidence_level,
            n_resamples,
            method,
            rng,
        )
    if complexity is None:
        complexity = np.arange(len(table))
    else:
        complexity = as_real_float(complexity, "complexity", (1,))
        if complexity.shape != (len(table),):
            raise ValueError(
                f"`complexity` must hold one finite value per candidate "
                f"({len(table)}); got shape {complexity.shape}."
            )
    mean = table["bound_mean"].to_numpy()
    table["pick"] = np.arange(len(table)) == int(np.argmin(mean))
    table["pick_1se"] = np.arange(len(table)) == _one_se_pick(
        mean, table["bound_se"].to_numpy(), complexity
    )
    pick = int(np.argmin(mean))
    keys = [str(i) for i in range(len(table))]  # labels may repeat
    if over_splits:
        pairs = _paired_table(
            bounds.T,
            np.ones(bounds.shape[1]),
            keys,
            reference=keys[pick],
            unit=SPLIT_UNIT,
            confidence_level=confidence_level,
            n_resamples=n_resamples,
            method="t",
            random_state=None,
        )
    else:
        assert y_true is not None  # _rank_over_rows refused it otherwise
        pairs = paired_bound_differences(
            y_true,
            {k: pair[0] for k, pair in zip(keys, results.values())},
            {k: pair[1] for k, pair in zip(keys, results.values())},
            reference=keys[pick],
            sample_weight=sample_weight,
            confidence_level=confidence_level,
            n_resamples=n_resamples,
            method=method,
            random_state=rng,
        )
    for column in ("bound_difference", "difference_low", "difference_high", "verdict"):
        table[column] = pairs[column].to_numpy()
    table.attrs["unit"] = pairs.attrs["unit"]
    if over_splits and errors is not None:
        table["bound_held"] = (errors <= bounds).mean(axis=1)
    elif not over_splits:
        held = table["strong_error_mean"] <= table["bound_mean"]
        table["bound_held"] = held.astype(float)
    if "bound_held" in table:
        table.attrs["bound_held"] = BOUND_HELD_NOTE
    return table.sort_values("bound_mean", kind="stable")


def _rank_over_splits(index, bounds, errors, confidence_level, n_resamples, rng):
    n_candidates, n_splits = bounds.shape
    if n_splits < 2:
        raise ValueError(
            "The bound's uncertainty over splits needs at least 2 splits, got 1."
        )
    if not np.all(np.isfinite(bounds)):
        raise ValueError("`results` holds a non-finite bound.")
    if errors is not None and not np.all(np.isfinite(errors)):
        raise ValueError("`results` holds a non-finite strong error.")
    # finite bounds near the float64 limit overflow: the error below says so,
    # without a RuntimeWarning before it
    with np.errstate(over="ignore", invalid="ignore"):
        mean = bounds.mean(axis=1)
        se = bounds.std(axis=1, ddof=1) / np.sqrt(n_splits)
    check_finite_result(se, "The spread of the bounds over splits")
    half = stats.t.ppf((1 + confidence_level) / 2, n_splits - 1) * se
    deltas, _ = _bootstrap_means(
        bounds.T, np.ones(n_splits), n_resamples=n_resamples, rng=rng
    )
    table = pd.DataFrame(
        {
            "position": np.arange(n_candidates),
            "bound_mean": mean,
            "bound_std": bounds.std(axis=1),
            "bound_se": se,
            "bound_low": mean - half,
            "bound_high": mean + half,
            "p_lowest": _lowest_probability(mean, deltas),
        },
        index=index,
    )
    if errors is not None:
        table["strong_error_mean"] = errors.mean(axis=1)
        table["strong_error_std"] = errors.std(axis=1)
    return table


def _rank_over_rows(
    predictions, y_true, sample_weight, confidence_level, n_resamples, method, rng
):
    if y_true is None:
        raise ValueError(
            "`y_true` is needed to rank a mapping of predictions by the bound."
        )
    # the interval is a bootstrap's, and its standard error their spread
    check_enough_resamples(n_resamples, confidence_level)
    (y_true,), _ = check_real_arrays({"y_true": y_true})
    y_true = y_true.reshape(y_true.shape[0], -1)
    names, losses, errors = [], [], []
    for name, pair in predictions.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"`results`[{name!r}] must be a pair (y_weak, y_strong).")
        (y_weak, y_strong), _ = check_real_arrays(
            {f"y_weak of {name!r}": pair[0], f"y_strong of {name!r}": pair[1]}
        )
        y_weak, y_strong = (a.reshape(a.shape[0], -1) for a in (y_weak, y_strong))
        if y_weak.shape != y_true.shape or y_strong.shape != y_true.shape:
            raise ValueError(
                f"The predictions of {name!r} must have the shape of `y_true`, "
                f"{y_true.shape}."
            )
        with np.errstate(over="ignore", invalid="ignore"):
            weak = ((y_true - y_weak) ** 2).mean(axis=1)
            mis = ((y_weak - y_strong) ** 2).mean(axis=1)
            error = ((y_true - y_strong) ** 2).mean(axis=1)
            row_bound = weak - mis
        for value in (row_bound, error):
            check_finite_result(value, f"The per-row bound of {name!r}")
        names.append(str(name))
        losses.append(row_bound)
        errors.append(error)
    L = np.column_stack(losses)
    w = _check_weights(sample_weight, L.shape[0])
    keep = w > 0
    if keep.sum() < 2:
        raise ValueError("Ranking over rows needs at least 2 rows of positive weight.")
    L, E, w = L[keep], np.column_stack(errors)[keep], w[keep]
    mean = np.average(L, axis=0, weights=w)
    deltas, jackknife = _bootstrap_means(L, w, n_resamples=n_resamples, rng=rng)
    low, high = _limits(mean, deltas, jackknife, confidence_level, method)
    return pd.DataFrame(
        {
            "position": np.arange(len(names)),
            "bound_mean": mean,
            "bound_se": deltas.std(axis=1, ddof=1),
            "bound_low": low,
            "bound_high": high,
            "p_lowest": _lowest_probability(mean, deltas),
            "strong_error_mean": np.average(E, axis=0, weights=w),
        },
        index=pd.Index(names, name="candidate"),
    )
