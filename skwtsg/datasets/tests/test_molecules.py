"""Tests of the MoleculeNet loaders (ESOL, FreeSolv, Lipop) and their splits."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skwtsg.datasets import _chembench as C
from skwtsg.datasets._base import sha256sum
from skwtsg.datasets._molecules import (
    MOLECULE_DATASETS,
    MOLECULE_SPLIT_SEEDS,
    fetch_esol,
    fetch_freesolv,
    fetch_lipophilicity,
    fetch_molecules,
)
from skwtsg.tests._shared_data import require_data_home

NAMES = ("ESOL", "FreeSolv", "Lipop")
SIZES = {"ESOL": (902, 113, 113), "FreeSolv": (513, 64, 65), "Lipop": (3360, 420, 420)}
FETCHERS = {
    "ESOL": fetch_esol,
    "FreeSolv": fetch_freesolv,
    "Lipop": fetch_lipophilicity,
}


@pytest.fixture(scope="module")
def data_home():
    return require_data_home("molecules/ESOL.csv")


@pytest.fixture(scope="module")
def datasets(data_home):
    return {name: fetch_molecules(name, data_home=data_home) for name in NAMES}


# ----------------------------------------------------------------- contents
@pytest.mark.parametrize("name", NAMES)
def test_files_match_their_checksums(data_home, name):
    spec = MOLECULE_DATASETS[name]
    assert sha256sum(data_home / spec.data_file) == spec.data_sha256
    assert sha256sum(data_home / spec.splits_file) == spec.splits_sha256


@pytest.mark.parametrize("name", NAMES)
def test_bunch_fields(datasets, name):
    ds = datasets[name]
    n = sum(SIZES[name])
    assert ds.smiles.shape == (n,) and ds.smiles.dtype == object
    assert all(isinstance(s, str) and s for s in ds.smiles)
    assert ds.data.shape == (n, 1)
    assert ds.target.dtype == np.float64 and ds.target.shape == (n,)
    assert np.isfinite(ds.target).all()
    assert ds.target_names == [MOLECULE_DATASETS[name].target_column]
    assert set(ds.splits) == set(MOLECULE_SPLIT_SEEDS)
    assert name in ds.DESCR and "Licence" in ds.DESCR and "MoleculeNet" in ds.DESCR
    assert Path(ds.filename).name == Path(MOLECULE_DATASETS[name].data_file).name
    assert "train_mask" not in ds and "frame" not in ds


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", MOLECULE_SPLIT_SEEDS)
def test_splits_are_exact_partitions_of_the_published_sizes(datasets, name, seed):
    labels = datasets[name].splits[seed]
    assert set(labels) == {"train", "valid", "test"}
    sizes = tuple(int(np.sum(labels == part)) for part in ("train", "valid", "test"))
    assert sizes == SIZES[name]
    assert sum(sizes) == len(labels)  # every row in exactly one part


def test_the_three_seeds_differ(datasets):
    splits = datasets["ESOL"].splits
    assert not np.array_equal(splits[122], splits[123])
    assert not np.array_equal(splits[123], splits[124])


def test_trailing_spaces_are_stripped(data_home, datasets):
    raw = pd.read_csv(data_home / "molecules" / "ESOL.csv")["smiles"]
    assert int((raw != raw.str.strip()).sum()) == 212  # as the data README says
    smiles = datasets["ESOL"].smiles
    assert all(s == s.strip() for s in smiles)
    np.testing.assert_array_equal(smiles, raw.str.strip().to_numpy(dtype=object))


@pytest.mark.parametrize("name", NAMES)
def test_named_fetchers_match_fetch_molecules(data_home, datasets, name):
    ds = FETCHERS[name](data_home=data_home, split=123)
    np.testing.assert_array_equal(ds.smiles, datasets[name].smiles)
    np.testing.assert_array_equal(ds.target, datasets[name].target)
    assert FETCHERS[name].__name__.startswith("fetch_")
    assert name in FETCHERS[name].__doc__


def test_split_masks(data_home, datasets):
    ds = fetch_molecules("freesolv", data_home=data_home, split=124)
    masks = np.stack([ds.train_mask, ds.valid_mask, ds.test_mask])
    assert masks.dtype == bool
    np.testing.assert_array_equal(masks.sum(axis=0), 1)
    assert tuple(masks.sum(axis=1)) == SIZES["FreeSolv"]
    np.testing.assert_array_equal(
        ds.train_mask, datasets["FreeSolv"].splits[124] == "train"
    )


def test_as_frame(data_home):
    ds = fetch_molecules("ESOL", data_home=data_home, split=122, as_frame=True)
    frame = ds.frame
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1128
    assert list(frame.columns) == [
        "smiles",
        "target",
        "random122",
        "random123",
        "random124",
        "split",
    ]
    np.testing.assert_array_equal(frame["smiles"].to_numpy(dtype=object), ds.smiles)
    np.testing.assert_array_equal(frame["target"].to_numpy(), ds.target)
    np.testing.assert_array_equal(frame["split"] == "test", ds.test_mask)
    assert isinstance(ds.data, pd.DataFrame) and list(ds.data.columns) == ["smiles"]
    assert (
        "split" not in fetch_molecules("ESOL", data_home=data_home, as_frame=True).frame
    )


# --------------------------------------------------------------- validation
@pytest.mark.parametrize("split", [125, "122", 122.0, True, -1])
def test_invalid_split_is_rejected(data_home, split):
    with pytest.raises(ValueError, match=r"split must be None or one of \[122"):
        fetch_molecules("ESOL", data_home=data_home, split=split)


def test_numpy_integer_split_is_accepted(data_home):
    ds = fetch_molecules("ESOL", data_home=data_home, split=np.int64(123))
    assert ds.test_mask.sum() == 113


@pytest.mark.parametrize("name", ["Tox21", "", None, 3])
def test_unknown_name_lists_the_valid_ones(tmp_path, name):
    with pytest.raises(ValueError, match=r"valid names are \['ESOL', 'FreeSolv'"):
        fetch_molecules(name, data_home=tmp_path)


def test_missing_file_offline_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fetch_esol(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert "molecules/ESOL.csv" in message
    assert str(tmp_path) in message
    assert MOLECULE_DATASETS["ESOL"].data_sha256 in message
    assert "SKWTSG_DATA" in message
    assert not (tmp_path / "molecules" / "ESOL.csv").exists()


def test_missing_splits_offline(tmp_path, data_home):
    (tmp_path / "molecules").mkdir()
    shutil.copy(data_home / "molecules" / "Lipop.csv.gz", tmp_path / "molecules")
    with pytest.raises(FileNotFoundError, match="Lipop_splits.csv"):
        fetch_lipophilicity(data_home=tmp_path, download_if_missing=False)


@pytest.mark.parametrize("which", ["data", "splits"])
def test_corrupted_copy_is_rejected(tmp_path, data_home, which):
    (tmp_path / "molecules").mkdir()
    for f in ("FreeSolv.csv", "FreeSolv_splits.csv"):
        shutil.copy(data_home / "molecules" / f, tmp_path / "molecules" / f)
    target = (
        tmp_path
        / "molecules"
        / ("FreeSolv.csv" if which == "data" else "FreeSolv_splits.csv")
    )
    content = target.read_bytes()
    target.write_bytes(content[:-2] + b"9\n")
    with pytest.raises(OSError, match="sha256"):
        fetch_freesolv(data_home=tmp_path)


# ------------------------------------------------ download path, offline
def _fake_upstream(root: Path, data_home: Path, name: str) -> dict:
    """ChemBench-like files for ``name`` under ``root``; returns their sha256."""
    spec = MOLECULE_DATASETS[name]
    folder = root / name
    folder.mkdir(parents=True)
    gz = folder / f"{name}.csv.gz"
    if spec.gunzip:
        gz.write_bytes(gzip.compress((data_home / spec.data_file).read_bytes()))
    else:
        shutil.copy(data_home / spec.data_file, gz)
    splits = pd.read_csv(data_home / spec.splits_file)
    shas = {}
    for i, seed in enumerate(MOLECULE_SPLIT_SEEDS):
        labels = splits[f"random{seed}"].to_numpy()
        parts = [np.flatnonzero(labels == p) for p in ("train", "valid", "test")]
        # ChemBench's pickles: a pandas Series [train_idx, valid_idx, test_idx]
        series = pd.Series(parts)
        pkl = folder / f"{name}.random{seed}.ind.pkl"
        pkl.write_bytes(pickle.dumps(series, protocol=2 + 2 * (i % 2)))
        shas[seed] = sha256sum(pkl)
    return {"gz": sha256sum(gz), "pickles": shas}


@pytest.mark.parametrize("name", ["ESOL", "Lipop"])
def test_download_rebuilds_the_exact_files(
    tmp_path, data_home, datasets, monkeypatch, name
):
    upstream = tmp_path / "upstream"
    shas = _fake_upstream(upstream, data_home, name)
    spec = MOLECULE_DATASETS[name]
    # Upstream checksums of the fake files; the checksums of the rebuilt files
    # stay the real ones, so this checks the conversion byte for byte.
    fake = replace(
        spec,
        upstream_gz_sha256=shas["gz"],
        pickle_sha256=shas["pickles"],
        data_sha256=spec.data_sha256 if spec.gunzip else shas["gz"],
    )
    monkeypatch.setitem(MOLECULE_DATASETS, name, fake)
    monkeypatch.setattr(C, "_UPSTREAM", upstream.as_uri() + "/")
    home = tmp_path / "home"
    ds = fetch_molecules(name, data_home=home, split=122)
    assert sha256sum(home / spec.splits_file) == spec.splits_sha256
    assert sha256sum(home / spec.data_file) == spec.data_sha256
    assert sorted(p.name for p in (home / "molecules").iterdir()) == sorted(
        [Path(spec.data_file).name, Path(spec.splits_file).name]
    )  # no leftovers (downloads happen in a temporary folder)
    np.testing.assert_array_equal(ds.smiles, datasets[name].smiles)
    for seed in MOLECULE_SPLIT_SEEDS:
        np.testing.assert_array_equal(ds.splits[seed], datasets[name].splits[seed])


def test_download_failure_names_the_missing_file(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "_UPSTREAM", (tmp_path / "nowhere").as_uri() + "/")
    with pytest.raises(FileNotFoundError) as info:
        fetch_freesolv(data_home=tmp_path / "home")
    message = str(info.value)
    assert "molecules/FreeSolv.csv" in message and "download failed" in message
    assert not (tmp_path / "home" / "molecules" / "FreeSolv.csv").exists()


def test_download_with_wrong_checksum_is_rejected(tmp_path, data_home, monkeypatch):
    upstream = tmp_path / "upstream"
    _fake_upstream(upstream, data_home, "FreeSolv")  # checksums differ upstream's
    monkeypatch.setattr(C, "_UPSTREAM", upstream.as_uri() + "/")
    with pytest.raises(OSError, match="sha256"):
        fetch_freesolv(data_home=tmp_path / "home")
    assert not (tmp_path / "home" / "molecules" / "FreeSolv.csv").exists()


def test_rebuilt_file_with_wrong_checksum_is_not_kept(tmp_path, data_home, monkeypatch):
    upstream = tmp_path / "upstream"
    shas = _fake_upstream(upstream, data_home, "FreeSolv")
    spec = MOLECULE_DATASETS["FreeSolv"]
    fake = replace(
        spec,
        upstream_gz_sha256=shas["gz"],
        pickle_sha256=shas["pickles"],
        splits_sha256="0" * 64,
    )
    monkeypatch.setitem(MOLECULE_DATASETS, "FreeSolv", fake)
    monkeypatch.setattr(C, "_UPSTREAM", upstream.as_uri() + "/")
    home = tmp_path / "home"
    with pytest.raises(OSError, match="Rebuilt FreeSolv_splits.csv"):
        fetch_freesolv(data_home=home)
    assert (home / spec.data_file).exists()  # the data file was fine
    assert not (home / spec.splits_file).exists()
    assert [p.name for p in (home / "molecules").iterdir()] == ["FreeSolv.csv"]


# -------------------------------------------------- restricted unpickling
class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())  # harmless, but not a numpy/pandas reconstructor


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_restricted_unpickler_refuses_other_callables(tmp_path, protocol):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([np.arange(3), _Evil()], protocol=protocol))
    with pytest.raises(
        pickle.UnpicklingError, match="posix.getcwd|os.getcwd|nt.getcwd"
    ):
        C._restricted_load(path)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize(
    "obj",
    [
        pd.Series([np.array([0, 3]), np.array([1]), np.array([2, 4])]),
        [np.array([0, 3]), np.array([1]), np.array([2, 4])],
        ([0, 3], [1], [2, 4]),
    ],
)
def test_restricted_unpickler_reads_split_pickles(tmp_path, protocol, obj):
    path = tmp_path / "split.pkl"
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    labels = C._split_labels(C._restricted_load(path), 5, path.name)
    np.testing.assert_array_equal(labels, ["train", "valid", "test", "train", "test"])


@pytest.mark.parametrize(
    "parts, message",
    [
        ([[0, 1], [1], [2]], "overlap"),
        ([[0], [1], [2]], "do not cover"),
        ([[0], [1], [5]], "out of range"),
        ([[0, 1, 2, 3]], "expected"),
    ],
)
def test_split_labels_checks_the_partition(parts, message):
    with pytest.raises(ValueError, match=message):
        C._split_labels(parts, 4, "x.pkl")


def test_restricted_unpickler_handles_bytes_io():
    # Sanity check of the helper used on file contents.
    data = pickle.dumps(pd.Series([np.arange(2)]), protocol=2)
    obj = C._RestrictedUnpickler(io.BytesIO(data)).load()
    np.testing.assert_array_equal(obj.iloc[0], [0, 1])
