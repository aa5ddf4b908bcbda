"""The shared torch plumbing: thread context, the one loop on torch.optim."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skwtsg._utils._torch import (  # noqa: E402
    TrainingDivergedError,
    _make_gradient_optimizer,
    _optimize,
    _torch_threads,
)


def test_torch_threads_restores_the_setting():
    before = torch.get_num_threads()
    with _torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with _torch_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), _torch_threads(1):
        raise RuntimeError
    assert torch.get_num_threads() == before


def _problem(scale):
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(64, 3)) * scale)
    y = torch.tensor(rng.normal(size=64))
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))

    def loss_fn(xb, yb):
        return ((xb @ w - yb) ** 2).mean()

    return [{"params": [w]}], loss_fn, (X, y)


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_divergence_is_an_error_naming_the_estimator(optimizer):
    groups, loss_fn, data = _problem(1e3)
    if optimizer == "lbfgs":  # its line search does not blow up: a NaN loss
        finite_loss = loss_fn

        def loss_fn(xb, yb):
            return finite_loss(xb, yb) * float("nan")

    with pytest.raises(TrainingDivergedError, match="MyEstimator diverged.*lr="):
        _optimize(
            groups,
            loss_fn,
            data,
            optimizer=optimizer,
            lr=1e3,
            batch_size=8,
            max_epochs=20,
            tol=0.0,
            seed=0,
            desc="MyEstimator",
        )


def test_custom_batches_and_step_record():
    groups, loss_fn, (X, y) = _problem(1.0)

    def batches(generator):
        perm = torch.randperm(64, generator=generator)
        for lo in range(0, 64, 16):
            yield X[perm[lo : lo + 16]], y[perm[lo : lo + 16]]

    curve, n_iter = _optimize(
        groups,
        loss_fn,
        (),
        optimizer="adam",
        lr=1e-2,
        batch_size=16,
        max_epochs=3,
        tol=0.0,
        seed=0,
        batches=batches,
        record="step",
    )
    assert n_iter == 3 and len(curve) == 12 and np.isfinite(curve).all()


@pytest.mark.parametrize("custom", [False, True])
def test_max_steps_is_the_budget(custom):
    # 64 rows in batches of 16: 4 steps an epoch; 10 steps stop within the
    # third epoch (with the shuffling of the loop or with custom batches)
    groups, loss_fn, (X, y) = _problem(1.0)

    def batches(generator):
        perm = torch.randperm(64, generator=generator)
        for lo in range(0, 64, 16):
            yield X[perm[lo : lo + 16]], y[perm[lo : lo + 16]]

    curve, n_iter = _optimize(
        groups,
        loss_fn,
        (X, y),
        optimizer="adam",
        lr=1e-2,
        batch_size=16,
        max_epochs=1000,
        tol=0.0,
        seed=0,
        batches=batches if custom else None,
        lr_schedule="cosine",
        record="step",
        max_steps=10,
    )
    assert len(curve) == 10 and n_iter == 3
    assert groups[0]["params"][0].grad is not None
    with pytest.raises(ValueError, match="max_steps"):
        _optimize(
            groups,
            loss_fn,
            (X, y),
            optimizer="adam",
            lr=1e-2,
            batch_size=16,
            max_epochs=1,
            tol=0.0,
            seed=0,
            max_steps=0,
        )


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize(
    "name, cls, decay",
    [
        ("adam", torch.optim.Adam, 0.0),
        ("adamw", torch.optim.AdamW, 0.01),
        ("sgd", torch.optim.SGD, 0.0),
    ],
)
def test_gradient_optimizers_are_torch_optim(name, cls, decay, fused):
    w = torch.nn.Parameter(torch.zeros(3))
    b = torch.nn.Parameter(torch.zeros(1))
    groups = [{"params": [w], "weight_decay": 0.5}, {"params": (b,)}]
    opt = _make_gradient_optimizer(name, groups, 0.1, fused=fused)
    assert isinstance(opt, torch.optim.Optimizer) and type(opt) is cls
    # fused kernels on the CPU when asked, else torch.optim's default path
    assert [g["fused"] for g in opt.param_groups] == [fused or None] * 2
    assert [g["weight_decay"] for g in opt.param_groups] == [0.5, decay]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.1]
    if name == "sgd":
        assert opt.param_groups[0]["momentum"] == 0
    # the caller's groups are left as they were
    assert groups == [{"params": [w], "weight_decay": 0.5}, {"params": (b,)}]
    with pytest.raises(ValueError, match="must be 'adam', 'adamw' or 'sgd'"):
        _make_gradient_optimizer("rmsprop", groups, 0.1)


def test_fused_falls_back_for_parameters_without_fused_kernels(monkeypatch):
    from skwtsg._utils import _torch

    monkeypatch.setattr(_torch, "_FUSED_DEVICES", ("cuda",))
    w = torch.nn.Parameter(torch.zeros(3))
    opt = _make_gradient_optimizer("adam", [{"params": [w]}], 0.1, fused=True)
    assert opt.param_groups[0]["fused"] is None


def _two_layer_problem():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 4, generator=gen, dtype=torch.float64)
    Y = torch.randn(40, 2, generator=gen, dtype=torch.float64)
    first = torch.nn.Linear(4, 6).double()
    second = torch.nn.Linear(6, 2).double()
    with torch.no_grad():
        for p in (*first.parameters(), *second.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    params = [*first.parameters(), *second.parameters()]

    def loss_fn(xb, yb):
        return ((second(torch.tanh(first(xb))) - yb) ** 2).mean()

    groups = [{"params": params[:2], "weight_decay": 0.05}, {"params": params[2:]}]
    return params, groups, loss_fn, X, Y


@pytest.mark.parametrize("fused", [True, False])
def test_gradient_loop_is_a_plain_torch_optim_loop(fused):
    # AdamW (fused kernels or not) with CosineAnnealingLR over all the steps
    params, groups, loss_fn, X, Y = _two_layer_problem()
    order = [torch.arange(40).roll(7 * k) for k in range(3)]

    def batches(generator):
        perm = order[batches.epoch]
        batches.epoch += 1
        for lo in range(0, 40, 8):
            yield X[perm[lo : lo + 8]], Y[perm[lo : lo + 8]]

    batches.epoch = 0
    curve, n_iter = _optimize(
        groups, loss_fn, (X, Y), optimizer="adamw", lr=3e-2, batch_size=8,
        max_epochs=3, tol=0.0, seed=0, batches=batches, lr_schedule="cosine",
        record="step", fused=fused,
    )  # fmt: skip
    ref_params, ref_groups, ref_loss_fn, _, _ = _two_layer_problem()
    opt = torch.optim.AdamW(ref_groups, lr=3e-2, **({"fused": True} if fused else {}))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 15)
    ref_curve = []
    for perm in order:
        for lo in range(0, 40, 8):
            opt.zero_grad(set_to_none=True)
            loss = ref_loss_fn(X[perm[lo : lo + 8]], Y[perm[lo : lo + 8]])
            loss.backward()
            opt.step()
            schedule.step()
            ref_curve.append(float(loss.detach()))
    assert n_iter == 3 and curve == ref_curve
    for p, q in zip(params, ref_params):
        assert torch.equal(p, q)


def test_lbfgs_loop_is_torch_optim_lbfgs_in_chunks():
    params, _, loss_fn, X, Y = _two_layer_problem()
    groups = [{"params": params, "weight_decay": 0.1}]
    curve, n_iter = _optimize(
        groups, loss_fn, (X, Y), optimizer="lbfgs", lr=1.0, batch_size=None,
        max_epochs=25, tol=1e-12, seed=0,
    )  # fmt: skip
    ref_params, _, ref_loss_fn, _, _ = _two_layer_problem()
    opt = torch.optim.LBFGS(
        ref_params, lr=1.0, max_iter=10, tolerance_grad=1e-12,
        tolerance_change=1e-12, history_size=50, line_search_fn="strong_wolfe",
    )  # fmt: skip

    def closure():
        opt.zero_grad(set_to_none=False)
        loss = ref_loss_fn(X, Y) + 0.05 * sum((p * p).sum() for p in ref_params)
        loss.backward()
        return loss

    ref_curve = []
    for chunk in (10, 10, 5):
        opt.param_groups[0].update(max_iter=chunk, max_eval=int(chunk * 1.25) + 1)
        ref_curve.append(float(opt.step(closure).detach()))
    assert n_iter == 25 == opt.state[ref_params[0]]["n_iter"]
    assert curve[:-1] == ref_curve
    for p, q in zip(params, ref_params):
        assert torch.equal(p, q)


def test_pickling_while_another_thread_imports_torch(monkeypatch):
    """joblib's feeder thread pickles a torch estimator while the main thread
    is importing torch: a partially initialised torch (no ``torch.nn`` yet)
    must not break ``__getstate__`` (no torch object can exist yet)."""
    import pickle
    import sys
    import types

    from skwtsg.featurizers import MultiTaskFeaturizer

    est = MultiTaskFeaturizer()
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    clone = pickle.loads(pickle.dumps(est))
    assert clone.get_params() == est.get_params()
