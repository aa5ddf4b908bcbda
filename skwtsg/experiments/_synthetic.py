"""The paper's synthetic experiments (Figures 2a-c, 3a-c and appendix D) as cases."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from ._case import Experiment, Option, W2SCase, comma_list, positive_int

if TYPE_CHECKING:
    import torch
    from sklearn.utils import Bunch

    from ..heads import GradientLinearHead, NonConvexHead

#: A claim's check: a panel's summary in, (verdict, text) out.
_Check = Callable[[dict[str, Any]], tuple[bool, str]]

__all__ = ["PANELS", "SWEEP", "make_synthetic_cases", "SYNTHETIC"]

#: Panels: (weak representation, strong representation, head kind, title).
#: Representations: "h*" (the target), "pre2"/"pre8" (2-/8-layer MLPs
#: pretrained by eq. 9 on T=10, N_r=2000), "low2"/"low8" (the same on T=5,
#: N_r=250), "pert0.01"/"pert0.05" (h* with N(0, sigma^2) weight noise).
PANELS: dict[str, tuple[str, str, str, str]] = {
    "2a": ("pre2", "h*", "linear", "2a realizable: h_s = h*, h_w 2-layer"),
    "2b": ("pre2", "pre8", "linear", "2b pretrained: h_w 2-layer, h_s 8-layer"),
    "2c": ("pert0.05", "pert0.01", "linear", "2c perturbed: σ_w=0.05, σ_s=0.01"),
    "3a": ("pre8", "pre2", "linear", "3a strong-to-weak: 2b swapped"),
    "3b": ("pert0.01", "pert0.05", "linear", "3b strong-to-weak: 2c swapped"),
    "3c": ("low2", "low8", "linear", "3c low-sample: T=5, N_r=250"),
    "D-tanh": ("pre2", "pre8", "tanh", "D: tanh∘linear heads (2b)"),
    "D-relu": ("pre2", "pre8", "relu", "D: relu∘linear heads (2b)"),
    "D-sigmoid": ("pre2", "pre8", "sigmoid", "D: sigmoid∘linear heads (2b)"),
}


#: The ε sweep (beyond the paper): 2b's weak model and tasks, the strong 8-layer
#: net pretrained for fractions of 2b's budget, and h* (ε = 0) as the end
#: point: one case per strong representation, all in the panel ``"sweep"``.
class _Sweep(TypedDict):
    name: str
    weak: str
    strong: tuple[str, ...]
    title: str


SWEEP: _Sweep = {
    "name": "sweep",
    "weak": "pre2",
    "strong": ("pre8/64", "pre8/16", "pre8/4", "pre8", "h*"),
    "title": "ε sweep: 2b with h_s pretrained for 1/64-1 of its budget, and h*",
}

#: Pretraining (eq. 9) budgets in optimiser steps (mini-batch updates), so
#: that a panel with 1,250 pretraining rows gets as many updates as one with
#: 20,000. "fast": Adam, batch 512, lr 3e-3 annealed by a cosine, the best
#: of 4 initialisations screened for 5 epochs each (5% of the T=10,
#: N_r=2000 budget; at most a tenth of a smaller one); "paper": the
#: paper's recipe (AdamW, weight decay 0.01, batch 32, lr 1e-3 constant,
#: one initialisation).
RECIPES: dict[str, dict[str, Any]] = {
    "fast": dict(
        optimizer="adam",
        lr=3e-3,
        batch_size=512,
        lr_schedule="cosine",
        n_init=4,
        init_epochs=5,
    ),
    "paper": dict(
        optimizer="adamw",
        lr=1e-3,
        batch_size=32,
        lr_schedule="constant",
        n_init=1,
        weight_decay=0.01,
    ),
}
PRETRAIN_STEPS: dict[str, int] = {"fast": 4000, "paper": 40000}
QUICK_PRETRAIN_STEPS: dict[str, int] = {"fast": 60, "paper": 60}

#: Pretrained representations: layers, (T, N_r) ("paper" or "low": T=5,
#: N_r=250), recipe and fraction of the recipe's budget.
REPRESENTATIONS: dict[str, dict[str, Any]] = {
    "pre2": dict(n_layers=2, data="paper", recipe="fast", budget=1.0),
    "pre8": dict(n_layers=8, data="paper", recipe="fast", budget=1.0),
    "low2": dict(n_layers=2, data="low", recipe="paper", budget=1.0),
    "low8": dict(n_layers=8, data="low", recipe="paper", budget=1.0),
    "pre8/4": dict(n_layers=8, data="paper", recipe="fast", budget=1 / 4),
    "pre8/16": dict(n_layers=8, data="paper", recipe="fast", budget=1 / 16),
    "pre8/64": dict(n_layers=8, data="paper", recipe="fast", budget=1 / 64),
}

#: A representation is flagged as not trained when its final eq. (9) loss is
#: not below this fraction of the variance of its pretraining labels.
UNDERTRAINED_RATIO = 0.5

#: The slope of gain on misfit (with intercept) that the authors' code gives
#: on the same configuration: cited reference values, not our results.
AUTHORS_SLOPES: dict[str, float] = {"2a": 0.89, "2b": 0.68, "2c": 0.85}
#: Where :data:`AUTHORS_SLOPES` come from.
AUTHORS_SOURCE = (
    "the authors' code (github.com/chogba/wtsg-regression, wts.ipynb) "
    "run headless at reduced epochs on the same configuration"
)

PAPER_SIZES: dict[str, int] = dict(
    n_pretrain_tasks=10, n_pretrain_samples=2000, n_tasks=100, n_samples=2000
)
QUICK_SIZES: dict[str, int] = dict(
    n_pretrain_tasks=4, n_pretrain_samples=150, n_tasks=6, n_samples=150
)


def make_synthetic_cases(
    panels: Sequence[str] = (*PANELS, SWEEP["name"]),
    *,
    heads: str = "exact",
    epochs: int | None = None,
    pretrain_steps: int | None = None,
    n_jobs: int | None = None,
    quick: bool = False,
    random_state: int = 0,
    verbose: bool = False,
) -> list[W2SCase]:
    """Build the cases of the paper's synthetic panels and of the ε sweep.

    One case per panel (the ε sweep: one per strong representation), all on
    one draw of ``h*``, of the tasks and of each role's fresh samples; the
    representations are pretrained once each. One whose final loss is not
    below :data:`UNDERTRAINED_RATIO` times its labels' variance warns and is
    listed in its cases' ``meta["warnings"]``.

    Parameters
    ----------
    panels : sequence of str, default=all of :data:`PANELS` and ``"sweep"``
        Which panels to build.
    heads : {"exact", "gradient"}, default="exact"
        ``"exact"``: the exact least-squares head (the theorem's minimiser);
        ``"gradient"``: the paper's procedure (AdamW, batch 32, lr 1e-3).
        Appendix D's panels always use the non-convex heads ``φ∘linear``.
    epochs : int, default=None
        Epochs of the gradient heads (default 1000, the paper's; 5 when
        ``quick``).
    pretrain_steps : int, default=None
        Optimiser steps of the "fast" pretraining recipe (default
        :data:`PRETRAIN_STEPS`; the low-sample "paper" recipe gets 10 times
        as many, the sweep's representations fractions of it).
    n_jobs : int, default=None
        Processes pretraining the representations (one torch thread each);
        ``None``: 2, or 1 when ``quick`` (tiny networks).
    quick : bool, default=False
        Small sizes for tests.
    random_state : int, default=0
        Seed of everything.
    verbose : bool, default=False
        Progress bars (pretraining, then the fits).

    Returns
    -------
    cases : list of W2SCase

    Examples
    --------
    >>> from skwtsg.experiments import make_synthetic_cases
    >>> cases = make_synthetic_cases(["2c"], quick=True)  # doctest: +SKIP
    """
    from ..featurizers import TorchFeaturizer
    from ..heads._gradient import _phi_numpy  # the heads' own (stable) phi

    known = (*PANELS, SWEEP["name"])
    unknown = sorted(set(panels) - set(known))
    if unknown:
        raise ValueError(f"Unknown panels {unknown}; choose from {list(known)}.")
    if heads not in ("exact", "gradient"):
        raise ValueError(f"`heads` must be 'exact' or 'gradient', got {heads!r}.")
    for name, count in (("epochs", epochs), ("pretrain_steps", pretrain_steps)):
        if count is not None and count < 1:  # 0 is not "the default"
            raise ValueError(f"`{name}` must be a positive integer, got {count}.")
    if n_jobs is None:
        n_jobs = 1 if quick else 2
    if n_jobs < 1:
        raise ValueError(f"`n_jobs` must be a positive integer, got {n_jobs}.")
    sizes = QUICK_SIZES if quick else PAPER_SIZES
    steps = dict(QUICK_PRETRAIN_STEPS if quick else PRETRAIN_STEPS)
    if pretrain_steps is not None:
        steps = {"fast": pretrain_steps, "paper": 10 * pretrain_steps}
    tasks, X, y, roles = _shared_sample(sizes, random_state)

    # (panel, case name, weak key, strong key, head kind)
    specs = []
    for panel in panels:
        if panel == SWEEP["name"]:
            specs += [
                (panel, f"sweep {key}", SWEEP["weak"], key, "linear")
                for key in SWEEP["strong"]
            ]
        else:
            specs.append((panel, panel, *PANELS[panel][:3]))
    keys = sorted({k for spec in specs for k in spec[2:4]})
    start = time.perf_counter()
    reps, checks = _representations(
        keys, tasks, steps, quick, random_state, n_jobs, verbose
    )
    prepare_seconds = time.perf_counter() - start
    warned = {k: _warn_if_undertrained(k, c) for k, c in checks.items()}

    cases = []
    for i, (panel, name, weak_key, strong_key, kind) in enumerate(specs):
        weak, strong = reps[weak_key], reps[strong_key]
        y_panel = y if kind == "linear" else _phi_numpy(kind, y)
        head = _head(kind, heads, epochs, quick, random_state)
        cases.append(
            W2SCase(
                name=name,
                X=X,
                y=y_panel,
                roles=roles,
                strong_featurizer=TorchFeaturizer(strong, dtype="float64"),
                weak_featurizers={weak_key: TorchFeaturizer(weak, dtype="float64")},
                head=head,
                task_names=[f"task{t}" for t in range(y.shape[1])],
                group=panel,
                meta={
                    "weak": weak_key,
                    "strong": strong_key,
                    "head": kind if kind != "linear" else heads,
                    "nonconvex_head": kind != "linear",
                    "torch_threads": 1,  # tiny problems: one thread is fastest
                    "prepare_seconds": prepare_seconds if i == 0 else 0.0,
                    "pretraining": {
                        k: checks[k] for k in (weak_key, strong_key) if k in checks
                    },
                    "warnings": [
                        warned[k]
                        for k in (weak_key, strong_key)
                        if warned.get(k) is not None
                    ],
                    **{k: int(v) for k, v in sizes.items()},
                },
            )
        )
    return cases


def _shared_sample(
    sizes: dict[str, int], random_state: int
) -> tuple[Bunch, np.ndarray, np.ndarray, np.ndarray]:
    """The synthetic tasks, and their rows of every role stacked (with roles)."""
    from ..datasets import make_synthetic_tasks

    tasks = make_synthetic_tasks(**sizes, random_state=random_state)
    X = np.vstack([tasks.X_weak, tasks.X_strong, tasks.X_eval])
    y = np.vstack([tasks.y_weak, tasks.y_strong, tasks.y_eval])
    roles = np.repeat(["weak", "strong", "eval"], sizes["n_samples"])
    return tasks, X, y, roles


def _representations(
    keys: Sequence[str],
    tasks: Bunch,
    steps: dict[str, int],
    quick: bool,
    random_state: int,
    n_jobs: int,
    verbose: bool = False,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Each representation of ``keys``, pretrained in ``n_jobs`` processes or
    fixed, and the pretrained ones' records."""
    pretrained = [k for k in keys if k in REPRESENTATIONS]
    # longest first, so that two workers finish together
    pretrained.sort(key=lambda k: -_cost(k, steps))
    jobs = [
        delayed(_pretrain)(k, tasks, steps, quick, random_state) for k in pretrained
    ]
    if n_jobs == 1 or len(jobs) <= 1:
        results = (job[0](*job[1], **job[2]) for job in jobs)
    else:
        results = Parallel(n_jobs=min(n_jobs, len(jobs)), return_as="generator")(jobs)
    if verbose and pretrained:
        from tqdm.auto import tqdm

        results = tqdm(
            results, total=len(pretrained), desc="pretraining (eq. 9)", leave=False
        )
    reps, checks = {}, {}
    for key, (module, check) in zip(pretrained, results):
        reps[key], checks[key] = module, check
    for key in keys:
        if key not in reps:
            reps[key] = _fixed_representation(key, tasks, random_state)
    return reps, checks


def _cost(key: str, steps: dict[str, int]) -> float:
    spec = REPRESENTATIONS[key]
    return spec["n_layers"] * steps[spec["recipe"]] * spec["budget"]


def _warn_if_undertrained(key: str, check: dict[str, Any]) -> str | None:
    """A warning text when the pretraining loss is not clearly below the variance."""
    if check["train_loss"] < UNDERTRAINED_RATIO * check["label_variance"]:
        return None
    text = (
        f"representation {key!r} is not trained: its final pretraining loss "
        f"{check['train_loss']:.3g} is not below {UNDERTRAINED_RATIO} times the "
        f"variance of its labels ({check['label_variance']:.3g}) after "
        f"{check['steps']} optimiser steps"
    )
    warnings.warn(text, UserWarning, stacklevel=3)
    return text


def _fixed_representation(key: str, tasks: Bunch, random_state: int) -> torch.nn.Module:
    """h* itself, or h* with every weight perturbed by N(0, sigma^2)."""
    from ..featurizers import perturb_weights

    if key == "h*":
        return tasks.target_module
    sigma = float(key[4:])
    seed = random_state + (1 if sigma < 0.03 else 2)
    return perturb_weights(tasks.target_module, sigma, random_state=seed)


def _pretrain(
    key: str, tasks: Bunch, steps: dict[str, int], quick: bool, random_state: int
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """An MLP pretrained by eq. (9), frozen, and its record (final loss, the
    labels' variance, steps, epochs)."""
    from .._utils._torch import _torch_threads
    from ..featurizers import MultiTaskFeaturizer

    spec = REPRESENTATIONS[key]
    X, Y, heads = tasks.pretrain_X, tasks.pretrain_Y, tasks.pretrain_heads
    if spec["data"] == "low":
        # the low-sample regime: the first T=5 tasks, N_r=250 rows each
        T, n_r = (2, 50) if quick else (5, 250)
        per_task = X.shape[0] // Y.shape[1]
        rows = np.concatenate([t * per_task + np.arange(n_r) for t in range(T)])
        X, Y, heads = X[rows], Y[rows][:, :T], heads[:, :T]
    n_steps = max(1, int(round(steps[spec["recipe"]] * spec["budget"])))
    with _torch_threads(1):  # tiny networks: one thread per process is fastest
        featurizer = MultiTaskFeaturizer(
            module__n_layers=spec["n_layers"],
            task_heads=heads,
            max_steps=n_steps,
            random_state=random_state + spec["n_layers"],
            **RECIPES[spec["recipe"]],
        ).fit(X, Y)
    labels = Y[~np.isnan(Y)]
    check = {
        "train_loss": float(featurizer.train_loss_),
        "label_variance": float(np.var(labels)),
        "steps": int(featurizer.n_steps_),
        "epochs": int(featurizer.n_iter_),
        "recipe": spec["recipe"],
        "rows": int(X.shape[0]),
    }
    return featurizer.module_, check


def _head(
    kind: str, heads: str, epochs: int | None, quick: bool, random_state: int
) -> NonConvexHead | GradientLinearHead | None:
    if kind != "linear":
        from ..heads import NonConvexHead

        # Levenberg-Marquardt per task (the head's default): each task's own
        # minimum, one scipy call per task, no torch
        return NonConvexHead(activation=kind, random_state=random_state)
    if heads == "exact":
        return None
    from ..heads import GradientLinearHead

    return GradientLinearHead(
        max_epochs=(5 if quick else 1000) if epochs is None else epochs,
        random_state=random_state,
    )


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def _line_text(info: dict[str, Any]) -> str:
    ev = info["eval"]
    return f"slope {_fmt(ev['slope'])}, R² {_fmt(ev['r2'], '.4f')}"


def _decomposition_text(info: dict[str, Any]) -> str:
    tr = info.get("train", {})
    return (
        f"on the training sample gain − misfit = projection term + ε term "
        f"(to 1e-9 of the weak error) for "
        f"{100 * tr.get('frac_decomposition_holds', float('nan')):.0f}% of tasks, "
        f"median ε / weak error {_fmt(tr.get('median_epsilon_ratio'), '.3g')}, "
        f"correlation of ε and misfit across tasks "
        f"{_fmt(tr.get('corr_epsilon_misfit'), '.2f')}"
    )


def _check_realizable(info: dict[str, Any]) -> tuple[bool, str]:
    """2a: slope in [0.95, 1.05], R² >= 0.99, gain = misfit on the training rows."""
    ev, tr = info["eval"], info["train"]
    equal = tr.get("frac_gain_eq_misfit_exact", float("nan"))
    ok = 0.95 <= ev["slope"] <= 1.05 and ev["r2"] >= 0.99 and equal == 1.0
    text = (
        f"{_line_text(info)} (targets: slope in [0.95, 1.05], R² ≥ 0.99); on the "
        f"training sample gain = misfit (to 1e-9 of the weak error) for "
        f"{100 * equal:.0f}% of tasks (target 100%). The authors' code gives "
        f"slope {AUTHORS_SLOPES['2a']} on this configuration."
    )
    return bool(ok), text


def _check_decomposition(panel: str) -> _Check:
    """2b, 2c: the exact decomposition, and a slope at least the authors'."""
    reference = AUTHORS_SLOPES[panel]

    def check(info: dict[str, Any]) -> tuple[bool, str]:
        ev, tr = info["eval"], info["train"]
        holds = tr.get("frac_decomposition_holds", float("nan"))
        ok = holds == 1.0 and ev["slope"] >= reference
        text = (
            f"{_line_text(info)}; the authors' code: slope {reference} on the same "
            f"configuration (target: at least theirs); {_decomposition_text(info)} "
            f"(target 100%)."
        )
        return bool(ok), text

    return check


def _check_negative(info: dict[str, Any]) -> tuple[bool, str]:
    """3a-3c: the mirror image, a negative slope."""
    ok = info["eval"]["slope"] < 0
    return bool(ok), f"{_line_text(info)} (target: slope < 0)."


def _check_tracks(info: dict[str, Any]) -> tuple[bool, str]:
    """Appendix D: the gain tracks the misfit (slope in [0.8, 1.2], R² >= 0.9)."""
    ev = info["eval"]
    ok = 0.8 <= ev["slope"] <= 1.2 and ev["r2"] >= 0.9
    return bool(ok), f"{_line_text(info)} (targets: slope in [0.8, 1.2], R² ≥ 0.9)."


def sweep_summary(records: pd.DataFrame) -> dict[str, Any]:
    """Per strong representation of the ε sweep: its line and median ε.

    ``sweep``: per case its ``median_epsilon_ratio`` (training sample) and
    the line of gain on misfit (fresh rows), sorted by the ratio;
    ``spearman_epsilon_deviation``: the rank correlation of the ratio and
    ``|1 − slope|`` (NaN with fewer than 3 cases or an undefined ratio).
    """
    from scipy import stats

    from ..metrics import fit_line
    from ._summary import _per_weak_error

    points: list[dict[str, Any]] = []
    for case, rec in records.groupby("case", sort=False):
        line = fit_line(rec["misfit"].to_numpy(), rec["gain"].to_numpy())
        weak = rec["train_weak_error"].to_numpy(dtype=float)
        defined = weak > 0  # a perfect weak model: the ratio is undefined
        ratio = _per_weak_error(rec["train_epsilon"].to_numpy(dtype=float), weak)
        points.append(
            {
                "case": str(case),
                "median_epsilon_ratio": float(np.median(ratio[defined]))
                if defined.any()
                else float("nan"),
                "n_ratio_undefined": int((~defined).sum()),
                "slope": line.slope,
                "intercept": line.intercept,
                "r2": line.r2,
            }
        )
    undefined = any(np.isnan(p["median_epsilon_ratio"]) for p in points)
    if not undefined:
        points.sort(key=lambda p: p["median_epsilon_ratio"])
    rho = float("nan")
    if len(points) >= 3 and not undefined:
        eps = [p["median_epsilon_ratio"] for p in points]
        deviation = [abs(1.0 - p["slope"]) for p in points]
        rho = float(stats.spearmanr(eps, deviation)[0])
    return {"sweep": points, "spearman_epsilon_deviation": rho}


def _check_sweep(info: dict[str, Any]) -> tuple[bool, str]:
    """The slope approaches 1 as ε -> 0: monotone trend and the end point."""
    points = info["sweep"]
    rho = info["spearman_epsilon_deviation"]
    end = points[0]
    # NaN (an undefined ratio, too few cases) fails both comparisons
    ok = bool(rho >= 0.8 and abs(1.0 - end["slope"]) <= 0.05)
    listing = "; ".join(
        f"{p['case'].removeprefix('sweep ')}: median ε / weak error "
        f"{p['median_epsilon_ratio']:.3g}, slope {_fmt(p['slope'])}"
        for p in points
    )
    word = "does" if ok else "does not clearly"
    text = (
        f"The slope {word} approach 1 as ε → 0: Spearman correlation of ε / weak "
        f"error and |1 − slope| across the {len(points)} strong representations "
        f"{_fmt(rho, '.2f')} (target ≥ 0.8), and the smallest-ε end point "
        f"({end['case'].removeprefix('sweep ')}) has slope {_fmt(end['slope'])} "
        f"(target within 0.05 of 1). {listing}."
    )
    return bool(ok), text


def sweep_figure(
    records: pd.DataFrame, summary: dict[str, Any], out: Path
) -> list[Path]:
    """Write ``sweep_slope_vs_epsilon.png``: slope against median ε / weak error."""
    info = summary["panels"].get(SWEEP["name"])
    if info is None or "sweep" not in info:
        return []
    import matplotlib.pyplot as plt

    points = info["sweep"]
    x = np.array([p["median_epsilon_ratio"] for p in points])
    slope = np.array([p["slope"] for p in points])
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.axhline(1.0, color="black", ls="--", lw=1, label="slope 1 (Theorem 1)")
    ax.plot(x, slope, "o-", color="tab:blue", label="slope of gain on misfit")
    for p in points:
        ax.annotate(
            p["case"].removeprefix("sweep "),
            (p["median_epsilon_ratio"], p["slope"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize="small",
        )
    ax.set_xscale("symlog", linthresh=max(1e-3, float(x[x > 0].min(initial=1e-3))))
    ax.set(
        xlabel="median ε / weak error (strong training sample)",
        ylabel="slope of gain on misfit (fresh rows)",
        title="ε sweep (2b's setup; h* = 2a)",
    )
    ax.legend(fontsize="small", frameon=False)
    fig.tight_layout()
    path = out / "sweep_slope_vs_epsilon.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def _claims(
    claims: dict[str, tuple[str, _Check]], titles: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """An Experiment's claims from ``{panel: (text, check)}`` and the titles."""
    return {
        p: {"title": titles[p], "text": t, "check": c} for p, (t, c) in claims.items()
    }


_CLAIMS: dict[str, tuple[str, _Check]] = {
    "2a": (
        "Theorem 1 holds: gain ≥ misfit; the points lie on y = x.",
        _check_realizable,
    ),
    "2b": (
        "Non-realizable pretraining: gain ≈ misfit up to Theorem 2's error terms.",
        _check_decomposition("2b"),
    ),
    "2c": (
        "Perturbed representations: gain ≈ misfit up to Theorem 2's error terms.",
        _check_decomposition("2c"),
    ),
    "3a": (
        "Roles swapped: the plot mirrors 2b (negative slope).",
        _check_negative,
    ),
    "3b": (
        "Roles swapped: the plot mirrors 2c (negative slope).",
        _check_negative,
    ),
    "3c": (
        "Low-sample pretraining: the 2-layer net learns the better "
        "representation, so the trend mirrors 3a/3b (negative slope).",
        _check_negative,
    ),
    "D-tanh": (
        "Non-convex F_s: the gain is still well characterised by the misfit.",
        _check_tracks,
    ),
    "D-relu": (
        "Non-convex F_s: the gain is still well characterised by the misfit.",
        _check_tracks,
    ),
    "D-sigmoid": (
        "Non-convex F_s: the gain is still well characterised by the misfit.",
        _check_tracks,
    ),
    SWEEP["name"]: (
        "(Not in the paper.) Theorem 2: as the strong representation's ε → 0, "
        "gain → misfit, so the slope of gain on misfit should approach 1.",
        _check_sweep,
    ),
}

_TITLES = {p: v[3] for p, v in PANELS.items()} | {SWEEP["name"]: SWEEP["title"]}

SYNTHETIC = Experiment(
    name="synthetic",
    make_cases=make_synthetic_cases,
    help="Figures 2a-c, 3a-c and appendix D, and the ε sweep",
    options=(
        Option(
            "--panels",
            "comma-separated panels (default: all): "
            + ",".join((*PANELS, SWEEP["name"])),
            type=comma_list,
        ),
        Option(
            "--heads",
            "exact least squares (default) or the paper's Adam procedure",
            choices=("exact", "gradient"),
        ),
        Option(
            "--epochs",
            "epochs of the gradient heads (default: the paper's 1000)",
            type=positive_int,
        ),
        Option(
            "--pretrain-steps",
            f"optimiser steps of the fast pretraining (default "
            f"{PRETRAIN_STEPS['fast']}; the low-sample recipe gets 10 times as many)",
            type=positive_int,
        ),
        Option(
            "--n-jobs",
            "processes pretraining the representations (default 2; 1: none)",
            type=positive_int,
        ),
    ),
    panel_by="group",
    selection=False,
    claims=_claims(_CLAIMS, _TITLES),
    panel_summaries={SWEEP["name"]: sweep_summary},
    extra_figures=sweep_figure,
    title="Synthetic weak-to-strong experiments (Charikar et al. 2024, §5.1, §5.3, "
    "appendix D)",
    notes=[
        "Paper settings: d=8, hidden 16, σ=500, T=10, N_r=2000, M=100 tasks, "
        "N_f=2000, a fresh sample of N_f rows for each role (weak training, weak "
        "labelling / strong training, evaluation), as the paper's text says. The "
        "authors' notebook instead made the weak labels on the weak model's own "
        "training inputs, which raises 2a's slope from 0.957 to 1.045 and 2b's "
        "from 0.767 to 0.876 and lowers 2c's to 0.778.",
        "The M tasks share their rows within each role (one multi-output fit); "
        "the paper drew rows per task. Each task's numbers are distributed the "
        "same way (per-task rows were tried and changed nothing).",
        "Heads are the exact least-squares minimisers (the paper approximated "
        "them with Adam); `--heads gradient` runs the paper's procedure.",
        f"Pretraining (eq. 9, the true pretraining heads given) is budgeted in "
        f"optimiser steps, not epochs: {PRETRAIN_STEPS['fast']} steps of Adam "
        f"(batch 512, lr 3e-3, cosine) for the T=10, N_r=2000 nets; the low-sample "
        f"nets of 3c (T=5, N_r=250) use the paper's recipe (AdamW, weight decay "
        f"0.01, batch 32, lr 1e-3 constant, one initialisation) for "
        f"{PRETRAIN_STEPS['paper']} steps. A representation whose final loss is "
        f"not below {UNDERTRAINED_RATIO} times the variance of its labels is "
        f"flagged in its panels.",
        "ε is Theorem 2's distance from the truth to the strong model's set: "
        "`ceiling_error` is the error on fresh rows of the strong head fitted on "
        "the true labels of the strong rows, `train_epsilon` the same on those "
        "rows, `train_epsilon_ratio` = train_epsilon / train_weak_error.",
        "On the strong head's training rows gain − misfit = 2⟨w − f, f − p⟩ + "
        "2⟨w − f, p − y*⟩ exactly (w weak labels, f the strong fit, p the ceiling "
        "fit, y* the truth): `train_projection_term` (≥ 0 for an exact convex "
        "head, 0 for least squares) and `train_epsilon_term` (at most "
        "`train_epsilon_bound` = 2√(misfit·ε) in size). For the least-squares "
        "head, `train_ls_gap` = −2⟨(I−P)w, (I−P)y*⟩ computed from the strong "
        "features independently of the head. A slope below 1 in 2b/2c is this ε "
        "term, non-zero whenever ε > 0: in 2b ε is the 8-layer net's pretraining "
        "fit error (the strong error is the same inside and outside the "
        "span of the pretraining heads), in 2c the error of h* with perturbed "
        "weights; the slope does not depend on σ (the same at σ = 5, "
        "500, 50,000).",
        "The authors' slopes (2a 0.89, 2b 0.68, 2c 0.85) are cited reference "
        "values: " + AUTHORS_SOURCE + ".",
        "Appendix D: the tasks are φ∘linear∘h* (drawn from the non-convex F_s "
        "itself) and both heads are φ∘linear, each task fitted on its own by "
        "Levenberg-Marquardt from the least-squares fit of φ⁻¹(y).",
        "The ε sweep keeps 2b's weak model and tasks and pretrains the strong "
        "8-layer net for 1/64, 1/16, 1/4 and 1 times 2b's budget; h* (2a's "
        "strong representation, ε = 0) is the end point. "
        "`sweep_slope_vs_epsilon.png` plots each one's slope against its median "
        "ε / weak error.",
    ],
)
