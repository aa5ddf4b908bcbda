"""Shared machinery of the exact convex heads.

Every linear head solves a weighted least-squares problem in the *centred*
design ``Xt = W^{1/2} (X - 1 x̄ᵀ)`` and targets ``Yt = W^{1/2} (Y - 1 ȳᵀ)``,
where ``x̄`` and ``ȳ`` are the ``sample_weight``-weighted means (zero when
``fit_intercept=False``). Profiling the free intercept out this way is exact:
for any coefficient vector ``b`` the best intercept is ``ȳ - x̄ᵀb``.

The design is read in row blocks, so the centred copy of ``X`` never exists in
full and the one pass forms the Gram matrix ``G = Xtᵀ Xt`` and ``C = Xtᵀ Yt``
for all targets at once. Further passes compute residuals on the data when a
solve needs a correction (iterative refinement) or a certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from sklearn_compat.utils.validation import validate_data

_EPS = np.finfo(np.float64).eps

#: Number of matrix entries in one block of rows (16 MiB of float64).
_BLOCK_ENTRIES = 1 << 21


def _row_blocks(n_samples, n_features):
    """Yield slices of rows so that each block holds ~2**21 entries."""
    step = max(256, _BLOCK_ENTRIES // max(1, n_features))
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


@dataclass
class _Problem:
    """A validated weighted least-squares problem and its sufficient statistics.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        The design as given (float64, not centred).
    Y : ndarray of shape (n_samples, n_targets)
        The targets as given (float64, not centred).
    sqrt_w : ndarray of shape (n_samples,) or None
        Square roots of the sample weights; ``None`` for unit weights.
    X_offset, y_offset : ndarray
        Weighted means (zeros without an intercept).
    gram : ndarray of shape (n_features, n_features)
        ``Xtᵀ Xt``.
    xty : ndarray of shape (n_features, n_targets)
        ``Xtᵀ Yt``.
    yty : ndarray of shape (n_targets,)
        ``‖Yt[:, k]‖²`` for each target.
    col_norms : ndarray of shape (n_features,)
        ``‖Xt[:, j]‖`` (zero for constant columns when there is an intercept).
    active : ndarray of bool, shape (n_features,)
        Columns that are not constant in the centred design; the others get a
        zero coefficient (they are absorbed by the intercept).
    """

    X: np.ndarray
    Y: np.ndarray
    sqrt_w: np.ndarray | None
    X_offset: np.ndarray
    y_offset: np.ndarray
    gram: np.ndarray
    xty: np.ndarray
    yty: np.ndarray
    col_norms: np.ndarray
    active: np.ndarray

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_targets(self):
        return self.Y.shape[1]

    def centred_block(self, rows, targets=None):
        """Return ``(Xt[rows], Yt[rows])`` (or ``Yt[rows, targets]``) as copies."""
        xb = self.X[rows] - self.X_offset
        if targets is None:
            yb = self.Y[rows] - self.y_offset
        else:
            yb = self.Y[rows][:, targets] - self.y_offset[targets]
        if self.sqrt_w is not None:
            sw = self.sqrt_w[rows, None]
            xb *= sw
            yb *= sw
        return xb, yb

    def centred_design(self):
        """Return the full centred weighted design ``Xt`` and targets ``Yt``."""
        return self.centred_block(slice(None))

    def residual_pass(self, coef, targets=None):
        """Return ``Xtᵀ R`` for the residual ``R = Yt - Xt coef``, on the data.

        Parameters
        ----------
        coef : ndarray of shape (n_features, n_targets)
            Coefficients (of the selected targets only, if ``targets``).
        targets : array of int, default=None
            Restrict to these targets.

        Returns
        -------
        grad : ndarray of shape (n_features, n_targets)
            ``Xtᵀ R``, minus the gradient of ``½‖R‖²``.
        """
        n, d = self.X.shape
        grad = np.zeros((d, coef.shape[1]))
        for rows in _row_blocks(n, d):
            xb, yb = self.centred_block(rows, targets)
            yb -= xb @ coef
            grad += xb.T @ yb
        return grad

    @property
    def y_norms(self):
        """``‖Yt[:, k]‖`` for each target."""
        return np.sqrt(self.yty)


def _prepare_problem(X, Y, sample_weight, fit_intercept):
    """Weighted means, Gram matrix and cross-products in one pass over rows.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool

    Returns
    -------
    problem : _Problem
    """
    n, d = X.shape
    m = Y.shape[1]
    if sample_weight is None:
        sqrt_w = None
        w_sum = float(n)
    else:
        sqrt_w = np.sqrt(sample_weight)
        w_sum = float(sample_weight.sum())
    if fit_intercept:
        X_offset = np.average(X, axis=0, weights=sample_weight)
        y_offset = np.average(Y, axis=0, weights=sample_weight)
    else:
        X_offset = np.zeros(d)
        y_offset = np.zeros(m)
    problem = _Problem(
        X=X,
        Y=Y,
        sqrt_w=sqrt_w,
        X_offset=X_offset,
        y_offset=y_offset,
        gram=np.zeros((d, d)),
        xty=np.zeros((d, m)),
        yty=np.zeros(m),
        col_norms=np.zeros(d),
        active=np.ones(d, dtype=bool),
    )
    gram, xty, yty = problem.gram, problem.xty, problem.yty
    for rows in _row_blocks(n, d):
        xb, yb = problem.centred_block(rows)
        gram += xb.T @ xb  # numpy dispatches ``A.T @ A`` to BLAS syrk
        xty += xb.T @ yb
        yty += np.einsum("ij,ij->j", yb, yb)
    col_norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    if fit_intercept:
        # A constant column centres to rounding noise of size ~eps * |mean|:
        # treat it as exactly constant (the intercept absorbs it).
        noise = 8.0 * _EPS * np.sqrt(n * w_sum) * np.abs(X_offset)
        active = col_norms > noise
    else:
        active = col_norms > 0.0
    problem.col_norms = np.where(active, col_norms, 0.0)
    problem.active = active
    return problem


def _safe_ratio(num, den):
    """``num / den`` elementwise with ``0 / 0 = 0``."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    # A nonzero numerator over a zero denominator is an infinite violation.
    out[(den <= 0) & (num != 0)] = np.inf
    return out


