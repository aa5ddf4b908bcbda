"""Pure summaries of experiment records: the gain-misfit line and selection tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from .._diagnostics import DIAGNOSTICS
from ..metrics import fit_line, paired_bound_differences, rank_weak_supervisors

__all__ = [
    "gain_misfit_fit",
    "summarize_panel",
    "decomposition_summary",
    "selection_table",
    "paired_selection",
    "DIAGNOSTICS",
    "CLASSIFICATION_EXTRAS",
]

#: Relative tolerance (to the weak error) of the exact decomposition.
DECOMPOSITION_RTOL = 1e-9


#: Further columns of classification records (``WeakToStrongClassifier``).
CLASSIFICATION_EXTRAS = (
    "weak_accuracy",
    "strong_accuracy",
    "ceiling_accuracy",
    "accuracy_pgr",
)


def _per_weak_error(values: ArrayLike, weak_error: ArrayLike) -> np.ndarray:
    """``values / weak_error`` per task, NaN (undefined) where the weak error is 0.

    A weak error of exactly 0 is a weak model that fits its task perfectly
    (in appendix D's relu panel, a task whose labels are all 0): then the
    misfit, the gain and ε relative to it are undefined, not infinite. Those
    tasks are marked NaN on purpose; summaries count them
    (``n_ratio_undefined``) and leave them out of the ratios' statistics.
    A negative or non-finite weak error is an error.
    """
    values = np.asarray(values, dtype=float)
    weak = np.asarray(weak_error, dtype=float)
    if not np.all(np.isfinite(weak)) or np.any(weak < 0):
        raise ValueError(
            "The weak errors must be finite and non-negative to divide by them."
        )
    out = np.full(np.broadcast(values, weak).shape, np.nan)
    np.divide(values, weak, out=out, where=weak > 0)
    return out


def gain_misfit_fit(misfit: ArrayLike, gain: ArrayLike) -> dict:
    """Least-squares line of gain on misfit, and how the points sit around y = x.

    Parameters
    ----------
    misfit : array-like of shape (n_points,)
        Misfit of each task (x-axis).
    gain : array-like of shape (n_points,)
        Gain of each task (y-axis).

    Returns
    -------
    fit : dict
        ``slope``, ``intercept``, ``r2`` (of the line), ``frac_gain_ge_misfit``
        (fraction of points on or above ``y = x``), ``frac_gain_positive``
        (fraction of points with a positive gain), ``mean_gain_minus_misfit``
        and ``mean_abs_gain_minus_misfit`` (mean of ``gain - misfit`` and of
        its absolute value), ``median_ratio`` (median of gain / misfit) and
        ``n_points``. The line is
        :func:`skwtsg.metrics.fit_line`'s: ``slope``, ``intercept`` and ``r2``
        are NaN with fewer than 3 points or a constant misfit.

    Examples
    --------
    >>> from skwtsg.experiments import gain_misfit_fit
    >>> fit = gain_misfit_fit([1.0, 2.0, 3.0], [1.1, 2.1, 3.1])
    >>> round(fit["slope"], 6), round(fit["intercept"], 6), fit["frac_gain_ge_misfit"]
    (1.0, 0.1, 1.0)
    """
    x = np.asarray(misfit, dtype=float)
    y = np.asarray(gain, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"`misfit` and `gain` must be 1-D of the same length, got shapes "
            f"{x.shape} and {y.shape}."
        )
    # Training-sample columns are NaN where the strong rows have no true label:
    # those points are left out (and ``n_points`` counts the others).
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    line = fit_line(x, y)
    out = {
        "slope": line.slope,
        "intercept": line.intercept,
        "r2": line.r2,
        "n_points": line.n_points,
        "frac_gain_ge_misfit": float(np.mean(y >= x)) if ok.any() else float("nan"),
        "frac_gain_positive": float(np.mean(y > 0)) if ok.any() else float("nan"),
        "mean_gain_minus_misfit": float(np.mean(y - x)) if ok.any() else float("nan"),
        "mean_abs_gain_minus_misfit": float(np.mean(np.abs(y - x)))
        if ok.any()
        else float("nan"),
        "median_ratio": float(np.median(y[x > 0] / x[x > 0]))
        if np.any(x > 0)
        else float("nan"),
    }
    return out


def summarize_panel(records: pd.DataFrame) -> dict:
    """Summarise one panel's records: the line on fresh and on training samples.

    Parameters
    ----------
    records : DataFrame
        Rows of one panel as produced by :func:`skwtsg.experiments.run_cases`.

    Returns
    -------
    summary : dict
        ``eval`` and ``train``: :func:`gain_misfit_fit` of ``gain`` on
        ``misfit`` (resp. ``train_gain`` on ``train_misfit``); ``n_points``,
        ``weak_models``, ``fit_seconds`` and ``ceiling_seconds`` (sums of
        the fit and ceiling-measurement times) and ``mean`` (the mean of each
        diagnostic over the panel's records, with ``ceiling_error`` when
        recorded). With the decomposition columns, ``train`` also has
        :func:`decomposition_summary`'s entries.

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments import summarize_panel
    >>> df = pd.DataFrame({"misfit": [1.0, 2, 3], "gain": [1.0, 2, 3],
    ...                    "train_misfit": [1.0, 2, 3], "train_gain": [1.0, 2, 3],
    ...                    "train_weak_error": [2.0, 3, 4], "weak_model": "w",
    ...                    "fit_seconds": 0.1})
    >>> summarize_panel(df)["eval"]["slope"]
    1.0
    """
    summary: dict = {
        "eval": gain_misfit_fit(records["misfit"], records["gain"]),
        "n_points": int(len(records)),
        "weak_models": sorted(map(str, records["weak_model"].unique())),
        "fit_seconds": float(records["fit_seconds"].sum()),
        "ceiling_seconds": float(records.get("ceiling_seconds", pd.Series([])).sum()),
        "mean": {
            k: float(records[k].mean())
            for k in DIAGNOSTICS + CLASSIFICATION_EXTRAS
            if k in records
        },
    }
    if "ceiling_error" in records:
        summary["mean"]["ceiling_error"] = float(records["ceiling_error"].mean())
    if "train_gain" in records and records["train_gain"].notna().any():
        summary["train"] = gain_misfit_fit(
            records["train_misfit"], records["train_gain"]
        )
        tol = 1e-9 * np.maximum(records["train_weak_error"].abs(), 1e-300)
        summary["train"]["frac_gain_ge_misfit_exact"] = float(
            np.mean(records["train_gain"] >= records["train_misfit"] - tol)
        )
        summary["train"]["frac_gain_eq_misfit_exact"] = float(
            np.mean(np.abs(records["train_gain"] - records["train_misfit"]) <= tol)
        )
        if "train_theorem2_slack" in records:
            slack = records["train_theorem2_slack"]
            summary["train"]["frac_theorem2_holds"] = float(
                np.mean(slack >= -1e-6 * np.sqrt(records["train_weak_error"].abs()))
            )
            summary["train"]["median_epsilon"] = float(
                records["train_epsilon"].median()
            )
        if "train_epsilon_term" in records:
            summary["train"].update(decomposition_summary(records))
    return summary


def _uncertainty(records: pd.DataFrame) -> pd.DataFrame:
    """Interval, probability of the lowest bound, 1-SE pick and the paired
    comparison with the pick over the cases."""
    columns = ["bound_low", "bound_high", "p_lowest", "pick_1se"] + list(_PAIRED)
    counts = (
        records.groupby("weak_model", sort=False)["case"].nunique()
        if ("case" in records)
        else None
    )
    paired = (
        counts is not None
        and counts.min() >= 2
        and len(records) == counts.sum()
        and records.groupby("case")["weak_model"].nunique().eq(len(counts)).all()
    )
    if not paired:
        return pd.DataFrame(
            np.nan, index=pd.unique(records["weak_model"]), columns=columns
        )
    keep = [c for c in ("weak_model", "case", "bound", "strong_error") if c in records]
    ranking = rank_weak_supervisors(records[keep], split="case", random_state=0)
    models = pd.unique(records["weak_model"])  # labels as given, not as str
    ranking.index = pd.Index(models[ranking["position"].to_numpy()])
    return ranking[columns].astype({"pick_1se": object})


#: rank_weak_supervisors' paired comparison of each weak model with the pick.
_PAIRED = ("bound_difference", "difference_low", "difference_high", "verdict")


def decomposition_summary(records: pd.DataFrame) -> dict:
    """How Theorem 2's decomposition of gain − misfit looks across a panel.

    Parameters
    ----------
    records : DataFrame
        Rows of one panel from :func:`skwtsg.experiments.run_cases`, with the
        training-sample columns ``train_gain``, ``train_misfit``,
        ``train_weak_error``, ``train_epsilon``, ``train_projection_term``,
        ``train_epsilon_term`` and optionally ``train_ls_gap``.

    Returns
    -------
    summary : dict
        - ``frac_decomposition_holds``: fraction of tasks where
          ``train_gain − train_misfit`` equals ``train_projection_term +
          train_epsilon_term`` and, where it is given, ``train_ls_gap``
          (the least-squares projection computed independently of the
          head), both within ``1e-9`` times the weak error;
        - ``median_epsilon_ratio``: median of ε / weak error;
        - ``median_gap_ratio``: median of (gain − misfit) / weak error;
        - ``max_abs_projection_term_ratio``: the largest absolute projection term /
          weak error (0 up to rounding for least squares);
        - ``n_ratio_undefined``: tasks whose weak error is exactly 0 (a
          perfect weak model), where these three ratios are undefined: they
          are left out of the median and the maximum, which are NaN when no
          task has a positive weak error;
        - ``corr_epsilon_misfit``: Pearson correlation across tasks of ε and
          the misfit (NaN with fewer than 3 tasks or a constant column).

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments import decomposition_summary
    >>> df = pd.DataFrame({"train_gain": [1.0, 1.5], "train_misfit": [1.0, 2.0],
    ...                    "train_weak_error": [2.0, 3.0],
    ...                    "train_epsilon": [0.0, 0.1],
    ...                    "train_projection_term": [0.0, 0.0],
    ...                    "train_epsilon_term": [0.0, -0.5]})
    >>> decomposition_summary(df)["frac_decomposition_holds"]
    1.0
    """
    weak = records["train_weak_error"].abs().to_numpy(dtype=float)
    tol = DECOMPOSITION_RTOL * np.maximum(weak, 1e-300)
    gap = (records["train_gain"] - records["train_misfit"]).to_numpy(dtype=float)
    terms = (records["train_projection_term"] + records["train_epsilon_term"]).to_numpy(
        dtype=float
    )
    holds = np.abs(gap - terms) <= tol
    if "train_ls_gap" in records:
        ls = records["train_ls_gap"].to_numpy(dtype=float)
        holds &= np.isnan(ls) | (np.abs(gap - ls) <= tol)
    eps = records["train_epsilon"].to_numpy(dtype=float)
    mis = records["train_misfit"].to_numpy(dtype=float)
    corr = float("nan")
    if len(eps) >= 3 and np.ptp(eps) > 0 and np.ptp(mis) > 0:
        corr = float(np.corrcoef(eps, mis)[0, 1])
    proj = records["train_projection_term"].to_numpy(dtype=float)
    defined = weak > 0
    eps_ratio, gap_ratio, proj_ratio = (
        _per_weak_error(v, weak)[defined] for v in (eps, gap, np.abs(proj))
    )
    nan = float("nan")
    return {
        "frac_decomposition_holds": float(np.mean(holds)),
        "median_epsilon_ratio": float(np.median(eps_ratio)) if eps_ratio.size else nan,
        "median_gap_ratio": float(np.median(gap_ratio)) if gap_ratio.size else nan,
        "max_abs_projection_term_ratio": float(np.max(proj_ratio))
        if proj_ratio.size
        else nan,
        "n_ratio_undefined": int(np.sum(weak == 0)),
        "corr_epsilon_misfit": corr,
    }


def selection_table(
    records: pd.DataFrame, predictions: list[dict] | None = None
) -> tuple[pd.DataFrame, dict]:
    """The paper's Tables 1-3: weak models sorted by mean ``weak error - misfit``.

    Parameters
    ----------
    records : DataFrame
        Rows of one panel (one task), one per (case, weak model).
    predictions : list of dict or None, default=None
        Per case, the evaluation rows' true labels and predictions (as
        :func:`~skwtsg.experiments.run_cases` keeps them): the uncertainty
        columns are then :func:`paired_selection`'s, paired over the
        evaluation rows, instead of those resampling the cases.

    Returns
    -------
    table : DataFrame
        One row per weak model, sorted by ``bound_mean``: ``bound_mean``,
        ``bound_std``, ``strong_error_mean``, ``strong_error_std`` (std over
        cases, ddof=0 as numpy; NaN-free with one case: 0), ``n_cases``,
        ``pick`` (True on the heuristic's choice, the smallest bound) and,
        from :func:`skwtsg.metrics.rank_weak_supervisors` over the cases
        (the splits; NaN unless every weak model has the same two or more):
        ``bound_low`` and ``bound_high`` (95% t interval of the mean bound),
        ``p_lowest`` (probability of the lowest bound, paired bootstrap of
        the cases) and ``pick_1se`` (one-standard-error pick, the weak
        models taken in the records' order from the simplest), and the
        paired comparison with the pick over the cases: ``bound_difference``
        (minus the pick's), ``difference_low``, ``difference_high`` (95% t
        interval of the mean per-case difference) and ``verdict`` in words;
        ``bound_held``: the share of cases whose true strong error was at
        most the bound. With ``predictions``, instead of the paired
        comparison over the cases and the four columns above:
        :func:`paired_selection`'s columns (``difference``,
        ``difference_low``, ``difference_high``, ``verdict``,
        ``split_intervals``, ``split_verdicts``), and
        ``table.attrs["unit"]`` says what was resampled.
    stats : dict
        ``spearman`` (rank correlation of bound and true strong error across
        weak models), ``pick``, ``best`` (smallest true strong error),
        ``pick_is_best`` and the pick's ``regret`` (its strong error minus
        the best one); with ``predictions``, ``verdicts``: one sentence per
        other weak model, from the paired interval over the splits, and
        ``unit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments import selection_table
    >>> df = pd.DataFrame({"weak_model": ["a", "a", "b", "b"],
    ...                    "bound": [1.0, 1.2, 0.5, 0.7],
    ...                    "strong_error": [2.0, 2.0, 1.0, 1.2]})
    >>> table, info = selection_table(df)
    >>> list(table.index), info["pick"], info["pick_is_best"]
    (['b', 'a'], 'b', True)
    >>> df["case"] = ["split1", "split2", "split1", "split2"]
    >>> table, _ = selection_table(df)
    >>> table[["bound_low", "bound_high", "p_lowest"]].round(2)
                bound_low  bound_high  p_lowest
    weak_model
    b               -0.67        1.87       1.0
    a               -0.17        2.37       0.0
    >>> table[["bound_difference", "verdict", "bound_held"]]
                bound_difference        verdict  bound_held
    weak_model
    b                        0.0       the pick         0.0
    a                        0.5  higher at 95%         0.0
    """
    grouped = records.groupby("weak_model", sort=False)
    table = pd.DataFrame(
        {
            "bound_mean": grouped["bound"].mean(),
            "bound_std": grouped["bound"].std(ddof=0),
            "strong_error_mean": grouped["strong_error"].mean(),
            "strong_error_std": grouped["strong_error"].std(ddof=0),
            "n_cases": grouped.size(),
            "bound_held": (records["strong_error"] <= records["bound"])
            .groupby(records["weak_model"], sort=False)
            .mean(),
        }
    ).sort_values("bound_mean", kind="stable")
    paired = None
    if predictions:
        paired = paired_selection(predictions, reference=table.index[0])
        table = table.join(paired)
    else:
        table = table.join(_uncertainty(records))
    table["pick"] = False
    table.iloc[0, table.columns.get_loc("pick")] = True
    pick = str(table.index[0])
    best = str(table["strong_error_mean"].idxmin())
    rho = (
        float(stats.spearmanr(table["bound_mean"], table["strong_error_mean"])[0])
        if len(table) >= 3
        else float("nan")
    )
    info = {
        "spearman": rho,
        "pick": pick,
        "best": best,
        "pick_is_best": pick == best,
        "regret": float(
            table.loc[pick, "strong_error_mean"] - table.loc[best, "strong_error_mean"]
        ),
    }
    if paired is not None:
        info["unit"] = paired.attrs["unit"]
        info["verdicts"] = [
            _verdict_sentence(pick, name, row)
            for name, row in table.iloc[1:].iterrows()
        ]
        table.attrs.update(paired.attrs)
    table.index.name = "weak_model"
    return table, info


#: What :func:`paired_selection` resamples, said in the report.
PAIRED_UNIT = (
    "the test molecules of the splits (rows of every split's evaluation set, "
    "pooled, each split weighted equally), resampled in pairs: the same rows "
    "for every weak model; the splits themselves are not resampled"
)


def paired_selection(
    predictions: list[dict],
    reference: str,
    *,
    confidence_level: float = 0.95,
    n_resamples: int = 9999,
    random_state: int = 0,
) -> pd.DataFrame:
    """Each weak model's bound minus the pick's, paired over evaluation rows.

    Over the splits together: the evaluation rows of every split pooled
    (each split weighted equally, so the difference is the difference of
    the mean bounds over the splits) and resampled in pairs by
    :func:`~skwtsg.metrics.paired_bound_differences`; and on each split
    alone, against the same ``reference``.

    Parameters
    ----------
    predictions : list of dict
        One per split: ``{"y": true labels, "weak": {name: predictions},
        "strong": {name: predictions}}`` on its evaluation rows.
    reference : str
        The pick (smallest mean bound).
    confidence_level : float, default=0.95
        Of the intervals.
    n_resamples : int, default=9999
        Bootstrap resamples.
    random_state : int, default=0
        Seed of the resampling.

    Returns
    -------
    table : DataFrame
        Indexed by weak model: ``difference`` (mean bound minus the pick's),
        ``difference_low``, ``difference_high`` and ``verdict`` (pooled
        over the splits), ``split_intervals`` (each split's difference and
        interval, as text) and ``split_verdicts`` (how many splits say
        what); ``attrs["unit"]`` says what was resampled.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.experiments import paired_selection
    >>> rng = np.random.default_rng(0)
    >>> def split(n):
    ...     y = rng.normal(size=n)
    ...     weak = {"good": y + 0.5 * rng.normal(size=n), "bad": y + rng.normal(size=n)}
    ...     return {"y": y, "weak": weak,
    ...             "strong": {k: 0.5 * (v + y) for k, v in weak.items()}}
    >>> table = paired_selection([split(300), split(200)], "good")
    >>> table.loc["bad", ["verdict", "split_verdicts"]].tolist()
    ['higher at 95%', 'higher at 95% on 2 of 2 splits']
    """
    names = list(predictions[0]["weak"])

    def stack(part, name):
        return np.concatenate([np.asarray(p[part][name]) for p in predictions])

    y = np.concatenate([np.asarray(p["y"], dtype=float) for p in predictions])
    weights = np.concatenate(
        [np.full(len(p["y"]), 1.0 / len(p["y"])) for p in predictions]
    )
    options: dict[str, Any] = dict(
        reference=str(reference),
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    pooled = paired_bound_differences(
        y,
        {k: stack("weak", k) for k in names},
        {k: stack("strong", k) for k in names},
        sample_weight=weights,
        **options,
    )
    splits = [
        paired_bound_differences(p["y"], p["weak"], p["strong"], **options)
        for p in predictions
    ]
    intervals, verdicts = [], []
    for name in names:
        rows = [t.loc[name] for t in splits]
        intervals.append(
            "; ".join(
                f"{r['bound_difference']:+.3g} [{r['difference_low']:.3g}, "
                f"{r['difference_high']:.3g}]"
                for r in rows
            )
            if name != reference
            else ""
        )
        counts = pd.Series([r["verdict"] for r in rows]).value_counts(sort=False)
        verdicts.append(
            ", ".join(
                f"{v} on {c} of {len(rows)} splits"
                for v, c in counts.items()
                if v != "the pick"
            )
        )
    table = pd.DataFrame(
        {
            "difference": pooled["bound_difference"],
            "difference_low": pooled["difference_low"],
            "difference_high": pooled["difference_high"],
            "verdict": pooled["verdict"],
            "split_intervals": intervals,
            "split_verdicts": verdicts,
        },
        index=pd.Index(names, name="weak_model"),
    )
    table.index = table.index.astype(object)
    table.attrs.update(unit=PAIRED_UNIT, reference=str(reference))
    return table


def _verdict_sentence(pick: str, name: str, row: pd.Series) -> str:
    """One weak model against the pick, in words, from its paired interval."""
    interval = (
        f"(mean bound {row['difference']:+.3g} over the pick's, paired interval "
        f"[{row['difference_low']:.3g}, {row['difference_high']:.3g}]; per split: "
        f"{row['split_verdicts']})"
    )
    verdict = str(row["verdict"])
    if verdict.startswith("indistinguishable"):
        level = verdict.removeprefix("indistinguishable at ")
        return f"{pick} and {name} are indistinguishable at {level} {interval}"
    return f"{name}'s bound is {verdict} than {pick}'s {interval}"
