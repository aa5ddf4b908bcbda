"""Mean-pooled hidden states of chosen layers of a pretrained transformer encoder."""

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
from .._utils._torch import _import_torch, _resolve_device
from .._utils._validation import check_string_column
from ._pretrained_models import PRETRAINED_MODELS, fetch_pretrained_model
from ._text_encoders import (
    _MINILM_NAMES,
    _FrozenTextModelMixin,
    _resolve_model,
    check_local_weights,
)

__all__ = ["TransformerHiddenStateFeaturizer"]


def _check_layers(layer):
    """``layer`` as a tuple of distinct non-negative ints, in the order given."""
    layers = [layer] if isinstance(layer, Integral) else layer
    try:
        layers = list(layers)
    except TypeError:
        layers = None
    if (
        not layers
        or any(not isinstance(i, Integral) or isinstance(i, bool) for i in layers)
        or any(i < 0 for i in layers)
        or len(set(layers)) != len(layers)
    ):
        raise ValueError(
            "layer must be a non-negative int or a non-empty sequence of distinct "
            f"non-negative ints, got {layer!r}."
        )
    return tuple(int(i) for i in layers)


def _resolve(name_or_path):
    """``(local folder, model id)`` of a known name, a local folder or a hub name."""
    name = os.fspath(name_or_path)
    if name in PRETRAINED_MODELS:
        spec = PRETRAINED_MODELS[name]
        folder = fetch_pretrained_model(name)
        return str(folder), f"{spec.name}-{spec.sha256[:16]}"
    if name in _MINILM_NAMES or Path(name).expanduser().is_dir():
        source, model_id, _ = _resolve_model(name)
        return source, model_id
    return _resolve_model(name)[:2]  # a hub name, loaded by transformers


