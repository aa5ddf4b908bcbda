"""Coverage of the bootstrap intervals of the weak-to-strong diagnostics.

A WeakToStrongRegressor is fitted once on synthetic data: a target with a
non-linear part and Gaussian noise, a PCA(2) weak representation, and a
strong one that sees the non-linear part but only four of the six features
(so neither model contains the other and the per-row squared errors are
skewed). Its population diagnostics are measured on a very large fresh
sample (``--n-population`` rows). Then, ``--reps`` times, a fresh evaluation
sample of ``n_eval`` rows is drawn and
``weak_to_strong_report(..., confidence_level=0.95)`` computed on it; the
coverage of a diagnostic is the share of replications whose interval holds
the population value. Nominal 95% intervals should cover 92-98% of the time
(±3 binomial standard deviations at 500 replications).

Usage::

    python benchmarks/bench_coverage.py [--n-eval 200 2000] [--reps 500]
        [--n-resamples 9999] [--method BCa] [--seed 0] [--quick]
        [--out results/bench_coverage.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

DIAGNOSTICS = ("weak_error", "strong_error", "misfit", "gain", "bound")


def _strong_features(X):
    return np.column_stack([X[:, 2:], np.sin(2 * X[:, 0])])


def make_problem(seed, n_train=2000, n_features=6):
    """A fitted model and a sampler of fresh labelled rows."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import FunctionTransformer

    from skwtsg import WeakToStrongRegressor

    rng = np.random.default_rng(seed)
    beta = rng.normal(size=n_features)
    scales = np.linspace(0.8, 1.5, n_features)

    def draw(m, rng):
        X = rng.normal(size=(m, n_features)) * scales
        y = X @ beta + np.sin(2 * X[:, 0]) + 0.7 * rng.normal(size=m)
        return X, y

    X, y = draw(n_train, rng)
    est = WeakToStrongRegressor(
        PCA(n_components=2),
        FunctionTransformer(_strong_features),
        eval_size=0,
        random_state=0,
    ).fit(X, y)
    return est, draw


def population(est, draw, n_population, seed):
    """The diagnostics on ``n_population`` fresh rows (chunked)."""
    from skwtsg.metrics import weak_to_strong_report

    rng = np.random.default_rng(seed)
    sums = dict.fromkeys(DIAGNOSTICS, 0.0)
    chunk = 500_000
    done = 0
    while done < n_population:
        m = min(chunk, n_population - done)
        X, y = draw(m, rng)
        rep = weak_to_strong_report(y, est.predict_weak(X), est.predict(X))
        for k in DIAGNOSTICS:
            sums[k] += rep[k] * m
        done += m
    return {k: v / n_population for k, v in sums.items()}


def coverage(est, draw, truth, n_eval, reps, n_resamples, method, seed):
    from skwtsg.metrics import weak_to_strong_report

    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(DIAGNOSTICS, 0)
    below = dict.fromkeys(DIAGNOSTICS, 0)  # population value below the interval
    widths = dict.fromkeys(DIAGNOSTICS, 0.0)
    for _ in range(reps):
        X, y = draw(n_eval, rng)
        rep = weak_to_strong_report(
            y,
            est.predict_weak(X),
            est.predict(X),
            confidence_level=0.95,
            n_resamples=n_resamples,
            method=method,
            random_state=rng,
        )
        for k in DIAGNOSTICS:
            low, high = rep[k + "_ci"]
            hits[k] += int(low <= truth[k] <= high)
            below[k] += int(truth[k] < low)
            widths[k] += (high - low) / reps
    return {
        k: {
            "coverage": hits[k] / reps,
            "miss_below": below[k] / reps,
            "miss_above": (reps - hits[k] - below[k]) / reps,
            "mean_width": widths[k],
        }
        for k in DIAGNOSTICS
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-eval", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--n-resamples", type=int, default=9999)
    parser.add_argument("--n-population", type=int, default=4_000_000)
    parser.add_argument("--method", default="BCa")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_eval, args.reps = [200], 40
        args.n_resamples, args.n_population = 999, 200_000

    est, draw = make_problem(args.seed)
    truth = population(est, draw, args.n_population, args.seed + 1)
    result = {
        "reps": args.reps,
        "n_resamples": args.n_resamples,
        "method": args.method,
        "n_population": args.n_population,
        "population": truth,
        "machine": platform.platform(),
        "by_n_eval": {},
    }
    print(
        f"{args.reps} replications, {args.n_resamples} resamples, {args.method}; "
        f"population values from {args.n_population} fresh rows"
    )
    print(f"{'n_eval':>7} {'diagnostic':>13} {'coverage':>9} {'below':>6} {'above':>6}")
    for n_eval in args.n_eval:
        start = time.perf_counter()
        cov = coverage(
            est,
            draw,
            truth,
            n_eval,
            args.reps,
            args.n_resamples,
            args.method,
            args.seed + 2 + n_eval,
        )
        seconds = time.perf_counter() - start
        for k, c in cov.items():
            print(
                f"{n_eval:>7} {k:>13} {c['coverage']:>9.3f} "
                f"{c['miss_below']:>6.3f} {c['miss_above']:>6.3f}"
            )
        print(f"{'':>7} ({seconds:.1f} s)")
        result["by_n_eval"][str(n_eval)] = {"seconds": seconds, **cov}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
    raise SystemExit(0)
