"""Mergeable sufficient statistics of a weighted least-squares problem.

Streaming (``partial_fit``) and Dask fits keep, instead of the rows, the row
count, the weight sum, the weighted means and the triangular factor ``R`` of
the centred weighted ``[X | Y]`` (never raw sums, which cancel; never
``RᵀR``, which squares the condition number). Two sets merge exactly by Chan,
Golub and LeVeque's update (The American Statistician 37(3), 1983), in
factored form: the merged ``R`` is the factor of ``[R_a; R_b; √(w_a w_b / w)
δᵀ]``, ``δ`` the difference of the means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg
from scipy.linalg import blas
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight
from sklearn_compat.utils.validation import validate_data

from .._utils._reduce import pairwise_reduce
from .._utils._validation import check_bool
from ._constants import BLOCK_ENTRIES, CHOLQR_MAX_COND, EPS
from ._problem import _active_columns, _noise_floor

__all__ = [
    "LeastSquaresStatistics",
    "block_statistics",
    "merge_statistics",
    "tree_merge",
]


def _triangular(stack: np.ndarray, width: int) -> np.ndarray:
    """The ``R`` factor of ``stack`` (at most ``width`` rows), by Householder QR."""
    if stack.shape[0] == 0:
        return np.zeros((0, width))
    r = linalg.qr(stack, mode="r", check_finite=False)[0]
    return np.asarray(np.triu(r[: min(stack.shape[0], width)]))


def _cholesky_qr2(A: np.ndarray, step: int) -> np.ndarray | None:
    """The ``R`` factor of ``A`` by Cholesky-QR2 (Yamamoto et al. 2015), or None.

    Matrix products instead of Householder reflections (memory-bound on tall
    thin blocks); the second pass restores orthogonality when ``cond(A)² ε``
    is small. None (use Householder QR) when the scaled condition number
    exceeds :data:`~skwtsg.heads._constants.CHOLQR_MAX_COND` or a Cholesky
    factorisation fails.
    """
    gram = A.T @ A
    norms = np.sqrt(np.diag(gram))
    if not np.all(norms > 0) or not np.all(np.isfinite(norms)):
        return None
    try:
        r1 = linalg.cholesky(
            gram / np.outer(norms, norms), lower=False, check_finite=False
        )
        sv = linalg.svdvals(r1, check_finite=False)
        if not sv[-1] > 0 or sv[0] / sv[-1] > CHOLQR_MAX_COND:
            return None
        r1 = r1 * norms  # the factor of the unscaled columns
        gram2 = np.zeros_like(gram)
        for start in range(0, A.shape[0], step):
            # Qᵀ = R₁⁻ᵀ Aᵀ (Aᵀ of C-ordered rows is Fortran-ordered: no copy)
            qt = blas.dtrsm(1.0, r1, A[start : start + step].T, side=0, trans_a=1)
            gram2 += qt @ qt.T
        r2 = linalg.cholesky(gram2, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return None
    return np.asarray(r2 @ r1)


@dataclass(frozen=True)
class LeastSquaresStatistics:
    """Sufficient statistics of a weighted least-squares problem.

    What the exact linear heads need to fit on a set of rows, in
    ``O((n_features + n_targets)²)`` memory. Statistics of blocks of rows
    (:func:`block_statistics`) merge exactly (:func:`merge_statistics`); a
    head fits from them with ``fit_from_statistics`` as ``fit`` does from
    the rows (to rounding).

    Attributes
    ----------
    n_samples : int
        Number of rows.
    weight_sum : float
        Sum of the sample weights.
    shift_x, shift_y : ndarray of shape (n_features,), (n_targets,)
        The reference point subtracted from every row before accumulating.
    mean_x, mean_y : ndarray of shape (n_features,), (n_targets,)
        Weighted means of the shifted rows (zero-weight blocks: zeros).
    R : ndarray of shape (k, n_features + n_targets)
        Upper trapezoidal factor of ``W^{1/2}([X | Y] - means)`` (centred when
        ``centred``, else of the raw weighted rows), ``k <= n_features +
        n_targets``.
    centred : bool
        Whether ``R`` is of the centred rows (a head with an intercept).

    See Also
    --------
    block_statistics : The statistics of one block of rows.
    merge_statistics : The statistics of the union of two blocks.

    Examples
    --------
    Statistics of two blocks of rows, merged, give the coefficients of a fit
    on all the rows:

    >>> import numpy as np
    >>> from skwtsg.heads import (
    ...     LeastSquaresHead, block_statistics, merge_statistics)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3)) + 50.0
    >>> y = X @ [1.0, -2.0, 0.5] + rng.normal(size=100)
    >>> shift = {"shift_x": X[0], "shift_y": y[:1]}  # one point for all blocks
    >>> stats = merge_statistics(
    ...     block_statistics(X[:60], y[:60], **shift),
    ...     block_statistics(X[60:], y[60:], **shift),
    ... )
    >>> stats.n_samples, stats.n_features, stats.n_targets
    (100, 3, 1)
    >>> head = LeastSquaresHead().fit_from_statistics(stats, y_ndim=1)
    >>> full = LeastSquaresHead().fit(X, y)
    >>> bool(np.allclose(head.coef_, full.coef_, rtol=1e-10))
    True
    """

    n_samples: int
    weight_sum: float
    shift_x: np.ndarray
    shift_y: np.ndarray
    mean_x: np.ndarray
    mean_y: np.ndarray
    R: np.ndarray
    centred: bool

    @property
    def n_features(self) -> int:
        """Number of features (columns of ``X``)."""
        return self.shift_x.shape[0]

    @property
    def n_targets(self) -> int:
        """Number of targets (columns of ``Y``)."""
        return self.shift_y.shape[0]


def block_statistics(
    X: ArrayLike,
    Y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    shift_x: ArrayLike | None = None,
    shift_y: ArrayLike | None = None,
    centred: bool = True,
) -> LeastSquaresStatistics:
    """The least-squares statistics of one block of rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features of the block.
    Y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Its targets (a 1-D ``Y`` is one target).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the rows (``None``: unit weights).
    shift_x, shift_y : array-like of shape (n_features,), (n_targets,), \
