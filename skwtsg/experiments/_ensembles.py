"""Ensembles of weak supervisors on the paper's own experiments (beyond the paper).

The paper closes on an open direction: "ensembling across different weak
models, and obtaining a gain close to the *sum* of their individual
misfits". With heads linear in their labels a convex mixture ``sum_k w_k
f_k`` of weak supervisors is one more weak supervisor whose strong model is
``sum_k w_k s_k``, and every diagnostic is a quadratic form in ``w``
(:class:`~skwtsg.WeakSupervisorSearch` with ``combine``). This experiment
compares, on the paper's synthetic panel 2b (several weak 2-layer nets), its
molecules (the 8 weak transformer sizes) and its essays (the 11 weak
models), four weak supervisors for the same strong model:

``best single``
    the supervisor with the smallest bound (the paper's heuristic);
``uniform``
    the average of all supervisors;
``bound-optimal``
    the mixture with the smallest bound, over the simplex (exact);
``oracle``
    the mixture with the smallest true strong error on the evaluation rows
    (chosen with their true labels: a reference, optimistic by
    construction since it is measured on the rows it was chosen on).

``python -m skwtsg reproduce ensembles`` writes ``ensembles.csv`` (one row
per problem and supervisor), ``ensembles_tasks.csv`` (one row per task of
the multi-task synthetic problem), a figure per part, ``summary.json`` and
``report.md`` with a verdict computed from the run.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.frozen import FrozenEstimator

from .._utils._validation import take_rows
from ..heads import RidgeHead, RidgeLOOHead
from ..metrics import weak_to_strong_report
from ..model_selection import WeakSupervisorSearch
from ..model_selection._ensemble import minimize_on_simplex, mixture_predictions
from ._case import DATA_HOME, Experiment, Option, W2SCase, comma_list
from ._report import dumps, markdown_table

__all__ = ["ENSEMBLES", "PARTS", "STRATEGIES", "make_ensemble_cases", "run_ensembles"]

#: The parts of the experiment, in the order they run.
PARTS = ("synthetic", "molecules", "essays")
#: The weak supervisors compared for each problem.
STRATEGIES = ("best single", "uniform", "bound-optimal", "oracle")
#: The synthetic part's weak 2-layer nets: (width of the hidden layer,
#: initialisation seed offset). (16, 0) is panel 2b's own weak net.
SYNTHETIC_WEAK = ((8, 0), (8, 1), (16, 0), (16, 1), (32, 0), (32, 1))
QUICK_SYNTHETIC_WEAK = ((8, 0), (16, 0), (16, 1))
#: Bootstrap resamples of the intervals (full run, ``quick``).
N_RESAMPLES, QUICK_N_RESAMPLES = 9999, 499
#: Random halvings of the eval rows for the cross-fitted strong errors.
N_CROSSFIT = 5
#: A "gain close to the sum of the misfits": at least this fraction of it.
CLOSE_TO_SUM = 0.8


def make_ensemble_cases(
    parts: Sequence[str] = PARTS,
    *,
    data_home: str | os.PathLike | None = None,
    quick: bool = False,
    random_state: int = 0,
    verbose: bool = False,
    essay_options: dict | None = None,
) -> list[W2SCase]:
    """Build the problems of every part: the paper's cases, more weak models.

    Parameters
    ----------
    parts : sequence of {"synthetic", "molecules", "essays"}, default=all
        Which parts to build.
    data_home : str or path-like, default=None
        Where the molecule and essay files are (see
        :func:`skwtsg.datasets.get_data_home`).
    quick : bool, default=False
        The parts' small sizes (each part's own ``quick``).
    random_state : int, default=0
        Seed.
    verbose : bool, default=False
        Progress bars and messages.
    essay_options : dict or None, default=None
        More parameters of :func:`~skwtsg.experiments.make_essay_cases`
        (e.g. ``model``, ``cache_dir``, ``n_essays``).

    Returns
    -------
    cases : list of W2SCase
        ``meta["part"]`` names each case's part. A part whose data (or
        package) is missing is skipped: its reason is in the first case's
        ``meta["skipped"]`` of the others, and printed when ``verbose``.

    Examples
    --------
    >>> from skwtsg.experiments._ensembles import make_ensemble_cases
    >>> make_ensemble_cases(["nope"])
    Traceback (most recent call last):
    ...
    ValueError: Unknown parts ['nope']; choose from ['synthetic', 'molecules', ...].
    """
    cases, _ = _make_cases(
        parts, data_home, quick, random_state, verbose, essay_options
    )
    return cases


def _check_parts(parts: Any) -> list[str]:
    if isinstance(parts, str):
        parts = comma_list(parts)
    parts = list(parts)
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"Unknown parts {unknown}; choose from {list(PARTS)}.")
    if not parts:
        raise ValueError(f"`parts` must name at least one of {list(PARTS)}.")
    return [p for p in PARTS if p in parts]


def _make_cases(parts, data_home, quick, random_state, verbose, essay_options):
    parts = _check_parts(parts)
    builders = {
        "synthetic": _synthetic_cases,
        "molecules": _molecule_cases,
        "essays": _essay_cases,
    }
    cases, skipped = [], {}
    for part in parts:
        try:
            options = essay_options if part == "essays" else None
            built = builders[part](data_home, quick, random_state, verbose, options)
        except _Missing as exc:
            skipped[part] = str(exc)
            if verbose:
                print(f"ensembles: skipping the {part} part: {exc}")
            continue
        for case in built:
            case.meta["part"] = part
        cases += built
    return cases, skipped


class _Missing(Exception):
    """A part's data or package is missing."""


