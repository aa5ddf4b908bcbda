"""Theorem 2 made visible: what separates the gain from the misfit.

On the strong head's training rows, with ``w`` the weak labels, ``f`` the
strong fit, ``p`` the ceiling (the strong head fitted on the truth ``y*``)::

    gain - misfit = 2 ⟨w - f, f - p⟩  +  2 ⟨w - f, p - y*⟩
                  =  projection term  +  ε term.

See the :ref:`user guide <theory>` for the argument.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._utils._docstrings import fill_doc
from .._utils._validation import (
    as_real_float,
    check_bool,
    check_finite_result,
    check_real_arrays,
)
from ._losses import _combine_tasks, _mse

__all__ = ["gain_misfit_decomposition", "least_squares_gap"]


@fill_doc
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

    On the strong head's training rows, for any predictions,
    ``gain − misfit = 2⟨w − f, f − p⟩ + 2⟨w − f, p − y*⟩`` (⟨a, b⟩ the
    weighted mean of ``a * b``). The projection term is ``>= 0`` for an
    exact projection onto a convex set containing ``p`` (0 for a subspace);
    the ε term is at most ``2 sqrt(misfit · ε)``. Read more in the
    :ref:`User Guide <theory>`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True labels ``y*``.
    y_weak, y_strong, y_ceiling : array-like of the same shape
        The weak labels ``w`` the strong head was fitted on, its predictions
        ``f``, and those ``p`` of the strong head fitted on ``y_true``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights of every mean (those the heads were fitted with).
    {multioutput}

    Returns
    -------
    decomposition : dict
        Floats, or arrays of shape (n_tasks,) for ``"raw_values"``: ``gap``
        (gain − misfit), ``projection_term`` (``2⟨w − f, f − p⟩``),
        ``epsilon_term`` (``2⟨w − f, p − y*⟩``), ``epsilon``
        (``‖p − y*‖²``) and ``epsilon_bound`` (``2 sqrt(misfit · ε)``).

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
    return {k: _combine_tasks(np.atleast_1d(v), multioutput) for k, v in raw.items()}


@fill_doc
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

    ``P`` is the (weighted) orthogonal projection onto the span of the
    strong features ``X`` (and the constant): the head's fitted values on
    its training rows are ``P w``. The gap is 0 when ``y*`` is in the span,
    else Theorem 2's ε term. ``P`` comes from an SVD of the scaled design,
    directions below ``max(n, d) * eps`` dropped (as numpy's ``lstsq``).

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
    {multioutput}

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
    # Scale each column by its uncentred norm: its rounding noise is then ~eps.
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
    return _combine_tasks(values, multioutput)
