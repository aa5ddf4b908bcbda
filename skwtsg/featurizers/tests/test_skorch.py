"""SkorchFeaturizer takes skorch's own parameters as skorch does."""

import numpy as np
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch.callbacks import EarlyStopping, LRScheduler  # noqa: E402
from skorch.dataset import ValidSplit  # noqa: E402

from skwtsg.featurizers import MLP, SkorchFeaturizer  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs torch on one thread (see skwtsg/conftest.py)."""


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    return X, np.sin(X[:, 0]) + 0.1 * rng.normal(size=80)


def test_early_stopping_on_a_validation_split_stops_early(data):
    X, y = data
    # threshold=0.99 asks every epoch for a 99% lower valid_loss: after
    # `patience` epochs without it, EarlyStopping must stop training
    stopper = EarlyStopping(monitor="valid_loss", patience=2, threshold=0.99)
    feat = SkorchFeaturizer(
        MLP,
        module__hidden=8,
        max_epochs=40,
        train_split=ValidSplit(4),
        callbacks=[stopper],
        random_state=0,
    ).fit(X, y)
    assert len(feat.history_) == 3 < 40
    assert np.isfinite(feat.history_[-1, "valid_loss"])
    assert feat.transform(X).shape == (80, 8)
    # the parameter is left as given: skorch initialised and ran a copy
    assert stopper.misses_ == 0
    assert dict(feat.net_.callbacks_)["EarlyStopping"].misses_ == 2


def test_train_split_defaults_to_none_and_is_settable(data):
    X, y = data
    feat = SkorchFeaturizer(MLP, max_epochs=2, random_state=0).fit(X, y)
    assert feat.train_split is None
    assert "valid_loss" not in feat.history_[-1]
    feat.set_params(train_split=ValidSplit(4)).fit(X, y)
    assert "valid_loss" in feat.history_[-1]


def test_skorch_parameters_round_trip_through_get_set_params_and_clone(data):
    X, y = data
    feat = SkorchFeaturizer(
        MLP,
        module__n_layers=2,
        max_epochs=3,
        batch_size=16,
        train_split=ValidSplit(4),
        callbacks=[("stop", EarlyStopping(patience=5))],
        callbacks__stop__patience=1,
        criterion=torch.nn.HuberLoss,
        iterator_train__drop_last=True,
        random_state=0,
    )
    params = feat.get_params(deep=False)
    assert params["criterion"] is torch.nn.HuberLoss
    assert params["iterator_train__drop_last"] is True
    assert isinstance(params["train_split"], ValidSplit)
    copy = clone(feat)
    assert set(copy.get_params(deep=False)) == set(params)
    assert copy.callbacks[0][1] is not feat.callbacks[0][1]
    copy.set_params(
        warm_start=False,  # a skorch parameter not given before
        callbacks__stop__patience=2,
        iterator_valid__batch_size=16,
        train_split=ValidSplit(5),
    )
    assert copy.get_params()["warm_start"] is False
    assert copy.callbacks__stop__patience == 2
    assert copy.train_split.cv == 5
    fitted = copy.fit(X, y)
    net = fitted.net_
    assert isinstance(net.criterion_, torch.nn.HuberLoss)
    assert net.iterator_valid__batch_size == 16
    assert dict(net.callbacks_)["stop"].patience == 2
    # a learning-rate scheduler, as a callback
    SkorchFeaturizer(
        MLP,
        max_epochs=2,
        callbacks=[LRScheduler(policy="StepLR", step_size=1)],
        random_state=0,
    ).fit(X, y)


def test_unknown_parameter_names_skorch_names(data):
    X, y = data
    with pytest.raises(
        ValueError, match="Unexpected parameter 'lerning_rate'.*iterator_train"
    ):
        SkorchFeaturizer(MLP, lerning_rate=0.1).fit(X, y)
