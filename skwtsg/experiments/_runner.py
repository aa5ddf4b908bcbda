"""One experiment runner for every reproduction: cases in, records and reports out."""

from __future__ import annotations

import inspect
import os
import time
import warnings
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone

from .._classifier import WeakToStrongClassifier
from .._utils._validation import take_rows
from .._w2s import WeakToStrongRegressor
from ._case import Experiment, W2SCase
from ._prefit import _prefit_weak_featurizers, _progress, _threads
from ._report import write_outputs
from ._summary import (
    CLASSIFICATION_EXTRAS,
    DIAGNOSTICS,
    _per_weak_error,
    selection_table,
    summarize_panel,
)

__all__ = ["run_cases", "run_experiment", "theorem2_slack"]


def run_cases(
    cases: Sequence[W2SCase],
    *,
    random_state: int = 0,
    verbose: bool = False,
    n_jobs: int | None = None,
    predictions: dict | None = None,
) -> pd.DataFrame:
    """Fit every (case, weak model) pair and record each task's diagnostics.

    Parameters
    ----------
    cases : sequence of W2SCase
        The problems to run.
    random_state : int, default=0
        Passed to each :class:`~skwtsg.WeakToStrongRegressor` (it only matters
        when a case gives no roles).
    verbose : bool, default=False
        Show a progress bar (tqdm).
    n_jobs : int or None, default=None
        Processes (joblib) fitting the weak featurizers of the cases that
        share their strong fit (``share_strong_fit=True``), before the
        weak-to-strong fits; ``None`` means 1 (in this process). Every fit is
        seeded, so the records do not depend on it.
    predictions : dict or None, default=None
        Filled, for the cases that share their strong fit, with the
        evaluation rows' predictions: ``predictions[(group, name)] = {"y":
        true labels, "weak": {label: predictions}, "strong": {label:
        predictions}}`` (what :func:`selection_table` pairs across splits).

    Returns
    -------
    records : DataFrame
        One row per (case, weak model, task): ``group``, ``case``,
        ``weak_model``, ``task``, the diagnostics on the evaluation rows
        (``weak_error``, ``strong_error``, ``misfit``, ``gain``, ``bound``),
        the same on the strong model's training rows (``train_*``) and
        ``ceiling_error`` (error on the evaluation rows of the strong head fitted
        on the *true* labels of the strong rows: the measured ``epsilon`` of
        Theorem 2, NaN where those rows are unlabeled or there are no
        evaluation rows), ``train_epsilon`` (the same on the strong rows it was
        fitted on), ``train_epsilon_ratio`` (``train_epsilon /
        train_weak_error``; NaN, undefined, for a task whose weak error is
        exactly 0, a perfect weak model), the terms of
        :func:`~skwtsg.metrics.gain_misfit_decomposition` on those rows
        (``train_projection_term`` and ``train_epsilon_term``, which add up
        to ``train_gain - train_misfit``, and ``train_epsilon_bound``),
        ``train_ls_gap`` (:func:`~skwtsg.metrics.least_squares_gap` from the
        strong features, for the exact least-squares head; NaN otherwise),
        ``train_theorem2_slack`` (:func:`theorem2_slack` on those rows:
        non-negative whenever the head is an exact projection onto a convex
        set), ``fit_seconds`` (the fit's wall time shared equally among its
        tasks) and ``ceiling_seconds`` (the same for the measurement of the
        ceiling and of these terms). The cases that share their strong fit
        also carry the search's paired verdict on their evaluation rows
        (:func:`~skwtsg.metrics.paired_bound_differences`, against that
        case's pick): ``paired_difference`` (bound minus the pick's),
        ``paired_low``, ``paired_high`` (its 95% interval) and
        ``paired_verdict``.

    Notes
    -----
    A case with ``share_strong_fit=True`` gives the same records (to
    rounding) with less work: its weak featurizers are fitted first (in
    ``n_jobs`` processes), then one
    :class:`~skwtsg.model_selection.WeakSupervisorSearch` fits its strong
    featurizer once and its strong head once on the weak labels of all its
    weak models (one multi-output problem, when the head fits each output
    on its own), and one ceiling per case. The fitted featurizers are frozen
    and transform a given input once (later calls on equal rows return the
    stored features). A weak featurizer fit found in the case's
    ``weak_fit_cache`` (a ``joblib.Memory`` folder) is loaded instead of
    refitted, and the fits it lacks are stored there. Its ``fit_seconds``
    include its weak featurizer's fit (or load) and an equal share of the
    search.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from skwtsg.experiments import W2SCase, run_cases
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4)); y = X @ rng.normal(size=(4, 2))
    >>> roles = np.repeat(["weak", "strong", "eval"], 100)
    >>> case = W2SCase("demo", X, y, roles, "passthrough", {"pca1": PCA(1)})
    >>> run_cases([case])[["case", "weak_model", "task"]].values.tolist()
    [['demo', 'pca1', 'task0'], ['demo', 'pca1', 'task1']]
    """
    if n_jobs is None:
        n_jobs = 1
    elif isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs < 1:
        # 0 is not "the default": a count of processes of 0 is a mistake
        raise ValueError(f"`n_jobs` must be a positive int or None, got {n_jobs!r}.")
    for case in cases:
        if case.kind not in ("regression", "classification"):
            raise ValueError(
                f"Case {case.name!r} has kind {case.kind!r}; use 'regression' or "
                "'classification'."
            )
    shared = _prefit_weak_featurizers(
        [c for c in cases if c.share_strong_fit], n_jobs=n_jobs, verbose=verbose
    )
    jobs = [
        (case, label, weak)
        for case in cases
        for label, weak in (
            [(None, None)] if case.share_strong_fit else case.weak_featurizers.items()
        )
    ]
    rows = []
    for case, label, weak in _progress(jobs, verbose, "weak-to-strong fits"):
        if case.share_strong_fit:
            rows += _search_case(
                case,
                shared.pop(id(case)),
                random_state=random_state,
                predictions=predictions,
            )
        else:
            rows += _fit_case(case, label, weak, random_state=random_state)
    return pd.DataFrame(rows)


