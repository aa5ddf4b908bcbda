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

import operator
from dataclasses import dataclass
from numbers import Integral, Number
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
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
    block_statistics,
    check_head_convexity,
    get_head_tags,
    merge_statistics,
)
from . import is_dask_collection
from ._common import (
    FitResult,
    _as_output,
    _check_features,
    _make_featurizer,
    _num_rows,
    _warn_if_underdetermined,
    check_rows,
    check_weight_total,
    check_weights,
)
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


# ----------------------------------------------------------------- blocks
@dataclass(frozen=True)
class _Rows:
    """The inputs of each block's task, and what is known of the blocks' sizes.

    Attributes
    ----------
    parts : list of Delayed
        Per block: the block of ``X`` (a pandas DataFrame), or a tuple of the
        blocks of the Dask arrays among ``X``, ``y`` and ``sample_weight``
        read together (see :func:`_rows`); :meth:`unpack` tells them apart.
    y, w : list
        Per block: the block of ``y`` and of ``sample_weight`` when it is not
        in the tuple (a Delayed partition or slice, a value, or None).
    where : tuple of int or None
        Positions of ``y`` and ``sample_weight`` in the tuple (0: not in
        it); None when ``parts`` are DataFrame partitions.
    sizes, starts : list of int or of Delayed
        Rows of each block and the global index of its first row: ints when
        the collection knows its chunk sizes (a Dask array's chunks, the
        Parquet metadata of a DataFrame), else counted in the same graph as
        the blocks themselves (each block is still read once).
    n_columns : int
    columns : list or None
        The DataFrame's column labels.
    lengths : dict
        The lengths of in-memory ``y`` or ``sample_weight`` sliced in the
        graph, to compare with the number of rows once they are counted.
    y_alone : list
        Per block, ``y`` without ``X`` (for the lazy roles).
    """

    parts: list
    y: list
    w: list
    where: tuple | None
    sizes: list
    starts: list
    n_columns: int
    columns: list | None
    lengths: dict
    y_alone: list

    @property
    def known(self) -> bool:
        return all(isinstance(n, Integral) for n in self.sizes)


def _unpack(part: Any, yb: Any, wb: Any, where: tuple | None) -> tuple:
    """``(X block, y block, weights block)`` of a task's inputs."""
    if where is None:
        return part, yb, wb
    return (
        part[0],
        part[where[0]] if where[0] else yb,
        part[where[1]] if where[1] else wb,
    )


def _pack(*blocks: Any) -> tuple:
    return blocks


def _size(part: Any, where: tuple | None) -> int:
    return _num_rows(_unpack(part, None, None, where)[0])


def _starts(sizes: list) -> list:
    import dask

    if all(isinstance(n, Integral) for n in sizes):
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
    # a chain of additions of the blocks' lengths: a task per block, no data
    add = dask.delayed(operator.add, pure=True)
    starts: list = [0]
    for n in sizes[:-1]:
        starts.append(add(starts[-1], n))
    return starts


def _metadata_lengths(frame: Any) -> list[int] | None:
    """Partition lengths a Dask DataFrame knows without reading its rows.

    From the Parquet footers of ``read_parquet``, or ``from_pandas``; None
    when only reading the partitions would tell.
    """
    try:
        # dask-expr's own optimisation of ``Lengths`` (a private API: any
        # failure means "unknown", and the lengths are counted in the pass)
        from dask.dataframe.dask_expr._expr import Lengths, Literal

        expr = Lengths(frame.expr).optimize()
    except Exception:
        return None
    return [int(n) for n in expr.value] if isinstance(expr, Literal) else None


def _lengths(v: Any) -> list | None:
    """Rows of each block of a Dask array or DataFrame, None if unknown."""
    import dask.array as da

    if isinstance(v, da.Array):
        lengths = list(v.chunks[0])
        return None if any(np.isnan(n) for n in lengths) else [int(n) for n in lengths]
    return _metadata_lengths(v)


def _mismatch(name: str, n: Any, m: Any) -> ValueError:
    return ValueError(
        "Found input variables with inconsistent numbers of samples: X has "
        f"{n} rows and {name} has {m}."
    )


def _rows_of(v: Any, start: int, size: int, name: str = "") -> Any:
    if start + size > len(v):  # found while counting the rows of X
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: X has "
            f"more rows than {name} ({len(v)})."
        )
    return v[start : start + size]


