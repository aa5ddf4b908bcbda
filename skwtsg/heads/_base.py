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

from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_sample_weight,
    check_is_fitted,
)
from sklearn_compat.base import _fit_context
from sklearn_compat.utils.validation import validate_data

from .._utils._blas import single_threaded_blas

_EPS = np.finfo(np.float64).eps

#: Number of matrix entries in one block of rows (1 MiB of float64): the
#: centred copy of a block stays in cache for the BLAS products that read it
#: (measured 1.2-1.4x faster than 16 MiB blocks at d=64).
_BLOCK_ENTRIES = 1 << 17


#: Entries in one block of the pass that forms the Gram matrix
#: (:func:`_accumulate`, 4 MiB of float64): larger blocks make fewer, more
#: efficient BLAS calls (measured 1.2-1.4x faster than 1 MiB at d=256, the
#: same at d=64).
_PASS_BLOCK_ENTRIES = 1 << 19


def _row_blocks(n_samples, n_features):
    """Yield slices of rows so that each block holds ~2**17 entries."""
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
    gram : ndarray of shape (n_features, n_features) or None
        ``Xtᵀ Xt``; ``None`` when prepared for the dual (kernel) form
        (``_prepare_problem(..., gram=False)``).
    xty : ndarray of shape (n_features, n_targets) or None
        ``Xtᵀ Yt``; ``None`` with ``gram``.
    yty : ndarray of shape (n_targets,)
        ``‖Yt[:, k]‖²`` for each target.
    x_sum : ndarray of shape (n_features,)
        ``Σ_i w_i (x_i - x̄)`` on the rows as centred in floating point (the
        rounding that keeps the centred columns from summing to exactly 0).
    y_sum : ndarray of shape (n_targets,)
        ``Σ_i w_i (y_i - ȳ)``, likewise.
    w_sum : float
        ``Σ_i w_i`` (``n_samples`` for unit weights).
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
    gram: np.ndarray | None
    xty: np.ndarray | None
    yty: np.ndarray
    x_sum: np.ndarray
    y_sum: np.ndarray
    w_sum: float
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

    def centred_targets(self):
        """Return the centred weighted targets ``Yt`` (a copy)."""
        yt = self.Y - self.y_offset
        if self.sqrt_w is not None:
            yt *= self.sqrt_w[:, None]
        return yt

    def active_column_blocks(self):
        """Yield ``(cols, Xt[:, cols])`` over the active columns, in blocks.

        Each block holds about ``2**17`` entries (at least 64 columns), so the
        centred copy of ``X`` never exists in full: the dual (kernel) form of
        :func:`_solve_ridge_dual` reads the design this way.
        """
        n = self.X.shape[0]
        cols_all = np.flatnonzero(self.active)
        step = max(64, _BLOCK_ENTRIES // max(1, n))
        for start in range(0, cols_all.size, step):
            cols = cols_all[start : start + step]
            xc = self.X[:, cols] - self.X_offset[cols]
            if self.sqrt_w is not None:
                xc *= self.sqrt_w[:, None]
            yield cols, xc

    def kernel(self):
        """``Xt_a Xt_aᵀ`` (n × n) over the active columns ``a``, blockwise."""
        n = self.X.shape[0]
        K = np.zeros((n, n))
        for _, xc in self.active_column_blocks():
            K += xc @ xc.T  # numpy dispatches ``A @ A.T`` to BLAS syrk
        return K

    def active_design_products(self, dual):
        """``(Xt_aᵀ A, Xt_a Xt_aᵀ A)`` for ``A = dual`` (n × m), one pass.

        Returns the coefficients ``B = Xt_aᵀ A`` of the active columns and
        the fitted values ``Xt_a B``, both from the data.
        """
        n_active = int(self.active.sum())
        coef = np.empty((n_active, dual.shape[1]))
        fitted = np.zeros((self.X.shape[0], dual.shape[1]))
        offset = 0
        for cols, xc in self.active_column_blocks():
            block = xc.T @ dual
            coef[offset : offset + cols.size] = block
            fitted += xc @ block
            offset += cols.size
        return coef, fitted

    def active_gradient(self, resid):
        """``Xt_aᵀ resid`` (n_active × m) from the data, blockwise."""
        grad = np.empty((int(self.active.sum()), resid.shape[1]))
        offset = 0
        for cols, xc in self.active_column_blocks():
            grad[offset : offset + cols.size] = xc.T @ resid
            offset += cols.size
        return grad

    def qr_reduce(self):
        """Triangular reduction ``(R, QᵀYt)`` of the active columns, on the data.

        A Householder QR of ``[Xt_active | Yt]`` accumulated over row blocks
        (TSQR), so that ``‖Yt - Xt_active B‖² = ‖QᵀYt - R B‖² + const`` for
        every ``B``. Backward stable: the condition number is not squared, as
        it is in the Gram matrix. Memory is bounded by one block.

        Returns
        -------
        R : ndarray of shape (k, n_active)
            Upper trapezoidal, ``k = min(n_samples, n_active)``.
        qty : ndarray of shape (k, n_targets)
        """
        n, d = self.X.shape
        act = self.active
        d_act = int(act.sum())
        width = d_act + self.n_targets
        step = max(4 * width, _BLOCK_ENTRIES // max(1, width))
        acc = np.empty((0, width))
        for start in range(0, n, step):
            xb, yb = self.centred_block(slice(start, min(start + step, n)))
            block = np.vstack([acc, np.hstack([xb[:, act], yb])])
            acc = linalg.qr(block, mode="r", overwrite_a=True, check_finite=False)[0][
                : min(block.shape[0], width)
            ]
        k = min(n, d_act)
        return np.triu(acc[:k, :d_act]), acc[:k, d_act:]

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
    def noise_floor(self):
        """Singular values of ``Xt`` below this are rounding noise.

        ``max(n, d) · eps · ‖W^{1/2} X‖_F`` with the *uncentred* design: centring
        a column with a large mean leaves noise of this size.
        """
        n, d = self.X.shape
        w_sum = n if self.sqrt_w is None else float(np.sum(self.sqrt_w**2))
        return _noise_floor(n, d, w_sum, self.col_norms, self.X_offset, self.active)

    def numerical_rank(self, sv):
        """Number of singular values of ``Xt`` above the rounding noise.

        Singular values below ``max(n, d) · eps · σ_max`` or below
        :attr:`noise_floor` are treated as zero.
        """
        if sv.size == 0:
            return 0
        cutoff = max(max(self.X.shape) * _EPS * sv.max(), self.noise_floor)
        return int(np.sum(sv > cutoff))

    @property
    def y_norms(self):
        """``‖Yt[:, k]‖`` for each target."""
        return np.sqrt(self.yty)


def _noise_floor(n, d, w_sum, col_norms, X_offset, active):
    """``max(n, d) · eps · ‖W^{1/2} X‖_F`` over the active columns (uncentred)."""
    raw = col_norms**2 + w_sum * X_offset**2
    return max(n, d) * _EPS * float(np.sqrt(np.sum(raw[active])))


def _active_columns(col_norms, X_offset, n, w_sum, fit_intercept):
    """Columns that are not constant: above the rounding noise of centring."""
    if fit_intercept:
        # A constant column centres to rounding noise of size ~eps * |mean|:
        # treat it as exactly constant (the intercept absorbs it).
        return col_norms > 8.0 * _EPS * np.sqrt(n * w_sum) * np.abs(X_offset)
    return col_norms > 0.0


#: Rows read to estimate the shift of the one-pass centring (a strided sample).
_SHIFT_SAMPLE = 1024

#: The one-pass centring is accepted when, on every active column and target,
#: ``w_sum · δ²`` (the squared distance between the shift and the weighted
#: mean) is at most this multiple of the centred sum of squares, i.e. the
#: shift is within 4 standard deviations of the mean: the rounding of the
#: shifted products is then at most ``1 + _SHIFT_LIMIT = 17`` times that of
#: products of exactly centred rows (at most 4.1 of the 53 bits).
_SHIFT_LIMIT = 16.0

#: The unshifted design (:func:`_accumulate` then makes no copy of it) is
#: tried when the row sample puts every column mean within this fraction of
#: the limit, ``mean² ≤ 0.8 · _SHIFT_LIMIT · variance`` (|mean| ≤ 3.6
#: standard deviations): a margin for the sampling error of the estimate
#: (from 1024 rows, about 2% on ``mean²`` and 4% on the variance there, so
#: the margin is about 5 standard errors; when it is exceeded anyway, the
#: exact check of :func:`_prepare_problem` makes the second pass).
_ZERO_SHIFT_MARGIN = 0.8


def _shift_estimate(A, sample_weight, allow_zero=False):
    """A cheap estimate of the weighted column means: the mean of a row sample.

    With ``allow_zero``, zeros when the sample's means are all small next to
    its standard deviations (:data:`_ZERO_SHIFT_MARGIN`): the rows need no
    shift for an accurate pass.
    """
    n = A.shape[0]
    step = max(1, n // _SHIFT_SAMPLE)
    sample = A[::step]
    if sample_weight is not None:
        w = sample_weight[::step]
        if w.sum() > 0:
            return (w @ sample) / w.sum()
    if not allow_zero or sample.shape[0] < 2:
        return sample.mean(axis=0)
    sample = np.array(sample)  # contiguous: two fast reductions
    mean = sample.mean(axis=0)
    sample -= mean
    var = np.einsum("ij,ij->j", sample, sample) / sample.shape[0]
    if np.all(mean**2 <= _ZERO_SHIFT_MARGIN * _SHIFT_LIMIT * var):
        return np.zeros_like(mean)
    return mean


def _accumulate(X, Y, sqrt_w, shift_x, shift_y, gram):
    """One blockwise pass over ``W^{1/2}(X - shift_x)`` and ``W^{1/2}(Y - shift_y)``.

    The shifted rows of a block of about ``2**19`` entries are written into
    two buffers allocated once (a block stays in cache for the BLAS products
    that read it).

    Returns
    -------
    xtx : ndarray of shape (d, d) or None
    xty : ndarray of shape (d, m) or None
    x_sq : ndarray of shape (d,)
        Column sums of squares (the diagonal of ``xtx`` when it is formed).
    yty : ndarray of shape (m,)
    x_sum, y_sum : ndarray of shape (d,) and (m,)
        ``Σ_i w_i (x_i - shift_x)`` and likewise for ``Y``.
    """
    n, d = X.shape
    m = Y.shape[1]
    if gram and sqrt_w is None and not np.any(shift_x):
        return _accumulate_unshifted(X, Y, shift_y)
    step = max(256, _PASS_BLOCK_ENTRIES // max(1, d + m + 1))
    xtx = np.zeros((d, d)) if gram else None
    xty = np.zeros((d, m)) if gram else None
    x_sq, yty = np.zeros(d), np.zeros(m)
    x_sum, y_sum = np.zeros(d), np.zeros(m)
    x_buf = np.empty((min(step, n), d))
    # The targets' buffer has one more column, of the weights ``sqrt_w`` (1
    # without weights): the product of its transpose with a block of the
    # design gives ``Σ w (x - s)`` with ``Xbᵀ Yb``, in the same BLAS call.
    y_buf = np.empty((min(step, n), m + 1))
    if sqrt_w is None:
        y_buf[:, m] = 1.0
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        size = rows.stop - start
        xb = np.subtract(X[rows], shift_x, out=x_buf[:size])
        y_aug = y_buf[:size]
        yb = np.subtract(Y[rows], shift_y, out=y_aug[:, :m])
        if sqrt_w is not None:
            sw = sqrt_w[rows]
            xb *= sw[:, None]
            yb *= sw[:, None]
            y_aug[:, m] = sw
        ones = y_aug[:, m]
        y_sum += ones @ yb
        yty += np.einsum("ij,ij->j", yb, yb)
        if xtx is not None and xty is not None:
            xtx += xb.T @ xb  # numpy dispatches ``A.T @ A`` to BLAS syrk
            # ``([Yb, w]ᵀ Xb)ᵀ``: the C-ordered product is ~3x faster than
            # ``Xbᵀ Yb``.
            cross = y_aug.T @ xb
            xty += cross[:m].T
            x_sum += cross[m]
        else:
            x_sq += np.einsum("ij,ij->j", xb, xb)
            x_sum += ones @ xb
    if xtx is not None:
        x_sq = np.diag(xtx).copy()
    return xtx, xty, x_sq, yty, x_sum, y_sum


def _accumulate_unshifted(X, Y, shift_y):
    """:func:`_accumulate` for unit weights and a zero shift of ``X``.

    ``Xᵀ X`` in one BLAS call on ``X`` as given (no copy). With few targets
    (``8 (m + 1) ≤ d``: the copy is at most an eighth of ``X``), the shifted
    targets and a column of ones are copied into one array ``Y1 = [Y - s, 1]``
    and ``Y1ᵀ X`` gives ``Xᵀ Yt`` and the column sums of ``X`` in one more
    read of ``X``, and ``Y1ᵀ Yt`` the sums and squares of the targets. With
    more targets, the other statistics come from blocks of rows read in
    place, the targets copied into a shifted buffer only if ``shift_y`` is
    not zero.
    """
    n, d = X.shape
    m = Y.shape[1]
    xtx = X.T @ X  # numpy dispatches ``A.T @ A`` to BLAS syrk
    if 8 * (m + 1) <= d:
        Y1 = np.empty((n, m + 1))
        np.subtract(Y, shift_y, out=Y1[:, :m])
        Y1[:, m] = 1.0
        # ``(Y1ᵀ X)ᵀ``: the C-ordered product is ~3x faster than ``Xᵀ Y1``.
        cross = Y1.T @ X
        y_cross = Y1.T @ Y1[:, :m]
        return (
            xtx,
            np.ascontiguousarray(cross[:m].T),
            np.diag(xtx).copy(),
            np.diag(y_cross[:m]).copy(),
            cross[m].copy(),
            y_cross[m].copy(),
        )
    xty, x_sum = np.zeros((d, m)), np.zeros(d)
    yty, y_sum = np.zeros(m), np.zeros(m)
    step = max(256, _PASS_BLOCK_ENTRIES // (d + m))
    ones = np.ones(min(step, n))
    y_buf = np.empty((min(step, n), m)) if np.any(shift_y) else None
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        size = rows.stop - start
        xb = X[rows]
        yb = (
            Y[rows]
            if y_buf is None
            else np.subtract(Y[rows], shift_y, out=y_buf[:size])
        )
        # ``(Ybᵀ Xb)ᵀ``: the C-ordered product is ~3x faster than ``Xbᵀ Yb``.
        xty += (yb.T @ xb).T
        x_sum += ones[:size] @ xb
        y_sum += ones[:size] @ yb
        yty += np.einsum("ij,ij->j", yb, yb)
    return xtx, xty, np.diag(xtx).copy(), yty, x_sum, y_sum


def _prepare_problem(X, Y, sample_weight, fit_intercept, *, gram=True):
    """Weighted means, Gram matrix and cross-products in one pass over rows.

    With an intercept, the rows are shifted by an estimate of the weighted
    column means (the mean of a strided sample of about 1024 rows) and the
    exact weighted means ``x̄ = s + δ`` come out of the same pass
    (``δ = Σ w (x - s) / Σ w``); the centred statistics follow exactly, e.g.
    ``Xtᵀ Xt = Σ w (x - s)(x - s)ᵀ - Σw δ δᵀ``. With unit weights and a
    sample whose column means are all within 3.6 standard deviations of 0,
    the shift of ``X`` is 0: ``X`` is read as given, without a copy
    (:func:`_accumulate_unshifted`), and so are the targets when their means
    are small too. When the shift is far from the mean next to the spread
    of a column or target (``Σw δ² > 16 ×`` its centred sum of squares, 4
    standard deviations, e.g. rows sorted by a feature), the cancellation
    would cost more than 4 bits and the pass is made again on rows centred
    by the exact means (two passes, as without the estimate).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,) or None
    fit_intercept : bool
    gram : bool, default=True
        Form the Gram matrix and ``Xtᵀ Yt`` (the primal form). ``False``
        forms only the column norms, ``‖Yt‖²`` and the column sums (the dual
        form, :func:`_solve_ridge_dual`, which reads the rows itself):
        ``O(n d)`` instead of ``O(n d²)``.

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
        shift_x = _shift_estimate(X, sample_weight, allow_zero=gram)
        shift_y = _shift_estimate(Y, sample_weight, allow_zero=not np.any(shift_x))
    else:
        shift_x, shift_y = np.zeros(d), np.zeros(m)
    for attempt in range(2):
        xtx, xty, x_sq, yty, x_sum, y_sum = _accumulate(
            X, Y, sqrt_w, shift_x, shift_y, gram
        )
        if not fit_intercept:
            X_offset, y_offset = shift_x, shift_y
            break
        # The exact weighted means, and the statistics of the centred rows.
        delta_x, delta_y = x_sum / w_sum, y_sum / w_sum
        X_offset, y_offset = shift_x + delta_x, shift_y + delta_y
        shift_x_sq, shift_y_sq = w_sum * delta_x**2, w_sum * delta_y**2
        x_sq = x_sq - shift_x_sq
        yty = yty - shift_y_sq
        if xtx is not None and xty is not None:
            xtx -= w_sum * np.outer(delta_x, delta_x)
            xty -= w_sum * np.outer(delta_x, delta_y)
        # Σ w (x - x̄) for the rounded means (the intercept step's sums).
        x_sum = x_sum - w_sum * (X_offset - shift_x)
        y_sum = y_sum - w_sum * (y_offset - shift_y)
        # Below these, a column or target is constant (see _active_columns).
        x_noise = (8.0 * _EPS) ** 2 * n * w_sum * X_offset**2
        y_noise = (8.0 * _EPS) ** 2 * n * w_sum * y_offset**2
        finite = np.isfinite(x_sum).all() and np.isfinite(y_sum).all()
        if (
            attempt
            or not finite
            or (
                np.all(shift_x_sq <= _SHIFT_LIMIT * np.maximum(x_sq, x_noise))
                and np.all(shift_y_sq <= _SHIFT_LIMIT * np.maximum(yty, y_noise))
            )
        ):
            break
        # A poor estimate: centre by the exact means (the next δ is rounding).
        shift_x, shift_y = X_offset, y_offset
    yty = np.clip(yty, 0.0, None)
    col_norms = np.sqrt(np.clip(x_sq, 0.0, None))
    active = _active_columns(col_norms, X_offset, n, w_sum, fit_intercept)
    return _Problem(
        X=X,
        Y=Y,
        sqrt_w=sqrt_w,
        X_offset=X_offset,
        y_offset=y_offset,
        gram=xtx,
        xty=xty,
        yty=yty,
        x_sum=x_sum,
        y_sum=y_sum,
        w_sum=w_sum,
        col_norms=np.where(active, col_norms, 0.0),
        active=active,
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


#: Dense factorisations and solves of at most this order run on one BLAS
#: thread (:func:`_small_dense`).
_SINGLE_THREAD_FACTOR = 1024


def _small_dense(order):
    """One BLAS thread for dense linear algebra of order at most 1024.

    LAPACK's threaded Cholesky, triangular solves and SVD synchronise on
    many small calls: on 2 cores one thread was faster at every order up to
    2200 (a 256 × 256 Cholesky: 3.6 ms median with two threads against
    0.37 ms with one; a 64 × 64 solve with 100 right-hand sides 5 ms against
    0.05 ms), and two threads stalled for up to 0.1 s.
    """
    return single_threaded_blas() if order <= _SINGLE_THREAD_FACTOR else nullcontext()


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


def _triangular_reduction(problem, min_rcond=1e-6):
    """``(R, QᵀYt)`` with ``‖Yt - Xt B‖² = ‖QᵀYt - R B‖² + const`` (active columns).

    From the Cholesky factor of the column-scaled Gram matrix when its
    reciprocal condition number is at least ``min_rcond`` (no further pass
    over the data), otherwise from a QR factorisation of the data
    (:meth:`_Problem.qr_reduce`).
    """
    act = problem.active
    scale = problem.col_norms[act]
    gram_s = problem.gram[np.ix_(act, act)] / np.outer(scale, scale)
    factor, rcond = _cholesky_rcond(gram_s)
    noise = problem.noise_floor * np.sqrt(np.sum(1.0 / scale**2))
    if factor is not None and rcond >= max(min_rcond, 1e4 * noise**2):
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
       ``1e-4`` and the certificate evaluated from ``G`` and ``C`` is below
       ``1e-12``. The certificate is then computed from the normal equations
       (``C - (G + αI) B``) without another pass over the data.
    2. ``"qr"``: a QR factorisation of the data ``[Xt | Yt] = Q [R | QᵀYt]``
       (blockwise, backward stable), then for ``α = 0`` the SVD of ``R`` and
       the minimum-norm solution, treating as zero the singular values below
       ``max(n, d) · eps · σ_max`` or below the rounding noise of the centred
       design, ``max(n, d) · eps · ‖W^{1/2} X‖_F`` (centring a column with a
       large mean leaves noise of that size, which must not be fitted); for
       ``α > 0``, the solution of ``(RᵀR + αI) B = Rᵀ QᵀYt`` through the SVD.
       Then up to 5 steps of iterative refinement with residuals computed on
       the data, ``B += (RᵀR + αI)⁺ (Xtᵀ (Yt - Xt B) - αB)``, keeping per
       target the iterate with the smallest certificate (measured on the
       data).

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
        if factor is not None and rcond >= 1e-4:
            coef_a = (
                linalg.cho_solve(factor, xty / scale[:, None], check_finite=False)
                / scale[:, None]
            )
            # Certificate from the normal equations, without a pass over the data.
            grad = xty - problem.gram[np.ix_(act, act)] @ coef_a
            cert = _certificate(problem, grad, coef_a, alpha)
            if cert.max(initial=0.0) <= 1e-12:
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
    at least ``1e-4`` and the certificate, evaluated on the data
    (``Xtᵀ (Yt - Xt B) - αB``), is at most ``1e-12``, that is the solution
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
    if factor is not None and rcond >= 1e-4:
        targets = problem.centred_targets()
        with _small_dense(scale.size):
            dual = (
                linalg.cho_solve(factor, targets / scale[:, None], check_finite=False)
                / scale[:, None]
            )
        coef_a, fitted = problem.active_design_products(dual)
        grad = problem.active_gradient(targets - fitted)
        cert = _certificate(problem, grad, coef_a, alpha)
        if cert.max(initial=0.0) <= 1e-12:
            coef[act] = coef_a
            return coef, cert, "dual"
    return _solve_ridge_qr(problem, alpha)


def _refine(problem, coef_a, solve, alpha, max_iter=5):
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
        if not better.any() or best_cert.max(initial=0.0) <= 1e-15:
            break
        coef_a = coef_a + solve(grad)
    return best, best_cert


def _validate_head_data(head, X, y, sample_weight, *, check_finite=True):
    """Validate a head's ``fit`` input (``validate_data`` sets ``n_features_in_``).

    ``check_finite=False`` leaves the finiteness of ``X`` and ``y`` to the
    caller, which checks the statistics of its pass over the rows instead
    (:func:`_check_finite_statistics`): one pass over the data fewer.

    Returns
    -------
    X : ndarray of float64 of shape (n_samples, n_features)
    Y : ndarray of float64 of shape (n_samples, n_targets)
        ``y`` as a 2-D array.
    y_ndim : int
        The dimension of ``y`` as given (1 or 2), for the fitted shapes.
    sample_weight : ndarray of float64 of shape (n_samples,) or None
        Non-negative weights, ``None`` for unit weights.
    """
    with config_context(assume_finite=True) if not check_finite else nullcontext():
        X, y = validate_data(
            head, X, y, dtype=np.float64, y_numeric=True, multi_output=True
        )
    y = np.asarray(y, dtype=np.float64)
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return X, Y, y.ndim, sample_weight


def _check_finite_statistics(head, problem, X, Y):
    """Raise scikit-learn's error for non-finite ``X`` or ``Y`` of a prepared problem.

    A NaN or infinite entry of ``X`` (``Y``) makes the column sums
    ``problem.x_sum`` (``problem.y_sum``) of :func:`_prepare_problem`
    non-finite, so the data are scanned only when those are: the error is
    the one ``check_array`` raises (nothing when the inputs are finite and
    only the sums overflowed, or under ``assume_finite``).
    """
    if np.isfinite(problem.x_sum).all() and np.isfinite(problem.y_sum).all():
        return
    name = type(head).__name__
    _assert_all_finite(X, input_name="X", estimator_name=name)
    _assert_all_finite(Y, input_name="y", estimator_name=name)


@dataclass
class _Solution:
    """What a head's ``_solve`` returns for the active columns of a problem.

    Attributes
    ----------
    coef : ndarray of shape (n_active, n_targets)
        Coefficients of the active (non-constant) columns.
    certificate : ndarray of shape (n_targets,)
        The head's optimality certificate for each target (without the
        intercept's condition, which the template adds).
    per_target : dict of str to ndarray of shape (n_targets,)
        Fitted attributes with one value per target (a float for 1-D ``y``).
    info : dict of str to object
        Other fitted attributes, set as given.
    """

    coef: np.ndarray
    certificate: np.ndarray
    per_target: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def _mean_residual(problem, coef, y_offset):
    """Weighted mean of ``Y - (X - x̄) coef - y_offset`` per target.

    From the column sums of the centred rows that :func:`_prepare_problem`
    accumulated (``Σ w (y - ȳ) - Σ w (x - x̄) coef``), without a pass over
    the data: the sums are of the same rounded differences ``x_i - x̄`` that
    :meth:`_BaseHead.predict` evaluates, so this is the mean residual of the
    predictions up to the rounding of one sum.

    Returns
    -------
    mean : ndarray of shape (n_targets,)
    w_sum : float
    """
    total = problem.y_sum - problem.w_sum * (y_offset - problem.y_offset)
    total = total - problem.x_sum @ coef
    return total / problem.w_sum, problem.w_sum


def _fit_intercept(problem, coef):
    """The intercept's offset with zero weighted mean residual, and its certificate.

    ``ȳ`` alone is the optimal offset only if the centred columns sum to
    exactly zero, which rounding breaks when a feature's mean is large next
    to its spread; one refinement step makes the weighted residuals sum to
    zero. The certificate is the relative violation of the intercept's
    optimality condition, ``|Σ w_i r_ik| / (√(Σ w) ‖y_k‖)`` with ``y_k`` the
    centred weighted target (the stationarity residual of the constant
    column), measured after the step. Both use the column sums of the
    centred rows (:func:`_mean_residual`): no further pass over the data.

    Returns
    -------
    y_offset : ndarray of shape (n_targets,)
    certificate : ndarray of shape (n_targets,)
    """
    y_offset = problem.y_offset.copy()
    delta, _ = _mean_residual(problem, coef, y_offset)
    y_offset += delta
    delta, w_sum = _mean_residual(problem, coef, y_offset)
    return y_offset, _safe_ratio(np.sqrt(w_sum) * np.abs(delta), problem.y_norms)


class _BaseHead(RegressorMixin, BaseEstimator):
    """Template ``fit``, prediction and tags shared by the exact linear heads.

    :meth:`fit` validates the data, forms the centred weighted problem
    (:func:`_prepare_problem`) and calls the head's ``_solve(problem)`` on
    its active columns, which returns a :class:`_Solution`; it then fits the
    intercept, adds its optimality condition to the certificate and stores
    ``coef_``, ``intercept_``, ``kkt_residual_`` and the head's own fitted
    attributes. Without active columns, ``_solve`` is not called: the
    coefficients and certificates are 0 and each of ``_per_target_attributes``
    is 0, and ``_constant_info`` gives the other attributes.
    """

    #: The head's function set is convex: its exact least-squares fit is a
    #: projection, so Theorem 1 of Charikar et al. (2024) applies.
    _skwtsg_convex = True

    #: Names of the fitted attributes with one value per target.
    _per_target_attributes: tuple = ()

    #: Other fitted attributes when no column is active (all constant).
    _constant_info: dict = {}

    def _solve(self, problem: _Problem) -> _Solution:
        raise NotImplementedError

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> _BaseHead:
        """Fit the exact solution for every target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Strong features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (for weak-to-strong training, the weak labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the squared errors.

        Returns
        -------
        self : object
            The fitted head.
        """
        # Finiteness is checked on the statistics of the one pass over the
        # rows (``_check_finite_statistics``), not by a pass of its own.
        X_arr, Y, y_ndim, sample_weight = _validate_head_data(
            self, X, y, sample_weight, check_finite=False
        )
        self.__dict__.pop("_statistics", None)  # a new fit forgets ``partial_fit``
        with np.errstate(invalid="ignore"):  # NaN statistics of non-finite data
            problem = _prepare_problem(
                X_arr,
                Y,
                sample_weight,
                self.fit_intercept,
                gram=self._uses_gram(*X_arr.shape),
            )
        _check_finite_statistics(self, problem, X_arr, Y)
        return self._fit_problem(problem, y_ndim)

    def _uses_gram(self, n_samples: int, n_features: int) -> bool:
        """Whether ``_solve`` needs the Gram matrix (else it reads the rows)."""
        return True

    def _fit_problem(self, problem, y_ndim):
        """Solve a prepared problem and set the fitted attributes.

        ``problem`` is a :class:`_Problem` or, for ``partial_fit``, a
        statistics-only problem (``skwtsg.heads._stats``) that computes the
        intercept's offset and certificate itself.
        """
        m = problem.n_targets
        coef = np.zeros((problem.n_features, m))
        if problem.active.any():
            solution = self._solve(problem)
            coef[problem.active] = solution.coef
        else:
            solution = _Solution(
                coef=coef,
                certificate=np.zeros(m),
                per_target={name: np.zeros(m) for name in self._per_target_attributes},
                info=dict(self._constant_info),
            )
        certificate = np.asarray(solution.certificate, dtype=np.float64)
        y_offset = problem.y_offset
        if self.fit_intercept:
            if isinstance(problem, _Problem):
                y_offset, intercept_cert = _fit_intercept(problem, coef)
            else:
                y_offset, intercept_cert = problem.fit_intercept(coef)
            certificate = np.maximum(certificate, intercept_cert)
        self.kkt_residual_ = float(np.max(certificate, initial=0.0))
        for name, value in solution.per_target.items():
            setattr(self, name, float(value[0]) if y_ndim == 1 else value)
        for name, value in solution.info.items():
            setattr(self, name, value)
        self._set_linear(problem, coef, y_offset, y_ndim)
        return self

    def _set_linear(self, problem, coef, y_offset, y_ndim):
        """Store ``coef_`` and ``intercept_`` in LinearRegression's shapes."""
        intercept = y_offset - problem.X_offset @ coef
        self._X_offset = problem.X_offset
        if y_ndim == 1:
            self.coef_ = coef[:, 0].copy()
            self.intercept_ = float(intercept[0])
            self._y_offset = float(y_offset[0])
        else:
            self.coef_ = np.ascontiguousarray(coef.T)
            self.intercept_ = intercept
            self._y_offset = y_offset

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict with the fitted linear head.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            ``X @ coef_.T + intercept_``, evaluated as
            ``(X - x̄) @ coef_.T + ȳ`` with the weighted training means, which
            is the same in exact arithmetic but avoids the cancellation
            between ``x̄ @ coef_.T`` and ``intercept_`` when the features have
            large means.
        """
        check_is_fitted(self)
        X_arr = validate_data(self, X, reset=False, dtype=np.float64)
        out_shape = (X_arr.shape[0],) + self.coef_.shape[:-1]
        y_pred = np.empty(out_shape)
        for rows in _row_blocks(*X_arr.shape):
            y_pred[rows] = (
                X_arr[rows] - self._X_offset
            ) @ self.coef_.T + self._y_offset
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = False
        return tags
