"""WeakSupervisorSearch against one WeakToStrongRegressor per weak supervisor.

The question a user asks ("which of these weak supervisors?") answered two
ways on the same rows and roles: ``K`` separate
``WeakToStrongRegressor(...).fit(X, y, roles=roles)`` (each fits and
computes the strong representation and factorises the strong head again, as
a ``GridSearchCV`` over the supervisors would), and one
``WeakSupervisorSearch(...).fit(X, y, roles=roles)`` (the representation
once, the strong head once on all label sets as one multi-output problem).

The strong representation is a fixed random-features map of the inputs
(``cos(X W + b)``, 512 features, as a pretrained network's last layer would
be: fixed, and costlier than the weak models); the weak supervisors are
``K = 8`` cheap models (least squares on a few input columns, a shallow
tree, signs of the inputs). Every diagnostic of the search is checked
against the separate fits (to 1e-10 of the weak error's scale). Times are
medians of ``--repeat`` interleaved repeats (separate fits, then the
search, so that both see the same load; medians, not best-of); the target,
a speed-up of at least 4, is judged on the measured ratio.

Usage::

    python benchmarks/bench_search.py [--repeat 5] [--quick]
        [--out results/bench_search.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
import warnings
from pathlib import Path
from statistics import median

import numpy as np

#: The goal: the search at least this many times faster than separate fits.
TARGET = 4.0
#: Agreement of every diagnostic, relative to the weak error.
RTOL = 1e-10


def _problem(n, d, seed):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeRegressor

    from skwtsg.heads import LeastSquaresHead

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (
        np.sin(X[:, 0])
        + X[:, 1:4] @ rng.standard_normal(3)
        + 0.1 * rng.standard_normal(n)
    )
    W = rng.standard_normal((d, 512)) / np.sqrt(d)
    b = rng.uniform(0, 2 * np.pi, 512)
    strong = FunctionTransformer(lambda A: np.cos(A @ W + b))

    def columns(cols):
        return ColumnTransformer([("keep", "passthrough", cols)])

    supervisors = {
        f"ls{k}": (columns(list(range(k))), LeastSquaresHead()) for k in (1, 2, 3, 4)
    }
    supervisors.update(
        {
            f"tree{depth}": DecisionTreeRegressor(max_depth=depth, random_state=0)
            for depth in (2, 3)
        }
    )
    supervisors["signs"] = (FunctionTransformer(np.sign), LeastSquaresHead())
    supervisors["round"] = (FunctionTransformer(np.round), LeastSquaresHead())
    return X, y, strong, supervisors


def _separate(X, y, roles, strong, supervisors):
    from skwtsg import WeakToStrongRegressor

    out = {}
    for name, sup in supervisors.items():
        feat, head = sup if isinstance(sup, tuple) else ("passthrough", sup)
        est = WeakToStrongRegressor(feat, strong, weak_head=head)
        out[name] = est.fit(X, y, roles=roles)
    return out


def bench(n, d, repeat, seed):
    from skwtsg import WeakSupervisorSearch

    X, y, strong, supervisors = _problem(n, d, seed)
    # no intervals: the separate fits compute none (their cost is timed apart)
    search = WeakSupervisorSearch(
        supervisors, strong, random_state=seed, confidence_level=None
    )
    search.fit(X, y)  # warm-up; its roles are the roles of every fit below
    roles = search.roles_
    separate = _separate(X, y, roles, strong, supervisors)
    worst = 0.0
    for name, est in separate.items():
        for key, value in search.reports_[name].items():
            diff = abs(getattr(est, key + "_") - value) / est.weak_error_
            worst = max(worst, float(diff))
    times = {"separate": [], "search": []}
    for _ in range(repeat):
        start = time.perf_counter()
        _separate(X, y, roles, strong, supervisors)
        times["separate"].append(time.perf_counter() - start)
        start = time.perf_counter()
        search.fit(X, y, roles=roles)
        times["search"].append(time.perf_counter() - start)
    med = {k: median(v) for k, v in times.items()}
    start = time.perf_counter()
    search.set_params(confidence_level=0.95).fit(X, y, roles=roles)
    intervals_s = time.perf_counter() - start
    return {
        "n": n,
        "d": d,
        "supervisors": len(supervisors),
        "strong_features": 512,
        "separate_s": med["separate"],
        "search_s": med["search"],
        "speedup": med["separate"] / med["search"],
        "search_with_intervals_s": intervals_s,
        "max_relative_difference": worst,
        "best": search.best_,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    n = 2_000 if args.quick else 20_000
    load = os.getloadavg()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = bench(n, 20, args.repeat, seed=0)
    result.update(
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        load_average_1min=load,
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        repeat=args.repeat,
        target=TARGET,
    )
    met = result["speedup"] >= TARGET
    agree = result["max_relative_difference"] <= RTOL
    print(
        f"{result['date']}, load {load:.2f}: {result['supervisors']} weak supervisors, "
        f"n={n}, 512 strong features; separate fits {result['separate_s']:.3f} s, "
        f"search {result['search_s']:.3f} s (medians of {args.repeat}): "
        f"{result['speedup']:.2f}x ({'met' if met else 'NOT met'}: target {TARGET}x); "
        f"diagnostics agree to {result['max_relative_difference']:.1e} of the weak "
        f"error ({'ok' if agree else 'DIFFER'}); best by the bound: {result['best']}; "
        f"the search with its paired intervals (9999 resamples, once): "
        f"{result['search_with_intervals_s']:.3f} s"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
