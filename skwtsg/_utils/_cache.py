"""The caches of skwtsg: in-process feature caches, the sqlite embedding store,
the runner's transform memo and the persistent cache of fits.

Nothing here imports from the rest of skwtsg.
"""

from __future__ import annotations

import inspect
import os
import sqlite3
import sys
import threading
import warnings
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.frozen import FrozenEstimator

from ._fetch import sha256sum

__all__ = [
    "cache_home",
    "FeatureCache",
    "EmbeddingStore",
    "MOLECULE_FEATURES",
    "MORGAN_GENERATORS",
    "NCI_SMILES",
    "FILE_SHA256",
    "file_sha256",
    "FrozenTransformMemo",
    "fit_memory",
    "code_fingerprint",
]

#: Seconds a process waits for another one's write lock on a sqlite store.
SQLITE_TIMEOUT = 60.0


def cache_home() -> Path:
    """The folder of skwtsg's persistent caches (not created).

    ``$SKWTSG_CACHE`` when set, else ``$XDG_CACHE_HOME/skwtsg``, else
    ``~/.cache/skwtsg``.

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
        """The cached value of each key; ``compute(i)`` fills the misses, outside
        the lock (nothing is stored when it raises)."""
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

    def missing(self, keys: Sequence[Hashable]) -> list[int]:
        """Indices of the ``keys`` that are not cached (counters unchanged)."""
        with self._lock:
            return [i for i, key in enumerate(keys) if key not in self._data]

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
    """Vectors keyed by strings (text hashes, SMILES) in one sqlite file.

    ``dtype`` is ``"<f4"`` (embeddings) or ``"<f8"`` (exact float64 values).
    Safe for several processes: write-ahead log, a lock timeout of
    ``SQLITE_TIMEOUT`` seconds, one transaction per :meth:`put_many`.
    """

    def __init__(self, path: str | os.PathLike, dtype: str = "<f4") -> None:
        self.path = Path(path)
        self.dtype = dtype

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
        """The stored vectors of ``keys`` (missing keys left out; a warning and
        nothing when the store is unreadable)."""
        if not self.path.exists():
            return {}
        try:
            return self._read(keys, immutable=False)
        except sqlite3.Error as exc:
            if os.access(self.path.parent, os.W_OK):
                self._warn_unreadable(exc)
                return {}
        # A read-only folder (a shared cache): a WAL database cannot be read
        # there ("attempt to write a readonly database": its -shm index
        # cannot be made), except as immutable, which this process cannot
        # change; rows not yet checkpointed by their writer are misses.
        try:
            return self._read(keys, immutable=True)
        except sqlite3.Error as exc:
            self._warn_unreadable(exc)
            return {}

    def _read(self, keys: Sequence[str], immutable: bool) -> dict[str, np.ndarray]:
        if immutable:
            uri = self.path.resolve().as_uri() + "?immutable=1"
            con = sqlite3.connect(uri, uri=True, timeout=SQLITE_TIMEOUT)
        else:
            con = self._connect(create=False)
        found: dict[str, np.ndarray] = {}
        try:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = con.execute(
                    f"SELECT key, dim, vec FROM embeddings WHERE key IN ({marks})",
                    chunk,
                )
                for key, dim, vec in rows:
                    v = np.frombuffer(vec, dtype=self.dtype)
                    if v.shape == (dim,):
                        found[key] = v
        finally:
            con.close()
        return found

    def _warn_unreadable(self, exc: Exception) -> None:
        warnings.warn(
            f"Could not read the cache {self.path} ({exc}); "
            "computing its values again.",
            UserWarning,
            stacklevel=4,
        )

    def put_many(self, keys: Sequence[str], vectors: Any) -> None:
        """Store ``vectors`` (one row per key) in one transaction."""
        vectors = np.asarray(vectors, dtype=self.dtype)
        con = self._connect(create=True)
        try:
            with con:
                con.executemany(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                    [(k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors)],
                )
        finally:
            con.close()


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, once per process and file version."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in FILE_SHA256:
        FILE_SHA256[key] = sha256sum(path)
    return FILE_SHA256[key]


class FrozenTransformMemo(FrozenEstimator):
    """A frozen fitted transformer that transforms each distinct input once.

    :class:`sklearn.frozen.FrozenEstimator` whose ``transform`` of an input
    already seen (same :func:`joblib.hash`, and torch thread count) returns a
    copy of the stored output, bitwise that of the call again.

    Parameters
    ----------
    estimator : transformer
        A fitted transformer whose ``transform`` is deterministic.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skwtsg._utils._cache import FrozenTransformMemo
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> memo = FrozenTransformMemo(StandardScaler().fit(X))
    >>> bool((memo.transform(X) == memo.transform(X.copy())).all())
    True
    >>> memo.memo_info()
    {'hits': 1, 'misses': 1, 'size': 1}
    """

    def transform(self, X: Any) -> Any:
        """The wrapped estimator's ``transform(X)`` (a copy), computed once per input.

        Parameters
        ----------
        X : array-like
            Input rows.

        Returns
        -------
        Z : array-like
            The transformed rows.
        """
        from joblib import hash as joblib_hash

        torch = sys.modules.get("torch")  # its thread count may change rounding
        threads = torch.get_num_threads() if torch is not None else None
        key = joblib_hash((_hashable(X), threads))
        state = self.__dict__.setdefault("_memo", {"data": {}, "hits": 0, "misses": 0})
        if key in state["data"]:
            state["hits"] += 1
        else:
            state["misses"] += 1
            state["data"][key] = self.estimator.transform(X)
        return _copy(state["data"][key])

    def memo_info(self) -> dict:
        """``{"hits": int, "misses": int, "size": int}`` of :meth:`transform`."""
        state = self.__dict__.get("_memo", {"data": {}, "hits": 0, "misses": 0})
        return {
            "hits": state["hits"],
            "misses": state["misses"],
            "size": len(state["data"]),
        }

    def clear_memo(self) -> None:
        """Drop the stored outputs and reset the counters."""
        self.__dict__.pop("_memo", None)


def _hashable(X: Any) -> Any:
    """``X``, or for an object array of ``str`` (SMILES, texts) the same strings
    as a fixed-width unicode array with its type: hashed from its buffer,
    ten times faster than pickling every string, and equal exactly when the
    strings are."""
    if (
        isinstance(X, np.ndarray)
        and X.dtype == object
        # (numpy's unicode arrays drop trailing NULs: those strings are pickled)
        and all(type(v) is str and not v.endswith("\x00") for v in X.flat)
    ):
        return ("str-object-array", X.shape, X.astype(str))
    return X


def _copy(Z: Any) -> Any:
    """A copy of a transform's output, memory layout included."""
    if isinstance(Z, np.ndarray):
        return Z.copy(order="K")
    if hasattr(Z, "copy"):  # scipy sparse, pandas
        return Z.copy()
    import copy

    return copy.deepcopy(Z)


