"""Dataset loaders (``fetch_*``) and synthetic generators (``make_*``).

Loaders read from ``data_home`` (parameter, ``SKWTSG_DATA``, then
``~/skwtsg_data``) and download with a sha256 check where possible.
"""

from ..featurizers._pretrained_models import (
    PRETRAINED_MODELS,
    PretrainedModelMetadata,
    fetch_pretrained_model,
)
from ._base import RemoteFileMetadata, fetch_file, get_data_home, sha256sum
from ._essays import fetch_ellipse
from ._molecules import (
    fetch_esol,
    fetch_freesolv,
    fetch_lipophilicity,
    fetch_molecules,
)
from ._synthetic import make_synthetic_labels, make_synthetic_tasks

__all__ = [
    "PRETRAINED_MODELS",
    "PretrainedModelMetadata",
    "RemoteFileMetadata",
    "fetch_ellipse",
    "fetch_esol",
    "fetch_freesolv",
    "fetch_lipophilicity",
    "fetch_molecules",
    "fetch_pretrained_model",
    "fetch_file",
    "get_data_home",
    "make_synthetic_labels",
    "make_synthetic_tasks",
    "sha256sum",
]
