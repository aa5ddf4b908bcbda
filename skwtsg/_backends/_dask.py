"""The Dask backend of :class:`~skwtsg.WeakToStrongRegressor` (``skwtsg[dask]``).

When ``X`` is a Dask array or DataFrame, ``fit`` reads every row once and
never gathers them. The (fixed) featurizers run block by block on the
workers; of each block's rows, class by class (see below), a task keeps the
joint weighted moments of ``[weak features, y, strong features]``
(:mod:`._moments`); Dask merges them in a tree, and the client solves the
weak head from the weak rows' moments, the strong head from the strong
rows' moments and the weak head's coefficients (the weak labels are a linear
map of the weak features), and derives every diagnostic from the same
moments. Nothing larger than ``O(width² + one block)`` is held by one
process, and no second pass reads ``X``.

A frozen weak head (a fitted model used as it is, e.g. a tree) need not be
linear: its predictions are made in the same pass, block by block, and their
moments with the strong features kept instead of the weak features'
(likewise for a frozen strong head).

Rows get their roles from a hash of their global index and ``random_state``
(:func:`skwtsg._roles.hash_role_codes`), so the roles, and hence the fit, do
not depend on how the rows are partitioned. A row's role also depends on
whether any row of the whole data set is unlabeled, which is known only
after the pass: the pass keeps the rows' *classes* apart
(:func:`skwtsg._roles.hash_row_classes`: held out, first and second share
of the labeled rows, unlabeled) and the roles are decided at the end.

Dask is imported only here, and only when a Dask collection is passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils import check_random_state

from .._diagnostics import ROW_SETS, Diagnostics
from .._roles import (
    FIRST,
    HELD,
    ROLES,
    SECOND,
    UNLABELED,
    check_hash_sizes,
    hash_role_codes,
    hash_row_classes,
)
from .._utils._validation import check_partially_labeled_y
from ..heads import (
    LeastSquaresStatistics,
    check_head_convexity,
    get_head_tags,
)
from ._common import (
    FitResult,
    _check_finite_output,
    _make_featurizer,
    _num_rows,
    _warn_if_underdetermined,
    check_rows,
    check_weight_total,
    check_weights,
)
from ._dask_blocks import (
    _as_2d,
    _check_fixed_featurizer,
    _features,
    _mismatch,
    _Rows,
    _rows,
    _select,
    _starts,
    _target_shape,
    _tree,
    _unpack,
)
from ._dask_predict import diagnostic_intervals, predict, r2_score
from ._moments import (
    Affine,
    Moments,
    block_moments,
    centred_sum_of_squares,
    head_statistics,
    merge_moments,
    sum_of_squares,
)

__all__ = ["diagnostic_intervals", "fit", "predict", "r2_score"]


# ------------------------------------------------------------- the pass
@dataclass(frozen=True)
class _PassSpec:
    """What every block's task needs: the models, the layout, the checks.

    The joint row vector is ``[weak group (p), y (m), strong group (q)]``;
    the weak group is the weak features, or the frozen weak head's
    predictions (``weak_model``); the strong group likewise.
    """

    weak_featurizer: Any
    strong_featurizer: Any
    weak_model: Any
    strong_model: Any
    shift: np.ndarray
    p: int
    m: int
    q: int
    narrow: bool
    x_dtype: Any
    estimator: Any
    eval_size: Any
    strong_size: Any
    seed: int

    @property
    def width(self) -> int:
        return self.p + self.m + self.q

    def class_width(self, c: int) -> int:
        """Entries kept for a class: the second share trains only the weak
        model (unless every row trains both), so it needs no strong group."""
        return self.p + self.m if (c == SECOND and self.narrow) else self.width


@dataclass(frozen=True)
class _Record:
    """What the pass returns: the rows of each block and each class's moments."""

    lengths: dict
    moments: tuple


def _merge_records(a: _Record, b: _Record) -> _Record:
    return _Record(
        {**a.lengths, **b.lengths},
        tuple(merge_moments(x, y) for x, y in zip(a.moments, b.moments)),
    )


#: The order of the classes inside a block's joint matrix: those that keep
#: every entry first, the second share (weak group and y only) last.
_CLASS_RANK = np.empty(4, dtype=np.int8)  # int8 keys: a radix sort
_CLASS_RANK[[HELD, FIRST, UNLABELED, SECOND]] = np.arange(4)