def _rows(X: Any, **inputs: Any) -> _Rows:
    """The blocks of ``X`` (a 2-D Dask array or a Dask DataFrame) and ``inputs``.

    ``inputs`` (``y``, ``sample_weight``) may be None, a scalar, in-memory
    arrays (sliced to the blocks of ``X``) or Dask collections: with as many
    blocks as ``X`` they are read block by block (each block's length is
    checked when it is read); otherwise they are re-chunked to the blocks
    of ``X``, which needs their sizes (counting them reads ``X``, an extra
    pass, only then).

    The Dask arrays among ``X`` and ``inputs`` are read through one
    blockwise array of tuples and its optimised graph: blocks they share
    (``X`` and ``y`` cut from one array) are made once, and the graph's
    keys are those an earlier computation of the same arrays used. The
    unoptimised graph of :meth:`dask.array.Array.to_delayed` would give some
    of those keys other tasks, which the distributed scheduler refuses
    while it still holds them ("different run_spec", then a KeyError).
    """
    import dask
    import dask.array as da

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array, got {X.ndim} dimension(s).")
        X = X.rechunk({1: -1})
        k, n_columns, columns = X.numblocks[0], X.shape[1], None
    elif hasattr(X, "map_partitions") and hasattr(X, "columns"):
        k, n_columns, columns = X.npartitions, len(X.columns), list(X.columns)
    else:
        raise TypeError(
            "X must be a Dask array or a Dask DataFrame on the Dask path, got "
            f"{type(X).__name__}."
        )
    lengths = _lengths(X)

    def count() -> list[int]:
        nonlocal X, lengths
        if lengths is None:  # a pass over X, only for a re-chunked input
            if isinstance(X, da.Array):
                X = X.compute_chunk_sizes()
                lengths = _lengths(X)
            else:
                lengths = [int(n) for n in X.map_partitions(len).compute()]
        return lengths  # type: ignore[return-value]

    aligned: dict[str, Any] = {}
    for name, v in inputs.items():
        if v is None or not is_dask_collection(v):
            aligned[name] = v
            continue
        if not isinstance(v, da.Array):  # a Dask Series or DataFrame
            if v.npartitions == k and (
                lengths is None or _lengths(v) in (None, lengths)
            ):
                # unoptimised: a partition both X and v are cut from is read once
                aligned[name] = list(v.to_delayed(optimize_graph=False))
                continue
            v = v.to_dask_array(lengths=True)  # reads v to count its rows
        if v.ndim == 2:
            v = v.rechunk({1: -1})
        v_lengths = _lengths(v)
        if v.numblocks[0] == k and (lengths is None or v_lengths in (None, lengths)):
            aligned[name] = v
            continue
        counted = count()
        if v_lengths is None:
            v = v.compute_chunk_sizes()
        if v.shape[0] != sum(counted):
            raise _mismatch(name, sum(counted), v.shape[0])
        aligned[name] = v.rechunk((tuple(counted),) + tuple((s,) for s in v.shape[1:]))

    # The Dask arrays, read together; DataFrame partitions as they are.
    arrays = {n: v for n, v in aligned.items() if isinstance(v, da.Array)}
    where: tuple | None = None
    if isinstance(X, da.Array):
        args = [X, "ij"]
        for v in arrays.values():
            args += [v, "ij"[: v.ndim]]
        packed = da.blockwise(
            _pack,
            "i",
            *args,
            dtype=object,
            concatenate=True,
            align_arrays=False,
            meta=np.empty((0,), dtype=object),
        )
        parts = list(packed.to_delayed().ravel())
        positions = {n: i + 1 for i, n in enumerate(arrays)}
        where = tuple(positions.get(n, 0) for n in ("y", "sample_weight"))
    else:
        parts = list(X.to_delayed(optimize_graph=False))
        for n, v in arrays.items():
            aligned[n] = list(v.to_delayed().ravel())
    if lengths is None:
        size = dask.delayed(_size, pure=True)
        sizes: list = [size(part, where) for part in parts]
    else:
        sizes = list(lengths)
    starts = _starts(sizes)

    # In-memory inputs: slices of the blocks of X.
    out: dict[str, list] = {}
    in_memory: dict[str, int] = {}
    for name in ("y", "sample_weight"):
        v = aligned.get(name)
        if isinstance(v, list):
            out[name] = v
        elif name in arrays and where is not None:
            out[name] = [None] * k  # in the tuple
        elif v is None or isinstance(v, Number) or np.ndim(v) == 0:
            out[name] = [v] * k  # None, or a scalar weight as in memory
        else:
            v = np.asarray(v)
            if lengths is not None:
                if v.shape[0] != sum(lengths):
                    raise _mismatch(name, sum(lengths), v.shape[0])
                out[name] = [
                    dask.delayed(_rows_of(v, a, n)) for a, n in zip(starts, sizes)
                ]
            else:
                whole, rows = dask.delayed(v), dask.delayed(_rows_of, pure=True)
                out[name] = [rows(whole, a, n, name) for a, n in zip(starts, sizes)]
                in_memory[name] = v.shape[0]
    return _Rows(
        parts=parts,
        y=out["y"],
        w=out["sample_weight"],
        where=where,
        sizes=sizes,
        starts=starts,
        n_columns=n_columns,
        columns=columns,
        lengths=in_memory,
        y_alone=(
            list(arrays["y"].to_delayed().ravel())
            if "y" in arrays and where is not None
            else out["y"]
        ),
    )


