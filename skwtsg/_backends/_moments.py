"""Joint weighted moments of rows, and what linear fits and their losses read of them.

The Dask fit reads every row once (:mod:`._dask`). Of each set of rows it
keeps the weighted moments of one *joint* row vector ``v`` (the weak group:
weak features or a frozen weak model's labels; the targets; the strong
group: strong features or a frozen strong model's outputs): the row count,
the weight sum ``W``, the weighted mean ``v̄`` and the centred scatter
``M = Σ w (v - v̄)(v - v̄)ᵀ`` as a triangular factor ``R`` (``RᵀR = M``,
:class:`Moments`). Everything a weak-to-strong fit with linear heads
computes is a function of these:

- a least-squares head's statistics are the moments of ``[x | y]`` for two
  affine maps ``x = f(v)``, ``y = g(v)`` (:func:`head_statistics`): the
  weak head's of ``[weak features | targets]``, the strong head's of
  ``[strong features | weak labels]``, where the weak labels
  ``(z_w - x̄_w) B_wᵀ + ȳ_w`` are an affine map of the weak features once
  the weak head is solved;
- every diagnostic is a weighted sum of squares of an affine map
  ``f(v) = (v - s) T + c`` (``y - ℓ``, ``y - s``, ``ℓ - s``):
  ``Σ w f(v)² = ‖R T‖² + W f(v̄)²`` per output (:func:`sum_of_squares`).

Numerics. The rows are shifted by a fixed reference row (the first row of
the data) and each block of rows is centred on its own weighted mean; its
factor is computed by Cholesky-QR2 (Gram-matrix products, BLAS-3), or by
Householder QR when the block is badly conditioned or rank deficient (e.g.
weak features in the span of the strong ones). Blocks are merged with Chan,
Golub and LeVeque's pairwise update in factored form, the ``R`` factor of
``[R_a; R_b; √(W_a W_b / W) δᵀ]`` (:func:`merge_moments`), as
:func:`skwtsg.heads._stats.merge_statistics` merges a head's statistics. No
raw sum ``Σ vvᵀ`` is formed, so a large mean next to a small spread costs no
accuracy. A factor rather than the scatter itself matters for the
diagnostics: a misfit much smaller than the labels' variance is ``‖R t‖²``
for a map ``t`` whose terms nearly cancel, which the factor gives to a
relative error of about ``eps ‖R‖‖t‖ / ‖R t‖`` and the scatter only to the
square of that (for a misfit 1e-6 of the labels' variance: 1e-12 against
1e-8).

References
----------
T. F. Chan, G. H. Golub and R. J. LeVeque, "Algorithms for computing the
sample variance: analysis and recommendations", The American Statistician
37(3), 1983.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.linalg import blas, lapack

from ..heads._constants import CHOLQR_MAX_COND
from ..heads._stats import LeastSquaresStatistics, _triangular

__all__ = [
    "Affine",
    "Moments",
    "block_moments",
    "head_statistics",
    "merge_moments",
    "sum_of_squares",
]


@dataclass(frozen=True)
class Moments:
    """Weighted moments of a set of rows of the joint vector (see the module).

    Attributes
    ----------
    count : int
        Number of rows.
    weight : float
        Sum of their weights.
    mean : ndarray of shape (width,)
        Weighted mean of the rows minus the reference row (zeros when the
        weight is 0).
    R : ndarray of shape (k, width)
        Upper trapezoidal factor of the centred weighted rows:
        ``RᵀR = Σ w (v - v̄)(v - v̄)ᵀ``, ``k <= width``.
    """

    count: int
    weight: float
    mean: np.ndarray
    R: np.ndarray

    @classmethod
    def empty(cls, width: int) -> Moments:
        """The moments of no row."""
        return cls(0, 0.0, np.zeros(width), np.zeros((0, width)))

    @property
    def width(self) -> int:
        return self.mean.shape[0]

    def columns(self, width: int) -> Moments:
        """The moments of the first ``width`` entries of the vector."""
        # the leading columns of an upper trapezoidal factor are one
        return Moments(self.count, self.weight, self.mean[:width], self.R[:, :width])

    def is_finite(self) -> bool:
        """Whether no value of the rows was NaN or infinite (nor overflowed)."""
        return bool(np.isfinite(self.mean).all() and np.isfinite(self.R).all())


#: Below this many rows per column a block is factored by Householder QR.
_MIN_ROWS_PER_COLUMN = 4


def _factor_rows(A: np.ndarray) -> np.ndarray:
    """The ``R`` factor of the rows ``A`` (overwritten): Cholesky-QR2, else QR.

    Cholesky-QR2 as :func:`skwtsg.heads._stats._cholesky_qr2` computes it
    (``R₁`` from the column-scaled Gram matrix, ``Q = A R₁⁻¹``, ``R₂`` from
    ``QᵀQ``, ``R = R₂ R₁``: three BLAS-3 products, as accurate as
    Householder QR when ``R₁`` is well conditioned), with ``Q`` formed in
    place of ``A`` (no copy of the block) by a triangular product. A badly
    conditioned or rank-deficient block (e.g. weak features in the span of
    the strong ones) is factored by Householder QR.
    """
    n, width = A.shape
    if width and n >= _MIN_ROWS_PER_COLUMN * width:
        gram = A.T @ A
        norms = np.sqrt(np.diag(gram))
        if np.all(norms > 0) and np.all(np.isfinite(norms)):
            try:
                r1 = linalg.cholesky(
                    gram / np.outer(norms, norms), lower=False, check_finite=False
                )
                sv = linalg.svdvals(r1, check_finite=False)
                well = sv[-1] > 0 and sv[0] / sv[-1] <= CHOLQR_MAX_COND
            except linalg.LinAlgError:
                well = False
            if well:
                r1 = r1 * norms
                # Qᵀ = R₁⁻ᵀ Aᵀ, over Aᵀ (Fortran-ordered when A is a C-ordered
                # block, so BLAS writes in place), as a triangular product
                # with the inverse: 2-3 times faster than the triangular
                # solve, as accurate for R₁ this well conditioned (the second
                # Cholesky factorisation absorbs either's rounding)
                r1_inv, info = lapack.dtrtri(r1, lower=0)
                if info:
                    return _triangular(A, width)
                qt = blas.dtrmm(1.0, r1_inv, A.T, side=0, trans_a=1, overwrite_b=1)
                try:
                    r2 = linalg.cholesky(qt @ qt.T, lower=False, check_finite=False)
                except linalg.LinAlgError:  # A is Q R₁ now: factor Q instead
                    return _triangular(qt.T, width) @ r1
                return np.asarray(r2 @ r1)
    return _triangular(A, width)


def block_moments(
    A: np.ndarray, sample_weight: np.ndarray | None, shift: np.ndarray
) -> Moments:
    """The moments of the rows of ``A``, about the reference row ``shift``.

    ``A`` is overwritten (centred and weighted in place, one pass over it
    for the mean, one to centre it). A NaN or an infinity gives non-finite
    moments (:meth:`Moments.is_finite`), also on rows of zero weight.
    """
    n, width = A.shape
    w = sample_weight
    total = float(n) if w is None else float(w.sum())
    if total <= 0:
        # no weight: nothing to add, but NaN or infinity must still show
        return Moments(n, total, A.sum(axis=0) * 0.0, np.zeros((0, width)))
    mean = (A.sum(axis=0) if w is None else w @ A) / total
    A -= mean
    if w is not None:
        # NaN times a zero weight stays NaN here (BLAS may skip zero
        # multipliers in ``w @ A``, not NaN entries): the factor shows it
        A *= np.sqrt(w)[:, None]
    return Moments(n, total, mean - shift, _factor_rows(A))


def merge_moments(a: Moments, b: Moments) -> Moments:
    """The moments of the union of two disjoint sets of rows (Chan et al.)."""
    count, total, width = a.count + b.count, a.weight + b.weight, a.width
    if a.weight <= 0 or b.weight <= 0:
        # a set of zero weight adds no moment (but its NaN flags, if any)
        keep, other = (a, b) if b.weight <= 0 else (b, a)
        R = _triangular(np.vstack([keep.R, other.R]), width)
        return Moments(count, total, keep.mean + other.mean * 0.0, R)
    delta = b.mean - a.mean
    frac = b.weight / total
    stack = [a.R, b.R, np.sqrt(a.weight * frac) * delta[None, :]]
    return Moments(
        count, total, a.mean + frac * delta, _triangular(np.vstack(stack), width)
    )


@dataclass(frozen=True)
class Affine:
    """An affine map of the joint vector, ``f(v) = (v - s) @ T + c``.

    ``s`` is the reference row the moments are taken from (the maps are
    built with it, so that ``c`` absorbs it).

    Attributes
    ----------
    T : ndarray of shape (width, k)
    c : ndarray of shape (k,)
    """

    T: np.ndarray
    c: np.ndarray

    @classmethod
    def select(cls, shift: np.ndarray, start: int, stop: int) -> Affine:
        """The entries ``start:stop`` of the vector."""
        T = np.zeros((shift.shape[0], stop - start))
        T[start:stop] = np.eye(stop - start)
        return cls(T, shift[start:stop].copy())

    @classmethod
    def linear(
        cls,
        shift: np.ndarray,
        start: int,
        stop: int,
        coef: np.ndarray,
        origin: np.ndarray,
        offset: np.ndarray,
    ) -> Affine:
        """``(v[start:stop] - origin) @ coef.T + offset``: a linear head's output.

        The form of the heads' ``predict`` (``(X - x̄) @ coef_.T + ȳ``), kept
        so as not to cancel ``x̄ @ coef_.T`` against ``intercept_``.
        """
        coef = np.atleast_2d(coef)
        T = np.zeros((shift.shape[0], coef.shape[0]))
        T[start:stop] = coef.T
        c = (shift[start:stop] - origin) @ coef.T + np.atleast_1d(offset)
        return cls(T, c)

    def __sub__(self, other: Affine) -> Affine:
        return Affine(self.T - other.T, self.c - other.c)

    def on(self, moments: Moments) -> np.ndarray:
        """``T`` restricted to the entries ``moments`` keeps."""
        if np.any(self.T[moments.width :]):
            raise ValueError("The map reads entries these moments do not keep.")
        return self.T[: moments.width]


def mean(moments: Moments, f: Affine) -> np.ndarray:
    """The weighted mean of ``f`` over the rows."""
    return moments.mean @ f.on(moments) + f.c


def centred_sum_of_squares(moments: Moments, f: Affine) -> np.ndarray:
    """``Σ w (f(v) - f̄)²`` per output: ``‖R T‖²`` column by column."""
    RT = moments.R @ f.on(moments)
    return np.einsum("ij,ij->j", RT, RT)


def sum_of_squares(moments: Moments, f: Affine) -> np.ndarray:
    """``Σ w f(v)²`` per output: the centred part plus ``W f̄²``."""
    return centred_sum_of_squares(moments, f) + moments.weight * mean(moments, f) ** 2


def head_statistics(
    moments: Moments, x: Affine, y: Affine, centred: bool
) -> LeastSquaresStatistics:
    """The statistics of a least-squares head fitted on ``(x(v), y(v))`` rows.

    What :func:`skwtsg.heads._stats.block_statistics` returns for those rows,
    from the moments instead: ``R`` is the factor of ``R_v [T_x | T_y]``.
    """
    T = np.hstack([x.on(moments), y.on(moments)])
    k = x.T.shape[1]
    means = moments.mean @ T + np.concatenate([x.c, y.c])
    R = _triangular(moments.R @ T, T.shape[1])
    zeros = np.zeros_like(means)
    if centred:
        # the reference point is the mean itself: the rows' offsets are exact
        shift, rest = means, zeros
    else:
        # the uncentred scatter adds W m mᵀ: append its factor row, no sum
        R = _triangular(np.vstack([R, np.sqrt(moments.weight) * means]), T.shape[1])
        shift, rest = zeros, means
    return LeastSquaresStatistics(
        int(moments.count),
        float(moments.weight),
        shift[:k],
        shift[k:],
        rest[:k],
        rest[k:],
        R,
        centred,
    )