def _group(model, featurizer, Xb, name, head_name, m):
    """A block's weak or strong group: features, or a frozen head's outputs."""
    n = _num_rows(Xb)
    # finiteness is checked on the block's moments (a NaN or an infinity
    # makes them non-finite, see ``_non_finite``), not by a scan of its own
    Z = _features(featurizer, Xb, name, check_finite=False)
    if model is None:
        return Z
    out = _as_2d(model.predict(Z))
    if out.shape != (n, m):
        raise ValueError(
            f"`{head_name}` (a FrozenEstimator) predicts {out.shape[1:]} "
            f"output(s) per row but y has {m}."
        )
    return out


def _non_finite(spec, Xb, order, counts):
    """Name what made a block's moments non-finite (the elementwise check)."""
    n = _num_rows(Xb)
    Zw = _features(spec.weak_featurizer, Xb, "weak_featurizer")
    # a frozen head's NaN is the head's fault, named as in memory
    if spec.weak_model is not None:
        out = spec.weak_model.predict(Zw).reshape(n, -1)
        _check_finite_output(out, spec.weak_model, "weak_head", "predicted")
    rows = order[: n - (counts[SECOND] if spec.narrow else 0)]
    Zs = _features(spec.strong_featurizer, _select(Xb, rows), "strong_featurizer")
    if spec.strong_model is not None:
        out = spec.strong_model.predict(Zs).reshape(len(rows), -1)
        _check_finite_output(out, spec.strong_model, "head", "predicted")
    raise ValueError(
        "The features overflow: their squares are not finite in float64; "
        "scale them in the featurizer."
    )


def _block_pass(index, part, yb, wb, where, start, spec: _PassSpec) -> _Record:
    """One block: checks, row classes, features, and each class's moments."""
    Xb, yb, wb = _unpack(part, yb, wb, where)
    n = _num_rows(Xb)
    if n == 0:
        return _Record(
            {index: 0},
            tuple(Moments.empty(spec.class_width(c)) for c in range(4)),
        )
    check_rows(Xb, dtype=spec.x_dtype, estimator=spec.estimator)
    y, labeled = check_partially_labeled_y(yb, n_samples=n)
    Y = _as_2d(y)
    if Y.shape[1] != spec.m:
        raise ValueError(
            f"y has {Y.shape[1]} column(s) in one block and {spec.m} in the first."
        )
    w = check_weights(wb, n, block=True)
    classes = hash_row_classes(
        np.arange(start, start + n),
        labeled,
        eval_size=spec.eval_size,
        strong_size=spec.strong_size,
        seed=spec.seed,
    )
    counts = np.bincount(classes, minlength=4)
    order = np.argsort(_CLASS_RANK[classes], kind="stable")
    n_full = n - (counts[SECOND] if spec.narrow else 0)
    p, m = spec.p, spec.m
    # The joint matrix, rows sorted by class; its strong group is made only
    # for the rows that need it (the strong featurizer runs on them alone).
    A = np.empty((n, spec.width))
    A[:, :p] = _group(
        spec.weak_model,
        spec.weak_featurizer,
        Xb,
        "weak_featurizer",
        "weak_head",
        m,
    )[order]
    A[:, p : p + m] = Y[order]
    first = counts[HELD] + counts[FIRST]
    # y is unknown there (NaN): the reference value keeps the moments finite
    A[first : first + counts[UNLABELED], p : p + m] = spec.shift[p : p + m]
    if n_full:
        full = order[:n_full]
        A[:n_full, p + m :] = _group(
            spec.strong_model,
            spec.strong_featurizer,
            Xb if n_full == n and not np.any(np.diff(full) < 0) else _select(Xb, full),
            "strong_featurizer",
            "head",
            m,
        )
    w_sorted = None if w is None else w[order]
    moments: dict[int, Moments] = {}
    row = 0
    for c in (HELD, FIRST, UNLABELED, SECOND):
        k = spec.class_width(c)
        rows = slice(row, row + counts[c])
        weights = None if w_sorted is None else w_sorted[rows]
        moments[c] = block_moments(A[rows, :k], weights, spec.shift[:k])
        row += counts[c]
    if not all(mo.is_finite() for mo in moments.values()):
        _non_finite(spec, Xb, order, counts)
    return _Record({index: n}, tuple(moments[c] for c in range(4)))


