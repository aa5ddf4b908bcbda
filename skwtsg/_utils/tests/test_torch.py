"""The shared torch plumbing: thread context, the one loop's divergence check."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skwtsg._utils._torch import (  # noqa: E402
    TrainingDivergedError,
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
