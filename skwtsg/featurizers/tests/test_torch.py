"""Tests of the torch featurizers: MLP, TorchFeaturizer, perturb_weights."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

torch = pytest.importorskip("torch")

from skwtsg.featurizers import (  # noqa: E402
    MLP,
    MultiTaskFeaturizer,
    SkorchFeaturizer,
    TorchFeaturizer,
    make_mlp,
    perturb_weights,
)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see skwtsg/conftest.py)."""


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(scale=3.0, size=(40, 8))


# --------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------
@pytest.mark.parametrize("n_layers", [1, 2, 5, 8])
def test_mlp_structure(n_layers):
    net = MLP(n_layers=n_layers)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    relus = [m for m in net if isinstance(m, torch.nn.ReLU)]
    assert len(linears) == n_layers
    assert len(relus) == n_layers  # final_activation=True: ReLU after each
    assert linears[0].in_features == 8
    assert all(lin.out_features == 16 for lin in linears)
    out = net(torch.zeros(3, 8))
    assert out.shape == (3, 16)


def test_mlp_options():
    net = make_mlp(
        in_features=3, hidden=5, n_layers=3, out_features=2, final_activation=False
    )
    assert net(torch.zeros(4, 3)).shape == (4, 2)
    assert isinstance(net[-1], torch.nn.Linear)
    tanh_net = make_mlp(n_layers=2, activation="tanh", bias=False)
    assert isinstance(tanh_net[1], torch.nn.Tanh)
    assert tanh_net[0].bias is None
    identity = make_mlp(n_layers=2, activation="identity")
    assert len(identity) == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_layers": 0}, "n_layers"),
        ({"hidden": 2.5}, "hidden"),
        ({"activation": "swish"}, "activation"),
        ({"out_features": -1}, "out_features"),
    ],
)
def test_mlp_invalid(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_mlp(**kwargs)


# --------------------------------------------------------------------------
# TorchFeaturizer
# --------------------------------------------------------------------------
def test_torch_featurizer_shapes_and_dtype(X):
    feat = TorchFeaturizer(MLP, module__n_layers=3, random_state=0).fit(X)
    Z = feat.transform(X)
    assert Z.shape == (40, 16) and Z.dtype == np.float64
    assert feat.n_features_in_ == 8
    assert feat.device_ == "cpu"
    assert feat.get_feature_names_out().shape == (16,)
    assert not any(p.requires_grad for p in feat.module_.parameters())
    # the forward pass itself, computed by hand
    with torch.no_grad():
        expected = feat.module_(torch.as_tensor(X, dtype=torch.float32)).double()
    np.testing.assert_allclose(Z, expected.numpy(), rtol=1e-6)


def test_in_features_inferred_and_overridable():
    X3 = np.ones((5, 3))
    assert TorchFeaturizer(MLP, random_state=0).fit(X3).module_[0].in_features == 3
    with pytest.raises(ValueError, match="forward pass fails on X with 3 features"):
        # module__in_features is honoured, so an 8-input net rejects 3 columns
        TorchFeaturizer(MLP, module__in_features=8, random_state=0).fit(X3)


def test_torch_featurizer_determinism(X):
    a = TorchFeaturizer(MLP, random_state=3).fit_transform(X)
    b = TorchFeaturizer(MLP, random_state=3).fit_transform(X)
    c = TorchFeaturizer(MLP, random_state=4).fit_transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_seeding_leaves_global_torch_state_alone(X):
    state = torch.random.get_rng_state()
    TorchFeaturizer(MLP, random_state=0).fit(X)
    assert torch.equal(state, torch.random.get_rng_state())


def test_instance_module_is_copied(X):
    torch.manual_seed(0)
    net = MLP(n_layers=2)
    feat = TorchFeaturizer(net, dtype="float64").fit(X)
    assert feat.module_ is not net
    assert feat.module_[0].weight.dtype == torch.float64
    assert net[0].weight.dtype == torch.float32
    with torch.no_grad():
        expected = net.double()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(feat.transform(X), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="already-built"):
        TorchFeaturizer(net, module__n_layers=2).fit(X)


def test_layer_hook(X):
    feat = TorchFeaturizer(MLP, module__n_layers=3, layer="1", random_state=0).fit(X)
    full = TorchFeaturizer(MLP, module__n_layers=3, random_state=0).fit(X)
    with torch.no_grad():
        first = full.module_[:2](torch.as_tensor(X, dtype=torch.float32)).double()
    np.testing.assert_allclose(feat.transform(X), first.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="not a submodule"):
        TorchFeaturizer(MLP, layer="nope").fit(X)


def test_batching_does_not_change_output(X):
    kw = dict(module__n_layers=4, dtype="float64", random_state=0)
    one = TorchFeaturizer(MLP, batch_size=7, **kw).fit_transform(X)
    big = TorchFeaturizer(MLP, **kw).fit_transform(X)
    np.testing.assert_allclose(one, big, rtol=1e-12)


def test_get_set_params_and_clone(X):
    feat = TorchFeaturizer(MLP, module__n_layers=3, module__hidden=4)
    params = feat.get_params()
    assert params["module__n_layers"] == 3 and params["module__hidden"] == 4
    cloned = clone(feat)
    assert cloned.get_params()["module__n_layers"] == 3
    cloned.set_params(module__n_layers=2, random_state=1)
    assert cloned.module__n_layers == 2 and feat.module__n_layers == 3
    cloned.fit(X)
    assert sum(isinstance(m, torch.nn.Linear) for m in cloned.module_) == 2
    assert cloned.transform(X).shape == (40, 4)
    with pytest.raises(ValueError, match="module__n_layers"):
        TorchFeaturizer(MLP, n_layers=3).fit(X)
    with pytest.raises(ValueError, match="Invalid parameter"):
        feat.set_params(hidden=3)


def test_nested_grid_search_varies_module_params(X):
    y = X[:, 0]
    pipe = make_pipeline(
        TorchFeaturizer(MLP, module__n_layers=5, random_state=0), LinearRegression()
    )
    search = GridSearchCV(
        pipe, {"torchfeaturizer__module__n_layers": [1, 2]}, cv=2
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] != scores[1]
    best_layers = [1, 2][int(np.argmax(scores))]
    assert search.best_params_["torchfeaturizer__module__n_layers"] == best_layers
    best = search.best_estimator_[0]
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in best.module_)
    assert n_linear == best.module__n_layers


