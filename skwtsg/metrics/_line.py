"""The one rule for the line fitted through gain-misfit points.

Displays, summaries and reports all call :func:`fit_line`, so a legend and a
report always agree on whether a line exists and what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["LineFit", "fit_line", "MIN_LINE_POINTS"]

#: Fewest points through which a line is fitted: two points always lie on a
#: line (R² = 1), which says nothing about a trend.
MIN_LINE_POINTS = 3


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope * x + intercept`` and its R².

    Made by :func:`fit_line`. ``slope``, ``intercept`` and ``r2`` are NaN
    when no line is fitted; ``fitted`` says which.

    Parameters
    ----------
    slope : float
        Slope of the line (NaN when none is fitted).
    intercept : float
        Intercept of the line (NaN when none is fitted).
    r2 : float
        Coefficient of determination (NaN when none is fitted).
    n_points : int
        Number of points.

    Examples
    --------
    >>> from skwtsg.metrics import LineFit
    >>> LineFit(1.0, 0.0, 1.0, 3).fitted
    True
    """

    slope: float
    intercept: float
    r2: float
    n_points: int

    @property
    def fitted(self) -> bool:
        """Whether a line was fitted (the rule of :func:`fit_line` held)."""
        return bool(np.isfinite(self.slope))


def fit_line(x: ArrayLike, y: ArrayLike) -> LineFit:
    """Least-squares line of ``y`` on ``x``, when the points determine one.

    A line is fitted when there are at least :data:`MIN_LINE_POINTS` (3)
    points and ``x`` is not constant; otherwise ``slope``, ``intercept`` and
    ``r2`` are NaN and no line should be drawn or reported. The fit is
    :func:`scipy.stats.linregress`; ``r2`` is the square of its correlation
    (0 when ``y`` is constant).

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Abscissae (e.g. misfits).
    y : array-like of shape (n_points,)
        Ordinates (e.g. gains).

    Returns
    -------
    fit : LineFit
        ``slope``, ``intercept``, ``r2``, ``n_points`` and ``fitted``.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` are not 1-D of the same length, are complex, or
        contain NaN or infinite values (drop the rows first: nothing is
        dropped here).

    Examples
    --------
    >>> from skwtsg.metrics import fit_line
    >>> fit = fit_line([1.0, 2.0, 3.0], [1.1, 2.1, 3.1])
    >>> round(fit.slope, 6), round(fit.intercept, 6), round(fit.r2, 6)
    (1.0, 0.1, 1.0)
    >>> fit_line([1.0, 2.0], [0.0, 5.0]).fitted  # two points: no line
    False
    """
    x, y = np.asarray(x), np.asarray(y)
    for name, values in (("x", x), ("y", y)):
        if np.iscomplexobj(values):  # never drop an imaginary part silently
            raise ValueError(f"`{name}` must be real, got complex values.")
    x = x.astype(float)
    y = y.astype(float)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(
            f"`x` and `y` must be 1-D of the same length; got shapes {x.shape} "
            f"and {y.shape}."
        )
    for name, values in (("x", x), ("y", y)):
        if not np.all(np.isfinite(values)):
            raise ValueError(
                f"`{name}` contains NaN or infinite values; drop those points first."
            )
    n = int(x.shape[0])
    if n < MIN_LINE_POINTS or np.ptp(x) == 0:
        nan = float("nan")
        return LineFit(nan, nan, nan, n)
    res = stats.linregress(x, y)
    return LineFit(float(res.slope), float(res.intercept), float(res.rvalue**2), n)