def _synthetic_cases(data_home, quick, random_state, verbose, options):
    """Panel 2b's tasks and strong net, several weak 2-layer nets."""
    from joblib import Parallel, delayed

    from ..datasets import make_synthetic_tasks
    from ..featurizers import TorchFeaturizer
    from ._synthetic import (
        PAPER_SIZES,
        PRETRAIN_STEPS,
        QUICK_PRETRAIN_STEPS,
        QUICK_SIZES,
    )
    from ._synthetic import make_synthetic_cases as make

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # quick nets are undertrained
        (case,) = make(["2b"], quick=quick, random_state=random_state)
    sizes = QUICK_SIZES if quick else PAPER_SIZES
    steps = (QUICK_PRETRAIN_STEPS if quick else PRETRAIN_STEPS)["fast"]
    tasks = make_synthetic_tasks(**sizes, random_state=random_state)
    (own,) = case.weak_featurizers.values()
    specs = QUICK_SYNTHETIC_WEAK if quick else SYNTHETIC_WEAK
    todo = [spec for spec in specs if spec != (16, 0)]
    jobs = [
        delayed(_pretrain_weak)(width, offset, tasks, steps, random_state)
        for width, offset in todo
    ]
    modules = Parallel(n_jobs=1 if quick else 2)(jobs)
    nets = dict(zip(todo, modules))
    weak = {}
    for width, offset in specs:
        name = f"2-layer h={width} seed {offset}"
        if (width, offset) == (16, 0):
            weak[name] = own
        else:
            weak[name] = TorchFeaturizer(nets[width, offset], dtype="float64")
    case.weak_featurizers = weak
    case.name = "2b" + (" quick" if quick else "")
    case.group = "synthetic 2b"
    case.meta["prepare_seconds"] = time.perf_counter() - start
    case.meta["weak_nets"] = [list(s) for s in specs]
    case.meta["pretrain_steps"] = steps
    return [case]


def _pretrain_weak(width, offset, tasks, steps, random_state):
    """A weak 2-layer net of ``width`` pretrained as panel 2b's (eq. 9), frozen.

    The recipe and budget of 2b's weak net (``"fast"``, the true pretraining
    heads), another hidden width and another initialisation seed.
    """
    from .._utils._torch import _torch_threads
    from ..featurizers import MultiTaskFeaturizer
    from ._synthetic import RECIPES

    with _torch_threads(1):
        featurizer = MultiTaskFeaturizer(
            module__n_layers=2,
            module__hidden=width,
            module__out_features=tasks.pretrain_heads.shape[0],
            task_heads=tasks.pretrain_heads,
            max_steps=steps,
            random_state=random_state + 2 + 1000 * offset,
            **RECIPES["fast"],
        ).fit(tasks.pretrain_X, tasks.pretrain_Y)
    return featurizer.module_


