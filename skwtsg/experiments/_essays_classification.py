"""Binary essay grading in the style of Burns et al. (2023): accuracy PGR.

Each ELLIPSE rubric is thresholded at its median over the essays used
(label 1: a score strictly above the median; ties at the median are 0). The
weak supervisors are those of the essays experiment
(:func:`~skwtsg.experiments.make_essay_cases`: mpnet's early layers, TF-IDF +
SVD widths, MiniLM); the strong model is mpnet's layer 8 with an exact
:class:`~skwtsg.heads.SoftmaxHead` trained on the weak model's
probabilities. Every representation is embedded once (from the cache) and
the cases hold the embeddings side by side, each featurizer a column block.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._case import W2SCase

__all__ = ["make_essay_classification_cases", "burns_summary", "BURNS_CLAIM"]

#: Confidence level of the intervals in the records, and resamples.
CONFIDENCE_LEVEL, N_RESAMPLES = 0.95, 4999
#: With ``quick``: rubrics and weak supervisors kept.
QUICK_RUBRICS = ("Cohesion", "Conventions")
QUICK_WEAK = ("mpnet layer=0", "tfidf-svd k=8", "MiniLM final")
#: A PGR is "far from 1" when its interval's upper end is below this.
FAR_FROM_ONE = 1.0

BURNS_CLAIM = (
    "Burns et al. (2023), NLP tasks without auxiliary losses: the strong "
    "student trained on weak labels beats its weak supervisor (PGR > 0) but "
    "recovers far from all of the gap to the ceiling (PGR well below 1)."
)


def make_essay_classification_cases(
    *,
    quick: bool = False,
    random_state: int = 0,
    data_home: Any = None,
    cache_dir: Any = None,
    verbose: bool = False,
) -> list[W2SCase]:
    """One binary case per ELLIPSE rubric (label: score above its median).

    The essays experiment's first random 70/30 split; its 70% are divided
    at random into the weak model's half and the strong model's half
    (Burns et al.'s protocol: the weak supervisor never labels its own
    training rows), the 30% are the evaluation rows. Weak heads and the
    ceiling are :class:`~sklearn.linear_model.LogisticRegression`
    (``C=1``); the strong head the exact :class:`~skwtsg.heads.SoftmaxHead`.

    Examples
    --------
    >>> from skwtsg.experiments._essays_classification import (
    ...     make_essay_classification_cases)
    >>> cases = make_essay_classification_cases(quick=True)  # doctest: +SKIP
    >>> [c.group for c in cases]  # doctest: +SKIP
    ['essays Cohesion', 'essays Conventions']
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    from ..datasets._essays import ELLIPSE_RUBRICS
    from ..heads import SoftmaxHead
    from ._essays import make_essay_cases

    rubrics = QUICK_RUBRICS if quick else ELLIPSE_RUBRICS
    (base,) = make_essay_cases(
        rubrics=rubrics,
        n_splits=1,
        quick=quick,
        data_home=data_home,
        cache_dir=cache_dir,
        random_state=random_state,
        verbose=verbose,
    )
    weak = {
        k: f for k, f in base.weak_featurizers.items() if not quick or k in QUICK_WEAK
    }
    X_text = base.X
    # The encoders are fixed: embed once, the estimators take column blocks.
    blocks = {"strong": base.strong_featurizer.fit(X_text[:2]).transform(X_text)}
    for name, featurizer in weak.items():
        if not _is_frozen(featurizer):  # an encoder: fit reads nothing of y
            featurizer = featurizer.fit(X_text[:2])
        blocks[name] = np.asarray(featurizer.transform(X_text), dtype=np.float64)
    X = np.hstack(list(blocks.values()))
    edges = np.cumsum([0] + [b.shape[1] for b in blocks.values()])
    columns = {
        name: FunctionTransformer(
            np.take,
            kw_args={"indices": np.arange(edges[i], edges[i + 1]), "axis": 1},
        )
        for i, name in enumerate(blocks)
    }
    roles = np.asarray(base.roles, dtype=object)
    train = np.flatnonzero(roles == "both")
    rng = np.random.RandomState(random_state)
    halves = rng.permutation(train)
    roles[halves[: len(train) // 2]] = "weak"
    roles[halves[len(train) // 2 :]] = "strong"
    roles = roles.astype(str)
    scores = np.asarray(base.y, dtype=float)
    cases = []
    for t, rubric in enumerate(rubrics):
        median = float(np.median(scores[:, t]))
        y = (scores[:, t] > median).astype(int)
        cases.append(
            W2SCase(
                name=f"essays {rubric}",
                X=X,
                y=y,
                roles=roles,
                strong_featurizer=columns["strong"],
                weak_featurizers={k: columns[k] for k in weak},
                head=SoftmaxHead(),
                weak_head=LogisticRegression(max_iter=1000),
                ceiling_head=LogisticRegression(max_iter=1000),
                task_names=[rubric],
                group=f"essays {rubric}",
                kind="classification",
                meta={
                    "rubric": rubric,
                    "median": median,
                    "positive_rate": float(y.mean()),
                    "n_weak": int((roles == "weak").sum()),
                    "n_strong": int((roles == "strong").sum()),
                    "n_eval": int((roles == "eval").sum()),
                    "strong": base.meta["strong"],
                    "max_length": base.meta["max_length"],
                    "confidence_level": CONFIDENCE_LEVEL,
                    "n_resamples": 999 if quick else N_RESAMPLES,
                    "prepare_seconds": base.meta["embed_seconds"] if t == 0 else 0.0,
                },
            )
        )
    return cases


def _is_frozen(featurizer):
    from sklearn.frozen import FrozenEstimator

    return isinstance(featurizer, FrozenEstimator)


def burns_summary(records: pd.DataFrame) -> dict:
    """The accuracy PGRs of one rubric beside Burns et al.'s findings.

    Per weak supervisor: the accuracies, the accuracy PGR with its interval
    (``"unstable"`` when the gap's interval contains 0) and the KL gain and
    misfit; then the counts the verdict reads: PGRs whose interval lies
    above 0 (positive, as Burns et al. found), below 1 (far from 1, as they
    found) or below 0 (the student worse than its supervisor).

    Examples
    --------
    >>> import pandas as pd
    >>> from skwtsg.experiments._essays_classification import burns_summary
    >>> rec = pd.DataFrame({"weak_model": ["a", "b"], "weak_accuracy": 0.6,
    ...     "strong_accuracy": 0.7, "ceiling_accuracy": 0.8,
    ...     "accuracy_pgr": [0.5, 9.0], "accuracy_pgr_low": [0.2, -float("inf")],
    ...     "accuracy_pgr_high": [0.8, float("inf")],
    ...     "accuracy_pgr_unstable": [False, True], "gain": 0.1, "misfit": 0.05,
    ...     "gain_low": 0.0, "gain_high": 0.2})
    >>> s = burns_summary(rec)
    >>> s["burns"]["n_stable"], s["burns"]["n_positive"], s["burns"]["n_below_one"]
    (1, 1, 1)
    """
    table = []
    for _, r in records.iterrows():
        unstable = bool(r["accuracy_pgr_unstable"])
        table.append(
            {
                "weak_model": r["weak_model"],
                "weak_accuracy": float(r["weak_accuracy"]),
                "strong_accuracy": float(r["strong_accuracy"]),
                "ceiling_accuracy": float(r["ceiling_accuracy"]),
                "accuracy_pgr": None if unstable else float(r["accuracy_pgr"]),
                "accuracy_pgr_ci": None
                if unstable
                else [float(r["accuracy_pgr_low"]), float(r["accuracy_pgr_high"])],
                "unstable": unstable,
                "kl_gain": float(r["gain"]),
                "kl_gain_ci": [float(r["gain_low"]), float(r["gain_high"])],
                "kl_misfit": float(r["misfit"]),
            }
        )
    stable = [row for row in table if not row["unstable"]]
    burns = {
        "n_weak_models": len(table),
        "n_stable": len(stable),
        "n_positive": sum(row["accuracy_pgr_ci"][0] > 0 for row in stable),
        "n_negative": sum(row["accuracy_pgr_ci"][1] < 0 for row in stable),
        "n_below_one": sum(row["accuracy_pgr_ci"][1] < FAR_FROM_ONE for row in stable),
        "median_pgr": float(np.median([r["accuracy_pgr"] for r in stable]))
        if stable
        else float("nan"),
    }
    return {"pgr_table": table, "burns": burns}


def check_burns(info: dict) -> tuple[bool, str]:
    """Agreement with Burns et al.: most stable PGRs above 0 and below 1."""
    b = info["burns"]
    n = b["n_stable"]
    if not n:
        return False, (
            f"no measurement: all {b['n_weak_models']} accuracy PGRs are unstable "
            "(each gap's interval contains 0)."
        )
    positive = b["n_positive"] > n / 2
    below_one = b["n_below_one"] > n / 2
    text = (
        f"{n} of {b['n_weak_models']} weak supervisors give a stable accuracy PGR "
        f"(median {b['median_pgr']:.2f}); 95% interval above 0 for "
        f"{b['n_positive']}, below 0 for {b['n_negative']}, below 1 for "
        f"{b['n_below_one']}. PGR positive: "
        + ("agrees" if positive else "differs")
        + "; far from 1: "
        + ("agrees" if below_one else "differs")
        + "."
    )
    return bool(positive and below_one), text
