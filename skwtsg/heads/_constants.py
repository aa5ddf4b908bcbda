"""Tuned numerical constants of the exact least-squares heads, in one place.

Each constant says why it has its value. The timings behind the block sizes
and the one-thread limit are re-measured by
``benchmarks/bench_head_constants.py`` and ``benchmarks/bench_heads.py``,
not recorded here.
"""

from __future__ import annotations

import numpy as np

#: Machine epsilon of float64, the unit of every rounding bound below.
EPS = float(np.finfo(np.float64).eps)

# --- Memory blocks ---------------------------------------------------------

#: Entries of one block of rows or columns (1 MiB of float64): a centred copy
#: of the block stays in cache for the BLAS products that read it.
BLOCK_ENTRIES = 1 << 17

#: Entries of one block of the pass that forms the Gram matrix (4 MiB): fewer,
#: larger BLAS calls, and the pass's buffers are allocated only once.
PASS_BLOCK_ENTRIES = 1 << 19

#: Fewest rows in a block: below this, per-call overhead dominates the BLAS work.
MIN_BLOCK_ROWS = 256

#: Fewest columns in a block of the dual form: the same, for column blocks.
MIN_BLOCK_COLUMNS = 64

#: The unshifted pass copies ``[Y - s, 1]`` when ``X`` has at least this many
#: columns per copied column: the copy is then at most this fraction of ``X``.
TARGET_COPY_RATIO = 8

# --- One-pass centring -----------------------------------------------------

#: Rows of the strided sample whose mean is the shift of the one-pass centring:
#: its sampling error, about σ/√1024 = 3% of a standard deviation, costs nothing.
SHIFT_SAMPLE = 1024

#: The shifted pass is accepted while ``Σw δ² <= SHIFT_LIMIT ×`` the centred sum
#: of squares (shift within 4 standard deviations): at most 4.1 of 53 bits lost.
SHIFT_LIMIT = 16.0

#: ``X`` is read unshifted when the sample's ``mean² <= ZERO_SHIFT_MARGIN ×
#: SHIFT_LIMIT × variance``: a margin of about 5 standard errors of the sample.
ZERO_SHIFT_MARGIN = 0.8

#: A centred column (or target) below ``CONSTANT_COLUMN_FACTOR · eps · √(n Σw)
#: |mean|`` is rounding noise of centring a constant: the intercept absorbs it.
CONSTANT_COLUMN_FACTOR = 8.0

# --- Solver choice and accuracy --------------------------------------------

#: Dense factorisations of at most this order run on one BLAS thread: threaded
#: LAPACK synchronises on many small calls and is slower there.
SINGLE_THREAD_FACTOR = 1024

#: Smallest reciprocal condition number (1-norm) of a column-scaled system for
#: its Cholesky solve: the normal equations then lose at most 4 of ~16 digits.
CHOLESKY_MIN_RCOND = 1e-4

#: Largest certificate of a Cholesky solution that is accepted; above it, the
#: backward-stable ``"qr"`` path refines the solution on the data.
CHOLESKY_MAX_CERTIFICATE = 1e-12

#: Smallest reciprocal condition number for which the triangular reduction
#: ``(R, QᵀY)`` is taken from the Gram matrix rather than a QR of the data.
REDUCTION_MIN_RCOND = 1e-6

#: The Gram-matrix reduction also needs ``rcond >= REDUCTION_NOISE_FACTOR ×
#: noise²``: the smallest scaled singular value is 100 × the centring noise.
REDUCTION_NOISE_FACTOR = 1e4

#: Steps of iterative refinement on the data: each gains the digits lost by the
#: approximate inverse; more than a few only repeat the rounding floor.
REFINE_MAX_ITER = 5

#: Refinement stops once every target's certificate is at most this: a few
#: units of rounding, below which a further step cannot improve it.
REFINE_TARGET = 1e-15

#: Largest condition number (of column-scaled rows) for Cholesky-QR2 in the
#: statistics of ``partial_fit``; beyond, its factor loses accuracy (cond² eps).
CHOLQR_MAX_COND = 1e5
