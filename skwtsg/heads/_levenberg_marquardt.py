"""``phi∘linear`` least squares by Levenberg-Marquardt, and ``phi`` in numpy.

The default optimiser of :class:`~skwtsg.heads.NonConvexHead`: each task
(column of ``y``) is its own problem, solved by
:func:`scipy.optimize.least_squares` with the exact Jacobian, in float64 and
without torch.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _phi_numpy(name, z):
    if name == "identity":
        return z
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    # sigmoid, computed stably
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _phi_derivative(name, lin, out):
    """``phi'(lin)`` from ``lin`` and ``out = phi(lin)`` (relu: 0 at 0, as torch)."""
    if name == "tanh":
        return 1.0 - out * out
    if name == "sigmoid":
        return out * (1.0 - out)
    if name == "relu":
        return (lin > 0).astype(np.float64)
    return np.ones_like(lin)


def _fit_levenberg_marquardt(
    Z, Y, w, W0, b0, *, phi, fit_intercept, weight_decay, max_nfev, tol
):
    """Each task's ``phi∘linear`` least squares by Levenberg-Marquardt.

    Minimises, for every column ``t`` of ``Y`` separately,
    ``sum_i w_i (phi(Z_i @ W_t + b_t) - Y_it)^2 + weight_decay / 2 *
    ||W_t||^2`` (``w`` normalised row weights) with
    :func:`scipy.optimize.least_squares` (MINPACK's ``"lm"``; ``"trf"`` when
    a task has fewer residuals than parameters), the exact Jacobian and
    ``ftol = xtol = gtol = tol``, started at ``(W0[:, t], b0[t])``. The tasks
    are independent problems: a task's fit does not depend on the others.

    Returns
    -------
    W : ndarray of shape (n_features, n_tasks)
    b : ndarray of shape (n_tasks,)
    losses : tuple of ndarray of shape (n_tasks,)
        Each task's objective at the start and at the end.
    nfev : ndarray of int of shape (n_tasks,)
        Evaluations of the residuals per task.
    converged : ndarray of bool of shape (n_tasks,)
        False where ``max_nfev`` stopped the task.
    """
    from scipy.optimize import least_squares

    n_samples, n_features = Z.shape
    n_tasks = Y.shape[1]
    A = np.hstack([Z, np.ones((n_samples, 1))]) if fit_intercept else Z
    sw = np.sqrt(w)
    decay = np.sqrt(0.5 * weight_decay)
    n_params = A.shape[1]
    n_residuals = n_samples + (n_features if weight_decay > 0 else 0)
    method = "lm" if n_residuals >= n_params else "trf"

    def split(p):
        return p[:n_features]

    W = np.empty((n_features, n_tasks))
    b = np.zeros(n_tasks)
    start, end = np.empty(n_tasks), np.empty(n_tasks)
    nfev = np.zeros(n_tasks, dtype=int)
    converged = np.ones(n_tasks, dtype=bool)
    for t in range(n_tasks):
        y = Y[:, t]

        def residuals(p, y=y):
            r = sw * (_phi_numpy(phi, A @ p) - y)
            if weight_decay > 0:
                r = np.concatenate([r, decay * split(p)])
            return r

        def jacobian(p):
            lin = A @ p
            J = (sw * _phi_derivative(phi, lin, _phi_numpy(phi, lin)))[:, None] * A
            if weight_decay > 0:
                J = np.vstack([J, decay * np.eye(n_features, n_params)])
            return J

        p0 = np.append(W0[:, t], b0[t]) if fit_intercept else W0[:, t].copy()
        r0 = residuals(p0)
        start[t] = float(r0 @ r0)
        result = least_squares(
            residuals,
            p0,
            jac=jacobian,
            method=method,
            ftol=tol,
            xtol=tol,
            gtol=tol,
            max_nfev=max_nfev,
        )
        W[:, t] = split(result.x)
        if fit_intercept:
            b[t] = result.x[-1]
        end[t] = 2.0 * float(result.cost)
        nfev[t] = int(result.nfev)
        converged[t] = result.status > 0
    return W, b, (start, end), nfev, converged
