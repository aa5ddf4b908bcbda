"""Exact ridge with its penalty chosen by efficient leave-one-out cross-validation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg

from .._utils._docstrings import fill_doc
from .._utils._validation import as_real_float, check_sample_weight, has_complex
from ._base import _BaseHead, _Solution
from ._problem import _Problem
from ._solvers import _solve_ridge_family

__all__ = ["RidgeLOOHead", "ridge_loo_errors"]

#: Default candidate penalties: 13 values from 1e-3 to 1e3, evenly spaced in log.
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))


def ridge_loo_errors(
    Xt: ArrayLike,
    Yt: ArrayLike,
    alphas: ArrayLike,
    *,
    intercept_weights: ArrayLike | None = None,
) -> np.ndarray:
    """Leave-one-out squared errors of ridge for every alpha, from one SVD.

    With ``Xt = U S Vᵀ`` the hat matrix is ``H(α) = U diag(s² / (s² + α))
    Uᵀ`` (plus ``w / Σw`` on the diagonal for the intercept), and the
    leave-one-out residual of row ``i`` is the residual over ``1 - H_ii(α)``.

    Parameters
    ----------
    Xt : ndarray of shape (n_samples, n_features)
        Centred design, rows scaled by ``√w`` when there are weights.
    Yt : ndarray of shape (n_samples, n_targets)
        Centred targets, scaled the same way.
    alphas : ndarray of shape (n_alphas,)
        Positive penalties.
    intercept_weights : ndarray of shape (n_samples,) or None, default=None
        The sample weights when an intercept is fitted (``None``: no
        intercept). Its leverage ``w_i / Σw`` is added to ``H_ii``.

    Returns
    -------
    errors : ndarray of shape (n_alphas, n_targets)
        ``mean_i w_i (y_i - ŷ_{-i})²``; ``inf`` where a row has leverage 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import ridge_loo_errors
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 4)); X -= X.mean(0)
    >>> Y = X @ rng.normal(size=(4, 1)) + 0.1 * rng.normal(size=(30, 1))
    >>> ridge_loo_errors(X, Y - Y.mean(0), np.array([1e-3, 1e3])).shape
    (2, 1)
    """
    Xt = as_real_float(Xt, "Xt", (2,))
    Yt = as_real_float(Yt, "Yt", (2,))
    if Yt.shape[0] != Xt.shape[0]:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: `Xt` has "
            f"{Xt.shape[0]} rows and `Yt` {Yt.shape[0]}."
        )
    intercept_weights = check_sample_weight(
        intercept_weights, Xt.shape[0], name="intercept_weights"
    )
    grid = _check_alpha_grid(alphas, "alphas")
    U, s, _ = linalg.svd(Xt, full_matrices=False, check_finite=False)
    UtY = U.T @ Yt
    U2 = U**2
    base = None
    if intercept_weights is not None:
        total = float(np.sum(intercept_weights))
        base = intercept_weights / total if total > 0 else 0.0
    s2 = s**2
    errors = np.empty((len(grid), Yt.shape[1]))
    for a, alpha in enumerate(grid):
        shrink = s2 / (s2 + alpha)
        fitted = U @ (shrink[:, None] * UtY)
        leverage = U2 @ shrink
        if base is not None:
            leverage = leverage + base
        denom = 1.0 - leverage
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = (Yt - fitted) / denom[:, None]
        bad = denom <= 0
        with np.errstate(over="ignore", invalid="ignore"):
            sq = loo**2
            if not np.all(np.isfinite(sq[~bad])):
                raise ValueError(
                    "The leave-one-out errors overflow float64: the features or "
                    "targets are too large in magnitude; rescale them (e.g. "
                    "standardise X and y)."
                )
            sq[bad] = np.inf
            errors[a] = sq.mean(axis=0)
    return errors


def _check_alpha_grid(alphas, name):
    """A non-empty 1-D float64 array of positive finite penalties."""
    arr = np.asarray(alphas)
    bad = has_complex(arr)
    if not bad:
        try:
            arr = arr.astype(np.float64).ravel()
        except (TypeError, ValueError):
            bad = True
    if bad or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(
            f"{name} must be a non-empty array of positive finite numbers, got "
            f"{alphas!r}."
        )
    return arr


@fill_doc
class RidgeLOOHead(_BaseHead):
    """Exact ridge whose penalty is chosen by exact leave-one-out cross-validation.

    Every alpha's leave-one-out error comes from one SVD of the centred
    design (:func:`ridge_loo_errors`; the criterion and choice of
    :class:`sklearn.linear_model.RidgeCV` with ``cv=None``), then ``alpha_``
    is refitted exactly as :class:`RidgeHead` does. The alpha is chosen on
    the labels the head is given (the weak labels, for a strong head). Read
    more in the :ref:`User Guide <heads>`.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=DEFAULT_ALPHAS
        Candidate penalties, all positive (default ``np.logspace(-3, 3,
        13)``).
    alpha_per_target : bool, default=False
        Choose one alpha per target from its own error; otherwise one alpha
        minimising the mean error.
    {fit_intercept}

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen penalty (an array with ``alpha_per_target`` and 2-D ``y``).
    loo_errors_ : ndarray of shape (n_alphas, n_targets) or None
        Weighted mean squared leave-one-out error of each alpha and target
        (None when no feature varies: ``alpha_`` is then the first).
    {linear_coef}
    kkt_residual_ : float
        Optimality certificate of the refit, as in :class:`RidgeHead`.
    solver_ : str
        Path of the refit, ``"cholesky"`` or ``"qr"`` (comma-joined when the
        alphas' paths differ).
    {features_in}

    See Also
    --------
    RidgeHead : Ridge with a fixed penalty.
    sklearn.linear_model.RidgeCV : The same choice of alpha.

    Notes
    -----
    For a fixed alpha the fit is the projection onto an l2 ball, so Theorem
    1 applies to the ball chosen. A weight is not a number of repeated rows
    here: repeating a row changes the leave-one-out criterion, as for
    :class:`~sklearn.linear_model.RidgeCV`.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import RidgeLOOHead
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> y = X @ rng.normal(size=5) + 0.5 * rng.normal(size=60)
    >>> head = RidgeLOOHead().fit(X, y)
    >>> float(head.alpha_) in set(np.logspace(-3, 3, 13))
    True
    """

    _parameter_constraints: dict = {
        "alphas": ["array-like"],
        "alpha_per_target": ["boolean"],
        "fit_intercept": ["boolean"],
    }

    def __init__(
        self,
        alphas: ArrayLike = DEFAULT_ALPHAS,
        *,
        alpha_per_target: bool = False,
        fit_intercept: bool = True,
    ) -> None:
        self.alphas = alphas
        self.alpha_per_target = alpha_per_target
        self.fit_intercept = fit_intercept

    def _check_alphas(self):
        return _check_alpha_grid(self.alphas, "alphas")

    def _constant_info(self) -> dict:
        # No non-constant feature: every alpha has the same leave-one-out
        # error, and the first is kept (as RidgeCV does).
        return {
            "solver_": "cholesky",
            "alpha_": float(self._check_alphas()[0]),
            "loo_errors_": None,
        }

    def _solve(self, problem: _Problem) -> _Solution:
        alphas = self._check_alphas()
        n, m = problem.X.shape[0], problem.n_targets
        if n < 2:
            raise ValueError(
                "RidgeLOOHead needs at least 2 samples for leave-one-out, got "
                f"n_samples={n}."
            )
        act = problem.active
        Xt, Yt = problem.centred_design()
        weights = None
        if self.fit_intercept:
            weights = np.ones(n) if problem.sqrt_w is None else problem.sqrt_w**2
        errors = ridge_loo_errors(Xt[:, act], Yt, alphas, intercept_weights=weights)
        crit = errors if self.alpha_per_target else errors.mean(axis=1, keepdims=True)
        if not np.all(np.isfinite(crit.min(axis=0))):
            raise ValueError(
                "The leave-one-out error is undefined for every alpha (a row has "
                "leverage 1, e.g. more features than samples with a tiny alpha): "
                "use larger alphas."
            )
        best = np.argmin(crit, axis=0)  # the first minimum, as RidgeCV
        chosen = np.broadcast_to(alphas[best], (m,))
        coef = np.zeros((int(act.sum()), m))
        cert = np.zeros(m)
        solvers = []
        assert problem.xty is not None  # RidgeLOOHead forms the Gram matrix
        for alpha in np.unique(chosen):
            cols = np.flatnonzero(chosen == alpha)
            sub = problem
            if cols.size < m:
                sub = replace(
                    problem,
                    Y=problem.Y[:, cols],
                    y_offset=problem.y_offset[cols],
                    xty=problem.xty[:, cols],
                    yty=problem.yty[cols],
                )
            coef_a, cert_a, solver = _solve_ridge_family(sub, float(alpha))
            coef[:, cols] = coef_a[act]
            cert[cols] = cert_a
            solvers.append(solver)
        info: dict[str, Any] = {
            "solver_": ",".join(dict.fromkeys(solvers)),
            "loo_errors_": errors,
        }
        per_target = {}
        if self.alpha_per_target:
            per_target["alpha_"] = np.array(chosen)
        else:
            info["alpha_"] = float(chosen[0])
        return _Solution(coef, cert, per_target=per_target, info=info)
