"""Solvers of the exact linear heads: Cholesky, QR and the dual (kernel) form.

Each solver takes a prepared problem (:class:`skwtsg.heads._problem._Problem`,
or the statistics-only problem of :mod:`skwtsg.heads._stats`) and returns the
coefficients of all targets at once, a per-target optimality certificate and
the name of the path taken (``solver_``). :func:`_solve_ridge` dispatches on a
head's ``solver`` parameter. The thresholds are named in
:mod:`skwtsg.heads._constants`.
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


def _small_dense(order):
    """One BLAS thread for dense linear algebra of order at most
    :data:`~skwtsg.heads._constants.SINGLE_THREAD_FACTOR`.

    LAPACK's threaded Cholesky, triangular solves and SVD synchronise on many
    small calls, and on a few cores one thread is faster there
    (``benchmarks/bench_head_constants.py`` measures it).
    """
    return single_threaded_blas() if order <= SINGLE_THREAD_FACTOR else nullcontext()


def _certificate(problem, grad, coef_a, alpha):
    """Per-target certificate from ``grad = Xt_aᵀ R`` on the active columns."""
    return _stationarity_residual(
        grad, coef_a, problem.col_norms[problem.active], problem.y_norms, alpha
    ).max(axis=0, initial=0.0)


def _cholesky_rcond(matrix):
    """Cholesky factor and reciprocal condition number (1-norm) of an SPD matrix.

    Returns ``(None, 0.0)`` when the factorisation breaks down.
    """
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

    From the Cholesky factor of the column-scaled Gram matrix when its
    reciprocal condition number is at least ``min_rcond`` and
    ``REDUCTION_NOISE_FACTOR`` times the squared relative noise of centring
    (no further pass over the data), otherwise from a QR factorisation of the data
    (:meth:`_Problem.qr_reduce`).
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

    Two paths, chosen from the conditioning of the column-scaled system
    ``S⁻¹ (G + αI) S⁻¹`` with ``S = diag(‖Xt[:, j]‖)``:

    1. ``"cholesky"``: one Cholesky factorisation serves every target; taken
       when the reciprocal condition number (1-norm estimate) is at least
       ``CHOLESKY_MIN_RCOND = 1e-4`` and the certificate evaluated from ``G``
       and ``C`` is at most ``CHOLESKY_MAX_CERTIFICATE = 1e-12``. The
       certificate is then computed from the normal equations
       (``C - (G + αI) B``) without another pass over the data.
    2. ``"qr"``: a QR factorisation of the data ``[Xt | Yt] = Q [R | QᵀYt]``
       (blockwise, backward stable), then for ``α = 0`` the SVD of ``R`` and
       the minimum-norm solution, treating as zero the singular values below
       ``max(n, d) · eps · σ_max`` or below the rounding noise of the centred
       design, ``max(n, d) · eps · ‖W^{1/2} X‖_F`` (centring a column with a
       large mean leaves noise of that size, which must not be fitted); for
       ``α > 0``, the solution of ``(RᵀR + αI) B = Rᵀ QᵀYt`` through the SVD.
       Then up to ``REFINE_MAX_ITER = 5`` steps of iterative refinement with
       residuals computed on the data, ``B += (RᵀR + αI)⁺ (Xtᵀ (Yt - Xt B) -
       αB)``, keeping per target the iterate with the smallest certificate
       (measured on the data).

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
    """The ``"qr"`` path of :func:`_solve_ridge_family` (see there), on the data.

    Returns
    -------
    coef : ndarray of shape (n_features, n_targets)
    certificate : ndarray of shape (n_targets,)
    solver : str
        ``"qr"``.
    """
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
    """The minimiser of :func:`_solve_ridge_family` in the dual (kernel) form.

    ``B = Xtᵀ A`` with ``(Xt Xtᵀ + αI) A = Yt``: the same solution (the
    push-through identity ``Xtᵀ (Xt Xtᵀ + αI)⁻¹ = (XtᵀXt + αI)⁻¹ Xtᵀ``),
    from an ``n × n`` factorisation instead of a ``d × d`` one, hence
    cheaper when there are fewer rows than columns: ``O(n² d + n³/3)``
    against ``O(n d² + d³/3)``. Weights and the intercept enter through the
    centred weighted design ``Xt = W^{1/2} (X - 1 x̄ᵀ)`` as in the primal
    form (a zero-weight row is a zero row of ``Xt``, so its dual variable is
    0). ``Xt Xtᵀ + αI`` is scaled by the square root of its diagonal; when
    its Cholesky factorisation exists with a reciprocal condition number of
    at least ``CHOLESKY_MIN_RCOND`` and the certificate, evaluated on the data
    (``Xtᵀ (Yt - Xt B) - αB``), is at most ``CHOLESKY_MAX_CERTIFICATE``, that
    is the solution
    (``"dual"``); otherwise the ``"qr"`` path of the primal form is taken
    (which ``α = 0`` with an intercept always needs: ``Xt Xtᵀ`` is then
    singular). ``problem`` need not hold a Gram matrix.

    Returns
    -------
    coef : ndarray of shape (n_features, n_targets)
    certificate : ndarray of shape (n_targets,)
    solver : str
        ``"dual"`` or ``"qr"``.
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
    """Iterative refinement with residuals computed on the data.

    ``B += solve(Xtᵀ (Yt - Xt B) - αB)`` where ``solve`` applies an
    approximation of ``(XtᵀXt + αI)⁻¹``; keeps, per target, the iterate with
    the smallest certificate (evaluated on the data).

    Returns
    -------
    coef_a : ndarray of shape (n_active, n_targets)
    cert : ndarray of shape (n_targets,)
    """
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
    """The minimiser of :func:`_solve_ridge_family` by the path a head asks for.

    Parameters
    ----------
    problem : _Problem or _StatisticsProblem
        A problem with at least one active column, prepared with the Gram
        matrix (the primal form) or without it (``problem.gram is None``:
        prepared for ``"dual"`` or ``"qr"``).
    alpha : float
    solver : {"auto", "cholesky", "primal", "qr", "dual"}
        ``"qr"``: :func:`_solve_ridge_qr`, on the data. Otherwise the form
        the problem was prepared for: :func:`_solve_ridge_dual` without a
        Gram matrix, :func:`_solve_ridge_family` with one; either falls back
        to ``"qr"`` when its system is too badly conditioned for an exact
        solution. A statistics-only problem always holds its Gram matrix, so
        ``"dual"`` solves the primal form there.

    Returns
    -------
    coef : ndarray of shape (n_features, n_targets)
    certificate : ndarray of shape (n_targets,)
    solver : str
        The path taken: ``"cholesky"``, ``"qr"`` or ``"dual"``.
    """
    if solver == "qr":
        return _solve_ridge_qr(problem, alpha)
    if problem.gram is None:
        return _solve_ridge_dual(problem, alpha)
    return _solve_ridge_family(problem, alpha)
