"""One experiment runner for every reproduction: cases in, records and reports out."""

from __future__ import annotations

import contextlib
import inspect
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin, clone

from .._backends._common import _make_featurizer
from .._classifier import WeakToStrongClassifier
from .._utils._validation import take_rows
from .._w2s import WeakToStrongRegressor
from ._case import Experiment, W2SCase
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
        ceiling and of these terms).

    Notes
    -----
    A case with ``share_strong_fit=True`` gives the same records (to
    rounding) with less work: its weak featurizers are fitted first (in
    ``n_jobs`` processes), its strong featurizer once, and its strong head
    once on the weak labels of all its weak models and the true labels of
    the strong rows (the ceiling), as one multi-output problem (one fit per
    weak model and one for the ceiling when the head chooses one penalty
    for all its targets, ``alpha_per_target=False``); each weak head is
    fitted once. Each weak-to-strong fit then receives the fitted
    featurizers (frozen, each transforming a given input once: later calls
    on equal rows return the stored features), its weak head and its
    columns of the strong solution, which it keeps only when it would fit
    exactly those features and labels. A weak featurizer fit found in the
    case's ``weak_fit_cache`` (a ``joblib.Memory`` folder) is loaded instead
    of refitted, and the fits it lacks are stored there. Its
    ``fit_seconds`` include its weak featurizer's fit (or load) and an
    equal share of the shared strong fit.

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
        for label, weak in case.weak_featurizers.items()
    ]
    strong_fits: dict = {}
    rows = []
    for case, label, weak in _progress(jobs, verbose, "weak-to-strong fits"):
        plan = {"weak": weak}
        if case.share_strong_fit:
            if id(case) not in strong_fits:  # the previous case's memos go
                strong_fits = {id(case): _SharedStrongFit(case, shared[id(case)])}
            plan = strong_fits[id(case)].plan(label)
        rows += _fit_case(case, label, random_state=random_state, **plan)
        if case.share_strong_fit:
            strong_fits[id(case)].done(label)
    return pd.DataFrame(rows)


