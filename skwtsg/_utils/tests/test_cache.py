"""The cache folder and the sqlite embedding store (concurrent processes)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import StandardScaler

from skwtsg._utils._cache import EmbeddingStore, FeatureCache, cache_home


def test_cache_home_order(monkeypatch, tmp_path):
    monkeypatch.delenv("SKWTSG_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_home() == tmp_path / "home" / ".cache" / "skwtsg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_home() == tmp_path / "xdg" / "skwtsg"
    monkeypatch.setenv("SKWTSG_CACHE", str(tmp_path / "mine"))
    assert cache_home() == tmp_path / "mine"
    monkeypatch.setenv("SKWTSG_CACHE", "")  # empty: not set
    assert cache_home() == tmp_path / "xdg" / "skwtsg"


def test_feature_cache_counts_and_does_not_store_failures():
    cache = FeatureCache()
    assert cache.rows(["a", "b"], lambda i: i + 1) == [1, 2]
    assert cache.rows(["b", "c"], lambda i: 10 * i) == [2, 10]
    assert cache.info() == {"hits": 1, "misses": 3, "size": 3}

    def fail(i):
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        cache.rows(["d"], fail)
    assert cache.info()["size"] == 3
    cache.clear()
    assert cache.info() == {"hits": 0, "misses": 0, "size": 0}


def test_store_round_trip_and_wal(tmp_path):
    import sqlite3

    store = EmbeddingStore(tmp_path / "sub" / "m.sqlite")
    assert store.get_many(["x"]) == {}
    store.put_many(["x", "y"], np.arange(6.0).reshape(2, 3))
    found = store.get_many(["y", "x", "z"])
    assert sorted(found) == ["x", "y"]
    np.testing.assert_array_equal(found["y"], [3.0, 4.0, 5.0])
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from skwtsg._utils._cache import EmbeddingStore

    path, who = sys.argv[1], int(sys.argv[2])
    store = EmbeddingStore(path)
    for batch in range(20):
        keys = [f"{who}-{batch}-{j}" for j in range(10)]
        store.put_many(keys, np.full((10, 4), who * 1000 + batch, dtype=float))
        found = store.get_many(keys)
        assert len(found) == 10, len(found)
    """
)


def test_concurrent_processes_share_one_store(tmp_path):
    """Several processes writing and reading one store lose nothing."""
    path = tmp_path / "shared.sqlite"
    root = str(Path(__file__).resolve().parents[3])
    env = {"PYTHONPATH": root}
    import os

    env = {**os.environ, **env}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(who)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in range(3)
    ]
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err
    store = EmbeddingStore(path)
    keys = [f"{w}-{b}-{j}" for w in range(3) for b in range(20) for j in range(10)]
    found = store.get_many(keys)
    assert len(found) == 600
    np.testing.assert_array_equal(found["2-19-9"], np.full(4, 2019.0))


class _CountingScaler(TransformerMixin, BaseEstimator):
    """A transformer counting its ``transform`` calls (Fortran-ordered output)."""

    def fit(self, X, y=None):
        self.scaler_ = StandardScaler().fit(X)
        self.calls_ = 0
        return self

    def transform(self, X):
        self.calls_ += 1
        return np.asfortranarray(self.scaler_.transform(X))


def test_store_in_a_read_only_folder_is_read(tmp_path, monkeypatch):
    """A shared, read-only cache serves its rows (before: none, and a warning).

    As a user who cannot write the folder, sqlite refuses to open the WAL
    database ("attempt to write a readonly database": it cannot make the
    -shm index), except as immutable. Root can write anywhere, so the
    refusal is reproduced here; the real one: ``runuser -u nobody -- python3
    -c "import sqlite3; sqlite3.connect(PATH).execute('select 1 from
    embeddings')"`` on a store in a root-owned folder.
    """
    import sqlite3
    import warnings

    store = EmbeddingStore(tmp_path / "store" / "e.sqlite")
    store.put_many(["a", "b"], np.arange(6.0).reshape(2, 3))
    connect = sqlite3.connect

    def read_only_connect(database, *args, uri=False, **kwargs):
        if not uri or "immutable=1" not in str(database):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return connect(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only_connect)
    monkeypatch.setattr("os.access", lambda path, mode: Path(path) != store.path.parent)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = store.get_many(["a", "b", "c"])
    assert sorted(found) == ["a", "b"]
    np.testing.assert_array_equal(found["b"], [3.0, 4.0, 5.0])


