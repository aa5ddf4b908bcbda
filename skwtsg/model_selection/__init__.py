"""Choosing a weak supervisor: scorers, intervals of a fitted model, the search.

Everything here takes fitted weak-to-strong estimators (or fits them):
the scorers for :class:`~sklearn.model_selection.GridSearchCV`, the
bootstrap intervals of an estimator's diagnostics, and
:class:`WeakSupervisorSearch`, several weak supervisors on one strong
representation.
"""

from ._intervals import diagnostic_intervals
from ._kl_scorer import kl_bound_scorer, kl_strong_error_scorer
from ._scorer import bound_scorer, misfit_scorer, strong_error_scorer
from ._search import WeakSupervisorSearch

__all__ = [
    "WeakSupervisorSearch",
    "bound_scorer",
    "diagnostic_intervals",
    "kl_bound_scorer",
    "kl_strong_error_scorer",
    "misfit_scorer",
    "strong_error_scorer",
]
