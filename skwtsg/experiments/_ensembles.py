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

from .._diagnostics import DIAGNOSTICS
from .._utils._validation import take_rows
from ..heads import RidgeHead, RidgeLOOHead
from ..metrics import weak_to_strong_report
from ..model_selection import WeakSupervisorSearch
from ..model_selection._ensemble import minimize_on_simplex, mixture_predictions
from ._case import DATA_HOME, Experiment, Option, W2SCase, comma_list
from ._ensembles_report import (
    _NOTES,
    N_CROSSFIT,
    STRATEGIES,
    _closing_lines,
    _part_summary,
    _write,
)

__all__ = ["ENSEMBLES", "PARTS", "STRATEGIES", "make_ensemble_cases", "run_ensembles"]

#: The parts of the experiment, in the order they run.
PARTS = ("synthetic", "molecules", "essays")
#: The synthetic part's weak 2-layer nets: (width of the hidden layer,
#: initialisation seed offset). (16, 0) is panel 2b's own weak net.
SYNTHETIC_WEAK = ((8, 0), (8, 1), (16, 0), (16, 1), (32, 0), (32, 1))
QUICK_SYNTHETIC_WEAK = ((8, 0), (16, 0), (16, 1))
#: Bootstrap resamples of the intervals (full run, ``quick``).
N_RESAMPLES, QUICK_N_RESAMPLES = 9999, 499


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
    from ._prefit import _prefit_weak_featurizers

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
        for k in DIAGNOSTICS:
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
