"""Exact least squares and ridge: projections onto a subspace and an l2 ball."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseHead, _Solution
from ._problem import _Problem
from ._solvers import _solve_ridge
from ._stats import _PartialFitMixin

__all__ = ["LeastSquaresHead", "RidgeHead"]

#: The ``solver`` options of both heads (``RidgeHead`` also takes "primal").
_SOLVERS = {"auto", "cholesky", "qr", "dual"}


class _SolverMixin:
    """The ``solver`` parameter: which form :meth:`fit` prepares and solves.

    ``"cholesky"`` (``"primal"``) prepares the Gram matrix, ``"dual"`` and
    ``"qr"`` read the rows instead (:func:`_solve_ridge` dispatches);
    ``"auto"`` is :meth:`_auto_uses_gram`.
    """

    solver: str

    def _penalty(self) -> float:
        return 0.0

    def _auto_uses_gram(self, n_samples: int, n_features: int) -> bool:
        return True

    def _uses_gram(self, n_samples: int, n_features: int) -> bool:
        if self.solver == "auto":
            return self._auto_uses_gram(n_samples, n_features)
        return self.solver in ("cholesky", "primal")

    def _constant_info(self) -> dict:
        # No active column: nothing is solved; report the path asked for.
        return {"solver_": self.solver if self.solver in ("qr", "dual") else "cholesky"}

    def _solve(self, problem: _Problem) -> _Solution:
        coef, cert, solver = _solve_ridge(problem, self._penalty(), self.solver)
        return _Solution(coef[problem.active], cert, info={"solver_": solver})


class LeastSquaresHead(_SolverMixin, _PartialFitMixin, _BaseHead):
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
    solver : {"auto", "cholesky", "qr", "dual"}, default="auto"
        The path :meth:`fit` takes; all give the same coefficients (to
        rounding), and ``solver_`` records the one taken.

        - ``"cholesky"``: one pass over the rows forms the centred Gram
          matrix, factorised once (column-scaled) for every target.
        - ``"qr"``: a blockwise QR factorisation of the data, the SVD of its
          ``R`` factor (minimum norm when rank deficient) and iterative
          refinement on the data: backward stable, no Gram matrix, slower.
        - ``"dual"``: the ``n × n`` kernel system, for fewer rows than
          features (see :class:`RidgeHead`); without a penalty it is
          singular with an intercept, so ``"qr"`` is taken then.
        - ``"auto"``: ``"cholesky"``.

        ``"cholesky"`` and ``"dual"`` fall back to ``"qr"`` when their system
        is too badly conditioned for an exact solution (a reciprocal
        condition number below ``1e-4`` or a certificate above ``1e-12``);
        ``"qr"`` never falls back. :meth:`partial_fit` and
        :meth:`fit_from_statistics` solve from the ``d × d`` statistics, where
        ``"dual"`` is ``"cholesky"``.

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
        well-conditioned designs), ``"qr"`` (QR factorisation of the data,
        SVD of its ``R`` factor and iterative refinement, for ill-conditioned
        or rank-deficient designs) or ``"dual"``.
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

    _parameter_constraints: dict = {
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(_SOLVERS)],
    }

    def __init__(self, fit_intercept: bool = True, solver: str = "auto") -> None:
        self.fit_intercept = fit_intercept
        self.solver = solver


class RidgeHead(_SolverMixin, _PartialFitMixin, _BaseHead):
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
    solver : {"auto", "cholesky", "primal", "qr", "dual"}, default="auto"
        Which system :meth:`fit` solves; all give the same coefficients (to
        rounding), and ``solver_`` records the path taken.

        - ``"cholesky"`` (or ``"primal"``): the ``d × d`` system
          ``(XtᵀXt + alpha I) b = Xtᵀ y`` from the Gram matrix, ``O(n d² +
          d³/3)``.
        - ``"dual"``: the ``n × n`` (kernel) system ``(Xt Xtᵀ + alpha I) a =
          y``, then ``b = Xtᵀ a``, ``O(n² d + n³/3)``, for fewer rows than
          features.
        - ``"qr"``: a blockwise QR factorisation of the data and the SVD of
          its ``R`` factor, with iterative refinement on the data (backward
          stable, no Gram matrix).
        - ``"auto"``: ``"dual"`` when ``n_samples < n_features``, otherwise
          ``"cholesky"``.

        Here ``Xt = W^{1/2}(X - x̄)`` is the centred weighted design, so
        weights and the intercept are handled alike in all. ``"cholesky"``
        and ``"dual"`` fall back to ``"qr"`` when their system is badly
        conditioned (the dual one always is for ``alpha=0`` with an
        intercept). :meth:`partial_fit` and :meth:`fit_from_statistics`
        solve from the ``d × d`` statistics, where ``"dual"`` is
        ``"cholesky"``.

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
    >>> primal = RidgeHead(alpha=10.0, solver="cholesky").fit(X_wide, X_wide[:, 0])
    >>> bool(np.allclose(wide.coef_, primal.coef_, rtol=1e-10, atol=1e-14))
    True
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(_SOLVERS | {"primal"})],
    }

    def __init__(
        self, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "auto"
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver

    def _penalty(self) -> float:
        return float(self.alpha)

    def _auto_uses_gram(self, n_samples: int, n_features: int) -> bool:
        return n_samples >= n_features