def _stationarity_residual(grad, coef, col_norms, y_norms, alpha=0.0):
    """Relative stationarity violations, one per feature and target.

    Measures ``|x_jᵀ r_k - α_k b_jk| / (‖x_j‖ ‖y_k‖)`` on the centred weighted
    design ``x_j`` and targets ``y_k`` with residual ``r_k = y_k - X b_k``:
    the gradient of ``½‖r_k‖² + ½α_k‖b_k‖²`` in coordinate ``j``, relative to
    its Cauchy-Schwarz bound at ``b = 0``. It is scale free (invariant to
    rescaling a column or a target), at most 1 at ``b = 0``, 0 exactly at the
    optimum, and of the order of the rounding error (not of ``1/√n``) when the
    fit is perfect.

    Parameters
    ----------
    grad : ndarray of shape (n_features, n_targets)
        ``Xtᵀ R``.
    coef : ndarray of shape (n_features, n_targets)
    col_norms : ndarray of shape (n_features,)
    y_norms : ndarray of shape (n_targets,)
        ``‖Yt[:, k]‖``.
    alpha : float or ndarray of shape (n_targets,), default=0.0

    Returns
    -------
    ndarray of shape (n_features, n_targets)
        Per-coordinate violations (take the max for the certificate).
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), y_norms.shape)
    return _safe_ratio(np.abs(grad - alpha * coef), np.outer(col_norms, y_norms))


def _cholesky_rcond(matrix):
    """Cholesky factor and reciprocal condition number (1-norm) of an SPD matrix.

    Returns ``(None, 0.0)`` when the factorisation breaks down.
    """
    if matrix.shape[0] == 0:
        return None, 1.0
    try:
        factor = linalg.cho_factor(matrix, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return None, 0.0
    anorm = np.abs(matrix).sum(axis=0).max()
    rcond, info = linalg.lapack.dpocon(factor[0], anorm, uplo="U")
    if info != 0 or not np.isfinite(rcond):
        return None, 0.0
    return factor, float(rcond)


def _solve_ridge_family(problem, alpha):
    """Exact minimiser of ``‖Yt - Xt B‖² + α ‖B‖²`` for all targets at once.

    Three paths, chosen from the conditioning of the column-scaled system
    ``S⁻¹ (G + αI) S⁻¹`` with ``S = diag(‖Xt[:, j]‖)``:

    1. ``"cholesky"``: one Cholesky factorisation serves every target; taken
       when the reciprocal condition number is at least ``1e-4`` and the
       certificate evaluated from ``G`` and ``C`` is below ``1e-12``. The
       certificate is then computed from the normal equations
       (``C - (G + αI) B``) without another pass over the data.
    2. ``"cholesky+refinement"``: the same factor, then corrected
       semi-normal-equation refinement, ``B += (G + αI)⁻¹ (Xtᵀ R - αB)`` with
       ``R`` computed on the data, which converges to the backward-stable
       solution while ``cond · eps < 1``; the certificate is measured on the
       data.
    3. ``"lstsq"``: an SVD least-squares solve (LAPACK ``gelsd``) of the
       augmented system ``[Xt; √α I] B = [Yt; 0]`` on the data, which returns the
       minimum-norm solution when ``Xt`` is rank deficient (singular values
       below ``max(n, d) · eps · σ_max`` are treated as zero).

    Parameters
    ----------
    problem : _Problem
    alpha : float

    Returns
    -------
    coef : ndarray of shape (n_features, n_targets)
    certificate : ndarray of shape (n_targets,)
    solver : str
    """
    d, m = problem.n_features, problem.n_targets
    act = problem.active
    coef = np.zeros((d, m))
    if not act.any():
        return coef, np.zeros(m), "cholesky"
    scale = problem.col_norms[act]
    gram_s = problem.gram[np.ix_(act, act)] / np.outer(scale, scale)
    if alpha > 0:
        gram_s[np.diag_indices_from(gram_s)] += alpha / scale**2
    xty = problem.xty[act]
    factor, rcond = _cholesky_rcond(gram_s)

    def solve(rhs):
        return linalg.cho_solve(factor, rhs / scale[:, None], check_finite=False) / (
            scale[:, None]
        )

    col_norms, y_norms = problem.col_norms[act], problem.y_norms
    if factor is not None and rcond >= 1e-10:
        coef_a = solve(xty)
        # Certificate from the normal equations, without a pass over the data.
        grad = xty - problem.gram[np.ix_(act, act)] @ coef_a
        cert = _stationarity_residual(grad, coef_a, col_norms, y_norms, alpha)
        cert = cert.max(axis=0, initial=0.0)
        if rcond >= 1e-4 and cert.max(initial=0.0) <= 1e-12:
            coef[act] = coef_a
            return coef, cert, "cholesky"
        best, best_cert = None, np.inf
        for _ in range(5):
            coef[act] = coef_a
            grad = problem.residual_pass(coef)[act]
            cert = _stationarity_residual(grad, coef_a, col_norms, y_norms, alpha)
            cert = cert.max(axis=0, initial=0.0)
            if cert.max(initial=0.0) < best_cert:
                best, best_cert = (coef.copy(), cert), cert.max(initial=0.0)
            else:
                break
            if best_cert <= 1e-15:
                break
            coef_a = coef_a + solve(grad - alpha * coef_a)
        if best_cert <= 1e-10:
            return best[0], best[1], "cholesky+refinement"
    # Fallback: SVD least squares on the data (minimum norm when singular).
    Xt, Yt = problem.centred_design()
    Xt = Xt[:, act]
    n = Xt.shape[0]
    if alpha > 0:
        Xt = np.vstack([Xt, np.sqrt(alpha) * np.eye(Xt.shape[1])])
        Yt = np.vstack([Yt, np.zeros((Xt.shape[1], m))])
    cond = max(Xt.shape) * _EPS
    if n == 0 or not np.any(Xt):
        coef_a = np.zeros((act.sum(), m))
    else:
        coef_a = linalg.lstsq(
            Xt, Yt, cond=cond, lapack_driver="gelsd", check_finite=False
        )[0]
    coef[act] = coef_a
    grad = problem.residual_pass(coef)[act]
    cert = _stationarity_residual(grad, coef_a, col_norms, y_norms, alpha)
    return coef, cert.max(axis=0, initial=0.0), "lstsq"


class _BaseHead(RegressorMixin, BaseEstimator):
    """Validation, prediction and tags shared by the exact linear heads."""

    #: The head's function set is convex: its exact least-squares fit is a
    #: projection, so Theorem 1 of Charikar et al. (2024) applies.
    _skwtsg_convex = True

    def _validate_fit(self, X, y, sample_weight):
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            y_numeric=True,
            multi_output=True,
        )
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        return X, Y, sample_weight

    def _set_linear(self, problem, coef):
        """Store ``coef_`` and ``intercept_`` in LinearRegression's shapes."""
        intercept = problem.y_offset - problem.X_offset @ coef
        if self._y_ndim == 1:
            self.coef_ = coef[:, 0].copy()
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = np.ascontiguousarray(coef.T)
            self.intercept_ = intercept
        del self._y_ndim

    def _reduce(self, values):
        """Scalar for 1-D ``y``, array of shape (n_targets,) for 2-D ``y``."""
        values = np.asarray(values, dtype=np.float64)
        return float(values[0]) if self.coef_.ndim == 1 else values

    def predict(self, X):
        """Predict with the fitted linear head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            ``X @ coef_.T + intercept_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = False
        return tags
