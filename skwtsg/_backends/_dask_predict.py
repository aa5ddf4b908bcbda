"""The Dask backend after the fit: lazy predictions, R², the interval pass."""

from __future__ import annotations

import numpy as np

from .._utils._validation import check_partially_labeled_y
from ..heads import (
    block_statistics,
    merge_statistics,
)
from ._common import (
    _as_output,
    _check_finite_output,
    _num_rows,
    check_weights,
)
from ._dask_blocks import (
    _as_2d,
    _features,
    _n_outputs,
    _predict,
    _rows,
    _tree,
    _unpack,
)

__all__ = ["diagnostic_intervals", "predict", "r2_score"]


# --------------------------------------------------------------- predict
def _predict_block(Xb, featurizer, head, name, ndim):
    n_out = _n_outputs(head, ndim)
    Z = _features(featurizer, Xb, name, head.n_features_in_)
    pred = _as_output(_predict(head, Z, n_out), ndim)
    head_name = "head" if name == "strong_featurizer" else "weak_head"
    _check_finite_output(pred, head, head_name, "predicted")  # as in memory
    return pred


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
        check_positive_rows,
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
    check_positive_rows(keep, " group(s) of rows with positive weight")
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