def _molecule_cases(data_home, quick, random_state, verbose, options):
    """The molecules experiment's cases (3 datasets, 3 splits, 8 weak sizes)."""
    try:
        import rdkit  # noqa: F401
    except ImportError as exc:
        raise _Missing(f"RDKit is not installed ({exc})") from exc
    from ..datasets import fetch_molecules
    from ._molecules import make_molecule_cases

    names = ("ESOL",) if quick else ("ESOL", "FreeSolv", "Lipop")
    for name in names:
        try:
            fetch_molecules(name, data_home=data_home, download_if_missing=False)
        except (OSError, ValueError) as exc:
            raise _Missing(f"{name} not found ({exc})") from exc
    return make_molecule_cases(
        names, data_home=data_home, quick=quick, random_state=random_state
    )


def _essay_cases(data_home, quick, random_state, verbose, options):
    """The essays experiment's cases (3 random splits, 11 weak models)."""
    from ..datasets import fetch_ellipse
    from ._essays import make_essay_cases

    try:
        fetch_ellipse(data_home=data_home, download_if_missing=False)
    except (OSError, ValueError) as exc:
        raise _Missing(f"the ELLIPSE essays not found ({exc})") from exc
    try:
        return make_essay_cases(
            data_home=data_home,
            quick=quick,
            random_state=random_state,
            verbose=verbose,
            **(options or {}),
        )
    except (OSError, ImportError) as exc:
        raise _Missing(f"the encoders cannot be loaded ({exc})") from exc


class _Lookup(RegressorMixin, TransformerMixin, BaseEstimator):
    """Precomputed values by row number: ``X`` holds the rows' numbers.

    The essays' weak models and strong features are computed once per
    split and shared by the six rubrics' searches.
    """

    def __init__(self, values: Any = None) -> None:
        self.values = values

    def fit(self, X: Any, y: Any = None) -> _Lookup:
        self.n_features_in_ = 1
        return self

    def _rows(self, X: Any) -> np.ndarray:
        return np.asarray(self.values)[np.asarray(X, dtype=np.intp).ravel()]

    def transform(self, X: Any) -> np.ndarray:
        rows = self._rows(X)
        return rows.reshape(len(rows), -1)

    def predict(self, X: Any) -> np.ndarray:
        return self._rows(X)


def run_ensembles(
    *,
    parts: Sequence[str] = PARTS,
    data_home: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    quick: bool = False,
    random_state: int = 0,
    verbose: bool = True,
    essay_options: dict | None = None,
) -> dict:
    """Run the ensemble comparison and write its outputs.

    Parameters
    ----------
    parts : sequence of {"synthetic", "molecules", "essays"}, default=all
        Which parts to run; a part whose data is missing is skipped with a
        message.
    data_home : str or path-like, default=None
        Where the molecule and essay files are.
    out : str or path-like, default=None
        Output folder (created); ``None`` writes nothing.
    quick : bool, default=False
        Small sizes (each part's ``quick``), for tests.
    random_state : int, default=0
        Seed.
    verbose : bool, default=True
        Progress messages.
    essay_options : dict or None, default=None
        More parameters of :func:`~skwtsg.experiments.make_essay_cases`.

    Returns
    -------
    result : dict
        ``records`` (DataFrame: one row per problem and supervisor, with
        the diagnostics, their intervals, ``sum_misfits`` and the
        improvement over the best single supervisor), ``tasks`` (one row per
        task of the multi-task problem and supervisor), ``summary`` (as in
        ``summary.json``: per part, the comparison and its verdict),
        ``files`` and ``lines`` (the closing lines).
    """
    start = time.perf_counter()
    cases, skipped = _make_cases(
        parts, data_home, quick, random_state, verbose, essay_options
    )
    prepared = time.perf_counter() - start
    fitted = _prefit(cases, verbose)
    records, tasks, problems = [], [], []
    n_resamples = QUICK_N_RESAMPLES if quick else N_RESAMPLES
    for case in cases:
        for problem in _problems(case, fitted[id(case)], random_state):
            rows, task_rows = _compare(problem, n_resamples, random_state)
            records += rows
            tasks += task_rows
            problems.append(problem["info"])
            if verbose:
                best = {r["strategy"]: r["strong_error"] for r in rows}
                print(
                    f"ensembles {problem['info']['part']} {problem['info']['case']} "
                    f"{problem['info']['task']}: strong error "
                    + ", ".join(f"{k} {v:.4g}" for k, v in best.items())
                )
    records_df = pd.DataFrame(records)
    tasks_df = pd.DataFrame(tasks)
    summary: dict[str, Any] = {
        "experiment": "ensembles",
        "quick": bool(quick),
        "random_state": random_state,
        "skipped": skipped,
        "parts": {},
        "panels": {},
    }
    for part, rec in records_df.groupby("part", sort=False) if len(records) else []:
        summary["parts"][part] = _part_summary(part, rec, tasks_df, quick)
    summary["problems"] = problems
    summary["prepare_seconds"] = prepared
    summary["wall_seconds"] = time.perf_counter() - start
    files: list[Path] = []
    if out is not None:
        files = _write(Path(out), records_df, tasks_df, summary)
    lines = _closing_lines(summary)  # printed by the command line
    return {
        "records": records_df,
        "tasks": tasks_df,
        "summary": summary,
        "files": files,
        "lines": lines,
    }


