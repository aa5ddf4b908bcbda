"""skwtsg's optimisers are bitwise torch.optim's, without torch._dynamo."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from skwtsg._utils import _optim  # noqa: E402
from skwtsg._utils._optim import _LBFGS, _SGD, _Adam, _CosineSchedule  # noqa: E402
from skwtsg._utils._torch import _optimize  # noqa: E402

N_STEPS = 25
LR = {"adam": 3e-2, "adamw": 3e-2, "sgd": 5e-2}


def _problem(dtype, seed=0):
    """A seeded two-layer network, rows and targets, plus an unused parameter."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(40, 4, generator=gen, dtype=dtype)
    Y = torch.randn(40, 2, generator=gen, dtype=dtype)
    first = torch.nn.Linear(4, 6).to(dtype)
    second = torch.nn.Linear(6, 2).to(dtype)
    with torch.no_grad():
        for p in (*first.parameters(), *second.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype))
    unused = torch.nn.Parameter(torch.ones(3, dtype=dtype))  # grad stays None
    params = [*first.parameters(), *second.parameters(), unused]

    def loss_fn(xb, yb):
        return ((second(torch.tanh(first(xb))) - yb) ** 2).mean()

    return params, loss_fn, X, Y


def _groups(params):
    # weight decay given on the first group, the optimiser's default on the
    # second (AdamW: 0.01)
    return [
        {"params": params[:2], "weight_decay": 0.05},
        {"params": params[2:]},
    ]


def _train(make, params, loss_fn, X, Y, schedule):
    opt = make(_groups(params))
    scheduler = None
    if schedule == "cosine":
        make_scheduler = (
            _CosineSchedule
            if isinstance(opt, _optim._Optimizer)
            else torch.optim.lr_scheduler.CosineAnnealingLR
        )
        scheduler = make_scheduler(opt, N_STEPS)
    losses = []
    for step in range(N_STEPS):
        rows = slice(8 * (step % 5), 8 * (step % 5) + 8)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(X[rows], Y[rows])
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(float(loss.detach()))
    return opt, losses


def _ours(optimizer, fused):
    lr = LR[optimizer]
    if optimizer == "sgd":
        return lambda groups: _SGD(groups, lr, fused=fused)
    return lambda groups: _Adam(groups, lr, decoupled=optimizer == "adamw", fused=fused)


def _torch_optim(optimizer, **flags):
    cls = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "sgd": torch.optim.SGD,
    }[optimizer]
    return lambda groups: cls(groups, lr=LR[optimizer], **flags)


def _assert_same_training(make_ours, make_ref, dtype, schedule):
    ours = _problem(dtype)
    ref = _problem(dtype)
    start = [p.detach().clone() for p in ours[0]]
    opt, ours_losses = _train(make_ours, *ours, schedule)
    _, ref_losses = _train(make_ref, *ref, schedule)
    assert ours_losses == ref_losses
    for p, q in zip(ours[0], ref[0]):
        assert p.dtype == q.dtype == dtype
        assert torch.equal(p, q)
    # the trained parameters moved, the unused one did not (it was skipped)
    assert not any(torch.equal(p, s) for p, s in zip(ours[0][:-1], start))
    assert torch.equal(ours[0][-1], start[-1])
    assert ours[0][-1] not in opt.state
    return opt


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_gradient_optimizers_are_torch_optim_bitwise(optimizer, fused, dtype, schedule):
    # as _make_gradient_optimizer built them: fused=True, or torch's default
    flags = {"fused": True} if fused else {}
    opt = _assert_same_training(
        _ours(optimizer, fused), _torch_optim(optimizer, **flags), dtype, schedule
    )
    assert opt.fused is fused  # the fused kernels ran on the CPU


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_foreach_path_is_torch_optim_bitwise(optimizer, monkeypatch):
    # the path of CUDA parameters when fused=False, forced on the CPU
    monkeypatch.setattr(_optim, "_foreach_supported", lambda torch, params: True)
    _assert_same_training(
        _ours(optimizer, False),
        _torch_optim(optimizer, foreach=True),
        torch.float32,
        "cosine",
    )


