"""The paper's synthetic experiments (Figures 2a-c, 3a-c and appendix D) as cases."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from joblib import Parallel, delayed

from ._case import Experiment, Option, W2SCase, comma_list

__all__ = ["PANELS", "make_synthetic_cases", "SYNTHETIC"]

#: Panels: (weak representation, strong representation, head kind, title).
#: Representations: "h*" (the target), "pre2"/"pre8" (2-/8-layer MLPs
#: pretrained by eq. 9 on T=10, N_r=2000), "low2"/"low8" (the same on T=5,
#: N_r=250), "pert0.01"/"pert0.05" (h* with N(0, sigma^2) weight noise).
PANELS = {
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

PAPER_SIZES = dict(
    n_pretrain_tasks=10, n_pretrain_samples=2000, n_tasks=100, n_samples=2000
)
QUICK_SIZES = dict(n_pretrain_tasks=4, n_pretrain_samples=150, n_tasks=6, n_samples=150)


def make_synthetic_cases(
    panels: Sequence[str] = tuple(PANELS),
    *,
    heads: str = "exact",
    epochs: int | None = None,
    pretrain_epochs: int | None = None,
    n_jobs: int = 2,
    quick: bool = False,
    random_state: int = 0,
    verbose: bool = False,
) -> list[W2SCase]:
    """Build the cases of the paper's synthetic panels.

    One case per panel, sharing one draw of ``h*``, of the tasks and of the
    fresh samples for each role (weak training, weak labelling / strong
    training, evaluation): every panel's M tasks are the same, only the
    representations (and heads) differ. Representations are pretrained once
    and reused by every panel that needs them.

    Parameters
    ----------
    panels : sequence of str, default=all of :data:`PANELS`
        Which panels to build.
    heads : {"exact", "gradient"}, default="exact"
        ``"exact"``: the exact least-squares head (the theorem's minimiser);
        ``"gradient"``: the paper's procedure (AdamW, batch 32, lr 1e-3).
        Appendix D's panels always use the non-convex heads ``φ∘linear``.
    epochs : int, default=None
        Epochs of the gradient heads (default 1000, the paper's; 5 when
        ``quick``).
    pretrain_epochs : int, default=None
        Epochs of the multi-task pretraining (eq. 9) with
        :class:`~skwtsg.featurizers.MultiTaskFeaturizer`'s fast optimiser:
        default 300 (20 when ``quick``), which reaches a lower training loss
        than the paper's procedure does in 1000 epochs (see
        ``benchmarks/bench_representations.py``).
    n_jobs : int, default=2
        Processes pretraining the representations in parallel (one torch
        thread each).
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
    from ..datasets import make_synthetic_tasks
    from ..featurizers import TorchFeaturizer
    from ..heads._gradient import _phi_numpy  # the heads' own (stable) phi

    unknown = sorted(set(panels) - set(PANELS))
    if unknown:
        raise ValueError(f"Unknown panels {unknown}; choose from {list(PANELS)}.")
    if heads not in ("exact", "gradient"):
        raise ValueError(f"`heads` must be 'exact' or 'gradient', got {heads!r}.")
    sizes = QUICK_SIZES if quick else PAPER_SIZES
    tasks = make_synthetic_tasks(**sizes, random_state=random_state)
    X = np.vstack([tasks.X_weak, tasks.X_strong, tasks.X_eval])
    y = np.vstack([tasks.y_weak, tasks.y_strong, tasks.y_eval])
    n = sizes["n_samples"]
    roles = np.repeat(["weak", "strong", "eval"], n)
    keys = sorted({k for p in panels for k in PANELS[p][:2]})
    start = time.perf_counter()
    epochs_ = pretrain_epochs or (20 if quick else 300)
    pretrained = [k for k in keys if k[:3] in ("pre", "low")]
    jobs = (
        delayed(_pretrain)(k, tasks, epochs_, quick, random_state) for k in pretrained
    )
    parallel = Parallel(n_jobs=min(n_jobs, len(pretrained) or 1), return_as="generator")
    results = parallel(jobs)
    if verbose and pretrained:
        from tqdm.auto import tqdm

        results = tqdm(
            results, total=len(pretrained), desc="pretraining (eq. 9)", leave=False
        )
    reps = dict(zip(pretrained, results))
    for key in keys:
        if key not in reps:
            reps[key] = _fixed_representation(key, tasks, random_state)
    prepare_seconds = time.perf_counter() - start

    cases = []
    for i, panel in enumerate(panels):
        weak_key, strong_key, kind, _ = PANELS[panel]
        weak, strong = reps[weak_key], reps[strong_key]
        y_panel = y if kind == "linear" else _phi_numpy(kind, y)
        head = _head(kind, heads, epochs, quick, random_state)
        cases.append(
            W2SCase(
                name=panel,
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
                    "prepare_seconds": prepare_seconds if i == 0 else 0.0,
                    "pretrain_epochs": epochs_,
                    **{k: int(v) for k, v in sizes.items()},
                },
            )
        )
    return cases