def _fit_case(case, label, weak, *, random_state):
    """Fit one (case, weak model) pair with its estimator; one record per task."""
    estimator = (
        WeakToStrongClassifier
        if case.kind == "classification"
        else WeakToStrongRegressor
    )
    kw = {} if case.ceiling_head is None else {"ceiling_head": case.ceiling_head}
    est = estimator(
        weak_featurizer=clone(weak),
        strong_featurizer=case.strong_featurizer,
        head=case.head,
        weak_head=case.weak_head,
        random_state=random_state,
        **kw,
    )
    threads = case.meta.get("torch_threads")
    start = time.perf_counter()
    with warnings.catch_warnings(), _threads(threads):
        if case.meta.get("nonconvex_head"):
            # the case studies a non-convex head on purpose (appendix D)
            warnings.filterwarnings("ignore", message=".*Theorem 1.*not apply")
        est.fit(case.X, case.y, roles=case.roles)
    seconds = time.perf_counter() - start
    evals = {k: np.atleast_1d(getattr(est, k + "_")) for k in DIAGNOSTICS}
    trains = {k: np.atleast_1d(est.train_report_[k]) for k in DIAGNOSTICS}
    start = time.perf_counter()
    if case.kind == "classification":
        # KL or log-loss errors: Theorem 2's squared-loss form does not apply.
        for k in CLASSIFICATION_EXTRAS:
            evals[k] = np.atleast_1d(getattr(est, k + "_"))
            trains[k] = np.atleast_1d(est.train_report_[k])
        with _threads(threads):
            ceiling_eval, epsilon = _classification_ceiling(est, case)
        evals["ceiling_error"] = np.atleast_1d(ceiling_eval)
        trains["epsilon"] = np.atleast_1d(epsilon)
        if case.meta.get("confidence_level") is not None:
            with _threads(threads):
                extra = _classification_intervals(est, case, random_state)
            rows = _records(
                case, label, evals, trains, seconds, time.perf_counter() - start
            )
            return [{**row, **extra} for row in rows]
    else:
        with _threads(threads):
            X_strong = take_rows(case.X, _strong_rows(est.roles_))
            Z = est.strong_featurizer_.transform(X_strong)
            ceiling_eval, terms = _ceiling(
                case,
                est.roles_,
                est.strong_featurizer_,
                Z,
                est.predict_weak(X_strong),
                est.head_.predict(Z),
                clone(est.head_),
            )
        evals["ceiling_error"] = ceiling_eval
        trains.update(terms)
    return _records(case, label, evals, trains, seconds, time.perf_counter() - start)


