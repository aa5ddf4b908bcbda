"""Benchmark: the whole synthetic reproduction at the paper's sizes, timed.

Runs ``python -m skwtsg reproduce synthetic`` in this process (every panel
and the ε sweep, figures and report written to a temporary folder) and
prints the wall time with its breakdown, measured in that one run, as
fractions of it: importing skwtsg, building the representations
(pretraining), the weak-to-strong fits, the ceiling fits (and Theorem 2's
decomposition), the figures and report, and the rest (summaries). Also each
panel's slope, R² and verdict. Issue 12's target: at most 60 s wall on 2
idle cores from a warm venv (30 s aimed at). Note the machine's load
(``uptime``): other processes on the same cores slow every part, so the CPU
time is printed too, in this process and in the worker processes that
pretrain the representations (measured once they have exited), which the
load does not inflate.

Usage: python benchmarks/bench_synthetic.py [--out results/bench_synthetic.json]
       [--quick] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=None, help="write the timings as JSON here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a test)")
    parser.add_argument("--keep", default=None, help="write the outputs here")
    args = parser.parse_args(argv)

    from skwtsg.experiments import reproduce

    imported = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = reproduce(
            "synthetic",
            out=args.keep or tmp,
            quick=args.quick,
            random_state=args.seed,
            verbose=False,
        )
    end = time.perf_counter()
    wall = end - start
    cpu = time.process_time()
    # the pretraining workers (joblib's reusable loky executor): stop them so
    # that their CPU time is counted among this process's reaped children
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_workers = usage.ru_utime + usage.ru_stime
    summary = result["summary"]
    parts = {
        "import": imported - start,
        "representations": summary["prepare_seconds"],
        "fits": summary["fit_seconds"],
        "ceiling fits": summary["ceiling_seconds"],
        "figures and report": summary["output_seconds"],
    }
    parts["other"] = wall - sum(parts.values())
    print(f"{'panel':>10} {'slope':>8} {'R2':>7} {'fit s':>6}  verdict")
    panels = {}
    for panel, info in summary["panels"].items():
        ev = info["eval"]
        panels[panel] = {
            "slope": ev["slope"],
            "r2": ev["r2"],
            "fit_seconds": info["fit_seconds"],
            "agrees_with_paper": info.get("agrees_with_paper"),
        }
        print(
            f"{panel:>10} {ev['slope']:8.3f} {ev['r2']:7.4f} "
            f"{info['fit_seconds']:6.2f}  {info.get('verdict', '')}"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nsynthetic reproduction at the paper's sizes: {wall:.1f} s wall "
        f"(target <= 60 s on 2 idle cores), {cpu:.1f} s CPU in this process and "
        f"{cpu_workers:.1f} s in worker processes; 1-minute load average at the "
        f"end {load:.2f} on {os.cpu_count()} cores"
    )
    for name, seconds in parts.items():
        print(f"  {name:>20}: {seconds:7.2f} s  {100 * seconds / wall:5.1f} %")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                {
                    "wall_seconds": wall,
                    "cpu_seconds": cpu,
                    "worker_cpu_seconds": cpu_workers,
                    "parts_seconds": parts,
                    "load_average": load,
                    "panels": panels,
                    "python": sys.version.split()[0],
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