def _target_shape(y: Any) -> tuple[int, int]:
    """``y``'s number of dimensions and of outputs, from its metadata."""
    import dask.array as da

    if is_dask_collection(y) and not isinstance(y, da.Array):  # Series, frame
        return (2, len(y.columns)) if y.ndim == 2 else (1, 1)
    shape = y.shape if is_dask_collection(y) else np.shape(y)
    if len(shape) not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got a {len(shape)}-D array.")
    if len(shape) == 2 and np.isnan(shape[1]):
        raise ValueError("y must have a known number of columns.")
    return len(shape), 1 if len(shape) == 1 else int(shape[1])


# ------------------------------------------------------------- featurizers
def _check_fixed_featurizer(featurizer, name):
    """Accept only featurizers that need not see all rows to be fitted."""
    if isinstance(featurizer, (FunctionTransformer, FrozenEstimator)):
        return
    if isinstance(featurizer, Pipeline):
        for _, step in featurizer.steps:
            if step is not None and step != "passthrough":
                _check_fixed_featurizer(step, name)
        return
    raise TypeError(
        f"`{name}` ({type(featurizer).__name__}) must see all rows to be "
        "fitted, which the Dask path does not do. Fit it beforehand (e.g. on "
        "a sample that fits in memory) and pass it wrapped in "
        "sklearn.frozen.FrozenEstimator; stateless transformers "
        "(FunctionTransformer, 'passthrough') are accepted as they are. See "
        "the user guide's page 'Larger than memory'."
    )


def _features(featurizer, Xb, name, width=0, check_finite=True):
    """Features of a block (an empty block gives ``width`` empty columns)."""
    if _num_rows(Xb) == 0:
        return np.zeros((0, width))
    return np.asarray(
        _check_features(
            featurizer.transform(Xb), _num_rows(Xb), name, check_finite=check_finite
        ),
        dtype=np.float64,
    )


def _n_outputs(head: Any, ndim: int) -> int:
    """Outputs of a fitted head (a linear head's coefficients, else its tags)."""
    if ndim == 1:
        return 1
    if hasattr(head, "coef_"):
        return int(np.atleast_2d(head.coef_).shape[0])
    return int(getattr(head, "n_outputs_", 1))


def _predict(head, Z, n_out):
    """``head.predict(Z)`` as a 2-D array (an empty ``Z`` gives no rows)."""
    if Z.shape[0] == 0:
        return np.zeros((0, n_out))
    return _as_2d(head.predict(Z))


def _as_2d(y):
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _select(Xb, rows):
    return Xb.iloc[rows] if hasattr(Xb, "iloc") else Xb[rows]


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
    if spec.weak_model is not None:
        _check_features(spec.weak_model.predict(Zw).reshape(n, -1), n, "weak_head")
    rows = order[: n - (counts[SECOND] if spec.narrow else 0)]
    Zs = _features(spec.strong_featurizer, _select(Xb, rows), "strong_featurizer")
    if spec.strong_model is not None:
        _check_features(
            spec.strong_model.predict(Zs).reshape(len(rows), -1), len(rows), "head"
        )
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


def _tree(parts, combine):
    """Reduce Delayed parts pairwise (a balanced tree of Dask tasks)."""
    import dask

    combine = dask.delayed(combine, pure=True)
    parts = list(parts)
    while len(parts) > 1:
        merged = [combine(a, b) for a, b in zip(parts[::2], parts[1::2])]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]


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


# --------------------------------------------------------------- predict
def _predict_block(Xb, featurizer, head, name, ndim):
    n_out = _n_outputs(head, ndim)
    Z = _features(featurizer, Xb, name, head.n_features_in_)
    return _as_output(_predict(head, Z, n_out), ndim)


