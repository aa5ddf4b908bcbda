"""The weighted least-squares problem of the exact linear heads, in one pass.

Every linear head solves a weighted least-squares problem in the centred
design ``Xt = W^{1/2} (X - 1 x̄ᵀ)`` and targets ``Yt`` (the free intercept
profiled out exactly). One blockwise pass (:func:`_prepare_problem`) forms
``Xtᵀ Xt`` and ``Xtᵀ Yt`` without a centred copy of ``X``; further passes
(:class:`_Problem`'s methods) compute residuals on the data for refinement
and certificates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ._constants import (
    BLOCK_ENTRIES,
    CONSTANT_COLUMN_FACTOR,
    EPS,
    MIN_BLOCK_COLUMNS,
    MIN_BLOCK_ROWS,
    PASS_BLOCK_ENTRIES,
    SHIFT_LIMIT,
    SHIFT_SAMPLE,
    TARGET_COPY_RATIO,
    ZERO_SHIFT_MARGIN,
)


def _row_blocks(n_samples, n_features):
    """Yield slices of rows of about :data:`BLOCK_ENTRIES` entries each."""
    step = max(MIN_BLOCK_ROWS, BLOCK_ENTRIES // max(1, n_features))
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


@dataclass
class _Problem:
    """A validated weighted least-squares problem and its sufficient statistics.

    ``X``, ``Y`` as given; ``sqrt_w`` (None for unit weights); the weighted
    means ``X_offset``, ``y_offset``; ``gram = Xtᵀ Xt`` and ``xty = Xtᵀ Yt``
    (None when prepared for the dual form); ``yty``; ``x_sum``, ``y_sum``,
    the sums of the centred rows as rounded (not exactly 0); ``w_sum``;
    ``col_norms``; ``active``, the columns not constant once centred (the
    others get a zero coefficient).
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

        Each block holds about :data:`BLOCK_ENTRIES` entries (at least
        :data:`MIN_BLOCK_COLUMNS` columns), so the centred copy of ``X``
        never exists in full: the dual (kernel) form of
        :func:`_solve_ridge_dual` reads the design this way.
        """
        n = self.X.shape[0]
        cols_all = np.flatnonzero(self.active)
        step = max(MIN_BLOCK_COLUMNS, BLOCK_ENTRIES // max(1, n))
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
        step = max(4 * width, BLOCK_ENTRIES // max(1, width))
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
        cutoff = max(max(self.X.shape) * EPS * sv.max(), self.noise_floor)
        return int(np.sum(sv > cutoff))

    @property
    def y_norms(self):
        """``‖Yt[:, k]‖`` for each target."""
        return np.sqrt(self.yty)


def _noise_floor(n, d, w_sum, col_norms, X_offset, active):
    """``max(n, d) · eps · ‖W^{1/2} X‖_F`` over the active columns (uncentred)."""
    raw = col_norms**2 + w_sum * X_offset**2
    return max(n, d) * EPS * float(np.sqrt(np.sum(raw[active])))


def _active_columns(col_norms, X_offset, n, w_sum, fit_intercept):
    """Columns that are not constant: above the rounding noise of centring."""
    if fit_intercept:
        # A constant column centres to rounding noise of size ~eps * |mean|:
        # treat it as exactly constant (the intercept absorbs it).
        tol = CONSTANT_COLUMN_FACTOR * EPS
        return col_norms > tol * np.sqrt(n * w_sum) * np.abs(X_offset)
    return col_norms > 0.0


def _shift_estimate(A, sample_weight, allow_zero=False):
    """A cheap estimate of the weighted column means: the mean of a row sample.

    With ``allow_zero``, zeros when the sample's means are all small next to
    its standard deviations (:data:`ZERO_SHIFT_MARGIN`): the rows need no
    shift for an accurate pass.
    """
    n = A.shape[0]
    step = max(1, n // SHIFT_SAMPLE)
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
    if np.all(mean**2 <= ZERO_SHIFT_MARGIN * SHIFT_LIMIT * var):
        return np.zeros_like(mean)
    return mean


def _accumulate(X, Y, sqrt_w, shift_x, shift_y, gram):
    """One blockwise pass over ``W^{1/2}(X - shift_x)`` and ``W^{1/2}(Y - shift_y)``:
    ``(xtx, xty, x_sq, yty, x_sum, y_sum)`` (``xtx``, ``xty`` None without
    ``gram``), through two buffers allocated once."""
    n, d = X.shape
    m = Y.shape[1]
    if gram and sqrt_w is None and not np.any(shift_x):
        return _accumulate_unshifted(X, Y, shift_y)
    step = max(MIN_BLOCK_ROWS, PASS_BLOCK_ENTRIES // max(1, d + m + 1))
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
            # ``([Yb, w]ᵀ Xb)ᵀ``: this C-ordered product is the faster form
            # of ``Xbᵀ Yb``.
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
    """:func:`_accumulate` for unit weights and a zero shift of ``X``, read as
    given (no copy); with few targets, ``[Y - s, 1]`` is copied so that one
    product gives ``Xᵀ Yt`` and the column sums."""
    n, d = X.shape
    m = Y.shape[1]
    xtx = X.T @ X  # numpy dispatches ``A.T @ A`` to BLAS syrk
    if TARGET_COPY_RATIO * (m + 1) <= d:
        Y1 = np.empty((n, m + 1))
        np.subtract(Y, shift_y, out=Y1[:, :m])
        Y1[:, m] = 1.0
        # ``(Y1ᵀ X)ᵀ``: this C-ordered product is the faster form of ``Xᵀ Y1``.
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
    step = max(MIN_BLOCK_ROWS, PASS_BLOCK_ENTRIES // (d + m))
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
        # ``(Ybᵀ Xb)ᵀ``: this C-ordered product is the faster form of ``Xbᵀ Yb``.
        xty += (yb.T @ xb).T
        x_sum += ones[:size] @ xb
        y_sum += ones[:size] @ yb
        yty += np.einsum("ij,ij->j", yb, yb)
    return xtx, xty, np.diag(xtx).copy(), yty, x_sum, y_sum


def _prepare_problem(X, Y, sample_weight, fit_intercept, *, gram=True):
    """Weighted means, Gram matrix and cross-products in one pass over the rows.

    With an intercept the rows are shifted by an estimate of the means (a
    strided sample) and the exact centred statistics follow from the same
    pass; ``X`` is read unshifted (no copy) when its means are small next to
    its spread. When the shift is far from the mean (cancellation beyond
    :data:`SHIFT_LIMIT`), the pass is made again on exactly centred rows.
    ``gram=False`` forms only what the dual form needs, ``O(n d)``.
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
        x_noise = (CONSTANT_COLUMN_FACTOR * EPS) ** 2 * n * w_sum * X_offset**2
        y_noise = (CONSTANT_COLUMN_FACTOR * EPS) ** 2 * n * w_sum * y_offset**2
        finite = np.isfinite(x_sum).all() and np.isfinite(y_sum).all()
        if (
            attempt
            or not finite
            or (
                np.all(shift_x_sq <= SHIFT_LIMIT * np.maximum(x_sq, x_noise))
                and np.all(shift_y_sq <= SHIFT_LIMIT * np.maximum(yty, y_noise))
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
