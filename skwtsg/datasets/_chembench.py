"""ChemBench's copies of the MoleculeNet sets: sources, checks and rebuilding.

A missing data or splits file is rebuilt from ChemBench's repository at a fixed
commit (the split pickles read with a restricted unpickler), every file checked
against its sha256 before it is kept.
"""

from __future__ import annotations

import gzip
import io
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils._fetch import sha256sum, write_atomically
from ._base import RemoteFileMetadata, _missing_message, fetch_file

__all__ = ["CHEMBENCH_COMMIT", "MOLECULE_SPLIT_SEEDS"]

#: ChemBench snapshot the files come from.
CHEMBENCH_COMMIT = "0b10d4c1ac72b6929503694a5f60446824736391"
#: Base URL of ChemBench's data folder at that commit; the tests point it at a
#: local ``file://`` folder.
_UPSTREAM = (
    "https://raw.githubusercontent.com/shenwanxiang/ChemBench/"
    f"{CHEMBENCH_COMMIT}/src/chembench/data_and_index/"
)

#: Seeds of ChemBench's three random splits.
MOLECULE_SPLIT_SEEDS = (122, 123, 124)
_PARTS = ("train", "valid", "test")


@dataclass(frozen=True)
class _MoleculeSet:
    name: str
    title: str
    target_column: str
    target_description: str
    data_file: str  # relative to the data home
    data_sha256: str
    upstream_gz_sha256: str  # sha256 of ChemBench's <name>.csv.gz
    splits_sha256: str
    pickle_sha256: dict  # seed -> sha256 of <name>.random<seed>.ind.pkl
    sizes: tuple  # (n_train, n_valid, n_test)
    citation: str
    licence: str

    @property
    def gunzip(self) -> bool:
        return not self.data_file.endswith(".gz")

    @property
    def splits_file(self) -> str:
        return f"molecules/{self.name}_splits.csv"


# ---------------------------------------------------------------------------
# Restricted unpickling of ChemBench's split pickles
# ---------------------------------------------------------------------------

# Names a ChemBench split pickle (a pandas Series of index arrays, written by
# pandas 1.x / numpy 1.x) may reference. Everything else is refused, so a
# tampered pickle cannot run code (the sha256 is checked first anyway).
_SAFE_BUILTINS = {
    "slice",
    "object",
    "list",
    "dict",
    "tuple",
    "set",
    "frozenset",
    "int",
    "float",
    "complex",
    "bool",
    "bytes",
    "bytearray",
    "str",
    "range",
}
_SAFE_NUMPY = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
}
_SAFE_PANDAS = {
    "Series",
    "DataFrame",
    "Index",
    "RangeIndex",
    "Int64Index",
    "UInt64Index",
    "Float64Index",
    "_new_Index",
    "BlockManager",
    "SingleBlockManager",
    "_unpickle_block",
    "new_block",
    "make_block",
    "Block",
    "ObjectBlock",
    "IntBlock",
    "FloatBlock",
    "NumericBlock",
    "NumpyBlock",
    "BlockPlacement",
}

try:  # pandas' own unpickler maps the class locations of old pandas versions
    from pandas.compat.pickle_compat import Unpickler as _BaseUnpickler
except ImportError:  # pragma: no cover - older/newer pandas
    _BaseUnpickler = pickle.Unpickler


class _RestrictedUnpickler(_BaseUnpickler):
    """Unpickler that resolves only numpy/pandas reconstructors."""

    def find_class(self, module, name):
        module = {"copy_reg": "copyreg", "__builtin__": "builtins"}.get(
            module, module
        )  # Python 2 names, as in protocols 0-2
        if module.startswith("numpy.core"):  # numpy 1.x pickles
            module = "numpy._core" + module[len("numpy.core") :]
        allowed = (
            (module == "builtins" and name in _SAFE_BUILTINS)
            or (module, name) in _SAFE_NUMPY
            or (module == "copyreg" and name == "_reconstructor")
            or (module == "_codecs" and name == "encode")
            or (
                (module == "pandas" or module.startswith("pandas."))
                and name in _SAFE_PANDAS
            )
        )
        if not allowed:
            raise pickle.UnpicklingError(
                f"Refusing to load {module}.{name} from a split pickle: only "
                "numpy/pandas reconstructors are allowed."
            )
        return super().find_class(module, name)


def _restricted_load(path) -> object:
    with open(path, "rb") as f:
        return _RestrictedUnpickler(io.BytesIO(f.read())).load()


