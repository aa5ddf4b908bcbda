"""Theorem 2 made visible: what separates the gain from the misfit.

On the strong head's training rows, with ``w`` the weak labels, ``f`` the
strong head's fit, ``y*`` the truth and every norm the (weighted) mean of
squares, expanding ``w - y* = (w - f) + (f - y*)`` gives, for any ``f``::

    gain - misfit = ‖w - y*‖² - ‖f - y*‖² - ‖w - f‖² = 2 ⟨w - f, f - y*⟩.

Splitting ``f - y* = (f - p) + (p - y*)`` at ``p``, the strong head fitted
on the *true* labels (the ceiling, the projection of ``y*`` onto the strong
model's set ``F_s``; ``ε = ‖p - y*‖²`` is Theorem 2's distance from the
truth to ``F_s``)::

    gain - misfit = 2 ⟨w - f, f - p⟩  +  2 ⟨w - f, p - y*⟩
                  =  projection term  +  ε term.

When ``f`` is the exact projection of ``w`` onto a convex ``F_s`` the
projection term is ``>= 0`` (the variational inequality of the projection,
with ``p`` in ``F_s``: Theorem 1's argument), and it is 0 when ``F_s`` is a
linear subspace. The ε term is at most ``2 sqrt(misfit * ε)`` in absolute
value (Cauchy-Schwarz), so it vanishes with ε. For least squares, with
``P`` the projection onto the span of the strong features (and the
constant), ``f = P w`` and ``p = P y*``, so the whole difference is the ε
term, ``-2 ⟨(I - P) w, (I - P) y*⟩`` (:func:`least_squares_gap`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._utils._validation import (
    as_real_float,
    check_bool,
    check_finite_result,
    check_multioutput,
    check_real_arrays,
)
from ._losses import _mse

__all__ = ["gain_misfit_decomposition", "least_squares_gap"]


def _combine(values, multioutput):
    """Per-task values combined like :func:`sklearn.metrics.mean_squared_error`."""
    multioutput = check_multioutput(multioutput, values.shape[0])
    if isinstance(multioutput, str):
        return values if multioutput == "raw_values" else float(np.mean(values))
    return float(np.average(values, weights=multioutput))


def gain_misfit_decomposition(
    y_true: ArrayLike,
    y_weak: ArrayLike,
    y_strong: ArrayLike,
    y_ceiling: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    multioutput: str | ArrayLike = "uniform_average",
) -> dict:
    """Split gain − misfit into the projection term and Theorem 2's ε term.

    Measured on the strong head's training rows (where ``y_weak`` are the
    labels it was fitted on), the identity::

        gain − misfit = 2⟨w − f, f − p⟩ + 2⟨w − f, p − y*⟩

    holds for any predictions (``w`` weak labels, ``f`` the strong head's
    fit, ``p`` the ceiling's fit, ``y*`` the truth; ⟨a, b⟩ the weighted mean
    of ``a * b``). The first, *projection* term is ``>= 0`` when ``f`` is the
    exact least-squares projection of ``w`` onto a convex set containing
    ``p`` (the variational inequality behind Theorem 1) and 0 for a linear
    subspace; the second, *ε* term is what a non-realizable strong model
    (``ε = ‖p − y*‖² > 0``) adds, bounded by ``2 sqrt(misfit · ε)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels ``y*``.
    y_weak : array-like of the same shape
        Weak labels ``w`` (the weak model's predictions), which the strong
        head was fitted on.
    y_strong : array-like of the same shape
        The strong head's predictions ``f`` on the same rows.
    y_ceiling : array-like of the same shape
        Predictions ``p`` of the strong head fitted on the true labels of
        the same rows (the projection of ``y*`` onto the strong model's set).
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of every mean (those the heads were fitted with).
    multioutput : {"raw_values", "uniform_average"} or array-like, \
            default="uniform_average"
        How to combine tasks, as in :func:`sklearn.metrics.mean_squared_error`.

    Returns
    -------
    decomposition : dict
        Each a float, or an ndarray of shape (n_tasks,) with
        ``multioutput="raw_values"`` (as :func:`sklearn.metrics.mean_squared_error`):

        - ``gap``: gain − misfit, from the mean squared errors;
        - ``projection_term``: ``2⟨w − f, f − p⟩``;
        - ``epsilon_term``: ``2⟨w − f, p − y*⟩`` (``gap`` is the sum of the
          two terms, up to rounding);
        - ``epsilon``: ``‖p − y*‖²``, Theorem 2's ε on these rows;
        - ``epsilon_bound``: ``2 sqrt(misfit · ε) >= |epsilon_term|``.

    See Also
    --------
    least_squares_gap : The ε term of the exact least-squares head, from the
        strong features.
    skwtsg.heads.pythagorean_gap : ``2⟨f − y*, w − f⟩`` for one target.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import LeastSquaresHead
    >>> from skwtsg.metrics import gain_misfit_decomposition
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(200, 3))
    >>> y_star = Z @ [1.0, -1.0, 0.5] + np.sin(3 * Z[:, 0])  # not in the span
    >>> w = y_star + rng.normal(size=200) + Z[:, 1] ** 2
    >>> f = LeastSquaresHead().fit(Z, w).predict(Z)
    >>> p = LeastSquaresHead().fit(Z, y_star).predict(Z)
    >>> d = gain_misfit_decomposition(y_star, w, f, p)
    >>> bool(abs(d["projection_term"]) < 1e-10)  # a subspace: no projection term
    True
    >>> bool(np.isclose(d["gap"], d["epsilon_term"]))
    True
    >>> bool(abs(d["epsilon_term"]) <= d["epsilon_bound"])
    True
    """
    arrays, weights = check_real_arrays(
        {
            "y_true": y_true,
            "y_weak": y_weak,
            "y_strong": y_strong,
            "y_ceiling": y_ceiling,
        },
        sample_weight=sample_weight,
    )
    y, w, f, p = (a.reshape(a.shape[0], -1) for a in arrays)
    s = np.ones(y.shape[0]) if weights is None else weights

    def mean(a):
        return np.average(a, axis=0, weights=s)

    raw = {
        "gap": _mse(y, w, sample_weight, "raw_values", ("y_true", "y_weak"))
        - _mse(y, f, sample_weight, "raw_values", ("y_true", "y_strong"))
        - _mse(w, f, sample_weight, "raw_values", ("y_weak", "y_strong")),
        "projection_term": 2.0 * mean((w - f) * (f - p)),
        "epsilon_term": 2.0 * mean((w - f) * (p - y)),
        "epsilon": mean((p - y) ** 2),
    }
    raw["epsilon_bound"] = 2.0 * np.sqrt(mean((w - f) ** 2) * raw["epsilon"])
    for name, value in raw.items():
        check_finite_result(value, f"The {name}")
    return {k: _combine(np.atleast_1d(v), multioutput) for k, v in raw.items()}


def least_squares_gap(
    X: ArrayLike,
    y_true: ArrayLike,
    y_weak: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    fit_intercept: bool = True,
    multioutput: str | ArrayLike = "uniform_average",
) -> float | np.ndarray:
    """Gain − misfit of the exact least-squares head, ``−2⟨(I−P)w, (I−P)y*⟩``.

    For the strong head that is the (weighted) least-squares fit on the
    strong features ``X`` (with an intercept when ``fit_intercept``), its
    fitted values on its training rows are ``P w``, with ``P`` the
    orthogonal projection (in the weighted inner product) onto the span of
    the columns of ``X`` and the constant. Then, on those rows, gain − misfit
    is exactly ``−2⟨(I − P) w, (I − P) y*⟩``: minus twice the (weighted)
    mean product of the residuals of the weak labels and of the truth after
    projection. It is 0 when ``y*`` is in the span (Theorem 1 with equality)
    and otherwise Theorem 2's ε term, at most ``2 sqrt(misfit · ε)`` with
    ``ε = ‖(I − P) y*‖²``.

    The projection is computed from an SVD of the weighted, centred design
    whose columns are scaled by their uncentred norms; singular values
    below ``max(n, d) * eps`` (rounding noise, as in numpy's ``lstsq``) are
    dropped, so a rank-deficient design gives the projection onto its
    numerical span. One re-orthogonalisation of the residuals keeps
    ill-conditioned features accurate.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Strong features ``h_s(x)`` of the strong head's training rows.
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels ``y*`` of those rows.
    y_weak : array-like of the same shape
        Weak labels ``w`` the head is fitted on.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of the fit and of the means.
    fit_intercept : bool, default=True
        Whether the head fits an intercept (the constant is in the span).
    multioutput : {"raw_values", "uniform_average"} or array-like, \
            default="uniform_average"
        How to combine tasks.

    Returns
    -------
    gap : float or ndarray of shape (n_tasks,)

    See Also
    --------
    gain_misfit_decomposition : The decomposition for any head, from
        predictions.
    skwtsg.heads.LeastSquaresHead : The head whose gap this is.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import LeastSquaresHead
    >>> from skwtsg.metrics import gain, least_squares_gap, misfit
    >>> rng = np.random.default_rng(0)
    >>> Z = rng.normal(size=(200, 3))
    >>> y_star = Z @ [1.0, -1.0, 0.5] + np.sin(3 * Z[:, 0])
    >>> w = y_star + rng.normal(size=200) + Z[:, 1] ** 2
    >>> f = LeastSquaresHead().fit(Z, w).predict(Z)
    >>> bool(np.isclose(least_squares_gap(Z, y_star, w),
    ...                 gain(y_star, w, f) - misfit(w, f)))
    True
    """
    check_bool(fit_intercept, "fit_intercept")
    X = as_real_float(X, "X", (2,))
    (y, w), weights = check_real_arrays(
        {"y_true": y_true, "y_weak": y_weak}, sample_weight=sample_weight
    )
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: `X` has "
            f"{n} rows and `y_true` {y.shape[0]}."
        )
    s = np.ones(n) if weights is None else weights
    root = np.sqrt(s)[:, None]
    V = np.hstack([w.reshape(n, -1), y.reshape(n, -1)])
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=s)
        v_mean = np.average(V, axis=0, weights=s)
        B, U = root * (X - x_mean), root * (V - v_mean)
    else:
        B, U = root * X, root * V
    # Scale each column by its uncentred norm: rounding noise (of the data,
    # and of the centring of a column with a large mean) is then ~eps in
    # every column, and directions below max(n, d) * eps are noise.
    norms = np.linalg.norm(root * X, axis=0)
    keep = norms > 0
    B = B[:, keep] / norms[keep]
    if B.shape[1]:
        Q, sv, _ = np.linalg.svd(B, full_matrices=False)
        cutoff = max(B.shape) * np.finfo(float).eps * max(1.0, sv[0])
        Q = Q[:, : int(np.sum(sv > cutoff))]
        R = U - Q @ (Q.T @ U)
        R -= Q @ (Q.T @ R)  # re-orthogonalise: accuracy on ill-conditioned X
    else:
        R = U
    k = R.shape[1] // 2
    with np.errstate(over="ignore", invalid="ignore"):
        values = -2.0 * np.sum(R[:, :k] * R[:, k:], axis=0) / s.sum()
    check_finite_result(values, "The least-squares gap")
    return _combine(values, multioutput)
