"""The Dask backend of :class:`~skwtsg.WeakToStrongRegressor` (``skwtsg[dask]``).

When ``X`` is a Dask array or DataFrame, ``fit`` never gathers the rows: the
(fixed) featurizers run block by block on the workers, each block yields the
heads' sufficient statistics (:class:`~skwtsg.heads.LeastSquaresStatistics`),
which Dask merges in a tree, and the heads are solved from the merged
statistics on the client (``fit_from_statistics``). The diagnostics are
sums per block, added in a tree. Nothing larger than ``O(d² + one block)``
is held by one process.

Rows get their roles from a hash of their global index and ``random_state``
(:func:`skwtsg._roles.hash_role_codes`), so the roles, and hence the fit, do
not depend on how the rows are partitioned.

Dask is imported only here, and only when a Dask collection is passed.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import check_random_state

from .._diagnostics import Diagnostics
from .._roles import (
    BOTH,
    EVAL,
    ROLES,
    STRONG,
    WEAK,
    check_hash_sizes,
    hash_role_codes,
)
from .._utils._validation import check_partially_labeled_y
from ..heads import (
    LeastSquaresStatistics,
    block_statistics,
    check_head_convexity,
    get_head_tags,
    merge_statistics,
)
from ..metrics._losses import squared_losses
from . import is_dask_collection
from ._common import (
    FitResult,
    _as_output,
    _check_features,
    _make_featurizer,
    _num_rows,
    _warn_if_underdetermined,
)

__all__ = ["diagnostic_intervals", "fit", "predict", "r2_score"]


# ----------------------------------------------------------------- blocks
def _row_blocks(X):
    """``(blocks, lengths, n_columns, columns)`` of a Dask array or DataFrame.

    ``blocks`` are Delayed row blocks (NumPy arrays or pandas DataFrames).
    """
    import dask.array as da

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array, got {X.ndim} dimension(s).")
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        X = X.rechunk({1: -1})
        return (
            list(X.to_delayed(optimize_graph=False).ravel()),
            list(X.chunks[0]),
            X.shape[1],
            None,
        )
    if hasattr(X, "map_partitions") and hasattr(X, "columns"):
        lengths = [int(n) for n in X.map_partitions(len).compute()]
        return (
            list(X.to_delayed(optimize_graph=False)),
            lengths,
            len(X.columns),
            list(X.columns),
        )
    raise TypeError(
        "X must be a Dask array or a Dask DataFrame on the Dask path, got "
        f"{type(X).__name__}."
    )


def _aligned_blocks(v, lengths, name):
    """Blocks of ``y`` or ``sample_weight`` aligned with the rows of ``X``."""
    import dask
    import dask.array as da

    n = int(sum(lengths))
    if v is None:
        return [None] * len(lengths)
    if is_dask_collection(v) and not isinstance(v, da.Array):
        v = v.to_dask_array(lengths=True)  # a Dask Series or DataFrame
    if not isinstance(v, da.Array):
        v = np.asarray(v)
        if v.shape[0] != n:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: X "
                f"has {n} rows and {name} has {v.shape[0]}."
            )
        bounds = np.cumsum([0] + list(lengths))
        return [dask.delayed(v[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    if any(np.isnan(c) for c in v.chunks[0]):
        v = v.compute_chunk_sizes()
    if v.shape[0] != n:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: X has "
            f"{n} rows and {name} has {v.shape[0]}."
        )
    v = v.rechunk((tuple(lengths),) + tuple((s,) for s in v.shape[1:]))
    return list(v.to_delayed(optimize_graph=False).ravel())


# ------------------------------------------------------------- featurizers
def _check_fixed_featurizer(featurizer, name):
    """Accept only featurizers that need not see all rows to be fitted."""
    from sklearn.frozen import FrozenEstimator

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


def _features(featurizer, Xb, name, width=0):
    """Features of a block (an empty block gives ``width`` empty columns)."""
    if _num_rows(Xb) == 0:
        return np.zeros((0, width))
    return np.asarray(
        _check_features(featurizer.transform(Xb), _num_rows(Xb), name),
        dtype=np.float64,
    )


def _predict(head, Z, n_out):
    """``head.predict(Z)`` as a 2-D array (an empty ``Z`` gives no rows)."""
    if Z.shape[0] == 0:
        return np.zeros((0, n_out))
    return _as_2d(head.predict(Z))


def _as_2d(y):
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(-1, 1) if y.ndim == 1 else y


# --------------------------------------------------------------- per block
def _block_labels(yb, n_rows):
    """Validated targets of a block (NaN = unlabeled) and the labeled mask."""
    return check_partially_labeled_y(yb, n_samples=n_rows)


def _block_unlabeled(yb, n_rows):
    y, labeled = _block_labels(yb, n_rows)
    return np.array([int((~labeled).sum()), y.ndim, y.shape[1] if y.ndim == 2 else 0])


def _block_codes(yb, n_rows, start, params):
    _, labeled = _block_labels(yb, n_rows)
    return hash_role_codes(np.arange(start, start + n_rows), labeled, **params)


def _block_counts(codes):
    return np.bincount(codes, minlength=len(ROLES))


def _weights(wb, n_rows):
    if wb is None:
        return None
    from sklearn.utils.validation import _check_sample_weight

    return _check_sample_weight(wb, np.empty((n_rows, 0)), dtype=np.float64)


def _select(Xb, rows):
    return Xb.iloc[rows] if hasattr(Xb, "iloc") else Xb[rows]


def _weak_stats(Xb, yb, wb, codes, feat, shift, centred, n_rows):
    rows = (codes == WEAK) | (codes == BOTH)
    Z = _features(feat, _select(Xb, rows), "weak_featurizer", len(shift[0]))
    y, _ = _block_labels(yb, n_rows)
    w = _weights(wb, n_rows)
    w = None if w is None else w[rows]
    return block_statistics(Z, _as_2d(y)[rows], w, shift[0], shift[1], centred)


def _strong_stats(Xb, wb, codes, weak, shift, centred, n_rows):
    weak_feat, weak_head, strong_feat = weak
    rows = (codes == STRONG) | (codes == BOTH)
    Xs = _select(Xb, rows)
    Zw = _features(weak_feat, Xs, "weak_featurizer", weak_head.n_features_in_)
    labels = _predict(weak_head, Zw, len(shift[1]))
    Z = _features(strong_feat, Xs, "strong_featurizer", len(shift[0]))
    w = _weights(wb, n_rows)
    w = None if w is None else w[rows]
    return block_statistics(Z, labels, w, shift[0], shift[1], centred)


def _block_diagnostics(Xb, yb, wb, codes, model, n_rows):
    """The block's :class:`Diagnostics`, and the unweighted count, sum and sum
    of squares of the weak labels per row set (an array of shape (3, 3, k))."""
    weak_feat, weak_head, strong_feat, head = model
    y, labeled = _block_labels(yb, n_rows)
    Y = _as_2d(y)
    Zw = _features(weak_feat, Xb, "weak_featurizer", weak_head.n_features_in_)
    Zs = _features(strong_feat, Xb, "strong_featurizer", head.n_features_in_)
    yw, ys = _predict(weak_head, Zw, Y.shape[1]), _predict(head, Zs, Y.shape[1])
    w = _weights(wb, n_rows)
    sets = {
        "weak": (codes == WEAK) | (codes == BOTH),
        "strong": (codes == STRONG) | (codes == BOTH),
        "eval": codes == EVAL,
    }
    record = None
    moments = np.zeros((3, 3, Y.shape[1]))
    for k, (name, rows) in enumerate(sets.items()):
        part = Diagnostics.from_rows(
            name,
            squared_losses(Y[rows], yw[rows], ys[rows]),
            labeled[rows],
            None if w is None else w[rows],
            ndim=y.ndim,
        )
        record = part if record is None else record + part
        moments[k, 0] = rows.sum()
        moments[k, 1] = yw[rows].sum(axis=0)
        moments[k, 2] = (yw[rows] ** 2).sum(axis=0)
    return record, moments


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


def _add(a, b):
    return a + b


# ------------------------------------------------------------------- fit
def _streaming_head(head, name):
    if not get_head_tags(head).fits_from_statistics:
        raise TypeError(
            f"`{name}` ({type(head).__name__}) cannot be fitted from "
            "statistics merged across blocks; on the Dask path use a head "
            "with partial_fit from skwtsg.heads (LeastSquaresHead, RidgeHead)."
        )
    return clone(head)


def _seed(random_state):
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _head(block):
    return block.iloc[:8] if hasattr(block, "iloc") else block[:8]


def _first_rows(blocks, y_blocks):
    """The first rows of ``X`` and ``y``, in memory, in one computation."""
    import dask

    return dask.compute(
        dask.delayed(_head)(blocks[0]), dask.delayed(_head)(y_blocks[0])
    )


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
) -> FitResult:
    """A weak-to-strong fit of squared-loss heads on a Dask array or DataFrame."""
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
    weak_head = _streaming_head(weak_head, "weak_head")
    head = _streaming_head(head, "head")
    blocks, lengths, n_columns, columns = _row_blocks(X)
    n = int(sum(lengths))
    starts = np.cumsum([0] + lengths[:-1]).tolist()
    y_blocks = _aligned_blocks(y, lengths, "y")
    w_blocks = _aligned_blocks(sample_weight, lengths, "sample_weight")
    names = None
    if columns is not None and all(isinstance(c, str) for c in columns):
        names = np.asarray(columns, dtype=object)

    # Stage 0 (labels only): unlabeled rows and the shape of y.
    info = dask.compute(
        [dask.delayed(_block_unlabeled)(yb, nb) for yb, nb in zip(y_blocks, lengths)]
    )[0]
    n_unlabeled = int(sum(i[0] for i in info))
    ndim = int(info[0][1])
    params = dict(
        eval_size=eval_size,
        strong_size=strong_size,
        any_unlabeled=n_unlabeled > 0,
        seed=_seed(random_state),
    )
    if n_unlabeled == n:
        raise ValueError(
            "Every row of y is NaN (unlabeled): the weak model needs rows with "
            "true labels."
        )
    codes = [
        dask.delayed(_block_codes)(yb, nb, s, params)
        for yb, nb, s in zip(y_blocks, lengths, starts)
    ]

    # Fixed featurizers, fitted on a few rows (they learn nothing from them).
    first, first_y = _first_rows(blocks, y_blocks)
    first_y = _as_2d(np.asarray(first_y, dtype=np.float64))
    weak_feat = _make_featurizer(weak_featurizer)
    strong_feat = _make_featurizer(strong_featurizer)
    for name, feat in (
        ("weak_featurizer", weak_feat),
        ("strong_featurizer", strong_feat),
    ):
        _check_fixed_featurizer(feat, name)
        feat.fit(first, first_y[:, 0] if ndim == 1 else first_y)
    centred_w = bool(weak_head.fit_intercept)
    centred_s = bool(head.fit_intercept)
    first_row = first.iloc[:1] if hasattr(first, "iloc") else first[:1]
    z0 = _features(weak_feat, first_row, "weak_featurizer")[0]
    label0 = first_y[~np.isnan(first_y).any(axis=1)]
    y0 = label0[0] if len(label0) else np.zeros(first_y.shape[1])
    shift_w = (z0, y0) if centred_w else (0.0 * z0, 0.0 * y0)

    # Stage 1: the weak head from the statistics of its rows.
    delayed_weak = dask.delayed(weak_feat, pure=True)
    parts = [
        dask.delayed(_weak_stats)(xb, yb, wb, c, delayed_weak, shift_w, centred_w, nb)
        for xb, yb, wb, c, nb in zip(blocks, y_blocks, w_blocks, codes, lengths)
    ]
    counts = _tree([dask.delayed(_block_counts)(c) for c in codes], _add)
    weak_stats, counts = dask.compute(_tree(parts, merge_statistics), counts)
    n_weak = int(counts[WEAK] + counts[BOTH])
    n_strong = int(counts[STRONG] + counts[BOTH])
    if n_weak == 0 or n_strong == 0:
        raise ValueError(
            f"Too few rows to fit both models: {n_weak} sample(s) for the weak "
            f"model and {n_strong} sample(s) for the strong model. Pass more "
            "rows or change `eval_size`/`strong_size`."
        )
    _warn_if_underdetermined(
        weak_head, _Shape(n_weak, weak_stats.n_features), "weak_head", "weak"
    )
    fitted_weak = _fit_from(weak_head, weak_stats, ndim, "weak_head")

    # Stage 2: the strong head from the weak labels of its rows.
    z0s = _features(strong_feat, first_row, "strong_featurizer")[0]
    y0s = _as_2d(fitted_weak.predict(z0[None, :]))[0]
    shift_s = (z0s, y0s) if centred_s else (0.0 * z0s, 0.0 * y0s)
    weak = dask.delayed((weak_feat, fitted_weak, strong_feat), pure=True)
    parts = [
        dask.delayed(_strong_stats)(xb, wb, c, weak, shift_s, centred_s, nb)
        for xb, wb, c, nb in zip(blocks, w_blocks, codes, lengths)
    ]
    strong_stats = dask.compute(_tree(parts, merge_statistics))[0]
    interpolates = _warn_if_underdetermined(
        head, _Shape(n_strong, strong_stats.n_features), "head", "strong"
    )
    fitted = _fit_from(head, strong_stats, ndim, "head")
    check_head_convexity(fitted)

    # Stage 3: the diagnostics, as records added over blocks.
    model = dask.delayed((weak_feat, fitted_weak, strong_feat, fitted), pure=True)
    parts = [
        dask.delayed(_block_diagnostics)(xb, yb, wb, c, model, nb)
        for xb, yb, wb, c, nb in zip(blocks, y_blocks, w_blocks, codes, lengths)
    ]
    diagnostics, moments = dask.compute(_tree(parts, _add_pairs))[0]
    # the scale of "negative beyond rounding", as in memory: the weak labels'
    # variance on the rows of misfit_ (eval rows, else the strong rows)
    labels = moments[2] if counts[EVAL] else moments[1]
    mean = labels[1] / labels[0]
    strong = diagnostics.means("strong")
    return FitResult(
        weak_featurizer=weak_feat,
        strong_featurizer=strong_feat,
        weak_head=fitted_weak,
        head=fitted,
        diagnostics=diagnostics,
        roles=_lazy_roles(codes, lengths),
        reuse=bool(counts[STRONG] == 0),
        interpolates=interpolates,
        copy_moments=(_label_variance(strong_stats), strong["misfit"]),
        label_variance=np.maximum(labels[2] / labels[0] - mean**2, 0.0),
        n_features_in=n_columns,
        feature_names_in=names,
    )


class _Shape:
    """What the in-memory warnings read of a feature matrix: its shape."""

    def __init__(self, n_rows, n_features):
        self.shape = (int(n_rows), int(n_features))


def _label_variance(stats):
    """Weighted variance of the targets, per target, from their statistics."""
    R_y = stats.R[:, stats.n_features :]
    second = np.einsum("ij,ij->j", R_y, R_y) / stats.weight_sum
    return second if stats.centred else second - stats.mean_y**2


def _fit_from(head, stats: LeastSquaresStatistics, ndim, name):
    try:
        return head.fit_from_statistics(stats, ndim)
    except ValueError as exc:
        raise ValueError(f"Fitting `{name}` failed: {exc}") from exc


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
    n_out = 1 if ndim == 1 else np.atleast_2d(head.coef_).shape[0]
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
    n_out = 1 if ndim == 1 else np.atleast_2d(head.coef_).shape[0]
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


def _score_block(yb, pb, wb, n_rows, shift):
    y, labeled = check_partially_labeled_y(yb, n_samples=n_rows)
    Y, P = _as_2d(y)[labeled], _as_2d(pb)[labeled]
    w = _weights(wb, n_rows)
    w = None if w is None else w[labeled]
    stats = block_statistics(np.empty((len(Y), 0)), Y, w, np.empty(0), shift, True)
    ww = np.ones(len(Y)) if w is None else w
    return stats, ww @ (Y - P) ** 2


def _merge_score(a, b):
    return merge_statistics(a[0], b[0]), a[1] + b[1]


def r2_score(y_pred, y, sample_weight):
    """R² of lazy predictions on the labeled rows, as Dask reductions."""
    import dask

    if any(np.isnan(c) for c in y_pred.chunks[0]):
        y_pred = y_pred.compute_chunk_sizes()
    lengths = list(y_pred.chunks[0])
    y_blocks = _aligned_blocks(y, lengths, "y")
    w_blocks = _aligned_blocks(sample_weight, lengths, "sample_weight")
    p_blocks = list(y_pred.to_delayed(optimize_graph=False).ravel())
    shift = np.zeros(1 if y_pred.ndim == 1 else y_pred.shape[1])
    parts = [
        dask.delayed(_score_block)(yb, pb, wb, nb, shift)
        for yb, pb, wb, nb in zip(y_blocks, p_blocks, w_blocks, lengths)
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


def _interval_block(Xb, yb, wb, n_rows, start, model, seed, task_weights):
    """Per group: weight sums ``(G,)`` and weighted loss sums ``(G, k)``."""
    from .._roles import _row_uniforms
    from ..metrics._intervals import _row_losses

    weak_feat, weak_head, strong_feat, head, ndim = model
    n_out = 1 if ndim == 1 else np.atleast_2d(head.coef_).shape[0]
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
    w = _weights(wb, n_rows)
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
    blocks, lengths, n_columns, columns = _row_blocks(X)
    _check_columns(n_columns, columns, *expected)
    starts = np.cumsum([0] + lengths[:-1]).tolist()
    y_blocks = _aligned_blocks(y, lengths, "y")
    w_blocks = _aligned_blocks(sample_weight, lengths, "sample_weight")
    n_tasks = 1 if ndim == 1 else np.atleast_2d(model[3].coef_).shape[0]
    if multioutput is None:
        multioutput = "uniform_average" if ndim == 1 else "raw_values"
    task_weights = _multioutput_weights(multioutput, n_tasks)
    model = dask.delayed((*model, ndim), pure=True)
    parts = [
        dask.delayed(_interval_block)(xb, yb, wb, nb, s, model, seed, task_weights)
        for xb, yb, wb, nb, s in zip(blocks, y_blocks, w_blocks, lengths, starts)
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
