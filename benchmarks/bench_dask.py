"""The one-pass Dask fit of WeakToStrongRegressor on a 2-worker LocalCluster.

Rows of 64 features are generated lazily, block by block, each block from
its own seeded generator (nothing is ever held whole). The weak featurizer
is a fixed Gaussian random projection to 16 dimensions (a
``FrozenEstimator``), the strong one another to 48 dimensions (so the weak
model is not in the strong span and the gain is not zero), both heads are
``LeastSquaresHead``; the cluster has 2 worker processes of 1 thread.

Printed in one run, for each size of ``--rows`` (default 10⁷; the full run
is ``--rows 10000000 100000000``, about 15 minutes on 2 cores):

(a) ``the fit = R passes``: the wall time of the Dask fit over the median
    time of the *featurized pass*, one Dask pass that generates the blocks,
    applies both featurizers and sums the result (the least any fit must
    do); target R <= 1.5. The passes are interleaved with the fit (pass,
    fit, pass, intervals, pass) so that a change of load hits both;
(b) the peak resident memory of each worker during the fit, sampled every
    20 ms by a thread in the worker (``psutil``); target < 1.5 GiB at the
    largest size;
(c) the interval pass, reported separately: ``diagnostic_intervals`` on the
    same Dask data (one more pass, by design), in seconds and in passes.

Then (d) the largest relative difference of the coefficients (weak, strong,
intercepts) and of every diagnostic (``weak_error_``, ``strong_error_``,
``misfit_``, ``gain_``, ``bound_`` and the train report) between the Dask
fit and the in-memory fit of the same first ``--slice-rows`` rows (10⁶; the
in-memory fit is given the hashed roles); target 1e-10.

The verdicts are computed from the measured numbers. The date and the
1-minute load average (``os.getloadavg``) at start and end are printed with
the figures: the machine may be shared.

Usage::

    python benchmarks/bench_dask.py [--rows 10000000 [100000000]]
        [--block-rows 250000] [--slice-rows 1000000] [--repeat 3]
        [--out results/bench_dask.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import threading
import time
from statistics import median

import numpy as np

N_FEATURES = 64
WEAK_DIM = 16
STRONG_DIM = 48
SEED = 0
GIB = 2.0**30
DIAGNOSTICS = ("weak_error_", "strong_error_", "misfit_", "gain_", "bound_")


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
            dask.delayed(_block, pure=False)(i, nb, seed),
            (nb, N_FEATURES + 1),
            dtype=np.float64,
        )
        for i, nb in enumerate(sizes)
    ]
    Xy = da.concatenate(blocks, axis=0)
    return Xy[:, :N_FEATURES], Xy[:, N_FEATURES]


def featurizers():
    """The fixed weak and strong featurizers (they learn only the input width)."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.random_projection import GaussianRandomProjection

    def projection(dim, seed):
        grp = GaussianRandomProjection(dim, random_state=seed)
        return FrozenEstimator(grp.fit(np.zeros((1, N_FEATURES))))

    return projection(WEAK_DIM, SEED), projection(STRONG_DIM, SEED + 1)