# ------------------------------------------------------------------- fit
def _moment_head(head, name):
    """A clone of a head solvable from moments, or a frozen head as it is."""
    if isinstance(head, FrozenEstimator):
        return head  # fitted elsewhere, used as it is (as in memory)
    if not get_head_tags(head).fits_from_statistics:
        raise TypeError(
            f"`{name}` ({type(head).__name__}) cannot be fitted from "
            "statistics merged across blocks; on the Dask path use a head "
            "with partial_fit from skwtsg.heads (LeastSquaresHead, RidgeHead), "
            "or a fitted model wrapped in sklearn.frozen.FrozenEstimator."
        )
    return clone(head)


def _seed(random_state):
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _head(block):
    return block.iloc[:8] if hasattr(block, "iloc") else block[:8]


def _first(part, yb, where):
    Xb, yb, _ = _unpack(part, yb, None, where)
    return _head(Xb), _head(yb)


def _first_rows(rows: _Rows):
    """The first rows of ``X`` and ``y``, in memory.

    One block is read (not a pass; the next one if it is empty): the
    featurizers, which learn nothing from rows, are fitted on them, and the
    first row is the reference point of the moments.
    """
    import dask

    for part, yb in zip(rows.parts, rows.y):
        first, first_y = dask.compute(dask.delayed(_first)(part, yb, rows.where))[0]
        if _num_rows(first):
            return first, first_y
    raise ValueError("X has no rows.")


def fit(
    X,
    y,
    sample_weight,
    roles,
    *,
    weak_featurizer,
    strong_featurizer,
    weak_head,
    head,
    eval_size,
    strong_size,
    random_state,
    x_dtype=None,
    estimator=None,
) -> FitResult:
    """A weak-to-strong fit of linear (or frozen) heads in one pass over the rows.

    ``x_dtype`` and ``estimator`` are what the in-memory validation of ``X``
    is given (its dtype rule and the estimator's name, for the messages).
    """
    import dask

    if roles is not None:
        raise ValueError(
            "`roles` cannot be passed with Dask inputs: the roles are derived "
            "from a hash of the row index and random_state (see the user "
            "guide's page 'Larger than memory', docs/user_guide/"
            "larger_than_memory.rst). To reproduce a Dask fit in memory, pass "
            "its roles_.compute() as `roles` to an in-memory fit."
        )
    check_hash_sizes(eval_size, strong_size)
    if y is None:
        raise ValueError("The target y is required, but y is None.")
    weak_head = _moment_head(weak_head, "weak_head")
    head = _moment_head(head, "head")
    ndim, m = _target_shape(y)
    rows = _rows(X, y=y, sample_weight=sample_weight)
    if np.ndim(sample_weight) > 1 and rows.known:
        # refused as in memory, with the number of rows of all blocks
        check_weights(np.zeros((1,) * np.ndim(sample_weight)), sum(rows.sizes))
    names = None
    if rows.columns is not None and all(isinstance(c, str) for c in rows.columns):
        names = np.asarray(rows.columns, dtype=object)

    # Fixed featurizers, fitted on a few rows (they learn nothing from them).
    first, first_y = _first_rows(rows)
    first_y = _as_2d(np.asarray(first_y, dtype=np.float64))
    weak_feat = _make_featurizer(weak_featurizer)
    strong_feat = _make_featurizer(strong_featurizer)
    for name, feat in (
        ("weak_featurizer", weak_feat),
        ("strong_featurizer", strong_feat),
    ):
        _check_fixed_featurizer(feat, name)
        feat.fit(first, first_y[:, 0] if ndim == 1 else first_y)

    # The reference row of the moments: the first row's groups and label.
    first_row = first.iloc[:1] if hasattr(first, "iloc") else first[:1]
    weak_model = weak_head if isinstance(weak_head, FrozenEstimator) else None
    strong_model = head if isinstance(head, FrozenEstimator) else None
    g_w = _group(weak_model, weak_feat, first_row, "weak_featurizer", "weak_head", m)
    g_s = _group(strong_model, strong_feat, first_row, "strong_featurizer", "head", m)
    labels0 = first_y[~np.isnan(first_y).any(axis=1)]
    y0 = labels0[0] if len(labels0) else np.zeros(m)
    spec = _PassSpec(
        weak_featurizer=weak_feat,
        strong_featurizer=strong_feat,
        weak_model=weak_model,
        strong_model=strong_model,
        shift=np.concatenate([g_w[0], y0, g_s[0]]),
        p=g_w.shape[1],
        m=m,
        q=g_s.shape[1],
        narrow=strong_size != "reuse",
        x_dtype=x_dtype,
        estimator=estimator,
        eval_size=eval_size,
        strong_size=strong_size,
        seed=_seed(random_state),
    )

    # The pass: every block read once, its moments merged in a tree.
    shared = dask.delayed(spec, pure=True)
    parts = [
        dask.delayed(_block_pass, pure=True)(j, part, yb, wb, rows.where, start, shared)
        for j, (part, yb, wb, start) in enumerate(
            zip(rows.parts, rows.y, rows.w, rows.starts)
        )
    ]
    record = dask.compute(_tree(parts, _merge_records))[0]
    lengths = [int(record.lengths[j]) for j in range(len(rows.parts))]
    n = sum(lengths)
    for name, length in rows.lengths.items():
        if length != n:
            raise _mismatch(name, n, length)
    if sample_weight is not None:
        check_weight_total(sum(mo.weight for mo in record.moments))
    solved = _solve(record.moments, spec, weak_head, head, ndim, strong_size, n)

    # The roles, lazily, from y alone (the sizes of the blocks are known now).
    params = dict(
        eval_size=eval_size,
        strong_size=strong_size,
        any_unlabeled=solved["any_unlabeled"],
        seed=spec.seed,
    )
    starts = _starts(lengths)
    codes = [
        dask.delayed(_block_codes)(yb, nb, s, params)
        for yb, nb, s in zip(rows.y_alone, lengths, starts)
    ]
    return FitResult(
        weak_featurizer=weak_feat,
        strong_featurizer=strong_feat,
        weak_head=solved["weak_head"],
        head=solved["head"],
        diagnostics=solved["diagnostics"],
        roles=_lazy_roles(codes, lengths),
        reuse=solved["same"],
        interpolates=solved["interpolates"],
        copy_moments=solved["copy_moments"],
        label_variance=solved["label_variance"],
        n_features_in=rows.n_columns,
        feature_names_in=names,
    )