def fit_memory(location: str | os.PathLike | None) -> Any:
    """A ``joblib.Memory`` caching fits under ``location`` (None: no caching)."""
    from joblib import Memory

    return Memory(None if location is None else str(location), verbose=0)


def code_fingerprint(cls: type, *extra_files: str | os.PathLike) -> dict:
    """What a cached fit of ``cls`` depends on beyond its arguments.

    ``{"versions": {...}, "sources": {file: sha256}}``: the versions of
    Python, numpy, scikit-learn, joblib, torch and RDKit, and the sha256 of
    the skwtsg source files of ``cls``'s MRO, of the skwtsg modules they
    import from, and of ``extra_files``.

    Examples
    --------
    >>> from skwtsg._utils._cache import FeatureCache, code_fingerprint
    >>> sorted(code_fingerprint(FeatureCache)["sources"])
    ['skwtsg/_utils/_cache.py', 'skwtsg/_utils/_fetch.py']
    """
    import importlib.metadata as metadata

    versions: dict[str, str | None] = {"python": sys.version.split()[0]}
    for dist in ("numpy", "scikit-learn", "joblib", "torch", "rdkit"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    root = Path(__file__).resolve().parents[1]  # the skwtsg package
    modules = set()
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        if module is None or not klass.__module__.startswith("skwtsg"):
            continue
        modules.add(module)
        for value in vars(module).values():
            name = getattr(value, "__module__", None)
            if inspect.ismodule(value):
                name = value.__name__
            if isinstance(name, str) and name.startswith("skwtsg"):
                if name in sys.modules:
                    modules.add(sys.modules[name])
    files = {Path(inspect.getfile(m)).resolve() for m in modules}
    files |= {Path(f).resolve() for f in extra_files}
    sources = {
        str(Path("skwtsg") / f.relative_to(root))
        if f.is_relative_to(root)
        else str(f): file_sha256(f)
        for f in sorted(files)
    }
    return {"versions": versions, "sources": sources}