@pytest.mark.parametrize("dumps", ["pickle", "joblib"])
def test_pickle_round_trip(X, dumps, tmp_path):
    feat = TorchFeaturizer(MLP, module__n_layers=3, random_state=0).fit(X)
    if dumps == "pickle":
        loaded = pickle.loads(pickle.dumps(feat))
    else:
        joblib.dump(feat, tmp_path / "feat.joblib")
        loaded = joblib.load(tmp_path / "feat.joblib")
    np.testing.assert_array_equal(loaded.transform(X), feat.transform(X))
    assert loaded.get_params()["module__n_layers"] == 3


def test_invalid_device(X):
    with pytest.raises(ValueError, match="device"):
        TorchFeaturizer(MLP, device="tpu!").fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            TorchFeaturizer(MLP, device="cuda").fit(X)
    assert TorchFeaturizer(MLP, device="auto").fit(X).device_ in ("cpu", "cuda")


@pytest.mark.parametrize("device", ["mps", "xpu", "meta"])
@pytest.mark.parametrize(
    "make",
    [
        lambda device: TorchFeaturizer(MLP, device=device),
        lambda device: SkorchFeaturizer(MLP, max_epochs=1, device=device),
        lambda device: MultiTaskFeaturizer(max_epochs=1, device=device),
    ],
    ids=["torch", "skorch", "multitask"],
)
def test_unavailable_device_fails_at_fit_with_the_library_message(X, make, device):
    """A device torch knows but this machine lacks (here: mps, xpu) fails at
    fit with one message naming `device`, not the backend's own error."""
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    if device == "xpu" and getattr(torch, "xpu", None) and torch.xpu.is_available():
        pytest.skip("this machine has XPU")
    est = make(device)  # __init__ stores, accepts anything
    with pytest.raises(ValueError, match=f"`device`='{device}'"):
        est.fit(X, X[:, :2])


def test_unpickle_cuda_state_on_cpu(X):
    """A featurizer whose ``device_`` is CUDA loads on a CPU-only machine."""
    feat = TorchFeaturizer(MLP, random_state=0).fit(X)
    state = feat.__getstate__()
    state["device_"] = "cuda"  # as saved on a GPU machine (modules moved to CPU)
    loaded = TorchFeaturizer.__new__(TorchFeaturizer)
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    loaded.__setstate__(state)
    assert loaded.device_ == "cpu"
    np.testing.assert_array_equal(loaded.transform(X), feat.transform(X))