def _check_columns(n_columns, columns, n_features_in, names, estimator):
    if n_columns != n_features_in:
        raise ValueError(
            f"X has {n_columns} features, but {estimator} is expecting "
            f"{n_features_in} features as input."
        )
    if names is not None and columns is not None and list(columns) != list(names):
        raise ValueError(
            "The feature names should match those that were passed during fit."
        )


def predict(X, feat, head, *, name, ndim, n_features_in, feature_names_in, estimator):
    """Lazy predictions of a fitted featurizer and head on Dask rows."""
    import dask
    import dask.array as da

    columns = (n_features_in, feature_names_in, estimator)
    n_out = _n_outputs(head, ndim)
    model = dask.delayed((feat, head), pure=True)

    def block(Xb, model):
        return _predict_block(Xb, model[0], model[1], name, ndim)

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array, got {X.ndim} dimension(s).")
        _check_columns(X.shape[1], None, *columns)
        X = X.rechunk({1: -1})
        if ndim == 1:
            return X.map_blocks(
                block, model, dtype=np.float64, drop_axis=1, chunks=(X.chunks[0],)
            )
        return X.map_blocks(
            block, model, dtype=np.float64, chunks=(X.chunks[0], (n_out,))
        )
    if hasattr(X, "map_partitions") and hasattr(X, "columns"):
        _check_columns(len(X.columns), list(X.columns), *columns)
        parts = X.to_delayed(optimize_graph=False)
        shape = (np.nan,) if ndim == 1 else (np.nan, n_out)
        return da.concatenate(
            [
                da.from_delayed(dask.delayed(block)(p, model), shape, dtype=np.float64)
                for p in parts
            ]
        )
    raise TypeError(f"X must be a Dask array or DataFrame, got {type(X).__name__}.")


def _score_block(part, yb, wb, where, shift):
    pb, yb, wb = _unpack(part, yb, wb, where)
    n_rows = _num_rows(pb)
    y, labeled = check_partially_labeled_y(yb, n_samples=n_rows)
    Y, P = _as_2d(y)[labeled], _as_2d(pb)[labeled]
    w = check_weights(wb, n_rows, block=True)
    w = None if w is None else w[labeled]
    stats = block_statistics(np.empty((len(Y), 0)), Y, w, np.empty(0), shift, True)
    ww = np.ones(len(Y)) if w is None else w
    return stats, ww @ (Y - P) ** 2


def _merge_score(a, b):
    return merge_statistics(a[0], b[0]), a[1] + b[1]


def r2_score(y_pred, y, sample_weight):
    """R² of lazy predictions on the labeled rows, as Dask reductions."""
    import dask

    rows = _rows(
        y_pred if y_pred.ndim == 2 else y_pred[:, None],
        y=y,
        sample_weight=sample_weight,
    )
    shift = np.zeros(1 if y_pred.ndim == 1 else y_pred.shape[1])
    parts = [
        dask.delayed(_score_block)(part, yb, wb, rows.where, shift)
        for part, yb, wb in zip(rows.parts, rows.y, rows.w)
    ]
    stats, sse = dask.compute(_tree(parts, _merge_score))[0]
    if stats.weight_sum <= 0:
        raise ValueError("score needs labeled rows, but every row of y is NaN.")
    sst = np.einsum("ij,ij->j", stats.R, stats.R)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    r2 = np.where((sst == 0) & (sse == 0), 1.0, r2)
    return float(np.mean(r2))


# -------------------------------------------------------------- intervals
#: Number of hashed groups of rows resampled by the Dask path's bootstrap.
N_GROUPS = 4096


