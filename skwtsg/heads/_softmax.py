"""Exact multinomial logistic regression on soft or hard labels.

The weighted cross-entropy (plus ``½ α ‖W‖_F²``) is minimised in whitened
features ``F = (X - x̄) V S⁻¹`` (from the SVD of the weighted centred design,
rank-revealing), with the gauge term ``½ ‖Σ_k Θ_k‖²`` removing softmax's
shift invariance (zero on the class-centred minimum-norm representative), so
the Hessian is non-singular at the minimiser: ``scipy.optimize.minimize``
(``trust-exact`` with the dense Hessian up to :data:`_DENSE_MAX` parameters,
else ``trust-ncg``), then Newton steps. The certificate is the largest entry
of the whitened gradient, at most 1 and invariant to linear changes of the
features.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg, optimize
from scipy.sparse.linalg import LinearOperator, cg
from scipy.special import logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
)
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._blas import single_threaded_blas
from .._utils._docstrings import fill_doc
from .._utils._validation import check_class_probabilities
from ._tags import HeadTags, SkwtsgTags

__all__ = ["SoftmaxHead", "check_probabilities"]

_EPS = np.finfo(np.float64).eps

#: Largest number of parameters ``n_classes * (rank + 1)`` for the dense Hessian.
_DENSE_MAX = 1500

#: The certificate ``fit`` requires (the solver aims at ``tol``, below it).
_REQUIRED_KKT = 1e-8

#: The final Newton step may change no logit by more than this.
_STEP_TOL = 1e-7


def check_probabilities(
    P: ArrayLike, name: str = "y", atol: float = 1e-8
) -> np.ndarray:
    """Validate a matrix of class probabilities (rows non-negative, summing to 1).

    Parameters
    ----------
    P : array-like of shape (n_samples, n_classes)
        Class probabilities, one row per sample.
    name : str, default="y"
        Name of the argument, for error messages.
    atol : float, default=1e-8
        Tolerance on ``|Σ_k P_ik - 1|``.

    Returns
    -------
    P : ndarray of shape (n_samples, n_classes)
        The probabilities as float64.

    Examples
    --------
    >>> from skwtsg.heads import check_probabilities
    >>> check_probabilities([[0.25, 0.75], [1.0, 0.0]])
    array([[0.25, 0.75],
           [1.  , 0.  ]])
    """
    if (
        not isinstance(atol, Real)
        or isinstance(atol, bool)
        or not np.isfinite(atol)
        or atol < 0
    ):
        raise ValueError(f"`atol` must be a finite number >= 0, got {atol!r}.")
    return check_class_probabilities(P, name, atol=atol, ensure_non_empty=False)


# ---------------------------------------------------------------- the math
def _whitening(X, w, fit_intercept):
    """Offset, map ``M`` (features ``F = (X - offset) M``) and singular values.

    ``w`` are normalised weights (summing to 1). Singular values below
    ``max(n, d) · eps · σ_max`` or the rounding noise of centring are dropped.
    """
    n, d = X.shape
    offset = w @ X if fit_intercept else np.zeros(d)
    Xc = (X - offset) * np.sqrt(w)[:, None]
    if d == 0 or n == 0:
        return offset, np.zeros((d, 0)), np.zeros(0)
    _, s, Vt = linalg.svd(Xc, full_matrices=False, check_finite=False)
    # The weighted Frobenius norm of X, scaled first: the squares of entries
    # above ~1e154 overflow, which made every direction "noise" (rank 0).
    big = float(np.max(np.abs(X)))
    raw = big * np.linalg.norm((X / big) * np.sqrt(w)[:, None]) if big > 0 else 0.0
    cutoff = max(max(n, d) * _EPS * (s[0] if s.size else 0.0), max(n, d) * _EPS * raw)
    rank = int(np.sum(s > cutoff))
    s, V = s[:rank], Vt[:rank].T
    with np.errstate(over="ignore", under="ignore"):
        squares_ok = not rank or (
            np.isfinite(s[0] ** 2) and s[-1] ** 2 > np.finfo(float).tiny
        )
    if not squares_ok:  # the penalty and the certificate use s**2
        raise ValueError(
            "The features' scale is outside what float64 can square (singular "
            f"values from {s[-1]:.3g} to {s[0]:.3g}): rescale them (e.g. "
            "standardise X)."
        )
    return offset, V / s, s


def _design(X, offset, M, fit_intercept):
    """Whitened design ``A = [F, 1]`` (``[F]`` without an intercept)."""
    F = (X - offset) @ M
    if fit_intercept:
        F = np.hstack([F, np.ones((X.shape[0], 1))])
    return F


class _Objective:
    """Cross-entropy, penalty and gauge in whitened coordinates ``Θ (K × q)``."""

    def __init__(self, A, Y, w, pen, gauge=1.0):
        self.A, self.Y, self.w, self.pen, self.gauge = A, Y, w, pen, gauge
        self.K, self.q = Y.shape[1], A.shape[1]

    def _probs(self, theta):
        S = self.A @ theta.T
        return S, softmax(S, axis=1)

    def value_grad(self, x):
        theta = x.reshape(self.K, self.q)
        S, P = self._probs(theta)
        logp = S - logsumexp(S, axis=1, keepdims=True)
        f = -float(self.w @ np.einsum("ik,ik->i", self.Y, logp))
        f += 0.5 * float(np.sum(self.pen * theta**2))
        tot = theta.sum(axis=0)
        f += 0.5 * self.gauge * float(tot @ tot)
        g = self.loss_grad(P) + self.pen * theta + self.gauge * tot
        return f, g.ravel()

    def loss_grad(self, P):
        return ((P - self.Y) * self.w[:, None]).T @ self.A

    def hess(self, x):
        theta = x.reshape(self.K, self.q)
        _, P = self._probs(theta)
        A, w, K, q = self.A, self.w, self.K, self.q
        B = (P[:, :, None] * A[:, None, :]).reshape(A.shape[0], K * q)
        H = -(B * w[:, None]).T @ B
        for k in range(K):
            block = slice(k * q, (k + 1) * q)
            H[block, block] += (A * (w * P[:, k])[:, None]).T @ A
        H += np.kron(np.ones((K, K)), self.gauge * np.eye(q))
        H[np.diag_indices_from(H)] += np.tile(self.pen, K)
        return H

    def hessp(self, x, v):
        theta = x.reshape(self.K, self.q)
        V = v.reshape(self.K, self.q)
        _, P = self._probs(theta)
        SV = self.A @ V.T
        T = P * (SV - np.sum(P * SV, axis=1, keepdims=True))
        Hv = (T * self.w[:, None]).T @ self.A + self.pen * V + self.gauge * V.sum(0)
        return Hv.ravel()

    def newton_step(self, x, g, dense):
        if dense:
            H = self.hess(x)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", linalg.LinAlgWarning)
                    factor = linalg.cho_factor(H, check_finite=False)
                return linalg.cho_solve(factor, g, check_finite=False)
            except (linalg.LinAlgError, linalg.LinAlgWarning):
                # Near-singular Hessian (saturated probabilities): a
                # pseudo-inverse step, large along the flat directions.
                lam, Q = linalg.eigh(H, check_finite=False)
                lam = np.maximum(lam, 1e-14 * max(lam.max(), 1e-300))
                return Q @ ((Q.T @ g) / lam)
        op = LinearOperator((x.size, x.size), matvec=lambda v: self.hessp(x, v))
        step, _ = cg(op, g, rtol=1e-12, maxiter=10 * x.size)
        return step


def _minimise(A, Y, w, pen, max_iter, tol):
    """Minimise the objective; return ``(Θ, n_iter, solver)``; a ValueError
    when the logits keep growing (separable classes: no minimiser)."""
    K, q = Y.shape[1], A.shape[1]
    obj = _Objective(A, Y, w, pen)
    x0 = np.zeros(K * q)
    if q == 0:
        return x0.reshape(K, 0), 0, "none"
    dense = K * q <= _DENSE_MAX
    kwargs = {"hess": obj.hess} if dense else {"hessp": obj.hessp}
    method = "trust-exact" if dense else "trust-ncg"
    with warnings.catch_warnings():
        # trust-exact stops with a warning at the rounding floor; the
        # certificate below decides.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", optimize.OptimizeWarning)
        res = optimize.minimize(
            obj.value_grad,
            x0,
            jac=True,
            method=method,
            options={"gtol": tol, "maxiter": max_iter},
            **kwargs,
        )
    x, n_iter = res.x, int(res.nit)
    f, g = obj.value_grad(x)
    spreads = []
    for _ in range(max(20, max_iter // 5)):
        step = obj.newton_step(x, g, dense)
        # The step's effect on the logits (absolute: a separable problem's
        # Newton step moves the logits by O(1) however large they are).
        size = float(np.max(np.abs(A @ step.reshape(K, q).T)))
        if size <= _STEP_TOL and np.max(np.abs(g)) <= tol:
            # One last full Newton step takes the gradient to rounding level
            # (quadratic convergence); keep it only if it helps.
            x_new = x - step
            g_new = obj.value_grad(x_new)[1]
            if np.max(np.abs(g_new)) < np.max(np.abs(g)):
                x = x_new
            return x.reshape(K, q), n_iter, method
        t = 1.0
        while True:  # backtracking on the (convex) objective
            f_new, g_new = obj.value_grad(x - t * step)
            slack = 1e-4 * t * float(g @ -step) + 8 * _EPS * abs(f)
            if f_new <= f + slack or t < 1e-10:
                break
            t *= 0.5
        x, f, g = x - t * step, f_new, g_new
        n_iter += 1
        S = A @ x.reshape(K, q).T
        spreads.append(float(np.max(S.max(axis=1) - S.min(axis=1))))
    # The Newton steps did not become negligible. Either the logits keep
    # growing (no minimiser: separable classes), or the objective is flat to
    # rounding along some directions (saturated soft labels) and the steps
    # are rounding noise around a numerical minimiser.
    growing = spreads[-1] - spreads[-10] > 5.0 and spreads[-1] > 20
    if np.all(pen == 0) and growing:
        raise _separable_error(spreads[-1])
    return x.reshape(K, q), n_iter, method


def _fit_softmax(A, Y, w, pen, max_iter, tol):
    """:func:`_minimise`, and a ValueError when the point reached has large
    logits and a flat direction (dense Hessian): separable classes."""
    theta, n_iter, method = _minimise(A, Y, w, pen, max_iter, tol)
    K, q = theta.shape
    if np.all(pen == 0) and _separates(A @ theta.T, Y, w):
        # Every row on its own class's side: scaling the logits up lowers the
        # loss towards 0, which no finite point attains. Both solvers stop at
        # a saturated point (probabilities 0 and 1 to rounding, a gradient
        # that underflows); trust-ncg's has no Hessian to show it flat.
        S = A @ theta.T
        raise _separable_error(float(np.max(S.max(axis=1) - S.min(axis=1))))
    if method == "trust-exact" and np.all(pen == 0) and np.any(Y[w > 0] == 0):
        S = A @ theta.T
        spread = float(np.max(S.max(axis=1) - S.min(axis=1)))
        if spread > 20:
            lam = linalg.eigvalsh(_Objective(A, Y, w, pen).hess(theta.ravel()))
            if lam[0] < 1e-10 * lam[-1]:
                raise _separable_error(spread)
    return theta, n_iter, method


def _separates(S, Y, w):
    """Whether the logits ``S`` put every weighted row of hard labels ``Y``
    strictly in its class (beyond rounding of the logits)."""
    rows = w > 0
    if not np.all((Y[rows] == 0) | (Y[rows] == 1)):
        return False  # soft labels: interior probabilities have a minimiser
    S, Y = S[rows], Y[rows]
    own = np.sum(S * Y, axis=1)
    other = np.max(np.where(Y == 1, -np.inf, S), axis=1)
    slack = 1e-8 * (1.0 + np.max(np.abs(S), initial=0.0))
    return bool(np.all(own - other > slack))


def _separable_error(spread):
    return ValueError(
        "The cross-entropy has no minimiser: it keeps decreasing as the logits "
        f"grow (logit spread {spread:.3g}, the loss flat along a direction), "
        "because the classes are separable in these features (or a class "
        "has zero probability everywhere). Use a penalty (alpha > 0), soft "
        "labels in the interior, or more data."
    )


def _centre_classes(coef, intercept):
    """The minimum-norm representative: class means subtracted."""
    return coef - coef.mean(axis=0), intercept - intercept.mean()


@fill_doc
class SoftmaxHead(ClassifierMixin, BaseEstimator):
    """Exact multinomial logistic regression on class labels or soft labels.

    Fits ``p(x) = softmax(coef_ x + intercept_)`` by minimising the weighted
    cross-entropy ``-(1/Σw) Σ_i w_i Σ_k Y_ik log p_k(x_i) + ½ alpha
    ‖coef_‖²`` against one-hot labels or class probabilities (soft labels,
    e.g. a weak model's ``predict_proba``): a KL projection, the
    classification analogue of :class:`LeastSquaresHead` (see
    :ref:`theory_kl`), solved to a certificate.

    Parameters
    ----------
    alpha : float, default=0.0
        Ridge penalty ``½ alpha ‖coef_‖_F²`` (not on the intercept), relative
        to the *mean* cross-entropy. With 0 a minimiser exists only when the
        classes are not separable; otherwise ``fit`` raises.
    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept per class.
    max_iter : int, default=100
        Maximum number of trust-region iterations (then at most
        ``max(20, max_iter // 5)`` Newton steps).
    tol : float, default=1e-10
        The target of the certificate; ``fit`` raises when it ends above
        ``max(tol, 1e-8)``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; ``arange(n_classes)`` when fitted on probabilities.
    coef_ : ndarray of shape (n_classes, n_features)
        Coefficients, class-centred and of minimum norm.
    intercept_ : ndarray of shape (n_classes,)
        Intercepts, class-centred (zeros when ``fit_intercept=False``).
    kkt_residual_ : float
        The optimality certificate: the largest entry of the objective's
        gradient in whitened coordinates (at most 1 at zero parameters).
    n_iter_ : int
        Number of solver iterations.
    solver_ : str
        ``"trust-exact"``, ``"trust-ncg"`` or ``"none"`` (nothing to fit:
        uniform probabilities).
    rank_ : int
        Numerical rank of the (centred, weighted) features.
    {features_in}

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model on hard labels,
        solved to a tolerance.
    skwtsg.metrics.kl_misfit : The KL misfit of a strong head to soft labels.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import SoftmaxHead
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> P = np.exp(X @ rng.normal(size=(3, 4)))
    >>> P /= P.sum(axis=1, keepdims=True)
    >>> head = SoftmaxHead().fit(X, P)
    >>> bool(head.kkt_residual_ <= 1e-8)
    True
    >>> head.predict_proba(X[:2]).shape
    (2, 4)
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        *,
        alpha: float = 0.0,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-10,
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> SoftmaxHead:
        """Fit on class labels or class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or class probabilities (rows non-negative, summing
            to 1; at least 2 columns). A single column is read as labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (non-negative).

        Returns
        -------
        self : object
            Fitted head.
        """
        # Many small dense factorisations: one BLAS thread is faster.
        with single_threaded_blas():
            return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        """The fit, under the BLAS thread limit."""
        X, y = validate_data(
            self, X, y, dtype=np.float64, multi_output=True, y_numeric=False
        )
        Y, self.classes_ = _targets(y)
        n = X.shape[0]
        if sample_weight is None:
            w = np.full(n, 1.0 / n)
        else:
            w = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if w.sum() <= 0:
                raise ValueError("`sample_weight` sums to zero: nothing to fit.")
            w = w / w.sum()
        offset, M, s = _whitening(X, w, self.fit_intercept)
        A = _design(X, offset, M, self.fit_intercept)
        pen = np.zeros(A.shape[1])
        pen[: s.size] = self.alpha / s**2
        theta, self.n_iter_, self.solver_ = _fit_softmax(
            A, Y, w, pen, self.max_iter, self.tol
        )
        self.rank_ = int(s.size)
        coef = theta[:, : s.size] @ M.T
        b = theta[:, s.size] if self.fit_intercept else np.zeros(Y.shape[1])
        coef, b = _centre_classes(coef, b)
        self._X_offset = offset
        self._b = b
        self.coef_ = coef
        self.intercept_ = b - coef @ offset
        # The certificate, from the stored model, on the data.
        P = softmax(self._logits(X), axis=1)
        theta_stored = coef @ (M * s**2) if s.size else np.zeros((Y.shape[1], 0))
        grad = ((P - Y) * w[:, None]).T @ A
        grad[:, : s.size] += self.alpha * theta_stored / s**2 if s.size else 0.0
        self.kkt_residual_ = float(np.max(np.abs(grad), initial=0.0))
        required = max(self.tol, _REQUIRED_KKT)
        if not np.isfinite(self.kkt_residual_) or self.kkt_residual_ > required:
            raise ValueError(
                f"SoftmaxHead did not reach its optimality certificate: "
                f"kkt_residual_={self.kkt_residual_:.3g} > {required:.1g} after "
                f"{self.n_iter_} iterations. Increase max_iter, or use alpha > 0 "
                "if the classes are nearly separable."
            )
        return self

    def _logits(self, X):
        return (X - self._X_offset) @ self.coef_.T + self._b

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Logits of each class (binary: the log-odds of ``classes_[1]``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the samples to score.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
            ``X @ coef_.T + intercept_`` (evaluated about the training mean);
            for two classes, the difference of the two columns.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        S = self._logits(X)
        return S[:, 1] - S[:, 0] if S.shape[1] == 2 else S

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities ``softmax(X @ coef_.T + intercept_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Log of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the samples, as for :meth:`predict_proba`.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        S = self._logits(X)
        return S - logsumexp(S, axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the samples to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels among ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the labelled samples.
        y : array-like of shape (n_samples,)
            True class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            The (weighted) fraction of correctly classified samples.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = SkwtsgTags.from_tags(super().__sklearn_tags__())
        tags.input_tags.sparse = False
        # A KL projection onto the convex (affine) set of logits: the KL form
        # of Theorem 1 holds (see docs/user_guide/theory.rst).
        tags.head_tags = HeadTags(convex=True, exact=True)
        return tags


def _targets(y):
    """Target probabilities ``Y`` and ``classes_`` from labels or probabilities."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] >= 2:
        Y = check_probabilities(y, "y")
        return Y, np.arange(Y.shape[1])
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(
            "SoftmaxHead needs at least 2 classes to fit, got 1 class "
            f"({classes.tolist()})."
        )
    Y = np.zeros((y.shape[0], classes.size))
    Y[np.arange(y.shape[0]), codes] = 1.0
    return Y, classes