def _fit_case(
    case,
    label,
    *,
    weak,
    random_state,
    head=None,
    weak_head=None,
    strong_featurizer=None,
    ceiling=None,
    extra_seconds=0.0,
):
    """Fit one (case, weak model) pair; one record per task.

    ``weak`` is cloned (a :class:`~sklearn.frozen.FrozenEstimator` stays
    fitted); ``head`` replaces ``case.head`` and ``ceiling`` the strong head
    refitted on the true labels (both :class:`_SharedColumns` from a shared
    strong fit); ``extra_seconds`` (a share of the work done before) is
    added to the fit's time.
    """
    estimator = (
        WeakToStrongClassifier
        if case.kind == "classification"
        else WeakToStrongRegressor
    )
    est = estimator(
        weak_featurizer=clone(weak),
        strong_featurizer=(
            case.strong_featurizer if strong_featurizer is None else strong_featurizer
        ),
        head=case.head if head is None else head,
        weak_head=case.weak_head if weak_head is None else weak_head,
        random_state=random_state,
    )
    threads = case.meta.get("torch_threads")
    start = time.perf_counter()
    with warnings.catch_warnings(), _threads(threads):
        if case.meta.get("nonconvex_head"):
            # the case studies a non-convex head on purpose (appendix D)
            warnings.filterwarnings("ignore", message=".*Theorem 1.*not apply")
        est.fit(case.X, case.y, roles=case.roles)
    seconds = time.perf_counter() - start + extra_seconds
    n_tasks = np.size(est.misfit_)
    names = case.task_names or [f"task{i}" for i in range(n_tasks)]
    if len(names) != n_tasks:
        raise ValueError(
            f"Case {case.name!r} names {len(names)} tasks but y has {n_tasks}."
        )
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
    else:
        with _threads(threads):
            ceiling_eval, train_terms = _ceiling(est, case, ceiling)
        evals["ceiling_error"] = ceiling_eval
        trains.update(train_terms)
        trains["epsilon_ratio"] = _per_weak_error(
            trains["epsilon"], trains["weak_error"]
        )
        trains["theorem2_slack"] = theorem2_slack(
            trains["weak_error"],
            trains["strong_error"],
            trains["misfit"],
            trains["epsilon"],
        )
    ceiling_seconds = time.perf_counter() - start
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
        over the fits, ``wall_seconds`` of everything before the outputs and,
        once they are written, ``output_seconds``) and ``files`` (paths
        written).
    """
    start = time.perf_counter()
    if "verbose" in inspect.signature(experiment.make_cases).parameters:
        options_ = {**options, "verbose": verbose}
    else:
        options_ = options
    cases = experiment.make_cases(quick=quick, random_state=random_state, **options_)
    prepared = time.perf_counter() - start
    records = run_cases(
        cases, random_state=random_state, verbose=verbose, n_jobs=experiment.n_jobs
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
            table, sel = selection_table(rec)
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
    summary["prepare_seconds"] = prepared
    summary["fit_seconds"] = float(records["fit_seconds"].sum())
    summary["ceiling_seconds"] = float(records["ceiling_seconds"].sum())
    summary["wall_seconds"] = time.perf_counter() - start
    files = []
    if out is not None:
        written = time.perf_counter()
        files = write_outputs(experiment, records, summary, Path(out))
        summary["output_seconds"] = time.perf_counter() - written
    if verbose:
        print(
            f"{experiment.name}: {len(records)} task records in "
            f"{summary['wall_seconds'] + summary.get('output_seconds', 0.0):.1f} s"
            + (f"; outputs in {out}" if out is not None else "")
        )
    return {"records": records, "summary": summary, "files": files}


def _ceiling(est, case, ceiling_head=None):
    """The strong head trained on true labels: Theorem 2's epsilon, measured.

    Returns its error on the evaluation rows, and on the strong rows it was
    trained on the terms of :func:`~skwtsg.metrics.gain_misfit_decomposition`
    (``epsilon``: the distance from the truth to the strong model's set on
    those rows; ``projection_term`` and ``epsilon_term``, which add up to
    gain - misfit there; ``epsilon_bound``) and, for the exact least-squares
    head, ``ls_gap`` (:func:`~skwtsg.metrics.least_squares_gap`, computed
    from the strong features independently of the head). Only the
    experiment's report uses these labels: the weak-to-strong model itself
    never sees them. ``ceiling_head`` (unfitted, or a :class:`_SharedColumns`)
    replaces a clone of the fitted strong head.
    """
    from ..heads import LeastSquaresHead
    from ..metrics import gain_misfit_decomposition, least_squares_gap

    roles = est.roles_
    strong = np.flatnonzero(np.isin(roles, ("strong", "both")))
    evals = np.flatnonzero(roles == "eval")
    y = np.asarray(case.y, dtype=float)
    n_tasks = np.size(est.misfit_)
    nan = np.full(n_tasks, np.nan)
    keys = ("epsilon", "projection_term", "epsilon_term", "epsilon_bound", "ls_gap")
    if np.isnan(y[strong]).any():
        return nan, dict.fromkeys(keys, nan)
    X_strong = take_rows(case.X, strong)
    Z = est.strong_featurizer_.transform(X_strong)
    if ceiling_head is None:
        ceiling_head = clone(est.head_)
    ceiling = ceiling_head.fit(Z, y[strong])

    def predict(model, Z_rows):
        return np.asarray(model.predict(Z_rows)).reshape(len(Z_rows), -1)

    y_strong = y[strong].reshape(len(strong), -1)
    y_weak = np.asarray(est.predict_weak(X_strong)).reshape(y_strong.shape)
    terms = gain_misfit_decomposition(
        y_strong,
        y_weak,
        predict(est.head_, Z),
        predict(ceiling, Z),
        multioutput="raw_values",
    )
    train = {k: np.atleast_1d(terms[k]) for k in keys[:-1]}
    train["ls_gap"] = nan
    head = case.head if case.head is not None else LeastSquaresHead()  # est.head_
    if type(head) is LeastSquaresHead:
        train["ls_gap"] = least_squares_gap(
            Z,
            y_strong,
            y_weak,
            fit_intercept=head.fit_intercept,
            multioutput="raw_values",
        )
    if not len(evals):
        return nan, train
    Z_eval = est.strong_featurizer_.transform(take_rows(case.X, evals))
    y_eval = y[evals].reshape(len(evals), -1)
    return ((predict(ceiling, Z_eval) - y_eval) ** 2).mean(axis=0), train


def _prefit_weak_featurizers(cases, *, n_jobs, verbose):
    """Fit the weak featurizers of ``cases`` on their weak rows (true labels).

    Exactly the fit :class:`~skwtsg.WeakToStrongRegressor` makes (a clone,
    ``fit`` on the ``"weak"`` and ``"both"`` rows with their labels), in
    ``n_jobs`` processes, the largest first (rows times ``hidden_size``, a
    proxy of the cost) so that the processes finish together; a fit found
    in its case's ``weak_fit_cache`` is loaded here instead. Returns, per
    case (by ``id``), a dict of label to ``(fitted featurizer, seconds)``
    (the fit's, or the load's).
    """
    tasks = []
    for case in cases:
        if case.kind != "regression" or case.roles is None:
            raise ValueError(
                f"Case {case.name!r}: share_strong_fit needs a regression case "
                "with explicit roles."
            )
        weak_rows = np.flatnonzero(np.isin(case.roles, ("weak", "both")))
        X_weak = take_rows(case.X, weak_rows)
        y_weak = np.asarray(case.y, dtype=float)[weak_rows]
        fit = _cached_weak_fit(case.weak_fit_cache)
        for label, weak in case.weak_featurizers.items():
            args = (weak, X_weak, y_weak, case.meta.get("torch_threads"))
            if case.weak_fit_cache is not None:
                args += (_weak_fit_fingerprint(weak),)
            tasks.append((id(case), label, fit, args))
    if not tasks:
        return {}
    from joblib import Parallel, delayed

    results: list = [None] * len(tasks)
    todo = []
    for i, (_, _, fit, args) in enumerate(tasks):
        if hasattr(fit, "check_call_in_cache") and fit.check_call_in_cache(*args):
            start = time.perf_counter()
            fitted = fit(*args)  # a load
            results[i] = (fitted, time.perf_counter() - start)
        else:
            todo.append(i)
    todo.sort(key=lambda i: -_fit_cost(*tasks[i][3][:2]))
    fitted = Parallel(n_jobs=n_jobs or 1, batch_size=1)(
        delayed(_timed)(tasks[i][2], *tasks[i][3])
        for i in _progress(todo, verbose, "weak featurizers")
    )
    for i, result in zip(todo, fitted):
        results[i] = result
    out: dict = {}
    for (key, label, *_), result in zip(tasks, results):
        out.setdefault(key, {})[label] = result
    return out


def _fit_weak_featurizer(weak, X, y, threads, fingerprint=None):
    """``clone(weak).fit(X, y)`` with ``threads`` torch threads.

    ``fingerprint`` (:func:`_weak_fit_fingerprint`) is not used: it is
    part of the persistent cache's key.
    """
    with _threads(threads):
        return clone(weak).fit(X, y)


def _timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def _cached_weak_fit(location):
    """:func:`_fit_weak_featurizer`, cached in ``location`` (None: not)."""
    if location is None:
        return _fit_weak_featurizer
    from .._utils._cache import fit_memory

    return fit_memory(location).cache(_fit_weak_featurizer)


def _weak_fit_fingerprint(weak):
    """The cache key's part beyond the arguments: versions and source files."""
    from .._utils import _torch
    from .._utils._cache import code_fingerprint

    # the training loop (imported lazily by the featurizers)
    return code_fingerprint(type(weak), _torch.__file__)


