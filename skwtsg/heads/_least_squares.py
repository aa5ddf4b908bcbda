"""Exact least squares and ridge: projections onto a subspace and an l2 ball."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    _BaseHead,
    _Problem,
    _Solution,
    _solve_ridge_dual,
    _solve_ridge_family,
)
from ._stats import _PartialFitMixin

__all__ = ["LeastSquaresHead", "RidgeHead"]


class LeastSquaresHead(_PartialFitMixin, _BaseHead):
    """Exact (weighted) least squares, solved once for all targets.

    The fitted values are the orthogonal projection of ``y`` onto the span of
    the features (and the constant, with an intercept). The function set is
    a linear subspace, hence convex, and the Pythagorean identity holds with
    equality on the training sample::

        ‖y_w - y*‖² = ‖ŷ - y*‖² + ‖ŷ - y_w‖²   for every y* in the span,

    which is Theorem 1 of Charikar et al. (2024) with equality. This is the
    default strong head of :class:`skwtsg.WeakToStrongRegressor`.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept. Features and targets are
        centred with their ``sample_weight``-weighted means.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, shaped like :class:`~sklearn.linear_model.LinearRegression`.
        The minimum-norm solution when the centred design is rank deficient.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercepts (0.0 when ``fit_intercept=False``).
    kkt_residual_ : float
        Optimality certificate: the largest relative gradient
        ``|x_jᵀ r_k| / (‖x_j‖ ‖y_k‖)`` over features ``j`` and targets ``k``,
        where ``x_j = W^{1/2}(x_j - x̄_j)`` is the centred weighted feature
        column, ``y_k = W^{1/2}(y_k - ȳ_k)`` the centred weighted target and
        ``r_k`` its residual. It is 0 exactly at the least-squares solution,
        at most 1 at ``coef_ = 0``, and scale free (invariant to rescaling a
        feature or a target); values ``<= 1e-8`` certify the projection. On
        the ``"cholesky"`` path it is evaluated from the normal equations
        (``Xᵀ W y - Xᵀ W X coef``, with the Gram matrix of the fit), on the
        other paths from a pass over the data.
    solver_ : str
        The path taken: ``"cholesky"`` (column-scaled Gram matrix, for
        well-conditioned designs) or ``"qr"`` (QR factorisation of the data,
        SVD of its ``R`` factor and iterative refinement, for ill-conditioned
        or rank-deficient designs).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has
        feature names that are all strings.

    See Also
    --------
    RidgeHead : Projection onto an l2 ball (ridge).
    sklearn.linear_model.LinearRegression : The same estimate, one target
        problem at a time.

    Notes
    -----
    With ``n`` samples, ``d`` features and ``M`` targets, the fit makes one
    pass over the rows, blockwise, to form the centred Gram matrix
    ``Xtᵀ W Xt`` and ``Xtᵀ W Y`` (``O(n d² / 2 + n d M)``), then factorises the
    column-scaled Gram matrix once with Cholesky (``O(d³)``) for every target.
    When the scaled Gram matrix has a condition number above ``1e4`` (the
    Gram matrix squares the condition number of the data), the problem is
    solved instead from a blockwise QR factorisation of the data and an SVD
    of its ``d × d`` factor (``O(n (d + M)²)``), which returns the
    minimum-norm solution when the design is rank deficient, followed by
    iterative refinement with residuals computed on the data.

    Predictions are computed as ``(X - x̄) @ coef_.T + ȳ`` with the weighted
    training means: equal to ``X @ coef_.T + intercept_`` in exact
    arithmetic, without its cancellation when features have large means.

    References
    ----------
    .. [1] M. Charikar, C. Pabbaraju and K. Shiragur, "Quantifying the Gain in
       Weak-to-Strong Generalization", NeurIPS 2024.
    .. [2] Å. Björck, "Numerical Methods for Least Squares Problems", SIAM,
       1996 (QR solution, minimum-norm solutions, iterative refinement).

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import LeastSquaresHead
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> Y = X @ rng.normal(size=(3, 2)) + 1.0
    >>> head = LeastSquaresHead().fit(X, Y)
    >>> head.coef_.shape, np.round(head.intercept_, 6)
    ((2, 3), array([1., 1.]))
    >>> bool(head.kkt_residual_ <= 1e-8)
    True
    """

    _parameter_constraints: dict = {"fit_intercept": ["boolean"]}

    def __init__(self, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    _constant_info = {"solver_": "cholesky"}

    def _solve(self, problem: _Problem) -> _Solution:
        coef, cert, solver = _solve_ridge_family(problem, 0.0)
        return _Solution(coef[problem.active], cert, info={"solver_": solver})


class RidgeHead(_PartialFitMixin, _BaseHead):
    """Exact ridge regression with an unpenalised intercept.

    Minimises ``Σ_i w_i (y_i - x_iᵀ b - c)² + alpha ‖b‖²`` for every target
    with one factorisation. By Lagrangian duality, the solution for a target
    is also the least-squares projection onto the l2 ball
    ``{b : ‖b‖ <= ‖coef_‖}`` (with a free intercept): the head is a
    projection onto a convex set, so Theorem 1 of Charikar et al. (2024)
    holds for every target function ``x ↦ xᵀ b* + c*`` with
    ``‖b*‖ <= ‖coef_‖``. See :class:`BallLeastSquaresHead` to fix the radius
    instead of the penalty.

    Parameters
    ----------
    alpha : float, default=1.0
        Non-negative l2 penalty on the coefficients, on the scale of the
        (weighted) sum of squares, as in :class:`~sklearn.linear_model.Ridge`.
        ``alpha=0`` is least squares (minimum-norm when singular).
    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept (weighted centring).
    solver : {"auto", "primal", "dual"}, default="auto"
        Which linear system :meth:`fit` factorises; both give the same
        coefficients (to rounding). ``"primal"``: the ``d × d`` system
        ``(XtᵀXt + alpha I) b = Xtᵀ y`` from the Gram matrix, ``O(n d² +
        d³/3)``; ``"dual"``: the ``n × n`` (kernel) system ``(Xt Xtᵀ + alpha
        I) a = y``, then ``b = Xtᵀ a``, ``O(n² d + n³/3)``, for fewer rows
        than features. Here ``Xt = W^{1/2}(X - x̄)`` is the centred weighted
        design, so weights and the intercept are handled alike in both.
        ``"auto"`` takes the dual form when ``n_samples < n_features``.
        Either falls back to the ``"qr"`` path when its system is badly
        conditioned (the dual one always is for ``alpha=0`` with an
        intercept). :meth:`partial_fit` solves from its ``d × d``
        statistics, in the primal form, whatever ``solver``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercepts (0.0 when ``fit_intercept=False``).
    kkt_residual_ : float
        Optimality certificate: the largest relative stationarity violation
        ``|x_jᵀ r_k - alpha b_jk| / (‖x_j‖ ‖y_k‖)`` over features ``j`` and
        targets ``k``, with ``x_j`` the centred weighted feature column,
        ``y_k`` the centred weighted target and ``r_k`` its residual. It is 0
        exactly at the ridge solution; values ``<= 1e-8`` certify it. Where it
        is evaluated is as in :class:`LeastSquaresHead`; on the ``"dual"``
        path, from the data (``Xtᵀ (Yt - Xt B) - alpha B``).
    solver_ : str
        ``"cholesky"`` (primal) or ``"qr"``, as in :class:`LeastSquaresHead`,
        or ``"dual"`` (Cholesky factorisation of the scaled ``Xt Xtᵀ + alpha
        I``).
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has
        feature names that are all strings.

    See Also
    --------
    LeastSquaresHead : ``alpha=0``.
    BallLeastSquaresHead : The constrained form with a fixed radius.
    sklearn.linear_model.Ridge : The same estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skwtsg.heads import RidgeHead
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    >>> head = RidgeHead(alpha=10.0).fit(X, y)
    >>> bool(np.allclose(head.coef_, Ridge(alpha=10.0).fit(X, y).coef_))
    True

    With fewer rows than features the dual (kernel) form is taken:

    >>> X_wide = rng.normal(size=(20, 300))
    >>> wide = RidgeHead(alpha=10.0).fit(X_wide, X_wide[:, 0])
    >>> wide.solver_
    'dual'
    >>> primal = RidgeHead(alpha=10.0, solver="primal").fit(X_wide, X_wide[:, 0])
    >>> bool(np.allclose(wide.coef_, primal.coef_, rtol=1e-10, atol=1e-14))
    True
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "primal", "dual"})],
    }

    def __init__(
        self, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "auto"
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver

    _constant_info = {"solver_": "cholesky"}

    def _uses_gram(self, n_samples: int, n_features: int) -> bool:
        if self.solver == "auto":
            return n_samples >= n_features
        return self.solver == "primal"

    def _solve(self, problem: _Problem) -> _Solution:
        # A problem without a Gram matrix was prepared for the dual form.
        if isinstance(problem, _Problem) and problem.gram is None:
            coef, cert, solver = _solve_ridge_dual(problem, float(self.alpha))
        else:
            coef, cert, solver = _solve_ridge_family(problem, float(self.alpha))
        return _Solution(coef[problem.active], cert, info={"solver_": solver})