def _fixed_representation(key, tasks, random_state):
    """h* itself, or h* with every weight perturbed by N(0, sigma^2)."""
    from ..featurizers import perturb_weights

    if key == "h*":
        return tasks.target_module
    sigma = float(key[4:])
    seed = random_state + (1 if sigma < 0.03 else 2)
    return perturb_weights(tasks.target_module, sigma, random_state=seed)


def _pretrain(key, tasks, epochs, quick, random_state):
    """An MLP pretrained by eq. (9) with the true pretraining heads, frozen."""
    from .._utils._torch import _torch_threads
    from ..featurizers import MultiTaskFeaturizer

    n_layers = int(key[-1])
    X, Y, heads = tasks.pretrain_X, tasks.pretrain_Y, tasks.pretrain_heads
    if key.startswith("low"):
        # the low-sample regime: the first T=5 tasks, N_r=250 rows each
        T, n_r = (2, 50) if quick else (5, 250)
        per_task = X.shape[0] // Y.shape[1]
        rows = np.concatenate([t * per_task + np.arange(n_r) for t in range(T)])
        X, Y, heads = X[rows], Y[rows][:, :T], heads[:, :T]
    with _torch_threads(1):  # tiny networks: one thread per process is fastest
        featurizer = MultiTaskFeaturizer(
            module__n_layers=n_layers,
            task_heads=heads,
            max_epochs=epochs,
            random_state=random_state + n_layers,
        )
        return featurizer.fit(X, Y).module_


def _head(kind, heads, epochs, quick, random_state):
    if kind != "linear":
        from ..heads import NonConvexHead

        return NonConvexHead(
            activation=kind, max_epochs=30 if quick else None, random_state=random_state
        )
    if heads == "exact":
        return None
    from ..heads import GradientLinearHead

    return GradientLinearHead(
        max_epochs=epochs or (5 if quick else 1000), random_state=random_state
    )


def _check_between(lo, hi, r2_min=None):
    def check(info):
        ev = info["eval"]
        ok = lo <= ev["slope"] <= hi and (r2_min is None or ev["r2"] >= r2_min)
        text = f"slope {ev['slope']:.3f} (target [{lo}, {hi}]), R² {ev['r2']:.4f}" + (
            f" (target ≥ {r2_min})" if r2_min is not None else ""
        )
        if "train" in info:
            tr = info["train"]
            text += (
                f"; on the training sample gain ≥ misfit for "
                f"{100 * tr['frac_gain_ge_misfit_exact']:.0f}% of tasks and "
                f"Theorem 2's deterministic form for "
                f"{100 * tr.get('frac_theorem2_holds', float('nan')):.0f}%, with "
                f"median ε {tr.get('median_epsilon', float('nan')):.3g} against a "
                f"mean weak error of {info['mean']['weak_error']:.3g}"
            )
        return ok, text + "."

    return check


def _check_realizable(info):
    ok, text = _check_between(0.95, 1.05, 0.99)(info)
    return ok and info["train"]["frac_gain_ge_misfit_exact"] == 1.0, text


