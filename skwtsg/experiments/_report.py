"""Write an experiment's outputs: CSV, PNG, summary.json and report.md."""

from __future__ import annotations

import json
import math
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics._paired import BOUND_HELD_NOTE
from ._case import Experiment

__all__ = ["write_outputs", "markdown_table", "slug", "dumps"]


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A DataFrame (without its index) as a GitHub-flavoured markdown table.

    Examples
    --------
    >>> import pandas as pd
    >>> print(markdown_table(pd.DataFrame({"a": [1.23456], "b": ["x"]})))
    | a | b |
    |---|---|
    | 1.235 | x |
    """

    def fmt(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else format(v, floatfmt)
        return str(v)

    lines = [
        "| " + " | ".join(map(str, df.columns)) + " |",
        "|" + "---|" * len(df.columns),
    ]
    lines += [
        "| " + " | ".join(fmt(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join(lines)


def write_outputs(
    experiment: Experiment,
    records: pd.DataFrame,
    summary: dict,
    out: Path,
    *,
    before_report: Callable[[], None] | None = None,
) -> list[Path]:
    """Write a run's outputs into ``out`` and return their paths.

    ``<panel>.csv`` (the records), ``<panel>.png`` and ``all_panels.png``
    (gain against misfit), ``summary.json`` and ``report.md``; with
    ``experiment.selection``, also ``<panel>_selection.csv``.
    ``before_report`` is called after the figures, before ``summary.json``
    and the report are written (to complete ``summary``: the run's wall
    time and warnings).
    """
    out.mkdir(parents=True, exist_ok=True)
    claims = experiment.claims
    files = []
    panels = list(summary["panels"])
    for panel in panels:
        rec = records[records["panel"] == panel].drop(columns="panel")
        path = out / f"{slug(panel)}.csv"
        rec.to_csv(path, index=False)
        files.append(path)
        info = summary["panels"][panel]
        if "selection_table" in info:
            path = out / f"{slug(panel)}_selection.csv"
            pd.DataFrame(info["selection_table"]).to_csv(path, index=False)
            files.append(path)
    files += _figures(experiment, records, summary, out)
    if experiment.extra_figures is not None and files and files[-1].suffix == ".png":
        files += experiment.extra_figures(records, summary, out)
    if before_report is not None:
        before_report()
    path = out / "summary.json"
    path.write_text(dumps(summary) + "\n")
    files.append(path)
    path = out / "report.md"
    path.write_text(_report(experiment, claims, summary))
    files.append(path)
    return files


def _figures(experiment, records, summary, out):
    claims = experiment.claims
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # the [plot] extra is missing: tables only
        return []
    files = []
    panels = list(summary["panels"])
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig_all, axes = plt.subplots(
        nrows, ncols, figsize=(4.8 * ncols, 3.9 * nrows), squeeze=False
    )
    for i, panel in enumerate(panels):
        rec = records[records["panel"] == panel]
        hue = None
        if rec["weak_model"].nunique() > 1:
            hue = "weak_model"
        elif rec["case"].nunique() > 1:
            hue = "case"
        color_by = None
        if "train_epsilon_ratio" in rec and rec["train_epsilon_ratio"].notna().all():
            color_by = "train_epsilon_ratio"  # where the points leave y = x
        for ax in (None, axes.flat[i]):
            fig = None
            if ax is None:
                fig, ax = plt.subplots(figsize=(5.6, 4.5))
            _draw_panel(
                ax,
                rec,
                claims.get(panel, {}).get("title", panel),
                experiment,
                hue,
                color_by,
            )
            if fig is not None:
                fig.tight_layout()
                path = out / f"{slug(panel)}.png"
                fig.savefig(path, dpi=120)
                plt.close(fig)
                files.append(path)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig_all.tight_layout()
    path = out / "all_panels.png"
    fig_all.savefig(path, dpi=110)
    plt.close(fig_all)
    files.append(path)
    return files


def _draw_panel(ax, rec, title, experiment, hue, color_by):
    """One panel of gain against misfit, its title wrapped and its legend clear."""
    from ..plot import GainMisfitDisplay

    disp = GainMisfitDisplay.from_results(
        rec, hue=hue, color_by=color_by, ax=ax, show_fit=True
    )
    # a long title, wrapped to the panel's width, is not clipped
    disp.ax_.set_title(textwrap.fill(title, 42), fontsize="medium")
    if "misfit" in experiment.axis_titles:
        disp.ax_.set_xlabel(experiment.axis_titles["misfit"])
    if "gain" in experiment.axis_titles:
        disp.ax_.set_ylabel(experiment.axis_titles["gain"])
    handles, _ = disp.ax_.get_legend_handles_labels()
    if len(handles) > 3:  # many series: the legend goes below the points
        disp.ax_.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=2,
            fontsize="small",
            frameon=False,
        )
    return disp


def _report(experiment, claims, summary):
    lines = [f"# {experiment.title or experiment.name}", ""]
    lines.append(
        f"Run: `python -m skwtsg reproduce {experiment.name}"
        + (" --quick" if summary["quick"] else "")
        + f" --seed {summary['random_state']}`, wall time of the run "
        f"{summary['wall_seconds']:.1f} s (building cases and "
        f"representations {summary['prepare_seconds']:.1f} s, fits "
        f"{summary.get('fit_seconds', float('nan')):.1f} s, ceiling fits and "
        f"decompositions {summary.get('ceiling_seconds', float('nan')):.1f} s, "
        "the rest summaries, figures and tables; Python's start and imports "
        "are not counted)."
    )
    if summary["quick"]:
        lines += [
            "",
            "**Quick run: small sizes, not comparable with the paper; the "
            "claims are not judged. The notes below describe the full-size run.**",
        ]
    if experiment.notes:
        lines += ["", "## Notes", ""]
    for note in experiment.notes:
        lines += [f"- {note}"]
    rows = []
    for panel, info in summary["panels"].items():
        ev, tr = info["eval"], info.get("train", {})
        rows.append(
            {
                "panel": panel,
                "points": info["n_points"],
                "slope": ev["slope"],
                "intercept": ev["intercept"],
                "R2": ev["r2"],
                "gain>=misfit (fresh)": ev["frac_gain_ge_misfit"],
                "gain>0 (fresh)": ev["frac_gain_positive"],
                "mean gain−misfit": ev["mean_gain_minus_misfit"],
                "gain>=misfit (train, exact)": tr.get(
                    "frac_gain_ge_misfit_exact", float("nan")
                ),
                "Thm 2 holds (train)": tr.get("frac_theorem2_holds", float("nan")),
                "median ε (train)": tr.get("median_epsilon", float("nan")),
                "median ε/weak error (train)": tr.get(
                    "median_epsilon_ratio", float("nan")
                ),
                "decomposition holds (train)": tr.get(
                    "frac_decomposition_holds", float("nan")
                ),
                "corr(ε, misfit)": tr.get("corr_epsilon_misfit", float("nan")),
                "median gain/misfit": ev["median_ratio"],
                "fit s": info["fit_seconds"],
                "warning": "yes" if info.get("warnings") else "",
            }
        )
    lines += [
        "",
        "## Gain against misfit",
        "",
        "Slope and R² of the least-squares line of gain on misfit over the "
        "points of each panel, measured on a fresh evaluation sample. The "
        "training-sample columns use the strong head's own training rows: "
        "gain ≥ misfit up to 1e-9 relative (Theorem 1: exact when the truth is "
        "in the head's convex set), and the fraction of points where Theorem 2's "
        "deterministic form holds, sqrt(strong error) ≤ sqrt((sqrt(weak error) + "
        "sqrt(ε))² − misfit) + sqrt(ε), with ε the measured distance from the "
        "truth to the strong model's set on those rows (exact for an exact "
        "convex head). The decomposition column is the fraction of points where "
        "gain − misfit equals the projection term plus Theorem 2's ε term (and, "
        "for least squares, −2⟨(I−P)w, (I−P)y*⟩ computed from the strong "
        "features) to 1e-9 of the weak error; figures colour each point by its "
        "ε / weak error.",
        "",
        markdown_table(pd.DataFrame(rows)),
    ]
    for panel, info in summary["panels"].items():
        claim = claims.get(panel, {})
        lines += ["", f"## {claim.get('title', panel)}", ""]
        if "text" in claim:
            lines.append(f"Paper: {claim['text']}")
            lines.append("")
        for warning in info.get("warnings", []):
            lines += [f"**Warning: {warning}.** This panel's numbers are suspect.", ""]
        if "verdict" in info:
            word = "Agrees" if info["agrees_with_paper"] else "Differs"
            lines.append(f"Ours: **{word}.** {info['verdict']}")
        elif "text" in claim and summary["quick"]:
            lines.append("Ours: not judged at --quick sizes.")
        if "sweep" in info:
            lines += ["", markdown_table(pd.DataFrame(info["sweep"]))]
        if "selection_table" in info:
            table = selection_markdown(pd.DataFrame(info["selection_table"]))
            sel = info["selection"]
            lines += ["", markdown_table(table), ""]
            if "unit" in sel:
                lines += [
                    "Mean ± std over the cases (splits). The uncertainty columns "
                    "are paired bootstrap intervals (95%) of each weak model's bound "
                    "minus the pick's, resampling "
                    f"{sel['unit']}: 'over the splits' pools the splits, 'per "
                    "split' is each split alone. No probability is computed from "
                    "resampling the splits, which share molecules.",
                    "",
                    *(f"- {v}." for v in sel["verdicts"]),
                ]
            else:
                lines.append(
                    "Mean ± std over the cases (splits); the 95% interval is "
                    "Student's t on the mean bound over the cases and P(lowest) "
                    "the share of paired bootstrap resamples of the cases in "
                    "which the weak model has the lowest mean bound (the splits "
                    "share rows, so both are optimistic); the 1-SE pick is the "
                    "first-listed weak model whose mean bound is within one "
                    "standard error of the smallest. 'vs pick' is each weak "
                    "model's mean bound minus the pick's with its 95% interval, "
                    "paired over the cases (statistical unit: one case; Student's "
                    "t of the per-case differences), and its verdict in words."
                )
            if any("bound_held" in row for row in info["selection_table"]):
                lines += ["", BOUND_HELD_NOTE]
            lines += [
                "",
                f"Heuristic's pick: {sel['pick']}; smallest true strong error: "
                f"{sel['best']} (regret {sel['regret']:.4g}); Spearman "
                f"correlation of bound and true error across weak models: "
                f"{sel['spearman']:.3f}.",
            ]
            if "paper" in claim:
                lines += [
                    "",
                    "The paper's table:",
                    "",
                    markdown_table(pd.DataFrame(claim["paper"])),
                ]
    lines += _warnings_section(summary.get("library_warnings", []))
    if "conclusion" in summary:
        conclusion = summary["conclusion"]
        lines += ["", "## Conclusion", "", conclusion["text"]]
        if "verdict" in conclusion:
            word = "Agrees" if conclusion.get("agrees") else "Differs"
            lines += ["", f"**{word}.** {conclusion['verdict']}"]
        else:
            lines += ["", "(Quick run: these numbers are not judged.)"]
    return "\n".join(lines) + "\n"


def selection_markdown(table: pd.DataFrame) -> pd.DataFrame:
    """The selection table (index reset) as printed: text columns for the mean
    ± std, the interval, P(lowest) and the picks.

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments._report import selection_markdown
    >>> table = pd.DataFrame({
    ...     "weak_model": ["b", "a"], "bound_mean": [0.6, 1.1],
    ...     "bound_std": [0.1, 0.1], "strong_error_mean": [1.1, 2.0],
    ...     "strong_error_std": [0.1, 0.0], "n_cases": [2, 2],
    ...     "pick": [True, False], "bound_low": [-0.67, -0.17],
    ...     "bound_high": [1.87, 2.37], "p_lowest": [1.0, 0.0],
    ...     "pick_1se": [True, False]})
    >>> selection_markdown(table).iloc[0].tolist()
    ['b', '0.6 ± 0.1', '[-0.67, 1.87]', '1', '', '', '', '1.1 ± 0.1', '2', '←', '←']
    >>> table["bound_difference"] = [0.0, 0.5]
    >>> table["difference_low"], table["difference_high"] = [None, 0.1], [None, 0.9]
    >>> table["verdict"] = ["the pick", "higher at 95%"]
    >>> table["bound_held"] = [0.5, 1.0]
    >>> selection_markdown(table).iloc[1, 4:7].tolist()
    ['+0.5 [0.1, 0.9]', 'higher at 95%', '1']
    """

    def mean_std(column):
        return [
            f"{m:.4g} ± {sd:.2g}"
            for m, sd in zip(table[column + "_mean"], table[column + "_std"])
        ]

    def optional(column, fmt):
        if column not in table:
            return [""] * len(table)
        return ["" if pd.isna(v) else fmt(v) for v in table[column]]

    if "difference" in table:  # paired over the evaluation rows
        d = optional("difference", float)
        lo = optional("difference_low", float)
        hi = optional("difference_high", float)
        return pd.DataFrame(
            {
                "weak_model": table["weak_model"].astype(str),
                "bound (mean ± std)": mean_std("bound"),
                "− pick's, over the splits [95% paired]": [
                    "" if b == "" else f"{a:+.3g} [{b:.3g}, {c:.3g}]"
                    for a, b, c in zip(d, lo, hi)
                ],
                "verdict": table["verdict"].astype(str),
                "per split": table["split_intervals"].fillna("").astype(str),
                "bound held": optional("bound_held", lambda v: f"{v:.2g}"),
                "strong error (mean ± std)": mean_std("strong_error"),
                "pick": table["pick"].map({True: "←", False: ""}),
            }
        )
    low = optional("bound_low", float)
    high = optional("bound_high", float)
    return pd.DataFrame(
        {
            "weak_model": table["weak_model"].astype(str),
            "bound (mean ± std)": mean_std("bound"),
            "95% interval": [
                "" if lo == "" else f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(low, high)
            ],
            "P(lowest)": optional("p_lowest", lambda v: f"{v:.2g}"),
            "vs pick (95%, paired over cases)": _differences(table),
            "verdict": optional("verdict", str),
            "bound held": optional("bound_held", lambda v: f"{v:.2g}"),
            "strong error (mean ± std)": mean_std("strong_error"),
            "n_cases": table["n_cases"].astype(str),
            "pick": table["pick"].map({True: "←", False: ""}),
            "1-SE pick": optional("pick_1se", lambda v: "←" if v else ""),
        }
    )


def _warnings_section(caught: list[dict]) -> list[str]:
    """The run's library warnings, each once with its count.

    Examples
    --------
    >>> _warnings_section([{"category": "UserWarning", "message": "m", "count": 2}])
    ['', '## Warnings raised during the run', '', '- UserWarning (2x): m']
    """
    if not caught:
        return []
    return ["", "## Warnings raised during the run", ""] + [
        f"- {w['category']} ({w['count']}x): {w['message']}" for w in caught
    ]


def _differences(table: pd.DataFrame) -> list[str]:
    """Each weak model's bound minus the pick's, with its paired interval."""
    if "bound_difference" not in table:
        return [""] * len(table)
    return [
        ""
        if pd.isna(d)
        else f"{d:+.4g}"
        if pd.isna(lo)
        else f"{d:+.4g} [{lo:.4g}, {hi:.4g}]"
        for d, lo, hi in zip(
            table["bound_difference"],
            table.get("difference_low", pd.Series(np.nan, index=table.index)),
            table.get("difference_high", pd.Series(np.nan, index=table.index)),
        )
    ]


def slug(text: str) -> str:
    """A file-name-safe version of a panel name.

    Examples
    --------
    >>> slug("hidden=16 / ESOL")
    'hidden-16_ESOL'
    """
    text = re.sub(r"[=\s]+", "-", str(text).strip())
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", text)
    return re.sub(r"-?_-?", "_", text).strip("_-") or "panel"


def dumps(obj: object) -> str:
    """JSON with NaN written as null."""
    return json.dumps(_nan_to_none(obj), indent=2, sort_keys=False)


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {str(k): _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
