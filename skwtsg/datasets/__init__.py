"""Dataset loaders (``fetch_*``) and synthetic generators (``make_*``)."""

from ._base import RemoteFileMetadata, fetch_file, get_data_home, sha256sum

__all__ = ["RemoteFileMetadata", "fetch_file", "get_data_home", "sha256sum"]
