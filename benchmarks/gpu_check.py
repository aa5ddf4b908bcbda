"""GPU check of the torch paths: CUDA vs CPU, in one short script (< 3 min).

Measures, on each device, (1) featurizing 10^6 rows with an 8-layer MLP
(:class:`~skwtsg.featurizers.TorchFeaturizer`, float32 and float64), (2)
pretraining the paper's 8-layer ``h_s`` (``T=10``, ``N_r=2000``) with
:class:`~skwtsg.featurizers.MultiTaskFeaturizer`'s fast default for a few
epochs (time extrapolated to its 1000 epochs), and (3) a few epochs of
:class:`~skwtsg.heads.GradientLinearHead` with the paper's settings on 100
tasks. It also checks that CUDA and CPU agree (float64 features), that a
fitted CUDA featurizer pickles with its modules on the CPU and comes back on
CUDA with identical outputs, and that ``device="auto"`` picks CUDA. Then (4)
it fits :class:`~skwtsg.WeakToStrongRegressor` with each learned
representation path on ``device="cuda"``: ``TorchFeaturizer`` of a perturbed
``h*``, ``SkorchFeaturizer`` with ``EarlyStopping`` on a ``ValidSplit``, and
``PretrainedFeaturizer`` around ``MultiTaskFeaturizer`` and
``SkorchFeaturizer`` (pretrain, then freeze), recording each fit's time and
diagnostics and where its modules live. Without CUDA (or with ``--quick``)
part (4) runs on the CPU as a smoke test of the code and records
``"cuda": "skipped: ..."``. Prints the CUDA/CPU ratios and writes everything
as JSON to ``--out``.

Usage::

    python benchmarks/gpu_check.py --out results/gpu_check.json
    python benchmarks/gpu_check.py --quick --out /tmp/gpu_check.json  # CPU only
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import time
import warnings
from datetime import datetime, timezone


def _timed(fn, sync):
    sync()
    start = time.perf_counter()
    out = fn()
    sync()
    return out, time.perf_counter() - start


def _learned_paths(device, tasks, epochs):
    """Weak-to-strong fits with each learned-representation path on
    ``device``: ``{path: {seconds, diagnostics, module device}}``."""
    import numpy as np
    from skorch.callbacks import EarlyStopping
    from skorch.dataset import ValidSplit

    from skwtsg import WeakToStrongRegressor
    from skwtsg.featurizers import (
        MLP,
        MultiTaskFeaturizer,
        PretrainedFeaturizer,
        SkorchFeaturizer,
        TorchFeaturizer,
        perturb_weights,
    )

    n = len(tasks.X_weak)
    X = np.vstack([tasks.X_weak, tasks.X_strong, tasks.X_eval])
    y = np.vstack([tasks.y_weak, tasks.y_strong, tasks.y_eval])
    roles = np.repeat(["weak", "strong", "eval"], n)
    X_pre, Y_pre = tasks.pretrain_X, tasks.pretrain_Y
    weak = TorchFeaturizer(
        perturb_weights(tasks.target_module, 0.05, random_state=0), device=device
    )
    skorch_net = dict(
        module__n_layers=8, max_epochs=epochs, device=device, random_state=0
    )
    strong = {
        "TorchFeaturizer(perturbed h*)": TorchFeaturizer(
            perturb_weights(tasks.target_module, 0.01, random_state=1),
            device=device,
        ),
        "SkorchFeaturizer(EarlyStopping, ValidSplit)": SkorchFeaturizer(
            MLP,
            train_split=ValidSplit(5),
            callbacks=[EarlyStopping(patience=3)],
            **skorch_net,
        ),
        "PretrainedFeaturizer(MultiTaskFeaturizer)": PretrainedFeaturizer(
            MultiTaskFeaturizer(
                task_heads=tasks.pretrain_heads,
                module__n_layers=8,
                max_epochs=epochs,
                n_init=1,
                device=device,
                random_state=0,
            ),
            X_pre,
            Y_pre,
        ),
        "PretrainedFeaturizer(SkorchFeaturizer)": PretrainedFeaturizer(
            SkorchFeaturizer(MLP, **skorch_net), X_pre, np.nan_to_num(Y_pre)
        ),
    }
    out = {}
    for name, featurizer in strong.items():
        start = time.perf_counter()
        # the SkorchFeaturizer alone is trained on the weak labels: the
        # estimator's warning about it is expected here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            est = WeakToStrongRegressor(weak, featurizer, random_state=0).fit(
                X, y, roles=roles
            )
        seconds = time.perf_counter() - start
        fitted = est.strong_featurizer_
        fitted = getattr(fitted, "featurizer_", fitted)
        out[name] = {
            "seconds": seconds,
            "module_device": next(fitted.module_.parameters()).device.type,
            "weak_error": float(np.mean(est.weak_error_)),
            "strong_error": float(np.mean(est.strong_error_)),
            "misfit": float(np.mean(est.misfit_)),
            "gain": float(np.mean(est.gain_)),
            "epochs": len(fitted.history_) if hasattr(fitted, "net_") else None,
        }
        print(f"[{device}] {name}: {seconds:.2f} s, {out[name]}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="write the figures as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="CPU only, small sizes (a smoke test)"
    )
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--pretrain-epochs", type=int, default=None)
    parser.add_argument("--head-epochs", type=int, default=None)
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from skwtsg.datasets._synthetic import make_synthetic_tasks
    from skwtsg.featurizers import MLP, MultiTaskFeaturizer, TorchFeaturizer
    from skwtsg.heads._gradient import GradientLinearHead

    cuda = torch.cuda.is_available() and not args.quick
    devices = ["cpu", "cuda"] if cuda else ["cpu"]
    n_rows = args.rows or (2_000 if args.quick else 1_000_000)
    pre_epochs = args.pretrain_epochs or (2 if args.quick else 20)
    head_epochs = args.head_epochs or (2 if args.quick else 5)
    sizes = (
        dict(n_pretrain_tasks=3, n_pretrain_samples=200, n_tasks=10, n_samples=200)
        if args.quick
        else dict(
            n_pretrain_tasks=10, n_pretrain_samples=2000, n_tasks=100, n_samples=2000
        )
    )
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "machine": platform.platform(),
        "cuda_available": torch.cuda.is_available(),
        "device_name": torch.cuda.get_device_name(0) if cuda else "cpu only",
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "rows": n_rows,
        "sizes": sizes,
        "pretrain_epochs": pre_epochs,
        "head_epochs": head_epochs,
        "timings": {},
        "checks": {},
    }
    print(f"date {result['date']}, load average {result['load_average']}")
    print(f"devices: {devices} ({result['device_name']}), torch {torch.__version__}")

    def sync_for(device):
        if device == "cuda":
            return torch.cuda.synchronize
        return lambda: None

    rng = np.random.default_rng(0)
    X = rng.normal(0.0, 500.0, size=(n_rows, 8))
    tasks = make_synthetic_tasks(**sizes, random_state=0)
    features = {}
    for device in devices:
        sync = sync_for(device)
        t = result["timings"].setdefault(device, {})
        for dtype in ("float32", "float64"):
            feat = TorchFeaturizer(
                MLP, module__n_layers=8, device=device, dtype=dtype, random_state=0
            ).fit(X[:10])
            feat.transform(X[:1000])  # warm-up
            Z, seconds = _timed(lambda: feat.transform(X), sync)
            t[f"featurize_{dtype}_s"] = seconds
            features[(device, dtype)] = Z
            print(
                f"[{device}] featurize {n_rows} rows, 8 layers, {dtype}: "
                f"{seconds:.2f} s"
            )

        common = dict(
            task_heads=tasks.pretrain_heads,
            module__n_layers=8,
            device=device,
            random_state=0,
        )
        MultiTaskFeaturizer(**common, max_epochs=1).fit(
            tasks.pretrain_X[:600], tasks.pretrain_Y[:600]
        )  # warm-up
        mtf, seconds = _timed(
            lambda: MultiTaskFeaturizer(**common, max_epochs=pre_epochs).fit(
                tasks.pretrain_X, tasks.pretrain_Y
            ),
            sync,
        )
        t["pretrain_fast_s"] = seconds
        t["pretrain_fast_1000_epochs_s"] = seconds * 1000 / pre_epochs
        t["pretrain_fast_loss"] = mtf.train_loss_
        print(
            f"[{device}] pretrain fast default, {pre_epochs} epochs: {seconds:.2f} s"
            f" (1000 epochs: ~{seconds * 1000 / pre_epochs:.0f} s), "
            f"loss {mtf.train_loss_:.4f}"
        )

        Zh = (
            TorchFeaturizer(tasks.target_module)
            .fit(tasks.X_weak)
            .transform(tasks.X_weak)
        )
        head, seconds = _timed(
            lambda: GradientLinearHead(
                max_epochs=head_epochs, device=device, random_state=0
            ).fit(Zh, tasks.y_weak),
            sync,
        )
        t["head_paper_s"] = seconds
        t["head_paper_1000_epochs_s"] = seconds * 1000 / head_epochs
        print(
            f"[{device}] GradientLinearHead (paper), {head_epochs} epochs, "
            f"{tasks.y_weak.shape[1]} tasks: {seconds:.2f} s"
        )

    checks = result["checks"]
    if cuda:
        diff = np.max(
            np.abs(features[("cuda", "float64")] - features[("cpu", "float64")])
        )
        scale = np.max(np.abs(features[("cpu", "float64")]))
        checks["cuda_cpu_float64_max_rel_diff"] = float(diff / scale)
        checks["cuda_cpu_agree"] = bool(diff <= 1e-9 * scale)
        feat = TorchFeaturizer(
            MLP, module__n_layers=8, device="cuda", random_state=0
        ).fit(X[:10])
        state = feat.__getstate__()
        checks["pickled_state_on_cpu"] = all(
            v.device.type == "cpu" for v in state["module_"].state_dict().values()
        )
        loaded = pickle.loads(pickle.dumps(feat))
        checks["unpickled_on_cuda"] = (
            next(loaded.module_.parameters()).device.type == "cuda"
        )
        checks["pickle_round_trip_identical"] = bool(
            np.array_equal(loaded.transform(X[:1000]), feat.transform(X[:1000]))
        )
        checks["auto_picks_cuda"] = (
            TorchFeaturizer(MLP, device="auto").fit(X[:10]).device_ == "cuda"
        )
        ratios = {
            key: result["timings"]["cpu"][key] / result["timings"]["cuda"][key]
            for key in (
                "featurize_float32_s",
                "featurize_float64_s",
                "pretrain_fast_s",
                "head_paper_s",
            )
        }
        result["cpu_over_cuda"] = ratios
        print(
            "CPU / CUDA time ratios: "
            + ", ".join(f"{k}: {v:.1f}x" for k, v in ratios.items())
        )
        print("checks:", checks)
    else:
        expected = "cuda" if torch.cuda.is_available() else "cpu"
        checks["auto_picks_available_device"] = (
            TorchFeaturizer(MLP, device="auto").fit(X[:10]).device_ == expected
        )
        print("no CUDA device: CPU figures only;", checks)

    # (4) the learned-representation paths on CUDA (a CPU smoke test without)
    paths_epochs = 2 if args.quick else 20
    paths_tasks = make_synthetic_tasks(
        **dict(sizes, n_tasks=min(sizes["n_tasks"], 10)), random_state=0
    )
    learned = result["learned_paths"] = {}
    if cuda:
        learned["cuda"] = _learned_paths("cuda", paths_tasks, paths_epochs)
        checks["learned_paths_on_cuda"] = all(
            r["module_device"] == "cuda" for r in learned["cuda"].values()
        )
    else:
        reason = "--quick" if args.quick else "CUDA is not available"
        learned["cuda"] = f"skipped: {reason}"
        learned["cpu"] = _learned_paths("cpu", paths_tasks, paths_epochs)
        checks["learned_paths_run_on_cpu"] = all(
            np.isfinite(r["strong_error"]) for r in learned["cpu"].values()
        )
        print(f"learned paths on CUDA {learned['cuda']}")

    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)
        print(f"wrote {args.out}")
    ok = all(v for v in checks.values() if isinstance(v, bool))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
