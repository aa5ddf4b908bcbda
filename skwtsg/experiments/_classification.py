"""Weak-to-strong classification: the KL identity on synthetic tasks and on digits.

``"2a"``-``"2c"``: Figures 2a-2c with softmax tasks on ``h*`` (``y`` holds the
truth's probabilities, errors are KL). ``"digits"``: hard labels, log-loss
errors, weak supervisors ranked by the bound. The report's notes say more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..datasets._essays import ELLIPSE_RUBRICS
from ._case import (
    DATA_HOME,
    Experiment,
    Option,
    W2SCase,
    comma_list,
    positive_int,
)
from ._essays_classification import (
    BURNS_CLAIM,
    burns_summary,
    check_burns,
)
from ._synthetic import _claims

__all__ = ["CLASSIFICATION", "PARTS", "make_classification_cases"]

#: Synthetic panels: (weak representation, strong representation, title), in
#: the notation of :data:`skwtsg.experiments._synthetic.PANELS`.
SYNTHETIC_PANELS = {
    "2a": ("pre2", "h*", "2a realizable: h_s = h*, h_w 2-layer"),
    "2b": ("pre2", "pre8", "2b pretrained: h_w 2-layer, h_s 8-layer"),
    "2c": ("pert0.05", "pert0.01", "2c perturbed: σ_w=0.05, σ_s=0.01"),
}

#: Every part, in order; "essays" (ELLIPSE, binary rubrics) reads the data.
PARTS = (*SYNTHETIC_PANELS, "digits", "essays")
#: The parts run by default (the essays need the data and the encoders).
DEFAULT_PARTS = (*SYNTHETIC_PANELS, "digits")

#: Synthetic sizes: pretraining tasks and rows, finetuning tasks and rows per
#: role, classes, pretraining epochs.
FULL_SIZES = dict(
    n_pretrain_tasks=10, n_pretrain_samples=500, n_tasks=50, n_samples=1000
)
QUICK_SIZES = dict(n_pretrain_tasks=4, n_pretrain_samples=100, n_tasks=3, n_samples=150)
N_CLASSES = 3

#: Standard deviation of the true logits (their temperature).
LOGIT_SCALE = 2.0

#: Digits: rows for the weak model and the strong model in each split (the
#: rest are evaluation rows), and the number of random splits.
DIGITS_SIZES = {False: (400, 900, 10), True: (200, 400, 1)}


def make_classification_cases(
    parts: Sequence[str] = DEFAULT_PARTS,
    *,
    n_jobs: int = 2,
    quick: bool = False,
    random_state: int = 0,
    data_home: Any = None,
    cache_dir: Any = None,
    verbose: bool = False,
) -> list[W2SCase]:
    """The cases of the classification reproduction: one per (synthetic panel,
    task), ``y`` the truth's probabilities, one per random digits split,
    ``y`` the labels, and one per ELLIPSE rubric (``"essays"``, see
    :func:`~skwtsg.experiments._essays_classification.make_essay_classification_cases`;
    ``data_home`` and ``cache_dir`` as in the essays experiment); ``n_jobs``
    processes pretrain the representations.

    Examples
    --------
    >>> from skwtsg.experiments._classification import make_classification_cases
    >>> cases = make_classification_cases(["digits"], quick=True)
    >>> len(cases), cases[0].kind, sorted(cases[0].weak_featurizers)[:2]
    (1, 'classification', ['coarse2x2', 'coarse4x4-bin'])
    """
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"Unknown parts {unknown}; choose from {list(PARTS)}.")
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise ValueError(f"`n_jobs` must be a positive int, got {n_jobs!r}.")
    cases: list[W2SCase] = []
    panels = [p for p in parts if p in SYNTHETIC_PANELS]
    if panels:
        cases += _synthetic_cases(panels, n_jobs, quick, random_state, verbose)
    if "digits" in parts:
        cases += _digits_cases(quick, random_state)
    if "essays" in parts:
        from ._essays_classification import make_essay_classification_cases

        cases += make_essay_classification_cases(
            quick=quick,
            random_state=random_state,
            data_home=data_home,
            cache_dir=cache_dir,
            verbose=verbose,
        )
    return cases


# ----------------------------------------------------------------- synthetic
def _synthetic_cases(panels, n_jobs, quick, random_state, verbose):
    from scipy.special import softmax

    from ..featurizers import TorchFeaturizer
    from ._synthetic import (
        PRETRAIN_STEPS,
        QUICK_PRETRAIN_STEPS,
        _representations,
        _shared_sample,
    )

    start = time.perf_counter()
    sizes = QUICK_SIZES if quick else FULL_SIZES
    tasks, X, _, roles = _shared_sample(sizes, random_state)
    keys = sorted({k for p in panels for k in SYNTHETIC_PANELS[p][:2]})
    steps = dict(QUICK_PRETRAIN_STEPS if quick else PRETRAIN_STEPS)
    # Quick runs pretrain in this process: starting workers costs more.
    workers = 1 if quick else n_jobs
    reps, _ = _representations(keys, tasks, steps, quick, random_state, workers)
    # The truth: softmax tasks on h*, one (hidden x K) matrix per task.
    H = TorchFeaturizer(tasks.target_module, dtype="float64").fit(X).transform(X)
    rng = np.random.RandomState(random_state + 7)
    bound = 1.0 / np.sqrt(H.shape[1])
    probas = []
    for _ in range(sizes["n_tasks"]):
        W = rng.uniform(-bound, bound, size=(H.shape[1], N_CLASSES))
        logits = H @ W
        logits = LOGIT_SCALE * (logits - logits.mean(axis=0)) / logits.std()
        probas.append(softmax(logits, axis=1))

    # The representations are fixed: compute them once per panel and give
    # the runner their columns (X_panel = [h_w(x) | h_s(x)]).
    features = {
        key: TorchFeaturizer(reps[key], dtype="float64").fit(X).transform(X)
        for key in keys
    }
    prepare_seconds = time.perf_counter() - start
    cases = []
    for panel in panels:
        weak_key, strong_key, _ = SYNTHETIC_PANELS[panel]
        X_panel = np.hstack([features[weak_key], features[strong_key]])
        d_w = features[weak_key].shape[1]
        weak = _columns(0, d_w)
        strong = _columns(d_w, X_panel.shape[1])
        for t, P in enumerate(probas):
            cases.append(
                W2SCase(
                    name=f"{panel}-task{t}",
                    X=X_panel,
                    y=P,
                    roles=roles,
                    strong_featurizer=strong,
                    weak_featurizers={weak_key: weak},
                    task_names=[f"task{t}"],
                    group=panel,
                    kind="classification",
                    meta={
                        "weak": weak_key,
                        "strong": strong_key,
                        "prepare_seconds": prepare_seconds
                        if (panel, t) == (panels[0], 0)
                        else 0.0,
                        "pretrain_steps": steps,
                        "n_classes": N_CLASSES,
                        **{k: int(v) for k, v in sizes.items()},
                    },
                )
            )
    return cases


def _columns(start, stop):
    """A transformer keeping the columns ``start:stop`` (clonable)."""
    from sklearn.preprocessing import FunctionTransformer

    return FunctionTransformer(
        np.take, kw_args={"indices": np.arange(start, stop), "axis": 1}
    )


# -------------------------------------------------------------------- digits
def _block_means(images, block):
    """Means over ``block x block`` pixel blocks of the 8 x 8 images."""
    n = images.shape[0]
    k = 8 // block
    return images.reshape(n, k, block, k, block).mean(axis=(2, 4)).reshape(n, -1)


def _coarse(block, binary):
    from sklearn.preprocessing import FunctionTransformer

    def transform(X):
        Z = _block_means(np.asarray(X, dtype=float), block)
        return (Z > 8.0).astype(float) if binary else Z

    return FunctionTransformer(transform)


def digits_weak_featurizers(random_state=0):
    """The weak supervisors of the digits panel, by name.

    ``pca{k}-quad``: degree-2 monomials of ``k`` standardised principal
    components (outside the strong linear span); ``coarse4x4-bin``: 2 x 2
    block means, binarized; ``coarse2x2``: 4 x 4 block means.

    Examples
    --------
    >>> from skwtsg.experiments._classification import digits_weak_featurizers
    >>> sorted(digits_weak_featurizers())
    ['coarse2x2', 'coarse4x4-bin', 'pca2-quad', 'pca4-quad', 'pca6-quad']
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    out = {
        f"pca{k}-quad": make_pipeline(
            PCA(n_components=k, random_state=random_state),
            StandardScaler(),
            PolynomialFeatures(degree=2, include_bias=False),
        )
        for k in (2, 4, 6)
    }
    out["coarse4x4-bin"] = _coarse(2, True)
    out["coarse2x2"] = _coarse(4, False)
    return out


