"""Tests of the ELLIPSE loader, including its offline-tested rebuild path."""

import csv
import gzip
import hashlib
import io
import shutil
import struct
import urllib.error
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from skwtsg.datasets import _base, _essays
from skwtsg.datasets._essays import ELLIPSE_FILE, ELLIPSE_TARGETS, fetch_ellipse
from skwtsg.tests._shared_data import (
    data_mark,
    missing_data,
    shared_data_home,
)

DATA_HOME = shared_data_home(ELLIPSE_FILE.filename)
needs_data = data_mark(ELLIPSE_FILE.filename)


@pytest.fixture(scope="module")
def ellipse():
    if DATA_HOME is None:
        missing_data(ELLIPSE_FILE.filename)
    return fetch_ellipse(data_home=DATA_HOME, as_frame=True)


# ------------------------------------------------------------- real file
@needs_data
def test_shared_file_checksums():
    path = DATA_HOME / ELLIPSE_FILE.filename
    assert _base.sha256sum(path) == ELLIPSE_FILE.sha256
    assert _essays._content_sha256(path) == _essays._CONTENT_SHA256


def test_loader_contents(ellipse):
    b = ellipse
    assert b.data.shape == (2571,) and b.data.dtype == object
    assert all(isinstance(t, str) for t in b.data)
    lengths = np.array([len(t) for t in b.data])
    assert lengths.min() == 155 and lengths.max() == 6024
    assert b.target.shape == (2571, 7) and b.target.dtype == np.float64
    assert b.target_names == list(ELLIPSE_TARGETS)
    assert b.target_names[1:] == list(_essays.ELLIPSE_RUBRICS)
    assert b.target.min() >= 1.0 and b.target.max() <= 5.0
    np.testing.assert_array_equal(b.target * 2, np.round(b.target * 2))
    assert b.ids.dtype.kind == "U" and len(set(b.ids)) == 2571
    assert b.prompt.shape == (2571,) and len(set(b.prompt)) == 44
    assert b.frame.shape == (2571, 11)
    assert list(b.frame.columns[:4]) == [
        "text_id_kaggle",
        "prompt",
        "task",
        "full_text",
    ]
    assert (b.frame["task"] == "Independent").all()
    np.testing.assert_array_equal(b.frame["text_id_kaggle"].to_numpy(str), b.ids)
    np.testing.assert_array_equal(b.frame["Cohesion"].to_numpy(), b.target[:, 1])
    assert b.data[0].startswith("People are discussing about the limitation")
    assert b.ids[0] == "26650408983"


def test_descr(ellipse):
    d = ellipse.DESCR
    for needle in (
        "test half",
        "CC BY-NC-SA 4.0",
        "Crossley",
        "train.csv",
        "scrosseye/ELLIPSE-Corpus",
        _essays.ELLIPSE_COMMIT,
    ):
        assert needle in d


@needs_data
def test_no_frame_by_default():
    assert "frame" not in fetch_ellipse(data_home=DATA_HOME)


@needs_data
def test_regzipped_copy_accepted(tmp_path):
    """Other gzip bytes, same content: accepted by the content checksum."""
    content = gzip.decompress((DATA_HOME / ELLIPSE_FILE.filename).read_bytes())
    dest = tmp_path / ELLIPSE_FILE.filename
    dest.parent.mkdir()
    dest.write_bytes(gzip.compress(content, compresslevel=1, mtime=12345))
    assert _base.sha256sum(dest) != ELLIPSE_FILE.sha256
    assert fetch_ellipse(data_home=tmp_path).target.shape == (2571, 7)


# ---------------------------------------------------------- missing/corrupt
def test_missing_offline_says_where(tmp_path):
    with pytest.raises(FileNotFoundError) as exc:
        fetch_ellipse(data_home=tmp_path, download_if_missing=False)
    msg = str(exc.value)
    assert str(tmp_path / ELLIPSE_FILE.filename) in msg
    assert ELLIPSE_FILE.sha256 in msg and "SKWTSG_DATA" in msg
    assert "ELLIPSE_Final_github_test.zip" in msg
    assert not (tmp_path / "text").exists() or not any((tmp_path / "text").iterdir())


