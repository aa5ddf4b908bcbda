"""Weak-to-strong metrics: misfit, gain, bound, PGR, Theorem 2's terms, scorers."""

from ._decomposition import gain_misfit_decomposition, least_squares_gap
from ._gain import (
    bound,
    gain,
    misfit,
    performance_gap_recovered,
    weak_to_strong_report,
)
from ._line import LineFit, fit_line
from ._scorer import bound_scorer, misfit_scorer, strong_error_scorer

__all__ = [
    "LineFit",
    "bound",
    "bound_scorer",
    "fit_line",
    "gain",
    "gain_misfit_decomposition",
    "least_squares_gap",
    "misfit",
    "misfit_scorer",
    "performance_gap_recovered",
    "strong_error_scorer",
    "weak_to_strong_report",
]
