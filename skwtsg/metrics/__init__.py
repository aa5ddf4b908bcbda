"""Weak-to-strong metrics: misfit, gain, bound, PGR, the fitted line, and scorers."""

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
    "misfit",
    "misfit_scorer",
    "performance_gap_recovered",
    "strong_error_scorer",
    "weak_to_strong_report",
]