def _digits_cases(quick, random_state):
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X, y = load_digits(return_X_y=True)
    n_weak, n_strong, n_splits = DIGITS_SIZES[bool(quick)]
    rng = np.random.RandomState(random_state)
    cases = []
    for split in range(n_splits):
        perm = rng.permutation(len(y))
        roles = np.empty(len(y), dtype=object)
        roles[perm[:n_weak]] = "weak"
        roles[perm[n_weak : n_weak + n_strong]] = "strong"
        roles[perm[n_weak + n_strong :]] = "eval"
        cases.append(
            W2SCase(
                name=f"digits-split{split}",
                X=X,
                y=y,
                roles=roles.astype(str),
                strong_featurizer=PCA(n_components=30, random_state=random_state),
                weak_featurizers=digits_weak_featurizers(random_state),
                task_names=["digit"],
                group="digits",
                kind="classification",
                meta={"split": split, "n_weak": n_weak, "n_strong": n_strong},
            )
        )
    return cases


# -------------------------------------------------------------------- claims
def _fmt_train(info):
    tr = info.get("train", {})
    return (
        f"on the strong head's training sample: slope {tr.get('slope', np.nan):.6f}, "
        f"R² {tr.get('r2', np.nan):.8f}, gain ≥ misfit (1e-9 relative) for "
        f"{100 * tr.get('frac_gain_ge_misfit_exact', np.nan):.0f}% of tasks"
    )


