"""Overhead of WeakToStrongRegressor.fit over the work it cannot avoid.

One ``WeakToStrongRegressor().fit(X, y)`` (passthrough featurizers, the
default LeastSquaresHead on both sides, default roles: 20% eval, the rest
split evenly between the weak and the strong model) against its parts, run
directly on the rows of each role, sliced beforehand:

* the weak head's fit on the weak rows and the strong head's fit on the
  strong rows (against the weak labels);
* the predictions the diagnostics need: the weak head on the strong rows
  (the weak labels) and on the eval rows, the strong head on the strong rows
  (``train_report_``'s misfit) and on the eval rows.

The ratio ``fit / parts`` is what the estimator adds: validation, role
assignment, taking the rows of each role out of ``X``, diagnostics. The
second ratio adds to the parts one ``X.take(order, axis=0)`` (the copy of
every row in role order that the fit makes once, and that no caller of the
heads can avoid either): the rest is the estimator's own overhead.
Grid n ∈ {2e4, 1e5}, d ∈ {64, 256};
each point is the median of ``--repeat`` interleaved timings (fit, then
parts, so that both see the same load; medians, not best-of), with the
1-minute load average read before each point. The target is a ratio of at
most 1.2; the verdict is computed from the measured ratios.

Usage::

    python benchmarks/bench_estimator.py [--repeat 7]
        [--out results/bench_estimator.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path
from statistics import median

import numpy as np

#: The goal: fit within this factor of its parts.
TARGET = 1.2


def _data(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X += rng.standard_normal(d)  # non-zero means: the intercept matters
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return X, y


def _timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def bench_point(n, d, repeat, seed):
    """Median fit and parts times at one ``(n, d)``."""
    from skwtsg import WeakToStrongRegressor
    from skwtsg.heads import LeastSquaresHead

    X, y = _data(n, d, seed)
    est = WeakToStrongRegressor(random_state=seed)
    est.fit(X, y)  # warm-up; also gives the roles the parts use
    roles = est.roles_
    weak = np.flatnonzero(np.isin(roles, ("weak", "both")))
    strong = np.flatnonzero(np.isin(roles, ("strong", "both")))
    evals = np.flatnonzero(roles == "eval")
    X_w, y_w, X_s, X_e = X[weak], y[weak], X[strong], X[evals]
    order = np.concatenate([weak, strong, evals])

    def parts():
        weak_head = LeastSquaresHead().fit(X_w, y_w)
        y_weak = weak_head.predict(X_s)
        head = LeastSquaresHead().fit(X_s, y_weak)
        head.predict(X_s)
        weak_head.predict(X_e)
        head.predict(X_e)

    parts()
    load = os.getloadavg()[0]
    fit_s, parts_s, take_s = [], [], []
    for _ in range(repeat):
        fit_s.append(_timed(lambda: est.fit(X, y)))
        parts_s.append(_timed(parts))
        take_s.append(_timed(lambda: X.take(order, axis=0)))
    ratio = median(fit_s) / median(parts_s)
    return {
        "n": n,
        "d": d,
        "load": load,
        "fit_s": median(fit_s),
        "parts_s": median(parts_s),
        "take_s": median(take_s),
        "ratio": ratio,
        "ratio_with_take": median(fit_s) / (median(parts_s) + median(take_s)),
        "meets_target": bool(ratio <= TARGET),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=7, help="interleaved repeats per point"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    args = parser.parse_args(argv)

    rows = []
    with warnings.catch_warnings():
        # Passthrough on both sides with the same head: the strong model
        # copies the weak one, which the estimator rightly warns about.
        warnings.simplefilter("ignore", UserWarning)
        for n in (20_000, 100_000):
            for d in (64, 256):
                row = bench_point(n, d, args.repeat, args.seed)
                rows.append(row)
                print(
                    f"n={n:>6} d={d:>3}  fit {row['fit_s']:.4f} s  parts "
                    f"{row['parts_s']:.4f} s  ratio {row['ratio']:.2f}x  "
                    f"(take {row['take_s']:.4f} s; with it "
                    f"{row['ratio_with_take']:.2f}x)  load {row['load']:.2f}",
                    flush=True,
                )
    worst = max(row["ratio"] for row in rows)
    verdict = "met" if worst <= TARGET else "NOT met"
    print(
        f"WeakToStrongRegressor.fit / (2 head fits + needed predicts): worst "
        f"{worst:.2f}x, target {TARGET:.1f}x: {verdict} (medians of "
        f"{args.repeat} interleaved repeats)"
    )
    result = {
        "target": TARGET,
        "worst_ratio": worst,
        "verdict": verdict,
        "grid": rows,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
