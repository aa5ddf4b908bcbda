"""The Dask path of WeakToStrongRegressor on a 2-worker LocalCluster.

``--rows`` rows (default 10⁷) of 64 features are generated lazily, block by
block, each block from its own seeded generator (nothing is ever held whole).
The weak featurizer is a fixed Gaussian random projection to 16 dimensions
(a ``FrozenEstimator``), the strong one another to 48 dimensions (so the
weak model is not in the strong span and the gain is not zero), both heads
are ``LeastSquaresHead``; the cluster has 2 worker processes of 1 thread.

Printed in one run:

(a) wall time of the Dask fit against the streaming floor: one in-memory
    ``X.T @ X`` on a 10⁶-row slice (median of 5 repeats), times
    ``rows / 10⁶`` (target: at most 3x);
    It also prints the median time of one Dask pass that only generates
    and sums the data, and the fit's time in such passes;
(b) peak resident memory of each worker during the fit, sampled every
    20 ms by a thread in the worker (``psutil``), and of this process
    (target: < 1.5 GiB per worker);
(c) the largest relative difference of the heads' coefficients between the
    Dask fit and the in-memory fit on the same first 10⁶ rows (same data,
    same ``random_state``, the in-memory fit given the hashed roles;
    target: 1e-10). The in-memory fit and the Dask fit of the slice are
    interleaved, 3 repeats; their median times are printed too.

The verdicts are computed from the measured numbers. The 1-minute load
average (``os.getloadavg``) is printed with the figures: the machine may be
shared.

Usage::

    python benchmarks/bench_dask.py [--rows 10000000] [--block-rows 250000]
        [--slice-rows 1000000] [--out results/bench_dask.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import threading
import time
from statistics import median

import numpy as np

N_FEATURES = 64
WEAK_DIM = 16
STRONG_DIM = 48
SEED = 0


# ------------------------------------------------------------------- data
def _block(block_id, n_rows, seed):
    """Block ``block_id`` of ``X`` and ``y``: its own seeded generator."""
    rng = np.random.default_rng([seed, block_id])
    X = rng.standard_normal((n_rows, N_FEATURES))
    X += np.linspace(-3.0, 3.0, N_FEATURES)  # non-zero means
    beta = np.random.default_rng(seed).standard_normal(N_FEATURES)
    y = X @ beta + rng.standard_normal(n_rows)
    return np.hstack([X, y[:, None]])


def lazy_data(n_rows, block_rows, seed=SEED):
    """``(X, y)`` as Dask arrays built block by block, never held whole."""
    import dask
    import dask.array as da

    sizes = [block_rows] * (n_rows // block_rows)
    if n_rows % block_rows:
        sizes.append(n_rows % block_rows)
    blocks = [
        da.from_delayed(
            dask.delayed(_block, pure=True)(i, nb, seed),
            (nb, N_FEATURES + 1),
            dtype=np.float64,
        )
        for i, nb in enumerate(sizes)
    ]
    Xy = da.concatenate(blocks, axis=0)
    return Xy[:, :N_FEATURES], Xy[:, N_FEATURES]


def make_estimator():
    from sklearn.frozen import FrozenEstimator
    from sklearn.random_projection import GaussianRandomProjection

    from skwtsg import WeakToStrongRegressor
    from skwtsg.heads import LeastSquaresHead

    def projection(dim, seed):  # fixed: fitting learns only the input width
        grp = GaussianRandomProjection(dim, random_state=seed)
        return FrozenEstimator(grp.fit(np.zeros((1, N_FEATURES))))

    return WeakToStrongRegressor(
        projection(WEAK_DIM, SEED),
        projection(STRONG_DIM, SEED + 1),
        head=LeastSquaresHead(),
        random_state=SEED,
    )


# --------------------------------------------------------- memory sampling
def _start_sampler(dask_worker, period=0.02):
    """(In a worker) sample this process's RSS every ``period`` s; keep the peak."""
    import psutil

    proc = psutil.Process()
    state = {"peak": proc.memory_info().rss, "start": proc.memory_info().rss}
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            state["peak"] = max(state["peak"], proc.memory_info().rss)
            stop.wait(period)

    threading.Thread(target=loop, daemon=True).start()
    dask_worker._bench_sampler = (state, stop)
    return state["start"]


def _stop_sampler(dask_worker):
    state, stop = dask_worker._bench_sampler
    stop.set()
    return state["peak"]