class TransformerHiddenStateFeaturizer(
    _FrozenTextModelMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Mean-pooled hidden state of one or more layers of a frozen transformer.

    The strong text representation of the essay experiment (layer 8 of
    all-mpnet-base-v2) and, with shallower layers, a family of weak ones. For
    each text, a layer's hidden states are averaged over its tokens (padding
    excluded); layer 0 is the embedding layer, layer ``l`` the ``l``-th
    block. The encoder is cut after the deepest requested layer, and one
    forward pass gives every requested layer (concatenated in the order
    given). The model is frozen: :meth:`fit` learns nothing. Requires
    ``transformers`` and ``torch`` (``pip install 'skwtsg[text]'``).

    Parameters
    ----------
    model_name_or_path : str or path-like, default="all-mpnet-base-v2"
        ``"all-mpnet-base-v2"`` (installed by
        :func:`skwtsg.datasets.fetch_pretrained_model`, weights checked),
        ``"all-MiniLM-L6-v2"`` (see :class:`SentenceTransformerFeaturizer`),
        a local folder holding a Hugging Face model and tokenizer, or a hub
        name. The encoder must keep its blocks in ``encoder.layer`` (BERT,
        RoBERTa, MPNet, ...).
    layer : int or sequence of int, default=8
        Layer(s) pooled, from 0 (embeddings) to the model's number of layers.
    max_length : int, default=384
        Texts are truncated to this many tokens (all-mpnet-base-v2's training
        length).
    batch_size : int, default=16
        Texts per forward pass; each batch is cached as soon as computed.
    device : str, default="cpu"
        Torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"``).
    cache_dir : str, path-like or None, default=None
        Folder of the persistent cache: one sqlite file per model, layer and
        ``max_length``. ``None`` disables it; one that cannot be written only
        warns.
    show_progress_bar : bool or None, default=None
        Show a progress bar of the texts being embedded; ``None``: only when
        the output is a terminal.
    random_state : int, RandomState instance or None, default=None
        Unused: the encoder is frozen and deterministic.

    Attributes
    ----------
    layers_ : tuple of int
        The requested layers.
    model_source_ : str
        The folder (or hub name) the model is loaded from.
    model_id_ : str
        Identity of the weights (see :class:`SentenceTransformerFeaturizer`).
    n_layers_ : int
        Number of layers of the full model.
    hidden_size_ : int
        Width of one layer's embedding.
    cache_paths_ : dict of int to pathlib.Path, or None
        The sqlite file of each layer.
    cache_hits_, cache_misses_ : int
        Text-layer embeddings read from the cache, and computed, since
        :meth:`fit`.
    n_features_in_ : int
        Always 1: one column of texts.

    See Also
    --------
    SentenceTransformerFeaturizer : A sentence-transformers model's final
        embedding.

    Examples
    --------
    >>> from skwtsg.featurizers import TransformerHiddenStateFeaturizer
    >>> emb = TransformerHiddenStateFeaturizer(layer=[2, 8])  # doctest: +SKIP
    >>> emb.fit_transform(["A short essay.", "Another one."]).shape  # doctest: +SKIP
    (2, 1536)
    """

    _parameter_constraints: dict = {
        "model_name_or_path": [str, os.PathLike],
        "layer": [Interval(Integral, 0, None, closed="left"), list, tuple],
        "max_length": [Interval(Integral, 2, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "cache_dir": [str, os.PathLike, None],
        "show_progress_bar": ["boolean", None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        model_name_or_path: str | os.PathLike = "all-mpnet-base-v2",
        *,
        layer: int | list[int] | tuple[int, ...] = 8,
        max_length: int = 384,
        batch_size: int = 16,
        device: str = "cpu",
        cache_dir: str | os.PathLike | None = None,
        show_progress_bar: bool | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.model_name_or_path = model_name_or_path
        self.layer = layer
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device
        self.cache_dir = cache_dir
        self.show_progress_bar = show_progress_bar
        self.random_state = random_state

    _transient = ("_model", "_tokenizer")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> TransformerHiddenStateFeaturizer:
        """Resolve the model, the layers and the cache; nothing is learnt.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Texts, only checked: the model is frozen.
        y : None
            Ignored.

        Returns
        -------
        self : TransformerHiddenStateFeaturizer
            Fitted featurizer.
        """
        layers = _check_layers(self.layer)
        check_string_column(X, what="text", estimator=self)
        self._device = _resolve_device(self.device)
        source, model_id = _resolve(self.model_name_or_path)
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(source)
        n_layers = int(config.num_hidden_layers)
        if max(layers) > n_layers:
            raise ValueError(
                f"layer={self.layer!r} asks for layer {max(layers)}, but "
                f"{self.model_name_or_path} has {n_layers} layers (0 is the "
                f"embedding layer, 1..{n_layers} its blocks)."
            )
        self.layers_ = layers
        self.model_source_ = source
        self.model_id_ = model_id
        self.n_layers_ = n_layers
        self.hidden_size_ = int(config.hidden_size)
        self.cache_paths_ = (
            None
            if self.cache_dir is None
            else {
                i: Path(self.cache_dir).expanduser()
                / f"{model_id}-layer{i}-len{self.max_length}.sqlite"
                for i in layers
            }
        )
        self._start_fit()
        return self

    def _get_model(self):
        if getattr(self, "_model", None) is None:
            torch = _import_torch()
            from transformers import AutoModel, AutoTokenizer

            check_local_weights(self.model_source_)
            self._tokenizer = AutoTokenizer.from_pretrained(self.model_source_)
            model = AutoModel.from_pretrained(self.model_source_)
            blocks = getattr(getattr(model, "encoder", None), "layer", None)
            if not isinstance(blocks, torch.nn.ModuleList):
                raise TypeError(
                    f"{type(model).__name__} keeps no encoder.layer list of blocks; "
                    "TransformerHiddenStateFeaturizer supports BERT-like encoders "
                    "(BERT, RoBERTa, MPNet, ...)."
                )
            # Only the layers needed (one block at least: some transformers
            # versions record no hidden state without one).
            depth = max(1, max(self.layers_))
            model.encoder.layer = blocks[:depth]
            model.config.num_hidden_layers = depth
            model.eval()
            self._model = model.to(self._device)
        return self._model, self._tokenizer

    def _embed(self, texts):
        stores = (
            {}
            if self.cache_paths_ is None
            else {i: EmbeddingStore(p) for i, p in self.cache_paths_.items()}
        )
        return self._embed_texts(texts, stores, self.layers_, self.hidden_size_)

    def _encode_batch(self, loaded, texts):
        """Pooled hidden states of one batch: {layer: float32 array (n, d)}."""
        torch = _import_torch()
        model, tokenizer = loaded
        enc = tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        ).to(self._device)
        with torch.inference_mode():
            hidden = model(**enc, output_hidden_states=True).hidden_states
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
            count = mask.sum(dim=1).clamp(min=1.0)
            pooled = {
                i: ((hidden[i] * mask).sum(dim=1) / count).float().cpu().numpy()
                for i in self.layers_
            }
        for i, v in pooled.items():
            bad = ~np.isfinite(v).all(axis=1)
            if bad.any():
                raise ValueError(
                    f"{type(self).__name__}: layer {i} of {self.model_id_} gave NaN "
                    f"or infinite features on {int(bad.sum())} of {len(texts)} "
                    "texts of a batch (the model's weights or dtype overflow)."
                )
        return pooled

    @property
    def _n_features_out(self):
        return self.hidden_size_ * len(self.layers_)
