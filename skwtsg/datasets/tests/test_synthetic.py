"""Tests of the paper's synthetic task generator."""

import numpy as np
import pytest
from sklearn.utils import Bunch

torch = pytest.importorskip("torch")

from skwtsg.datasets._synthetic import (  # noqa: E402
    make_synthetic_labels,
    make_synthetic_tasks,
)


@pytest.fixture(scope="module")
def tasks():
    return make_synthetic_tasks(
        n_pretrain_tasks=3,
        n_pretrain_samples=40,
        n_tasks=5,
        n_samples=30,
        random_state=0,
    )


def test_shapes_and_dtypes(tasks):
    assert tasks.pretrain_X.shape == (120, 8)
    assert tasks.pretrain_Y.shape == (120, 3)
    assert tasks.pretrain_task.shape == (120,)
    assert tasks.pretrain_heads.shape == (16, 3)
    assert tasks.pretrain_intercepts.shape == (3,)
    assert tasks.heads.shape == (16, 5) and tasks.intercepts.shape == (5,)
    for role in ("weak", "strong", "eval"):
        assert tasks[f"X_{role}"].shape == (30, 8)
        assert tasks[f"y_{role}"].shape == (30, 5)
        assert tasks[f"X_{role}"].dtype == np.float64
        assert tasks[f"y_{role}"].dtype == np.float64
    assert tasks.pretrain_Y.dtype == np.float64
    net = tasks.target_module
    assert sum(isinstance(m, torch.nn.Linear) for m in net) == 5
    assert next(net.parameters()).dtype == torch.float64


def test_block_nan_pretraining_labels(tasks):
    observed = ~np.isnan(tasks.pretrain_Y)
    # row block t is labelled for task t only
    np.testing.assert_array_equal(observed.sum(axis=1), np.ones(120))
    np.testing.assert_array_equal(np.argmax(observed, axis=1), tasks.pretrain_task)
    np.testing.assert_array_equal(tasks.pretrain_task, np.repeat([0, 1, 2], 40))
    labels = make_synthetic_labels(tasks, tasks.pretrain_X, pretrain=True)
    np.testing.assert_allclose(tasks.pretrain_Y[observed], labels[observed])


def test_labels_are_heads_of_target(tasks):
    with torch.no_grad():
        H = tasks.target_module(torch.as_tensor(tasks.X_eval)).numpy()
    np.testing.assert_allclose(tasks.y_eval, H @ tasks.heads, rtol=1e-12)
    np.testing.assert_array_equal(tasks.intercepts, 0.0)
    bound = 1 / np.sqrt(16)
    assert np.all(np.abs(tasks.heads) <= bound)
    assert np.all(H >= 0)  # the representation is the output of a ReLU


def test_roles_are_fresh_samples(tasks):
    rows = np.vstack([tasks.pretrain_X, tasks.X_weak, tasks.X_strong, tasks.X_eval])
    assert np.unique(rows, axis=0).shape[0] == rows.shape[0]
    # inputs follow N(0, sigma^2): the sample std is close to 500
    assert abs(rows.std() / 500 - 1) < 0.1
    assert abs(rows.mean()) < 0.1 * 500


def test_determinism():
    kw = dict(n_pretrain_tasks=2, n_pretrain_samples=10, n_tasks=2, n_samples=5)
    a = make_synthetic_tasks(random_state=1, **kw)
    b = make_synthetic_tasks(random_state=1, **kw)
    c = make_synthetic_tasks(random_state=2, **kw)
    for key in ("pretrain_X", "pretrain_heads", "heads", "X_eval", "y_eval"):
        np.testing.assert_array_equal(a[key], b[key])
        assert not np.allclose(a[key], c[key])
    np.testing.assert_array_equal(a.pretrain_Y, b.pretrain_Y)
    for p, q in zip(a.target_module.parameters(), b.target_module.parameters()):
        assert torch.equal(p, q)
    state = torch.random.get_rng_state()
    make_synthetic_tasks(random_state=1, **kw)
    assert torch.equal(state, torch.random.get_rng_state())


def test_options():
    tasks = make_synthetic_tasks(
        n_pretrain_tasks=2,
        n_pretrain_samples=10,
        n_tasks=3,
        n_samples=5,
        n_features=4,
        hidden=6,
        n_layers=2,
        sigma=1.0,
        intercept=True,
        random_state=0,
    )
    assert tasks.X_weak.shape == (5, 4) and tasks.heads.shape == (6, 3)
    assert np.all(tasks.intercepts != 0)
    assert np.all(np.abs(tasks.X_eval) < 10)
    np.testing.assert_allclose(
        make_synthetic_labels(tasks, tasks.X_weak), tasks.y_weak, rtol=1e-12
    )
    with pytest.raises(ValueError, match="X"):
        make_synthetic_labels(tasks, np.ones((3, 8)))


@pytest.mark.parametrize("kwargs", [{"n_tasks": 0}, {"sigma": -1.0}, {"n_layers": 1.5}])
def test_invalid(kwargs):
    with pytest.raises(ValueError):
        make_synthetic_tasks(**kwargs)


def test_target_differs_from_featurizer_with_same_seed():
    from skwtsg.featurizers import MLP, TorchFeaturizer

    tasks = make_synthetic_tasks(
        n_pretrain_tasks=1,
        n_pretrain_samples=5,
        n_tasks=1,
        n_samples=5,
        random_state=0,
    )
    feat = TorchFeaturizer(MLP, random_state=0).fit(tasks.X_eval)
    assert not torch.allclose(
        feat.module_[0].weight.double(), tasks.target_module[0].weight
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_labels_refuse_non_finite_inputs(tasks, bad):
    # Regression: NaN/inf inputs used to give NaN labels.
    X = tasks.X_eval[:4].copy()
    X[1, 2] = bad
    with pytest.raises(ValueError, match="Input X contains"):
        make_synthetic_labels(tasks, X)
    broken = Bunch(**tasks)
    broken.heads = tasks.heads.copy()
    broken.heads[0, 0] = bad
    with pytest.raises(ValueError, match="`tasks.heads` contains NaN or infinity"):
        make_synthetic_labels(broken, tasks.X_eval[:4])


def test_labels_refuse_complex_inputs(tasks):
    with pytest.raises(ValueError, match="[Cc]omplex"):
        make_synthetic_labels(tasks, tasks.X_eval[:4] + 1j)
