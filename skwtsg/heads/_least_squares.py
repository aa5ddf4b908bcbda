"""Exact least squares and ridge: projections onto a subspace and an l2 ball."""

from __future__ import annotations

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from .._utils._docstrings import fill_doc
from ._base import _BaseHead, _Solution
from ._problem import _Problem
from ._solvers import _solve_ridge
from ._stats import _PartialFitMixin

__all__ = ["LeastSquaresHead", "RidgeHead"]

#: The ``solver`` options of both heads (``RidgeHead`` also takes "primal").
_SOLVERS = {"auto", "cholesky", "qr", "dual"}


class _SolverMixin:
    """The ``solver`` parameter: the Gram matrix (``"cholesky"``, ``"primal"``)
    or the rows (``"dual"``, ``"qr"``); ``"auto"`` is :meth:`_auto_uses_gram`."""

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


@fill_doc
class LeastSquaresHead(_SolverMixin, _PartialFitMixin, _BaseHead):
    """Exact (weighted) least squares, solved once for all targets.

    The orthogonal projection of ``y`` onto the span of the features (and
    the constant): Theorem 1 holds with equality on the training sample. The
    default strong head of :class:`skwtsg.WeakToStrongRegressor`. Read more
    in the :ref:`User Guide <heads>`.

    Parameters
    ----------
    {fit_intercept}
    solver : {"auto", "cholesky", "qr", "dual"}, default="auto"
        The path :meth:`fit` takes (all give the same coefficients to
        rounding): ``"cholesky"`` factorises the column-scaled Gram matrix
        once for every target; ``"qr"`` factorises the data blockwise, takes
        the SVD of its ``R`` factor (minimum norm when rank deficient) and
        refines on the data; ``"dual"`` solves the ``n × n`` kernel system
        (``"qr"`` without a penalty and with an intercept); ``"auto"`` is
        ``"cholesky"``. ``"cholesky"`` and ``"dual"`` fall back to ``"qr"``
        when their system is too badly conditioned for an exact solution
        (from statistics, as in :meth:`partial_fit`, ``"dual"`` is
        ``"cholesky"``).

    Attributes
    ----------
    {linear_coef}
    kkt_residual_ : float
        Optimality certificate: the largest relative gradient
        ``|x_jᵀ r_k| / (‖x_j‖ ‖y_k‖)`` over features ``j`` and targets ``k``
        (centred weighted columns, ``r_k`` the residual): 0 at the
        least-squares solution, at most 1 at ``coef_ = 0``; values ``<=
        1e-8`` certify the projection.
    solver_ : str
        The path taken: ``"cholesky"``, ``"qr"`` or ``"dual"``.
    {features_in}

    See Also
    --------
    RidgeHead : Projection onto an l2 ball (ridge).
    sklearn.linear_model.LinearRegression : The same estimate.

    Notes
    -----
    Predictions are ``(X - x̄) @ coef_.T + ȳ`` with the weighted training
    means, which avoids the cancellation of ``X @ coef_.T + intercept_``
    when features have large means.

    References
    ----------
    .. [1] Å. Björck, "Numerical Methods for Least Squares Problems", SIAM,
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


@fill_doc
class RidgeHead(_SolverMixin, _PartialFitMixin, _BaseHead):
    """Exact ridge regression with an unpenalised intercept.

    Minimises ``Σ_i w_i (y_i - x_iᵀ b - c)² + alpha ‖b‖²`` for every target
    with one factorisation: by duality the projection onto the l2 ball
    ``{b : ‖b‖ <= ‖coef_‖}``, a convex set, so Theorem 1 applies. See
    :class:`BallLeastSquaresHead` to fix the radius instead.

    Parameters
    ----------
    alpha : float, default=1.0
        Non-negative l2 penalty, on the scale of the (weighted) sum of
        squares as in :class:`~sklearn.linear_model.Ridge`; 0 is least
        squares.
    {fit_intercept}
    solver : {"auto", "cholesky", "primal", "qr", "dual"}, default="auto"
        As in :class:`LeastSquaresHead`, ``"primal"`` being ``"cholesky"``;
        ``"auto"`` is ``"dual"`` when ``n_samples < n_features``, else
        ``"cholesky"``.

    Attributes
    ----------
    {linear_coef}
    kkt_residual_ : float
        Optimality certificate: the largest relative stationarity violation
        ``|x_jᵀ r_k - alpha b_jk| / (‖x_j‖ ‖y_k‖)`` (as in
        :class:`LeastSquaresHead`); values ``<= 1e-8`` certify the solution.
    solver_ : str
        The path taken: ``"cholesky"``, ``"qr"`` or ``"dual"``.
    {features_in}

    See Also
    --------
    LeastSquaresHead : ``alpha=0``.
    BallLeastSquaresHead : The constrained form with a fixed radius.
    sklearn.linear_model.Ridge : The same estimate.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skwtsg.heads import RidgeHead
    >>> import numpy as np
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