def _search_case(case, weak_fits, *, random_state=0, predictions=None):
    """Every weak model of a case on its one strong fit (WeakSupervisorSearch).

    The weak featurizers were fitted beforehand (``weak_fits``: label to
    fitted featurizer and seconds); the strong featurizer is fitted here
    once; each transforms an input once (:class:`FrozenTransformMemo`), so
    the ceiling's and the records' predictions reuse the fit's features.
    ``random_state`` seeds the paired bootstrap; ``predictions`` (a dict or
    None) receives the evaluation rows' predictions (see :func:`run_cases`).
    """
    from .._utils._cache import FrozenTransformMemo
    from ..heads import LeastSquaresHead
    from ..model_selection import WeakSupervisorSearch

    threads = case.meta.get("torch_threads")
    head = case.head if case.head is not None else LeastSquaresHead()
    weak_head = case.weak_head if case.weak_head is not None else head
    strong_rows = _strong_rows(case.roles)
    X_strong = take_rows(case.X, strong_rows)
    frozen = {k: FrozenTransformMemo(f) for k, (f, _) in weak_fits.items()}
    start = time.perf_counter()
    with _threads(threads):
        strong = case.strong_featurizer
        if not (isinstance(strong, str) and strong == "passthrough"):
            strong = FrozenTransformMemo(clone(strong).fit(X_strong))
        search = WeakSupervisorSearch(
            {k: (f, weak_head) for k, f in frozen.items()},
            strong,
            head=head,
            random_state=random_state,
        ).fit(case.X, case.y, roles=case.roles)
    share = (time.perf_counter() - start) / len(frozen)
    rows = []
    ceiling = clone(head)
    eval_rows = np.flatnonzero(np.asarray(case.roles) == "eval")
    X_eval = take_rows(case.X, eval_rows) if len(eval_rows) else None
    kept: dict = {"y": np.asarray(case.y, float)[eval_rows], "weak": {}, "strong": {}}
    paired = _PAIRED_COLUMNS if "verdict" in search.results_ else {}
    stacked: dict = {}

    def strong_outputs(X, label):
        # search.predict(X, label), the stacked head applied once per input
        head = search.strong_heads_[label]
        key = (id(head), id(X))
        if key not in stacked:
            Z = search.strong_featurizer_.transform(X)
            stacked[key] = np.asarray(head.predict(Z)).reshape(len(Z), -1)
        out = stacked[key][:, search.output_columns_[label]]
        return out.ravel() if np.ndim(case.y) == 1 else out

    for label in frozen:
        start = time.perf_counter()
        evals = {k: np.atleast_1d(search.reports_[label][k]) for k in DIAGNOSTICS}
        trains = {
            k: np.atleast_1d(search.train_reports_[label][k]) for k in DIAGNOSTICS
        }
        with _threads(threads):
            Z = search.strong_featurizer_.transform(X_strong)
            ceiling_eval, terms = _ceiling(
                case,
                search.roles_,
                search.strong_featurizer_,
                Z,
                search.predict_weak(X_strong, label),
                strong_outputs(X_strong, label),
                ceiling,
            )
        evals["ceiling_error"] = ceiling_eval
        trains.update(terms)
        if X_eval is not None:
            with _threads(threads):
                kept["weak"][label] = search.predict_weak(X_eval, label)
                kept["strong"][label] = strong_outputs(X_eval, label)
        seconds = weak_fits[label][1] + share
        new = _records(case, label, evals, trains, seconds, time.perf_counter() - start)
        for row in new:
            row.update({k: search.results_.loc[label, c] for k, c in paired.items()})
        rows += new
        frozen[label].clear_memo()  # its fit is recorded
    if predictions is not None and X_eval is not None:
        predictions[case.group, case.name] = kept
    return rows


#: The search's paired verdict (its ``results_`` columns) in the records.
_PAIRED_COLUMNS = {
    "paired_difference": "bound_difference",
    "paired_low": "difference_low",
    "paired_high": "difference_high",
    "paired_verdict": "verdict",
}


