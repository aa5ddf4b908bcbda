"""Speed of the bootstrap intervals of ``weak_to_strong_report``.

The target: ``n_eval=10,000`` rows, 100 tasks, 9,999 resamples,
BCa intervals on all five diagnostics per task (``multioutput="raw_values"``)
in under 2 s on 2 cores. Timed: the report with intervals for raw values and
for the task average, interleaved (``--repeat`` rounds, median of each), so
both see the same machine load; the CPU time of the raw-values call is
printed too (on a shared machine, with ``OPENBLAS_NUM_THREADS=1``, it is what
the call costs an idle core). For reference, ``scipy.stats.bootstrap``
(paired, vectorised, BCa) on one task with ``--scipy-resamples`` resamples,
against the report on the same problem: scipy resamples by indexing
(``resamples x rows x columns`` values copied) and builds every jackknife
sample explicitly, which cannot meet the target.

Usage::

    python benchmarks/bench_intervals.py [--n 10000] [--tasks 100]
        [--resamples 9999] [--repeat 5] [--scipy-resamples 999] [--quick]
        [--out results/bench_intervals.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 2.0


def _data(n, tasks, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=(n, tasks))
    y_weak = y + rng.normal(size=(n, tasks))
    y_strong = y + 0.5 * rng.normal(size=(n, tasks))
    return y, y_weak, y_strong


def _seconds(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _wall_and_cpu(func):
    """Wall time and this process's CPU time (all its threads) of one call."""
    cpu = time.process_time()
    wall = _seconds(func)
    return wall, time.process_time() - cpu


def main(argv=None):
    from scipy import stats

    from skwtsg.metrics import weak_to_strong_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=9999)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scipy-resamples", type=int, default=999)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.tasks, args.resamples = 500, 4, 199
        args.repeat, args.scipy_resamples = 1, 99

    y, y_weak, y_strong = _data(args.n, args.tasks)

    def report(multioutput):
        return weak_to_strong_report(
            y,
            y_weak,
            y_strong,
            multioutput=multioutput,
            confidence_level=0.95,
            n_resamples=args.resamples,
            random_state=0,
        )

    report("raw_values")  # warm-up
    raw, average, raw_cpu = [], [], []
    for _ in range(args.repeat):  # interleaved
        wall, cpu = _wall_and_cpu(lambda: report("raw_values"))
        raw.append(wall)
        raw_cpu.append(cpu)
        average.append(_seconds(lambda: report("uniform_average")))

    # scipy.stats.bootstrap on the first task only, few resamples
    cols = (y[:, 0], y_weak[:, 0], y_strong[:, 0])

    def statistic(y, y_weak, y_strong, axis=-1):
        weak = np.mean((y - y_weak) ** 2, axis)
        strong = np.mean((y - y_strong) ** 2, axis)
        mis = np.mean((y_weak - y_strong) ** 2, axis)
        return np.stack([weak, strong, mis, weak - strong, weak - mis])

    t_scipy = _seconds(
        lambda: stats.bootstrap(
            cols,
            statistic,
            paired=True,
            vectorized=True,
            n_resamples=args.scipy_resamples,
            batch=max(1, 2**22 // args.n),
            rng=np.random.default_rng(0),
        )
    )
    t_ours = _seconds(
        lambda: weak_to_strong_report(
            *cols,
            confidence_level=0.95,
            n_resamples=args.scipy_resamples,
            random_state=0,
        )
    )
    result = {
        "n": args.n,
        "tasks": args.tasks,
        "resamples": args.resamples,
        "repeat": args.repeat,
        "raw_values_s": float(np.median(raw)),
        "uniform_average_s": float(np.median(average)),
        "raw_values_all_s": raw,
        "raw_values_cpu_s": float(np.median(raw_cpu)),
        "target_s": TARGET_SECONDS,
        "ratio_to_target": float(np.median(raw)) / TARGET_SECONDS,
        "one_task": {
            "resamples": args.scipy_resamples,
            "scipy_bootstrap_s": t_scipy,
            "report_s": t_ours,
            "speedup": t_scipy / t_ours,
        },
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "machine": platform.platform(),
    }
    print(
        f"report with BCa intervals, n={args.n}, {args.tasks} tasks, "
        f"{args.resamples} resamples (median of {args.repeat}, interleaved):"
    )
    print(
        f"  raw_values      {result['raw_values_s']:.3f} s "
        f"(ratio to the {TARGET_SECONDS:g} s target: {result['ratio_to_target']:.2f})"
    )
    print(
        f"  raw_values      {result['raw_values_cpu_s']:.3f} s of CPU time "
        "(this process, all threads; on a loaded machine, the wall time an idle "
        "core would take with OPENBLAS_NUM_THREADS=1)"
    )
    print(f"  uniform_average {result['uniform_average_s']:.3f} s")
    print(
        f"one task, {args.scipy_resamples} resamples: scipy.stats.bootstrap "
        f"{t_scipy:.3f} s, report {t_ours:.3f} s ({t_scipy / t_ours:.0f}x)"
    )
    print(f"load average {result['load_average']}, {result['cpus']} CPUs")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
    raise SystemExit(0)
