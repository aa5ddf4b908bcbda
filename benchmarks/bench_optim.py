"""Benchmark: the first torch fit of a process, with torch.optim vs skwtsg's optimisers.

Constructing a ``torch.optim`` optimiser imports ``torch._dynamo`` (issue
15: 9% of the molecules quick run). skwtsg's training loop uses its own
optimisers (:mod:`skwtsg._utils._optim`, bitwise the same updates). Each
figure is measured in a fresh interpreter (``subprocess``), so that the
import costs count, in interleaved repeats (one of each kind per round,
after one warm-up round that also fills the descriptor cache); medians are
printed:

* ``import torch`` alone, and ``import torch`` + constructing
  ``torch.optim.Adam`` + one step (seconds, ``sys.modules`` count, whether
  ``torch._dynamo`` was imported, peak resident memory);
* the first fit of a small
  :class:`~skwtsg.featurizers.SmilesTransformerFeaturizer` (hidden size 8,
  1 epoch, 240 NCI molecules, no extra SMILES, 1 thread), imports included:
  as skwtsg runs it now, and with ``torch.optim`` swapped back in (the
  optimiser classes of :mod:`skwtsg._utils._optim` replaced by
  ``torch.optim.Adam``/``AdamW``/``SGD``/``LBFGS`` and
  ``CosineAnnealingLR``). The two loss curves must be identical; the ratio
  torch.optim / skwtsg of the medians is printed.

The load average (``os.getloadavg``) is printed at the start and the end:
on a busy machine the times are not reliable, the ratio less so.

Usage::

    python benchmarks/bench_optim.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from statistics import median

_CHILD = r"""
import json, resource, sys, time
start = time.perf_counter()
mode = sys.argv[1]
out = {}
if mode == "import torch":
    import torch
elif mode == "torch.optim.Adam step":
    import torch
    p = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.Adam([p], lr=1e-3)
    p.sum().backward()
    opt.step()
else:
    import os
    import numpy as np
    import torch
    from rdkit import RDConfig
    from skwtsg._utils import _optim
    from skwtsg.featurizers import SmilesTransformerFeaturizer
    if mode == "fit, torch.optim":
        def adam(groups, lr, *, decoupled=False, fused=False):
            cls = torch.optim.AdamW if decoupled else torch.optim.Adam
            return cls(groups, lr=lr, **({"fused": True} if fused else {}))
        def sgd(groups, lr, *, fused=False):
            return torch.optim.SGD(groups, lr=lr, **({"fused": True} if fused else {}))
        _optim._Adam, _optim._SGD = adam, sgd
        _optim._CosineSchedule = torch.optim.lr_scheduler.CosineAnnealingLR
    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path) as f:
        smiles = [line.split()[0] for line in f if line.strip()][:N_SMILES]
    fit_start = time.perf_counter()
    feat = SmilesTransformerFeaturizer(
        8, max_epochs=1, extra_smiles=None, n_threads=1, random_state=0
    ).fit(smiles)
    out["fit_s"] = time.perf_counter() - fit_start
    out["curve"] = [float(v).hex() for v in feat.loss_curve_]
out["total_s"] = time.perf_counter() - start
out["modules"] = len(sys.modules)
out["dynamo"] = "torch._dynamo" in sys.modules
out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""

MODES = ("import torch", "torch.optim.Adam step", "fit, skwtsg", "fit, torch.optim")


def _run(mode: str, n_smiles: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = _CHILD.replace("N_SMILES", str(n_smiles))
    res = subprocess.run(
        [sys.executable, "-c", code, mode],
        capture_output=True,
        text=True,
        env=env,
    )
    if res.returncode != 0:
        raise RuntimeError(f"{mode!r} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 repeats, 64 SMILES")
    args = parser.parse_args(argv)
    try:
        import rdkit  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        print(f"skipped: {exc}")
        return 0
    repeats, n_smiles = (2, 64) if args.quick else (args.repeats, 240)
    load_start = os.getloadavg()
    for mode in MODES:  # warm-up round (page cache, descriptor cache)
        _run(mode, n_smiles)
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for _ in range(repeats):
        for mode in MODES:
            runs[mode].append(_run(mode, n_smiles))
    load_end = os.getloadavg()

    print(f"fresh interpreters, {repeats} interleaved repeats, medians")
    print(f"{'':24s} {'total s':>8s} {'fit s':>7s} {'modules':>8s} {'dynamo':>7s} "
          f"{'RSS MB':>7s}")  # fmt: skip
    med = {}
    for mode, rs in runs.items():
        med[mode] = {
            key: median(r[key] for r in rs)
            for key in ("total_s", "modules", "maxrss_mb")
        }
        fit = f"{median(r['fit_s'] for r in rs):7.3f}" if "fit_s" in rs[0] else ""
        med[mode]["fit_s"] = median(r["fit_s"] for r in rs) if fit else None
        dynamo = sorted({r["dynamo"] for r in rs})
        print(
            f"{mode:24s} {med[mode]['total_s']:8.3f} {fit:>7s} "
            f"{med[mode]['modules']:8.0f} {'/'.join(map(str, dynamo)):>7s} "
            f"{med[mode]['maxrss_mb']:7.0f}"
        )
    curves = {tuple(r["curve"]) for m in MODES[2:] for r in runs[m]}
    ours, ref = med["fit, skwtsg"], med["fit, torch.optim"]
    print(f"loss curves identical across the two fits: {len(curves) == 1}")
    print(
        "first fit, torch.optim / skwtsg: "
        f"{ref['total_s'] / ours['total_s']:.3f} (imports included), "
        f"{ref['fit_s'] / ours['fit_s']:.3f} (fit call only); "
        f"saved {ref['total_s'] - ours['total_s']:.3f} s, "
        f"{ref['maxrss_mb'] - ours['maxrss_mb']:.0f} MB peak RSS"
    )
    print(
        f"load average at start {load_start[0]:.2f}, at end {load_end[0]:.2f} "
        f"(on {os.cpu_count()} cores)"
    )
    return 0 if len(curves) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