@needs_cuda
def test_cuda_round_trip(X):
    feat = TorchFeaturizer(MLP, device="cuda", dtype="float64", random_state=0).fit(X)
    cpu = TorchFeaturizer(MLP, dtype="float64", random_state=0).fit(X)
    np.testing.assert_allclose(feat.transform(X), cpu.transform(X), rtol=1e-10)
    state = feat.__getstate__()
    assert all(t.device.type == "cpu" for t in state["module_"].state_dict().values())
    loaded = pickle.loads(pickle.dumps(feat))
    assert next(loaded.module_.parameters()).device.type == "cuda"
    np.testing.assert_array_equal(loaded.transform(X), feat.transform(X))


def test_import_does_not_need_torch():
    import subprocess
    import sys

    code = (
        "import sys; import skwtsg, skwtsg.featurizers, skwtsg.datasets; "
        "from skwtsg.featurizers import MLP, TorchFeaturizer; "
        "TorchFeaturizer(MLP, module__n_layers=2).get_params(); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# perturb_weights
# --------------------------------------------------------------------------
def test_perturb_weights_statistics():
    torch.manual_seed(0)
    net = MLP(n_layers=5, hidden=64).double()
    sigma = 0.05
    out = perturb_weights(net, sigma, random_state=0)
    deltas = []
    for (name, p), (_, q) in zip(net.named_parameters(), out.named_parameters()):
        if p.ndim == 2:
            deltas.append((q - p).detach().ravel())
        else:
            assert torch.equal(p, q), name  # biases untouched
    delta = torch.cat(deltas).numpy()
    n = delta.size
    assert abs(delta.mean()) < 4 * sigma / np.sqrt(n)
    assert abs(delta.std() / sigma - 1) < 4 / np.sqrt(2 * n)
    # the input module is unchanged and the copy is independent
    assert out is not net and out[0].weight is not net[0].weight


def test_perturb_weights_determinism_and_bias():
    torch.manual_seed(0)
    net = MLP(n_layers=2)
    a = perturb_weights(net, 0.01, random_state=1)
    b = perturb_weights(net, 0.01, random_state=1)
    c = perturb_weights(net, 0.01, random_state=2)
    assert torch.equal(a[0].weight, b[0].weight)
    assert not torch.equal(a[0].weight, c[0].weight)
    with_bias = perturb_weights(net, 0.01, random_state=1, include_bias=True)
    assert not torch.equal(with_bias[0].bias, net[0].bias)
    assert torch.equal(perturb_weights(net, 0.0)[0].weight, net[0].weight)


@pytest.mark.parametrize(
    "module, sigma, match",
    [
        ("net", -1.0, "sigma"),
        ("net", "a", "sigma"),
        ("net", np.inf, "`sigma` must be a finite"),  # gave NaN features
        ("net", np.nan, "`sigma` must be a finite"),
        (object(), 0.1, "module"),
    ],
)
def test_perturb_weights_invalid(module, sigma, match):
    if module == "net":
        module = MLP(n_layers=1)
    with pytest.raises(ValueError, match=match):
        perturb_weights(module, sigma)


# --------------------------------------------------------------------------
# scikit-learn's common checks
# --------------------------------------------------------------------------
_ATTRS_IN_INIT = (
    "skorch-style `module__*` keyword arguments are stored by __init__ as "
    "parameters (so that clone and nested grid searches see them)"
)


def _expected_failed_checks(estimator):
    failures = {}
    if any("__" in key for key in estimator.get_params(deep=False)):
        failures["check_no_attributes_set_in_init"] = _ATTRS_IN_INIT
    return failures


@parametrize_with_checks(
    [
        TorchFeaturizer(MLP, module__n_layers=2, dtype="float64", random_state=0),
        MultiTaskFeaturizer(
            module__n_layers=2,
            max_epochs=5,
            n_init=2,
            init_epochs=1,
            dtype="float64",
            random_state=0,
        ),
        SkorchFeaturizer(
            MLP, module__n_layers=2, max_epochs=2, dtype="float64", random_state=0
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