def test_adam_default_dtype_float64_counts_steps_in_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        _assert_same_training(
            _ours("adam", False), _torch_optim("adam"), torch.float64, "constant"
        )
        opt = _Adam([{"params": [torch.nn.Parameter(torch.zeros(2))]}])
        assert opt._next_step(2.0**24) == 2.0**24 + 1
    finally:
        torch.set_default_dtype(previous)
    opt = _Adam([{"params": [torch.nn.Parameter(torch.zeros(2))]}])
    assert opt._next_step(2.0**24) == 2.0**24  # float32, as torch.optim's


def test_cosine_schedule_is_torch_lr_scheduler_past_its_period():
    # beyond T_max the recursive form climbs back (its second branch)
    ours = _SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]}], 0.1)
    ref = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ours_schedule = _CosineSchedule(ours, 7)
    ref_schedule = torch.optim.lr_scheduler.CosineAnnealingLR(ref, 7)
    ours_lrs, ref_lrs = [], []
    for _ in range(30):
        ref.step()
        ours_schedule.step()
        ref_schedule.step()
        ours_lrs.append(ours.param_groups[0]["lr"])
        ref_lrs.append(ref.param_groups[0]["lr"])
    assert ours_lrs == ref_lrs
    assert ours_lrs[6] == 0.0 and ours_lrs[13] > 0.09


def _lbfgs_run(make, dtype, history_size, weight_decay=0.1):
    """skwtsg's chunked L-BFGS loop (_optimize) with ``make``'s optimiser."""
    params, loss_fn, X, Y = _problem(dtype)
    params = params[:-1]
    opt = make(params, history_size)
    chunks = []

    def closure():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(X, Y) + 0.5 * weight_decay * sum((p * p).sum() for p in params)
        loss.backward()
        return loss

    for chunk in (10, 10, 3, 10, 10):
        if isinstance(opt, _LBFGS):
            opt.max_iter, opt.max_eval = chunk, int(chunk * 1.25) + 1
            n_iter = lambda: opt.n_iter  # noqa: E731
        else:
            opt.param_groups[0]["max_iter"] = chunk
            opt.param_groups[0]["max_eval"] = int(chunk * 1.25) + 1
            n_iter = lambda: opt.state[opt._params[0]]["n_iter"]  # noqa: E731
        chunks.append((float(opt.step(closure).detach()), n_iter()))
    return params, chunks


