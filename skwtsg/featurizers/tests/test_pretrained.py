"""PretrainedFeaturizer: pretrained on its own data in fit, then fixed."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from skwtsg.featurizers import PretrainedFeaturizer

RNG = np.random.default_rng(0)
X_PRE = RNG.normal(size=(120, 4)) * [4.0, 3.0, 2.0, 1.0]
X = RNG.normal(size=(30, 4))


def test_learns_from_the_pretraining_data_only():
    feat = PretrainedFeaturizer(PCA(n_components=2), X_PRE)
    Z1 = feat.fit(X, RNG.normal(size=30)).transform(X)
    Z2 = clone(feat).fit(X * 100.0, RNG.normal(size=30)).transform(X)
    np.testing.assert_array_equal(Z1, Z2)
    reference = PCA(n_components=2).fit(X_PRE)
    np.testing.assert_allclose(Z1, reference.transform(X))
    assert feat.n_features_in_ == 4
    assert list(feat.get_feature_names_out()) == ["pca0", "pca1"]
    # the inner featurizer is cloned: the parameter stays unfitted
    assert not hasattr(feat.featurizer, "components_")


def test_does_not_declare_that_it_learns_from_y():
    """The estimator warns about strong featurizers that require y."""
    torch = pytest.importorskip("torch")  # noqa: F841
    from skwtsg.featurizers import SkorchFeaturizer

    inner = SkorchFeaturizer("unused")
    assert get_tags(inner).target_tags.required
    assert not get_tags(PretrainedFeaturizer(inner, X_PRE)).target_tags.required


def test_pretraining_labels_reach_the_featurizer():
    class NeedsY(StandardScaler):
        def fit(self, X, y=None):
            assert y is not None and len(y) == len(X)
            self.y_seen_ = np.asarray(y)
            return super().fit(X)

    y_pre = RNG.normal(size=len(X_PRE))
    feat = PretrainedFeaturizer(NeedsY(), X_PRE, y_pre).fit(X, np.zeros(30))
    np.testing.assert_array_equal(feat.featurizer_.y_seen_, y_pre)


def test_nested_params_are_searchable():
    feat = PretrainedFeaturizer(make_pipeline(StandardScaler(), PCA(1)), X_PRE)
    feat.set_params(featurizer__pca__n_components=3)
    assert feat.fit(X).transform(X).shape == (30, 3)


def test_feature_count_mismatch_names_x_pretrain():
    with pytest.raises(ValueError, match="X has 3 features, but `X_pretrain`"):
        PretrainedFeaturizer(PCA(1), X_PRE).fit(X[:, :3])


CALLS = []


class _CountingPCA(PCA):  # at module level: joblib.Memory pickles it
    def fit(self, X, y=None):
        CALLS.append(1)
        return super().fit(X)


def test_memory_pretrains_each_setting_once(tmp_path):
    calls = CALLS
    calls.clear()
    feat = PretrainedFeaturizer(_CountingPCA(2), X_PRE, memory=str(tmp_path))
    Z = [clone(feat).fit(X).transform(X) for _ in range(3)]
    assert len(calls) == 1
    np.testing.assert_array_equal(Z[0], Z[2])
    clone(feat).set_params(featurizer__n_components=1).fit(X)
    assert len(calls) == 2


def test_unfitted_transform_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PretrainedFeaturizer(PCA(1), X_PRE).transform(X)
