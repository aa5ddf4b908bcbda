"""The ensembles reproduction's outputs.

Per-part summaries, verdicts, figures and the report.
"""

from __future__ import annotations

import numpy as np

from ._report import dumps, markdown_table

#: The weak supervisors compared for each problem.
STRATEGIES = ("best single", "uniform", "bound-optimal", "oracle")
#: Random halvings of the eval rows for the cross-fitted strong errors.
N_CROSSFIT = 5
#: A "gain close to the sum of the misfits": at least this fraction of it.
CLOSE_TO_SUM = 0.8


def _part_summary(part, rec, tasks, quick):
    """The comparison of one part and its verdict."""
    by = rec.pivot_table(
        index=["case", "task"], columns="strategy", values="strong_error", sort=False
    )
    mean = {s: float(by[s].mean()) for s in STRATEGIES}
    crossfit = rec.pivot_table(
        index=["case", "task"],
        columns="strategy",
        values="strong_error_crossfit",
        sort=False,
    )
    mean_crossfit = {s: float(crossfit[s].mean()) for s in STRATEGIES}
    bound = rec[rec["strategy"] == "bound-optimal"]
    wins = int((bound["improvement"] > _TIE).sum())
    sig_better = int((bound["improvement_low"] > 0).sum())
    sig_worse = int((bound["improvement_high"] < 0).sum())
    oracle = rec[rec["strategy"] == "oracle"].set_index(["case", "task"])
    bound_i = bound.set_index(["case", "task"])
    room = oracle["improvement"]
    captured = (bound_i["improvement"] / room.where(room > 0)).dropna()
    uniform = rec[rec["strategy"] == "uniform"]
    # the paper's question, per task where there are several
    points = _task_points(tasks, part)
    if len(points):
        gain, mis = points["gain"], points["misfit"]
        sums, best_weak = points["sum_misfits"], points["best_weak_error"]
        strong = points["strong_error"]
        maxm = points["max_misfit"]
        convex = points["bound_form_convex"]
    else:
        gain, mis = bound["gain"], bound["misfit"]
        sums, best_weak = bound["sum_misfits"], bound["best_weak_error"]
        strong = bound["strong_error"]
        maxm = bound["max_misfit"]
        convex = bound["convex"]
    over_best = best_weak - strong
    n = len(bound)
    out = {
        "n_problems": n,
        "mean_strong_error": mean,
        "bound_beats_best_single": wins,
        "bound_significantly_better": sig_better,
        "bound_significantly_worse": sig_worse,
        "bound_worse_than_best_single": int((bound["improvement"] < -_TIE).sum()),
        "uniform_beats_best_single": int((uniform["improvement"] > _TIE).sum()),
        "mean_strong_error_crossfit": mean_crossfit,
        "bound_beats_best_single_crossfit": int(
            (bound["improvement_crossfit"] > _TIE).sum()
        ),
        "bound_worse_than_best_single_crossfit": int(
            (bound["improvement_crossfit"] < -_TIE).sum()
        ),
        "mean_improvement_bound": float(bound["improvement"].mean()),
        "mean_improvement_oracle": float(oracle["improvement"].mean()),
        "median_oracle_captured": float(captured.median()) if len(captured) else None,
        "n_points": int(len(gain)),
        "median_gain_over_misfit": _median_ratio(gain, mis),
        "median_gain_over_sum_misfits": _median_ratio(gain, sums),
        "median_gain_over_best_weak_over_sum_misfits": _median_ratio(over_best, sums),
        "median_max_misfit_over_sum": _median_ratio(maxm, sums),
        "frac_gain_close_to_sum": float(np.mean(gain >= CLOSE_TO_SUM * sums)),
        "frac_gain_over_best_weak_close_to_sum": float(
            np.mean(over_best >= CLOSE_TO_SUM * sums)
        ),
        "frac_bound_form_convex": float(np.mean(convex.astype(bool))),
        "mean_weights_bound": _mean_weights(bound),
    }
    out["text"] = _part_text(part, out)
    if not quick:
        out["verdict"] = _part_verdict(out)
    return out


#: Differences of strong errors below this are ties (the same supervisor).
_TIE = 1e-12


def _task_points(tasks, part):
    """The bound-optimal mixture's rows of the part's multi-task problems."""
    if not len(tasks):
        return tasks
    return tasks[(tasks["part"] == part) & (tasks["strategy"] == "bound-optimal")]