def _interval_block(part, yb, wb, where, start, model, seed, task_weights):
    """Per group: weight sums ``(G,)`` and weighted loss sums ``(G, k)``."""
    from .._roles import _row_uniforms
    from ..metrics._intervals import _row_losses

    Xb, yb, wb = _unpack(part, yb, wb, where)
    weak_feat, weak_head, strong_feat, head, ndim = model
    n_rows = _num_rows(Xb)
    n_out = _n_outputs(head, ndim)
    y_weak = _as_2d(_predict_block(Xb, weak_feat, weak_head, "weak_featurizer", 2))
    y_strong = _as_2d(_predict_block(Xb, strong_feat, head, "strong_featurizer", 2))
    y_weak, y_strong = y_weak.reshape(-1, n_out), y_strong.reshape(-1, n_out)
    y_true = None
    if yb is not None:
        y, labeled = check_partially_labeled_y(yb, n_samples=n_rows)
        if not labeled.all():
            raise ValueError(
                "`y` contains NaN: pass only labeled rows, or y=None for the "
                "misfit alone (it needs no label)."
            )
        y_true = _as_2d(y)
        if y_true.shape[1] != n_out:
            raise ValueError(
                f"y has {y_true.shape[1]} target(s) but the model predicts {n_out}."
            )
    w = check_weights(wb, n_rows, block=True)
    w = np.ones(n_rows) if w is None else w
    losses = _row_losses(y_true, y_weak, y_strong)
    if task_weights is not None:
        losses = {k: (v @ task_weights)[:, None] for k, v in losses.items()}
    L = np.concatenate([v for _, v in sorted(losses.items(), key=_order)], axis=1)
    u = _row_uniforms(np.arange(start, start + n_rows), seed)
    groups = np.minimum((u * N_GROUPS).astype(np.intp), N_GROUPS - 1)
    W = np.bincount(groups, weights=w, minlength=N_GROUPS)
    S = np.stack(
        [np.bincount(groups, weights=w * col, minlength=N_GROUPS) for col in L.T],
        axis=1,
    )
    return W, S


def _order(item):
    from ..metrics._intervals import INTERVAL_DIAGNOSTICS

    return INTERVAL_DIAGNOSTICS.index(item[0])


def _add_pairs(a, b):
    return a[0] + b[0], a[1] + b[1]


def diagnostic_intervals(
    X,
    y,
    *,
    model,
    ndim,
    expected,
    sample_weight,
    multioutput,
    confidence_level,
    n_resamples,
    method,
    random_state,
):
    """:func:`skwtsg.inspection.diagnostic_intervals` on Dask inputs.

    ``model`` is ``(weak featurizer, weak head, strong featurizer, strong
    head)``, fitted; ``expected`` is ``(n_features_in, feature_names_in,
    estimator name)`` to check ``X`` against.

    An exact bootstrap of the rows needs every row's losses in one place, so
    the rows are divided into :data:`N_GROUPS` groups by a hash of their
    global index and the seed (a different hash from the roles'), each block
    adds its weights and weighted losses per group, and the groups are
    resampled: a bootstrap of clusters of independent rows, with the same
    interval rules (BCa, percentile, basic). The point values are the rows'
    weighted means exactly; nothing depends on the partitioning.
    """
    import dask

    from ..metrics._intervals import (
        INTERVAL_DIAGNOSTICS,
        _check_interval_params,
        _generator,
        _loss_intervals,
        _multioutput_weights,
    )

    confidence_level, n_resamples, method = _check_interval_params(
        confidence_level, n_resamples, method
    )
    rng = _generator(random_state)
    seed = int(rng.integers(np.iinfo(np.int32).max)) + 1_000_003
    rows = _rows(X, y=y, sample_weight=sample_weight)
    _check_columns(rows.n_columns, rows.columns, *expected)
    n_tasks = _n_outputs(model[3], ndim)
    if multioutput is None:
        multioutput = "uniform_average" if ndim == 1 else "raw_values"
    task_weights = _multioutput_weights(multioutput, n_tasks)
    model = dask.delayed((*model, ndim), pure=True)
    parts = [
        dask.delayed(_interval_block)(
            part, yb, wb, rows.where, s, model, seed, task_weights
        )
        for part, yb, wb, s in zip(rows.parts, rows.y, rows.w, rows.starts)
    ]
    W, S = dask.compute(_tree(parts, _add_pairs))[0]
    keep = W > 0
    if keep.sum() < 2:
        raise ValueError(
            "Bootstrap intervals need at least 2 rows with positive weight, got "
            f"{int(keep.sum())} group(s) of rows with positive weight."
        )
    names = [n for n in INTERVAL_DIAGNOSTICS if y is not None or n == "misfit"]
    theta = S.sum(axis=0) / W.sum()
    out = _loss_intervals(
        S[keep] / W[keep, None],
        W[keep],
        theta,
        names,
        averaged=task_weights is not None,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        method=method,
        random_state=rng,
    )
    width = len(theta) // len(names)
    report = {}
    for i, name in enumerate(names):
        value = theta[i * width : (i + 1) * width]
        report[name] = float(value[0]) if task_weights is not None else value
        report[name + "_ci"] = out[name + "_ci"]
    return report