def _records(case, label, evals, trains, seconds, ceiling_seconds):
    """One record per task of a (case, weak model) pair."""
    n_tasks = len(evals["misfit"])
    names = case.task_names or [f"task{i}" for i in range(n_tasks)]
    if len(names) != n_tasks:
        raise ValueError(
            f"Case {case.name!r} names {len(names)} tasks but y has {n_tasks}."
        )
    if case.kind != "classification":
        trains["epsilon_ratio"] = _per_weak_error(
            trains["epsilon"], trains["weak_error"]
        )
        trains["theorem2_slack"] = theorem2_slack(
            trains["weak_error"],
            trains["strong_error"],
            trains["misfit"],
            trains["epsilon"],
        )
    rows = []
    for t, task in enumerate(names):
        row = {
            "group": case.group,
            "case": case.name,
            "weak_model": label,
            "task": task,
        }
        row.update({k: float(v[t]) for k, v in evals.items()})
        row.update({f"train_{k}": float(v[t]) for k, v in trains.items()})
        row["fit_seconds"] = seconds / n_tasks
        row["ceiling_seconds"] = ceiling_seconds / n_tasks
        rows.append(row)
    return rows


def _strong_rows(roles):
    return np.flatnonzero(np.isin(np.asarray(roles), ("strong", "both")))


def run_experiment(
    experiment: Experiment,
    *,
    out: str | os.PathLike | None = None,
    quick: bool = False,
    random_state: int = 0,
    verbose: bool = True,
    **options,
) -> dict:
    """Build the cases of an experiment, run them and write every output.

    Parameters
    ----------
    experiment : Experiment
        The configuration.
    out : str or path-like, default=None
        Output folder (created). ``None`` writes nothing.
    quick : bool, default=False
        Small sizes (for tests and gallery examples).
    random_state : int, default=0
        Seed of everything random.
    verbose : bool, default=True
        Progress bars and a closing summary line.
    **options
        Passed to ``experiment.make_cases``.

    Returns
    -------
    result : dict
        ``records`` (DataFrame), ``summary`` (dict, as in ``summary.json``,
        with the times in seconds: ``prepare_seconds`` building the cases
        and representations, ``fit_seconds`` and ``ceiling_seconds`` summed
        over the fits, ``compute_seconds`` of everything before the outputs,
        ``output_seconds`` writing them and ``wall_seconds`` of the whole
        run, the figure the console and the report print) and
        ``library_warnings`` (the warnings raised during the run, each once
        with its count: written to ``report.md`` instead of the terminal,
        and kept here when nothing is written),
        and ``files`` (paths written).
    """
    start = time.perf_counter()
    # The library's warnings go to the report (counted once each), not to
    # the terminal: a quick run's expected ones would bury its summary.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "verbose" in inspect.signature(experiment.make_cases).parameters:
            options_ = {**options, "verbose": verbose}
        else:
            options_ = options
        cases = experiment.make_cases(
            quick=quick, random_state=random_state, **options_
        )
        prepared = time.perf_counter() - start
        predictions: dict = {}
        records = run_cases(
            cases,
            random_state=random_state,
            verbose=verbose,
            n_jobs=experiment.n_jobs,
            predictions=predictions,
        )
        claims = experiment.claims
        records["panel"] = records[experiment.panel_by].astype(str)
        summary: dict = {
            "experiment": experiment.name,
            "quick": bool(quick),
            "random_state": random_state,
            "options": {k: _jsonable(v) for k, v in options.items()},
            "panels": {},
        }
        for panel, rec in records.groupby("panel", sort=False):
            info = summarize_panel(rec)
            if experiment.selection:
                paired = [
                    predictions[key]
                    for key in dict.fromkeys(zip(rec["group"], rec["case"]))
                    if key in predictions
                ]
                table, sel = selection_table(rec, predictions=paired or None)
                info["selection"] = sel
                info["selection_table"] = table.reset_index().to_dict(orient="records")
            meta = [c.meta for c in cases if _panel_of(c, experiment) == panel]
            if meta and "prepare_seconds" in meta[0]:
                info["prepare_seconds"] = float(sum(m["prepare_seconds"] for m in meta))
            marks = [w for m in meta for w in m.get("warnings", [])]
            if marks:
                info["warnings"] = list(dict.fromkeys(marks))
            if panel in experiment.panel_summaries:
                info.update(experiment.panel_summaries[panel](rec))
            claim = claims.get(panel)
            if claim and "check" in claim and not quick:
                ok, text = claim["check"](info)
                info["agrees_with_paper"] = bool(ok)
                info["verdict"] = text
            summary["panels"][panel] = info
        if experiment.conclude is not None:
            conclusion = dict(experiment.conclude(records))
            if quick:  # quick sizes are not judged
                conclusion.pop("agrees", None)
                conclusion.pop("verdict", None)
            summary["conclusion"] = conclusion
        preparation = [c.meta["preparation"] for c in cases if "preparation" in c.meta]
        if preparation:  # shared by the cases (e.g. pretrained weak models)
            summary["preparation"] = preparation[0]
        summary["prepare_seconds"] = prepared
        summary["fit_seconds"] = float(records["fit_seconds"].sum())
        summary["ceiling_seconds"] = float(records["ceiling_seconds"].sum())
        summary["compute_seconds"] = time.perf_counter() - start

        def finish() -> None:  # the whole run, as the console says it
            summary["wall_seconds"] = time.perf_counter() - start
            summary["library_warnings"] = tally_warnings(caught)

        files = []
        if out is not None:
            written = time.perf_counter()
            files = write_outputs(
                experiment, records, summary, Path(out), before_report=finish
            )
            summary["output_seconds"] = time.perf_counter() - written
        else:
            finish()
    if verbose:
        n_warnings = sum(w["count"] for w in summary["library_warnings"])
        print(
            f"{experiment.name}: {len(records)} task records in "
            f"{summary['wall_seconds']:.1f} s"
            + (f"; outputs in {out}" if out is not None else "")
            + (
                f"; {n_warnings} library warnings recorded in "
                + ("report.md" if out is not None else "summary['library_warnings']")
                if n_warnings
                else ""
            )
        )
    return {"records": records, "summary": summary, "files": files}


