"""Exact least squares over an l2 ball: the trust-region subproblem."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import linalg, optimize
from sklearn.utils._param_validation import Interval
from sklearn_compat.base import _fit_context

from ._base import (
    _EPS,
    _BaseHead,
    _prepare_problem,
    _solve_ridge_family,
    _stationarity_residual,
)

__all__ = ["BallLeastSquaresHead"]


def _secular_root(lam, c, radius):
    """Smallest ``μ >= 0`` with ``‖c / (lam + μ)‖ = radius`` (0 if inside).

    Solves ``1/‖b(μ)‖ - 1/radius = 0`` (nearly linear in ``μ``) with Brent's
    method on ``[0, ‖c‖ / radius]``, where the function changes sign.
    """
    keep = c != 0
    lam, c = lam[keep], c[keep]
    if c.size == 0:
        return 0.0

    def psi(mu):
        with np.errstate(divide="ignore", invalid="ignore"):
            norm = np.sqrt(np.sum((c / (lam + mu)) ** 2))
        return 1.0 / norm - 1.0 / radius if np.isfinite(norm) else -1.0 / radius

    hi = np.linalg.norm(c) / radius
    if psi(0.0) >= 0:
        return 0.0
    return optimize.brentq(psi, 0.0, hi, xtol=1e-300, rtol=4 * _EPS, maxiter=1000)


def _ball_certificate(grad, coef, col_norms, y_norms, mu, radius):
    """Per-target relative KKT residual of the ball-constrained problem."""
    stat = _stationarity_residual(grad, coef, col_norms, y_norms, mu).max(
        axis=0, initial=0.0
    )
    norms = np.linalg.norm(coef, axis=0)
    feas = np.clip(norms - radius, 0.0, None) / radius
    slack = np.where(mu > 0, np.abs(norms - radius) / radius, 0.0)
    return np.maximum(stat, np.maximum(feas, slack))


class BallLeastSquaresHead(_BaseHead):
    """Exact least squares subject to ``‖coef‖₂ <= radius`` (free intercept).

    The function set ``{x ↦ xᵀ b + c : ‖b‖ <= radius}`` is convex, so the
    exact fit is a projection and Theorem 1 of Charikar et al. (2024) holds
    for every target ``x ↦ xᵀ b* + c*`` with ``‖b*‖ <= radius``: on the
    training sample, ``‖y_w - y*‖² >= ‖ŷ - y*‖² + ‖ŷ - y_w‖²``.

    Parameters
    ----------
    radius : float, default=1.0
        Radius of the l2 ball of coefficients; must be positive.
    fit_intercept : bool, default=True
        Whether to fit a free (unconstrained) intercept by weighted centring.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, of l2 norm at most ``radius`` for each target.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercepts (0.0 when ``fit_intercept=False``).
    multiplier_ : float or ndarray of shape (n_targets,)
        Lagrange multiplier ``μ >= 0`` of the ball constraint: 0 when the
        least-squares solution lies inside the ball, otherwise the ridge
        penalty whose solution has norm ``radius``, i.e.
        ``RidgeHead(alpha=multiplier_)`` gives the same fit.
    kkt_residual_ : float
        Optimality certificate, measured on the data: the largest, over
        targets, of (i) the relative stationarity violation
        ``|x_jᵀ r - μ b_j| / (‖x_j‖ ‖r‖ + μ |b_j|)`` over features ``j``
        (``x_j`` the centred weighted column, ``r`` the weighted residual),
        (ii) the relative infeasibility ``max(0, ‖b‖ - radius) / radius``
        and (iii) the relative complementary slackness
        ``|‖b‖ - radius| / radius`` when ``μ > 0``. Values ``<= 1e-8``
        certify the solution.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has
        feature names that are all strings.

    See Also
    --------
    RidgeHead : The penalised (Lagrangian) form.
    LeastSquaresHead : ``radius=inf``.

    Notes
    -----
    This is the convex trust-region subproblem. The least-squares solution
    (minimum-norm when singular) is computed first; targets whose solution
    lies inside the ball keep it. For the others, the eigendecomposition
    ``Xtᵀ W Xt = V diag(λ) Vᵀ``, shared by all targets, turns the constraint
    into the secular equation ``‖(λ + μ)⁻¹ Vᵀ Xtᵀ W y‖ = radius``, solved by
    :func:`scipy.optimize.brentq`. A few Newton steps on the KKT system
    ``(Xtᵀ W Xt + μ I) b = Xtᵀ W y``, ``‖b‖ = radius``, with residuals
    computed on the data, then remove the rounding errors of the Gram
    matrix.

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

    def __init__(self, radius=1.0, fit_intercept=True):
        self.radius = radius
        self.fit_intercept = fit_intercept

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the exact ball-constrained least-squares solution per target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Strong features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the squared errors.

        Returns
        -------
        self : BallLeastSquaresHead
            The fitted head.
        """
        X, Y, sample_weight = self._validate_fit(X, y, sample_weight)
        radius = float(self.radius)
        problem = _prepare_problem(X, Y, sample_weight, self.fit_intercept)
        m = problem.n_targets
        coef, cert, _ = _solve_ridge_family(problem, 0.0)
        mu = np.zeros(m)
        out = np.flatnonzero(np.linalg.norm(coef, axis=0) > radius)
        if out.size:
            coef[:, out], mu[out], cert[out] = self._solve_boundary(
                problem, out, radius
            )
        self.multiplier_ = float(mu[0]) if self._y_ndim == 1 else mu
        self.kkt_residual_ = float(np.max(cert, initial=0.0))
        self._set_linear(problem, coef)
        return self

    @staticmethod
    def _solve_boundary(problem, out, radius):
        """Solve the targets ``out`` whose least-squares fit leaves the ball."""
        act = problem.active
        lam, V = linalg.eigh(problem.gram[np.ix_(act, act)], check_finite=False)
        lam = np.clip(lam, 0.0, None)
        null = lam <= lam.max(initial=0.0) * lam.size * _EPS
        lam[null] = 0.0
        c = V.T @ problem.xty[act][:, out]
        c[null] = 0.0
        mu = np.array([_secular_root(lam, c[:, i], radius) for i in range(out.size)])
        coef_a = np.zeros_like(c)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(c, lam[:, None] + mu, out=coef_a, where=c != 0)
        coef_a = V @ coef_a
        coef = np.zeros((problem.n_features, out.size))
        coef[act] = coef_a
        # Newton steps on the KKT system with data residuals.
        y_norms = problem.y_norms[out]
        best_cert, best = np.full(out.size, np.inf), (coef.copy(), mu.copy())
        for _ in range(6):
            grad = problem.residual_pass(coef, out)
            cert = _ball_certificate(
                grad[act], coef[act], problem.col_norms[act], y_norms, mu, radius
            )
            better = cert < best_cert
            best_cert[better] = cert[better]
            best[0][:, better] = coef[:, better]
            best[1][better] = mu[better]
            if best_cert.max() <= 1e-14:
                break
            for i in np.flatnonzero(mu > 0):
                b = coef[act, i]
                f1 = grad[act, i] - mu[i] * b
                f2 = 0.5 * (radius**2 - b @ b)
                h1 = V @ ((V.T @ f1) / (lam + mu[i]))
                hb = V @ ((V.T @ b) / (lam + mu[i]))
                dmu = (b @ h1 - f2) / (b @ hb)
                coef[act, i] = b + h1 - hb * dmu
                mu[i] = max(mu[i] + dmu, 0.1 * mu[i])
        return best[0], best[1], best_cert