def _fit_cost(weak, X):
    """A proxy of a weak featurizer fit's cost, to dispatch the largest first."""
    size = getattr(weak, "hidden_size", None)
    return _num_rows(X) * (size if isinstance(size, int) and size > 0 else 1)


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


class _SharedStrongFit:
    """One multi-output fit of a case's strong head for all its weak models.

    The strong featurizer is fitted once on the strong rows (it must not use
    its ``y``, which is what ``share_strong_fit`` declares) and the strong
    head once on the weak labels of every weak model and the true labels
    (the ceiling) as columns of one target matrix: one factorisation instead
    of one per weak model and one per ceiling. A head that couples its
    target columns (one penalty chosen for all of them: ``alpha_per_target=
    False``, see :func:`_fits_columns_separately`) is instead fitted once per
    weak model and once for the ceiling, each on its own columns, so that it
    still gives the separate fits. Each weak head is fitted once, here, and
    handed to its weak-to-strong fit as a :class:`_SharedColumns` (kept when
    that fit sees the same features and labels).
    """

    def __init__(self, case, weak_fits):
        from .._backends._common import _warn_if_underdetermined
        from .._utils._cache import FrozenTransformMemo
        from ..heads import LeastSquaresHead

        start = time.perf_counter()
        roles = np.asarray(case.roles)
        weak_rows = np.flatnonzero(np.isin(roles, ("weak", "both")))
        strong_rows = np.flatnonzero(np.isin(roles, ("strong", "both")))
        y = np.asarray(case.y, dtype=float)
        head = case.head if case.head is not None else LeastSquaresHead()
        weak_head = case.weak_head if case.weak_head is not None else head
        X_weak = take_rows(case.X, weak_rows)
        X_strong = take_rows(case.X, strong_rows)
        threads = case.meta.get("torch_threads")
        # Frozen, and each transforms an input once (the fits below and the
        # weak-to-strong fits and ceilings of this case make the same calls).
        self.frozen = {k: FrozenTransformMemo(f) for k, (f, _) in weak_fits.items()}
        labels = {}
        self.weak_heads = {}
        with _threads(threads):
            for label, featurizer in self.frozen.items():
                # The weak labels as the estimator makes them (same calls).
                Z_weak = np.asarray(featurizer.transform(X_weak))
                _warn_if_underdetermined(weak_head, Z_weak, "weak_head", "weak")
                fitted = clone(weak_head).fit(Z_weak, y[weak_rows])
                self.weak_heads[label] = _SharedColumns(
                    fitted, slice(None), Z_weak, y[weak_rows]
                )
                if np.array_equal(strong_rows, weak_rows):
                    pred = fitted.predict(Z_weak)
                else:
                    pred = fitted.predict(np.asarray(featurizer.transform(X_strong)))
                labels[label] = np.asarray(pred, dtype=np.float64).reshape(
                    y[strong_rows].shape
                )
            strong = _make_featurizer(case.strong_featurizer).fit(X_strong)
            self.strong = FrozenTransformMemo(strong)
            Z = np.asarray(self.strong.transform(X_strong))
            truth = y[strong_rows]
            blocks = [labels[k].reshape(len(strong_rows), -1) for k in labels]
            labeled = not np.isnan(truth).any()  # else no ceiling (see _ceiling)
            if labeled:
                blocks.append(truth.reshape(len(strong_rows), -1))
            width = blocks[0].shape[1]
            if _fits_columns_separately(head):
                stacked = clone(head).fit(Z, np.hstack(blocks))
                fits = [
                    (stacked, np.arange(i * width, (i + 1) * width))
                    for i in range(len(blocks))
                ]
            else:
                fits = [(clone(head).fit(Z, b), np.arange(width)) for b in blocks]
        self.weak_fits = weak_fits
        self.columns = {
            label: _SharedColumns(*fits[i], Z, y)
            for i, (label, y) in enumerate(labels.items())
        }
        n = len(labels)
        self.ceiling = _SharedColumns(*fits[n], Z, truth) if labeled else None
        self.seconds = (time.perf_counter() - start) / max(1, n)

    def plan(self, label):
        """Keywords of :func:`_fit_case` for the weak model ``label``."""
        return {
            "weak": self.frozen[label],
            "head": self.columns[label],
            "weak_head": self.weak_heads[label],
            "ceiling": self.ceiling,
            "strong_featurizer": self.strong,
            "extra_seconds": self.weak_fits[label][1] + self.seconds,
        }

    def done(self, label):
        """Drop the weak model ``label``'s transforms (its fit is recorded)."""
        self.frozen[label].clear_memo()


