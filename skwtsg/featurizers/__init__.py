"""Featurizers: representations ``h`` as scikit-learn transformers.

torch and skorch are optional: they are imported when a torch featurizer is
fitted, not when this package is imported.
"""

from ._nets import MLP, make_mlp
from ._perturb import perturb_weights
from ._pretrain import MultiTaskFeaturizer
from ._skorch import SkorchFeaturizer
from ._torch import TorchFeaturizer

__all__ = [
    "MLP",
    "MultiTaskFeaturizer",
    "SkorchFeaturizer",
    "TorchFeaturizer",
    "make_mlp",
    "perturb_weights",
]
