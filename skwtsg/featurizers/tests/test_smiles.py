"""Tests of the small SMILES transformer featurizer."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch")
pytest.importorskip("rdkit")

from rdkit import RDConfig  # noqa: E402

from skwtsg.featurizers._smiles import (  # noqa: E402
    SmilesTransformerFeaturizer,
    _nci_smiles,
    smiles_tokenize,
)


@pytest.fixture(scope="module")
def corpus():
    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path) as f:
        smiles = [line.split()[0] for line in f if line.strip()]
    return np.asarray(smiles[:240], dtype=object)


# Tiny settings: one fit takes well under a second.
TINY = dict(max_epochs=3, batch_size=32, extra_smiles=None, n_threads=1)


@pytest.fixture(scope="module")
def fitted(corpus):
    return SmilesTransformerFeaturizer(8, random_state=0, **TINY).fit(corpus)


def test_tokenizer_round_trips(corpus):
    for s in corpus:
        assert "".join(smiles_tokenize(s)) == s
    assert smiles_tokenize("OC(=O)c1ccccc1Cl") == [
        "O", "C", "(", "=", "O", ")", "c", "1", "c", "c", "c", "c", "c", "1", "Cl"
    ]  # fmt: skip
    assert smiles_tokenize("C%12CC%12[NH3+]") == ["C", "%12", "C", "C", "%12", "[NH3+]"]


def test_shapes_and_attributes(fitted, corpus):
    Z = fitted.transform(corpus[:50])
    assert Z.shape == (50, 8) and Z.dtype == np.float64
    assert np.isfinite(Z).all()
    assert fitted.n_features_in_ == 1
    assert fitted.n_iter_ == 3 and fitted.n_pretrain_samples_ == len(corpus)
    assert len(fitted.loss_curve_) == 3 * int(np.ceil(len(corpus) / 32))
    assert list(fitted.vocabulary_)[:3] == ["<pad>", "<unk>", "<mask>"]
    assert fitted.descriptor_mean_.shape == (6,)
    assert fitted.fit_time_ > 0
    assert list(fitted.get_feature_names_out()) == [
        f"smilestransformerfeaturizer{i}" for i in range(8)
    ]
    assert not fitted.module_.training


def test_loss_decreases_during_pretraining(fitted):
    curve = np.asarray(fitted.loss_curve_)
    assert np.isfinite(curve).all()
    assert curve[-5:].mean() < curve[:5].mean() - 0.1


def test_same_random_state_same_representation(fitted, corpus):
    again = clone(fitted).fit(corpus)
    np.testing.assert_array_equal(again.transform(corpus), fitted.transform(corpus))
    assert again.loss_curve_ == fitted.loss_curve_


def test_different_random_state_different_representation(fitted, corpus):
    other = clone(fitted).set_params(random_state=1).fit(corpus)
    assert not np.allclose(other.transform(corpus), fitted.transform(corpus))


def test_global_torch_state_is_untouched(corpus):
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    SmilesTransformerFeaturizer(8, random_state=0, **TINY).fit(corpus[:40])
    np.testing.assert_array_equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_labels_are_ignored(fitted, corpus):
    y = np.random.default_rng(0).normal(size=len(corpus))
    with_y = clone(fitted).fit(corpus, y)
    np.testing.assert_array_equal(with_y.transform(corpus), fitted.transform(corpus))


@pytest.mark.parametrize(
    "make",
    [
        list,
        lambda s: s.reshape(-1, 1),
        lambda s: pd.DataFrame({"smiles": s}),
        pd.Series,
    ],
)
def test_input_layouts_agree(fitted, corpus, make):
    np.testing.assert_array_equal(
        fitted.transform(make(corpus[:30])), fitted.transform(corpus[:30])
    )


def test_fit_on_2d_input_gives_the_same_model(fitted, corpus):
    refit = clone(fitted).fit(corpus.reshape(-1, 1))
    np.testing.assert_array_equal(refit.transform(corpus), fitted.transform(corpus))


def test_rows_are_independent(fitted, corpus):
    Z = fitted.transform(corpus[:40])
    np.testing.assert_allclose(fitted.transform(corpus[:40][::-1]), Z[::-1], atol=1e-6)
    np.testing.assert_allclose(fitted.transform(corpus[5:6]), Z[5:6], atol=1e-6)


@pytest.mark.parametrize("where", ["fit", "transform"])
def test_invalid_smiles_names_the_row(fitted, corpus, where):
    bad = [*corpus[:4], "c1ccccc", *corpus[4:8]]
    with pytest.raises(ValueError, match=r"row 4: RDKit cannot parse .*'c1ccccc'"):
        if where == "fit":
            clone(fitted).fit(bad)
        else:
            fitted.transform(bad)


def test_unknown_tokens_and_truncation(corpus):
    featurizer = SmilesTransformerFeaturizer(
        8, random_state=0, max_length=12, **{**TINY, "max_epochs": 1}
    ).fit(corpus[:64])
    long = "C" * 300
    Z = featurizer.transform(["[Se]1C=CC=C1", long, "CCO"])  # [Se] unseen: <unk>
    assert Z.shape == (3, 8) and np.isfinite(Z).all()
    np.testing.assert_allclose(
        featurizer.transform([long]), featurizer.transform(["C" * 12]), atol=1e-6
    )


def test_extra_smiles_join_the_corpus(corpus):
    featurizer = SmilesTransformerFeaturizer(
        8, random_state=0, **{**TINY, "max_epochs": 1, "extra_smiles": corpus[100:160]}
    ).fit(corpus[:50])
    assert featurizer.n_pretrain_samples_ == 110


def test_nci_smiles_shipped_with_rdkit():
    smiles = _nci_smiles()
    assert 4900 <= len(smiles) <= 5000
    assert all(isinstance(s, str) and s for s in smiles[:100])


def test_descriptor_targets_optional(corpus):
    featurizer = SmilesTransformerFeaturizer(
        12, module__n_heads=3, random_state=0, descriptor_targets=None, **TINY
    ).fit(corpus[:64])
    assert featurizer.module_.descriptors is None
    assert featurizer.transform(corpus[:5]).shape == (5, 12)


def test_pickle_round_trip(fitted, corpus):
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(corpus), fitted.transform(corpus))


def test_clone_and_params(fitted):
    params = fitted.get_params()
    assert params["hidden_size"] == 8 and params["extra_smiles"] is None
    fresh = clone(fitted)
    assert fresh.get_params() == params and not hasattr(fresh, "module_")


def test_verbose_shows_a_progress_bar(corpus, capsys):
    SmilesTransformerFeaturizer(
        8, random_state=0, verbose=1, **{**TINY, "max_epochs": 1}
    ).fit(corpus[:32])
    captured = capsys.readouterr()
    assert captured.out == ""  # no print
    assert "SmilesTransformerFeaturizer(hidden_size=8)" in captured.err


def test_architecture_is_module_parameters(corpus):
    featurizer = SmilesTransformerFeaturizer(
        8, module__n_layers=1, module__dim_feedforward=4, random_state=0, **TINY
    )
    params = featurizer.get_params()
    assert params["module__n_layers"] == 1 and params["module__dim_feedforward"] == 4
    featurizer.fit(corpus[:32])
    assert len(featurizer.module_.encoder.layers) == 1
    assert featurizer.module_.encoder.layers[0].linear1.out_features == 4
    assert clone(featurizer).get_params() == params
    featurizer.set_params(module__n_layers=2).fit(corpus[:32])
    assert len(featurizer.module_.encoder.layers) == 2
    assert list(featurizer.get_feature_names_out()[:2]) == [
        "smilestransformerfeaturizer0",
        "smilestransformerfeaturizer1",
    ]


def test_divergence_raises(corpus):
    featurizer = SmilesTransformerFeaturizer(
        8, lr=1e30, random_state=0, **{**TINY, "max_epochs": 2}
    )
    with pytest.raises(ValueError, match="SmilesTransformerFeaturizer.*diverged.*`lr`"):
        featurizer.fit(corpus[:64])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_size": 9}, "hidden_size must be divisible by module__n_heads"),
        ({"hidden_size": 0}, "'hidden_size' parameter .* range \\[1, inf\\)"),
        ({"max_epochs": 1.0}, "max_epochs"),
        ({"lr": 0}, "'lr' parameter .* range \\(0.0, inf\\)"),
        ({"mask_prob": 1.5}, "mask_prob"),
        ({"extra_smiles": "zinc"}, "'extra_smiles' parameter .*nci5k"),
        ({"descriptor_targets": "MolWt"}, "'descriptor_targets' parameter"),
        ({"descriptor_targets": ["Nope"]}, "Nope"),
        ({"module__dim_feedforward": 0}, "module__dim_feedforward"),
        ({"module__n_layers": 0}, "module__n_layers"),
        ({"module__width": 3}, "unknown parameters \\['module__width'\\]"),
        ({"n_layers": 3}, "Did you mean module__n_layers"),
        ({"n_threads": 0}, "n_threads"),
        ({"device": "gpu7"}, "device"),
    ],
)
def test_invalid_parameters(corpus, params, match):
    with pytest.raises(ValueError, match=match):
        SmilesTransformerFeaturizer(**{"hidden_size": 8, **TINY, **params}).fit(
            corpus[:10]
        )


def test_transform_before_fit_raises(corpus):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SmilesTransformerFeaturizer().transform(corpus[:3])
