"""Warm essay run: one TF-IDF + SVD fit per split against one per width.

Builds the essay cases (``make_essay_cases``; the embeddings must already be
in the cache, i.e. a warm run) and runs them with :func:`run_cases` under two
strategies, interleaved, ``--repeats`` times each:

- ``per width`` (the code before the change): every ``tfidf-svd k=<k>`` weak
  model refits TF-IDF and a randomized ``TruncatedSVD`` of width ``k``
  (the old featurizer, rebuilt here from scikit-learn parts);
- ``shared`` (the cases as built): TF-IDF and one exact SVD at the largest
  width fitted once per split, truncated per width and frozen.

It prints the median wall time of each (all weak models, and the TF-IDF weak
models alone), their ratio, the load average, and the largest difference
between the two strategies' records (the randomized SVD is an approximation,
so the numbers differ slightly; see ``test_essays_cases.py`` for the exact
equality of the shared fit with one exact fit per width).

Usage::

    python benchmarks/bench_essays.py [--data-home PATH] [--n-splits 1]
        [--repeats 1] [--tfidf-only]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


def _per_width(case):
    """The case with main's weak TF-IDF models: one randomized fit per width."""
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
    return replace(case, weak_featurizers=weak)


def _tfidf_only(case):
    tfidf = {k: w for k, w in case.weak_featurizers.items() if "tfidf" in k}
    return replace(case, weak_featurizers=tfidf)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding text/ (default: $SKWTSG_DATA, else ../shared/data "
        "beside the repository)",
    )
    parser.add_argument("--n-splits", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
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
    cases = make_essay_cases(data_home=home, n_splits=args.n_splits)
    prepare = time.perf_counter() - start
    lsa = sum(c.meta["tfidf_svd_seconds"] for c in cases)
    print(
        f"make_essay_cases: {prepare:.1f} s (of which the shared TF-IDF + SVD "
        f"fits: {lsa:.1f} s)"
    )
    if args.tfidf_only:
        cases = [_tfidf_only(c) for c in cases]
    strategies = {"shared": cases, "per width": [_per_width(c) for c in cases]}
    times: dict = {name: [] for name in strategies}
    records = {}
    for _ in range(args.repeats):
        for name, these in reversed(strategies.items()):  # per width first
            start = time.perf_counter()
            rec = run_cases(these)
            seconds = time.perf_counter() - start
            if name == "shared":
                seconds += lsa  # the shared fits are part of the run's cost
            times[name].append(seconds)
            records[name] = rec
            tfidf = rec["weak_model"].str.startswith("tfidf")
            part = rec.loc[tfidf, ["fit_seconds", "ceiling_seconds"]].to_numpy().sum()
            print(
                f"  {name:>9}: {seconds:7.1f} s ({len(rec)} records; TF-IDF weak "
                f"models {part + (lsa if name == 'shared' else 0.0):.1f} s)",
                flush=True,
            )
    before, after = (float(np.median(times[k])) for k in ("per width", "shared"))
    print(
        f"median warm run_cases: per width {before:.1f} s, shared {after:.1f} s: "
        f"{before / after:.2f}x (load average after: {os.getloadavg()})"
    )
    a, b = records["shared"], records["per width"]
    numbers = [
        c
        for c in a.select_dtypes("number").columns
        if c not in ("fit_seconds", "ceiling_seconds")
    ]
    diff = np.abs(a[numbers].to_numpy() - b[numbers].to_numpy())
    other = ~a["weak_model"].str.startswith("tfidf")
    print(
        f"max |shared - per width| over {len(numbers)} diagnostics: TF-IDF weak "
        f"models {np.nanmax(diff[~other]):.3g}; other weak models "
        f"{np.nanmax(diff[other]) if other.any() else 0.0:.3g} (unchanged)"
    )
    for col in ("weak_error", "strong_error", "misfit", "gain", "bound"):
        d = (a[col] - b[col])[~other]
        print(
            f"  {col}: mean shared - per width {d.mean():+.2e}, max |.| "
            f"{d.abs().max():.2e}"
        )


if __name__ == "__main__":
    main()
