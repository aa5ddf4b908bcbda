"""Exact least squares over an l2 ball: the trust-region subproblem."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import linalg, optimize
from sklearn.utils._param_validation import Interval

from .._utils._docstrings import fill_doc
from ._base import _BaseHead, _Solution
from ._constants import EPS
from ._problem import _Problem
from ._solvers import _stationarity_residual, _triangular_reduction

__all__ = ["BallLeastSquaresHead"]


def _secular_root(sv, u, radius):
    """The ``μ > 0`` with ``‖sv u / (sv² + μ)‖ = radius``, by Brent's method on
    ``1/‖b(μ)‖ - 1/radius`` (nearly linear in ``μ``)."""
    keep = (u != 0) & (sv > 0)
    sv, u = sv[keep], u[keep]
    if u.size == 0:
        return 0.0

    def psi(mu):
        return 1.0 / np.linalg.norm(sv * u / (sv**2 + mu)) - 1.0 / radius

    if psi(0.0) >= 0:
        return 0.0
    hi = np.linalg.norm(sv * u) / radius
    return optimize.brentq(psi, 0.0, hi, xtol=1e-300, rtol=4 * EPS, maxiter=1000)


def _ball_certificate(grad, coef, col_norms, y_norms, mu, radius):
    """Per-target relative KKT residual of the ball-constrained problem."""
    stat = _stationarity_residual(grad, coef, col_norms, y_norms, mu).max(
        axis=0, initial=0.0
    )
    norms = np.linalg.norm(coef, axis=0)
    feas = np.clip(norms - radius, 0.0, None) / radius
    slack = np.where(mu > 0, np.abs(norms - radius) / radius, 0.0)
    return np.maximum(stat, np.maximum(feas, slack))


@fill_doc
class BallLeastSquaresHead(_BaseHead):
    """Exact least squares subject to ``‖coef‖₂ <= radius`` (free intercept).

    The function set ``{x ↦ xᵀ b + c : ‖b‖ <= radius}`` is convex, so the
    exact fit is a projection and Theorem 1 holds for every target in it.

    Parameters
    ----------
    radius : float, default=1.0
        Radius of the l2 ball of coefficients; must be positive.
    {fit_intercept}

    Attributes
    ----------
    {linear_coef}
    multiplier_ : float or ndarray of shape (n_targets,)
        Lagrange multiplier ``μ >= 0`` of the constraint: 0 inside the ball,
        else the ridge penalty with the same fit (``RidgeHead(alpha=μ)``).
    kkt_residual_ : float
        Optimality certificate, on the data: the largest relative violation
        of stationarity, feasibility and complementary slackness; values
        ``<= 1e-8`` certify the solution.
    {features_in}

    See Also
    --------
    RidgeHead : The penalised (Lagrangian) form.
    LeastSquaresHead : ``radius=inf``.

    Notes
    -----
    The convex trust-region subproblem: one reduction ``Xt = Q R`` and one
    SVD of ``R`` serve every target, the secular equation gives ``μ``
    (:func:`scipy.optimize.brentq`), and Newton steps on the KKT system with
    residuals on the data remove the remaining rounding errors.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import BallLeastSquaresHead
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = X @ np.array([3.0, 0.0, -4.0])
    >>> head = BallLeastSquaresHead(radius=1.0).fit(X, y)
    >>> round(float(np.linalg.norm(head.coef_)), 10)
    1.0
    >>> bool(head.multiplier_ > 0), bool(head.kkt_residual_ <= 1e-8)
    (True, True)
    """

    _parameter_constraints: dict = {
        "radius": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, radius: float = 1.0, fit_intercept: bool = True) -> None:
        self.radius = radius
        self.fit_intercept = fit_intercept

    _per_target_attributes = ("multiplier_",)

    def _solve(self, problem: _Problem) -> _Solution:
        coef, mu, cert = _solve_ball(problem, float(self.radius))
        return _Solution(coef, cert, per_target={"multiplier_": mu})


def _solve_ball(problem, radius):
    """Coefficients of the active columns, multipliers and certificates."""
    act = problem.active
    R, qty = _triangular_reduction(problem)
    d_act = R.shape[1]
    if R.shape[0] < d_act:
        pad = d_act - R.shape[0]
        R = np.vstack([R, np.zeros((pad, d_act))])
        qty = np.vstack([qty, np.zeros((pad, qty.shape[1]))])
    # Xt_active = Q U diag(sv) Vt: one SVD serves every target.
    U, sv, Vt = linalg.svd(R, check_finite=False)
    rank = problem.numerical_rank(sv)
    sv[rank:] = 0.0
    u = U.T @ qty
    u[rank:] = 0.0
    coords = np.zeros_like(u)
    coords[:rank] = u[:rank] / sv[:rank, None]
    mu = np.zeros(u.shape[1])
    for k in np.flatnonzero(np.linalg.norm(coords, axis=0) > radius):
        mu[k] = _secular_root(sv, u[:, k], radius)
        if mu[k] > 0:  # else on the sphere up to rounding: keep LS
            coords[:, k] = sv * u[:, k] / (sv**2 + mu[k])
    coef = Vt.T @ coords
    # Newton steps on the KKT system, with residuals computed on the data.
    norms = problem.col_norms[act], problem.y_norms
    full = np.zeros((problem.n_features, coef.shape[1]))
    best_cert, best = np.full(coef.shape[1], np.inf), (coef.copy(), mu.copy())
    inv_sv2 = np.zeros_like(sv)
    inv_sv2[:rank] = 1.0 / sv[:rank] ** 2
    for _ in range(6):
        full[act] = coef
        grad = problem.residual_pass(full)[act]
        cert = _ball_certificate(grad, coef, *norms, mu, radius)
        better = cert < best_cert
        best_cert[better] = cert[better]
        best[0][:, better] = coef[:, better]
        best[1][better] = mu[better]
        if not better.any() or best_cert.max() <= 1e-15:
            break
        for k in range(coef.shape[1]):
            b = coef[:, k]
            f1 = grad[:, k] - mu[k] * b
            if mu[k] == 0:
                coef[:, k] = b + Vt.T @ (inv_sv2 * (Vt @ f1))
                continue
            f2 = 0.5 * (radius**2 - b @ b)
            h1 = Vt.T @ ((Vt @ f1) / (sv**2 + mu[k]))
            hb = Vt.T @ ((Vt @ b) / (sv**2 + mu[k]))
            dmu = (b @ h1 - f2) / (b @ hb)
            coef[:, k] = b + h1 - hb * dmu
            mu[k] = max(mu[k] + dmu, 0.1 * mu[k])
    return best[0], best[1], best_cert