def test_download_failure_says_where(tmp_path, monkeypatch):
    def offline(url, path):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(_base, "_download", offline)
    with pytest.raises(FileNotFoundError, match="no network") as exc:
        fetch_ellipse(data_home=tmp_path)
    assert str(tmp_path / ELLIPSE_FILE.filename) in str(exc.value)


@pytest.mark.parametrize("payload", [b"not gzip at all", gzip.compress(b"a,b\n1,2\n")])
def test_corrupt_file(tmp_path, payload):
    dest = tmp_path / ELLIPSE_FILE.filename
    dest.parent.mkdir()
    dest.write_bytes(payload)
    with pytest.raises(OSError, match="corrupt"):
        fetch_ellipse(data_home=tmp_path)


# ---------------------------------------------- rebuild from the upstream zip
def _crc_byte(crc, b):
    return zlib.crc32(bytes([b]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def _zipcrypto(plain, pwd, check_byte):
    """PKWARE traditional encryption, the scheme of the upstream archive."""
    k = [0x12345678, 0x23456789, 0x34567890]

    def update(c):
        k[0] = _crc_byte(k[0], c)
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = _crc_byte(k[2], k[1] >> 24)

    for c in pwd:
        update(c)
    out = bytearray()
    for p in bytes(range(11)) + bytes([check_byte]) + plain:
        t = (k[2] | 2) & 0xFFFF
        out.append(p ^ (((t * (t ^ 1)) >> 8) & 0xFF))
        update(p)
    return bytes(out)


def _encrypted_zip(path, member, plain, pwd=b"ellipse_test"):
    """Write a one-member stored zip encrypted with ZipCrypto."""
    crc = zlib.crc32(plain)
    cipher = _zipcrypto(plain, pwd, crc >> 24)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(member, (2024, 11, 14, 0, 0, 0)), cipher)
    raw = bytearray(buf.getvalue())
    # zipfile wrote an unencrypted entry of the cipher text: mark it
    # encrypted and give it the plain text's CRC and size.
    cd = raw.index(b"PK\x01\x02")
    for flags, crc_at, usize_at in ((6, 14, 22), (cd + 8, cd + 16, cd + 24)):
        raw[flags] |= 1
        struct.pack_into("<I", raw, crc_at, crc)
        struct.pack_into("<I", raw, usize_at, len(plain))
    Path(path).write_bytes(bytes(raw))
    with zipfile.ZipFile(path) as zf:  # the scheme round-trips
        assert zf.read(member, pwd=pwd) == plain
        with pytest.raises(RuntimeError):
            zf.read(member, pwd=b"wrong password")
    return path


_KEEP = list(_essays._COLUMNS)
_DROPPED = [
    "gender",
    "race_ethnicity",
    "SES",
    "grade",
    "set",
    "num_words",
    "num_words2",
    "num_sent",
    "num_para",
    "MTLD",
    "TTR",
    "num_cont",
    "num_func",
    "wrd_len",
]


def _upstream_csv(rows_kept):
    """A 26-column CSV like the upstream one, with \\r\\n line ends."""
    header = _DROPPED[:4] + _KEEP[:4] + _DROPPED[4:] + [_KEEP[4], "extra"] + _KEEP[5:]
    assert len(header) == _essays._N_UPSTREAM_COLUMNS
    out = io.StringIO(newline="")
    w = csv.writer(out)  # \r\n, minimal quoting
    w.writerow(header)
    for i, row in enumerate(rows_kept):
        cells = dict(zip(_KEEP, row))
        w.writerow([cells.get(h, f"{h}-{i}") for h in header])
    return out.getvalue().encode("utf-8")


_TINY = [
    [
        "001",
        "Prompt A",
        "Independent",
        'An essay, with "quotes".\n\nTwo paras.',
        "3",
        "3.5",
        "3",
        "2.5",
        "3",
        "3.5",
        "4",
    ],
    [
        "002",
        "Prompt B",
        "Independent",
        "Short\r\nwindows lines",
        "2",
        "2",
        "2.5",
        "3",
        "2",
        "2",
        "1.5",
    ],
]


def _expected_content(rows):
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(_KEEP)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.fixture
def fake_upstream(tmp_path, monkeypatch):
    """Point the loader at a locally built upstream zip; no network."""

    def install(rows, content_sha=None):
        csv_bytes = _upstream_csv(rows)
        zpath = _encrypted_zip(
            tmp_path / "upstream.zip", "ELLIPSE_Final_github_test.csv", csv_bytes
        )
        zmeta = _base.RemoteFileMetadata(
            _essays._ZIP.filename,
            "https://example.invalid/ELLIPSE.zip",
            _base.sha256sum(zpath),
        )
        monkeypatch.setattr(_essays, "_ZIP", zmeta)
        monkeypatch.setattr(
            _essays, "_CSV_SHA256", hashlib.sha256(csv_bytes).hexdigest()
        )
        if content_sha is not None:
            monkeypatch.setattr(_essays, "_CONTENT_SHA256", content_sha)
        calls = []

        def download(url, path):
            calls.append(url)
            shutil.copyfile(zpath, path)

        monkeypatch.setattr(_base, "_download", download)
        return zpath, calls

    return install


def test_rebuild_from_zip(tmp_path, fake_upstream):
    expected = _expected_content(_TINY)
    _, calls = fake_upstream(_TINY, hashlib.sha256(expected).hexdigest())
    home = tmp_path / "home"
    b = fetch_ellipse(data_home=home)
    assert calls == ["https://example.invalid/ELLIPSE.zip"]
    out = home / ELLIPSE_FILE.filename
    raw = out.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime=0: reproducible bytes
    assert gzip.decompress(raw) == expected
    assert not (home / _essays._ZIP.filename).exists()  # downloaded zip removed
    assert b.ids.tolist() == ["001", "002"]  # leading zeros kept
    assert b.data[0] == 'An essay, with "quotes".\n\nTwo paras.'
    assert b.data[1] == "Short\r\nwindows lines"
    np.testing.assert_array_equal(b.target[0], [3, 3.5, 3, 2.5, 3, 3.5, 4])
    # Second call: read from disk, no download.
    assert fetch_ellipse(data_home=home).target.shape == (2, 7)
    assert len(calls) == 1


def test_rebuild_from_local_zip_without_download(tmp_path, fake_upstream, monkeypatch):
    expected = _expected_content(_TINY)
    zpath, calls = fake_upstream(_TINY, hashlib.sha256(expected).hexdigest())
    home = tmp_path / "home"
    local = home / _essays._ZIP.filename
    local.parent.mkdir(parents=True)
    shutil.copyfile(zpath, local)
    assert fetch_ellipse(data_home=home).target.shape == (2, 7)
    assert calls == [] and local.exists()  # the user's zip is kept


def test_rebuild_rejects_bad_csv(tmp_path, fake_upstream, monkeypatch):
    fake_upstream(_TINY)
    monkeypatch.setattr(_essays, "_CSV_SHA256", "0" * 64)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="ELLIPSE_Final_github_test.csv in .* has sha256"):
        fetch_ellipse(data_home=home)
    assert not (home / ELLIPSE_FILE.filename).exists()
    assert not (home / _essays._ZIP.filename).exists()


