"""The Dask backend's rows: blocks of X, y and weights read together.

And the fixed featurizers applied to them, block by block.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from numbers import Integral, Number
from typing import Any

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from .._utils._reduce import pairwise_reduce
from .._utils._validation import check_n_outputs
from . import is_dask_collection
from ._common import (
    _check_features,
    _num_rows,
    check_weights,
)


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
    if name == "sample_weight":  # scikit-learn's own message, as in memory
        try:
            check_weights(np.zeros(int(m)), int(n))
        except ValueError as exc:
            return exc
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
        check_n_outputs(len(y.columns) if y.ndim == 2 else 1)
        return (2, len(y.columns)) if y.ndim == 2 else (1, 1)
    shape = y.shape if is_dask_collection(y) else np.shape(y)
    if len(shape) not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got a {len(shape)}-D array.")
    if len(shape) == 2 and np.isnan(shape[1]):
        raise ValueError("y must have a known number of columns.")
    check_n_outputs(1 if len(shape) == 1 else int(shape[1]))
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


def _tree(parts, combine):
    """Reduce Delayed parts pairwise (a balanced tree of Dask tasks)."""
    import dask

    return pairwise_reduce(parts, dask.delayed(combine, pure=True))
