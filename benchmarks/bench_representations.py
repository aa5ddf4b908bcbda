"""Benchmark: learned representations and gradient heads at the paper's sizes.

Section 5.1 of the paper pretrains ``h_s`` (an 8-layer ReLU MLP) on ``T=10``
tasks with ``N_r=2000`` rows each, and fits every linear head with Adam
(batch 32, lr 1e-3, 1000 epochs; appendix F). This script measures:

1. Pretraining the 8-layer representation (eq. (9), the true task heads
   frozen): :class:`~skwtsg.featurizers.MultiTaskFeaturizer`'s fast default
   (best of 8 screened initialisations, then Adam, batch 512, lr 3e-3
   cosine-annealed, 1000 epochs) run in full, vs the paper's procedure
   (one initialisation, AdamW as in the authors' code, batch 32, lr 1e-3,
   constant) run for a few epochs and extrapolated to 1000 epochs (its time;
   its loss is the one reached after those epochs). Optionally
   (``--lbfgs N``) full-batch float64 L-BFGS for N iterations.
2. The linear heads of ``M=100`` tasks on ``N_f=2000`` rows of the
   representation ``h*``: exact least squares (``numpy.linalg.lstsq``, and
   ``skwtsg.heads.LeastSquaresHead`` when present) vs
   :class:`~skwtsg.heads.GradientLinearHead` with the paper's settings (all
   tasks jointly; a few epochs, extrapolated to 1000), and the time the
   paper's per-task loop would take (one task's epoch time x M).

Usage::

    python benchmarks/bench_representations.py [--out results/bench_repr.json]
        [--paper-epochs 3] [--head-epochs 5] [--threads N] [--device cpu]
        [--lbfgs 0] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time


def _time(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="write the figures as JSON")
    parser.add_argument("--paper-epochs", type=int, default=3)
    parser.add_argument("--head-epochs", type=int, default=5)
    parser.add_argument(
        "--fast-epochs",
        type=int,
        default=None,
        help="epochs of the fast default (default: its own)",
    )
    parser.add_argument(
        "--lbfgs", type=int, default=0, help="also run N L-BFGS iterations (0: skip)"
    )
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, to check that the script runs"
    )
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from skwtsg.datasets._synthetic import make_synthetic_tasks
    from skwtsg.featurizers import MultiTaskFeaturizer, TorchFeaturizer
    from skwtsg.heads._gradient import GradientLinearHead

    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = dict(
        n_pretrain_tasks=10, n_pretrain_samples=2000, n_tasks=100, n_samples=2000
    )
    total_epochs = 1000
    if args.quick:
        sizes = dict(
            n_pretrain_tasks=3, n_pretrain_samples=100, n_tasks=5, n_samples=100
        )
        total_epochs = 10
    fast_epochs = args.fast_epochs or (total_epochs if args.quick else None)
    tasks = make_synthetic_tasks(**sizes, random_state=args.seed)
    X, Y, heads = tasks.pretrain_X, tasks.pretrain_Y, tasks.pretrain_heads
    results = {
        "sizes": sizes,
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "pretraining": {},
        "heads": {},
    }
    common = dict(
        task_heads=heads, module__n_layers=8, device=args.device, random_state=args.seed
    )

    # warm-up (first calls into torch are slow)
    MultiTaskFeaturizer(**{**common, "max_epochs": 2}).fit(X[:64], Y[:64])

    # ---------------------------------------------------------- pretraining
    rows = []
    fast_kw = {} if fast_epochs is None else {"max_epochs": fast_epochs}
    fast, seconds = _time(lambda: MultiTaskFeaturizer(**common, **fast_kw).fit(X, Y))
    rows.append(
        (
            "fast default (adam, bs 512, cosine)",
            fast.n_iter_,
            seconds,
            seconds,
            fast.train_loss_,
        )
    )
    paper, seconds = _time(
        lambda: MultiTaskFeaturizer(
            **common,
            optimizer="adamw",
            lr=1e-3,
            batch_size=32,
            lr_schedule="constant",
            weight_decay=0.01,
            n_init=1,
            max_epochs=args.paper_epochs,
        ).fit(X, Y)
    )
    rows.append(
        (
            f"paper (adamw, bs 32), {args.paper_epochs} epochs",
            paper.n_iter_,
            seconds,
            seconds * total_epochs / args.paper_epochs,
            paper.train_loss_,
        )
    )
    if args.lbfgs:
        lbfgs, seconds = _time(
            lambda: MultiTaskFeaturizer(
                **common,
                optimizer="lbfgs",
                lr=1.0,
                dtype="float64",
                max_epochs=args.lbfgs,
            ).fit(X, Y)
        )
        rows.append(
            (
                f"L-BFGS float64, {args.lbfgs} iterations",
                lbfgs.n_iter_,
                seconds,
                seconds,
                lbfgs.train_loss_,
            )
        )
    print(
        f"\nPretraining the 8-layer h_s: T={sizes['n_pretrain_tasks']}, "
        f"N_r={sizes['n_pretrain_samples']}, device={args.device}, "
        f"threads={torch.get_num_threads()}"
    )
    print(f"{'method':<42}{'iters':>7}{'run s':>9}{'1000-ep s':>11}{'loss':>10}")
    for name, iters, run_s, full_s, loss in rows:
        print(f"{name:<42}{iters:>7}{run_s:>9.1f}{full_s:>11.1f}{loss:>10.4f}")
        results["pretraining"][name] = dict(
            iterations=iters,
            seconds=run_s,
            seconds_1000_epochs=full_s,
            train_loss=loss,
        )
    speedup = rows[1][3] / rows[0][3]
    print(f"paper (extrapolated) / fast default wall time: {speedup:.1f}x")
    results["pretraining"]["speedup_vs_paper"] = speedup

    # --------------------------------------------------------------- heads
    feat = TorchFeaturizer(tasks.target_module, dtype="float64").fit(tasks.X_weak)
    Z, Yf = feat.transform(tasks.X_weak), tasks.y_weak
    A = np.hstack([Z, np.ones((Z.shape[0], 1))])

    def mse(pred):
        return float(np.mean((pred - Yf) ** 2))

    coef, seconds = _time(lambda: np.linalg.lstsq(A, Yf, rcond=None)[0])
    exact_loss = mse(A @ coef)
    head_rows = [("exact: numpy.linalg.lstsq", seconds, seconds, exact_loss)]
    try:
        from skwtsg.heads import LeastSquaresHead
    except ImportError:  # pragma: no cover
        LeastSquaresHead = None
    if LeastSquaresHead is not None:
        ls, seconds = _time(lambda: LeastSquaresHead().fit(Z, Yf))
        head_rows.append(
            ("exact: LeastSquaresHead", seconds, seconds, mse(ls.predict(Z)))
        )
    E = args.head_epochs
    grad, seconds = _time(
        lambda: GradientLinearHead(
            max_epochs=E, device=args.device, random_state=args.seed
        ).fit(Z, Yf)
    )
    head_rows.append(
        (
            f"GradientLinearHead (paper), {E} epochs, joint",
            seconds,
            seconds * total_epochs / E,
            mse(grad.predict(Z)),
        )
    )
    one, seconds = _time(
        lambda: GradientLinearHead(
            max_epochs=E, device=args.device, random_state=args.seed
        ).fit(Z, Yf[:, 0])
    )
    per_task_full = seconds * total_epochs / E * Yf.shape[1]
    head_rows.append(
        (
            f"  paper's per-task loop (x{Yf.shape[1]} tasks)",
            seconds,
            per_task_full,
            float("nan"),
        )
    )
    print(f"\nLinear heads: M={Yf.shape[1]} tasks, N_f={Z.shape[0]} rows of h*(x)")
    print(f"{'method':<46}{'run s':>9}{'1000-ep s':>11}{'train MSE':>12}")
    for name, run_s, full_s, loss in head_rows:
        print(f"{name:<46}{run_s:>9.3f}{full_s:>11.1f}{loss:>12.5f}")
        results["heads"][name] = dict(
            seconds=run_s, seconds_1000_epochs=full_s, train_mse=loss
        )
    ratio = head_rows[-2][2] / head_rows[0][1]
    print(
        f"GradientLinearHead (1000 epochs, extrapolated) / lstsq wall time: "
        f"{ratio:.0f}x; its train MSE after {E} epochs: {head_rows[-2][3]:.4g} "
        f"(exact: {exact_loss:.4g})"
    )
    results["heads"]["time_ratio_gradient_vs_lstsq"] = ratio
    results["heads"]["exact_train_mse"] = exact_loss

    if args.out:
        import os

        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(results, fh, indent=2)
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