def tally_warnings(caught: list) -> list[dict]:
    """Distinct warnings, in order of first appearance, with their counts.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for _ in range(3):
    ...         warnings.warn("not trained", UserWarning)
    >>> tally_warnings(caught)
    [{'category': 'UserWarning', 'message': 'not trained', 'count': 3}]
    """
    counts: dict[tuple[str, str], int] = {}
    for w in caught:
        key = (w.category.__name__, " ".join(str(w.message).split()))
        counts[key] = counts.get(key, 0) + 1
    return [{"category": c, "message": m, "count": n} for (c, m), n in counts.items()]


def _ceiling(case, roles, strong_featurizer, Z, y_weak, y_strong, ceiling):
    """The strong head trained on true labels: Theorem 2's epsilon, measured.

    ``Z`` are the strong features of the strong rows, ``y_weak`` and
    ``y_strong`` the weak and strong models' predictions there, ``ceiling``
    an unfitted strong head (or one already fitted on exactly these rows:
    fitting it again gives the same fit). Returns the ceiling's error on the
    evaluation rows, and on the strong rows it was trained on the terms of
    :func:`~skwtsg.metrics.gain_misfit_decomposition` (``epsilon``: the
    distance from the truth to the strong model's set on those rows;
    ``projection_term`` and ``epsilon_term``, which add up to gain - misfit
    there; ``epsilon_bound``) and, for the exact least-squares head,
    ``ls_gap`` (:func:`~skwtsg.metrics.least_squares_gap`, computed from the
    strong features independently of the head). Only the experiment's report
    uses these labels: the weak-to-strong model itself never sees them.
    """
    from ..heads import LeastSquaresHead
    from ..metrics import gain_misfit_decomposition, least_squares_gap

    strong = _strong_rows(roles)
    evals = np.flatnonzero(np.asarray(roles) == "eval")
    y = np.asarray(case.y, dtype=float)
    n_tasks = 1 if y.ndim == 1 else y.shape[1]
    nan = np.full(n_tasks, np.nan)
    keys = ("epsilon", "projection_term", "epsilon_term", "epsilon_bound", "ls_gap")
    if np.isnan(y[strong]).any():
        return nan, dict.fromkeys(keys, nan)
    if not hasattr(ceiling, "n_features_in_"):
        ceiling.fit(Z, y[strong])

    def predict(model, Z_rows):
        return np.asarray(model.predict(Z_rows)).reshape(len(Z_rows), -1)

    y_true = y[strong].reshape(len(strong), -1)
    y_weak = np.asarray(y_weak).reshape(y_true.shape)
    terms = gain_misfit_decomposition(
        y_true,
        y_weak,
        np.asarray(y_strong).reshape(y_true.shape),
        predict(ceiling, Z),
        multioutput="raw_values",
    )
    train = {k: np.atleast_1d(terms[k]) for k in keys[:-1]}
    train["ls_gap"] = nan
    head = case.head if case.head is not None else LeastSquaresHead()
    if type(head) is LeastSquaresHead:
        train["ls_gap"] = least_squares_gap(
            Z,
            y_true,
            y_weak,
            fit_intercept=head.fit_intercept,
            multioutput="raw_values",
        )
    if not len(evals):
        return nan, train
    Z_eval = strong_featurizer.transform(take_rows(case.X, evals))
    y_eval = y[evals].reshape(len(evals), -1)
    return ((predict(ceiling, Z_eval) - y_eval) ** 2).mean(axis=0), train