def make_estimator():
    from skwtsg import WeakToStrongRegressor
    from skwtsg.heads import LeastSquaresHead

    weak, strong = featurizers()
    return WeakToStrongRegressor(
        weak, strong, head=LeastSquaresHead(), random_state=SEED
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
def featurized_pass(n_rows, block_rows):
    """One Dask pass: generate the blocks, apply both featurizers, sum.

    The least a fit must do: read (here, make) every row once and featurize
    it. Both featurizers read the same generated block (one task per block).
    """
    import dask

    X, y = lazy_data(n_rows, block_rows)
    weak, strong = featurizers()
    sums = [
        X.map_blocks(f.transform, chunks=(X.chunks[0], (dim,)), dtype=float).sum(axis=0)
        for f, dim in ((weak, WEAK_DIM), (strong, STRONG_DIM))
    ]
    start = time.perf_counter()
    dask.compute(*sums, y.sum())
    return time.perf_counter() - start


def fit_dask(client, n_rows, block_rows):
    """The Dask fit, timed, with each worker's peak RSS during it."""
    X, y = lazy_data(n_rows, block_rows)
    est = make_estimator()
    before = client.run(_start_sampler)
    start = time.perf_counter()
    est.fit(X, y)
    wall = time.perf_counter() - start
    peaks = client.run(_stop_sampler)
    return est, wall, before, peaks


def interval_pass(est, n_rows, block_rows):
    """``diagnostic_intervals`` on the same Dask data: one more pass."""
    from skwtsg.model_selection import diagnostic_intervals

    X, y = lazy_data(n_rows, block_rows)
    start = time.perf_counter()
    report = diagnostic_intervals(est, X, y, random_state=0)
    return time.perf_counter() - start, report


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


def _rel_diff(a, b):
    a, b = np.ravel(np.asarray(a, float)), np.ravel(np.asarray(b, float))
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def exactness(slice_rows, block_rows):
    """Relative differences, Dask fit against in-memory fit of the same rows."""
    import dask

    X, y = lazy_data(slice_rows, block_rows)
    X_mem, y_mem = (np.asarray(a) for a in dask.compute(X, y))
    start = time.perf_counter()
    lazy = make_estimator().fit(X, y)
    t_dask = time.perf_counter() - start
    start = time.perf_counter()
    mem = make_estimator().fit(X_mem, y_mem, roles=_hash_roles(y_mem, lazy))
    t_mem = time.perf_counter() - start
    diffs = {
        "weak_coef": _rel_diff(lazy.weak_head_.coef_, mem.weak_head_.coef_),
        "weak_intercept": _rel_diff(
            lazy.weak_head_.intercept_, mem.weak_head_.intercept_
        ),
        "strong_coef": _rel_diff(lazy.head_.coef_, mem.head_.coef_),
        "strong_intercept": _rel_diff(lazy.head_.intercept_, mem.head_.intercept_),
    }
    for name in DIAGNOSTICS:
        diffs[name] = _rel_diff(getattr(lazy, name), getattr(mem, name))
    for name, value in mem.train_report_.items():
        diffs["train_" + name] = _rel_diff(lazy.train_report_[name], value)
    return diffs, t_dask, t_mem, lazy


def measure_size(client, n_rows, block_rows, repeat):
    """Passes interleaved with the fit and the interval pass, at one size."""
    passes = [featurized_pass(n_rows, block_rows)]
    est, wall, before, peaks = fit_dask(client, n_rows, block_rows)
    passes.append(featurized_pass(n_rows, block_rows))
    t_int, report = interval_pass(est, n_rows, block_rows)
    while len(passes) < repeat:
        passes.append(featurized_pass(n_rows, block_rows))
    one = median(passes)
    return {
        "rows": n_rows,
        "featurized_pass_s": passes,
        "pass_median_s": one,
        "fit_s": wall,
        "passes": wall / one,
        "interval_s": t_int,
        "interval_passes": t_int / one,
        "worker_peak_rss": {str(k): v for k, v in peaks.items()},
        "worker_start_rss": {str(k): v for k, v in before.items()},
        "gain": float(est.gain_),
        "misfit": float(est.misfit_),
        "bound": float(est.bound_),
        "bound_ci": [float(v) for v in report["bound_ci"]],
    }


def _verdict(ok):
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--block-rows", type=int, default=250_000)
    parser.add_argument("--slice-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="featurized passes")
    parser.add_argument("--memory-limit", default="4GiB", help="per worker")
    parser.add_argument("--out", default=None, help="write JSON here")
    args = parser.parse_args(argv)
    sizes = sorted(args.rows)
    slice_rows = min(args.slice_rows, sizes[0])

    import distributed

    load_start = os.getloadavg()
    print(
        f"{datetime.datetime.now().isoformat(timespec='seconds')}: "
        f"{N_FEATURES} features, weak dim {WEAK_DIM}, strong dim {STRONG_DIM}, "
        f"blocks of {args.block_rows} rows, 2 worker processes x 1 thread, "
        f"{os.cpu_count()} CPUs; load average (1 min) {load_start[0]:.2f}",
        flush=True,
    )
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        memory_limit=args.memory_limit,
    )
    client = distributed.Client(cluster)
    results = []
    try:
        for n_rows in sizes:
            r = measure_size(client, n_rows, args.block_rows, args.repeat)
            results.append(r)
            print(
                f"(a) rows={n_rows:.2g}: fit {r['fit_s']:.2f} s, featurized pass "
                f"{r['pass_median_s']:.2f} s (median of "
                f"{len(r['featurized_pass_s'])}: "
                + ", ".join(f"{t:.2f}" for t in r["featurized_pass_s"])
                + f"); the fit = {r['passes']:.2f} passes  [target <= 1.5: "
                f"{_verdict(r['passes'] <= 1.5)}]",
                flush=True,
            )
            print(
                "(b)     peak RSS per worker during the fit: "
                + ", ".join(
                    f"{v / GIB:.3f} GiB"
                    for _, v in sorted(r["worker_peak_rss"].items())
                ),
                flush=True,
            )
            print(
                f"(c)     interval pass (diagnostic_intervals, reported "
                f"separately): {r['interval_s']:.2f} s = "
                f"{r['interval_passes']:.2f} passes; gain_={r['gain']:.4g} "
                f"misfit_={r['misfit']:.4g} bound_={r['bound']:.4g} "
                f"bound CI {r['bound_ci'][0]:.4g}..{r['bound_ci'][1]:.4g}",
                flush=True,
            )
        diffs, t_dask, t_mem, _ = exactness(slice_rows, args.block_rows)
    finally:
        client.close()
        cluster.close()
    load_end = os.getloadavg()

    worst = max(diffs.values())
    train = max(v for k, v in diffs.items() if k.startswith("train_"))
    largest = results[-1]
    peak = max(largest["worker_peak_rss"].values())
    verdicts = {
        "passes_within_1.5": all(r["passes"] <= 1.5 for r in results),
        "memory_below_1.5GiB": peak < 1.5 * GIB,
        "exact_within_1e-10": worst <= 1e-10,
    }
    print(
        f"(b) largest size ({largest['rows']:.2g} rows): peak RSS {peak / GIB:.3f} "
        f"GiB per worker at most  [target < 1.5 GiB: "
        f"{_verdict(verdicts['memory_below_1.5GiB'])}]"
    )
    print(
        f"(d) Dask vs in-memory fit of the same {slice_rows:.2g} rows, largest "
        "relative difference: "
        + ", ".join(
            f"{k} {v:.1e}" for k, v in diffs.items() if not k.startswith("train_")
        )
        + f"; train report {train:.1e}"
        + f"  [target <= 1e-10: {_verdict(verdicts['exact_within_1e-10'])}]"
    )
    print(
        f"    fit of {slice_rows:.2g} rows: Dask {t_dask:.2f} s, in memory "
        f"{t_mem:.2f} s"
    )
    print(
        f"{datetime.datetime.now().isoformat(timespec='seconds')}: load average "
        f"(1 min) {load_start[0]:.2f} at start, {load_end[0]:.2f} at end"
    )
    result = {
        "sizes": results,
        "block_rows": args.block_rows,
        "slice_rows": slice_rows,
        "exactness": diffs,
        "slice_fit_s": {"dask": t_dask, "in_memory": t_mem},
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
