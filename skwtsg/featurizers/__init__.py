"""Featurizers: representations ``h`` as scikit-learn transformers.

torch, skorch, RDKit and sentence-transformers are optional: each is imported
when a featurizer that needs it is fitted, not when this package is imported.
"""

from ._hidden_state import TransformerHiddenStateFeaturizer
from ._molecules import MorganFingerprintFeaturizer, RDKitDescriptorFeaturizer
from ._nets import MLP, make_mlp
from ._perturb import perturb_weights
from ._pretrain import MultiTaskFeaturizer
from ._pretrained import PretrainedFeaturizer
from ._skorch import SkorchFeaturizer
from ._smiles import SmilesTransformerFeaturizer
from ._text import SentenceTransformerFeaturizer, TfidfSVDFeaturizer
from ._torch import TorchFeaturizer

__all__ = [
    "MLP",
    "MorganFingerprintFeaturizer",
    "MultiTaskFeaturizer",
    "PretrainedFeaturizer",
    "RDKitDescriptorFeaturizer",
    "SentenceTransformerFeaturizer",
    "SkorchFeaturizer",
    "SmilesTransformerFeaturizer",
    "TfidfSVDFeaturizer",
    "TorchFeaturizer",
    "TransformerHiddenStateFeaturizer",
    "make_mlp",
    "perturb_weights",
]
