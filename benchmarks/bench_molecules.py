"""Timing of the molecules reproduction, cold and warm, and of its featurizers.

Default: runs the full ``reproduce molecules`` (``python -m skwtsg reproduce
molecules``, in a fresh process each time) twice with ``SKWTSG_CACHE``
pointing at a new empty temporary folder, and prints, with the date and the
machine's load (``os.getloadavg``):

- ``cold``: the wall time with an empty cache (every weak transformer size
  pretrained, once, on the one corpus; the RDKit descriptors computed);
- ``warm``: the same command again, with the cache the cold run filled
  (targets: cold <= 90 s, warm <= 20 s on 2 cores);
- the number of pretrainings of each run (8 cold, 0 warm), read from the
  run's ``summary.json``;
- per data set, the selection verdicts: each weak model's mean bound minus
  the pick's with its paired 95% interval over the test molecules, pooled
  over the splits and per split, and the sentence for each runner-up;
- the largest relative difference of the records of warm against cold
  (identical numbers expected: the cache holds bitwise the same fits).

``--datasets`` runs a subset, ``--quick`` the quick sizes.

``--featurizers``: the timing of the molecule featurizers on Lipop (seed
122): fits :class:`~skwtsg.featurizers.SmilesTransformerFeaturizer` at every
hidden size of the paper's weak family on the Lipop training split (3360
SMILES plus the 5000 NCI molecules shipped with RDKit), 2 epochs, and
reports, per size, the wall-clock and CPU time of ``fit`` and ``transform``
and the test mean squared error of a least-squares head on the
representation (a linear probe). The first fit of the process also computes
(and caches) the descriptor targets; a warm-up fit absorbs that cost. Also
times the RDKit strong featurizer, cold (empty cache) and warm.

Usage::

    python benchmarks/bench_molecules.py [--data-home PATH] [--quick]
        [--datasets NAMES] [--out DIR]
    python benchmarks/bench_molecules.py --compare DIR_A DIR_B
    python benchmarks/bench_molecules.py --featurizers [--threads N]
        [--sizes 8 12 ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

#: Record columns that are timings (not compared).
_TIMINGS = ("fit_seconds", "ceiling_seconds")
#: Largest relative difference of the records accepted as identical numbers.
TOLERANCE = 1e-10


def max_relative_difference(a, b):
    """Largest ``|a - b| / max(|a|, |b|)`` over the numbers of two tables.

    ``a`` and ``b`` are DataFrames of the same shape and columns; timing
    columns are skipped, NaNs must coincide and other columns be equal.
    Returns ``(difference, where)`` with ``where`` naming the entry.
    """
    import pandas as pd

    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        raise ValueError(f"tables differ in shape: {a.shape} vs {b.shape}")
    worst, where = 0.0, None
    for col in a.columns:
        if col in _TIMINGS:
            continue
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if not (
            pd.api.types.is_numeric_dtype(a[col])
            and pd.api.types.is_numeric_dtype(b[col])
        ):
            same = a[col].astype(str) == b[col].astype(str)
            if not (same | (a[col].isna() & b[col].isna())).all():
                raise ValueError(f"column {col!r} differs")
            continue
        x, y = x.astype(float), y.astype(float)
        nan = np.isnan(x)
        if not np.array_equal(nan, np.isnan(y)):
            raise ValueError(f"column {col!r}: NaNs differ")
        scale = np.maximum(np.abs(x), np.abs(y))[~nan]
        diff = np.abs(x - y)[~nan]
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        if rel.size and rel.max() > worst:
            i = int(np.argmax(rel))
            worst, where = float(rel[i]), f"{col} (row {np.flatnonzero(~nan)[i]})"
    return worst, where


def compare_folders(dir_a, dir_b):
    """:func:`max_relative_difference` over the CSV files of two output folders."""
    import pandas as pd

    worst, where = 0.0, None
    files = sorted(Path(dir_a).glob("*.csv"))
    if not files:
        raise ValueError(f"no CSV file in {dir_a}")
    for path in files:
        diff, at = max_relative_difference(
            pd.read_csv(path), pd.read_csv(Path(dir_b) / path.name)
        )
        if diff >= worst:
            worst, where = diff, f"{path.name}: {at}"
    return worst, where


def _load():
    one, five, fifteen = os.getloadavg()
    return (
        f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min), "
        f"{os.cpu_count()} CPUs"
    )


def _run(home, cache, out, args):
    """``python -m skwtsg reproduce molecules`` in a new process: wall seconds."""
    import subprocess
    import sys

    env = {**os.environ, "SKWTSG_CACHE": str(cache), "PYTHONWARNINGS": ""}
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join(
        [str(root), *filter(None, [env.get("PYTHONPATH")])]
    )
    command = [sys.executable, "-m", "skwtsg", "reproduce", "molecules"]
    command += ["--data-home", str(home), "--out", str(out)]
    if args.quick:
        command.append("--quick")
    if args.datasets:
        command += ["--datasets", ",".join(args.datasets)]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
    warned = [
        line
        for line in done.stderr.splitlines()
        if "Warning" in line or "warn" in line.lower()
    ]
    return seconds, warned


def reproduction(args):
    """Cold and warm ``reproduce molecules``: times, pretrainings, verdicts."""
    import json
    import tempfile
    from datetime import datetime

    import pandas as pd

    home = _data_home(args)
    print(f"date: {datetime.now().isoformat(timespec='seconds')}")
    folder = Path(tempfile.mkdtemp(prefix="bench-molecules-"))
    cache = folder / "cache"  # empty: SKWTSG_CACHE of both runs
    out = Path(args.out) if args.out else folder
    summaries = {}
    for label in ("cold", "warm"):
        print(f"{label}: {_load()}", flush=True)
        seconds, warned = _run(home, cache, out / label, args)
        summary = json.loads((out / label / "summary.json").read_text())
        summaries[label] = summary
        prep = summary.get("preparation", {})
        print(
            f"{label}: reproduce molecules{' --quick' if args.quick else ''} in "
            f"{seconds:.1f} s wall; pretrainings {prep.get('pretrained')} (loaded "
            f"{prep.get('loaded')}, {prep.get('seconds', float('nan')):.1f} s); "
            f"warnings printed: {len(warned)}; {_load()}",
            flush=True,
        )
        for line in warned:
            print(f"    {line}")
    for panel, info in summaries["warm"]["panels"].items():
        sel = info["selection"]
        print(
            f"\n{panel}: pick {sel['pick']}, best {sel['best']} "
            f"(regret {sel['regret']:.3g}); resampled: {sel.get('unit')}"
        )
        table = pd.DataFrame(info["selection_table"])
        for _, row in table.iterrows():
            if row.get("pick"):
                continue
            print(
                f"  {row['weak_model']:>10}: {row['difference']:+.3g} "
                f"[{row['difference_low']:.3g}, {row['difference_high']:.3g}] "
                f"{row['verdict']}; per split {row['split_intervals']}"
            )
        for sentence in sel.get("verdicts", [])[:1]:
            print(f"  {sentence}")
    worst, where = compare_folders(out / "warm", out / "cold")
    print(
        f"warm vs cold: max relative difference of the records {worst:.3g}"
        + (f" at {where}" if worst else "")
    )
    if not args.out:
        import shutil

        shutil.rmtree(folder)
    if worst > TOLERANCE:
        raise SystemExit(1)


def _data_home(args):
    home = args.data_home or os.environ.get("SKWTSG_DATA")
    if home is None:
        home = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return home


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding molecules/ (default: $SKWTSG_DATA, else "
        "../shared/data beside the repository)",
    )
    parser.add_argument("--quick", action="store_true", help="quick sizes")
    parser.add_argument(
        "--datasets", help="comma-separated subset, e.g. FreeSolv (default: all)"
    )
    parser.add_argument("--out", help="keep the runs' outputs here (cold/, warm/)")
    parser.add_argument(
        "--compare", nargs=2, metavar="DIR", help="only compare two output folders"
    )
    parser.add_argument(
        "--featurizers", action="store_true", help="time the featurizers instead"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads per fit (n_threads)"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[8, 12, 16, 24, 32, 48, 64, 96]
    )
    args = parser.parse_args(argv)
    if args.datasets:
        from skwtsg.experiments._case import comma_list

        args.datasets = comma_list(args.datasets)
    if args.compare:
        diff, where = compare_folders(*args.compare)
        print(f"max relative difference {diff:.3g} at {where}")
        return
    if not args.featurizers:
        reproduction(args)
        return

    from sklearn.linear_model import LinearRegression

    from skwtsg.datasets._molecules import fetch_molecules
    from skwtsg.featurizers._molecules import RDKitDescriptorFeaturizer, clear_cache
    from skwtsg.featurizers._smiles import SmilesTransformerFeaturizer

    print(f"torch threads per fit: {args.threads}")
    home = _data_home(args)
    try:
        data = fetch_molecules(
            "Lipop", data_home=home, split=122, download_if_missing=False
        )
    except FileNotFoundError as exc:
        print(f"skipped: {exc}")
        return
    X_train, y_train = data.data[data.train_mask], data.target[data.train_mask]
    X_test, y_test = data.data[data.test_mask], data.target[data.test_mask]

    clear_cache()
    for label in ("cold", "warm"):
        wall, cpu = time.perf_counter(), time.process_time()
        strong = RDKitDescriptorFeaturizer().fit(X_train)
        strong.transform(X_test)
        print(
            f"RDKitDescriptorFeaturizer fit+transform ({label}): "
            f"{time.perf_counter() - wall:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU, "
            f"{strong.n_features_out_} features"
        )

    SmilesTransformerFeaturizer(8, max_epochs=1, random_state=0, n_threads=1).fit(
        X_train
    )
    print("hidden  fit_wall  fit_cpu  transform_wall  final_loss  probe_test_mse")
    total = 0.0
    for k in args.sizes:
        wall, cpu = time.perf_counter(), time.process_time()
        weak = SmilesTransformerFeaturizer(
            k, random_state=0, n_threads=args.threads
        ).fit(X_train)
        fit_wall, fit_cpu = time.perf_counter() - wall, time.process_time() - cpu
        wall = time.perf_counter()
        Z_train, Z_test = weak.transform(X_train), weak.transform(X_test)
        tr_wall = time.perf_counter() - wall
        total += fit_wall + tr_wall
        probe = LinearRegression().fit(Z_train, y_train)
        mse = float(np.mean((probe.predict(Z_test) - y_test) ** 2))
        print(
            f"{k:6d}  {fit_wall:8.2f}  {fit_cpu:7.2f}  {tr_wall:14.2f}  "
            f"{np.mean(weak.loss_curve_[-5:]):10.3f}  {mse:14.3f}",
            flush=True,
        )
    print(f"total (fit + transform, all sizes): {total:.1f} s wall")
    print(f"test target variance: {np.var(y_test):.3f}")


if __name__ == "__main__":
    main()