def _median_ratio(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = b > 0
    return float(np.median(a[ok] / b[ok])) if ok.any() else None


def _mean_weights(bound):
    return {f"{r.case} {r.task}": r.weights for r in bound.itertuples()}


def _percent(v):
    return None if v is None else 100 * v


def _fmt(v, spec=".3g"):
    return "n/a" if v is None or not np.isfinite(v) else format(v, spec)


def _part_text(part, s):
    m = s["mean_strong_error"]
    c = s["mean_strong_error_crossfit"]
    return (
        f"{s['n_problems']} problem(s). Mean strong error: best single by bound "
        f"{m['best single']:.4g}, uniform {m['uniform']:.4g}, bound-optimal "
        f"{m['bound-optimal']:.4g}, oracle {m['oracle']:.4g}. The bound-optimal "
        f"mixture has a lower strong error than the best single supervisor in "
        f"{s['bound_beats_best_single']} of {s['n_problems']} and a higher one in "
        f"{s['bound_worse_than_best_single']} (95% paired interval "
        f"above 0 in {s['bound_significantly_better']}, below 0 in "
        f"{s['bound_significantly_worse']}). Chosen on half of the eval rows and "
        f"measured on the other half (cross-fitted, {N_CROSSFIT} random halvings; "
        f"the oracle is then a mixture tuned on labelled rows): best single "
        f"{c['best single']:.4g}, uniform {c['uniform']:.4g}, bound-optimal "
        f"{c['bound-optimal']:.4g}, oracle {c['oracle']:.4g}; the bound-optimal "
        f"mixture is lower than the best single in "
        f"{s['bound_beats_best_single_crossfit']} and higher in "
        f"{s['bound_worse_than_best_single_crossfit']}. On all the eval rows it "
        f"recovers a median "
        f"{_fmt(_percent(s['median_oracle_captured']), '.0f')}% "
        f"of the oracle mixture's improvement. The uniform average beats the best "
        f"single in {s['uniform_beats_best_single']} of {s['n_problems']}. Over "
        f"{s['n_points']} point(s), the bound-optimal mixture's gain is a median "
        f"{_fmt(s['median_gain_over_misfit'])} times its own misfit and "
        f"{_fmt(s['median_gain_over_sum_misfits'])} times the sum of the individual "
        f"misfits (the largest misfit alone is {_fmt(s['median_max_misfit_over_sum'])} "
        f"of that sum); its improvement over the best single weak error is "
        f"{_fmt(s['median_gain_over_best_weak_over_sum_misfits'])} times the sum. "
        f"The gain reaches {100 * CLOSE_TO_SUM:.0f}% of the sum of the misfits for "
        f"{100 * s['frac_gain_close_to_sum']:.0f}% of the points. The bound's form "
        f"is convex for {100 * s['frac_bound_form_convex']:.0f}% of them (otherwise "
        f"indefinite: the exact enumeration of the faces matters)."
    )


def _part_verdict(s):
    m, c = s["mean_strong_error"], s["mean_strong_error_crossfit"]
    better = m["bound-optimal"] < m["best single"]
    better_crossfit = c["bound-optimal"] < c["best single"]
    if better and better_crossfit:
        mixture = (
            "the bound-optimal mixture lowers the mean strong error below the best "
            "single supervisor's, also when its weights are chosen on other rows"
        )
    elif better:
        mixture = (
            "the bound-optimal mixture lowers the mean strong error below the best "
            "single supervisor's on the rows its weights were chosen on, but not "
            "when they are chosen on other rows"
        )
    else:
        mixture = (
            "the bound-optimal mixture does not lower the mean strong error below "
            "the best single supervisor's"
        )
    if s["bound_significantly_worse"]:
        mixture += f" (and is significantly worse in {s['bound_significantly_worse']})"
    close = s["frac_gain_close_to_sum"] >= 0.5
    question = (
        "its gain is close to the sum of the individual misfits"
        if close
        else "its gain is not close to the sum of the individual misfits"
    )
    return f"{mixture}; {question}."


def _overall_verdict(parts):
    """One paragraph over the parts, from their summaries."""

    def which(test):
        names = [p for p, s in parts.items() if test(s)]
        return f"{len(names)} of {len(parts)}" + (
            f" ({', '.join(names)})" if names else ""
        )

    def lower(key):
        return lambda s: s[key]["bound-optimal"] < s[key]["best single"]

    return (
        "Is a mixture of weak supervisors better than the best of them? The "
        "bound-optimal mixture lowers the mean strong error below the best single "
        f"supervisor's on {which(lower('mean_strong_error'))} part(s), and on "
        f"{which(lower('mean_strong_error_crossfit'))} when its weights are chosen "
        "on other rows than those it is measured on. Does its gain come close to the "
        "sum of the individual misfits (the paper's open question)? At least "
        f"{100 * CLOSE_TO_SUM:.0f}% of it for half of the points on "
        f"{which(lambda s: s['frac_gain_close_to_sum'] >= 0.5)} part(s)."
    )


def _closing_lines(summary):
    lines = []
    for part, reason in summary["skipped"].items():
        lines.append(f"{part:>10}: skipped ({reason})")
    for part, s in summary["parts"].items():
        m = s["mean_strong_error"]
        lines.append(
            f"{part:>10}: strong error best single {m['best single']:.4g}  uniform "
            f"{m['uniform']:.4g}  bound-optimal {m['bound-optimal']:.4g}  oracle "
            f"{m['oracle']:.4g} | bound beats best single in "
            f"{s['bound_beats_best_single']}/{s['n_problems']} (cross-fitted "
            f"{s['bound_beats_best_single_crossfit']})  gain/sum of misfits "
            f"{_fmt(s['median_gain_over_sum_misfits'])}"
        )
    return lines


_NOTES = [
    "A mixture of weak supervisors sum_k w_k f_k (w on the simplex) labels the "
    "strong rows; for a strong head linear in its labels (least squares, ridge "
    "with a fixed penalty) its strong model is sum_k w_k s_k, so each diagnostic "
    "is a quadratic form in w (WeakSupervisorSearch(combine='bound')). The "
    "bound-optimal weights minimise weak_error(w) − misfit(w), an indefinite form "
    "in general, exactly over the simplex (every face's KKT system; the KKT "
    "residual and the gap to the best vertex are reported).",
    "Best single: the supervisor with the smallest bound (per task). Oracle: the "
    "mixture with the smallest strong error on the evaluation rows, chosen with "
    "their true labels; it is measured on the rows it was chosen on, so it is an "
    "optimistic reference, not a method.",
    "Selection: every weak supervisor but the uniform one is chosen on the "
    "evaluation rows it is measured on (the bound needs their true labels for the "
    "weak error, as in the paper's tables), and a mixture has K − 1 more degrees "
    "of freedom than a single pick, so its in-sample advantage is optimistic. "
    "`strong_error_crossfit` chooses on one random half of the evaluation rows and "
    "measures on the other (both ways, 5 random halvings): there the oracle is a "
    "legitimate mixture tuned on labelled validation rows.",
    "Intervals: 95% BCa bootstrap over the evaluation rows with the models fixed "
    "(skwtsg.metrics.weak_to_strong_report); `improvement` is the paired "
    "difference of strong errors, best single minus this supervisor (its interval "
    "from the same paired resampling). For the synthetic part the diagnostics are "
    "means over its tasks, each task with its own weights.",
    "Why the gain cannot reach the sum of the misfits for a convex mixture: the "
    "misfit is a convex function of w, so misfit(w) ≤ Σ_k w_k misfit_k ≤ max_k "
    "misfit_k, and for an exact projection (Theorem 1, realizable) the gain over "
    "the mixture's own weak error is close to misfit(w). What a mixture can do is "
    "lower the weak error itself (errors in different directions cancel), which "
    "`gain_over_best_weak` (the best single weak error minus the mixture's strong "
    "error) measures.",
    "Synthetic: panel 2b's tasks (d=8, h* a 5-layer net, 100 tasks) and strong "
    "8-layer net, weak 2-layer nets of hidden width 8, 16 and 32, two "
    "initialisation seeds each, pretrained by eq. (9) with 2b's recipe and "
    "budget; exact least-squares heads. Molecules: the molecules experiment's "
    "cases (its strong ridge head, alpha = 0.3 × n_train; weak transformers of "
    "hidden size 8-96 with least-squares heads). Essays: the essay experiment's "
    "cases and weak models (ridge, leave-one-out penalty per rubric); the strong "
    "head's leave-one-out penalty is not linear in its labels, so each rubric's "
    "penalty is the one it chooses for the uniform mixture's weak labels, then "
    "fixed.",
]


def _write(out, records, tasks, summary):
    out.mkdir(parents=True, exist_ok=True)
    files = []
    path = out / "ensembles.csv"
    records.to_csv(path, index=False)
    files.append(path)
    if len(tasks):
        path = out / "ensembles_tasks.csv"
        tasks.to_csv(path, index=False)
        files.append(path)
    for part in summary["parts"]:
        files.append(_figure(part, records, tasks, out))
    path = out / "summary.json"
    path.write_text(dumps(summary) + "\n", encoding="utf-8")
    files.append(path)
    path = out / "report.md"
    path.write_text(_report(records, summary), encoding="utf-8")
    files.append(path)
    return files


def _figure(part, records, tasks, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rec = records[records["part"] == part]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    problems = list(dict.fromkeys(zip(rec["case"], rec["task"])))
    groups = dict(zip(zip(rec["case"], rec["task"]), rec["group"]))
    colors = dict(zip(STRATEGIES, ("tab:gray", "tab:orange", "tab:blue", "tab:green")))
    width = 0.8 / len(STRATEGIES)
    best = rec[rec["strategy"] == "best single"].set_index(["case", "task"])
    best = best.loc[problems]
    for j, strategy in enumerate(STRATEGIES):
        r = rec[rec["strategy"] == strategy].set_index(["case", "task"]).loc[problems]
        x = np.arange(len(problems)) + (j - 1.5) * width
        scale = best["strong_error"].to_numpy()
        ratio = r["strong_error"].to_numpy() / scale
        # the paired interval of the difference with the best single
        low = 1 - r["improvement_high"].to_numpy() / scale
        high = 1 - r["improvement_low"].to_numpy() / scale
        left.errorbar(
            x,
            ratio,
            yerr=np.vstack([ratio - low, high - ratio]),
            fmt="o",
            ms=4,
            color=colors[strategy],
            label=strategy,
        )
        left.plot(
            x,
            r["strong_error_crossfit"].to_numpy()
            / best["strong_error_crossfit"].to_numpy(),
            "o",
            ms=6,
            mfc="none",
            color=colors[strategy],
        )
    left.axhline(1.0, color="black", lw=0.8)
    left.set_xticks(np.arange(len(problems)))
    labels = {
        "molecules": [f"{groups[c, t]}\n{c}" for c, t in problems],
        "essays": [f"{t}, split {c.rsplit(' ', 1)[-1]}" for c, t in problems],
    }.get(part, [f"{c}\n{t}" for c, t in problems])
    left.set_xticklabels(
        labels, rotation=0 if len(problems) < 5 else 90, fontsize="x-small"
    )
    left.set(
        ylabel="strong error / best single's",
        title=f"{part}: strong error (dots: eval rows, paired 95% CI;\n"
        "circles: cross-fitted)",
    )
    left.title.set_fontsize("medium")
    left.legend(fontsize="small", frameon=False)
    points = _task_points(tasks, part)
    if not len(points):
        points = rec[rec["strategy"] == "bound-optimal"]
    gain = points["gain"].to_numpy()
    right.scatter(points["misfit"], gain, s=12, label="vs its own misfit")
    right.scatter(
        points["sum_misfits"], gain, s=12, marker="x", label="vs the sum of the misfits"
    )
    right.scatter(
        points["sum_misfits"],
        points["best_weak_error"] - points["strong_error"],
        s=12,
        marker="^",
        label="gain over the best single weak error, vs the sum",
    )
    hi = float(np.nanmax(np.r_[points["sum_misfits"], gain, points["misfit"]]) * 1.05)
    lo = float(min(0.0, np.nanmin(np.r_[gain, points["misfit"]])))
    right.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
    right.set(
        xlabel="misfit",
        ylabel="gain of the bound-optimal mixture",
        title=f"{part}: gain against misfit",
    )
    right.legend(fontsize="x-small", frameon=False)
    fig.tight_layout()
    path = out / f"ensembles_{part}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _report(records, summary):
    lines = [
        "# Ensembles of weak supervisors (beyond the paper)",
        "",
        "The paper's open direction (Charikar et al. 2024, §1): ensembling weak "
        'models, "obtaining a gain close to the *sum* of their individual '
        'misfits". Each problem compares four weak supervisors of one strong '
        "model: the best single supervisor by bound, the uniform average, the "
        "mixture with the smallest bound, and the oracle mixture.",
        "",
    ]
    if summary["quick"]:
        lines += ["*Quick sizes: a smoke test, not judged.*", ""]
    for part, reason in summary["skipped"].items():
        lines += [f"**{part}: skipped** ({reason}).", ""]
    columns = [
        "case",
        "task",
        "strategy",
        "strong_error",
        "strong_error_low",
        "strong_error_high",
        "improvement",
        "improvement_low",
        "improvement_high",
        "strong_error_crossfit",
        "weak_error",
        "misfit",
        "gain",
        "bound",
        "sum_misfits",
        "gain_over_best_weak",
        "weights",
    ]
    for part, s in summary["parts"].items():
        rec = records[records["part"] == part]
        lines += [f"## {part}", "", s["text"], ""]
        if "verdict" in s:
            lines += [f"**Verdict:** {s['verdict']}", ""]
        lines += [markdown_table(rec[columns]), ""]
        lines += [f"![{part}](ensembles_{part}.png)", ""]
    verdicts = {p: s.get("verdict") for p, s in summary["parts"].items()}
    if verdicts and all(v is not None for v in verdicts.values()):
        lines += ["## Verdict", "", _overall_verdict(summary["parts"]), ""]
    lines += ["## Notes", ""] + [f"- {n}" for n in _NOTES] + [""]
    lines += [
        f"Run: {summary['wall_seconds']:.1f} s (building the cases "
        f"{summary['prepare_seconds']:.1f} s), seed {summary['random_state']}.",
        "",
    ]
    return "\n".join(lines)
