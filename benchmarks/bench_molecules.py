"""Timing of the molecules reproduction, before and after, and of its featurizers.

Default: runs ``reproduce molecules`` three times in this process and prints
the wall time of each with the machine's load (``os.getloadavg``):

- ``before``: as it ran before (one primal ridge fit per weak model and per
  ceiling, every featurizer refitted and re-transformed in each fit, the
  pretrainings one after the other, no fit cache);
- ``after, cold``: as it runs now (one strong ridge factorisation per split
  shared by every weak model and the ceiling, the ridge in its dual form
  when there are fewer training molecules than features, each frozen
  featurizer transforming a given input once, the weak transformers
  pretrained in ``MOLECULES.n_jobs`` processes, largest first) with an
  empty fit cache (a fresh temporary folder);
- ``after, warm``: the same again with the fit cache the cold run filled
  (what a repeated ``reproduce molecules`` does): the pretrained weak
  transformers are loaded.

The in-process RDKit feature cache is emptied before each run (as in a new
process). It then prints the speed-ups and the largest relative difference
``|a - b| / max(|a|, |b|)`` of the records (every numeric column except the
timings; identical NaNs and text columns required) of cold against before
and of warm against cold, and a verdict: identical numbers when the largest
is at most ``TOLERANCE`` (1e-10), else the exit status is 1.
``--datasets`` runs a subset; ``--reference DIR`` also compares the outputs
(CSV files) of the cold run with those written earlier into ``DIR`` (e.g. by
``python -m skwtsg reproduce molecules --out DIR`` at an older commit);
``--compare A B`` only compares two such folders.

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
        [--datasets NAMES] [--no-before] [--reference DIR] [--out DIR]
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
            if not (a[col].astype(str) == b[col].astype(str)).all():
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


def _before(experiment):
    """The experiment as it ran before: separate primal ridge fits, one process."""
    from dataclasses import replace

    from skwtsg.heads import RidgeHead

    def make_cases(**kwargs):
        cases = experiment.make_cases(**kwargs)
        return [
            replace(
                case,
                share_strong_fit=False,
                head=RidgeHead(alpha=case.head.alpha, solver="primal"),
            )
            for case in cases
        ]

    return replace(experiment, make_cases=make_cases, n_jobs=None)


def reproduction(args):
    """Before, after (cold fit cache) and after (warm): times, differences, verdict."""
    import tempfile

    import torch  # noqa: F401  (imported before any timing)

    from skwtsg.experiments import run_experiment
    from skwtsg.experiments._molecules import MOLECULES
    from skwtsg.featurizers._molecules import clear_cache

    home = _data_home(args)
    cache = tempfile.TemporaryDirectory(prefix="bench-molecules-fits-")
    runs = []
    if not args.no_before:
        runs.append(("before", _before(MOLECULES), False))
    runs += [
        ("after, cold", MOLECULES, cache.name),  # empty fit cache
        ("after, warm", MOLECULES, cache.name),  # the fits of the run above
    ]
    options = {"data_home": home}
    if args.datasets:
        options["datasets"] = args.datasets
    records, seconds = {}, {}
    for label, experiment, cache_dir in runs:
        clear_cache()  # each run starts as a new process would (RDKit features)
        print(f"{label}: {_load()}", flush=True)
        start = time.perf_counter()
        out = args.out if label == "after, cold" else None
        result = run_experiment(
            experiment,
            out=out,
            quick=args.quick,
            verbose=False,
            cache_dir=cache_dir,
            **options,
        )
        seconds[label] = time.perf_counter() - start
        records[label] = result["records"]
        print(
            f"{label}: reproduce molecules{' --quick' if args.quick else ''} in "
            f"{seconds[label]:.1f} s wall (fits {result['summary']['fit_seconds']:.1f}"
            f" s, ceilings {result['summary']['ceiling_seconds']:.1f} s); {_load()}",
            flush=True,
        )
    cache.cleanup()
    worst = 0.0
    pairs = [("after, warm", "after, cold")]
    if "before" in records:
        pairs.insert(0, ("after, cold", "before"))
    for a, b in pairs:
        diff, where = max_relative_difference(records[a], records[b])
        worst = max(worst, diff)
        print(
            f"{a} vs {b}: {seconds[b] / seconds[a]:.2f}x faster; max relative "
            f"difference of the records {diff:.3g}" + (f" at {where}" if diff else "")
        )
    ok = worst <= TOLERANCE
    print(
        f"verdict: {'IDENTICAL NUMBERS' if ok else 'NUMBERS DIFFER'} (max relative "
        f"difference {worst:.3g} {'<=' if ok else '>'} {TOLERANCE:g})"
    )
    if args.reference:
        if not args.out:
            raise SystemExit("--reference needs --out (the folder to compare)")
        diff, where = compare_folders(args.out, args.reference)
        print(
            f"outputs vs {args.reference}: max relative difference {diff:.3g} "
            f"at {where}"
        )
    if not ok:
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
    parser.add_argument(
        "--no-before", action="store_true", help="skip the 'before' run"
    )
    parser.add_argument("--out", help="write the 'after' run's outputs here")
    parser.add_argument(
        "--reference", help="compare the outputs with this folder's CSV files"
    )
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