def _split_labels(obj, n_rows: int, source) -> np.ndarray:
    """``[train_idx, valid_idx, test_idx]`` -> array of part names per row."""
    parts = list(obj.values) if isinstance(obj, pd.Series) else list(obj)
    if len(parts) != 3:
        raise ValueError(
            f"{source}: expected [train_idx, valid_idx, test_idx], got "
            f"{len(parts)} parts."
        )
    labels = np.full(n_rows, "", dtype=object)
    for part, idx in zip(_PARTS, parts):
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
            raise ValueError(f"{source}: {part} index out of range [0, {n_rows}).")
        if np.any(labels[idx] != ""):
            raise ValueError(f"{source}: the splits overlap ({part}).")
        labels[idx] = part
    if np.any(labels == ""):
        raise ValueError(f"{source}: the splits do not cover every row.")
    return labels


# ---------------------------------------------------------------------------
# Fetching and rebuilding files
# ---------------------------------------------------------------------------


def _local_only(filename: str, sha256: str) -> RemoteFileMetadata:
    return RemoteFileMetadata(filename, None, sha256)


def _upstream_hint(spec: _MoleculeSet) -> str:
    return (
        f"The {spec.name} files come from ChemBench ({_UPSTREAM}{spec.name}/); "
        "with download_if_missing=True they are downloaded, converted and "
        "checked automatically."
    )


def _build_checked(target: Path, sha256: str, write) -> None:
    """Write ``target`` through ``write(tmp_path)``, keep it only if sha256 matches."""
    target.parent.mkdir(parents=True, exist_ok=True)

    def write_and_check(tmp: Path) -> None:
        write(tmp)
        actual = sha256sum(tmp)
        if actual != sha256:
            raise OSError(
                f"Rebuilt {target.name} from ChemBench has sha256 {actual}, "
                f"expected {sha256}; it was not kept."
            )

    write_atomically(target, write_and_check)


def _fetch_data_file(spec: _MoleculeSet, home: Path, download_if_missing) -> Path:
    path = home / spec.data_file
    url = f"{_UPSTREAM}{spec.name}/{spec.name}.csv.gz"
    if not spec.gunzip:  # Lipop: the upstream file itself
        remote = RemoteFileMetadata(spec.data_file, url, spec.data_sha256)
        return fetch_file(
            remote,
            home,
            download_if_missing=download_if_missing,
            hint=_upstream_hint(spec),
        )
    if path.exists() or not download_if_missing:
        return fetch_file(
            _local_only(spec.data_file, spec.data_sha256),
            home,
            download_if_missing=False,
            hint=f"It is the gunzipped {url}. " + _upstream_hint(spec),
        )
    with tempfile.TemporaryDirectory(dir=_mkdir(path.parent)) as tmp:
        gz = _download_upstream(
            RemoteFileMetadata(f"{spec.name}.csv.gz", url, spec.upstream_gz_sha256),
            tmp,
            RemoteFileMetadata(spec.data_file, url, spec.data_sha256),
            home,
        )

        def write(out: Path) -> None:
            with gzip.open(gz, "rb") as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)

        _build_checked(path, spec.data_sha256, write)
    return path


def _fetch_splits_file(
    spec: _MoleculeSet, home: Path, n_rows: int, download_if_missing
) -> Path:
    path = home / spec.splits_file
    if path.exists() or not download_if_missing:
        return fetch_file(
            _local_only(spec.splits_file, spec.splits_sha256),
            home,
            download_if_missing=False,
            hint="It is rebuilt from ChemBench's split pickles "
            f"{spec.name}.random{{122,123,124}}.ind.pkl. " + _upstream_hint(spec),
        )
    columns = {}
    with tempfile.TemporaryDirectory(dir=_mkdir(path.parent)) as tmp:
        for seed in MOLECULE_SPLIT_SEEDS:
            fname = f"{spec.name}.random{seed}.ind.pkl"
            url = f"{_UPSTREAM}{spec.name}/{fname}"
            pkl = _download_upstream(
                RemoteFileMetadata(fname, url, spec.pickle_sha256[seed]),
                tmp,
                RemoteFileMetadata(spec.splits_file, url, spec.splits_sha256),
                home,
            )
            columns[seed] = _split_labels(_restricted_load(pkl), n_rows, fname)

    def write(out: Path) -> None:
        header = "row," + ",".join(f"random{s}" for s in MOLECULE_SPLIT_SEEDS)
        lines = [header] + [
            f"{i}," + ",".join(columns[s][i] for s in MOLECULE_SPLIT_SEEDS)
            for i in range(n_rows)
        ]
        out.write_bytes(("\n".join(lines) + "\n").encode("ascii"))

    _build_checked(path, spec.splits_sha256, write)
    return path


def _download_upstream(
    remote: RemoteFileMetadata, tmp, target: RemoteFileMetadata, home: Path
) -> Path:
    """Download an upstream source file into ``tmp``; name ``target`` on failure."""
    try:
        return fetch_file(remote, tmp)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            _missing_message(target, home / target.filename, "")
            + f" It is built from {remote.url}, whose download failed: "
            f"{exc.__cause__ or exc}"
        ) from exc


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