def _prefit(cases, verbose):
    """The weak featurizers of every case, fitted once (or loaded from a cache)."""
    from ._runner import _prefit_weak_featurizers

    return _prefit_weak_featurizers(cases, n_jobs=2, verbose=verbose)


def _problems(case, fitted, random_state):
    """One fitted search per problem of a case (per rubric for the essays)."""
    from .._utils._torch import _torch_threads

    weak = {label: FrozenEstimator(model) for label, (model, _) in fitted.items()}
    part = case.meta["part"]
    info = {"part": part, "group": case.group, "case": case.name}
    roles = np.asarray(case.roles)
    if part == "essays":
        yield from _essay_problems(case, weak, info, random_state)
        return
    supervisors = {label: (w, case.weak_head) for label, w in weak.items()}
    search = WeakSupervisorSearch(
        supervisors,
        case.strong_featurizer,
        head=case.head,
        combine="bound",
        confidence_level=None,
        random_state=random_state,
    )
    with _torch_threads(case.meta.get("torch_threads")), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*bound_ is negative")
        search.fit(case.X, case.y, roles=roles)
    eval_rows = np.flatnonzero(roles == "eval")
    with _torch_threads(case.meta.get("torch_threads")):
        X_eval = take_rows(case.X, eval_rows)
        outputs = (
            mixture_predictions(search, X_eval, weak=True),
            mixture_predictions(search, X_eval),
        )
    names = case.task_names or [f"task{t}" for t in range(outputs[0].shape[1])]
    task = names[0] if len(names) == 1 else f"mean of {len(names)} tasks"
    yield {
        "search": search,
        "y_eval": np.asarray(case.y, dtype=float)[eval_rows],
        "outputs": outputs,
        "task_names": names,
        "info": {**info, "task": task, "head": _head_text(search)},
    }


