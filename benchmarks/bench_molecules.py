"""Timing of the molecule featurizers on Lipop (seed 122).

Fits :class:`~skwtsg.featurizers.SmilesTransformerFeaturizer` at every hidden
size of the paper's weak family on the Lipop training split (3360 SMILES plus
the 5000 NCI molecules shipped with RDKit), 2 epochs, and reports, per size,
the wall-clock and CPU time of ``fit`` and ``transform`` and the test mean
squared error of a least-squares head on the representation (a linear probe).
The first fit of the process also computes (and caches) the descriptor
targets; a warm-up fit absorbs that cost. Also times the RDKit strong
featurizer, cold (empty cache) and warm.

Usage::

    python benchmarks/bench_molecules.py [--data-home PATH] [--threads N]
        [--sizes 8 12 ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding molecules/ (default: $SKWTSG_DATA, else "
        "../shared/data beside the repository)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads per fit (n_threads)"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[8, 12, 16, 24, 32, 48, 64, 96]
    )
    args = parser.parse_args(argv)

    from sklearn.linear_model import LinearRegression

    from skwtsg.datasets._molecules import fetch_molecules
    from skwtsg.featurizers._molecules import RDKitDescriptorFeaturizer, clear_cache
    from skwtsg.featurizers._smiles import SmilesTransformerFeaturizer

    print(f"torch threads per fit: {args.threads}")
    home = args.data_home or os.environ.get("SKWTSG_DATA")
    if home is None:
        home = Path(__file__).resolve().parents[1].parent / "shared" / "data"
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