# --------------------------------------------------------------- measures
def streaming_floor(X_slice, n_rows, repeat=5):
    """Median ``X.T @ X`` time on the slice, scaled to ``n_rows``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        X_slice.T @ X_slice
        times.append(time.perf_counter() - start)
    return median(times) * n_rows / X_slice.shape[0], median(times)


def data_pass(n_rows, block_rows, repeat=3):
    """Median time of one Dask pass that only generates the data and sums it.

    The cost every pass of the fit pays before any statistic: with lazily
    generated data each pass regenerates it, which the in-memory floor does
    not include.
    """
    import dask

    times = []
    for _ in range(repeat):
        X, y = lazy_data(n_rows, block_rows)
        start = time.perf_counter()
        dask.compute(X.sum(axis=0), y.sum())
        times.append(time.perf_counter() - start)
    return median(times)


def fit_full(client, n_rows, block_rows):
    X, y = lazy_data(n_rows, block_rows)
    est = make_estimator()
    before = client.run(_start_sampler)
    start = time.perf_counter()
    est.fit(X, y)
    wall = time.perf_counter() - start
    peaks = client.run(_stop_sampler)
    return est, wall, before, peaks


def _hash_roles(y, est):
    from skwtsg._roles import ROLES, hash_role_codes

    codes = hash_role_codes(
        np.arange(len(y)),
        ~np.isnan(y),
        eval_size=est.eval_size,
        strong_size=est.strong_size,
        any_unlabeled=bool(np.isnan(y).any()),
        seed=int(est.random_state),
    )
    return np.asarray(ROLES)[codes]


def _max_rel_diff(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def exactness(slice_rows, block_rows, repeat=3):
    """Dask fit and in-memory fit of the first ``slice_rows`` rows, interleaved."""
    X, y = lazy_data(slice_rows, block_rows)
    X_mem, y_mem = (np.asarray(a) for a in __import__("dask").compute(X, y))
    roles = _hash_roles(y_mem, make_estimator())
    t_dask, t_mem = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        lazy = make_estimator().fit(X, y)
        t_dask.append(time.perf_counter() - start)
        start = time.perf_counter()
        mem = make_estimator().fit(X_mem, y_mem, roles=roles)
        t_mem.append(time.perf_counter() - start)
    diffs = {
        "weak_coef": _max_rel_diff(lazy.weak_head_.coef_, mem.weak_head_.coef_),
        "strong_coef": _max_rel_diff(lazy.head_.coef_, mem.head_.coef_),
        "strong_intercept": abs(lazy.head_.intercept_ - mem.head_.intercept_)
        / max(abs(mem.head_.intercept_), 1e-300),
    }
    return X_mem, diffs, median(t_dask), median(t_mem), lazy, mem


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--block-rows", type=int, default=250_000)
    parser.add_argument("--slice-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="4GiB", help="per worker")
    parser.add_argument("--out", default=None, help="write JSON here")
    args = parser.parse_args(argv)
    slice_rows = min(args.slice_rows, args.rows)

    import distributed

    load_start = os.getloadavg()
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        memory_limit=args.memory_limit,
    )
    client = distributed.Client(cluster)
    try:
        est, wall, before, peaks = fit_full(client, args.rows, args.block_rows)
        one_pass = data_pass(args.rows, args.block_rows)
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        X_slice, diffs, t_dask_slice, t_mem_slice, lazy, mem = exactness(
            slice_rows, args.block_rows
        )
        floor, gram = streaming_floor(X_slice, args.rows)
    finally:
        client.close()
        cluster.close()
    load_end = os.getloadavg()

    gib = 2.0**30
    peak = max(peaks.values())
    coef_diff = max(diffs.values())
    verdicts = {
        "time_within_3x": wall / floor <= 3.0,
        "memory_below_1.5GiB": peak < 1.5 * gib,
        "coefficients_within_1e-10": coef_diff <= 1e-10,
    }
    print(
        f"rows={args.rows:.2e} features={N_FEATURES} weak dim={WEAK_DIM} "
        f"strong dim={STRONG_DIM} "
        f"blocks of {args.block_rows} rows, 2 worker processes x 1 thread"
    )
    print(
        f"(a) Dask fit {wall:.2f} s / floor {floor:.2f} s "
        f"(X.T @ X on {slice_rows} rows: {gram:.3f} s, x{args.rows / slice_rows:g})"
        f" = {wall / floor:.2f}x  [target <= 3x: "
        f"{'PASS' if verdicts['time_within_3x'] else 'FAIL'}]"
    )
    print(
        f"    one Dask pass that only generates and sums the data (median of 3): "
        f"{one_pass:.2f} s; the fit = {wall / one_pass:.2f} such passes, "
        f"the floor = {floor / one_pass:.2f}"
    )
    for worker, value in sorted(peaks.items()):
        print(
            f"(b) worker {worker}: peak RSS {value / gib:.3f} GiB "
            f"(at start {before[worker] / gib:.3f} GiB)"
        )
    print(
        f"    client process: peak RSS {client_peak / gib:.3f} GiB during the "
        f"fit  [target < 1.5 GiB per worker: "
        f"{'PASS' if verdicts['memory_below_1.5GiB'] else 'FAIL'}]"
    )
    print(
        f"(c) max relative coefficient difference, Dask vs in-memory on "
        f"{slice_rows} rows: weak {diffs['weak_coef']:.1e}, strong "
        f"{diffs['strong_coef']:.1e}, intercept {diffs['strong_intercept']:.1e}"
        f"  [target <= 1e-10: "
        f"{'PASS' if verdicts['coefficients_within_1e-10'] else 'FAIL'}]"
    )
    print(
        f"    fit of {slice_rows} rows (median of 3, interleaved): Dask "
        f"{t_dask_slice:.2f} s, in memory {t_mem_slice:.2f} s"
    )
    print(
        f"    gain_={est.gain_:.4g} misfit_={est.misfit_:.4g} bound_={est.bound_:.4g}"
    )
    print(
        f"load average (1 min): {load_start[0]:.2f} at start, "
        f"{load_end[0]:.2f} at end; {os.cpu_count()} CPUs"
    )
    result = {
        "rows": args.rows,
        "block_rows": args.block_rows,
        "fit_s": wall,
        "floor_s": floor,
        "gram_slice_s": gram,
        "time_ratio": wall / floor,
        "data_pass_s": one_pass,
        "worker_peak_rss": {str(k): v for k, v in peaks.items()},
        "worker_start_rss": {str(k): v for k, v in before.items()},
        "client_peak_rss": client_peak,
        "coef_rel_diff": diffs,
        "slice_fit_s": {"dask": t_dask_slice, "in_memory": t_mem_slice},
        "verdicts": verdicts,
        "load": {"start": load_start, "end": load_end},
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
        },
    }
    if args.out is not None:
        from pathlib import Path

        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