default=None
        Reference point subtracted from the rows before accumulating
        (``None``: zeros), shared by blocks to be merged; a point near the
        data (e.g. the first row) keeps the merge exact to rounding.
    centred : bool, default=True
        Centre the rows on their weighted mean: the statistics of a head
        with ``fit_intercept=True``; ``False`` for ``fit_intercept=False``.

    Returns
    -------
    LeastSquaresStatistics
        The statistics of the block.

    See Also
    --------
    merge_statistics : Merge the statistics of two blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import block_statistics
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 2.0]])
    >>> stats = block_statistics(X, [1.0, 2.0, 4.0])
    >>> stats.n_samples, stats.weight_sum, stats.R.shape
    (3, 3.0, (3, 3))
    >>> stats.mean_x
    array([1., 2.])
    """
    centred = check_bool(centred, "centred")
    Xb = _finite(X, "X")
    Yb = _finite(Y, "Y", ensure_2d=False)
    if Yb.ndim == 1:
        Yb = Yb[:, None]
    if Yb.ndim != 2 or Xb.shape[0] != Yb.shape[0]:
        raise ValueError(
            "block_statistics needs X of shape (n_samples, n_features) and Y "
            f"with as many rows; got X of shape {Xb.shape} and Y of shape "
            f"{Yb.shape}."
        )
    n, d = Xb.shape
    ref_x = _reference(shift_x, d, "shift_x")
    ref_y = _reference(shift_y, Yb.shape[1], "shift_y")
    width = d + Yb.shape[1]
    w = None
    if sample_weight is not None:
        w = _finite(sample_weight, "sample_weight", ensure_2d=False)
        if w.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}.")
        if np.any(w < 0):
            raise ValueError("sample_weight must be non-negative.")
    w_sum = float(n) if w is None else float(w.sum())
    mean_x, mean_y = np.zeros(d), np.zeros(Yb.shape[1])
    if w_sum > 0 and d:
        mean_x = np.average(Xb - ref_x, axis=0, weights=w)
    if w_sum > 0 and Yb.shape[1]:
        mean_y = np.average(Yb - ref_y, axis=0, weights=w)
    offset_x = ref_x + mean_x if centred else ref_x
    offset_y = ref_y + mean_y if centred else ref_y
    R: np.ndarray | None = None
    if n >= 4 * width and width:
        A = np.empty((n, width))
        A[:, :d] = Xb - offset_x
        A[:, d:] = Yb - offset_y
        if w is not None:
            A *= np.sqrt(w)[:, None]
        R = _cholesky_qr2(A, max(4 * width, 8 * BLOCK_ENTRIES // width))
        del A
    if R is None:  # few rows, or too ill-conditioned for Cholesky-QR2
        step = max(4 * width, BLOCK_ENTRIES // max(1, width))
        R = np.zeros((0, width))
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            block = np.hstack([Xb[rows] - offset_x, Yb[rows] - offset_y])
            if w is not None:
                block *= np.sqrt(w[rows])[:, None]
            R = _triangular(np.vstack([R, block]), width)
    return LeastSquaresStatistics(n, w_sum, ref_x, ref_y, mean_x, mean_y, R, centred)


def _finite(a: Any, name: str, ensure_2d: bool = True) -> np.ndarray:
    """``a`` as a finite, real float64 array (empty blocks allowed)."""
    return check_array(
        a,
        dtype=np.float64,
        ensure_2d=ensure_2d,
        ensure_min_samples=0,
        ensure_min_features=0,
        input_name=name,
    )


def _reference(shift: Any, size: int, name: str) -> np.ndarray:
    """A reference point as a float64 vector of ``size`` entries (zeros if None)."""
    if shift is None:
        return np.zeros(size)
    shift = np.atleast_1d(_finite(shift, name, ensure_2d=False))
    if shift.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},), got {shift.shape}.")
    return shift


def merge_statistics(
    a: LeastSquaresStatistics, b: LeastSquaresStatistics
) -> LeastSquaresStatistics:
    """The statistics of the union of two blocks of rows (Chan et al.'s merge).

    Backward stable and associative up to rounding: any tree of merges gives
    the statistics of all the rows.

    Parameters
    ----------
    a, b : LeastSquaresStatistics
        Statistics of two blocks, with the same numbers of features and
        targets, the same reference point (``shift_x``, ``shift_y``) and the
        same ``centred``.

    Returns
    -------
    LeastSquaresStatistics
        The statistics of the rows of both blocks.

    See Also
    --------
    block_statistics : The statistics of one block of rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skwtsg.heads import block_statistics, merge_statistics
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(50, 2)), rng.normal(size=50)
    >>> merged = merge_statistics(
    ...     block_statistics(X[:20], y[:20]), block_statistics(X[20:], y[20:])
    ... )
    >>> whole = block_statistics(X, y)
    >>> merged.n_samples
    50
    >>> bool(np.allclose(merged.R.T @ merged.R, whole.R.T @ whole.R))
    True
    """
    if a.n_features != b.n_features or a.n_targets != b.n_targets:
        raise ValueError(
            f"Cannot merge statistics of {a.n_features} features and "
            f"{a.n_targets} targets with {b.n_features} features and "
            f"{b.n_targets} targets."
        )
    if a.centred != b.centred:
        raise ValueError(
            "Cannot merge centred statistics (fit_intercept=True) with "
            "uncentred ones (fit_intercept=False)."
        )
    if not (
        np.array_equal(a.shift_x, b.shift_x) and np.array_equal(a.shift_y, b.shift_y)
    ):
        raise ValueError(
            "Cannot merge statistics accumulated with different reference "
            "points: pass the same shift_x and shift_y to block_statistics "
            "for every block."
        )
    width = a.n_features + a.n_targets
    w = a.weight_sum + b.weight_sum
    stack = [a.R, b.R]
    if w > 0:
        frac = b.weight_sum / w
        delta_x, delta_y = b.mean_x - a.mean_x, b.mean_y - a.mean_y
        mean_x, mean_y = a.mean_x + frac * delta_x, a.mean_y + frac * delta_y
        if a.centred and a.weight_sum > 0 and b.weight_sum > 0:
            scale = np.sqrt(a.weight_sum * frac)
            stack.append(scale * np.concatenate([delta_x, delta_y])[None, :])
    else:
        mean_x, mean_y = a.mean_x, a.mean_y
    return LeastSquaresStatistics(
        a.n_samples + b.n_samples,
        w,
        a.shift_x,
        a.shift_y,
        mean_x,
        mean_y,
        _triangular(np.vstack(stack), width),
        a.centred,
    )


def tree_merge(parts: list[LeastSquaresStatistics]) -> LeastSquaresStatistics:
    """Merge a list of statistics pairwise (a balanced tree)."""
    if not parts:
        raise ValueError("No statistics to merge.")
    return pairwise_reduce(parts, merge_statistics)


class _StatisticsProblem:
    """A least-squares problem known only through its statistics.

    What the solvers use from a ``_Problem``, computed from ``R``: since
    ``Xtᵀ(Yt - Xt B) = R_xᵀ(R_y - R_x B)`` exactly, refinement and
    certificates "on the data" are exact here too.
    """

    def __init__(self, stats: LeastSquaresStatistics, fit_intercept: bool) -> None:
        if stats.weight_sum <= 0:
            raise ValueError("The sample weights sum to zero: there is nothing to fit.")
        d = stats.n_features
        self.stats = stats
        self.n_samples = stats.n_samples
        self.weight_sum = stats.weight_sum
        self.R_x, self.R_y = stats.R[:, :d], stats.R[:, d:]
        if fit_intercept:
            self.X_offset = stats.shift_x + stats.mean_x
            self.y_offset = stats.shift_y + stats.mean_y
        else:
            self.X_offset = np.zeros(d)
            self.y_offset = np.zeros(stats.n_targets)
        self.gram = self.R_x.T @ self.R_x
        self.xty = self.R_x.T @ self.R_y
        self.yty = np.einsum("ij,ij->j", self.R_y, self.R_y)
        col_norms = np.sqrt(np.einsum("ij,ij->j", self.R_x, self.R_x))
        self.active = _active_columns(
            col_norms, self.X_offset, self.n_samples, self.weight_sum, fit_intercept
        )
        self.col_norms = np.where(self.active, col_norms, 0.0)

    @property
    def n_features(self) -> int:
        return self.stats.n_features

    @property
    def n_targets(self) -> int:
        return self.stats.n_targets

    @property
    def y_norms(self) -> np.ndarray:
        return np.sqrt(self.yty)

    @property
    def noise_floor(self) -> float:
        return _noise_floor(
            self.n_samples,
            self.n_features,
            self.weight_sum,
            self.col_norms,
            self.X_offset,
            self.active,
        )

    def numerical_rank(self, sv: np.ndarray) -> int:
        if sv.size == 0:
            return 0
        n = max(self.n_samples, self.n_features)
        cutoff = max(n * EPS * sv.max(), self.noise_floor)
        return int(np.sum(sv > cutoff))

    def qr_reduce(self) -> tuple[np.ndarray, np.ndarray]:
        act = self.active
        d_act = int(act.sum())
        R = _triangular(np.hstack([self.R_x[:, act], self.R_y]), d_act + self.n_targets)
        k = min(self.n_samples, d_act, R.shape[0])
        return np.triu(R[:k, :d_act]), R[:k, d_act:]

    def residual_pass(self, coef: np.ndarray, targets: Any = None) -> np.ndarray:
        R_y = self.R_y if targets is None else self.R_y[:, targets]
        return self.R_x.T @ (R_y - self.R_x @ coef)

    def fit_intercept(self, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``ȳ`` and a zero certificate: the weighted means are exact here."""
        return self.y_offset.copy(), np.zeros(self.n_targets)