def test_rebuild_rejects_other_cut(tmp_path, fake_upstream):
    fake_upstream(_TINY, "f" * 64)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="does not rebuild the file exactly"):
        fetch_ellipse(data_home=home)
    assert not (home / ELLIPSE_FILE.filename).exists()


def test_rebuild_rejects_bad_zip(tmp_path, fake_upstream, monkeypatch):
    fake_upstream(_TINY)
    monkeypatch.setattr(
        _base, "_download", lambda url, path: Path(path).write_bytes(b"junk")
    )
    with pytest.raises(OSError, match="Downloaded .* has sha256"):
        fetch_ellipse(data_home=tmp_path)


@needs_data
def test_cut_reproduces_shared_content():
    """The real 2571 rows, padded to 26 columns: the cut gives the shared bytes."""
    content = gzip.decompress((DATA_HOME / ELLIPSE_FILE.filename).read_bytes())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))[1:]
    upstream = _upstream_csv(rows)
    assert hashlib.sha256(upstream).hexdigest() != _essays._CONTENT_SHA256
    cut = _essays._cut_columns(upstream)
    assert hashlib.sha256(cut).hexdigest() == _essays._CONTENT_SHA256
    # A byte-order mark, as spreadsheet exports write, is dropped.
    assert _essays._cut_columns(b"\xef\xbb\xbf" + upstream) == cut