_CLAIMS = {
    "2a": (
        "Theorem 1 holds: gain ≥ misfit; the points lie on y = x.",
        _check_realizable,
    ),
    "2b": (
        "Non-realizable pretraining: gain ≈ misfit up to Theorem 2's error terms.",
        _check_between(0.9, 1.1, 0.95),
    ),
    "2c": ("Perturbed representations: gain ≈ misfit.", _check_between(0.9, 1.1, 0.95)),
    "3a": (
        "Roles swapped: the plot mirrors 2b, gain ≈ −misfit (slope ≈ −1).",
        _check_between(-1.2, -0.8),
    ),
    "3b": (
        "Roles swapped: the plot mirrors 2c, gain ≈ −misfit (slope ≈ −1).",
        _check_between(-1.2, -0.8),
    ),
    "3c": (
        "Low-sample pretraining: the 2-layer net learns the better "
        "representation, so the trend mirrors 3a/3b (slope ≈ −1).",
        _check_between(-1.2, -0.8),
    ),
    "D-tanh": (
        "Non-convex F_s: the gain is still well characterised by the misfit.",
        _check_between(0.8, 1.2, 0.9),
    ),
    "D-relu": (
        "Non-convex F_s: the gain is still well characterised by the misfit.",
        _check_between(0.8, 1.2, 0.9),
    ),
    "D-sigmoid": (
        "Non-convex F_s: the gain is still well characterised by the misfit.",
        _check_between(0.8, 1.2, 0.9),
    ),
}

SYNTHETIC = Experiment(
    name="synthetic",
    make_cases=make_synthetic_cases,
    help="Figures 2a-c, 3a-c and appendix D",
    options=(
        Option(
            "--panels",
            "comma-separated panels (default: all): " + ",".join(PANELS),
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
            type=int,
        ),
        Option(
            "--n-jobs",
            "processes pretraining the representations (default 2)",
            type=int,
        ),
    ),
    panel_by="group",
    selection=False,
    claims={
        p: {"title": PANELS[p][3], "text": t, "check": c}
        for p, (t, c) in _CLAIMS.items()
    },
    title="Synthetic weak-to-strong experiments (Charikar et al. 2024, §5.1, §5.3, "
    "appendix D)",
    notes=[
        "Paper settings: d=8, hidden 16, σ=500, T=10, N_r=2000, M=100 tasks, "
        "N_f=2000, a fresh sample of N_f rows for each role (weak training, weak "
        "labelling / strong training, evaluation). The authors' notebook reused "
        "the weak model's training inputs for the weak labels; we do not.",
        "The M tasks share their rows within each role (one multi-output fit); "
        "the paper drew rows per task. Each task's numbers are distributed the "
        "same way.",
        "Heads are the exact least-squares minimisers (the paper approximated "
        "them with Adam); `--heads gradient` runs the paper's procedure.",
        "Appendix D: the tasks are φ∘linear∘h* (drawn from the non-convex F_s "
        "itself) and both heads are φ∘linear fitted by L-BFGS.",
        "`ceiling_error` in the CSVs is Theorem 2's ε measured on fresh rows (the "
        "error of the strong head trained on the true labels of the strong rows); "
        "`train_epsilon` the same on those rows.",
        "Where a panel differs from the paper (2b, 2c: slope below 0.9), the "
        "measured ε is not small next to the weak error (see the table). In 2b "
        "the pretraining objective (eq. 9, heads given) sees h only through its "
        "projection on the span of the T=10 pretraining heads, while the "
        "finetuning heads are random in all 16 directions; in 2c the noise on "
        "h*'s weights is amplified by inputs of scale σ=500. Theorem 2 allows "
        "gain < misfit by O(√ε), and its deterministic form holds exactly on the "
        "training sample for every task (column 'Thm 2 holds'). Pretraining for "
        "1000 epochs instead of 300 moved 2b only from slope 0.77 to 0.78.",
        "3c: with T=5, N_r=250 neither representation is good (both weak and "
        "strong errors are several times those of 2b) and the 2-layer net does not "
        "come out better than the 8-layer one, so the reversal the paper saw does "
        "not appear with this draw.",
    ],
)