def _check_realizable(info):
    tr = info["train"]
    ok = (
        tr["frac_gain_ge_misfit_exact"] == 1.0
        and abs(tr["slope"] - 1.0) <= 1e-6
        and tr["r2"] >= 1.0 - 1e-9
    )
    ev = info["eval"]
    return ok, (
        _fmt_train(info)
        + f"; on fresh rows slope {ev['slope']:.3f}, R² {ev['r2']:.4f}."
    )


def _check_pretrained(info):
    ev = info["eval"]
    ok = 0.8 <= ev["slope"] <= 1.2 and ev["r2"] >= 0.9
    return ok, (
        f"on fresh rows slope {ev['slope']:.3f} (target [0.8, 1.2]), R² "
        f"{ev['r2']:.4f} (target ≥ 0.9); "
        + _fmt_train(info)
        + f"; mean weak KL error {info['mean']['weak_error']:.3g}, strong "
        f"{info['mean']['strong_error']:.3g}."
    )


def _check_digits(info):
    ev, mean, sel = info["eval"], info["mean"], info["selection"]
    text = (
        f"log-loss gain on KL misfit: slope {ev['slope']:.3f}, R² {ev['r2']:.3f} "
        f"(empirical with hard labels); mean accuracy weak "
        f"{mean['weak_accuracy']:.3f}, strong {mean['strong_accuracy']:.3f}, "
        f"ceiling {mean['ceiling_accuracy']:.3f}, accuracy PGR "
        f"{mean['accuracy_pgr']:.3f}; the bound picks {sel['pick']}, the "
        f"smallest true strong log-loss is {sel['best']} (regret "
        f"{sel['regret']:.4g}, Spearman {sel['spearman']:.3f})."
    )
    return bool(sel["pick_is_best"]), text


_CLAIMS = {
    "2a": (
        "KL identity (Mulgund & Pabbaraju 2025): with h_s = h* the truth is "
        "realizable and gain = misfit exactly on the strong head's training "
        "sample.",
        _check_realizable,
    ),
    "2b": (
        "Pretrained (non-realizable) representations: gain ≈ misfit up to the "
        "distance from the truth to the strong model's set.",
        _check_pretrained,
    ),
    "2c": (
        "Perturbed representations: gain ≈ misfit.",
        _check_pretrained,
    ),
    "digits": (
        "Hard labels: gain in log-loss tracks the KL misfit only empirically; the "
        "weak supervisor with the smallest bound (weak log-loss − KL misfit) "
        "should give the strong model with the smallest log-loss.",
        _check_digits,
    ),
}

_TITLES = {p: v[2] for p, v in SYNTHETIC_PANELS.items()}
_TITLES["digits"] = "digits: weak supervisors → PCA(30) softmax"

#: The essays panels: one per rubric (every rubric; a quick run has two).
_ESSAY_PANELS = [f"essays {r}" for r in ELLIPSE_RUBRICS]
for _panel in _ESSAY_PANELS:
    _CLAIMS[_panel] = (BURNS_CLAIM, check_burns)
    _TITLES[_panel] = f"{_panel} (> median): weak supervisors → mpnet layer 8"

