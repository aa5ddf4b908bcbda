"""The Pythagorean inequality of projections onto convex sets, as a number."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._utils._validation import check_finite_result, check_real_arrays

__all__ = ["pythagorean_gap"]


def pythagorean_gap(
    y_weak: ArrayLike,
    y_pred: ArrayLike,
    y_target: ArrayLike,
    sample_weight: ArrayLike | None = None,
) -> float | np.ndarray:
    """Slack of the Pythagorean inequality of Theorem 1 on a sample.

    Returns the (weighted) mean version of::

        ‖y_w - y*‖² - ‖ŷ - y*‖² - ‖ŷ - y_w‖²  =  2 ⟨ŷ - y*, y_w - ŷ⟩,

    i.e. ``err(weak) - err(strong) - misfit``, computed through the inner
    product on the right (the same number in exact arithmetic, without the
    cancellation of the difference of three squares). It is ``>= 0`` when
    ``y_pred`` is the least-squares projection of ``y_weak`` onto a convex
    set that contains ``y_target`` (Theorem 1 of Charikar et al., 2024), and
    exactly 0 for a projection onto a subspace (e.g.
    :class:`LeastSquaresHead`).

    Parameters
    ----------
    y_weak : array-like of shape (n_samples,) or (n_samples, n_targets)
        Weak labels ``y_w``, which the head was fitted on.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_targets)
        The head's predictions ``ŷ`` on the same samples.
    y_target : array-like of shape (n_samples,) or (n_samples, n_targets)
        Target values ``y*``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the mean.

    Returns
    -------
    gap : float or ndarray of shape (n_targets,)
        One value per target for 2-D input.

    See Also
    --------
    is_convex_head : When the gap is guaranteed to be non-negative.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import LeastSquaresHead, pythagorean_gap
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(50, 2))
    >>> y_star = Z @ [1.0, -2.0] + 0.5
    >>> y_weak = y_star + rng.normal(size=50)
    >>> y_pred = LeastSquaresHead().fit(Z, y_weak).predict(Z)
    >>> abs(pythagorean_gap(y_weak, y_pred, y_star)) < 1e-12
    True
    """
    (y_weak, y_pred, y_target), w = check_real_arrays(
        {"y_weak": y_weak, "y_pred": y_pred, "y_target": y_target},
        sample_weight=sample_weight,
    )
    gap = 2.0 * np.average((y_pred - y_target) * (y_weak - y_pred), axis=0, weights=w)
    check_finite_result(gap, "The Pythagorean gap")
    return float(gap) if gap.ndim == 0 else gap
