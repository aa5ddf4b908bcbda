"""skwtsg: weak-to-strong generalization for scikit-learn.

Train a strong model on labels from a weaker one, predict how much better it
will be (the misfit, Charikar et al. 2024), and choose the weak supervisor
with the smallest bound.
"""

from ._classifier import WeakToStrongClassifier
from ._w2s import WeakToStrongRegressor
from .model_selection import (
    WeakSupervisorSearch,
    bound_scorer,
    kl_bound_scorer,
    kl_strong_error_scorer,
    misfit_scorer,
    strong_error_scorer,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "WeakSupervisorSearch",
    "WeakToStrongClassifier",
    "WeakToStrongRegressor",
    "bound_scorer",
    "kl_bound_scorer",
    "kl_strong_error_scorer",
    "misfit_scorer",
    "strong_error_scorer",
    "__version__",
]