CLASSIFICATION = Experiment(
    name="classification",
    make_cases=make_classification_cases,
    help="KL misfit and gain: softmax tasks on h* (2a-c) and digits",
    options=(
        Option(
            "--parts",
            "comma-separated parts (default: all but essays): " + ",".join(PARTS),
            type=comma_list,
        ),
        DATA_HOME,
        Option("--cache-dir", "embedding cache folder (essays)"),
        Option(
            "--n-jobs",
            "processes pretraining the synthetic representations (default 2)",
            type=positive_int,
        ),
    ),
    claims=_claims(_CLAIMS, _TITLES),
    panel_summaries=dict.fromkeys(_ESSAY_PANELS, burns_summary),
    panel_by="group",
    selection=True,
    title="Weak-to-strong classification: KL misfit and gain (Mulgund & "
    "Pabbaraju 2025; Charikar et al. 2024, Figures 2a-c analogues; digits)",
    axis_titles={
        "misfit": "Misfit: KL(p_weak ‖ p_strong)",
        "gain": "Gain: weak error − strong error (KL or log-loss)",
    },
    notes=[
        "Synthetic panels: the paper's h* (d=8, hidden 16, σ=500) with softmax "
        f"tasks: {N_CLASSES} classes, logits c·W h*(x) with W uniform as "
        "torch's Linear initialisation and c setting the logits' standard "
        f"deviation to {LOGIT_SCALE}; y holds the truth's probabilities, so "
        "every error is E[KL(p_model ‖ p*)] (the model first), the misfit "
        "E[KL(p_weak ‖ p_strong)].",
        "Synthetic sizes (smaller than the paper's, for a run under a minute): "
        f"T={FULL_SIZES['n_pretrain_tasks']} pretraining tasks with "
        f"N_r={FULL_SIZES['n_pretrain_samples']} rows, "
        "pretraining to the synthetic reproduction's step budgets (eq. 9, "
        "regression tasks, the same representations), "
        f"M={FULL_SIZES['n_tasks']} softmax "
        f"tasks, N_f={FULL_SIZES['n_samples']} fresh rows per role.",
        "Heads: the strong head is the exact SoftmaxHead (no penalty) fitted on "
        "the weak model's probabilities; the weak head and the ceiling (strong "
        "representation, true labels) are SoftmaxHead(alpha=1e-3).",
        "Digits (sklearn's load_digits, 1797 images of 8x8 pixels, hard "
        f"labels): per split {DIGITS_SIZES[False][0]} weak rows, "
        f"{DIGITS_SIZES[False][1]} strong rows, the rest evaluation; "
        f"{DIGITS_SIZES[False][2]} random splits. Strong representation: 30 "
        "principal components of the pixels (fitted on the strong rows). Weak "
        "supervisors: degree-2 monomials of 2, 4 or 6 standardised principal "
        "components, the image binarized on 2x2 blocks, and the 4x4-block mean "
        "image (4 numbers, nearly in the strong span: small misfit).",
        "With hard labels the errors are log-losses E[-log p_model(y)] and the "
        "relation between gain and KL misfit is empirical, not a theorem.",
        "Essays (--parts essays; the ELLIPSE test half, 2571 essays, read "
        "from --data-home or $SKWTSG_DATA, embeddings from the cache): each "
        "rubric is a binary task, label 1 when the score is strictly above the "
        "rubric's median over the essays (3.0 for every rubric; ties at the "
        "median are 0). The essays experiment's first 70/30 split; its 70% "
        "divided at random into a weak half and a strong half (Burns et al.'s "
        "protocol), the 30% evaluation rows. Weak supervisors: mpnet layers 0, "
        "1, 2, 4, TF-IDF + SVD widths, MiniLM (the essays experiment's); weak "
        "heads and the ceiling LogisticRegression(C=1); the strong model mpnet's "
        "layer 8 with the exact SoftmaxHead on the weak probabilities.",
        "Essays intervals: 95% paired BCa bootstrap over the evaluation rows "
        "(the weak, weak-to-strong and ceiling predictions of a row drawn "
        "together, each PGR recomputed per resample), in each record's "
        "<name>_low and <name>_high; an accuracy PGR whose gap (ceiling − weak "
        "accuracy) has an interval containing 0 is flagged unstable and not "
        "counted. The verdict beside Burns et al. (2023) counts the stable "
        "PGRs whose interval lies above 0 and below 1.",
    ],
)
