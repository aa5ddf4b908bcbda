"""The caches of skwtsg: in-process feature caches and the sqlite embedding store.

- :func:`cache_home`: the folder of persistent caches, ``$SKWTSG_CACHE``,
  else ``$XDG_CACHE_HOME/skwtsg``, else ``~/.cache/skwtsg``.
- :class:`FeatureCache`: a thread-safe in-process dictionary with hit/miss
  counters (the per-molecule RDKit features); ``MOLECULE_FEATURES`` is the
  instance the molecule featurizers share.
- ``MORGAN_GENERATORS``, ``NCI_SMILES``, ``FILE_SHA256``: small per-process
  memos (RDKit fingerprint generators, the NCI corpus, file checksums).
- :class:`EmbeddingStore`: embeddings keyed by text hash in one sqlite file,
  safe to share between processes (write-ahead log, a busy timeout, one
  transaction per batch, so a reader never sees half a batch).

Nothing here imports from the rest of skwtsg.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import warnings
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "cache_home",
    "FeatureCache",
    "EmbeddingStore",
    "MOLECULE_FEATURES",
    "MORGAN_GENERATORS",
    "NCI_SMILES",
    "FILE_SHA256",
]

#: Seconds a process waits for another one's write lock on a sqlite store.
SQLITE_TIMEOUT = 60.0


def cache_home() -> Path:
    """The folder of skwtsg's persistent caches.

    ``$SKWTSG_CACHE`` when set (and not empty), else
    ``$XDG_CACHE_HOME/skwtsg``, else ``~/.cache/skwtsg``. The folder is not
    created.

    Returns
    -------
    path : pathlib.Path
        The folder.

    Examples
    --------
    >>> import os
    >>> from skwtsg._utils._cache import cache_home
    >>> os.environ["SKWTSG_CACHE"] = "/tmp/skwtsg-cache"
    >>> str(cache_home())
    '/tmp/skwtsg-cache'
    >>> del os.environ["SKWTSG_CACHE"]
    """
    explicit = os.environ.get("SKWTSG_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "skwtsg"


class FeatureCache:
    """A thread-safe in-process cache ``key -> value`` with hit/miss counters."""

    def __init__(self) -> None:
        self._data: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self._stats = {"hits": 0, "misses": 0}

    def rows(
        self, keys: Sequence[Hashable], compute: Callable[[int], Any]
    ) -> list[Any]:
        """The cached value of each key; ``compute(i)`` fills the misses.

        ``compute`` runs outside the lock (it may be slow, and may raise:
        nothing is stored then).
        """
        rows: list[Any] = [None] * len(keys)
        todo = []
        with self._lock:
            for i, key in enumerate(keys):
                hit = self._data.get(key)
                if hit is None:
                    todo.append(i)
                else:
                    rows[i] = hit
            self._stats["hits"] += len(keys) - len(todo)
            self._stats["misses"] += len(todo)
        for i in todo:
            rows[i] = compute(i)
        with self._lock:
            for i in todo:
                self._data[keys[i]] = rows[i]
        return rows

    def info(self) -> dict:
        """``{"hits": int, "misses": int, "size": int}``."""
        with self._lock:
            return {**self._stats, "size": len(self._data)}

    def clear(self) -> None:
        """Empty the cache and reset its counters."""
        with self._lock:
            self._data.clear()
            self._stats.update(hits=0, misses=0)


MOLECULE_FEATURES = FeatureCache()
MORGAN_GENERATORS: dict = {}  # (radius, n_bits) -> RDKit Morgan generator
NCI_SMILES: dict = {}  # "smiles" -> valid SMILES of RDKit's NCI/first_5K.smi
FILE_SHA256: dict = {}  # (path, size, mtime_ns) -> sha256, once per process


class EmbeddingStore:
    """Float32 vectors keyed by strings (text hashes) in one sqlite file.

    Safe for concurrent use by several processes: the database is in
    write-ahead-log mode (readers do not block the writer), each connection
    waits up to ``SQLITE_TIMEOUT`` seconds for a lock, and each
    :meth:`put_many` is one transaction, so it is written completely or not
    at all.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def _connect(self, create: bool) -> sqlite3.Connection:
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=SQLITE_TIMEOUT)
        if create:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS embeddings "
                "(key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vec BLOB NOT NULL)"
            )
        return con

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``keys`` (missing keys are left out).

        An unreadable store gives a warning and an empty answer.
        """
        found: dict[str, np.ndarray] = {}
        if not self.path.exists():
            return found
        try:
            con = self._connect(create=False)
        except sqlite3.Error as exc:  # pragma: no cover - depends on the disk
            self._warn_unreadable(exc)
            return {}
        try:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    f"SELECT key, dim, vec FROM embeddings WHERE key IN ({marks})",
                    chunk,
                )
                for key, dim, vec in rows:
                    v = np.frombuffer(vec, dtype="<f4")
                    if v.shape == (dim,):
                        found[key] = v
        except sqlite3.Error as exc:
            self._warn_unreadable(exc)
            return {}
        finally:
            con.close()
        return found

    def _warn_unreadable(self, exc: Exception) -> None:
        warnings.warn(
            f"Could not read the embedding cache {self.path} ({exc}); "
            "computing the embeddings again.",
            UserWarning,
            stacklevel=4,
        )

    def put_many(self, keys: Sequence[str], vectors: Any) -> None:
        """Store ``vectors`` (one row per key) in one transaction."""
        vectors = np.asarray(vectors, dtype="<f4")
        con = self._connect(create=True)
        try:
            with con:
                con.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    [(k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors)],
                )
        finally:
            con.close()