def _fits_columns_separately(head):
    """Whether ``head`` fits each target column as it would fit it alone.

    True for the exact linear heads; False when some parameter
    ``alpha_per_target`` (:class:`~skwtsg.heads.RidgeLOOHead`,
    :class:`~sklearn.linear_model.RidgeCV`, also inside a pipeline) is False:
    one penalty is then chosen for all the columns, from their mean
    leave-one-out error, and stacking the label sets of several weak models
    would change it.
    """
    params = head.get_params(deep=True) if hasattr(head, "get_params") else {}
    return not any(
        key.rsplit("__", 1)[-1] == "alpha_per_target" and value is False
        for key, value in params.items()
    )


class _SharedColumns(RegressorMixin, BaseEstimator):
    """Some output columns of a fitted multi-output head, as a fitted head.

    ``columns`` indexes the head's output columns (``slice(None)``: all of
    them). ``fit(X, y)`` keeps the shared solution when ``X`` and ``y`` are exactly
    the features and labels it was solved for (unit weights), and otherwise
    fits a clone of the head on them: it never predicts with coefficients
    fitted on other data. Cloning returns the object itself.
    """

    def __init__(self, head, columns, X, y):
        self.head = head
        self.columns = columns
        self.X = X
        self.y = y

    def __sklearn_clone__(self):
        return self

    @property
    def _skwtsg_convex(self):
        from ..heads import is_convex_head

        return is_convex_head(self.head)

    @property
    def _skwtsg_convex_approximate(self):
        return getattr(self.head, "_skwtsg_convex_approximate", False)

    def fit(self, X, y, sample_weight=None):
        X, y = np.asarray(X), np.asarray(y)
        same = (
            sample_weight is None
            and X.shape == self.X.shape
            and y.shape == self.y.shape
            and np.array_equal(y, self.y)
            and np.array_equal(X, self.X)
        )
        self.refit_ = None if same else clone(self.head).fit(X, y, sample_weight)
        self._ndim = y.ndim
        return self

    def predict(self, X):
        if self.refit_ is not None:
            return self.refit_.predict(X)
        pred = np.asarray(self.head.predict(X)).reshape(len(X), -1)
        pred = pred[:, self.columns]
        return pred.ravel() if self._ndim == 1 else pred


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


def _threads(n_threads):
    """torch's thread count during a case's fits (unchanged when None)."""
    if n_threads is None:
        return contextlib.nullcontext()
    from .._utils._torch import _torch_threads

    return _torch_threads(n_threads)


def _panel_of(case, experiment):
    return case.group if experiment.panel_by == "group" else None


def _jsonable(v):
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def _progress(iterable, verbose, desc):
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is in every extra
        return iterable
    return tqdm(iterable, desc=desc, leave=False)