class _PartialFitMixin:
    """``fit_from_statistics`` and ``partial_fit``, for the heads whose solution
    depends on :class:`LeastSquaresStatistics` only (declared in their tags)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.head_tags.fits_from_statistics = True
        return tags

    def fit_from_statistics(
        self: Any, statistics: LeastSquaresStatistics, y_ndim: int = 2
    ) -> Any:
        """Fit the head from the sufficient statistics of its rows.

        The fit :meth:`fit` makes on those rows (to rounding), in
        ``O((n_features + n_targets)³)`` operations; a following
        :meth:`partial_fit` adds rows to these statistics.

        Parameters
        ----------
        statistics : LeastSquaresStatistics
            The statistics of all the rows, accumulated with
            ``centred=fit_intercept``.
        y_ndim : {1, 2}, default=2
            ``1`` gives the fitted attributes the shapes of a fit on a 1-D
            ``y`` (one target only).

        Returns
        -------
        self : object
            The fitted head (``feature_names_in_`` is not set).

        Examples
        --------
        >>> import numpy as np
        >>> from skwtsg.heads import RidgeHead, block_statistics, merge_statistics
        >>> rng = np.random.default_rng(0)
        >>> X, Y = rng.normal(size=(80, 4)), rng.normal(size=(80, 2))
        >>> stats = merge_statistics(
        ...     block_statistics(X[:30], Y[:30]), block_statistics(X[30:], Y[30:])
        ... )
        >>> head = RidgeHead(alpha=2.0).fit_from_statistics(stats)
        >>> full = RidgeHead(alpha=2.0).fit(X, Y)
        >>> bool(np.allclose(head.coef_, full.coef_, rtol=1e-10))
        True
        >>> head.n_features_in_
        4
        """
        self._validate_params()
        if not isinstance(statistics, LeastSquaresStatistics):
            raise TypeError(
                "statistics must be LeastSquaresStatistics (from "
                f"block_statistics), got {type(statistics).__name__}."
            )
        if y_ndim not in (1, 2) or isinstance(y_ndim, bool):
            raise ValueError(f"y_ndim must be 1 or 2, got {y_ndim!r}.")
        if y_ndim == 1 and statistics.n_targets != 1:
            raise ValueError(
                f"y_ndim=1 needs statistics of one target, got {statistics.n_targets}."
            )
        if statistics.centred != bool(self.fit_intercept):
            raise ValueError(
                "The statistics were accumulated with "
                f"fit_intercept={statistics.centred}, but the head has "
                f"fit_intercept={self.fit_intercept}."
            )
        problem = _StatisticsProblem(statistics, bool(self.fit_intercept))
        self._fit_problem(problem, y_ndim)
        self.n_features_in_ = statistics.n_features
        self.__dict__.pop("feature_names_in_", None)
        self._statistics = statistics
        self._y_ndim = y_ndim
        return self

    def partial_fit(
        self: Any,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
    ) -> Any:
        """Add a batch of rows and refit from all rows seen so far.

        The head keeps statistics, not rows: the same coefficients as one
        :meth:`fit` on all the rows (to rounding). :meth:`fit` starts afresh.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of strong features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its targets (the same number of targets in every batch).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the squared errors.

        Returns
        -------
        self : object
            The head fitted on every row seen so far.
        """
        first = not hasattr(self, "_statistics")
        self._validate_params()
        X_arr: Any
        y_arr: Any
        X_arr, y_arr = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=np.float64,
            y_numeric=True,
            multi_output=True,
        )
        y_arr = np.asarray(y_arr, dtype=np.float64)
        Y = y_arr.reshape(-1, 1) if y_arr.ndim == 1 else y_arr
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(
                sample_weight, X_arr, dtype=np.float64, ensure_non_negative=True
            )
        if first:
            d = X_arr.shape[1]
            shift_x = X_arr[0].copy() if self.fit_intercept else np.zeros(d)
            shift_y = Y[0].copy() if self.fit_intercept else np.zeros(Y.shape[1])
        else:
            prev = self._statistics
            if Y.shape[1] != prev.n_targets or y_arr.ndim != self._y_ndim:
                raise ValueError(
                    f"y has shape {y_arr.shape} but the earlier batches had "
                    f"{prev.n_targets} target(s) with ndim={self._y_ndim}."
                )
            shift_x, shift_y = prev.shift_x, prev.shift_y
        stats = block_statistics(
            X_arr, Y, weights, shift_x, shift_y, bool(self.fit_intercept)
        )
        if not first:
            stats = merge_statistics(self._statistics, stats)
        names = getattr(self, "feature_names_in_", None)  # set by validate_data
        self.fit_from_statistics(stats, y_arr.ndim)
        if names is not None:
            self.feature_names_in_ = names
        return self
