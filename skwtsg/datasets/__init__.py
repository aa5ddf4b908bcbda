"""Dataset loaders (``fetch_*``) and synthetic generators (``make_*``).

Loaders read from ``data_home`` (parameter, then the ``SKWTSG_DATA``
environment variable, then ``~/skwtsg_data``) and download from the upstream
sources with a sha256 check where that is possible.

The pretrained-model installer (:func:`fetch_pretrained_model`) lives with the
featurizers that use it (``skwtsg.featurizers._pretrained_models``) and is
re-exported here.
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