@pytest.mark.parametrize("history_size", [50, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lbfgs_is_torch_optim_bitwise(dtype, history_size):
    def ours(params, history_size):
        return _LBFGS(
            params, lr=1.0, max_iter=10, tolerance_grad=1e-12,
            tolerance_change=1e-12, history_size=history_size,
        )  # fmt: skip

    def ref(params, history_size):
        return torch.optim.LBFGS(
            params, lr=1.0, max_iter=10, tolerance_grad=1e-12,
            tolerance_change=1e-12, history_size=history_size,
            line_search_fn="strong_wolfe",
        )  # fmt: skip

    ours_params, ours_chunks = _lbfgs_run(ours, dtype, history_size)
    ref_params, ref_chunks = _lbfgs_run(ref, dtype, history_size)
    assert ours_chunks == ref_chunks
    assert ours_chunks[-1][1] > 20  # it iterated (and the history filled up)
    for p, q in zip(ours_params, ref_params):
        assert torch.equal(p, q)


def test_parameter_groups_are_checked_and_not_modified():
    w = torch.nn.Parameter(torch.zeros(2))
    groups = [{"params": [w], "weight_decay": 0.5}]
    opt = _Adam(groups, 0.1, decoupled=True)
    assert groups == [{"params": [w], "weight_decay": 0.5}]
    assert opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match="unsupported keys \\['momentum'\\]"):
        _SGD([{"params": [w], "momentum": 0.9}], 0.1)
    with pytest.raises(ValueError, match="two parameter groups"):
        _SGD([{"params": [w]}, {"params": [w]}], 0.1)
    with pytest.raises(ValueError, match="leaf tensors"):
        _SGD([{"params": [w * 2]}], 0.1)


class _TorchAdam:
    """torch.optim as the old _make_gradient_optimizer built it."""

    def __new__(cls, groups, lr, *, decoupled=False, fused=False):
        make = torch.optim.AdamW if decoupled else torch.optim.Adam
        return make(groups, lr=lr, **({"fused": True} if fused else {}))


class _TorchLBFGS(torch.optim.LBFGS):
    """torch.optim.LBFGS with _LBFGS's attributes."""

    def __init__(self, params, **kwargs):
        super().__init__(params, line_search_fn="strong_wolfe", **kwargs)

    max_iter = property(
        lambda self: self.param_groups[0]["max_iter"],
        lambda self, v: self.param_groups[0].__setitem__("max_iter", v),
    )
    max_eval = property(
        lambda self: self.param_groups[0]["max_eval"],
        lambda self, v: self.param_groups[0].__setitem__("max_eval", v),
    )
    n_iter = property(lambda self: self.state[self._params[0]]["n_iter"])


@pytest.mark.parametrize(
    "optimizer, kwargs",
    [
        ("lbfgs", {"max_epochs": 35}),
        ("adamw", {"lr_schedule": "cosine", "max_epochs": 4}),
        ("adam", {"record": "step", "max_steps": 13, "max_epochs": 9, "fused": False}),
    ],
)
def test_optimize_is_unchanged_with_torch_optim(optimizer, kwargs, monkeypatch):
    def run():
        params, loss_fn, X, Y = _problem(torch.float64)
        params = params[:-1]
        groups = [{"params": params[:2], "weight_decay": 0.01}]
        groups.append({"params": params[2:], "weight_decay": 0.0})
        curve, n_iter = _optimize(
            groups, loss_fn, (X, Y), optimizer=optimizer, lr=LR.get(optimizer, 1.0),
            batch_size=16, tol=1e-12, seed=3, **kwargs,
        )  # fmt: skip
        return params, curve, n_iter

    ours = run()
    monkeypatch.setattr(_optim, "_Adam", _TorchAdam)
    monkeypatch.setattr(_optim, "_LBFGS", _TorchLBFGS)
    monkeypatch.setattr(
        _optim, "_CosineSchedule", torch.optim.lr_scheduler.CosineAnnealingLR
    )
    ref = run()
    assert ours[1:] == ref[1:]
    assert len(ours[1]) > 3
    for p, q in zip(ours[0], ref[0]):
        assert torch.equal(p, q)


_FITS = """
import json, sys
import numpy as np
import torch
torch.set_num_threads(1)
from skwtsg.heads import GradientLinearHead, NonConvexHead
from skwtsg.featurizers import MultiTaskFeaturizer
rng = np.random.RandomState(0)
X = rng.randn(60, 4)
y = X @ rng.randn(4)
GradientLinearHead(optimizer="adam", max_epochs=2, random_state=0).fit(X, y)
GradientLinearHead(optimizer="sgd", max_epochs=2, random_state=0).fit(X, y)
NonConvexHead(optimizer="lbfgs", max_epochs=5, random_state=0).fit(X, np.tanh(y))
MultiTaskFeaturizer(max_epochs=2, n_init=2, init_epochs=1, random_state=0,
                    module__n_layers=1).fit(X, np.c_[y, -y])
MultiTaskFeaturizer(optimizer="lbfgs", max_epochs=3, n_init=1, random_state=0,
                    module__n_layers=1).fit(X, np.c_[y, -y])
if sys.argv[1] == "smiles":
    import os
    from rdkit import RDConfig
    from skwtsg.featurizers._smiles import SmilesTransformerFeaturizer
    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path) as f:
        smiles = [line.split()[0] for line in f if line.strip()][:64]
    SmilesTransformerFeaturizer(8, max_epochs=1, extra_smiles=None,
                                n_threads=1, random_state=0).fit(smiles)
if sys.argv[1] == "control":
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
print(json.dumps("torch._dynamo" in sys.modules))
"""


def _dynamo_imported_after_fits(mode):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", _FITS, mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_fits_do_not_import_torch_dynamo():
    mode = "smiles"
    try:
        import rdkit  # noqa: F401
    except ImportError:  # the heads and MultiTaskFeaturizer only
        mode = "heads"
    assert _dynamo_imported_after_fits(mode) is False


def test_the_dynamo_check_sees_torch_optim():
    # the check can fail: a torch.optim optimiser imports torch._dynamo
    assert _dynamo_imported_after_fits("control") is True
