"""The mutation score of the core, from mutmut's results: ``make mutation``.

mutmut (configured in ``pyproject.toml``, ``[tool.mutmut]``) copies
``skwtsg`` to ``mutants/``, mutates the functions of the core modules one
change at a time and runs the fast tests that reach each mutated function; a
mutant that no test fails on *survives*. This script

- with ``--run [MODULE ...]``, runs mutmut module by module (by default in
  the order of :data:`MODULES`, the most important first), then
- reads every ``mutants/**/*.meta`` file mutmut wrote and writes
  ``benchmarks/mutation_report.md``: per module the mutants killed, survived
  and otherwise; each survivor with its diff and, when a reviewer judged it
  equivalent (no test can tell it from the original), the reason, from
  :data:`EQUIVALENT`. A survivor missing there is listed as *unexplained*; a
  module without results is listed as *not run*.

Usage::

    python benchmarks/mutation_report.py --run            # all modules
    python benchmarks/mutation_report.py --run _intervals # one module
    python benchmarks/mutation_report.py                  # report only
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import subprocess
import sys
import textwrap
import tokenize
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "mutation_report.md"

#: The modules scored, most important first (the order of ``--run``).
MODULES = (
    "skwtsg/metrics/_intervals.py",
    "skwtsg/metrics/_gain.py",
    "skwtsg/metrics/_kl.py",
    "skwtsg/metrics/_losses.py",
    "skwtsg/_roles.py",
    "skwtsg/heads/_solvers.py",
    "skwtsg/metrics/_decomposition.py",
    "skwtsg/metrics/_line.py",
    "skwtsg/metrics/_paired.py",
    "skwtsg/metrics/_selection.py",
)

#: Why a module has no mutant or was left out, for the report.
NOTES = {
    "skwtsg/metrics/_gain.py": (
        "mutmut 3 mutates no decorated function, and every function here is "
        "decorated (`@fill_doc`): no mutant. Its weighted values are checked "
        "by `skwtsg/metrics/tests/test_weighted.py` (planted bugs caught)."
    ),
    "skwtsg/metrics/_decomposition.py": (
        "Every function is decorated (`@fill_doc`): no mutant."
    ),
}

#: mutmut's exit codes (``mutmut.stats.status_by_exit_code``).
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "caught by type check",
    -11: "segfault",
    -9: "segfault",
    None: "not checked",
}

#: Survivors a reviewer read and judged equivalent: mutant name -> why no
#: test can fail on it.
EQUIVALENT: dict[str, str] = {
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_12": (
        '`lower` left at its default, `False`.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_13": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_15": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_20": (
        'Row sums for column sums of a symmetric matrix: the same 1-norm.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_24": (
        '`uplo` left to dpocon\'s default, `"U"`, the factor\'s triangle.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_27": (
        '`uplo` left to dpocon\'s default, `"U"`, the factor\'s triangle.'
    ),
    "skwtsg.heads._solvers.x__small_dense__mutmut_1": (
        'Only how many BLAS threads run the small factorisation changes, not '
        'its result.'
    ),
    "skwtsg.heads._solvers.x__small_dense__mutmut_2": (
        'Only how many BLAS threads run the small factorisation changes, not '
        'its result.'
    ),
    "skwtsg.heads._solvers.x__small_dense__mutmut_3": (
        'Only how many BLAS threads run the small factorisation changes, not '
        'its result.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_44": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_11": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_14": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_16": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_60": (
        '`initial` of a maximum over a non-empty array changes nothing.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_62": (
        "A threshold's boundary: no certificate lands exactly on the constant."
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_20": (
        '`Vt.shape[1]` for `Vt.shape[0]` of the square `Vt` of a full SVD.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_33": (
        'Only the starting point of the QR path changes: `_refine` then '
        'recomputes the gradient on the data and steps with the exact inverse '
        '`solve_svd` (one Newton step for this quadratic), keeping the iterate '
        'of the smallest certificate.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_34": (
        'Only the starting point of the QR path changes: `_refine` then '
        'recomputes the gradient on the data and steps with the exact inverse '
        '`solve_svd` (one Newton step for this quadratic), keeping the iterate '
        'of the smallest certificate.'
    ),
    "skwtsg.heads._solvers.x__stationarity_residual__mutmut_1": (
        'The default `alpha` is never used with a non-zero `coef`: the one '
        'caller that omits it (`_refine`) passes `0.0 * coef`.'
    ),
    "skwtsg.heads._solvers.x__stationarity_residual__mutmut_8": (
        '`alpha` is a float already: the dtype changes nothing.'
    ),
    "skwtsg.heads._solvers.x__stationarity_residual__mutmut_10": (
        '`alpha` is a float already: the dtype changes nothing.'
    ),
    "skwtsg.metrics._losses.x__mse_kernel__mutmut_9": (
        "`reshape(-2, 1)`: numpy reads any negative size as the one to infer."
    ),
    "skwtsg.metrics._losses.x__mse_kernel__mutmut_16": (
        "`reshape(-2, 1)`: numpy reads any negative size as the one to infer."
    ),
    "skwtsg.heads._solvers.x__certificate__mutmut_2": (
        '`initial` of a maximum over a non-empty array (an active column and a '
        'target exist here) changes nothing.'
    ),
    "skwtsg.heads._solvers.x__certificate__mutmut_4": (
        '`initial` of a maximum over a non-empty array (an active column and a '
        'target exist here) changes nothing.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_21": (
        '`initial` of a maximum over a non-empty array (an active column and a '
        'target exist here) changes nothing.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_23": (
        '`initial` of a maximum over a non-empty array (an active column and a '
        'target exist here) changes nothing.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_39": (
        '`initial` of a maximum over a non-empty array (an active column and a '
        'target exist here) changes nothing.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_69": (
        '`initial` of a maximum over a non-empty array (an active column and a '
        'target exist here) changes nothing.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_1": (
        '`shape[1]` for `shape[0]` of a square matrix.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_6": (
        '`shape[1]` for `shape[0]` of a square matrix.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_9": (
        '`lower=None` is falsy: the upper factor, as with `lower=False`.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_10": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_49": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_52": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_54": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_39": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_42": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_30": (
        "`1.0 * coef` for `0.0 * coef` as the penalty term's coefficients, with"
        ' the default `alpha=0`: the term is 0 either way.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_34": (
        '`<=` for `<`: on a tie the iterate kept has the same certificate; '
        'refinement moves it by rounding only.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_37": (
        'Refinement runs to its iteration limit instead of stopping early; the '
        'iterate with the smallest certificate is kept either way.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_40": (
        'The stopping test never passes (a maximum of at least 1): more '
        'iterations, the best iterate kept either way.'
    ),
    "skwtsg.heads._solvers.x__refine__mutmut_41": (
        "A threshold's boundary (`>` for `>=`, `<` for `<=`): no data lands "
        'exactly on the constant.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_15": (
        'The diagonal scaling of the kernel only improves its conditioning; the'
        ' solution of the scaled system is the same, and the certificate that '
        'follows accepts it.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_21": (
        'The diagonal scaling of the kernel only improves its conditioning; the'
        ' solution of the scaled system is the same, and the certificate that '
        'follows accepts it.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_22": (
        'The diagonal scaling of the kernel only improves its conditioning; the'
        ' solution of the scaled system is the same, and the certificate that '
        'follows accepts it.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_23": (
        'The diagonal scaling of the kernel only improves its conditioning; the'
        ' solution of the scaled system is the same, and the certificate that '
        'follows accepts it.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_30": (
        '`alpha >= 0`: adding `0 / scale**2` to the diagonal changes nothing.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_20": (
        '`alpha >= 0`: adding `0 / scale**2` to the diagonal changes nothing.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_42": (
        "A threshold's boundary (`>` for `>=`, `<` for `<=`): no data lands "
        'exactly on the constant.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_71": (
        "A threshold's boundary (`>` for `>=`, `<` for `<=`): no data lands "
        'exactly on the constant.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_family__mutmut_34": (
        "A threshold's boundary (`>` for `>=`, `<` for `<=`): no data lands "
        'exactly on the constant.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_34": (
        'The float32 of the resampled sums (a speed choice) replaced by '
        'float64: the rounding it removes is far below the tolerance of the'
        " comparison with scipy (1e-5 of the width), as the module's "
        'comment says.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_36": (
        'The float32 of the resampled sums (a speed choice) replaced by '
        'float64: the rounding it removes is far below the tolerance of the'
        " comparison with scipy (1e-5 of the width), as the module's "
        'comment says.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_44": (
        'At least 2 resamples per batch: only the memory of the last batch '
        'changes (`b` is still `min(batch, n_resamples - start)`).'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_52": (
        'The float32 of the resampled sums (a speed choice) replaced by '
        'float64: the rounding it removes is far below the tolerance of the'
        " comparison with scipy (1e-5 of the width), as the module's "
        'comment says.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_54": (
        'The float32 of the resampled sums (a speed choice) replaced by '
        'float64: the rounding it removes is far below the tolerance of the'
        " comparison with scipy (1e-5 of the width), as the module's "
        'comment says.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_73": (
        '`rng.integers(n, ...)` is `rng.integers(0, n, ...)`: the same '
        'draws.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_76": (
        'int64 draws for int32: numpy draws a bounded integer below 2**32 '
        'the same way for both dtypes (the resamples, and the match with '
        'scipy, are unchanged).'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_85": (
        "`astype(None)` is `astype(float64)`, the original's "
        '`astype(float)`.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_87": (
        "`astype(None)` is `astype(float64)`, the original's "
        '`astype(float)`.'
    ),
    "skwtsg.metrics._intervals.x__limits__mutmut_59": (
        '`errstate(divide=None)`: only whether numpy warns on a division by'
        ' 0 changes (here only where `1 - a (z0 + z)` is exactly 0); the '
        'values, and the ValueError on a non-finite level, are the same.'
    ),
    "skwtsg.metrics._intervals.x__limits__mutmut_61": (
        '`divide` no longer ignored in the acceleration: `num / (6 den)` '
        'divides a non-zero by 0 never (`den = 0` only with all jackknife '
        'deviations 0, hence `num = 0`: an invalid 0/0, still ignored).'
    ),
    "skwtsg.metrics._intervals.x__limits__mutmut_79": (
        'Acceleration 1 instead of 0 where `den = 0`: with positive weights'
        ' the jackknife deviations are all equal only when they are all 0, '
        'i.e. the losses are constant; their bootstrap deviations are then '
        'all 0 and every level reads 0.'
    ),
    "skwtsg.metrics._intervals.x__limits__mutmut_84": (
        '`divide` no longer ignored in the levels: a division by 0 needs `1'
        ' - a (z0 + z)` exactly 0, which no test data reach; the level is '
        'then infinite and refused by the next lines either way.'
    ),
    "skwtsg.metrics._intervals.x__limits__mutmut_86": (
        'As `x__limits__mutmut_84` (`divide` dropped from the same '
        '`errstate`).'
    ),
    "skwtsg.metrics._intervals.x__quantiles__mutmut_10": (
        'The `dtype` dropped: the levels are already float arrays.'
    ),
    "skwtsg.metrics._intervals.x__quantiles__mutmut_8": (
        '`dtype=None` for `dtype=float`: the levels are already float '
        'arrays (from `ndtr` or the float `alpha`).'
    ),
    "skwtsg.metrics._intervals.x__report_intervals__mutmut_26": (
        '`reshape(n, -2)` for `reshape(n, -1)`: numpy reads any negative '
        'size as the one to infer.'
    ),
    "skwtsg.metrics._intervals.x__report_intervals__mutmut_28": (
        'The shape of `y_strong` for that of `y_weak`: the metrics refuse '
        'predictions of different shapes before this line.'
    ),
    "skwtsg._roles.x__row_uniforms__mutmut_36": (
        '`astype(None)` is `astype(np.float64)`: numpy reads a `None` dtype '
        'as the default float64.'
    ),
    "skwtsg._roles.x__codes_from_names__mutmut_5": (
        'Without `dtype=object`, `np.asarray` gives a str (or bytes) array; '
        '`astype(str)` then yields the same names as from the object array: '
        'str names unchanged, bytes names decoded in both cases (numpy 2 '
        'decodes bytes objects in `astype(str)` too, so `b"weak"` is read '
        'as "weak" by the original as well).'
    ),
    "skwtsg._roles.x__codes_from_names__mutmut_7": (
        'As `x__codes_from_names__mutmut_5` (the dtype left out).'
    ),
    "skwtsg.metrics._kl.x__check_hard_labels__mutmut_8": (
        '`pd.isna` of an ndarray is a bool ndarray already: the dtype '
        'changes nothing.'
    ),
    "skwtsg.metrics._kl.x__check_hard_labels__mutmut_10": (
        '`pd.isna` of an ndarray is a bool ndarray already: the dtype '
        'changes nothing.'
    ),
    "skwtsg.metrics._kl.x__label_codes__mutmut_17": (
        'A dtype\'s `kind` is one character and never `X`: `in "XXiuXX"` '
        'is `in "iu"`.'
    ),
    "skwtsg.metrics._kl.x__label_codes__mutmut_46": (
        'The labels were checked distinct just above: every sort gives the '
        'same order, stable or not.'
    ),
    "skwtsg.metrics._kl.x__label_codes__mutmut_48": (
        'The labels were checked distinct just above: every sort gives the '
        'same order, stable or not.'
    ),
    "skwtsg.metrics._kl.x__label_codes__mutmut_50": (
        'numpy reads the sort `kind` case-insensitively: `"STABLE"` is '
        '`"stable"`.'
    ),
    "skwtsg.metrics._kl.x__label_codes__mutmut_58": (
        '`np.searchsorted` returns positions in `0..n_classes`, never '
        'negative: the lower clip bound never applies.'
    ),
    "skwtsg.metrics._kl.x__classification_report__mutmut_1": (
        '`_pgr_or_nan` tests `undefined_pgr == "nan"`: any other value, this '
        'one too, raises as `"raise"` does.'
    ),
    "skwtsg.metrics._kl.x__classification_report__mutmut_2": (
        '`_pgr_or_nan` tests `undefined_pgr == "nan"`: any other value, this '
        'one too, raises as `"raise"` does.'
    ),
    "skwtsg.metrics._kl.x__classification_report__mutmut_84": (
        '`astype(None)` is `astype(float)`: numpy reads a `None` dtype as '
        'float64.'
    ),
    "skwtsg.metrics._kl.x__classification_report__mutmut_91": (
        '`astype(None)` is `astype(float)`: numpy reads a `None` dtype as '
        'float64.'
    ),
    "skwtsg.metrics._kl.x__classification_report__mutmut_128": (
        '`astype(None)` is `astype(float)`: numpy reads a `None` dtype as '
        'float64.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_30": (
        'LAPACK reads `uplo` case-insensitively: `"u"` is `"U"`.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_25": (
        "A threshold's boundary: no reciprocal condition number lands "
        'exactly on it.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_37": (
        '`shape[1]` for `shape[0]` of the square Cholesky factor.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_42": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_46": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_50": (
        '`check_finite` on, or `None`: the inputs were validated finite, so the'
        ' check passes and the result is the same.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_48": (
        '`upper` is C-ordered (`np.triu`), for which scipy solves the '
        'transposed Fortran system with `trans=not trans`: any non-empty '
        'string acts as `"T"`.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_49": (
        '`upper` is C-ordered (`np.triu`), for which scipy solves the '
        'transposed Fortran system with `trans=not trans`: any non-empty '
        'string acts as `"T"`.'
    ),
    "skwtsg.heads._solvers.x__safe_ratio__mutmut_3": (
        'The other operand is converted to float64, so `np.divide` computes '
        'in float64 either way (an int or float32 operand converts exactly); '
        '`!= 0` and `<= 0` read the same values.'
    ),
    "skwtsg.heads._solvers.x__safe_ratio__mutmut_5": (
        'The other operand is converted to float64, so `np.divide` computes '
        'in float64 either way (an int or float32 operand converts exactly); '
        '`!= 0` and `<= 0` read the same values.'
    ),
    "skwtsg.heads._solvers.x__safe_ratio__mutmut_8": (
        'The other operand is converted to float64, so `np.divide` computes '
        'in float64 either way (an int or float32 operand converts exactly); '
        '`!= 0` and `<= 0` read the same values.'
    ),
    "skwtsg.heads._solvers.x__safe_ratio__mutmut_10": (
        'The other operand is converted to float64, so `np.divide` computes '
        'in float64 either way (an int or float32 operand converts exactly); '
        '`!= 0` and `<= 0` read the same values.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_31": (
        'A guard no input reaches: `dpocon` returns `info` 0 for valid '
        'arguments and a finite `rcond` (0.0 for a NaN or infinite factor); '
        'a NaN would also fail every caller\'s `rcond >=` threshold.'
    ),
    "skwtsg.heads._solvers.x__cholesky_rcond__mutmut_36": (
        'The same unreachable guard as `x__cholesky_rcond__mutmut_31`; and '
        'every caller tests `factor is not None` before it reads `rcond`.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_dual__mutmut_40": (
        'A factor is only returned with a finite rcond, so this accepts '
        'every factor however badly conditioned; the certificate gate just '
        'below (`CHOLESKY_MAX_CERTIFICATE`, measured on the data) then sends '
        'an inaccurate dual solution to the QR path: what is returned is '
        'certified either way.'
    ),
    "skwtsg.heads._solvers.x__triangular_reduction__mutmut_24": (
        'A `None` factor comes with rcond 0.0, below the positive threshold: '
        'the Cholesky path is never taken and every reduction comes from the '
        'QR of the data, which is valid for every problem (backward stable, '
        'tested against the Gram matrix and lstsq); only the time changes.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_13": (
        '`full_matrices` left at its default, `True`.'
    ),
    "skwtsg.heads._solvers.x__solve_ridge_qr__mutmut_10": (
        'scipy reads `full_matrices=None` as `True` (a wide 2 x 3 matrix '
        'gives a 3 x 3 `Vt`), unlike `False`, which a test kills.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_14": (
        'A rounding tolerance of 17 instead of 16 ulps of the losses\' scale: '
        'rounding spreads are a few ulps and real spreads are many orders '
        'above, so no input falls between the two (the tests pin both sides '
        'of the band: a 1e-16 spread is constant, a small real spread beside '
        'a huge constant column keeps its width).'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_17": (
        '`initial` of a maximum over the rows, of which there is at least '
        'one, changes nothing.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_19": (
        '`initial` of a maximum over the rows, of which there is at least '
        'one, changes nothing.'
    ),
    "skwtsg.metrics._intervals.x__bootstrap_means__mutmut_29": (
        "A threshold's boundary (`<` for `<=`): a spread exactly equal to "
        'the rounding tolerance; where both are 0 (an all-zero column) the '
        'centred column is 0 already.'
    ),
    "skwtsg.metrics._kl.x__pgr_or_nan__mutmut_8": (
        '`float` parses "nan" case-insensitively: `float("NAN")` is NaN.'
    ),
    # skwtsg/metrics/_line.py and skwtsg/metrics/_paired.py
    "skwtsg.metrics._line.x_fit_line__mutmut_11": (
        'NumPy reads the dtype `None` as float64, the dtype `float` names: '
        '`x.astype(None)` is `x.astype(float)`.'
    ),
    "skwtsg.metrics._line.x_fit_line__mutmut_13": (
        'NumPy reads the dtype `None` as float64, the dtype `float` names: '
        '`y.astype(None)` is `y.astype(float)`.'
    ),
    "skwtsg.metrics._line.x_fit_line__mutmut_38": (
        '`float` parses "nan" case-insensitively: `float("NAN")` is NaN.'
    ),
    "skwtsg.metrics._paired.x_paired_bound_differences__mutmut_32": (
        '`sample_weight` not checked by `check_real_arrays`: `_check_weights` '
        'checks it two lines later with the same `check_sample_weight`, the '
        'same row count and the same name, and nothing between can raise, so '
        'the errors and the weights are the same.'
    ),
    "skwtsg.metrics._paired.x_paired_bound_differences__mutmut_34": (
        '`sample_weight` not checked by `check_real_arrays`: `_check_weights` '
        'checks it two lines later with the same `check_sample_weight`, the '
        'same row count and the same name, and nothing between can raise, so '
        'the errors and the weights are the same.'
    ),
    "skwtsg.metrics._paired.x_paired_bound_differences__mutmut_4": (
        'The default `method` in other case: `_check_interval_params` '
        'lower-cases it ("bca") before use.'
    ),
    "skwtsg.metrics._paired.x_paired_bound_differences__mutmut_5": (
        'The default `method` in other case: `_check_interval_params` '
        'lower-cases it ("bca") before use.'
    ),
    "skwtsg.metrics._paired.x_paired_bound_differences__mutmut_63": (
        '`reshape(n, -2)`: NumPy takes any negative entry of a shape as the '
        'one inferred dimension, as for -1.'
    ),
    "skwtsg.metrics._selection.x__lowest_probability__mutmut_10": (
        'A minimum over the resamples without `keepdims`: its shape (n_resamples,) '
        'broadcasts against the (n_candidates, n_resamples) values as (1, '
        'n_resamples), the same comparison.'
    ),
    "skwtsg.metrics._selection.x__lowest_probability__mutmut_16": (
        'A count over the candidates without `keepdims`: its shape (n_resamples,) '
        'broadcasts as (1, n_resamples), the same division.'
    ),
    "skwtsg.metrics._selection.x__lowest_probability__mutmut_18": (
        'A count over the candidates without `keepdims`: its shape (n_resamples,) '
        'broadcasts as (1, n_resamples), the same division.'
    ),
    "skwtsg.metrics._selection.x__lowest_probability__mutmut_8": (
        'A minimum over the resamples without `keepdims`: its shape (n_resamples,) '
        'broadcasts against the (n_candidates, n_resamples) values as (1, '
        'n_resamples), the same comparison.'
    ),
    "skwtsg.metrics._selection.x__rank_over_rows__mutmut_20": (
        'numpy reads any negative length in `reshape` as the one unknown dimension '
        '(numpy 2.4: `zeros(4).reshape(4, -2)` has shape (4, 1)).'
    ),
    "skwtsg.metrics._selection.x__rank_over_rows__mutmut_38": (
        'numpy reads any negative length in `reshape` as the one unknown dimension '
        '(numpy 2.4: `zeros(4).reshape(4, -2)` has shape (4, 1)).'
    ),
    "skwtsg.metrics._selection.x__rank_over_rows__mutmut_39": (
        "`or` for `and`: `check_real_arrays` already refused a y_weak and "
        "y_strong of different shapes, so the two tests agree."
    ),
    "skwtsg.metrics._selection.x__split_scores__mutmut_7": (
        "`astype(None)` is numpy's default dtype, float64: the same array."
    ),
}


def _dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def run(modules: list[str]) -> None:
    """``mutmut run`` on the mutants of each module, one module at a time."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for path in modules:
        print(f"mutmut run {path}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", _dotted(path) + "*"],
            cwd=ROOT,
            env=env,
            check=False,
        )


