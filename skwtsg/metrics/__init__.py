"""Weak-to-strong metrics: misfit, gain, bound, PGR, Theorem 2's terms, intervals,
the fitted line, KL metrics and scorers."""

from ._decomposition import gain_misfit_decomposition, least_squares_gap
from ._gain import (
    bound,
    gain,
    misfit,
    performance_gap_recovered,
    weak_to_strong_report,
)
from ._intervals import diagnostic_intervals, misfit_interval
from ._kl import (
    accuracy_pgr,
    kl_bound,
    kl_error,
    kl_gain,
    kl_misfit,
    weak_to_strong_classification_report,
)
from ._kl_scorer import kl_bound_scorer, kl_strong_error_scorer
from ._line import LineFit, fit_line
from ._scorer import bound_scorer, misfit_scorer, strong_error_scorer
from ._selection import rank_weak_supervisors

__all__ = [
    "LineFit",
    "accuracy_pgr",
    "bound",
    "bound_scorer",
    "diagnostic_intervals",
    "fit_line",
    "gain",
    "kl_bound",
    "kl_bound_scorer",
    "kl_error",
    "kl_gain",
    "kl_misfit",
    "kl_strong_error_scorer",
    "gain_misfit_decomposition",
    "least_squares_gap",
    "misfit",
    "misfit_interval",
    "misfit_scorer",
    "performance_gap_recovered",
    "rank_weak_supervisors",
    "strong_error_scorer",
    "weak_to_strong_classification_report",
    "weak_to_strong_report",
]
