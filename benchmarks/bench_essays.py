"""Warm essay run: before and after sharing the work of a split, in one run.

Builds the essay cases (``make_essay_cases``; the embeddings must already be
in the cache, i.e. a warm run) and runs them with :func:`run_cases` under
three strategies, interleaved (the order rotates every repeat), ``--repeats``
times each:

- ``per width`` (the code before the shared fit): every ``tfidf-svd k=<k>`` weak model
  refits TF-IDF and a randomized ``TruncatedSVD`` of width ``k`` (the old
  featurizer, rebuilt here from scikit-learn parts), and every weak model
  refits the strong featurizer, the strong head and the ceiling
  (``share_strong_fit=False``);
- ``separate`` (the previous main): TF-IDF and one exact SVD fitted once per
  split and truncated per width, but each width tokenising the essays again
  (no shared TF-IDF memo) and one strong head fit and one ceiling fit (each
  a thin SVD of the strong features) per weak model;
- ``shared`` (the cases as built, ``share_strong_fit=True``): also the
  widths sharing the TF-IDF matrices of the texts they transform, the strong
  featurizer once per split, the strong head once on every weak model's
  labels and the true scores (one SVD per split), and each weak head once.

It prints the median wall time of each strategy, the ratios, a verdict
computed from them against a 2x goal, the load average, and the
largest relative difference between the records of ``shared`` and
``separate`` (the same computation: they must agree to 1e-10) and the largest
absolute difference to ``per width`` (a randomized SVD, an approximation).
The machine's load makes the times noisy: compare medians of several
repeats on an idle machine.

Usage::

    python benchmarks/bench_essays.py [--data-home PATH] [--n-splits 1]
        [--repeats 3] [--n-essays N] [--max-length L] [--tfidf-only]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

#: The goal: a warm run at least this many times faster.
GOAL = 2.0


def _per_width(case):
    """The per-width case: one randomized TF-IDF + SVD fit per width."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    weak = {}
    for label, featurizer in case.weak_featurizers.items():
        if label.startswith("tfidf-svd"):
            lsa = featurizer.estimator
            featurizer = make_pipeline(
                FunctionTransformer(np.ravel),
                TfidfVectorizer(
                    ngram_range=lsa.ngram_range,
                    min_df=lsa.min_df,
                    max_df=lsa.max_df,
                    max_features=lsa.max_features,
                    sublinear_tf=lsa.sublinear_tf,
                    lowercase=lsa.lowercase,
                    dtype=np.float64,
                ),
                TruncatedSVD(lsa.n_components, algorithm="randomized", random_state=0),
            )
        weak[label] = featurizer
    return replace(case, weak_featurizers=weak, share_strong_fit=False)


def _previous_main(case):
    """The case as main built it: separate strong fits, no TF-IDF memo."""
    import copy

    from sklearn.frozen import FrozenEstimator

    weak = {}
    for label, featurizer in case.weak_featurizers.items():
        if label.startswith("tfidf-svd"):
            lsa = copy.copy(featurizer.estimator)  # the same fitted arrays
            lsa._tfidf_memo = None
            featurizer = FrozenEstimator(lsa)
        weak[label] = featurizer
    return replace(case, weak_featurizers=weak, share_strong_fit=False)


def _tfidf_only(case):
    tfidf = {k: w for k, w in case.weak_featurizers.items() if "tfidf" in k}
    return replace(case, weak_featurizers=tfidf)


