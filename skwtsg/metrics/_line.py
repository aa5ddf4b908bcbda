"""The one rule for the line through gain-misfit points (displays and reports)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["LineFit", "fit_line", "MIN_LINE_POINTS"]

#: Fewest points through which a line is fitted (two always give R² = 1).
MIN_LINE_POINTS = 3


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope * x + intercept`` and its R², by :func:`fit_line`.

    Parameters
    ----------
    slope, intercept, r2 : float
        Slope, intercept and coefficient of determination (NaN when no line
        is fitted).
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

    A line (:func:`scipy.stats.linregress`) is fitted when there are at
    least 3 points and ``x`` is not constant; otherwise ``slope``,
    ``intercept`` and ``r2`` are NaN.

    Parameters
    ----------
    x, y : array-like of shape (n_points,)
        Abscissae (e.g. misfits) and ordinates (e.g. gains).

    Returns
    -------
    fit : LineFit
        ``slope``, ``intercept``, ``r2``, ``n_points`` and ``fitted``.

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