def test_frozen_transform_memo_same_input_once():
    from sklearn.base import clone

    from skwtsg._utils._cache import FrozenTransformMemo

    X = np.random.RandomState(0).normal(size=(50, 3))
    inner = _CountingScaler().fit(X)
    memo = FrozenTransformMemo(inner)
    assert clone(memo) is memo and memo.fit(X[:5], None) is memo  # frozen
    first = memo.transform(X)
    again = memo.transform(X.copy())  # equal content, another object
    assert inner.calls_ == 1 and memo.memo_info() == {"hits": 1, "misses": 1, "size": 1}
    np.testing.assert_array_equal(first, inner.scaler_.transform(X))
    assert again.tobytes() == first.tobytes()  # bitwise
    assert again.flags.f_contiguous  # the layout of the transform's output
    again[0, 0] = 1e9  # callers get copies: the stored output is unchanged
    assert memo.transform(X)[0, 0] == first[0, 0]


def test_frozen_transform_memo_different_input_recomputed():
    from skwtsg._utils._cache import FrozenTransformMemo

    X = np.random.RandomState(0).normal(size=(50, 3))
    inner = _CountingScaler().fit(X)
    memo = FrozenTransformMemo(inner)
    memo.transform(X)
    Z = memo.transform(X[:-1])  # other rows
    np.testing.assert_array_equal(Z, inner.scaler_.transform(X[:-1]))
    X2 = X.copy()
    X2[3, 1] += 1e-12  # one value changed
    np.testing.assert_array_equal(memo.transform(X2), inner.scaler_.transform(X2))
    memo.transform(X.astype(np.float32))  # another dtype
    assert inner.calls_ == 4 and memo.memo_info()["size"] == 4
    memo.clear_memo()
    assert memo.memo_info() == {"hits": 0, "misses": 0, "size": 0}
    memo.transform(X)
    assert inner.calls_ == 5


def test_frozen_transform_memo_keys_torch_threads():
    torch = pytest.importorskip("torch")
    from skwtsg._utils._cache import FrozenTransformMemo
    from skwtsg._utils._torch import _torch_threads

    X = np.random.RandomState(0).normal(size=(20, 2))
    inner = _CountingScaler().fit(X)
    memo = FrozenTransformMemo(inner)
    n = torch.get_num_threads()
    with _torch_threads(1):
        memo.transform(X)
    with _torch_threads(2):
        memo.transform(X)
    assert torch.get_num_threads() == n
    assert inner.calls_ == 2


def test_code_fingerprint_changes_with_sources(tmp_path):
    from skwtsg._utils._cache import code_fingerprint

    source = tmp_path / "extra.py"
    source.write_text("x = 1\n")
    first = code_fingerprint(FeatureCache, source)
    assert "skwtsg/_utils/_cache.py" in first["sources"]
    assert {"numpy", "scikit-learn", "torch", "rdkit"} <= set(first["versions"])
    assert code_fingerprint(FeatureCache, source) == first
    source.write_text("x = 22\n")
    assert code_fingerprint(FeatureCache, source) != first


def test_frozen_transform_memo_keys_string_columns_by_content():
    from sklearn.preprocessing import FunctionTransformer

    from skwtsg._utils._cache import FrozenTransformMemo, _hashable

    calls = []

    def lengths(X):
        calls.append(len(X))
        return np.array([[len(str(v))] for v in np.asarray(X).ravel()], dtype=float)

    memo = FrozenTransformMemo(FunctionTransformer(lengths).fit([["C"]]))
    X = np.array([["CCO"], ["c1ccccc1"]], dtype=object)
    memo.transform(X)
    memo.transform(np.array([["CCO"], ["c1ccccc1"]], dtype=object))  # equal strings
    memo.transform(np.array([["CCO"], ["c1ccccc2"]], dtype=object))  # one differs
    memo.transform(np.array([["CCO", "c1ccccc1"]], dtype=object))  # another shape
    assert calls == [2, 2, 1] and memo.memo_info()["hits"] == 1
    # not taken for strings: other objects, or a trailing NUL numpy would drop
    assert _hashable(np.array([[1]], dtype=object)).dtype == object
    assert _hashable(np.array([["C\x00"]], dtype=object)).dtype == object
    assert _hashable(X)[2].dtype.kind == "U"