def _max_relative_difference(a, b):
    """Largest ``|a - b| / max(|a|, |b|)`` (0 where both are 0 or NaN)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale > 0, np.abs(a - b) / scale, 0.0)
    both_nan = np.isnan(a) & np.isnan(b)
    if np.any(np.isnan(rel) & ~both_nan):
        return float("inf")  # NaN in one only
    return float(np.max(np.where(both_nan, 0.0, rel), initial=0.0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding text/ (default: $SKWTSG_DATA, else ../shared/data "
        "beside the repository)",
    )
    parser.add_argument("--n-splits", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--n-essays", type=int, default=None, help="a subset (default: all 2571)"
    )
    parser.add_argument(
        "--max-length", type=int, default=None, help="tokens per essay (default 384)"
    )
    parser.add_argument(
        "--tfidf-only", action="store_true", help="time the TF-IDF weak models only"
    )
    args = parser.parse_args(argv)

    from skwtsg.experiments import run_cases
    from skwtsg.experiments._essays import make_essay_cases

    home = args.data_home or os.environ.get("SKWTSG_DATA")
    if home is None:
        home = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not (Path(home) / "text").is_dir():
        print(f"skipped: no text/ folder under {home}")
        return
    print(f"load average before: {os.getloadavg()}")
    start = time.perf_counter()
    cases = make_essay_cases(
        data_home=home,
        n_splits=args.n_splits,
        n_essays=args.n_essays,
        max_length=args.max_length,
    )
    prepare = time.perf_counter() - start
    lsa = sum(c.meta["tfidf_svd_seconds"] for c in cases)
    print(
        f"make_essay_cases ({cases[0].meta['n_essays']} essays, "
        f"{cases[0].meta['max_length']} tokens, {len(cases)} splits, "
        f"{len(cases[0].weak_featurizers)} weak models): {prepare:.1f} s (of "
        f"which the shared TF-IDF + SVD fits: {lsa:.1f} s)"
    )
    if args.tfidf_only:
        cases = [_tfidf_only(c) for c in cases]
    strategies = {
        "per width": [_per_width(c) for c in cases],
        "separate": [_previous_main(c) for c in cases],
        "shared": [replace(c, share_strong_fit=True) for c in cases],
    }
    # The TF-IDF + SVD family fitted in make_essay_cases is part of the cost.
    extra = {"per width": 0.0, "separate": lsa, "shared": lsa}
    run_cases(strategies["shared"][:1])  # untimed: loads what is loaded once
    names = list(strategies)
    times: dict = {name: [] for name in names}
    records = {}
    for r in range(args.repeats):
        for name in names[r % 3 :] + names[: r % 3]:  # interleaved, rotating
            start = time.perf_counter()
            rec = run_cases(strategies[name])
            seconds = time.perf_counter() - start + extra[name]
            times[name].append(seconds)
            records[name] = rec
            print(f"  repeat {r}: {name:>9} {seconds:7.2f} s", flush=True)
    median = {k: float(np.median(v)) for k, v in times.items()}
    load = os.getloadavg()
    print(
        f"median warm run_cases over {args.repeats} interleaved repeats: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in median.items())
        + f" (load average after: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f})"
    )
    vs_issue = median["per width"] / median["shared"]
    vs_main = median["separate"] / median["shared"]
    print(
        f"speed-up of shared: {vs_issue:.2f}x over per width (the earlier code), "
        f"{vs_main:.2f}x over separate (the previous main)"
    )
    verdict = "met" if vs_issue >= GOAL else "NOT met"
    print(
        f"verdict: the {GOAL:g}x goal (shared vs per width) is {verdict} "
        f"({vs_issue:.2f}x)"
        + ("" if args.repeats >= 3 else "; fewer than 3 repeats: indicative only")
    )
    a, b, c = records["shared"], records["separate"], records["per width"]
    numbers = [
        col
        for col in a.select_dtypes("number").columns
        if col not in ("fit_seconds", "ceiling_seconds")
    ]
    same_rows = all(
        (a[k].to_numpy() == b[k].to_numpy()).all()
        for k in ("case", "weak_model", "task")
    )
    rel = _max_relative_difference(a[numbers], b[numbers]) if same_rows else np.inf
    print(
        f"max relative |shared - separate| over {len(numbers)} diagnostics and "
        f"{len(a)} records: {rel:.3g} "
        + ("(<= 1e-10: identical)" if rel <= 1e-10 else "(ABOVE 1e-10)")
    )
    diff = np.abs(a[numbers].to_numpy() - c[numbers].to_numpy())
    tfidf = a["weak_model"].str.startswith("tfidf").to_numpy()
    print(
        f"max |shared - per width| (randomized SVD): TF-IDF weak models "
        f"{np.nanmax(diff[tfidf]) if tfidf.any() else 0.0:.3g}; other weak models "
        f"{np.nanmax(diff[~tfidf]) if (~tfidf).any() else 0.0:.3g}"
    )


if __name__ == "__main__":
    main()
