"""Exact non-negative least squares: the projection onto a convex cone."""

from __future__ import annotations

import numpy as np
from scipy import linalg, optimize

from .._utils._docstrings import fill_doc
from ._base import _BaseHead, _Solution
from ._problem import _Problem
from ._solvers import (
    _cholesky_rcond,
    _safe_ratio,
    _small_dense,
    _triangular_reduction,
)

__all__ = ["NonNegativeLeastSquaresHead"]


def _nnls_violation(grad, coef, col_norms, y_norms):
    """Relative KKT violations of ``min ½‖Yt - Xt B‖²`` s.t. ``B >= 0``: with
    ``c_jk = x_jᵀ r_k / (‖x_j‖ ‖y_k‖)``, ``|c_jk|`` on the support and
    ``max(c_jk, 0)`` off it."""
    rel = _safe_ratio(grad, np.outer(col_norms, y_norms))
    return np.where(coef > 0, np.abs(rel), np.clip(rel, 0.0, None))


@fill_doc
class NonNegativeLeastSquaresHead(_BaseHead):
    """Exact least squares with non-negative coefficients (free intercept).

    The function set ``{x ↦ xᵀ b + c : b >= 0}`` is a convex cone, so the
    exact fit is a projection and Theorem 1 holds for every target in it.

    Parameters
    ----------
    {fit_intercept}

    Attributes
    ----------
    {linear_coef}
    kkt_residual_ : float
        Optimality certificate, on the data: with ``c_jk = x_jᵀ r_k / (‖x_j‖
        ‖y_k‖)``, the largest ``|c_jk|`` where ``coef > 0`` and ``max(c_jk,
        0)`` where ``coef = 0``; values ``<= 1e-8`` certify the solution.
    {features_in}

    See Also
    --------
    LeastSquaresHead : Without the sign constraint.
    sklearn.linear_model.LinearRegression : ``positive=True`` fits the same
        model one target at a time.

    Notes
    -----
    One triangular reduction of the design serves every target, each then
    one ``d × d`` :func:`scipy.optimize.nnls` solve, polished on its support
    with residuals computed on the data.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import NonNegativeLeastSquaresHead
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ np.array([1.0, -1.0, 0.5]) + rng.normal(scale=0.1, size=200)
    >>> head = NonNegativeLeastSquaresHead().fit(X, y)
    >>> bool(head.coef_[1] == 0.0), bool(head.kkt_residual_ <= 1e-8)
    (True, True)
    """

    _parameter_constraints: dict = {"fit_intercept": ["boolean"]}

    def __init__(self, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    def _solve(self, problem: _Problem) -> _Solution:
        coef = np.zeros((problem.n_features, problem.n_targets))
        act = problem.active
        coef[act] = self._nnls(problem)
        norms = problem.col_norms[act], problem.y_norms
        grad = problem.residual_pass(coef)
        viol = _nnls_violation(grad[act], coef[act], *norms).max(axis=0, initial=0.0)
        best, best_viol = coef.copy(), viol
        for _ in range(4):  # polish with residuals computed on the data
            if best_viol.max(initial=0.0) <= 1e-14:
                break
            coef = self._polish(problem, coef, grad)
            grad = problem.residual_pass(coef)
            viol = _nnls_violation(grad[act], coef[act], *norms)
            viol = viol.max(axis=0, initial=0.0)
            better = viol < best_viol
            if not better.any():
                break
            best[:, better], best_viol[better] = coef[:, better], viol[better]
        return _Solution(best[act], best_viol)

    @staticmethod
    def _nnls(problem):
        """Shared reduction then one small NNLS per target (active columns)."""
        scale = problem.col_norms[problem.active]
        R, qty = _triangular_reduction(problem)
        R = R / scale  # NNLS is invariant to positive column scaling
        beta = np.empty((R.shape[1], problem.n_targets))
        for k in range(problem.n_targets):
            beta[:, k] = optimize.nnls(R, qty[:, k], maxiter=50 * max(R.shape[1], 1))[0]
        return beta / scale[:, None]

    @staticmethod
    def _polish(problem, coef, grad):
        """One refinement step on each target's support ``P``: ``G_PP δ =
        (Xtᵀ r)_P`` with the residual from the data, then clip at 0."""
        coef = coef.copy()
        norms = problem.col_norms
        for k in range(problem.n_targets):
            support = np.flatnonzero(coef[:, k] > 0)
            if support.size == 0:
                continue
            scale = norms[support]
            gram_s = problem.gram[np.ix_(support, support)] / np.outer(scale, scale)
            factor, _ = _cholesky_rcond(gram_s)
            with _small_dense(support.size):
                if factor is not None:
                    delta = linalg.cho_solve(
                        factor, grad[support, k] / scale, check_finite=False
                    )
                else:
                    delta = linalg.lstsq(gram_s, grad[support, k] / scale)[0]
            coef[support, k] = np.clip(coef[support, k] + delta / scale, 0.0, None)
        return coef
