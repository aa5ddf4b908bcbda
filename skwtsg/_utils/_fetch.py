"""Fetching files: path arguments, checksums, atomic writes and downloads.

Shared by the dataset loaders and the pretrained-model installer; nothing
here imports from the rest of skwtsg.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

__all__ = ["check_path", "sha256sum", "write_atomically", "download"]


def check_path(value, name: str) -> None:
    """Raise a TypeError unless ``value`` is a str or path-like (named ``name``)."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"`{name}` must be a str or path-like, got {type(value).__name__}."
        )


def sha256sum(path: str | os.PathLike) -> str:
    """Return the hex sha256 of a file's bytes.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    digest : str
        64 hexadecimal characters.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256sum(p)[:16]
    'ba7816bf8f01cfea'
    """
    check_path(path, "path")  # an int would be read as a file descriptor
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``write(tmp)``, then rename ``tmp`` into place:
    when ``write`` raises, ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> write_atomically(target, lambda tmp: tmp.write_bytes(b"done"))
    >>> target.read_bytes(), [p.name for p in target.parent.iterdir()]
    (b'done', ['out.txt'])
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def download(url: str, path: Path) -> None:
    """Download ``url`` into ``path`` (atomically; a 60 s timeout per read)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=60) as r:
            shutil.copyfileobj(r, out)

    write_atomically(path, write)
