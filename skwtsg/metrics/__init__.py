"""Weak-to-strong metrics: misfit, gain, bound, PGR, Theorem 2's terms, intervals,
the fitted line and KL metrics: pure functions of arrays.

What needs a fitted estimator (scorers, the intervals of an estimator's
diagnostics, the search over weak supervisors) is in
:mod:`skwtsg.model_selection`.
"""

from ._decomposition import gain_misfit_decomposition, least_squares_gap
from ._gain import (
    bound,
    gain,
    misfit,
    performance_gap_recovered,
    weak_to_strong_report,
)
from ._intervals import misfit_interval
from ._kl import (
    accuracy_pgr,
    kl_bound,
    kl_error,
    kl_gain,
    kl_misfit,
    weak_to_strong_classification_report,
)
from ._line import LineFit, fit_line
from ._paired import paired_bound_differences
from ._selection import rank_weak_supervisors

__all__ = [
    "LineFit",
    "accuracy_pgr",
    "bound",
    "fit_line",
    "gain",
    "kl_bound",
    "kl_error",
    "kl_gain",
    "kl_misfit",
    "gain_misfit_decomposition",
    "least_squares_gap",
    "misfit",
    "misfit_interval",
    "paired_bound_differences",
    "performance_gap_recovered",
    "rank_weak_supervisors",
    "weak_to_strong_classification_report",
    "weak_to_strong_report",
]