def _solve(moments, spec, weak_head, head, ndim, strong_size, n) -> dict:
    """The heads and the diagnostics from the moments of each class of rows."""
    p, m, width = spec.p, spec.m, spec.width
    unlabeled = moments[UNLABELED]
    if unlabeled.count == n:
        raise ValueError(
            "Every row of y is NaN (unlabeled): the weak model needs rows with "
            "true labels."
        )
    any_unlabeled = unlabeled.count > 0
    held = moments[HELD]
    if any_unlabeled:  # the labeled rows train the weak model
        weak = merge_moments(
            moments[FIRST].columns(p + m), moments[SECOND].columns(p + m)
        )
        strong, same = unlabeled, False
    elif strong_size == "reuse":
        weak = strong = moments[FIRST]
        same = True
    else:
        weak, strong, same = moments[SECOND], moments[FIRST], False
    if weak.count == 0 or strong.count == 0:
        raise ValueError(
            f"Too few rows to fit both models: {weak.count} sample(s) for the "
            f"weak model and {strong.count} sample(s) for the strong model. Pass "
            "more rows or change `eval_size`/`strong_size`."
        )
    shift = spec.shift
    target = Affine.select(shift, p, p + m)

    # The weak head, and its labels as a map of the joint vector.
    if spec.weak_model is not None:
        fitted_weak, labels = weak_head, Affine.select(shift, 0, p)
    else:
        _warn_if_underdetermined(weak_head, _Shape(weak.count, p), "weak_head", "weak")
        stats = head_statistics(
            weak, Affine.select(shift, 0, p), target, bool(weak_head.fit_intercept)
        )
        fitted_weak = _fit_from(weak_head, stats, ndim, "weak_head")
        labels = Affine.linear(
            shift, 0, p, fitted_weak.coef_, fitted_weak._X_offset, fitted_weak._y_offset
        )

    # The strong head on the weak labels of its rows.
    interpolates = False
    if spec.strong_model is not None:
        fitted, output = head, Affine.select(shift, p + m, width)
    else:
        interpolates = _warn_if_underdetermined(
            head, _Shape(strong.count, spec.q), "head", "strong"
        )
        stats = head_statistics(
            strong, Affine.select(shift, p + m, width), labels, bool(head.fit_intercept)
        )
        fitted = _fit_from(head, stats, ndim, "head")
        output = Affine.linear(
            shift, p + m, width, fitted.coef_, fitted._X_offset, fitted._y_offset
        )
    check_head_convexity(fitted)

    # The diagnostics: weighted sums of squares of maps, as in memory (the
    # weak rows' weak error only where it is reported).
    losses = {
        "weak_error": target - labels,
        "strong_error": target - output,
        "misfit": labels - output,
    }
    in_sample = same or (held.count == 0 and any_unlabeled)
    rows = {
        "weak": (
            weak,
            True,
            {"weak_error": losses["weak_error"] if in_sample else None},
        ),
        "strong": (strong, not any_unlabeled, losses),
        "eval": (held, True, losses if held.count else {}),
    }
    diagnostics = _diagnostics(rows, ndim, m)
    copy = None
    if strong.weight > 0:
        copy = (
            centred_sum_of_squares(strong, labels) / strong.weight,
            sum_of_squares(strong, losses["misfit"]) / strong.weight,
        )
    scale_rows = held if held.count else strong
    label_variance = (
        centred_sum_of_squares(scale_rows, labels) / scale_rows.weight
        if scale_rows.weight > 0
        else np.zeros(m)
    )
    return {
        "weak_head": fitted_weak,
        "head": fitted,
        "diagnostics": diagnostics,
        "same": same,
        "any_unlabeled": any_unlabeled,
        "interpolates": interpolates,
        "copy_moments": copy,
        "label_variance": label_variance,
    }


