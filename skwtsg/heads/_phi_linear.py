"""``phi∘linear`` least squares in numpy and scipy, for the gradient heads.

The activations ``phi`` (tanh, relu, sigmoid, identity), their derivatives
and inverse links, the weighted least-squares start and
:class:`~skwtsg.heads.NonConvexHead`'s per-task Levenberg-Marquardt fit
(``optimizer="lm"``). No torch.
"""

from __future__ import annotations

import numpy as np


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


def _inverse_link(name, y):
    """Targets on the linear scale used to initialise by least squares."""
    if name == "tanh":
        return np.arctanh(np.clip(y, -0.95, 0.95))
    if name == "sigmoid":
        p = np.clip(y, 0.025, 0.975)
        return np.log(p / (1.0 - p))
    return y  # identity, relu (the linear fit of y is a good start)


def _design(Z, fit_intercept):
    """``[Z, 1]`` when fitting an intercept, else ``Z``."""
    return np.hstack([Z, np.ones((Z.shape[0], 1))]) if fit_intercept else Z


def _weighted_lstsq(Z, Y, w, fit_intercept=True):
    """Least squares of ``Y`` on ``[Z, 1]`` (or ``Z``) with row weights ``w``.

    Returns the weights and the intercepts (zeros without an intercept).
    """
    sw = np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(_design(Z, fit_intercept) * sw, Y * sw, rcond=None)
    if fit_intercept:
        return coef[:-1], coef[-1]
    return coef, np.zeros(Y.shape[1])


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

    For each column ``t`` of ``Y`` on its own: ``sum_i w_i (phi(Z_i @ W_t +
    b_t) - Y_it)^2 + weight_decay / 2 * ||W_t||^2`` by
    :func:`scipy.optimize.least_squares` (``"lm"``; ``"trf"`` with fewer
    residuals than parameters), exact Jacobian, ``ftol = xtol = gtol = tol``,
    from ``(W0[:, t], b0[t])``. Returns ``(W, b, (first, last) losses, nfev,
    converged)``.
    """
    from scipy.optimize import least_squares

    n_samples, n_features = Z.shape
    n_tasks = Y.shape[1]
    A = _design(Z, fit_intercept)
    sw = np.sqrt(w)
    decay = np.sqrt(0.5 * weight_decay)
    n_params = A.shape[1]
    n_residuals = n_samples + (n_features if weight_decay > 0 else 0)
    method = "lm" if n_residuals >= n_params else "trf"

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
                r = np.concatenate([r, decay * p[:n_features]])
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
        W[:, t] = result.x[:n_features]
        if fit_intercept:
            b[t] = result.x[-1]
        end[t] = 2.0 * float(result.cost)
        nfev[t] = int(result.nfev)
        converged[t] = result.status > 0
    return W, b, (start, end), nfev, converged
