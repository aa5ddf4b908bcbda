"""Exact isotonic regression: the projection onto a cone of monotone functions."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._docstrings import fill_doc
from ._base import _validate_head_data
from ._solvers import _safe_ratio
from ._tags import HeadTags, SkwtsgTags

__all__ = ["IsotonicHead"]


def _isotonic_violation(y, v, w):
    """Relative KKT violation of the increasing isotonic fit ``v`` of ``y``.

    The multiplier of ``v_k <= v_{k+1}`` is ``s_k = Σ_{i<=k} w_i (y_i - v_i)``:
    KKT needs ``s_k >= 0``, ``s_m = 0`` and ``s_k = 0`` where ``v_k <
    v_{k+1}``. Violations are divided by ``√(Σ w) · ‖y - ȳ‖_w``.
    """
    s = np.cumsum(w * (y - v))
    viol = np.clip(-s[:-1], 0.0, None)
    viol = np.maximum(viol, np.where(v[1:] != v[:-1], np.abs(s[:-1]), 0.0))
    viol = np.append(viol, abs(s[-1]))
    y_bar = np.average(y, weights=w)
    scale = np.sqrt(w.sum() * np.sum(w * (y - y_bar) ** 2))
    return float(_safe_ratio(viol.max(), scale))


@fill_doc
class IsotonicHead(RegressorMixin, BaseEstimator):
    """Exact isotonic (monotone) regression on one strong feature.

    The monotone functions in a fixed direction are a convex cone, so the
    exact fit (pool-adjacent-violators) is a projection and Theorem 1 holds
    for every monotone target. (``"auto"`` is not offered: a cone chosen
    from the labels is not a fixed convex set.)

    Parameters
    ----------
    increasing : bool, default=True
        Fit a non-decreasing (``True``) or non-increasing (``False``)
        function.

    Attributes
    ----------
    X_thresholds_ : ndarray of shape (n_thresholds,)
        The distinct training values of the feature (with positive weight),
        sorted.
    y_thresholds_ : ndarray of shape (n_thresholds,) or (n_thresholds, n_targets)
        The fitted values there; predictions interpolate linearly between
        them and are clipped outside.
    kkt_residual_ : float
        Optimality certificate: the largest relative KKT violation over
        targets (the cumulative residual sums are the constraints'
        multipliers); values ``<= 1e-8`` certify the projection.
    {features_in}

    See Also
    --------
    sklearn.isotonic.IsotonicRegression : The same estimate, one target and
        1-D ``X``.

    Notes
    -----
    Ties in the feature are pooled first (weighted means, summed weights);
    samples with zero weight are ignored. Each target is solved by
    :func:`scipy.optimize.isotonic_regression`.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import IsotonicHead
    >>> X = np.arange(6.0).reshape(-1, 1)
    >>> y = np.array([0.0, 2.0, 1.0, 3.0, 5.0, 4.0])
    >>> head = IsotonicHead().fit(X, y)
    >>> head.predict(X)
    array([0. , 1.5, 1.5, 3. , 4.5, 4.5])
    >>> bool(head.kkt_residual_ <= 1e-8)
    True
    """

    _parameter_constraints: dict = {"increasing": ["boolean"]}

    def __init__(self, increasing: bool = True) -> None:
        self.increasing = increasing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> IsotonicHead:
        """Fit the exact isotonic regression of each target on the feature.

        Parameters
        ----------
        X : array-like of shape (n_samples, 1) or (n_samples,)
            The single strong feature.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the squared errors.

        Returns
        -------
        self : IsotonicHead
            The fitted head.
        """
        X_arr, Y, y_ndim, w = _validate_head_data(self, _as_column(X), y, sample_weight)
        if X_arr.shape[1] != 1:
            raise ValueError(
                f"IsotonicHead needs X with exactly 1 feature; got X with "
                f"{X_arr.shape[1]} features. Reduce the representation to "
                "one column (e.g. with a featurizer) or use a linear head."
            )
        if w is None:
            w = np.ones(X_arr.shape[0])
        keep = w > 0
        x, Y, w = X_arr[keep, 0], Y[keep], w[keep]
        x_u, inverse = np.unique(x, return_inverse=True)
        w_u = np.bincount(inverse, weights=w, minlength=x_u.size)
        y_u = np.zeros((x_u.size, Y.shape[1]))
        np.add.at(y_u, inverse, w[:, None] * Y)
        y_u /= w_u[:, None]
        fitted = np.empty_like(y_u)
        sign = 1.0 if self.increasing else -1.0
        cert = 0.0
        for k in range(Y.shape[1]):
            fitted[:, k] = optimize.isotonic_regression(
                y_u[:, k], weights=w_u, increasing=bool(self.increasing)
            ).x
            cert = max(
                cert, _isotonic_violation(sign * y_u[:, k], sign * fitted[:, k], w_u)
            )
        self.X_thresholds_ = x_u
        self.y_thresholds_ = fitted[:, 0] if y_ndim == 1 else fitted
        self.kkt_residual_ = cert
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Interpolate the fitted monotone function (clipped outside).

        Parameters
        ----------
        X : array-like of shape (n_samples, 1) or (n_samples,)
            The single strong feature.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions.
        """
        check_is_fitted(self)
        x = validate_data(self, _as_column(X), reset=False, dtype=np.float64)[:, 0]
        if self.y_thresholds_.ndim == 1:
            return np.interp(x, self.X_thresholds_, self.y_thresholds_)
        return np.column_stack(
            [np.interp(x, self.X_thresholds_, col) for col in self.y_thresholds_.T]
        )

    def __sklearn_tags__(self):
        tags = SkwtsgTags.from_tags(super().__sklearn_tags__())
        tags.head_tags = HeadTags(convex=True, exact=True)
        tags.target_tags.multi_output = True
        # One feature, as sklearn.isotonic.IsotonicRegression.
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        return tags


def _as_column(X):
    """A 1-D array-like of the one feature as an ``(n_samples, 1)`` column."""
    if not hasattr(X, "iloc") and np.ndim(X) == 1:
        return np.reshape(np.asarray(X), (-1, 1))
    return X