def _diagnostics(rows: dict, ndim: int, m: int) -> Diagnostics:
    """The :class:`Diagnostics` record of every row set from its moments.

    ``rows`` maps a row set to its moments, whether its rows are labeled (a
    class of rows is all labeled or all unlabeled) and the map of each loss
    measured there (absent: not measured, NaN; a labeled loss on unlabeled
    rows sums to 0, over no row, as in memory).
    """
    shape = (len(ROW_SETS),)
    count, labeled_count = np.zeros(shape), np.zeros(shape)
    weight, labeled_weight = np.zeros(shape), np.zeros(shape)
    sums = {
        name: np.zeros(shape + (m,))
        for name in ("weak_error", "strong_error", "misfit")
    }
    for k, row_set in enumerate(ROW_SETS):
        moments, labeled, maps = rows[row_set]
        if not moments.count:
            continue
        count[k], weight[k] = moments.count, moments.weight
        if labeled:
            labeled_count[k], labeled_weight[k] = moments.count, moments.weight
        for name in sums:
            f = maps.get(name)
            if f is None:
                sums[name][k] = np.nan
            elif labeled or name == "misfit":
                sums[name][k] = sum_of_squares(moments, f)
    return Diagnostics(
        count=count,
        labeled_count=labeled_count,
        weight=weight,
        labeled_weight=labeled_weight,
        sums=sums,
        ndim=ndim,
    )


class _Shape:
    """What the in-memory warnings read of a feature matrix: its shape."""

    def __init__(self, n_rows, n_features):
        self.shape = (int(n_rows), int(n_features))


def _fit_from(head, stats: LeastSquaresStatistics, ndim, name):
    try:
        return head.fit_from_statistics(stats, ndim)
    except ValueError as exc:
        raise ValueError(f"Fitting `{name}` failed: {exc}") from exc


def _block_codes(yb, n_rows, start, params):
    _, labeled = check_partially_labeled_y(yb, n_samples=n_rows)
    return hash_role_codes(np.arange(start, start + n_rows), labeled, **params)


def _lazy_roles(codes, lengths):
    import dask
    import dask.array as da

    names = np.asarray(ROLES)
    return da.concatenate(
        [
            da.from_delayed(
                dask.delayed(names.__getitem__)(c), (nb,), dtype=names.dtype
            )
            for c, nb in zip(codes, lengths)
        ]
    )
