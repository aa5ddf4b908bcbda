"""Where data lives, and how a file is fetched with a checksum.

A missing file is downloaded and checked against its sha256 before it is
used; when that is not allowed (or fails), the error says which file to put
where.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._utils._fetch import check_path as _check_path
from .._utils._fetch import download as _download
from .._utils._fetch import sha256sum
from .._utils._validation import check_bool

__all__ = ["RemoteFileMetadata", "get_data_home", "fetch_file", "sha256sum"]

ENV_VAR = "SKWTSG_DATA"


@dataclass(frozen=True)
class RemoteFileMetadata:
    """A data file: its path under the data home, upstream URL and sha256.

    Parameters
    ----------
    filename : str
        Path of the file relative to the data home, e.g.
        ``"molecules/ESOL.csv"``.
    url : str or None
        Where to download it from; ``None`` when it cannot be downloaded
        as such (the error then says how to obtain it).
    sha256 : str
        Expected sha256 of the file's bytes.
    """

    filename: str
    url: str | None
    sha256: str


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder the dataset loaders read from.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder. ``None`` falls back to the ``SKWTSG_DATA``
        environment variable, then to ``~/skwtsg_data``.

    Returns
    -------
    data_home : pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> from skwtsg.datasets import get_data_home
    >>> str(get_data_home("/tmp/my_data"))
    '/tmp/my_data'
    """
    if data_home is None:
        data_home = os.environ.get(ENV_VAR) or Path.home() / "skwtsg_data"
    _check_path(data_home, "data_home")
    return Path(data_home).expanduser()


def fetch_file(
    remote: RemoteFileMetadata,
    data_home: str | os.PathLike | None = None,
    *,
    download_if_missing: bool = True,
    hint: str = "",
) -> Path:
    """Return the local path of a data file, downloading and checking it if needed.

    Parameters
    ----------
    remote : RemoteFileMetadata
        The file to fetch.
    data_home : str or path-like, default=None
        See :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, a missing file raises instead of being downloaded.
    hint : str, default=""
        Extra text for the error raised when the file cannot be had.

    Returns
    -------
    path : pathlib.Path
        The file, whose sha256 matches ``remote.sha256``.

    Raises
    ------
    FileNotFoundError
        The file is absent and could not be downloaded; the message says
        where to put it.
    OSError
        The file (found or downloaded) does not match its checksum.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> home = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (home / "x.txt").write_bytes(b"abc")
    >>> meta = RemoteFileMetadata("x.txt", None, sha256sum(home / "x.txt"))
    >>> fetch_file(meta, home).name
    'x.txt'
    """
    if not isinstance(remote, RemoteFileMetadata):
        raise TypeError(
            f"`remote` must be a RemoteFileMetadata, got {type(remote).__name__}."
        )
    check_bool(download_if_missing, "download_if_missing")
    home = get_data_home(data_home)
    path = home / remote.filename
    if not path.exists():
        if not download_if_missing or remote.url is None:
            raise FileNotFoundError(_missing_message(remote, path, hint))
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            _download(remote.url, path)
        except OSError as exc:  # URLError is an OSError
            raise FileNotFoundError(
                _missing_message(remote, path, hint) + f" Download failed: {exc}"
            ) from exc
        actual = sha256sum(path)
        if actual != remote.sha256:
            path.unlink()
            raise OSError(
                f"Downloaded {remote.url} has sha256 {actual}, expected "
                f"{remote.sha256}; the file was removed."
            )
        return path
    actual = sha256sum(path)
    if actual != remote.sha256:
        raise OSError(
            f"{path} has sha256 {actual}, expected {remote.sha256}. The file is "
            "corrupt or another version: delete it to download it again."
        )
    return path


def _missing_message(remote: RemoteFileMetadata, path: Path, hint: str) -> str:
    where = f" (upstream: {remote.url})" if remote.url else ""
    msg = (
        f"Data file {remote.filename!r} not found at {path}{where}. Put it there "
        f"(sha256 {remote.sha256}), or point `data_home` or the {ENV_VAR} "
        "environment variable at a folder that holds it."
    )
    return msg + (" " + hint if hint else "")
