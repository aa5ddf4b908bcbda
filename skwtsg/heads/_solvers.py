"""Solvers of the exact linear heads: Cholesky, QR and the dual (kernel) form.

Each takes a prepared problem (``_Problem`` or the statistics-only problem)
and returns ``(coef, certificate per target, path taken)``; the thresholds
are in :mod:`skwtsg.heads._constants`.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
from scipy import linalg

from .._utils._blas import single_threaded_blas
from ._constants import (
    CHOLESKY_MAX_CERTIFICATE,
    CHOLESKY_MIN_RCOND,
    REDUCTION_MIN_RCOND,
    REDUCTION_NOISE_FACTOR,
    REFINE_MAX_ITER,
    REFINE_TARGET,
    SINGLE_THREAD_FACTOR,
)


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
    """``|x_jᵀ r_k - α_k b_jk| / (‖x_j‖ ‖y_k‖)`` per feature and target.

    The gradient of ``½‖r_k‖² + ½α_k‖b_k‖²`` relative to its Cauchy-Schwarz
    bound at ``b = 0``: scale free, at most 1 at ``b = 0``, 0 at the optimum,
    of the order of rounding (not ``1/√n``) for a perfect fit.
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), y_norms.shape)
    return _safe_ratio(np.abs(grad - alpha * coef), np.outer(col_norms, y_norms))


def _small_dense(order):
    """One BLAS thread for dense linear algebra of order at most
    :data:`~skwtsg.heads._constants.SINGLE_THREAD_FACTOR` (threaded LAPACK
    synchronises on many small calls)."""
    return single_threaded_blas() if order <= SINGLE_THREAD_FACTOR else nullcontext()


def _certificate(problem, grad, coef_a, alpha):
    """Per-target certificate from ``grad = Xt_aᵀ R`` on the active columns."""
    return _stationarity_residual(
        grad, coef_a, problem.col_norms[problem.active], problem.y_norms, alpha
    ).max(axis=0, initial=0.0)


def _cholesky_rcond(matrix):
    """Cholesky factor and 1-norm reciprocal condition number of an SPD matrix
    (``(None, 0.0)`` on breakdown)."""
    if matrix.shape[0] == 0:
        return None, 1.0
    with _small_dense(matrix.shape[0]):
        try:
            factor = linalg.cho_factor(matrix, lower=False, check_finite=False)
        except linalg.LinAlgError:
            return None, 0.0
        anorm = np.abs(matrix).sum(axis=0).max()
        rcond, info = linalg.lapack.dpocon(factor[0], anorm, uplo="U")
    if info != 0 or not np.isfinite(rcond):
        return None, 0.0
    return factor, float(rcond)


def _triangular_reduction(problem, min_rcond=REDUCTION_MIN_RCOND):
    """``(R, QᵀYt)`` with ``‖Yt - Xt B‖² = ‖QᵀYt - R B‖² + const`` (active columns).

    From the Cholesky factor of the scaled Gram matrix when it is well
    conditioned against ``min_rcond`` and the centring noise, else from a
    QR factorisation of the data.
    """
    act = problem.active
    scale = problem.col_norms[act]
    gram_s = problem.gram[np.ix_(act, act)] / np.outer(scale, scale)
    factor, rcond = _cholesky_rcond(gram_s)
    noise = problem.noise_floor * np.sqrt(np.sum(1.0 / scale**2))
    if factor is not None and rcond >= max(
        min_rcond, REDUCTION_NOISE_FACTOR * noise**2
    ):
        upper = np.triu(factor[0])
        with _small_dense(upper.shape[0]):
            qty = linalg.solve_triangular(
                upper, problem.xty[act] / scale[:, None], trans="T", check_finite=False
            )
        return upper * scale, qty
    return problem.qr_reduce()


