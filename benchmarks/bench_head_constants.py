"""One BLAS thread against several for the small dense solves of the heads.

The exact linear heads run dense factorisations and solves of order at most
``SINGLE_THREAD_FACTOR`` (``skwtsg/heads/_constants.py``) on one BLAS thread
(``skwtsg.heads._solvers._small_dense``): LAPACK's threaded Cholesky,
triangular solves and SVD synchronise on many small calls. This script
re-measures that choice on this machine: for each order, a Cholesky
factorisation, a solve with 100 right-hand sides and (up to order 512) an
SVD, timed with one thread and with ``--threads`` threads in interleaved
rounds. It prints the median time per call of ``--repeat`` rounds and the
slowest round (threaded calls can stall when other processes hold the
cores), with the date, the machine, the BLAS and the 1-minute load average
before each order. A run at the default sizes takes a few seconds (well
under 30 s).

Usage::

    python benchmarks/bench_head_constants.py [--orders 64 256 1024]
        [--threads 2] [--repeat 11] [--out results/bench_head_constants.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path
from statistics import median

import numpy as np
from scipy import linalg

#: Target duration of one timed batch of calls (seconds), set with one thread.
_BATCH_SECONDS = 2e-3

#: Largest order at which the SVD is timed (it is slow beyond).
_SVD_MAX_ORDER = 512


def _operations(order, rng):
    """The dense operations of the heads' solvers at one order."""
    A = rng.normal(size=(2 * order, order))
    spd = A.T @ A / order + np.eye(order)
    factor = linalg.cho_factor(spd, check_finite=False)
    rhs = rng.normal(size=(order, 100))
    ops = {
        "cholesky": lambda: linalg.cho_factor(spd, check_finite=False),
        "solve (100 rhs)": lambda: linalg.cho_solve(factor, rhs, check_finite=False),
    }
    if order <= _SVD_MAX_ORDER:
        ops["svd"] = lambda: linalg.svd(spd, check_finite=False)
    return ops


def _batch(func, calls):
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls


def bench(orders, threads, repeat, seed=0):
    """Median seconds per call, one thread and ``threads`` threads, per order."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    rows = []
    for order in orders:
        load = os.getloadavg()[0]
        for name, op in _operations(order, rng).items():
            with threadpool_limits(limits=1, user_api="blas"):
                op()  # warm up
                once = _batch(op, 1)
            calls = max(1, int(_BATCH_SECONDS / max(once, 1e-7)))
            times = {1: [], threads: []}
            for _ in range(repeat):  # interleaved: 1 thread, then several
                for k in times:
                    with threadpool_limits(limits=k, user_api="blas"):
                        times[k].append(_batch(op, calls))
            one, many = median(times[1]), median(times[threads])
            rows.append(
                {
                    "order": order,
                    "operation": name,
                    "load": load,
                    "one_thread_s": one,
                    "threads_s": many,
                    "one_thread_slowest_s": max(times[1]),
                    "threads_slowest_s": max(times[threads]),
                    "ratio": many / one,
                }
            )
            print(
                f"order {order:>5}  {name:<16} 1 thread {one * 1e3:8.3f} ms "
                f"(slowest {max(times[1]) * 1e3:8.3f})  {threads} threads "
                f"{many * 1e3:8.3f} ms (slowest {max(times[threads]) * 1e3:8.3f})"
                f"  {many / one:5.2f}x  load {load:.2f}",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--threads", type=int, default=2, help="the threaded side")
    parser.add_argument("--repeat", type=int, default=11, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write JSON here")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_info

    from skwtsg.heads._constants import SINGLE_THREAD_FACTOR

    blas = [
        f"{lib.get('internal_api')} {lib.get('version')} "
        f"({lib.get('num_threads')} threads)"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    date = datetime.datetime.now().isoformat(timespec="seconds")
    print(
        f"{date}  {platform.node()} ({platform.machine()}, "
        f"{os.cpu_count()} CPUs)  BLAS: {', '.join(blas) or 'unknown'}\n"
        f"medians of {args.repeat} interleaved rounds; the heads use one thread "
        f"up to order SINGLE_THREAD_FACTOR={SINGLE_THREAD_FACTOR}",
        flush=True,
    )
    rows = bench(args.orders, args.threads, args.repeat, args.seed)
    result = {
        "date": date,
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "blas": blas,
        "repeat": args.repeat,
        "threads": args.threads,
        "single_thread_factor": SINGLE_THREAD_FACTOR,
        "rows": rows,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
    raise SystemExit(0)