def read_results() -> dict[str, dict[str, int | None]]:
    """Exit code of every mutant, per module, from mutmut's ``.meta`` files."""
    results = {}
    for path in MODULES:
        meta = ROOT / "mutants" / (path + ".meta")
        if meta.exists():
            results[path] = json.loads(meta.read_text())["exit_code_by_key"]
    return results


def _code_tokens(lines: list[str]) -> list[str] | None:
    """The tokens of ``lines`` with every string literal blanked, or None when
    they do not tokenize on their own."""
    text = textwrap.dedent("\n".join(lines)) + "\n"
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return [
        "<str>" if tok.type == tokenize.STRING else tok.string
        for tok in tokens
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
    ]


def string_only(diff: str) -> bool:
    """Whether a mutant changes string literals only (a message's text)."""
    old = [line[1:] for line in diff.splitlines() if line.startswith("-")]
    new = [line[1:] for line in diff.splitlines() if line.startswith("+")]
    a, b = _code_tokens(old), _code_tokens(new)
    return a is not None and a == b


def _diff(name: str, path: str) -> str:
    """The changed lines of mutant ``name`` of the module at ``path``."""
    try:  # in process: one ``mutmut show`` per survivor costs a second each
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            out = get_diff_for_mutant(name, path=path)
        finally:
            os.chdir(cwd)
    except ImportError:
        out = subprocess.run(
            [sys.executable, "-m", "mutmut", "show", name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    lines = [
        line
        for line in out.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(lines) or out.strip()


def write_report(results: dict[str, dict[str, int | None]]) -> str:
    lines = [
        "# Mutation score of the core",
        "",
        "Written by `python benchmarks/mutation_report.py` from mutmut's results",
        "(`make mutation` runs mutmut first); the modules and the tests are in",
        "`[tool.mutmut]` of `pyproject.toml`.",
        "",
        "| module | mutants | killed | survived | other | checked |",
        "|---|---|---|---|---|---|",
    ]
    survivors = []
    for path in MODULES:
        codes = results.get(path)
        if codes is None:
            lines.append(f"| `{path}` | not run | | | | |")
            continue
        if not codes:
            lines.append(f"| `{path}` | 0 | | | | |")
            continue
        status = Counter(STATUS.get(code, "suspicious") for code in codes.values())
        checked = sum(n for s, n in status.items() if s != "not checked")
        other = checked - status["killed"] - status["survived"]
        lines.append(
            f"| `{path}` | {len(codes)} | {status['killed']} | "
            f"{status['survived']} | {other} | {checked} |"
        )
        survivors += [
            (path, name, STATUS.get(code, "suspicious"))
            for name, code in sorted(codes.items())
            if STATUS.get(code, "suspicious") not in ("killed", "not checked")
        ]
    not_run = [p for p in MODULES if p not in results] + [
        p for p, c in results.items() if c and all(v is None for v in c.values())
    ]
    lines += ["", "## Not run", ""]
    lines += [f"- `{p}`" for p in not_run] or ["(every module was run)"]
    lines += ["", "## Notes", ""]
    lines += [f"- `{p}`: {note}" for p, note in NOTES.items()]
    lines += [
        "- `no tests`: mutants of functions that no test of the selection "
        "reaches (e.g. the hashed roles of the Dask path in `_roles.py`, tested "
        "by `skwtsg/tests/test_dask.py`, outside the fast selection).",
    ]
    diffs = {name: _diff(name, path) for path, name, _ in survivors}
    kinds = Counter()
    body = []
    for path, name, status in survivors:
        if name in EQUIVALENT:
            kind, why = "equivalent", EQUIVALENT[name]
        elif status == "no tests":
            kind = "not reached"
            why = "No test of the fast selection calls this function (see Notes)."
        elif string_only(diffs[name]):
            kind = "message text"
            why = (
                "**not killed, not equivalent**: only a string literal changes "
                "(an error message's wording or the parameter it names); no "
                "test asserts that text."
            )
        else:
            kind, why = "unexplained", "**unexplained**: no test kills it yet."
        kinds[kind] += 1
        body += ["", f"### `{name}` ({status}, {kind})", "", why, "", "```diff"]
        body += [diffs[name], "```"]
    lines += [
        "",
        f"## Survivors: {len(survivors)} ({kinds['equivalent']} equivalent, "
        f"{kinds['message text']} in message text only, "
        f"{kinds['not reached']} not reached by the selection, "
        f"{kinds['unexplained']} unexplained)",
    ]
    return "\n".join(lines + body) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run",
        nargs="*",
        metavar="MODULE",
        help="run mutmut first, on these modules (a name such as _intervals) "
        "or, with none, on all",
    )
    args = parser.parse_args(argv)
    print(f"{datetime.datetime.now().isoformat(timespec='seconds')}: load "
          f"average {os.getloadavg()}", flush=True)
    if args.run is not None:
        wanted = [
            p for p in MODULES if not args.run or any(m in p for m in args.run)
        ]
        run(wanted)
    REPORT.write_text(write_report(read_results()))
    print(f"wrote {REPORT.relative_to(ROOT)}; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