def _essay_problems(case, weak, info, random_state):
    """The essays: per rubric, a ridge strong head with a fixed penalty.

    The essay experiment's strong head chooses its penalty by leave-one-out
    on its labels, which is not linear in them; here each rubric's penalty
    is the one that head chooses for the uniform mixture's labels (weak
    labels only), then fixed (:class:`~skwtsg.heads.RidgeHead`). The weak
    models (the experiment's, ridge with a leave-one-out penalty per
    rubric) and the strong features are computed once per split.
    """
    roles = np.asarray(case.roles)
    both = np.flatnonzero(roles == "both")
    eval_rows = np.flatnonzero(roles == "eval")
    y = np.asarray(case.y, dtype=float)
    strong = clone(case.strong_featurizer).fit(take_rows(case.X, both))
    Z = strong.transform(case.X)
    labels = {}
    for label, featurizer in weak.items():
        F = featurizer.transform(case.X)
        head = clone(case.weak_head).fit(F[both], y[both])
        labels[label] = np.asarray(head.predict(F)).reshape(len(y), -1)
    uniform = np.mean([P[both] for P in labels.values()], axis=0)
    alphas = np.atleast_1d(
        RidgeLOOHead(alpha_per_target=True).fit(Z[both], uniform).alpha_
    )
    index = np.arange(len(y)).reshape(-1, 1)
    for r, rubric in enumerate(case.task_names):
        supervisors = {
            label: FrozenEstimator(_Lookup(P[:, r]).fit(index))
            for label, P in labels.items()
        }
        search = WeakSupervisorSearch(
            supervisors,
            FrozenEstimator(_Lookup(Z).fit(index)),
            head=RidgeHead(alpha=float(alphas[r])),
            combine="bound",
            confidence_level=None,
            random_state=random_state,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*bound_ is negative")
            search.fit(index, y[:, r], roles=roles)
        X_eval = index[eval_rows]
        yield {
            "search": search,
            "y_eval": y[eval_rows, r],
            "outputs": (
                mixture_predictions(search, X_eval, weak=True),
                mixture_predictions(search, X_eval),
            ),
            "task_names": [rubric],
            "info": {**info, "task": rubric, "head": _head_text(search)},
        }


def _head_text(search):
    head = search.head
    if head is None:
        return "LeastSquaresHead()"
    return repr(head)


def _choose(forms, bound_weights=None):
    """The weights of every strategy from the forms, shape (n_outputs, K) each."""
    m, K, _ = forms["bound"].shape
    single = np.zeros((m, K))
    single[np.arange(m), np.diagonal(forms["bound"], axis1=1, axis2=2).argmin(1)] = 1
    oracle, certificate = minimize_on_simplex(forms["strong_error"])
    if bound_weights is None:
        bound_weights, _ = minimize_on_simplex(forms["bound"])
    weights = {
        "best single": single,
        "uniform": np.full((m, K), 1.0 / K),
        "bound-optimal": np.atleast_2d(bound_weights),
        "oracle": oracle,
    }
    return weights, certificate


def _row_forms(y, weak_out, strong_out):
    """The forms of the diagnostics on some rows (unit weights), as in the search."""
    Y = y.reshape(len(y), -1)[..., None]
    residuals = {
        "weak_error": weak_out - Y,
        "strong_error": strong_out - Y,
        "misfit": strong_out - weak_out,
    }
    forms = {k: np.einsum("nmk,nml->mkl", r, r) / len(y) for k, r in residuals.items()}
    forms["bound"] = forms["weak_error"] - forms["misfit"]
    return forms


def _crossfit(y, weak_out, strong_out, random_state):
    """Each strategy's strong error on eval rows it was not chosen on.

    The eval rows are split in two halves at random, :data:`N_CROSSFIT`
    times; each strategy chooses its weights on one half (the bound, or the
    oracle's true strong error there) and is measured on the other. Returns
    the mean over halves, repeats and outputs of each strategy's strong
    error.
    """
    rng = np.random.RandomState(random_state)
    n = len(y)
    totals = dict.fromkeys(STRATEGIES, 0.0)
    for _ in range(N_CROSSFIT):
        order = rng.permutation(n)
        halves = order[: n // 2], order[n // 2 :]
        for fit, test in (halves, halves[::-1]):
            weights, _ = _choose(_row_forms(y[fit], weak_out[fit], strong_out[fit]))
            C = _row_forms(y[test], weak_out[test], strong_out[test])["strong_error"]
            for strategy, W in weights.items():
                value = np.einsum("pi,pij,pj->p", W, C, W).mean()
                totals[strategy] += value * len(test)
    return {k: v / (N_CROSSFIT * n) for k, v in totals.items()}


def _compare(problem, n_resamples, random_state):
    """The four supervisors of one problem: records and per-task rows."""
    search = problem["search"]
    info = problem["info"]
    names = list(search.results_.index)
    forms = {k: np.asarray(v) for k, v in search.mixture_forms_.items()}
    if forms["bound"].ndim == 2:
        forms = {k: v[None] for k, v in forms.items()}
    weights, oracle_certificate = _choose(forms, search.weights_)
    y = problem["y_eval"]
    weak_out, strong_out = problem["outputs"]
    crossfit = _crossfit(y, weak_out, strong_out, random_state)
    misfits = np.diagonal(forms["misfit"], axis1=1, axis2=2)  # (m, K)
    weak_errors = np.diagonal(forms["weak_error"], axis1=1, axis2=2)
    strong_errors = np.diagonal(forms["strong_error"], axis1=1, axis2=2)
    best_strong = None
    rows, task_rows = [], []
    cert = search.qp_certificate_
    for strategy in STRATEGIES:
        W = weights[strategy]
        values = {k: np.einsum("pi,pij,pj->p", W, G, W) for k, G in forms.items()}
        y_weak = np.einsum("nmk,mk->nm", weak_out, W).reshape(y.shape)
        y_strong = np.einsum("nmk,mk->nm", strong_out, W).reshape(y.shape)
        report = weak_to_strong_report(
            y,
            y_weak,
            y_strong,
            confidence_level=0.95,
            n_resamples=n_resamples,
            random_state=random_state,
        )
        if best_strong is None:
            best_strong = y_strong
        # the paired difference of strong errors (best single - this one):
        # the "gain" of the best single's strong model as a weak one
        improvement = weak_to_strong_report(
            y,
            best_strong,
            y_strong,
            confidence_level=0.95,
            n_resamples=n_resamples,
            random_state=random_state,
        )
        mean_w = W.mean(axis=0)
        row = {
            **info,
            "strategy": strategy,
            "weights": "; ".join(
                f"{n}: {w:.3f}" for n, w in zip(names, mean_w) if w > 5e-4
            ),
            "n_supervisors": len(names),
            "n_tasks": W.shape[0],
        }
        for k in ("weak_error", "strong_error", "misfit", "gain", "bound"):
            row[k] = float(report[k])
            row[f"{k}_low"], row[f"{k}_high"] = map(float, report[f"{k}_ci"])
        row["sum_misfits"] = float(misfits.sum(axis=1).mean())
        row["weighted_misfits"] = float((W * misfits).sum(axis=1).mean())
        row["max_misfit"] = float(misfits.max(axis=1).mean())
        row["best_weak_error"] = float(weak_errors.min(axis=1).mean())
        row["gain_over_best_weak"] = row["best_weak_error"] - row["strong_error"]
        row["improvement"] = float(improvement["gain"])
        row["improvement_low"], row["improvement_high"] = map(
            float, improvement["gain_ci"]
        )
        row["strong_error_crossfit"] = crossfit[strategy]
        row["improvement_crossfit"] = crossfit["best single"] - crossfit[strategy]
        row["best_single_strong_error"] = float(
            np.take_along_axis(
                strong_errors, weights["best single"].argmax(1)[:, None], 1
            ).mean()
        )
        if strategy == "bound-optimal" and cert is not None:
            row["kkt_residual"] = float(np.max(cert["kkt_residual"]))
            row["vertex_gap"] = float(np.min(cert["vertex_gap"]))
            row["convex"] = bool(np.all(cert["convex"]))
        if strategy == "oracle":
            row["kkt_residual"] = float(np.max(oracle_certificate["kkt_residual"]))
            row["convex"] = bool(np.all(oracle_certificate["convex"]))
        rows.append(row)
        if W.shape[0] > 1:
            for t, task in enumerate(problem["task_names"]):
                task_rows.append(
                    {
                        **info,
                        "task": task,
                        "strategy": strategy,
                        **{k: float(v[t]) for k, v in values.items()},
                        "sum_misfits": float(misfits[t].sum()),
                        "max_misfit": float(misfits[t].max()),
                        "best_weak_error": float(weak_errors[t].min()),
                        "n_weights": int((W[t] > 5e-4).sum()),
                        "bound_form_convex": bool(np.atleast_1d(cert["convex"])[t]),
                    }
                )
    return rows, task_rows


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


ENSEMBLES = Experiment(
    name="ensembles",
    make_cases=make_ensemble_cases,
    run=run_ensembles,
    help="beyond the paper: mixtures of weak supervisors (2b, molecules, essays)",
    options=(
        DATA_HOME,
        Option(
            "--parts",
            "comma-separated parts (default: all): " + ",".join(PARTS),
            type=comma_list,
        ),
    ),
    title="Ensembles of weak supervisors",
    notes=_NOTES,
)