def _classification_ceiling(est, case):
    """The classifier's ceiling (strong head on true labels): its error.

    On the evaluation rows and on the strong rows it was fitted on (the
    measured distance from the truth to the strong model's set in KL, or its
    log-loss with hard labels); NaN without a ceiling.
    """
    from ..metrics import kl_error

    nan = float("nan")
    if est.ceiling_head_ is None:
        return nan, nan
    roles = est.roles_
    y = case.y

    def error(rows):
        P = est.predict_ceiling_proba(take_rows(case.X, rows))
        return kl_error(take_rows(y, rows), P, labels=est.classes_)

    strong = np.flatnonzero(np.isin(roles, ("strong", "both")))
    evals = np.flatnonzero(roles == "eval")
    return (error(evals) if len(evals) else nan), error(strong)


def _classification_intervals(est, case, random_state):
    """The paired bootstrap intervals of the report on the evaluation rows,
    flattened for a record (``<name>_low``, ``<name>_high``)."""
    from ..metrics import weak_to_strong_classification_report

    evals = np.flatnonzero(est.roles_ == "eval")
    if not len(evals) or est.ceiling_head_ is None:
        return {}
    X = take_rows(case.X, evals)
    report = weak_to_strong_classification_report(
        take_rows(case.y, evals),
        est.predict_weak_proba(X),
        est.predict_proba(X),
        p_ceiling=est.predict_ceiling_proba(X),
        labels=est.classes_,
        confidence_level=case.meta["confidence_level"],
        n_resamples=case.meta.get("n_resamples", 9999),
        random_state=random_state,
    )
    out = {}
    for name, value in report.items():
        if name.endswith("_ci"):
            out[name[:-3] + "_low"], out[name[:-3] + "_high"] = value
        elif name == "pgr" or name.endswith(("_unstable", "_message", "_gap")):
            out[name] = value
    return out


def theorem2_slack(
    weak_error: ArrayLike,
    strong_error: ArrayLike,
    misfit: ArrayLike,
    epsilon: ArrayLike,
) -> np.ndarray:
    """Slack of Theorem 2's deterministic finite-sample form (>= 0 when it holds).

    With ``p`` the projection of the truth onto the strong model's convex set
    and ``epsilon = ||p - y*||^2``, Pythagoras at ``p`` and two triangle
    inequalities give, for the exact head,
    ``sqrt(strong_error) <= sqrt(max(0, (sqrt(weak_error) + sqrt(epsilon))^2
    - misfit)) + sqrt(epsilon)``. The slack is the right side minus the left.

    Parameters
    ----------
    weak_error, strong_error, misfit, epsilon : array-like
        Measured on the same rows (those the strong head was fitted on).

    Returns
    -------
    slack : ndarray

    Examples
    --------
    >>> float(theorem2_slack(4.0, 1.0, 3.0, 0.0))  # realizable: Pythagoras
    0.0
    """
    weak_error, strong_error, misfit, epsilon = (
        np.asarray(a, dtype=float) for a in (weak_error, strong_error, misfit, epsilon)
    )
    root_eps = np.sqrt(np.maximum(epsilon, 0.0))
    inner = np.maximum((np.sqrt(weak_error) + root_eps) ** 2 - misfit, 0.0)
    return np.sqrt(inner) + root_eps - np.sqrt(np.maximum(strong_error, 0.0))


def _panel_of(case, experiment):
    return case.group if experiment.panel_by == "group" else None


def _jsonable(v):
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)