def _solve_ridge_family(problem, alpha):
    """Exact minimiser of ``‖Yt - Xt B‖² + α ‖B‖²`` for all targets at once.

    ``"cholesky"``: one factorisation of the column-scaled ``G + αI`` serves
    every target, accepted when well conditioned and certified from the
    normal equations (no pass over the data). Otherwise ``"qr"``
    (:func:`_solve_ridge_qr`).
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
    with _small_dense(scale.size):  # one BLAS thread limit for all three steps
        factor, rcond = _cholesky_rcond(gram_s)
        if factor is not None and rcond >= CHOLESKY_MIN_RCOND:
            coef_a = (
                linalg.cho_solve(factor, xty / scale[:, None], check_finite=False)
                / scale[:, None]
            )
            # Certificate from the normal equations, without a pass over the data.
            grad = xty - problem.gram[np.ix_(act, act)] @ coef_a
            cert = _certificate(problem, grad, coef_a, alpha)
            if cert.max(initial=0.0) <= CHOLESKY_MAX_CERTIFICATE:
                coef[act] = coef_a
                return coef, cert, "cholesky"
    return _solve_ridge_qr(problem, alpha)


def _solve_ridge_qr(problem, alpha):
    """The ``"qr"`` path: QR of the data, SVD of ``R`` (minimum norm below the
    rounding noise of the centred design, which must not be fitted), then
    iterative refinement on the data."""
    d, m = problem.n_features, problem.n_targets
    act = problem.active
    coef = np.zeros((d, m))
    # QR of the data, then SVD of R (minimum norm when singular).
    R, qty = problem.qr_reduce()
    with _small_dense(max(R.shape)):
        U, sv, Vt = linalg.svd(R, full_matrices=True, check_finite=False)
    k = sv.size
    inv = np.zeros(Vt.shape[0])  # diagonal of (R^T R + alpha I)^+ in V coords
    if alpha > 0:
        inv[:] = 1.0 / alpha
        inv[:k] = 1.0 / (sv**2 + alpha)
        coords = sv[:, None] * (U[:, :k].T @ qty) * inv[:k, None]
    else:
        rank = problem.numerical_rank(sv)
        inv[:rank] = 1.0 / sv[:rank] ** 2
        coords = np.zeros((k, m))
        coords[:rank] = (U[:, :rank].T @ qty) / sv[:rank, None]
    coef_a = Vt[:k].T @ coords

    def solve_svd(rhs):
        return Vt.T @ (inv[:, None] * (Vt @ rhs))

    coef_a, cert = _refine(problem, coef_a, solve_svd, alpha)
    coef[act] = coef_a
    return coef, cert, "qr"


def _solve_ridge_dual(problem, alpha):
    """The minimiser in the dual (kernel) form: ``B = Xtᵀ A`` with ``(Xt Xtᵀ +
    αI) A = Yt``.

    An ``n × n`` factorisation instead of ``d × d``: cheaper with fewer rows
    than columns. Falls back to ``"qr"`` when the scaled kernel system is
    badly conditioned or the certificate is not met (always for ``α = 0``
    with an intercept). ``problem`` need not hold a Gram matrix.
    """
    d, m = problem.n_features, problem.n_targets
    act = problem.active
    coef = np.zeros((d, m))
    if not act.any():
        return coef, np.zeros(m), "dual"
    kernel = problem.kernel()
    diag = np.diag(kernel) + alpha
    scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    kernel_s = kernel / np.outer(scale, scale)
    if alpha > 0:
        kernel_s[np.diag_indices_from(kernel_s)] += alpha / scale**2
    factor, rcond = _cholesky_rcond(kernel_s)
    if factor is not None and rcond >= CHOLESKY_MIN_RCOND:
        targets = problem.centred_targets()
        with _small_dense(scale.size):
            dual = (
                linalg.cho_solve(factor, targets / scale[:, None], check_finite=False)
                / scale[:, None]
            )
        coef_a, fitted = problem.active_design_products(dual)
        grad = problem.active_gradient(targets - fitted)
        cert = _certificate(problem, grad, coef_a, alpha)
        if cert.max(initial=0.0) <= CHOLESKY_MAX_CERTIFICATE:
            coef[act] = coef_a
            return coef, cert, "dual"
    return _solve_ridge_qr(problem, alpha)


def _refine(problem, coef_a, solve, alpha, max_iter=REFINE_MAX_ITER):
    """Iterative refinement ``B += solve(Xtᵀ (Yt - Xt B) - αB)`` with residuals
    on the data, keeping per target the iterate with the smallest certificate;
    returns ``(coef_a, cert)``."""
    act = problem.active
    norms = problem.col_norms[act], problem.y_norms
    full = np.zeros((problem.n_features, coef_a.shape[1]))
    best = coef_a.copy()
    best_cert = np.full(coef_a.shape[1], np.inf)
    for _ in range(max_iter):
        full[act] = coef_a
        grad = problem.residual_pass(full)[act] - alpha * coef_a
        cert = _stationarity_residual(grad, 0.0 * coef_a, *norms).max(
            axis=0, initial=0.0
        )
        better = cert < best_cert
        best[:, better] = coef_a[:, better]
        best_cert[better] = cert[better]
        if not better.any() or best_cert.max(initial=0.0) <= REFINE_TARGET:
            break
        coef_a = coef_a + solve(grad)
    return best, best_cert


def _solve_ridge(problem, alpha, solver):
    """The minimiser by the path a head asks for: ``"qr"``, else the form the
    problem was prepared for (dual without a Gram matrix), either falling back
    to ``"qr"``; returns ``(coef, certificate, path)``."""
    if solver == "qr":
        return _solve_ridge_qr(problem, alpha)
    if problem.gram is None:
        return _solve_ridge_dual(problem, alpha)
    return _solve_ridge_family(problem, alpha)
